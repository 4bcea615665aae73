"""Certificates: eligibility, issuing once, manual issue, revoke, reissue with history, expiry and renewal, CLI.

The shared helpers here (`progress`, `track`, `issued`) are imported by the other tests/test_certificate_*.py files.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from lms import clock, create_app, events
from lms.accounts.models import Role
from lms.audit import AuditEvent
from lms.certificates import eligibility, operations
from lms.certificates.models import Certificate, CertificateEvent, CertificateVersion, Status
from lms.courses import operations as courses
from lms.courses.models import Track
from lms.database import dispose_engines
from lms.errors import DomainError
from lms.extensions import db
from tests.conftest import BASE_CONFIG, _reset_database
from tests.fixtures.courses.samples import enrol_directly, lesson_by_slug, make_track
from tests.support import field_error

RULE = {"modules": "all", "quizzes": ["sample-final"], "assignment": "handbook"}
START = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)


@pytest.fixture
def progress(monkeypatch):
    """Each part of the completion rule, switched on or off per student (quizzes and assignments are stand-ins
    until those features land; modules use the real courses rule unless a test sets `modules_from_rows=False`)."""
    state = SimpleNamespace(modules=set(), quizzes=set(), assignments=set())
    monkeypatch.setattr(eligibility, "modules_complete", lambda u, t: (u, t) in state.modules)
    monkeypatch.setattr(eligibility, "has_passed_quiz", lambda u, slug: (u, slug) in state.quizzes)
    monkeypatch.setattr(eligibility, "has_passed_assignment", lambda u, t: (u, t) in state.assignments)

    def complete(user, track):
        state.modules.add((user.id, track.id))
        for slug in track.completion.get("quizzes", []):
            state.quizzes.add((user.id, slug))
        state.assignments.add((user.id, track.id))

    state.complete = complete
    return state


def certified_track(slug: str = "sample-track", validity_months: int = 24, rule: dict | None = None) -> Track:
    track = make_track(slug=slug)
    track.completion = dict(RULE if rule is None else rule)
    track.validity_months = validity_months
    db.session.commit()
    return track


@pytest.fixture
def track(app) -> Track:
    return certified_track()


def issue(student, track, progress) -> Certificate:
    """A certificate earned the normal way: the rule met, then progress reported."""
    progress.complete(student, track)
    events.emit(events.ProgressChanged(user_id=student.id, track_id=track.id))
    db.session.commit()
    certificate = operations.active_certificate(student.id, track.id)
    assert certificate is not None
    return certificate


@pytest.fixture
def issued(student, track, progress) -> Certificate:
    return issue(student, track, progress)


def all_certificates() -> list[Certificate]:
    return list(db.session.execute(sa.select(Certificate)).scalars())


# --- eligibility -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["modules", "quiz", "assignment"])
def test_each_missing_part_of_the_rule_keeps_the_student_ineligible(student, track, progress, missing):
    progress.complete(student, track)
    if missing == "modules":
        progress.modules.clear()
    elif missing == "quiz":
        progress.quizzes.clear()
    else:
        progress.assignments.clear()
    result = eligibility.check_eligibility(student.id, track)
    assert not result.eligible
    assert [r.key for r in result.missing] == [
        {"modules": "modules", "quiz": "quiz:sample-final", "assignment": "assignment"}[missing]
    ]
    events.emit(events.ProgressChanged(user_id=student.id, track_id=track.id))
    db.session.commit()
    assert all_certificates() == []


def test_every_named_quiz_must_be_passed(student, app, progress):
    track = certified_track(rule={"modules": "all", "quizzes": ["q1", "q2"]})
    progress.modules.add((student.id, track.id))
    progress.quizzes.add((student.id, "q1"))
    assert not eligibility.is_eligible(student.id, track)
    progress.quizzes.add((student.id, "q2"))
    assert eligibility.is_eligible(student.id, track)


def test_a_track_without_a_rule_never_issues_by_itself(student, app, progress):
    track = certified_track(rule={})
    progress.complete(student, track)
    assert not eligibility.is_eligible(student.id, track)


def test_modules_part_uses_the_real_lesson_completions(student, app, monkeypatch):
    """No stand-in for modules: the student completes every lesson through the courses feature."""
    monkeypatch.setattr(eligibility, "has_passed_quiz", lambda u, slug: True)
    monkeypatch.setattr(eligibility, "has_passed_assignment", lambda u, t: True)
    track = certified_track()
    enrol_directly(student.id, track)
    for slug in ["m1-l1", "m1-l2", "m2-l1"]:
        courses.complete_lesson(student, lesson_by_slug(track, slug))
    assert all_certificates() == []
    courses.complete_lesson(student, lesson_by_slug(track, "m2-l2"))
    [certificate] = all_certificates()
    assert certificate.user_id == student.id and certificate.state == "active"


def test_the_rule_with_real_rows_from_courses_quizzes_and_assignments(app, tmp_path, student):
    """No stand-ins: a lesson completed, quiz attempts and a released handbook grade, as those features store them."""
    import secrets

    from lms.assignments.models import Submission
    from lms.courses.models import Lesson, Module
    from lms.quizzes.models import Attempt, QuizVersion
    from tests.fixtures.files.rows import make_assignment
    from tests.test_quiz_support import setup_quiz

    quiz = setup_quiz(tmp_path, student, slug="final-exam")
    track = db.session.get(Track, quiz.track_id)
    track.completion = {"modules": "all", "quizzes": ["final-exam"], "assignment": "handbook"}
    module = db.session.execute(sa.select(Module).where(Module.track_id == track.id)).scalars().first()
    lesson = Lesson(track_id=track.id, module_id=module.id, slug="only", title="The only lesson",
                    body_html="<p>x</p>", source_hash="x")  # fmt: skip
    db.session.add(lesson)
    assignment = make_assignment(track)  # commits
    version_id = db.session.execute(
        sa.select(QuizVersion.id).where(QuizVersion.quiz_id == quiz.id)
    ).scalar_one()

    def attempt(number: int, percent: float) -> None:
        db.session.add(Attempt(
            quiz_id=quiz.id, quiz_version_id=version_id, user_id=student.id, number=number, state="submitted",
            time_limit_seconds=quiz.time_limit_seconds, deadline=clock.now_utc() + timedelta(hours=1), layout=[],
            submitted_at=clock.now_utc(), submitted_by="student", score=percent, max_score=100, percent=percent,
            passed=percent >= 60, results={},
        ))  # fmt: skip
        db.session.commit()

    def missing() -> list[str]:
        return [r.key for r in eligibility.check_eligibility(student.id, track).missing]

    assert missing() == ["modules", "quiz:final-exam", "assignment"]
    courses.complete_lesson(student, lesson)  # emits progress_changed: not enough yet
    assert missing() == ["quiz:final-exam", "assignment"]
    attempt(1, 40.0)
    assert missing() == ["quiz:final-exam", "assignment"]
    attempt(2, 80.0)
    assert missing() == ["assignment"]
    assert all_certificates() == []
    db.session.add(Submission(
        assignment_id=assignment.id, user_id=student.id, state="released", stored_name=secrets.token_hex(16),
        original_name="handbook.pdf", size_bytes=1000, sha256="0" * 64, detected_type="pdf",
        submitted_at=clock.now_utc(), version=1,
    ))  # fmt: skip
    events.emit(events.ProgressChanged(user_id=student.id, track_id=track.id))  # as a grade release does
    db.session.commit()
    assert missing() == []
    [certificate] = all_certificates()
    assert certificate.current.assessed_work == "Social Media Strategy Handbook"


# --- issuing -----------------------------------------------------------------------------------------------------


def test_meeting_the_rule_issues_one_certificate_with_its_history(student, track, progress):
    clock.freeze(START)
    certificate = issue(student, track, progress)
    version = certificate.current
    assert version.number == 1
    assert version.holder_name == "Stella Student"
    assert version.track_title == track.title
    assert version.modules == ["Module 1", "Module 2"]
    assert version.assessed_work == "Handbook"
    assert version.issued_at == START
    assert version.expires_at == datetime(2027, 3, 10, 9, 30, tzinfo=UTC)
    [event] = certificate.events
    assert (event.action, event.actor_id, event.at) == ("issued", None, START)
    # More progress later changes nothing: still exactly one.
    events.emit(events.ProgressChanged(user_id=student.id, track_id=track.id))
    db.session.commit()
    assert len(all_certificates()) == 1


def test_the_database_refuses_a_second_active_certificate(issued, student, track):
    db.session.add(
        Certificate(
            code="0000000000000", user_id=student.id, track_id=track.id, state="active", recipient_salt="x"
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_revoked_certificate_is_not_replaced_automatically(issued, student, track, admin):
    operations.revoke_certificate(issued, admin, "Plagiarised handbook")
    events.emit(events.ProgressChanged(user_id=student.id, track_id=track.id))
    db.session.commit()
    assert [c.state for c in all_certificates()] == ["revoked"]


@pytest.fixture
def pg_app(pg_schema):
    """An app on PostgreSQL only: the race below needs real concurrent transactions."""
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": pg_schema})
    _reset_database(app, "postgresql")
    with app.app_context():
        yield app
        db.session.remove()
        dispose_engines(db.engine)


def test_concurrent_completion_issues_exactly_once_on_postgresql(pg_app, monkeypatch):
    from lms.accounts import operations as accounts

    student = accounts.register_user("racer@example.org", "Rita Racer", "correct-horse-battery")
    track = certified_track()
    student_id, track_id = student.id, track.id
    threads_count = 6
    barrier = threading.Barrier(threads_count, timeout=20)

    def eligible_after_everyone_checked(user_id, track_):
        barrier.wait()  # every thread has seen "no certificate yet" before any inserts
        return True

    monkeypatch.setattr(eligibility, "is_eligible", eligible_after_everyone_checked)
    codes: list[str] = []
    errors: list[BaseException] = []

    def complete() -> None:
        try:
            with pg_app.app_context():
                certificate = operations.issue_if_eligible(student_id, track_id)
                code = certificate.code if certificate is not None else None
                db.session.commit()
                codes.append(code)
                db.session.remove()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=complete) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(codes) == threads_count and None not in codes
    assert len(set(codes)) == 1, "every racer must answer with the one certificate"
    db.session.expire_all()
    rows = db.session.execute(sa.select(Certificate)).scalars().all()
    assert len(rows) == 1
    assert db.session.execute(sa.select(sa.func.count()).select_from(CertificateEvent)).scalar_one() == 1


# --- manual issue, revoke, reissue -------------------------------------------------------------------------------


def test_staff_issue_a_certificate_by_hand_with_a_reason(client, login, instructor, student, track):
    login(client, instructor)
    response = client.post(
        "/staff/certificates/issue",
        data={
            "email": student.email.upper(),
            "track": track.slug,
            "reason": "Completed the pilot cohort offline",
        },
    )
    assert response.status_code == 302
    [certificate] = all_certificates()
    assert response.location.endswith(f"/staff/certificates/{certificate.display_code}")
    [event] = certificate.events
    assert (event.action, event.actor_id, event.reason) == (
        "issued",
        instructor.id,
        "Completed the pilot cohort offline",
    )
    assert certificate.current.reason == "Completed the pilot cohort offline"
    audit = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "certificate.issued")
    ).scalar_one()
    assert audit.actor_id == instructor.id

    again = client.post(
        "/staff/certificates/issue",
        data={
            "email": student.email,
            "track": track.slug,
            "reason": "Twice",
        },
    )
    assert again.status_code == 422
    assert "already holds an active certificate" in again.get_data(as_text=True)
    assert len(all_certificates()) == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "nobody@example.org", "reason": "x"}, "email", "No account uses this email address."),
        ({"email": "not-an-email", "reason": "x"}, "email", "Enter an email address like"),
        ({"email": "STUDENT", "reason": "   "}, "reason", "Give a reason"),
        ({"email": "STUDENT", "reason": "x", "track": "no-such-track"}, "track", "Not a valid choice"),
    ],
)
def test_manual_issue_refuses_bad_input_beside_the_field(
    client, login, admin, student, track, data, field, message
):
    login(client, admin)
    data = {"track": track.slug, **data}
    if data["email"] == "STUDENT":
        data["email"] = student.email
    response = client.post("/staff/certificates/issue", data=data)
    assert response.status_code == 422
    error = field_error(response.get_data(as_text=True), field)
    assert error is not None and message in error
    assert all_certificates() == []


def test_revoke_keeps_the_certificate_and_records_who_when_and_why(client, login, admin, issued):
    clock.freeze(START + timedelta(days=3))
    login(client, admin)
    response = client.post(
        f"/staff/certificates/{issued.display_code}/revoke",
        data={"reason": "Handbook copied from another student"},
    )
    assert response.status_code == 302
    certificate = operations.find_certificate(issued.code)
    assert certificate.state == "revoked"
    assert certificate.revoked_at == START + timedelta(days=3)
    assert certificate.revoked_reason == "Handbook copied from another student"
    assert certificate.revoked_by_id == admin.id
    assert [(e.action, e.actor_id) for e in certificate.events] == [("issued", None), ("revoked", admin.id)]
    again = client.post(f"/staff/certificates/{issued.display_code}/revoke", data={"reason": "again"})
    assert again.status_code == 302
    assert "already revoked" in client.get(again.location).get_data(as_text=True)
    assert len(certificate.events) == 2


def test_revoke_needs_a_reason(client, login, instructor, issued):
    login(client, instructor)
    response = client.post(f"/staff/certificates/{issued.display_code}/revoke", data={"reason": "  "})
    assert response.status_code == 422
    assert "Give a reason" in field_error(response.get_data(as_text=True), "revoke-reason")
    assert operations.find_certificate(issued.code).state == "active"


def test_reissue_corrects_the_name_under_the_same_code_and_keeps_history(client, login, admin, issued):
    original = issued.current
    clock.freeze(START + timedelta(days=30))
    login(client, admin)
    response = client.post(
        f"/staff/certificates/{issued.display_code}/reissue",
        data={
            "holder_name": "Stella Q. Student",
            "template": "modern",
            "reason": "Middle initial added on request",
        },
    )
    assert response.status_code == 302
    certificate = operations.certificate_with_history(issued.id)
    assert certificate.code == issued.code
    assert [v.holder_name for v in certificate.versions] == ["Stella Student", "Stella Q. Student"]
    current = certificate.current
    assert (current.number, current.template, current.holder_name) == (2, "modern", "Stella Q. Student")
    assert (current.issued_at, current.expires_at) == (original.issued_at, original.expires_at)
    event = certificate.events[-1]
    assert (event.action, event.actor_id, event.version_number) == ("reissued", admin.id, 2)
    assert event.data["holder_name"] == ["Stella Student", "Stella Q. Student"]
    page = client.get(f"/verify/{issued.display_code}").get_data(as_text=True)
    assert "Stella Q. Student" in page and "certificate--modern" in page
    history = client.get(f"/staff/certificates/{issued.display_code}").get_data(as_text=True)
    assert "Middle initial added on request" in history and "Stella Student" in history


def test_reissue_that_changes_nothing_or_targets_a_revoked_certificate_is_refused(admin, issued):
    with pytest.raises(DomainError, match="Nothing would change"):
        operations.reissue_certificate(issued, admin, "no-op", holder_name="Stella Student")
    operations.revoke_certificate(issued, admin, "Fraud")
    with pytest.raises(DomainError, match="cannot be reissued"):
        operations.reissue_certificate(issued, admin, "fix", holder_name="Someone Else")
    assert db.session.execute(sa.select(sa.func.count()).select_from(CertificateVersion)).scalar_one() == 1


# --- expiry and renewal ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2025, 1, 31, tzinfo=UTC), 1, datetime(2025, 2, 28, tzinfo=UTC)),
        (datetime(2024, 1, 31, tzinfo=UTC), 1, datetime(2024, 2, 29, tzinfo=UTC)),
        (datetime(2025, 11, 15, 8, tzinfo=UTC), 24, datetime(2027, 11, 15, 8, tzinfo=UTC)),
        (datetime(2025, 12, 1, tzinfo=UTC), 1, datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_add_months_keeps_the_day_or_the_last_day_of_the_month(start, months, expected):
    assert operations.add_months(start, months) == expected


def test_expiry_follows_the_tracks_validity(student, app, progress):
    clock.freeze(START)
    track = certified_track(validity_months=6)
    certificate = issue(student, track, progress)
    assert certificate.current.expires_at == datetime(2025, 9, 10, 9, 30, tzinfo=UTC)
    assert certificate.status_at(datetime(2025, 9, 10, 9, 29, tzinfo=UTC)) is Status.VALID
    assert certificate.status_at(datetime(2025, 9, 10, 9, 30, tzinfo=UTC)) is Status.EXPIRED
    forever = certified_track(slug="forever", validity_months=0)
    assert issue(student, forever, progress).current.expires_at is None


def test_holder_renews_within_sixty_days_of_expiry(client, login, student, issued, progress, track):
    expires = issued.current.expires_at
    login(client, student)
    clock.freeze(expires - timedelta(days=61))
    early = client.post(f"/certificates/{issued.display_code}/renew")
    assert "Renewal opens on" in client.get(early.location).get_data(as_text=True)
    clock.freeze(expires - timedelta(days=59))
    page = client.get(f"/certificates/{issued.display_code}").get_data(as_text=True)
    assert "expires in 59 days" in page and "Renew my certificate" in page
    progress.quizzes.clear()  # the track now asks for something the student has not done
    refused = client.post(f"/certificates/{issued.display_code}/renew")
    assert "first complete what the track now requires" in client.get(refused.location).get_data(as_text=True)
    progress.complete(student, track)
    client.post(f"/certificates/{issued.display_code}/renew")
    certificate = operations.certificate_with_history(issued.id)
    assert certificate.code == issued.code
    assert certificate.current.number == 2
    assert certificate.current.issued_at == expires - timedelta(days=59)
    assert certificate.current.expires_at == operations.add_months(expires - timedelta(days=59), 24)
    assert certificate.events[-1].action == "renewed"


def test_an_expired_certificate_says_so_and_how_to_renew(client, login, student, issued):
    clock.freeze(issued.current.expires_at + timedelta(days=1))
    login(client, student)
    page = client.get(f"/certificates/{issued.display_code}").get_data(as_text=True)
    assert "Your certificate has expired" in page and "press Renew" in page
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "expired or due for renewal" in dashboard


# --- the command line --------------------------------------------------------------------------------------------


def test_cli_issues_and_revokes(app, student, track, admin):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "lms",
            "issue-certificate",
            "--email",
            f" {student.email.upper()} ",
            "--track",
            track.slug,
            "--reason",
            "Imported from the old platform",
            "--by",
            admin.email,
        ]
    )
    assert result.exit_code == 0, result.output
    [certificate] = all_certificates()
    assert certificate.display_code in result.output
    assert f"/verify/{certificate.display_code}" in result.output
    assert certificate.events[0].reason == "Imported from the old platform"

    again = runner.invoke(
        args=[
            "lms",
            "issue-certificate",
            "--email",
            student.email,
            "--track",
            track.slug,
            "--by",
            admin.email,
        ]
    )
    assert again.exit_code != 0 and "already holds an active certificate" in again.output

    lower = certificate.display_code.lower().replace("-", " ")
    result = runner.invoke(
        args=["lms", "revoke-certificate", lower, "--reason", "Issued in error", "--by", admin.email]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert all_certificates()[0].revoked_reason == "Issued in error"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["issue-certificate", "--email", "ghost@example.org", "--track", "sample-track"], "No account uses"),
        (["issue-certificate", "--email", "STUDENT", "--track", "nope"], "No track is called"),
        (["revoke-certificate", "7KQ2-M9XD-4TRW-0", "--reason", "x"], "typing mistake"),
        (["revoke-certificate", "0000-0000-0000-0", "--reason", "x"], "No certificate has the code"),
    ],
)
def test_cli_explains_what_is_wrong(app, student, track, admin, args, message):
    args = [student.email if a == "STUDENT" else a for a in args]
    result = app.test_cli_runner().invoke(args=["lms", *args, "--by", admin.email])
    assert result.exit_code != 0
    assert message in result.output


def test_staff_list_finds_by_name_email_and_code(
    client, login, instructor, issued, make_user, track, progress
):
    other = make_user(Role.STUDENT, full_name="Otto Other")
    issue(other, track, progress)
    login(client, instructor)
    page = client.get("/staff/certificates?q=stella").get_data(as_text=True)
    assert "Stella Student" in page and "Otto Other" not in page
    page = client.get(f"/staff/certificates?q={issued.display_code.lower()}").get_data(as_text=True)
    assert "Stella Student" in page and "Otto Other" not in page
    page = client.get("/staff/certificates").get_data(as_text=True)
    assert "Stella Student" in page and "Otto Other" in page
