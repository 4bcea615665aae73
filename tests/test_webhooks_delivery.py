"""Webhooks end to end: each event type, caused by the real operation, reaches a real receiver on loopback that
verifies it with the Standard Webhooks reference library (`standardwebhooks`); what the payload holds (and does
not); an endpoint that did not choose an event, or a change rolled back, gets nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from lms import clock, events, jobs
from lms.certificates import operations as certificates
from lms.courses import operations as courses
from lms.extensions import db
from lms.quizzes import operations as quizzes
from lms.webhooks import operations
from lms.webhooks.models import DELIVERED, EVENT_TYPES, WebhookDelivery
from tests.fixtures.files import rows, samples
from tests.test_certificates import issue, progress, track
from tests.test_quiz_attempts import save, start
from tests.test_quiz_support import setup_quiz
from tests.webhook_receiver import Receiver

__all__ = ["progress", "track"]  # fixtures shared with test_certificates


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver().start()
    yield found
    found.stop()


def subscribe(admin, receiver: Receiver, chosen=EVENT_TYPES):
    """Register the receiver as an endpoint and give it the secret (as its operator would copy it)."""
    endpoint = operations.create_endpoint(admin.id, receiver.url, "HR system", list(chosen))
    receiver.secret = endpoint.secret
    return endpoint


def run_jobs() -> int:
    """Run the queue as a worker would, on the real clock (the receiver checks the signature's time against
    its own)."""
    clock.freeze(None)
    ran = jobs.run_pending()
    db.session.expire_all()
    return ran


def deliveries() -> list[WebhookDelivery]:
    return list(db.session.execute(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars())


def only(receiver: Receiver, event_type: str):
    [received] = receiver.of_type(event_type)
    [delivery] = [d for d in deliveries() if d.event_type == event_type]
    assert received.message_id == delivery.message_id
    assert received.body == delivery.payload.encode()  # the stored bytes, as signed
    assert delivery.state == DELIVERED and delivery.attempts == 1 and delivery.last_status_code == 204
    assert received.payload["type"] == event_type
    assert datetime.fromisoformat(received.payload["timestamp"]).tzinfo is not None
    return received


# --- each event type, from its real operation ------------------------------------------------------------------


def test_certificate_issued(admin, student, track, progress, receiver):
    subscribe(admin, receiver)
    certificate = issue(student, track, progress)
    assert receiver.requests == []  # nothing leaves from the operation itself: the job sends it
    run_jobs()
    data = only(receiver, "certificate.issued").data
    assert data["issued_by"] == "completion"
    assert data["certificate"]["code"] == certificate.display_code
    assert data["certificate"]["verify_url"] == certificates.verification_url(certificate)
    assert data["certificate"]["holder"] == {"id": student.id, "email": student.email}
    assert data["certificate"]["track"] == {"slug": track.slug, "title": track.title}
    assert data["certificate"]["state"] == "active" and data["certificate"]["version"] == 1
    assert student.full_name not in json.dumps(data)  # ids and email, never more than the event needs


def test_certificate_suspended(admin, student, track, progress, receiver):
    certificate = issue(student, track, progress)
    subscribe(admin, receiver, ["certificate.suspended"])
    progress.assignments.clear()  # the passing grade was withdrawn, as a regrade does
    events.emit(events.ProgressChanged(user_id=student.id, track_id=track.id))
    db.session.commit()
    run_jobs()
    data = only(receiver, "certificate.suspended").data
    assert data["certificate"]["code"] == certificate.display_code
    assert data["certificate"]["state"] == "suspended"
    assert data["reason"].startswith("Under review:")


def test_certificate_revoked(admin, student, track, progress, receiver):
    certificate = issue(student, track, progress)
    subscribe(admin, receiver, ["certificate.revoked"])
    certificates.revoke_certificate(certificate, admin, "Handbook copied")
    db.session.commit()
    run_jobs()
    data = only(receiver, "certificate.revoked").data
    assert data["certificate"]["code"] == certificate.display_code
    assert data["certificate"]["state"] == "revoked" and data["reason"] == "Handbook copied"


def test_certificate_reissued(admin, student, track, progress, receiver):
    certificate = issue(student, track, progress)
    subscribe(admin, receiver, ["certificate.reissued"])
    certificates.reissue_certificate(certificate, admin, "Name corrected", holder_name="Stella Q. Student")
    db.session.commit()
    run_jobs()
    data = only(receiver, "certificate.reissued").data
    assert data["certificate"]["code"] == certificate.display_code and data["certificate"]["version"] == 2
    assert "reason" not in data


def test_grade_released(admin, student, instructor, receiver):
    clock.freeze(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
    track_ = rows.make_track()
    assignment = rows.make_assignment(track_, criteria=3)
    rows.enroll(student, track_)
    subscribe(admin, receiver, ["grade.released"])
    clock.freeze(datetime(2025, 3, 8, 9, 0, tzinfo=UTC))
    submission = rows.hand_in(student, assignment, samples.pdf(), "stella-handbook.pdf")
    rows.grade(instructor, submission, level="sound", overall="Private words for the student.", release=True)
    run_jobs()
    data = only(receiver, "grade.released").data
    assert data["submission"]["id"] == submission.id
    assert data["assignment"]["slug"] == assignment.slug
    assert data["track"]["slug"] == track_.slug
    assert data["student"] == {"id": student.id, "email": student.email}
    assert data["passed"] is True and data["release_number"] == 1
    assert data["points"] == 6 and data["max_points"] == 9
    assert "Private words" not in json.dumps(data) and instructor.email not in json.dumps(data)


def test_enrolment_created(admin, student, receiver):
    subscribe(admin, receiver, ["enrolment.created"])
    track_ = rows.make_track()
    courses.enroll(student, track_)
    run_jobs()
    data = only(receiver, "enrolment.created").data
    assert data["student"] == {"id": student.id, "email": student.email}
    assert data["track"] == {"slug": track_.slug, "title": track_.title}
    assert data["enrolled_at"] is not None


def test_quiz_attempt_submitted(admin, student, client, login, tmp_path, receiver):
    quiz = setup_quiz(tmp_path, student)
    subscribe(admin, receiver, ["quiz.attempt.submitted"])
    login(client, student)
    attempt_id = start(client)
    save(client, attempt_id, "goal", "c1", 1)
    quizzes.submit_attempt(student, attempt_id)
    run_jobs()
    data = only(receiver, "quiz.attempt.submitted").data
    assert data["attempt"]["id"] == attempt_id and data["attempt"]["number"] == 1
    assert data["attempt"]["submitted_by"] == "student" and data["attempt"]["passed"] is False
    assert data["quiz"] == {"slug": quiz.slug, "title": quiz.title}
    assert data["student"] == {"id": student.id, "email": student.email}
    assert "c1" not in json.dumps(data["attempt"])  # no answers


# --- who gets what ------------------------------------------------------------------------------------------------


def test_an_endpoint_gets_only_the_events_it_chose(admin, student, make_user, receiver):
    other = Receiver().start()
    try:
        subscribe(admin, receiver, ["enrolment.created"])
        subscribe(admin, other, ["certificate.issued", "grade.released"])
        courses.enroll(student, rows.make_track())
        run_jobs()
        assert len(receiver.of_type("enrolment.created")) == 1
        assert other.requests == []
        assert [d.endpoint.url for d in deliveries()] == [receiver.url]
    finally:
        other.stop()


def test_a_disabled_or_deleted_endpoint_gets_nothing_new(admin, student, receiver):
    endpoint = subscribe(admin, receiver, ["enrolment.created"])
    operations.set_enabled(admin.id, endpoint.id, False)
    courses.enroll(student, rows.make_track("one"))
    operations.set_enabled(admin.id, endpoint.id, True)
    operations.delete_endpoint(admin.id, endpoint.id)
    courses.enroll(student, rows.make_track("two"))
    run_jobs()
    assert deliveries() == [] and receiver.requests == []


def test_a_rolled_back_change_sends_nothing(admin, student, track, progress, receiver):
    subscribe(admin, receiver)
    progress.complete(student, track)
    events.emit(events.ProgressChanged(user_id=student.id, track_id=track.id))  # issues, in this transaction
    assert [d.event_type for d in deliveries()] == ["certificate.issued"]  # written with the change...
    db.session.rollback()  # ...and gone with it
    assert deliveries() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(jobs.Job)) == 0
    run_jobs()
    assert receiver.requests == []


def test_one_event_to_two_endpoints_is_two_deliveries_with_their_own_ids_and_signatures(
    admin, student, receiver
):
    other = Receiver().start()
    try:
        subscribe(admin, receiver, ["enrolment.created"])
        subscribe(admin, other, ["enrolment.created"])
        courses.enroll(student, rows.make_track())
        run_jobs()
        [first], [second] = receiver.accepted, other.accepted
        assert first.body == second.body and first.message_id != second.message_id
        with pytest.raises(Exception, match="No matching signature"):
            Webhook(other.secret).verify(first.body, first.headers)
    finally:
        other.stop()
