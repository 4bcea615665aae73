"""Certificate domain events: one CertificateIssued, CertificateRevoked or CertificateReissued per change, with the
right fields, heard inside the transaction once the change is flushed; none when an operation is refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms import clock, events
from lms.certificates import eligibility, operations
from lms.certificates.models import Certificate
from lms.errors import DomainError
from lms.extensions import db
from tests import test_certificates as shared

certified_track, issue = shared.certified_track, shared.issue
progress, track, issued, pg_app = (
    shared.progress,
    shared.track,
    shared.issued,
    shared.pg_app,
)  # fixtures shared with test_certificates

CERTIFICATE_EVENTS = (events.CertificateIssued, events.CertificateRevoked, events.CertificateReissued)


@pytest.fixture
def heard(app) -> Iterator[list[events.Event]]:
    """Every certificate event emitted during the test, in order (the fixtures' own issues included)."""
    heard: list[events.Event] = []
    with (
        events.subscribed(events.CertificateIssued, heard.append),
        events.subscribed(events.CertificateRevoked, heard.append),
        events.subscribed(events.CertificateReissued, heard.append),
    ):
        yield heard


# --- issued ------------------------------------------------------------------------------------------------------


def test_the_completion_rule_issues_with_one_event_and_no_actor(heard, student, track, progress):
    certificate = issue(student, track, progress)
    assert heard == [
        events.CertificateIssued(
            certificate_id=certificate.id, user_id=student.id, track_id=track.id, actor_id=None
        )
    ]
    events.emit(events.ProgressChanged(user_id=student.id, track_id=track.id))  # nothing more to issue
    db.session.commit()
    assert len(heard) == 1


def test_progress_short_of_the_rule_emits_nothing(heard, student, track, progress):
    progress.modules.add((student.id, track.id))
    events.emit(events.ProgressChanged(user_id=student.id, track_id=track.id))
    db.session.commit()
    assert heard == []


def test_issuing_by_hand_names_the_member_of_staff_and_a_refusal_emits_nothing(
    heard, student, instructor, track
):
    certificate = operations.issue_certificate(student, track, instructor, "Completed the pilot offline")
    assert heard == [
        events.CertificateIssued(
            certificate_id=certificate.id, user_id=student.id, track_id=track.id, actor_id=instructor.id
        )
    ]
    with pytest.raises(DomainError, match="already holds an active certificate"):
        operations.issue_certificate(student, track, instructor, "Twice")
    db.session.rollback()
    with pytest.raises(DomainError, match="Give a reason"):
        operations.issue_certificate(student, certified_track(slug="other"), instructor, "  ")
    assert len(heard) == 1


def test_issuing_from_a_shell_names_its_operator(app, heard, student, admin, track):
    result = app.test_cli_runner().invoke(
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
    assert result.exit_code == 0, result.output
    [certificate] = db.session.execute(sa.select(Certificate)).scalars()
    assert heard == [
        events.CertificateIssued(
            certificate_id=certificate.id, user_id=student.id, track_id=track.id, actor_id=admin.id
        )
    ]


def test_a_handler_in_the_transaction_sees_the_new_certificate(student, instructor, track):
    seen: list[str] = []

    def read_back(event: events.CertificateIssued) -> None:
        seen.append(db.session.get(Certificate, event.certificate_id).code)

    with events.subscribed(events.CertificateIssued, read_back):
        certificate = operations.issue_certificate(student, track, instructor, "Pilot cohort")
    assert seen == [certificate.code]


def test_concurrent_completion_emits_one_issued_event_on_postgresql(pg_app, monkeypatch):
    """Every racer answers with the one certificate; only the transaction that stored it emits."""
    from lms.accounts import operations as accounts

    student = accounts.register_user("racer@example.org", "Rita Racer", "correct-horse-battery")
    track_ = certified_track()
    student_id, track_id = student.id, track_.id
    racers = 4
    barrier = threading.Barrier(racers, timeout=20)

    def eligible_after_everyone_checked(user_id, track_):
        barrier.wait()  # every racer has seen "no certificate yet" before any inserts
        return True

    monkeypatch.setattr(eligibility, "is_eligible", eligible_after_everyone_checked)
    heard: list[events.Event] = []
    errors: list[BaseException] = []

    def complete() -> None:
        try:
            with pg_app.app_context():
                operations.issue_if_eligible(student_id, track_id)
                db.session.commit()
                db.session.remove()
        except BaseException as error:  # reported below
            errors.append(error)

    with events.subscribed(events.CertificateIssued, heard.append):
        threads = [threading.Thread(target=complete) for _ in range(racers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert errors == []
    [certificate_id] = db.session.execute(sa.select(Certificate.id)).scalars()
    assert heard == [
        events.CertificateIssued(
            certificate_id=certificate_id, user_id=student_id, track_id=track_id, actor_id=None
        )
    ]


# --- revoked -----------------------------------------------------------------------------------------------------


def test_revoking_emits_one_event_with_the_reason_and_a_refusal_emits_nothing(heard, issued, admin):
    del heard[:]  # the fixture's own issue
    with pytest.raises(DomainError, match="Give a reason"):
        operations.revoke_certificate(issued, admin, "   ")
    assert heard == []
    operations.revoke_certificate(issued, admin, "  Handbook   copied ")
    assert heard == [
        events.CertificateRevoked(
            certificate_id=issued.id, user_id=issued.user_id, actor_id=admin.id, reason="Handbook copied"
        )
    ]
    with pytest.raises(DomainError, match="already revoked"):
        operations.revoke_certificate(issued, admin, "Again")
    assert len(heard) == 1


def test_a_handler_in_the_transaction_sees_the_revocation_flushed_and_can_undo_it(issued, admin):
    states: list[str] = []

    def read_state(event: events.CertificateRevoked) -> None:
        stmt = sa.select(Certificate.state).where(Certificate.id == event.certificate_id)
        states.append(db.session.execute(stmt).scalar_one())

    def refuse(event: events.CertificateRevoked) -> None:
        raise RuntimeError("refused by a subscriber")

    with events.subscribed(events.CertificateRevoked, refuse), pytest.raises(RuntimeError):
        operations.revoke_certificate(issued, admin, "Fraud")
    db.session.rollback()
    assert operations.find_certificate(issued.code).state == "active"
    with events.subscribed(events.CertificateRevoked, read_state):
        operations.revoke_certificate(issued, admin, "Fraud")
    assert states == ["revoked"]


def test_revoking_from_a_shell_names_its_operator(app, heard, issued, instructor):
    del heard[:]
    result = app.test_cli_runner().invoke(
        args=["lms", "revoke-certificate", issued.display_code, "--reason", "Issued in error", "--by",
              instructor.email]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert heard == [
        events.CertificateRevoked(
            certificate_id=issued.id, user_id=issued.user_id, actor_id=instructor.id, reason="Issued in error"
        )
    ]


def test_the_revoked_event_is_heard_after_the_commit_and_never_after_a_rollback(issued, admin):
    after: list[events.Event] = []
    with events.subscribed(events.CertificateRevoked, after.append, events.Phase.AFTER_COMMIT):
        with pytest.raises(DomainError):
            operations.revoke_certificate(issued, admin, "")
        db.session.rollback()
        assert after == []
        operations.revoke_certificate(issued, admin, "Fraud")
    assert [(type(e), e.reason) for e in after] == [(events.CertificateRevoked, "Fraud")]


# --- reissued ----------------------------------------------------------------------------------------------------


def test_reissuing_emits_one_event_with_the_new_version_and_a_refusal_emits_nothing(heard, issued, admin):
    del heard[:]
    with pytest.raises(DomainError, match="Nothing would change"):
        operations.reissue_certificate(issued, admin, "No-op", holder_name="Stella Student")
    with pytest.raises(DomainError, match="listed templates"):
        operations.reissue_certificate(issued, admin, "Fix", template="baroque")
    with pytest.raises(DomainError, match="Give a reason"):
        operations.reissue_certificate(issued, admin, "", holder_name="Stella Q. Student")
    db.session.rollback()
    assert heard == []
    version = operations.reissue_certificate(
        issued, admin, "Middle initial added", holder_name="Stella Q. Student"
    )
    assert heard == [
        events.CertificateReissued(
            certificate_id=issued.id,
            user_id=issued.user_id,
            actor_id=admin.id,
            version_number=version.number,
            reason="Middle initial added",
        )
    ]
    assert version.number == 2
    operations.revoke_certificate(issued, admin, "Fraud")
    del heard[:]
    with pytest.raises(DomainError, match="cannot be reissued"):
        operations.reissue_certificate(issued, admin, "Fix", holder_name="Someone Else")
    assert heard == []


# --- renewed: a reissue for anyone outside the feature ----------------------------------------------------------


def test_the_holders_renewal_is_heard_as_a_reissue_with_its_version(heard, student, issued):
    del heard[:]
    clock.freeze(issued.current.expires_at - timedelta(days=30))
    version = operations.renew_certificate(issued, student)
    assert heard == [
        events.CertificateReissued(
            certificate_id=issued.id,
            user_id=student.id,
            actor_id=student.id,
            version_number=2,
            reason="Renewed by the holder",
        )
    ]
    assert version.number == 2


def test_staff_renewal_carries_its_reason(heard, issued, admin):
    del heard[:]
    version = operations.renew_certificate(issued, admin, "Renewed after the audit")
    assert [(e.actor_id, e.version_number, e.reason) for e in heard] == [
        (admin.id, version.number, "Renewed after the audit")
    ]


def test_a_refused_renewal_emits_nothing(heard, student, issued, progress, make_user, admin):
    del heard[:]
    expires = issued.current.expires_at
    clock.freeze(expires - timedelta(days=61))
    with pytest.raises(DomainError, match="Renewal opens on"):
        operations.renew_certificate(issued, student)
    clock.freeze(expires - timedelta(days=30))
    progress.quizzes.clear()
    with pytest.raises(DomainError, match="first complete"):
        operations.renew_certificate(issued, student)
    with pytest.raises(DomainError, match="Only the holder or staff"):
        operations.renew_certificate(issued, make_user())
    with pytest.raises(DomainError, match="Give a reason"):
        operations.renew_certificate(issued, admin, "")
    db.session.rollback()
    operations.revoke_certificate(issued, admin, "Fraud")
    del heard[:]
    with pytest.raises(DomainError, match="cannot be renewed"):
        operations.renew_certificate(issued, student)
    assert heard == []
