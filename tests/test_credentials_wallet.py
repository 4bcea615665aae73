"""The wallet path: the signed credential at the certificate's own URL for Accept: application/vc+ld+json, linked
from the verify page, downloaded by the holder; and the share card (Open Graph, Twitter) of the verify page, which
advertises only a valid certificate."""

from __future__ import annotations

import json
import re

import pytest

from lms.certificates import operations
from lms.certificates.credentials import MEDIA_TYPE, credential_json
from lms.extensions import db
from tests.fixtures.courses.samples import make_track

BASE = "http://127.0.0.1:5000"


@pytest.fixture
def issued(admin, student):
    track = make_track(slug="wallet-track")
    track.completion = {"modules": "all", "quizzes": []}
    track.validity_months = 12
    db.session.commit()
    return operations.issue_certificate(student, track, admin, "Wallet test")


def _meta(page: str) -> dict[str, str]:
    found = re.findall(r'<meta (?:property|name)="((?:og|twitter):[^"]+)" content="([^"]*)"', page)
    return dict(found)


@pytest.mark.parametrize(
    "accept", [MEDIA_TYPE, f"{MEDIA_TYPE}, application/ld+json;q=0.9", f"text/html;q=0.5, {MEDIA_TYPE}"]
)
def test_the_certificate_url_answers_the_signed_credential_to_whoever_asks_for_it(client, issued, accept):
    response = client.get(f"/verify/{issued.display_code}", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == MEDIA_TYPE
    assert "Accept" in response.headers["Vary"]
    assert json.loads(response.data) == json.loads(credential_json(issued))
    assert "Set-Cookie" not in response.headers


def test_other_accepts_keep_their_answers(client, issued):
    page = client.get(f"/verify/{issued.display_code}", headers={"Accept": "text/html"})
    assert page.mimetype == "text/html"
    assertion = client.get(f"/verify/{issued.display_code}", headers={"Accept": "application/ld+json"})
    assert assertion.mimetype == "application/ld+json"
    assert assertion.get_json(force=True)["type"] == "Assertion"


def test_an_untidy_code_is_sent_to_its_tidy_url_and_an_unknown_one_is_not_found(client, issued):
    headers = {"Accept": MEDIA_TYPE}
    response = client.get(f"/verify/{issued.display_code.lower()}", headers=headers)
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/verify/{issued.display_code}")
    assert client.get("/verify/not-a-code", headers=headers).status_code == 404


def test_the_verify_page_links_the_credential_and_the_holder_downloads_it(client, login, student, issued):
    page = client.get(f"/verify/{issued.display_code}").get_data(as_text=True)
    credential_url = f"{BASE}/verify/{issued.display_code}/credential.json"
    assert f'type="application/vc+ld+json" href="{credential_url}"' in page
    assert f'<a href="{credential_url}">Open Badges 3.0 credential</a>' in page

    login(client, student)
    holder_page = client.get(f"/certificates/{issued.display_code}").get_data(as_text=True)
    assert "Download for your wallet" in holder_page
    assert f"/verify/{issued.display_code}/badge.png" in holder_page
    download = client.get(f"/certificates/{issued.display_code}/credential.json")
    assert download.status_code == 200 and download.mimetype == MEDIA_TYPE
    assert (
        f'attachment; filename="certificate-{issued.display_code}.json"'
        == download.headers["Content-Disposition"]
    )
    assert json.loads(download.data) == json.loads(credential_json(issued))


def test_a_revoked_certificate_offers_no_wallet_download(client, login, student, issued, admin):
    operations.revoke_certificate(issued, admin, "Issued in error")
    login(client, student)
    response = client.get(f"/certificates/{issued.display_code}/credential.json")
    assert response.status_code == 302


def test_a_valid_certificate_shares_a_card_with_the_holder_the_track_and_the_badge(client, issued):
    meta = _meta(client.get(f"/verify/{issued.display_code}").get_data(as_text=True))
    version = issued.current
    assert meta["og:title"] == f"{version.holder_name} · {version.track_title} certificate"
    assert version.holder_name in meta["og:description"] and "valid until" in meta["og:description"]
    assert meta["og:image"] == f"{BASE}/verify/{issued.display_code}/badge.png"
    assert meta["og:url"] == f"{BASE}/verify/{issued.display_code}"
    assert meta["twitter:card"] == "summary" and meta["twitter:image"] == meta["og:image"]


def test_a_revoked_or_unknown_certificate_card_names_no_one_and_shows_no_badge(client, issued, admin):
    operations.revoke_certificate(issued, admin, "Issued in error")
    for code in (issued.display_code, "7KQ2-M9XD-4TRW-H"):
        meta = _meta(client.get(f"/verify/{code}").get_data(as_text=True))
        assert meta["og:title"].startswith("Certificate verification")
        assert "og:image" not in meta and "twitter:image" not in meta
        assert issued.current.holder_name not in " ".join(meta.values())
        assert meta["twitter:card"] == "summary"
