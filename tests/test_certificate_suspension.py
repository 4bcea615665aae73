"""Certificates that always tell the truth: a certificate whose basis is withdrawn is suspended at once (public page,
JSON, bulk answers and the OB 3.0 status list say so), restored when it holds again or by staff, and its history
says who did each step; an expired one shows the way back; a hand-issued one never claims completed work; the
command line names its operator."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms import clock, events, jobs
from lms.certificates import operations, status_list
from lms.certificates.models import Certificate
from lms.extensions import db
from tests import test_certificates as shared
from tests.test_certificate_pages import _pdf_text

certified_track, issue = shared.certified_track, shared.issue
progress, track, issued = (
    shared.progress,
    shared.track,
    shared.issued,
)  # fixtures shared with test_certificates


def text_of(response) -> str:
    return response.get_data(as_text=True)


def words_of(response) -> str:
    """The page's text without tags: its dates are <time> elements (lms.timezones)."""
    return re.sub(r"<[^>]+>", "", text_of(response))


def withdraw_the_pass(student, track, progress) -> None:
    """A regrade accepted and released as "revise": no released passing grade any more (as assignments emit it)."""
    progress.assignments.discard((student.id, track.id))
    events.emit(
        events.GradeReleased(
            submission_id=1, user_id=student.id, track_id=track.id, actor_id=1, release_number=2, passed=False
        )
    )
    db.session.commit()


def pass_again(student, track, progress) -> None:
    progress.assignments.add((student.id, track.id))
    events.emit(events.ProgressChanged(user_id=student.id, track_id=track.id))
    db.session.commit()


def reload(certificate: Certificate) -> Certificate:
    db.session.expire_all()
    found = operations.certificate_with_history(certificate.id)
    assert found is not None
    return found


def status_bits(client, certificate: Certificate) -> dict[str, bool]:
    """What the certificate's OB 3.0 status entries say now, read from the signed status lists as served."""
    credential = json.loads(client.get(f"/verify/{certificate.display_code}/credential.json").data)
    bits = {}
    for entry in credential["credentialStatus"]:
        listed = json.loads(
            client.get(entry["statusListCredential"].removeprefix("http://127.0.0.1:5000")).data
        )
        encoded = listed["credentialSubject"]["encodedList"]
        bits[entry["statusPurpose"]] = status_list.bit_is_set(encoded, int(entry["statusListIndex"]))
    return bits


def bulk_status(client, certificate: Certificate) -> list[str]:
    response = client.post("/verify/bulk", data={"codes": certificate.display_code, "format": "csv"})
    assert response.status_code == 200
    [header, row] = list(csv.reader(io.StringIO(text_of(response))))
    return [row[header.index("status")], row[header.index("holder")], row[header.index("reason")]]


def history(certificate: Certificate) -> list[tuple[str, int | None, bool]]:
    return [(e.action, e.actor_id, bool(e.data.get("automatic"))) for e in reload(certificate).events]


# --- the whole way: issued, suspended, restored, revoked ------------------------------------------------------------


def test_a_certificate_goes_issued_suspended_restored_revoked_and_says_so_everywhere(
    client, login, student, admin, track, progress
):
    clock.freeze(shared.START)
    certificate = issue(student, track, progress)
    code = certificate.display_code

    # Issued: VALID everywhere.
    page = client.get(f"/verify/{code}")
    assert page.status_code == 200 and "genuine and valid" in text_of(page)
    assertion = client.get(f"/verify/{code}.json").get_json(force=True)
    assert assertion["type"] == "Assertion" and "revoked" not in assertion
    assert bulk_status(client, certificate)[:2] == ["VALID", "Stella Student"]
    assert status_bits(client, certificate) == {"revocation": False, "suspension": False}
    assert history(certificate) == [("issued", None, True)]

    # The pass is withdrawn: suspended at once, in the same transaction as the grade.
    clock.freeze(shared.START + timedelta(days=10))
    withdraw_the_pass(student, track, progress)
    certificate = reload(certificate)
    assert certificate.state == "suspended" and certificate.suspended_at == shared.START + timedelta(days=10)
    assert "the assignment “Handbook” no longer has a released passing grade" in certificate.suspended_reason
    page = client.get(f"/verify/{code}")
    body = text_of(page)
    assert page.status_code == 200 and "SUSPENDED (UNDER REVIEW)" in body
    assert "genuine and valid" not in body and ">VALID<" not in body
    assert "Stella" not in body and "certificate__qr" not in body  # nothing personal, no certificate to copy
    assert "no longer has a released" not in body  # the reason is for the holder and staff only
    for url in (f"/verify/{code}.json", f"/verify/{code}"):
        document = client.get(url, headers={"Accept": "application/ld+json"}).get_json(force=True)
        assert document["status"] == "SUSPENDED" and document["suspended"] is True
        assert document["revoked"] is True and "under review" in document["revocationReason"]
        assert "recipient" not in document
    status, holder, reason = bulk_status(client, certificate)
    assert (status, holder) == ("SUSPENDED", "") and "under review" in reason
    table = text_of(client.post("/verify/bulk", data={"codes": code}))
    assert "SUSPENDED" in table and "Under review by the issuer" in table and "Stella" not in table
    assert status_bits(client, certificate) == {"revocation": False, "suspension": True}
    assert history(certificate) == [("issued", None, True), ("suspended", None, True)]
    login(client, admin)
    queue = text_of(client.get("/staff/certificates?state=suspended"))
    assert code in queue and "no longer has a released passing grade" in queue
    detail = text_of(client.get(f"/staff/certificates/{code}"))
    assert "The platform (automatic)" in detail and "Restore certificate" in detail

    # Passed again: restored by the platform.
    clock.freeze(shared.START + timedelta(days=12))
    pass_again(student, track, progress)
    certificate = reload(certificate)
    assert certificate.state == "active" and certificate.suspended_at is None
    assert "genuine and valid" in text_of(client.get(f"/verify/{code}"))
    assert "revoked" not in client.get(f"/verify/{code}.json").get_json(force=True)
    assert bulk_status(client, certificate)[:2] == ["VALID", "Stella Student"]
    assert status_bits(client, certificate) == {"revocation": False, "suspension": False}
    assert history(certificate)[-1] == ("restored", None, True)
    assert code not in text_of(client.get("/staff/certificates?state=suspended"))

    # Revoked by staff, through the page.
    response = client.post(f"/staff/certificates/{code}/revoke", data={"reason": "Misconduct found"})
    assert response.status_code == 302
    page = client.get(f"/verify/{code}")
    assert page.status_code == 410 and "REVOKED" in text_of(page) and "Misconduct found" in text_of(page)
    assert client.get(f"/verify/{code}.json").status_code == 410
    assert bulk_status(client, certificate)[0] == "REVOKED"
    assert status_bits(client, certificate) == {"revocation": True, "suspension": False}
    assert history(certificate) == [
        ("issued", None, True),
        ("suspended", None, True),
        ("restored", None, True),
        ("revoked", admin.id, False),
    ]
    at = [e.at for e in reload(certificate).events]
    assert at[1:3] == [shared.START + timedelta(days=10), shared.START + timedelta(days=12)]


# --- what counts, and what does not -------------------------------------------------------------------------------


def test_a_quiz_re_scored_below_the_pass_suspends_and_the_suspension_emits_its_events(
    student, track, progress, issued
):
    heard: list[events.Event] = []
    with (
        events.subscribed(events.CertificateSuspended, heard.append),
        events.subscribed(events.CertificateRestored, heard.append),
    ):
        progress.quizzes.clear()
        events.emit(
            events.ProgressChanged(user_id=student.id, track_id=track.id)
        )  # as quiz finalization does
        db.session.commit()
        events.emit(events.ProgressChanged(user_id=student.id, track_id=track.id))  # nothing new: no event
        db.session.commit()
        progress.quizzes.add((student.id, "sample-final"))
        events.emit(events.ProgressChanged(user_id=student.id, track_id=track.id))
        db.session.commit()
    reason = "Under review: the quiz “Sample final” is no longer passed."
    assert heard == [
        events.CertificateSuspended(
            certificate_id=issued.id, user_id=student.id, actor_id=None, reason=reason
        ),
        events.CertificateRestored(
            certificate_id=issued.id,
            user_id=student.id,
            actor_id=None,
            reason="The completion rule holds again",
        ),
    ]


def test_the_suspension_belongs_to_the_withdrawing_transaction(student, track, progress, issued):
    progress.assignments.clear()
    events.emit(events.ProgressChanged(user_id=student.id, track_id=track.id))
    assert db.session.get(Certificate, issued.id).state == "suspended"
    db.session.rollback()  # the grade change did not happen: neither did the suspension
    assert reload(issued).state == "active" and len(reload(issued).events) == 1


def test_an_accepted_regrade_puts_the_certificate_under_review(student, track, progress, issued):
    progress.assignments.clear()  # the reopened grade is no longer released
    events.emit(events.RegradeAnswered(submission_id=1, user_id=student.id, actor_id=1, accepted=True))
    db.session.commit()
    assert reload(issued).state == "suspended"


def test_track_changes_never_suspend(student, track, progress, issued):
    """A lesson retired (or added: modules are not re-checked) and a quiz added to the rule since the issue."""
    progress.modules.clear()
    track.completion = {**track.completion, "quizzes": ["sample-final", "added-later"]}
    db.session.commit()
    events.emit(events.ProgressChanged(user_id=student.id, track_id=track.id))
    db.session.commit()
    assert reload(issued).state == "active"


def test_a_retired_assignment_does_not_count_against_the_certificate(student, track, progress, issued):
    from tests.fixtures.files.rows import make_assignment

    assignment = make_assignment(track)
    assignment.retired_at = clock.now_utc()
    db.session.commit()
    withdraw_the_pass(student, track, progress)
    assert reload(issued).state == "active"


def test_a_hand_issued_certificate_is_never_suspended(student, admin, track, progress):
    certificate = operations.issue_certificate(student, track, admin, "Recognised prior learning")
    events.emit(events.ProgressChanged(user_id=student.id, track_id=track.id))  # the student passed nothing
    withdraw_the_pass(student, track, progress)
    assert reload(certificate).state == "active"


# --- staff: the queue, restore by decision, revoke ------------------------------------------------------------------


def test_staff_restore_by_decision_and_the_decision_stands_until_the_basis_holds_again(
    client, login, student, instructor, track, progress, issued
):
    clock.freeze(shared.START)
    withdraw_the_pass(student, track, progress)
    code = issued.display_code
    assert "since 10 March 2025" in words_of(client.get(f"/verify/{code}"))
    login(client, student)
    assert client.post(f"/staff/certificates/{code}/restore", data={"reason": "Mine"}).status_code == 403
    login(client, instructor)
    refused = client.post(f"/staff/certificates/{code}/restore", data={"reason": "  "})
    assert refused.status_code == 422 and reload(issued).state == "suspended"
    response = client.post(
        f"/staff/certificates/{code}/restore", data={"reason": "Regrade was a clerical error"}
    )
    assert response.status_code == 302
    certificate = reload(issued)
    assert certificate.state == "active" and certificate.upheld_at is not None
    event = certificate.events[-1]
    assert (event.action, event.actor_id, event.reason) == (
        "restored",
        instructor.id,
        "Regrade was a clerical error",
    )
    assert event.data["upheld"] is True and "Handbook" in event.data["suspended_for"]
    assert "genuine and valid" in text_of(client.get(f"/verify/{code}"))

    # Nothing new: the decision stands. Once the basis holds and is withdrawn again, the rule decides again.
    events.emit(events.ProgressChanged(user_id=student.id, track_id=track.id))
    db.session.commit()
    assert reload(issued).state == "active"
    pass_again(student, track, progress)
    assert reload(issued).upheld_at is None
    clock.freeze(shared.START + timedelta(days=40))
    withdraw_the_pass(student, track, progress)
    assert reload(issued).state == "suspended"
    page = words_of(client.get(f"/verify/{code}"))  # a page kept for the first suspension is not shown again
    assert "since 19 April 2025" in page and "since 10 March 2025" not in page

    again = client.post(f"/staff/certificates/{code}/revoke", data={"reason": "Review upheld the withdrawal"})
    assert again.status_code == 302
    certificate = reload(issued)
    assert certificate.state == "revoked" and certificate.suspended_at is None
    not_suspended = client.post(f"/staff/certificates/{code}/restore", data={"reason": "Undo"})
    assert "Only a suspended certificate can be restored" in text_of(client.get(not_suspended.location))
    assert reload(issued).state == "revoked"


def test_the_holder_sees_why_and_cannot_share_renew_or_download_while_suspended(
    client, login, student, track, progress, issued
):
    withdraw_the_pass(student, track, progress)
    login(client, student)
    page = text_of(client.get(f"/certificates/{issued.display_code}"))
    assert "suspended while it is under review" in page and "no longer has a released passing grade" in page
    assert "Download PDF" not in page
    pdf = client.get(f"/certificates/{issued.display_code}/certificate.pdf")
    assert pdf.status_code == 302
    assert "suspended (under review) certificate has no PDF" in text_of(client.get(pdf.location))
    clock.freeze(issued.current.expires_at - timedelta(days=10))
    renew = client.post(f"/certificates/{issued.display_code}/renew")
    assert "cannot be renewed while it is under review" in text_of(client.get(renew.location))
    manual = client.post(
        "/staff/certificates/issue", data={"email": student.email, "track": track.slug, "reason": "Again"}
    )
    assert manual.status_code == 403  # a student is not staff


def test_issuing_by_hand_while_one_is_suspended_is_refused(
    client, login, admin, student, track, progress, issued
):
    withdraw_the_pass(student, track, progress)
    login(client, admin)
    response = client.post(
        "/staff/certificates/issue", data={"email": student.email, "track": track.slug, "reason": "Second"}
    )
    assert response.status_code == 422 and "suspended while under review" in text_of(response)
    assert len(db.session.execute(sa.select(Certificate)).scalars().all()) == 1


# --- an expired certificate shows the way back -------------------------------------------------------------------


def test_an_expired_certificate_page_says_how_the_holder_renews_and_nothing_private(client, student, issued):
    clock.freeze(issued.current.expires_at + timedelta(days=1))
    page = text_of(client.get(f"/verify/{issued.display_code}"))
    assert "EXPIRED" in page and "How the holder renews it" in page
    assert 'href="/login"' in page and "presses Renew" in page
    assert "pass the quiz “Sample final”" in page and "assignment “Handbook” assessed and passed" in page
    assert "sample-final" not in page and student.email not in page and "@example.org" not in page
    valid = issued.current.expires_at - timedelta(days=1)
    clock.freeze(valid)
    assert "How the holder renews it" not in text_of(client.get(f"/verify/{issued.display_code}"))


# --- wording matches the basis ------------------------------------------------------------------------------------


def test_a_hand_issued_certificate_says_awarded_by_decision_on_its_page_pdf_and_badges(
    client, login, admin, student, track
):
    certificate = operations.issue_certificate(student, track, admin, "Recognised prior learning")
    code = certificate.display_code
    page = text_of(client.get(f"/verify/{code}"))
    assert "has completed the track" not in page and "Certificate of completion" not in page
    assert "has been awarded the certificate of the track" in page
    login(client, student)
    holder = text_of(client.get(f"/certificates/{code}"))
    assert "has completed the track" not in holder and "decision, not through the track" in holder
    jobs.run_pending()  # the PDF is rendered by the job enqueued at issue
    pdf = " ".join(_pdf_text(client.get(f"/certificates/{code}/certificate.pdf").data).split())
    assert "has completed the track" not in pdf and "decision, not through the track" in pdf

    assertion = client.get(f"/verify/{code}.json").get_json(force=True)
    assert assertion["badge"].endswith("/openbadges/badges/sample-track?basis=manual")
    assert "decision" in assertion["narrative"] and "earned" not in assertion["narrative"]
    badge = client.get(assertion["badge"].removeprefix("http://127.0.0.1:5000")).get_json(force=True)
    assert badge["id"] == assertion["badge"]
    assert (
        badge["criteria"]["narrative"]
        == "Awarded by Social Media Academy's decision, not through the track's completion rule."
    )
    credential = json.loads(client.get(f"/verify/{code}/credential.json").data)
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["criteria"]["narrative"] == badge["criteria"]["narrative"]
    assert "by decision" in credential["description"] and "earned" not in credential["description"]


def test_open_badges_criteria_name_titles_never_slugs(client, issued):
    from lms.quizzes.models import Quiz

    db.session.add(
        Quiz(slug="sample-final", title="The final exam", track_id=issued.track_id, kind="final",
             time_limit_seconds=1800, pass_percent=70, draw=10, source_hash="test")
    )  # fmt: skip
    db.session.commit()
    badge = client.get("/openbadges/badges/sample-track").get_json(force=True)
    narrative = badge["criteria"]["narrative"]
    assert narrative.startswith("To earn this certificate")
    assert "“The final exam”" in narrative and "assignment “Handbook”" in narrative
    assert "sample-final" not in narrative and "handbook " not in narrative
    credential = json.loads(client.get(f"/verify/{issued.display_code}/credential.json").data)
    ob3 = credential["credentialSubject"]["achievement"]["criteria"]["narrative"]
    assert "“The final exam”" in ob3 and "sample-final" not in ob3


# --- the command line names its operator ----------------------------------------------------------------------------


def test_the_command_line_names_its_operator_and_refuses_anyone_else(app, student, instructor, track):
    runner = app.test_cli_runner()
    base = [
        "lms",
        "issue-certificate",
        "--email",
        student.email,
        "--track",
        track.slug,
        "--reason",
        "Imported",
    ]
    missing = runner.invoke(args=base)
    assert missing.exit_code != 0 and "Missing option '--by'" in missing.output
    for who in (student.email, "ghost@example.org"):
        refused = runner.invoke(args=[*base, "--by", who])
        assert refused.exit_code != 0 and "is not an active staff account" in refused.output
    assert db.session.execute(sa.select(Certificate)).scalars().all() == []
    issued_ = runner.invoke(args=[*base, "--by", f" {instructor.email.upper()} "])
    assert issued_.exit_code == 0, issued_.output
    [certificate] = db.session.execute(sa.select(Certificate)).scalars().all()
    revoke = ["lms", "revoke-certificate", certificate.display_code, "--reason", "Issued in error"]
    assert "is not an active staff account" in runner.invoke(args=[*revoke, "--by", student.email]).output
    assert runner.invoke(args=[*revoke, "--by", instructor.email]).exit_code == 0
    certificate = reload(certificate)
    assert [(e.action, e.actor_id) for e in certificate.events] == [
        ("issued", instructor.id),
        ("revoked", instructor.id),
    ]
    assert certificate.revoked_by_id == instructor.id


@pytest.mark.parametrize("actor", ["instructor", "none"])
def test_the_history_names_who_did_each_step(client, login, admin, instructor, student, track, actor):
    certificate = operations.issue_certificate(
        student, track, instructor if actor == "instructor" else None, "Hand"
    )
    login(client, admin)
    page = text_of(client.get(f"/staff/certificates/{certificate.display_code}"))
    expected = "Ingrid Instructor" if actor == "instructor" else "A shell command (operator not recorded)"
    assert expected in page and "the platform<" not in page
