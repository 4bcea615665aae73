"""Signing in sends the browser on only to a path of this site: a corpus of known open-redirect bypasses falls
back to the dashboard (and none gives a 500), while honest paths are kept with their query and fragment."""

from __future__ import annotations

import pytest

from lms.accounts.redirects import safe_next
from tests.conftest import PASSWORD

FALLBACK = "/dashboard"

# Each of these is read by some browser (or by a server that decodes before redirecting again) as another site,
# or is not a plain path at all.
BYPASSES = [
    "//evil.example",
    "//evil.example/phish",
    "///evil.example",
    "////evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\t/evil.example/phish",  # what /login?next=/%09/evil.example/phish gives the view
    "/%09/evil.example/phish",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/%0a/evil.example",
    "/%0d%0a/evil.example",
    "/x\r\nSet-Cookie: a=b",
    "/%2F%2Fevil.example",
    "/%2f%2fevil.example",
    "/%2F/evil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%5cevil.example",
    "/%252F%252Fevil.example",  # encoded twice
    "/%25252F%25252Fevil.example",  # three times
    "https://evil.example",
    "http://evil.example/",
    "https:evil.example",
    "https:/evil.example",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    " //evil.example",
    " /dashboard",
    "\t/dashboard",
    "/dashboard ",
    "/ /evil.example",
    "evil.example",
    "dashboard",
    "./dashboard",
    "../dashboard",
    "?next=/x",
    "#x",
    "//user@evil.example",
    "/@evil.example\\",
    "//evil.example@good.example",
    "/.//evil.example",
    "/./\\evil.example",
    "/x/..//evil.example",
    "/x/%2e%2e//evil.example",
    "/%2e%2e/%2e%2e//evil.example",
    "/\u3002evil.example",  # ideographic full stop
    "/\uff0f\uff0fevil.example",  # fullwidth solidus
    "/\u2215\u2215evil.example",  # division slash
    "//\u0435vil.example",  # Cyrillic e
    "/caf\u00e9",
    "/x\x00",
    "/x\x7f",
    "/%00",
    "/%ff",
    "/%E2%80%AE/evil",  # right-to-left override, encoded
    "/x" + "y" * 3000,
]

GOOD = [
    "/dashboard",
    "/account",
    "/tracks/x?y=1#z",
    "/tracks/social-media-basics/lessons/intro",
    "/quizzes/3?attempt=2&page=1",
    "/verify/ABCD-EFGH",
    "/search?q=a%20b",  # an encoded space in the query is fine
    "/tracks/x?next=//evil.example",  # a query parameter is not where the browser goes
    "/@handle",
    "/",
]


def test_the_corpus_is_big_enough():
    assert len(BYPASSES) >= 30 and len(set(BYPASSES)) == len(BYPASSES)


@pytest.mark.parametrize("target", BYPASSES, ids=repr)
def test_a_known_bypass_falls_back_to_the_default(target):
    assert safe_next(target, FALLBACK) == FALLBACK


@pytest.mark.parametrize("target", GOOD)
def test_a_path_of_this_site_is_kept_as_it_is(target):
    assert safe_next(target, FALLBACK) == target


@pytest.mark.parametrize("target", [None, ""])
def test_no_target_gives_the_default(target):
    assert safe_next(target, FALLBACK) == FALLBACK


# --- through the sign-in page -------------------------------------------------------------------------------------


def test_the_reported_bypass_no_longer_leaves_the_site(client, student):
    """GET /login?next=/%09/evil.example/phish, then sign in: the answer used to be Location: //evil.example/phish."""
    page = client.get("/login?next=/%09/evil.example/phish").get_data(as_text=True)
    assert "evil.example" in page  # carried in the form as given ...
    response = client.post(
        "/login", data={"email": student.email, "password": PASSWORD, "next": "/\t/evil.example/phish"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"  # ... but never followed


@pytest.mark.parametrize("target", ["/\n/evil.example", "/x\r\nSet-Cookie: a=b", "/%0d%0a"])
def test_a_next_with_a_newline_is_no_server_error(client, student, target):
    assert client.get("/login", query_string={"next": target}).status_code == 200
    response = client.post("/login", data={"email": student.email, "password": PASSWORD, "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"


@pytest.mark.parametrize("target", [*BYPASSES[:12], "https://evil.example", "/%5Cevil.example"], ids=repr)
def test_signing_in_with_a_bypass_lands_on_the_dashboard(app, student, target):
    client = app.test_client()
    response = client.post("/login", data={"email": student.email, "password": PASSWORD, "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"


def test_signing_in_keeps_a_good_next(client, student):
    response = client.post(
        "/login", data={"email": student.email, "password": PASSWORD, "next": "/tracks/x?y=1#z"}
    )
    assert response.headers["Location"] == "/tracks/x?y=1#z"
