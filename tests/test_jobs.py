"""The job queue (lms.jobs): enqueued in the caller's transaction, retried with backoff, dead-lettered for admins,
leases that let another worker take an abandoned job, and periodic slots that run once however many workers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from lms import clock, jobs
from lms.extensions import db
from lms.jobs import DEAD, DONE, QUEUED, RUNNING, Job
from lms.notifications.models import Notification

T0 = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)
CALLS: list[dict[str, Any]] = []


def _record(payload: dict[str, Any]) -> None:
    CALLS.append(payload)


def _fail(payload: dict[str, Any]) -> None:
    raise ConnectionRefusedError("SMTP server down")


jobs.register_handler("test.record", _record)
jobs.register_handler("test.fail", _fail)


@pytest.fixture(autouse=True)
def _clean_calls() -> None:
    CALLS.clear()
    clock.freeze(T0)


def _jobs() -> list[Job]:
    return list(db.session.execute(sa.select(Job).order_by(Job.id)).scalars())


def test_a_job_enqueued_in_a_transaction_that_rolls_back_never_exists(app):
    jobs.enqueue("test.record", {"n": 1})
    db.session.rollback()
    assert _jobs() == []
    assert jobs.run_pending() == 0

    jobs.enqueue("test.record", {"n": 2})
    db.session.commit()
    assert jobs.run_pending() == 1
    assert CALLS == [{"n": 2}]
    assert [job.state for job in _jobs()] == [DONE]


def test_an_unknown_kind_is_refused_at_enqueue(app):
    with pytest.raises(ValueError, match="no job handler"):
        jobs.enqueue("test.nobody-handles-this")


@pytest.mark.app_config(JOBS_MAX_ATTEMPTS=3, JOBS_RETRY_BASE_SECONDS=30)
def test_a_failing_job_is_retried_with_backoff_then_dead_and_the_admins_hear(app, admin):
    jobs.enqueue("test.fail", {"to": "x@example.org"})
    db.session.commit()

    assert jobs.run_pending() == 1
    job = _jobs()[0]
    assert (job.state, job.attempts, job.run_at) == (QUEUED, 1, T0 + timedelta(seconds=30))
    assert "SMTP server down" in job.last_error
    assert jobs.run_pending() == 0, "not due again before its backoff"

    clock.freeze(T0 + timedelta(seconds=30))
    assert jobs.run_pending() == 1
    job = _jobs()[0]
    assert (job.state, job.attempts, job.run_at) == (QUEUED, 2, T0 + timedelta(seconds=90)), "twice the wait"

    clock.freeze(T0 + timedelta(seconds=90))
    jobs.run_pending()
    job = db.session.execute(sa.select(Job).where(Job.kind == "test.fail")).scalar_one()
    assert (job.state, job.attempts) == (DEAD, 3)
    notice = db.session.execute(sa.select(Notification).where(Notification.user_id == admin.id)).scalar_one()
    assert notice.kind == "jobs_dead" and "test.fail" in notice.subject

    # Its email dies too (the mail server is still down): listed on the page, and no notice about that notice.
    email = db.session.execute(sa.select(Job).where(Job.kind == "notifications.email")).scalar_one()
    jobs._failed(email.id, 3, ConnectionRefusedError("SMTP server down"))
    assert db.session.get(Job, email.id).state == DEAD
    assert db.session.execute(sa.select(sa.func.count()).select_from(Notification)).scalar_one() == 1


def test_admins_see_dead_jobs_and_retry_or_discard_them(app, client, login, admin, student):
    for n in (1, 2):
        job = jobs.enqueue("test.record", {"n": n})
        job.state, job.attempts, job.last_error = DEAD, 6, "SMTPServerDisconnected: gone"
    db.session.commit()
    dead_one, dead_two = (job.id for job in _jobs())

    login(client, student)
    assert client.get("/admin/jobs").status_code == 403
    login(client, admin)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert f'data-job="{dead_one}"' in page and "SMTPServerDisconnected: gone" in page

    assert client.post(f"/admin/jobs/{dead_one}/retry").status_code == 302
    assert client.post(f"/admin/jobs/{dead_two}/discard").status_code == 302
    assert client.post(f"/admin/jobs/{dead_two}/retry").status_code == 404, "gone: nothing to retry"
    db.session.expire_all()
    assert [(job.id, job.state, job.attempts) for job in _jobs()] == [(dead_one, QUEUED, 0)]
    assert jobs.run_pending() == 1 and CALLS == [{"n": 1}]


@pytest.mark.app_config(JOBS_LEASE_SECONDS=60)
def test_a_job_whose_worker_died_is_taken_again_when_its_lease_runs_out(app):
    jobs.enqueue("test.record", {"n": 1})
    db.session.commit()
    taken = jobs.claim_next("worker-that-dies")
    assert taken is not None and taken.state == RUNNING  # ... and the worker is killed here

    assert jobs.run_pending(name="second") == 0, "leased to the first worker"
    clock.freeze(T0 + timedelta(seconds=61))
    assert jobs.run_pending(name="second") == 1
    job = _jobs()[0]
    assert (job.state, job.attempts, job.locked_by) == (DONE, 2, "second")
    assert CALLS == [{"n": 1}]


def test_a_periodic_slot_is_run_once_however_many_workers_schedule_it(app):
    ticks: list[int] = []
    jobs.register_periodic("test.tick", timedelta(minutes=1), lambda: ticks.append(1))
    try:
        assert jobs.schedule_periodic() >= 1  # the first worker's tick
        assert jobs.schedule_periodic() == 0  # the second worker's tick, same minute
        jobs.run_pending()
        assert ticks == [1]
        keys = db.session.execute(sa.select(Job.unique_key).where(Job.kind == "periodic.test.tick")).scalars()
        assert list(keys) == [f"periodic:test.tick:{int(T0.timestamp()) // 60}"]

        clock.freeze(T0 + timedelta(minutes=1))
        assert jobs.schedule_periodic() >= 1
        jobs.run_pending()
        assert ticks == [1, 1]
    finally:
        jobs._PERIODIC.pop("test.tick")


def test_the_worker_command_runs_what_is_due(app):
    jobs.enqueue("test.record", {"n": 7})
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["lms", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert CALLS == [{"n": 7}]


def test_quiz_clean_up_is_a_periodic_job_of_the_worker(app):
    assert "quizzes.finalize_overdue" in {p.name for p in jobs.periodic_jobs()}
    every = {p.name: p.every for p in jobs.periodic_jobs()}
    assert every["quizzes.finalize_overdue"] == timedelta(minutes=1)
    assert every["notifications.certificate_expiry"] == timedelta(days=1)


def test_finished_jobs_are_forgotten_after_a_week_and_dead_ones_kept(app):
    for n in (1, 2):
        jobs.enqueue("test.record", {"n": n})
    db.session.commit()
    jobs.run_pending()
    dead = jobs.enqueue("test.record", {"n": 3})
    dead.state = DEAD
    db.session.commit()
    assert jobs.prune_done_jobs(T0 + timedelta(days=6)) == 0
    assert jobs.prune_done_jobs(T0 + timedelta(days=8)) == 2
    db.session.commit()
    assert [job.state for job in _jobs()] == [DEAD]


@pytest.mark.app_config(JOBS_RUNNER="thread", JOBS_POLL_SECONDS=60)
def test_in_thread_mode_a_commit_wakes_the_apps_job_thread_but_a_command_line_process_leaves_it_to_the_server(
    app,
):
    import threading

    import click

    runner = app.extensions["lms_job_runner"]
    clock.freeze(None)  # the thread reads the real clock

    @click.command("enqueue-one")
    def enqueue_one() -> None:
        jobs.enqueue("test.record", {"from": "cli"})
        db.session.commit()

    assert app.test_cli_runner().invoke(enqueue_one).exit_code == 0
    assert runner._thread is None, "a command's process would die mid-job: it starts no thread"
    assert CALLS == []

    done = threading.Event()
    jobs.register_handler("test.signal", lambda payload: done.set())
    jobs.enqueue("test.signal", {})
    db.session.commit()  # as a request of the dev server does
    try:
        assert done.wait(20), "the job thread ran the job woken by the commit"
        assert {"from": "cli"} in CALLS, "and what the command enqueued with it"
    finally:
        runner.stop()
