"""Certificate pages: the public verify page for each status, machines (Open Badges), rate limits, bulk
verification, the PDF and its QR code, the holder's page, and that unknown or revoked codes leak nothing."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from lms import clock, jobs
from lms.accounts.models import Role
from lms.certificates import operations
from lms.certificates.codes import check_symbol, format_code
from lms.certificates.models import CertificateVersion
from lms.extensions import db
from tests import test_certificates as shared
from tests.hostile import XSS_PAYLOADS, active_content
from tests.support import recorded_statements

certified_track, issue = shared.certified_track, shared.issue
progress, track, issued = (
    shared.progress,
    shared.track,
    shared.issued,
)  # fixtures shared with test_certificates

BASE = "http://127.0.0.1:5000"  # the default LMS_BASE_URL


def unknown_code() -> str:
    data = "ZZZZYYYYXXXX"
    return format_code(data + check_symbol(data))


def text_of(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def queries(app):
    """Count the SQL statements a request runs."""
    with recorded_statements() as statements:
        yield statements


# --- the verify page for each status ---------------------------------------------------------------------------


def test_valid_certificate_page_shows_everything_a_verifier_needs(client, issued):
    response = client.get(f"/verify/{issued.display_code}")
    assert response.status_code == 200
    page = text_of(response)
    assert "VALID" in page and "genuine and valid" in page
    assert "Stella Student" in page
    assert issued.current.track_title in page
    assert "The holder completed a sample track." in page  # what it certifies
    assert "Module 1" in page and "Module 2" in page
    assert "Assessed work: <strong>Handbook</strong>" in page
    assert issued.current.issued_at.strftime("%d %B %Y") in page
    assert issued.current.expires_at.strftime("%d %B %Y") in page
    assert "Social Media Academy" in page  # the issuer
    assert 'class="certificate certificate--classic"' in page  # the certificate itself, rendered
    assert 'src="data:image/svg+xml' in page  # its QR code
    assert "stella" not in page.lower().replace("stella student", "")  # the name, and nothing of the email
    assert "student" + "1@example.org" not in page and "@example.org" not in page
    assert 'name="robots" content="noindex"' in page


def test_a_certificate_issued_by_hand_does_not_claim_completed_work(client, track, make_user, admin):
    holder = make_user(full_name="Hand Issued")
    certificate = operations.issue_certificate(holder, track, admin, "Recognised prior learning")
    page = text_of(client.get(f"/verify/{certificate.display_code}"))
    assert "VALID" in page and "Hand Issued" in page
    assert "decision, not through the track" in page
    assert "Completed modules" not in page and "Assessed work" not in page
    reissued = operations.reissue_certificate(certificate, admin, "Name fix", holder_name="Hand Issued Jr")
    assert reissued.basis == "manual"  # a reissue keeps what the certificate was based on


def test_expired_certificate_answers_200_and_says_expired(client, issued):
    clock.freeze(issued.current.expires_at + timedelta(seconds=1))
    response = client.get(f"/verify/{issued.display_code}")
    assert response.status_code == 200
    page = text_of(response)
    assert "EXPIRED" in page and "expired on" in page and "Stella Student" in page


def test_revoked_certificate_answers_410_with_date_and_reason_and_nothing_personal(client, issued, admin):
    clock.freeze(issued.current.issued_at + timedelta(days=2))
    operations.revoke_certificate(issued, admin, "Assessment misconduct")
    response = client.get(f"/verify/{issued.display_code}")
    assert response.status_code == 410
    page = text_of(response)
    assert "REVOKED" in page and "Assessment misconduct" in page
    assert (issued.current.issued_at + timedelta(days=2)).strftime("%d %B %Y") in page
    assert "Stella" not in page and "@example.org" not in page
    assert "certificate__qr" not in page and "certificate--classic" not in page


def test_unknown_code_answers_404_with_help_and_a_form(client, issued):
    response = client.get(f"/verify/{unknown_code()}")
    assert response.status_code == 404
    page = text_of(response)
    assert "NOT FOUND" in page and "character by character" in page
    assert 'name="code"' in page
    assert "Stella" not in page and "@example.org" not in page


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("7KQ2-M9XD-4TRW-5", "typing mistake"),
        ("ABC", "has 13 letters and digits"),
        ("7KQ2-M9XD-4TRW-U", "never contains U"),
    ],
)
def test_malformed_code_answers_400_with_what_is_wrong(client, code, message):
    response = client.get(f"/verify/{code}")
    assert response.status_code == 400
    page = text_of(response)
    assert "INVALID CODE" in page and message in page


def test_a_code_spelled_otherwise_redirects_to_the_one_canonical_url(client, issued):
    messy = issued.display_code.lower().replace("-", "")
    response = client.get(f"/verify/{messy}")
    assert response.status_code == 301
    assert response.location.endswith(f"/verify/{issued.display_code}")
    response = client.get(f"/verify/{messy}.json")
    assert response.status_code == 301
    assert response.location.endswith(f"/verify/{issued.display_code}.json")


def test_verify_form_sends_a_pasted_code_to_its_page_or_explains_the_typo(client, issued):
    assert client.get("/verify").status_code == 200
    pasted = " " + issued.display_code.lower().replace("-", " ") + " "
    response = client.get("/verify", query_string={"code": pasted})
    assert response.status_code == 302
    assert response.location.endswith(f"/verify/{issued.display_code}")
    typo = issued.display_code[:-1] + ("0" if issued.display_code[-1] != "0" else "1")
    response = client.get("/verify", query_string={"code": typo})
    assert response.status_code == 400
    assert "typing mistake" in text_of(response)


def test_verification_does_not_load_the_signed_in_user_or_set_a_cookie(
    client, issued, login, student, queries
):
    login(client, student)  # even a signed-in visitor gets the same page, without loading their account
    for path in (f"/verify/{issued.display_code}", f"/verify/{issued.display_code}.json", "/verify"):
        del queries[:]
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Set-Cookie" not in response.headers, path
        assert not [q for q in queries if "FROM users" in q and "certificates" not in q], path
        assert 'name="csrf-token"' not in text_of(response)
    assert "Stella Student" in text_of(client.get("/dashboard"))  # the session itself is untouched


def test_each_verification_is_counted_and_the_holder_sees_the_count(client, login, issued, student):
    for _ in range(3):
        client.get(f"/verify/{issued.display_code}")
    client.get(f"/verify/{issued.display_code}.json")
    client.get(f"/verify/{unknown_code()}")
    db.session.expire_all()
    assert operations.find_certificate(issued.code).verification_count == 4
    login(client, student)
    page = text_of(client.get(f"/certificates/{issued.display_code}"))
    assert re.search(r"Verified <strong>4</strong> times", page)


def test_verify_page_runs_few_queries(client, issued, queries):
    client.get(f"/verify/{issued.display_code}")
    assert len(queries) <= 3, queries  # count, read (with version and track)
    del queries[:]
    client.get(f"/verify/{unknown_code()}")
    assert len(queries) == 1, queries  # the counting UPDATE finds nothing; no further query


# --- machines: Open Badges --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "accept", ["application/ld+json", "application/json", "application/json, text/html;q=0.5"]
)
def test_same_url_serves_an_open_badges_assertion_to_machines(client, issued, accept, student):
    response = client.get(f"/verify/{issued.display_code}", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    assert "Accept" in response.headers["Vary"]
    body = response.get_json(force=True)
    assert body["@context"] == "https://w3id.org/openbadges/v2"
    assert body["type"] == "Assertion"
    assert body["id"] == f"{BASE}/verify/{issued.display_code}"
    assert body["verification"] == {"type": "hosted"}
    recipient = body["recipient"]
    assert recipient["type"] == "email" and recipient["hashed"] is True
    expected = "sha256$" + hashlib.sha256((student.email + recipient["salt"]).encode()).hexdigest()
    assert recipient["identity"] == expected
    assert body["badge"] == f"{BASE}/openbadges/badges/sample-track"
    assert body["issuedOn"].startswith(issued.current.issued_at.date().isoformat())
    assert body["expires"].startswith(issued.current.expires_at.date().isoformat())
    assert student.email not in response.get_data(as_text=True)


def test_json_suffix_and_html_preference(client, issued):
    assert client.get(f"/verify/{issued.display_code}.json").get_json(force=True)["type"] == "Assertion"
    html = client.get(
        f"/verify/{issued.display_code}", headers={"Accept": "text/html,application/json;q=0.9"}
    )
    assert html.mimetype == "text/html"
    browser = client.get(f"/verify/{issued.display_code}", headers={"Accept": "*/*"})
    assert browser.mimetype == "text/html"


def test_badge_class_issuer_and_image_are_served_by_the_app(client, issued):
    assertion = client.get(f"/verify/{issued.display_code}.json").get_json(force=True)
    badge = client.get(urlsplit(assertion["badge"]).path).get_json(force=True)
    assert badge["type"] == "BadgeClass" and badge["id"] == assertion["badge"]
    assert badge["criteria"]["narrative"].startswith("To earn this certificate")
    issuer = client.get(urlsplit(badge["issuer"]).path).get_json(force=True)
    assert issuer["type"] == "Profile" and issuer["id"] == badge["issuer"]
    assert issuer["name"] == "Social Media Academy"
    with client.get(urlsplit(badge["image"]).path) as image:
        assert image.status_code == 200 and image.mimetype == "image/svg+xml"
        assert b"<svg" in image.data
    assert client.get("/openbadges/badges/no-such-track").status_code == 404


def test_recipient_email_is_trimmed_and_lower_cased_before_hashing(app):
    from lms.certificates.openbadges import hash_identity

    salt = "s4lt"
    expected = "sha256$" + hashlib.sha256(b"sam@example.orgs4lt").hexdigest()
    assert hash_identity("  Sam@Example.ORG ", salt) == expected


def test_revoked_assertion_answers_410_with_the_reason_and_no_recipient(client, issued, admin, student):
    operations.revoke_certificate(issued, admin, "Issued to the wrong person")
    for response in (
        client.get(f"/verify/{issued.display_code}.json"),
        client.get(f"/verify/{issued.display_code}", headers={"Accept": "application/ld+json"}),
    ):
        assert response.status_code == 410
        body = response.get_json(force=True)
        assert body["revoked"] is True
        assert body["revocationReason"] == "Issued to the wrong person"
        assert body["id"] == f"{BASE}/verify/{issued.display_code}"
        text = response.get_data(as_text=True)
        assert "recipient" not in body and issued.recipient_salt not in text
        assert "Stella" not in text and student.email not in text


def test_unknown_and_malformed_codes_answer_json_errors(client, issued):
    response = client.get(f"/verify/{unknown_code()}.json")
    assert response.status_code == 404
    assert response.get_json(force=True)["error"] == "Not found"
    response = client.get("/verify/NOT-A-CODE", headers={"Accept": "application/json"})
    assert response.status_code == 400
    body = response.get_json(force=True)
    assert body["error"] == "Invalid code" and "letters and digits" in body["message"]


# --- rate limiting ---------------------------------------------------------------------------------------------


@pytest.mark.app_config(RATELIMIT_ENABLED=True, CERTIFICATE_VERIFY_LIMIT="3 per minute")
def test_verification_lookups_are_rate_limited_per_address(client, issued):
    first = client.get(f"/verify/{issued.display_code}")
    assert first.status_code == 200
    assert client.get(f"/verify/{issued.display_code}.json").status_code == 200
    assert client.get(f"/verify/{unknown_code()}").status_code == 404
    blocked = client.get(f"/verify/{issued.display_code}")
    assert blocked.status_code == 429
    assert "Too many" in text_of(blocked)
    assert client.get(f"/verify/{issued.display_code}.json").status_code == 429  # one allowance for both
    other = client.get(f"/verify/{issued.display_code}", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200  # another address has its own allowance
    db.session.expire_all()
    assert operations.find_certificate(issued.code).verification_count == 3  # refused lookups are not counted


@pytest.mark.app_config(RATELIMIT_ENABLED=True, CERTIFICATE_BULK_VERIFY_LIMIT="5 per minute")
def test_bulk_lookups_count_each_code_against_the_allowance(client, issued):
    codes = "\n".join([issued.display_code] * 3)
    assert client.post("/verify/bulk", data={"codes": codes}).status_code == 200
    assert client.post("/verify/bulk", data={"codes": codes}).status_code == 429  # 6 codes > 5, in 2 requests
    other = client.post("/verify/bulk", data={"codes": codes}, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 200


# --- bulk verification -----------------------------------------------------------------------------------------


@pytest.fixture
def mixed_codes(track, progress, make_user, admin):
    valid = issue(make_user(Role.STUDENT, full_name="Vera Valid"), track, progress)
    expired_track = certified_track(slug="short-track", validity_months=1)
    clock.freeze(valid.current.issued_at - timedelta(days=90))
    expired = issue(make_user(Role.STUDENT, full_name="Ezra Expired"), expired_track, progress)
    clock.freeze(None)
    revoked = issue(make_user(Role.STUDENT, full_name="Rhea Revoked"), track, progress)
    operations.revoke_certificate(revoked, admin, "Duplicate account")
    return {"valid": valid, "expired": expired, "revoked": revoked}


def test_bulk_verification_table_shows_each_status(client, mixed_codes):
    pasted = "\n".join(
        [
            mixed_codes["valid"].display_code.lower(),
            mixed_codes["expired"].display_code.replace("-", " "),
            mixed_codes["revoked"].display_code,
            unknown_code(),
            "7KQ2-M9XD-4TRW-5",
        ]
    )
    response = client.post("/verify/bulk", data={"codes": pasted})
    assert response.status_code == 200
    page = text_of(response)
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)[1:]
    assert len(rows) == 5
    assert "VALID" in rows[0] and "Vera Valid" in rows[0]
    assert "EXPIRED" in rows[1] and "Ezra Expired" in rows[1]
    assert "REVOKED" in rows[2] and "Duplicate account" in rows[2] and "Rhea" not in page
    assert "NOT FOUND" in rows[3]
    assert "INVALID CODE" in rows[4] and "typing mistake" in rows[4]
    assert "@example.org" not in page


def test_bulk_verification_from_an_uploaded_csv_downloads_a_csv(client, mixed_codes):
    upload = "code\n" + "\n".join(c.display_code for c in mixed_codes.values()) + "\n"
    response = client.post(
        "/verify/bulk",
        data={
            "file": (io.BytesIO(upload.encode()), "codes.csv"),
            "format": "csv",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(text_of(response))))
    assert [(r["code"], r["status"]) for r in rows] == [
        (mixed_codes["valid"].display_code, "VALID"),
        (mixed_codes["expired"].display_code, "EXPIRED"),
        (mixed_codes["revoked"].display_code, "REVOKED"),
    ]
    assert rows[0]["holder"] == "Vera Valid" and rows[0]["url"].endswith(mixed_codes["valid"].display_code)
    assert rows[2]["holder"] == "" and rows[2]["reason"] == "Duplicate account"


def test_bulk_csv_cells_never_start_a_spreadsheet_formula(client):
    response = client.post("/verify/bulk", data={"codes": "=HYPERLINK(1)", "format": "csv"})
    row = next(csv.DictReader(io.StringIO(text_of(response))))
    assert row["entered"] == "'=HYPERLINK(1)"


def test_bulk_verification_runs_a_constant_number_of_queries(client, track, progress, make_user, queries):
    codes = [issue(make_user(Role.STUDENT), track, progress).display_code for _ in range(12)]
    client.post("/verify/bulk", data={"codes": codes[0]})
    del queries[:]
    client.post("/verify/bulk", data={"codes": "\n".join(codes[:2])})
    few = len(queries)
    del queries[:]
    response = client.post("/verify/bulk", data={"codes": "\n".join(codes)})
    assert text_of(response).count("VALID") >= 12
    assert len(queries) == few, "\n".join(queries)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"codes": ""}, "Paste at least one code"),
        ({"codes": "\n".join(["ABCD"] * 501)}, "at most 500 codes"),
    ],
)
def test_bulk_verification_explains_empty_or_oversized_lists(client, data, message):
    response = client.post("/verify/bulk", data=data)
    assert response.status_code == 422
    assert message in text_of(response)


def test_bulk_form_needs_its_csrf_token(client):
    assert client.post("/verify/bulk", data={"codes": "x"}, csrf=False).status_code == 400


# --- the PDF -----------------------------------------------------------------------------------------------------


def _decode_qr(pdf: bytes) -> list[str]:
    import pypdfium2
    import zxingcpp

    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=3).to_pil()
        return [barcode.text for barcode in zxingcpp.read_barcodes(image)]
    finally:
        document.close()


def _pdf_text(pdf: bytes) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        text = page.get_textpage().get_text_range()
        return " ".join(text.split())
    finally:
        document.close()


def test_pdf_has_the_certificate_and_a_qr_code_that_decodes_to_its_url(client, login, student, issued):
    login(client, student)
    jobs.run_pending()  # the PDF is rendered by the job enqueued at issue
    response = client.get(f"/certificates/{issued.display_code}/certificate.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f"certificate-{issued.display_code}.pdf" in response.headers["Content-Disposition"]
    pdf = response.data
    assert pdf.startswith(b"%PDF")
    url = f"{BASE}/verify/{issued.display_code}"
    assert _decode_qr(pdf) == [url]
    text = _pdf_text(pdf)
    for expected in (
        "Stella Student",
        issued.current.track_title,
        issued.display_code,
        issued.current.issued_at.strftime("%d %B %Y"),
        issued.current.expires_at.strftime("%d %B %Y"),
    ):
        assert expected in text, expected
    assert url in "".join(ch for ch in text if ch.isprintable() and not ch.isspace())


def test_pdf_is_generated_once_per_version_by_a_job_and_kept(
    client, login, student, issued, admin, monkeypatch
):
    from lms.certificates import pdf as pdf_module

    renders = []
    real_render = pdf_module.render_pdf
    monkeypatch.setattr(pdf_module, "render_pdf", lambda *a: renders.append(a) or real_render(*a))
    login(client, student)
    pending = client.get(f"/certificates/{issued.display_code}/certificate.pdf")
    assert pending.status_code == 202 and "being prepared" in pending.get_data(as_text=True)
    assert renders == [], "a download never renders: the job does"
    jobs.run_pending()
    first = client.get(f"/certificates/{issued.display_code}/certificate.pdf").data
    second = client.get(f"/certificates/{issued.display_code}/certificate.pdf").data
    assert first == second and len(renders) == 1
    operations.reissue_certificate(issued, admin, "Name corrected", holder_name="Stella Maria Student")
    jobs.run_pending()
    third = client.get(f"/certificates/{issued.display_code}/certificate.pdf").data
    assert len(renders) == 2 and third != first
    assert "Stella Maria Student" in _pdf_text(third)
    stored = db.session.execute(
        sa.select(CertificateVersion.number, CertificateVersion.pdf).order_by(CertificateVersion.number)
    ).all()
    assert [(n, p is not None) for n, p in stored] == [(1, True), (2, True)]
    assert stored[0][1] == first  # the first version's PDF is kept as handed out


# --- the holder --------------------------------------------------------------------------------------------------


def test_holder_page_offers_copy_pdf_and_a_prefilled_linkedin_link(client, login, student, issued):
    login(client, student)
    response = client.get(f"/certificates/{issued.display_code}")
    assert response.status_code == 200
    page = text_of(response)
    url = f"{BASE}/verify/{issued.display_code}"
    assert f'value="{url}"' in page and 'data-copy-target="verification-link"' in page
    assert f"/certificates/{issued.display_code}/certificate.pdf" in page
    assert "/static/js/certificates.js" in page
    link = re.search(r'href="(https://www\.linkedin\.com/profile/add\?[^"]+)"', page).group(1)
    params = {k: v[0] for k, v in parse_qs(urlsplit(link.replace("&amp;", "&")).query).items()}
    version = issued.current
    assert params == {
        "startTask": "CERTIFICATION_NAME",
        "name": version.track_title,
        "organizationName": "Social Media Academy",
        "issueYear": str(version.issued_at.year),
        "issueMonth": str(version.issued_at.month),
        "expirationYear": str(version.expires_at.year),
        "expirationMonth": str(version.expires_at.month),
        "certUrl": url,
        "certId": issued.display_code,
    }
    assert "Renewal opens on" in page


def test_another_student_cannot_see_a_holders_page_or_pdf(client, login, make_user, issued):
    login(client, make_user(Role.STUDENT))
    assert client.get(f"/certificates/{issued.display_code}").status_code == 404
    assert client.get(f"/certificates/{issued.display_code}/certificate.pdf").status_code == 404
    assert client.post(f"/certificates/{issued.display_code}/renew").status_code == 404


def test_dashboard_and_my_certificates_list_the_students_certificates(client, login, student, issued):
    login(client, student)
    dashboard = text_of(client.get("/dashboard"))
    assert "Your certificates" in dashboard and issued.display_code in dashboard
    mine = text_of(client.get("/certificates"))
    assert issued.display_code in mine and "VALID" in mine


def test_dashboard_invites_a_student_without_certificates(client, login, make_user):
    login(client, make_user(Role.STUDENT))
    assert "When you complete a track, your certificate appears here" in text_of(client.get("/dashboard"))


def test_revoked_certificate_on_the_holders_page_says_so_and_offers_no_pdf(
    client, login, student, issued, admin
):
    operations.revoke_certificate(issued, admin, "Exam taken by someone else")
    login(client, student)
    page = text_of(client.get(f"/certificates/{issued.display_code}"))
    assert "REVOKED" in page and "Exam taken by someone else" in page
    assert "certificate.pdf" not in page and "linkedin" not in page
    response = client.get(f"/certificates/{issued.display_code}/certificate.pdf")
    assert response.status_code == 302


@pytest.mark.parametrize("payload", XSS_PAYLOADS[:6])
def test_hostile_names_and_reasons_render_inert_on_every_certificate_page(
    client, login, make_user, admin, track, progress, payload
):
    holder = make_user(Role.STUDENT, full_name=f"Mallory {payload}")
    certificate = issue(holder, track, progress)
    operations.reissue_certificate(certificate, admin, payload, holder_name=f"Mal {payload}")
    pages = [client.get(f"/verify/{certificate.display_code}")]
    login(client, holder)
    pages.append(client.get(f"/certificates/{certificate.display_code}"))
    pages.append(client.get("/dashboard"))
    login(client, admin)
    pages.append(client.get(f"/staff/certificates/{certificate.display_code}"))
    pages.append(client.get("/staff/certificates"))
    operations.revoke_certificate(certificate, admin, f"Because {payload}")
    pages.append(client.get(f"/verify/{certificate.display_code}"))
    pages.append(client.post("/verify/bulk", data={"codes": f"{certificate.display_code}\n{payload}"}))
    for response in pages:
        assert response.status_code in (200, 410), response.request.path
        assert active_content(text_of(response)) == [], response.request.path
