"""Access rules for single sign-on: visitors only (a signed-in person is sent to the dashboard). The walk's app
has no provider configured, so visitors get the "not set up" page; tests/test_sso_*.py cover a configured one."""

from tests.access_rules import Rule, visitors_only

RULES = [
    Rule("sso.login", "GET", lambda s: "/sso/login", visitors_only(404)),
    Rule("sso.callback", "GET", lambda s: "/sso/callback?code=c&state=s", visitors_only(404)),
    Rule("sso.finish", "POST", lambda s: "/sso/callback", visitors_only(404), data=lambda s: {"code": "c"}),
]
