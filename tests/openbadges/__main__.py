"""`python -m tests.openbadges`: build the validator's virtual environment ahead of a test run."""

from tests.openbadges import ensure_validator

print(ensure_validator())
