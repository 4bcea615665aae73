"""The independent 1EdTech Open Badges validator checks our hosted assertions, served live on 127.0.0.1, offline."""

from __future__ import annotations

import socket

import pytest

from lms.certificates import operations
from tests import test_certificates as shared
from tests.openbadges import ensure_validator, messages, run_validator

progress, track, issued = (
    shared.progress,
    shared.track,
    shared.issued,
)  # fixtures shared with test_certificates


@pytest.fixture(scope="session")
def validator():
    return ensure_validator()


@pytest.fixture
def live_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def app_config(app_config, live_port):
    """Ids in the assertion must be URLs the validator can fetch: our live server's."""
    return {
        **app_config,
        "LIVESERVER_PORT": live_port,
        "BASE_URL": f"http://127.0.0.1:{live_port}",
    }


def test_validator_accepts_our_assertion_and_rejects_the_wrong_recipient(
    validator, live_server, issued, student
):
    url = operations.verification_url(issued)
    assert url.startswith("http://127.0.0.1:")

    good = run_validator(validator, url, recipient_email=student.email)
    assert good["report"]["valid"] is True, messages(good)
    assert good["report"]["errorCount"] == 0, messages(good)
    assert good["report"]["openBadgesVersion"] == "2.0"
    ids = {node.get("id") for node in good["graph"]}
    assert {url, f"http://127.0.0.1:{live_server.port}/openbadges/issuer"} <= ids

    wrong = run_validator(validator, url, recipient_email="someone.else@example.org")
    assert wrong["report"]["valid"] is False
    assert any("VERIFY_RECIPIENT_IDENTIFIER" in m for m in messages(wrong)), messages(wrong)


def test_validator_runs_offline_and_refuses_any_other_address(validator):
    result = run_validator(validator, "http://203.0.113.7/verify/7KQ2-M9XD-4TRW-H")
    assert result["report"]["valid"] is False
    assert any("offline validator: refused" in m for m in messages(result)), messages(result)
