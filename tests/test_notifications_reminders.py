"""The notices nobody asks for: handbooks falling due, certificates about to expire, the staff's daily digest, a
quiz attempt the worker submitted at its deadline, and a certificate's email with its links; each once only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from lms import clock, events, jobs
from lms.certificates import operations as certificates
from lms.extensions import db
from lms.notifications import operations
from lms.notifications.models import Notification
from tests.fixtures.files import rows
from tests.smtp import html_part, text_part

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BASE = "https://learn.example.org"


def _notices(user_id: int, kind: str | None = None) -> list[Notification]:
    return [n for n in operations.notifications_of(user_id) if kind is None or n.kind == kind]


@pytest.fixture
def handbook(app, student) -> Any:
    clock.freeze(T0)
    track = rows.make_track()
    assignment = rows.make_assignment(track, due_days=21)
    rows.enroll(student, track)
    return assignment


def test_a_handbook_due_in_three_days_then_tomorrow_is_a_reminder_each_once(handbook, student, make_user):
    done = make_user()
    rows.enroll(done, handbook.track)
    rows.hand_in(done, handbook)
    due = T0 + timedelta(days=21)

    clock.freeze(due - timedelta(days=4))
    assert operations.handbook_due_reminders() == 0, "too early"
    clock.freeze(due - timedelta(days=2, hours=20))
    assert operations.handbook_due_reminders() == 1
    assert operations.handbook_due_reminders() == 0, "the same reminder is not made twice"
    [notice] = _notices(student.id, "handbook_due")
    assert notice.subject == "Social Media Strategy Handbook is due in 3 days"
    assert notice.link == f"/assignments/{handbook.track.slug}/{handbook.slug}"

    clock.freeze(due - timedelta(hours=20))
    assert operations.handbook_due_reminders() == 1
    assert _notices(student.id, "handbook_due")[0].subject.endswith("is due tomorrow")
    assert _notices(done.id) == [], "a student who handed in hears nothing"


@pytest.fixture
def certificate(app, student, admin) -> Any:
    clock.freeze(T0)
    track = rows.make_track("expiring", "Expiring Track")
    return certificates.issue_certificate(student, track, admin, "Recognised prior learning")


def test_a_certificate_expiring_in_60_then_14_days_is_a_notice_each_once_with_the_way_to_renew(
    certificate, student, admin
):
    expires = certificate.current.expires_at
    clock.freeze(expires - timedelta(days=61))
    assert operations.certificate_expiry_notices() == 0
    clock.freeze(expires - timedelta(days=59))
    assert operations.certificate_expiry_notices() == 1
    assert operations.certificate_expiry_notices() == 0
    clock.freeze(expires - timedelta(days=13))
    assert operations.certificate_expiry_notices() == 1
    notices = _notices(student.id, "certificate_expiring")
    assert [n.subject for n in notices] == [
        "Your certificate for Expiring Track expires in 14 days",
        "Your certificate for Expiring Track expires in 60 days",
    ]
    assert (
        "choose Renew" in notices[0].body and notices[0].link == f"/certificates/{certificate.display_code}"
    )

    certificates.revoke_certificate(certificate, admin, "Issued in error")
    clock.freeze(expires - timedelta(days=1))
    assert operations.certificate_expiry_notices() == 0, "a revoked certificate is not renewed"


def test_staff_get_one_daily_digest_of_new_submissions(handbook, student, make_user, instructor, admin):
    other = make_user()
    rows.enroll(other, handbook.track)
    rows.hand_in(student, handbook)
    rows.hand_in(other, handbook)
    clock.freeze(T0 + timedelta(hours=3))
    assert operations.staff_submission_digest() == 2  # the instructor and the admin
    assert operations.staff_submission_digest() == 0, "one digest a day"
    [digest] = _notices(instructor.id, "submissions_digest")
    assert digest.subject == "2 new submissions to grade"
    assert "- Social Media Strategy Handbook: 2" in digest.body
    assert _notices(student.id, "submissions_digest") == []
    clock.freeze(T0 + timedelta(days=2))
    assert operations.staff_submission_digest() == 0, "nothing new: no email"


def test_the_worker_submits_an_overdue_attempt_and_the_student_hears_with_the_result_link(app, student):
    from tests.test_gradebook_support import add_attempt, make_quiz, make_track

    clock.freeze(T0)
    track = make_track()
    quiz = make_quiz(track, "final-exam", title="Final Exam")
    attempt = add_attempt(
        student, quiz, None, started=T0 - timedelta(minutes=30), deadline=T0 - timedelta(minutes=20)
    )
    jobs.schedule_periodic()  # the worker's tick: the minute's clean-up is due
    jobs.run_pending()
    [notice] = _notices(student.id, "quiz_submitted_by_server")
    assert notice.subject == "Your attempt at Final Exam was submitted at its deadline"
    assert notice.link == f"/quizzes/attempts/{attempt.id}/result"


def test_a_student_finishing_their_own_attempt_hears_nothing(app, student):
    events.emit(
        events.AttemptSubmitted(
            attempt_id=1, user_id=student.id, quiz_id=1, track_id=1, by_server=False, passed=True
        )
    )
    db.session.commit()
    assert _notices(student.id) == []


@pytest.mark.usefixtures("smtp_server")
class TestCertificateEmail:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
        return {**app_config, **smtp_server.settings(), "BASE_URL": BASE}

    def test_an_issued_certificate_is_emailed_with_its_page_pdf_linkedin_and_wallet_links(
        self, certificate, student, smtp_server, client, login
    ):
        jobs.run_pending()  # the email, and the PDF
        [message] = smtp_server.inbox.to(student.email)
        text, html = text_part(message), html_part(message)
        code = certificate.display_code
        assert message["Subject"] == "Your certificate: Expiring Track"
        for url in (
            f"{BASE}/certificates/{code}",
            f"{BASE}/certificates/{code}/certificate.pdf",
            f"{BASE}/certificates/{code}/credential.json",
            f"{BASE}/verify/{code}",
        ):
            assert url in text and f'href="{url}"' in html
        assert "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME" in text
        login(client, student)
        pdf = client.get(f"/certificates/{code}/certificate.pdf")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF"), (
            "rendered by its job before the email left"
        )

    def test_a_suspension_by_the_platform_tells_the_holder_why_and_staff_to_review(
        self, certificate, student, instructor, smtp_server
    ):
        jobs.run_pending()
        smtp_server.inbox.clear()
        events.emit(
            events.CertificateSuspended(
                certificate_id=certificate.id,
                user_id=student.id,
                actor_id=None,
                reason="The passing grade was withdrawn",
            )
        )
        db.session.commit()
        jobs.run_pending()
        [holder] = smtp_server.inbox.to(student.email)
        assert "was suspended" in holder["Subject"] and "The passing grade was withdrawn" in text_part(holder)
        [staff] = smtp_server.inbox.to(instructor.email)
        assert staff["Subject"] == f"Certificate {certificate.display_code} suspended: its basis changed"


def test_notices_a_job_makes_twice_are_kept_once(certificate, student):
    assert db.session.execute(sa.select(sa.func.count()).select_from(Notification)).scalar_one() == 1
    events.emit(
        events.CertificateIssued(certificate_id=certificate.id, user_id=student.id, track_id=1, actor_id=None)
    )
    db.session.commit()
    assert len(_notices(student.id, "certificate_issued")) == 1
