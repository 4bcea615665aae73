"""Webhook deliveries that go wrong: a receiver that is down or answers 5xx is retried by the job queue with
exponential backoff, every attempt logged, and the delivery fails after the last; an admin redelivers it (the same
bytes and webhook-id, a fresh signature) and the receiver verifies it. A tampered body, an old timestamp and a
webhook-id seen twice are all refused by the reference library's checks at the receiver."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from lms import clock, jobs
from lms.audit import AuditEvent
from lms.courses import operations as courses
from lms.extensions import db
from lms.webhooks import operations
from lms.webhooks.models import DELIVERED, FAILED, RETRYING, WebhookDelivery
from tests.fixtures.files import rows
from tests.webhook_receiver import Receiver

BASE = 60  # seconds before the first retry (JOBS_RETRY_BASE_SECONDS in these tests)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver().start()
    yield found
    found.stop()


def subscribe(admin, receiver: Receiver):
    endpoint = operations.create_endpoint(admin.id, receiver.url, "HR", ["enrolment.created"])
    receiver.secret = endpoint.secret
    return endpoint


def the_delivery() -> WebhookDelivery:
    db.session.expire_all()
    [delivery] = db.session.execute(sa.select(WebhookDelivery)).scalars()
    return delivery


def webhook_jobs() -> list[jobs.Job]:
    db.session.expire_all()
    return list(
        db.session.execute(
            sa.select(jobs.Job).where(jobs.Job.kind == operations.DELIVER_JOB).order_by(jobs.Job.id)
        ).scalars()
    )


def replay_headers(received) -> dict[str, str]:
    """The headers of a captured delivery, as a replaying client sends them (its own length and host)."""
    return {k: v for k, v in received.headers.items() if k not in ("content-length", "host")}


def real_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.mark.app_config(JOBS_MAX_ATTEMPTS=3, JOBS_RETRY_BASE_SECONDS=BASE)
def test_a_receiver_that_is_down_is_retried_with_backoff_then_failed_then_redelivered(
    admin, student, receiver, client, login
):
    endpoint = subscribe(admin, receiver)
    port = receiver.port
    receiver.stop()  # down: nothing listens on its port
    t0 = real_now()
    clock.freeze(t0)
    courses.enroll(student, rows.make_track())

    assert jobs.run_pending() >= 1
    delivery = the_delivery()
    assert delivery.state == RETRYING and delivery.attempts == 1 and delivery.last_status_code is None
    assert "ConnectError" in delivery.attempt_log[0].error
    [job] = webhook_jobs()
    assert job.state == jobs.QUEUED and job.run_at == t0 + timedelta(seconds=BASE)

    clock.freeze(t0 + timedelta(seconds=BASE - 1))
    jobs.run_pending()
    assert the_delivery().attempts == 1  # not before its backoff
    clock.freeze(t0 + timedelta(seconds=BASE))
    jobs.run_pending()
    assert the_delivery().attempts == 2
    [job] = webhook_jobs()
    assert job.run_at == t0 + timedelta(seconds=BASE + 2 * BASE)  # the wait doubles

    clock.freeze(t0 + timedelta(seconds=3 * BASE))
    jobs.run_pending()
    delivery = the_delivery()
    assert delivery.state == FAILED and delivery.attempts == 3  # JOBS_MAX_ATTEMPTS
    assert [job.state for job in webhook_jobs()] == [jobs.DEAD]
    assert [a.at for a in delivery.attempt_log] == [
        t0,
        t0 + timedelta(seconds=BASE),
        t0 + timedelta(seconds=3 * BASE),
    ]

    page = login(client, admin).get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert f'data-delivery="{delivery.id}"' in page and "failed" in page

    # The receiver is back; an admin redelivers from the log.
    back = Receiver(secret=receiver.secret, port=port).start()
    try:
        clock.freeze(None)
        response = client.post(f"/admin/webhooks/deliveries/{delivery.id}/redeliver")
        assert response.status_code == 302
        assert the_delivery().state == "pending"
        jobs.run_pending()
        [received] = back.accepted
        delivery = the_delivery()
        assert received.message_id == delivery.message_id  # the same id...
        assert received.body == delivery.payload.encode()  # ...and bytes
        assert int(received.timestamp) >= int(t0.timestamp())  # signed afresh, at the real time
        assert delivery.state == DELIVERED and delivery.attempts == 4 and delivery.last_status_code == 204
        assert db.session.execute(
            sa.select(AuditEvent.action).where(AuditEvent.subject_type == "webhook_delivery")
        ).scalars().all() == ["webhook.redelivered"]
    finally:
        back.stop()


@pytest.mark.app_config(JOBS_RETRY_BASE_SECONDS=BASE)
def test_a_5xx_answer_is_logged_and_retried_until_the_receiver_takes_it(admin, student, receiver):
    subscribe(admin, receiver)
    receiver.answer = 503
    t0 = real_now()
    clock.freeze(t0)
    courses.enroll(student, rows.make_track())
    jobs.run_pending()
    delivery = the_delivery()
    assert delivery.state == RETRYING and delivery.last_status_code == 503
    [attempt] = delivery.attempt_log
    assert attempt.status_code == 503 and attempt.response_excerpt == "broken on purpose"
    assert "answered 503" in attempt.error and not attempt.succeeded

    receiver.answer = None
    clock.freeze(t0 + timedelta(seconds=BASE))  # a minute ahead of the receiver: inside the tolerance
    jobs.run_pending()
    [received] = receiver.accepted
    delivery = the_delivery()
    assert delivery.state == DELIVERED and delivery.attempts == 2
    assert received.message_id == delivery.message_id
    assert [a.status_code for a in delivery.attempt_log] == [503, 204]


def test_a_tampered_body_or_timestamp_fails_verification(admin, student, receiver):
    subscribe(admin, receiver)
    courses.enroll(student, rows.make_track())
    jobs.run_pending()
    [genuine] = receiver.accepted
    tampered = genuine.body.replace(student.email.encode(), b"mallory@example.org")
    assert tampered != genuine.body
    answer = httpx.post(receiver.url, content=tampered, headers=replay_headers(genuine))
    assert answer.status_code == 400
    later = {**replay_headers(genuine), "webhook-timestamp": str(int(genuine.timestamp) + 1)}
    assert httpx.post(receiver.url, content=genuine.body, headers=later).status_code == 400
    assert receiver.refused == ["No matching signature found", "No matching signature found"]
    assert len(receiver.accepted) == 1


def test_a_replayed_delivery_is_refused(admin, student, receiver):
    subscribe(admin, receiver)
    courses.enroll(student, rows.make_track())
    jobs.run_pending()
    [genuine] = receiver.accepted
    # The same request again (captured on the way): its signature holds, its webhook-id was seen.
    again = httpx.post(receiver.url, content=genuine.body, headers=replay_headers(genuine))
    assert again.status_code == 409
    assert receiver.refused == [f"replayed {genuine.message_id}"]


def test_a_delivery_signed_too_long_ago_is_refused(admin, student, receiver):
    subscribe(admin, receiver)
    clock.freeze(real_now() - timedelta(minutes=10))  # held back ten minutes: beyond the 5-minute tolerance
    courses.enroll(student, rows.make_track())
    jobs.run_pending()
    assert receiver.accepted == [] and receiver.refused == ["Message timestamp too old"]
    delivery = the_delivery()
    assert delivery.state == RETRYING and delivery.last_status_code == 400


def test_during_a_rotation_both_secrets_verify(admin, student, receiver):
    endpoint = subscribe(admin, receiver)
    old = endpoint.secret
    rotated = operations.rotate_secret(admin.id, endpoint.id)
    assert rotated.secret != old and rotated.secret.startswith("whsec_")
    courses.enroll(student, rows.make_track())
    jobs.run_pending()
    [received] = receiver.accepted  # the receiver still holds the old secret
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    Webhook(rotated.secret).verify(received.body, received.headers)  # and the new one verifies too

    clock.freeze(real_now() + timedelta(hours=24, minutes=1))  # the overlap is over: the new secret alone
    assert (
        operations.signed_headers(rotated, "msg_x", clock.now_utc(), "{}")["webhook-signature"].count("v1,")
        == 1
    )


def test_redelivering_to_a_disabled_endpoint_is_refused_with_a_message(
    admin, student, receiver, client, login
):
    endpoint = subscribe(admin, receiver)
    courses.enroll(student, rows.make_track())
    jobs.run_pending()
    operations.set_enabled(admin.id, endpoint.id, False)
    delivery = the_delivery()
    login(client, admin)
    response = client.post(f"/admin/webhooks/deliveries/{delivery.id}/redeliver", follow_redirects=True)
    assert "Its endpoint is disabled" in response.get_data(as_text=True)
    assert the_delivery().round == 1 and len(webhook_jobs()) == 1


def test_a_job_that_runs_twice_sends_once(admin, student, receiver):
    subscribe(admin, receiver)
    courses.enroll(student, rows.make_track())
    [job] = webhook_jobs()
    operations.deliver(dict(job.payload))  # a worker that died after sending, before marking the job done
    db.session.commit()
    jobs.run_pending()
    assert len(receiver.requests) == 1 and the_delivery().attempts == 1


def test_a_redirect_is_never_followed(admin, student, receiver):
    elsewhere = Receiver().start()
    try:
        subscribe(admin, receiver)
        elsewhere.secret = receiver.secret
        receiver.answer, receiver.location = 307, elsewhere.url
        courses.enroll(student, rows.make_track())
        jobs.run_pending()
    finally:
        elsewhere.stop()
    assert len(receiver.requests) == 1 and elsewhere.requests == []
    delivery = the_delivery()
    assert delivery.state == RETRYING and delivery.last_status_code == 307
