"""Who may use each route: one module per feature, each with RULES (and optionally prepare(samples)).

`test_access.py` walks every rule as every role and fails when an app route has no rule here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

ROLES = ("anonymous", "student", "instructor", "admin")
LOGIN = "login"  # sent to the sign-in page, to come back after (login?next=...)
REDIRECT = "redirect"  # any other redirect (the action happened, or the page sent the user elsewhere)


@dataclass(frozen=True)
class Rule:
    endpoint: str
    method: str
    url: Callable[[Any], str]
    expect: dict[str, Any]  # role -> status code, LOGIN or REDIRECT (or a tuple of those)
    data: Callable[[Any], dict[str, Any]] | None = None
    json: Callable[[Any], Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    owner: str = ""  # the rules module (feature) it comes from, filled in when collected

    @property
    def id(self) -> str:
        return f"{self.endpoint}:{self.method}"


def everyone(status: Any) -> dict[str, Any]:
    return dict.fromkeys(ROLES, status)


def signed_in(status: Any) -> dict[str, Any]:
    return {"anonymous": LOGIN, "student": status, "instructor": status, "admin": status}


def staff_only(status: Any) -> dict[str, Any]:
    return {"anonymous": LOGIN, "student": 403, "instructor": status, "admin": status}


def admin_only(status: Any) -> dict[str, Any]:
    return {"anonymous": LOGIN, "student": 403, "instructor": 403, "admin": status}


def visitors_only(status: Any) -> dict[str, Any]:
    return {"anonymous": status, "student": REDIRECT, "instructor": REDIRECT, "admin": REDIRECT}


def _load_rule_modules() -> list[Any]:
    import importlib
    import pkgutil

    return [importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__)]


RULE_MODULES = {module.__name__: module for module in _load_rule_modules()}
ALL_RULES: list[Rule] = [
    replace(rule, owner=name) for name, module in RULE_MODULES.items() for rule in module.RULES
]


def prepare_samples(samples: Any, owner: str | None = None) -> Any:
    """Let a feature (or every feature, with no owner) add the rows its rules need to the samples."""
    for name, module in RULE_MODULES.items():
        prepare = getattr(module, "prepare", None)
        if prepare is not None and owner in (None, name):
            prepare(samples)
    return samples
