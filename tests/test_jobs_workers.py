"""Real worker processes on PostgreSQL (tests/job_worker.py): a worker killed with SIGKILL in the middle of a job
has the job run again by another worker once its lease runs out, and the email is sent exactly once; two workers
running side by side run each periodic slot once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lms import PROJECT_ROOT, jobs
from lms.extensions import db
from lms.jobs import DONE, Job
from lms.notifications import operations

# The worker processes handle this kind (tests/job_worker.py); here it only needs a name to be enqueued under.
jobs.register_handler("test.email_then_block", lambda payload: None)


@pytest.fixture(params=["postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Worker processes, leases and SKIP LOCKED are PostgreSQL's: these tests run there only (no SQLite variant)."""
    return request.param


@pytest.fixture
def workers(
    app: Any, backend: str, smtp_server: Any, tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen]]:
    started: list[subprocess.Popen] = []

    def start(**extra_env: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            "LMS_TEST_WORKER_DATABASE": app.config["SQLALCHEMY_DATABASE_URI"],
            "LMS_TEST_SMTP_PORT": str(smtp_server.port),
            "LMS_TEST_BLOCK_FILE": str(tmp_path / "block"),
            "LMS_TEST_STARTED_FILE": str(tmp_path / "started"),
            **extra_env,
        }
        process = subprocess.Popen([sys.executable, "-m", "tests.job_worker"], cwd=PROJECT_ROOT, env=env)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    """Wait for another process to get somewhere (a worker is a separate process: there is no clock to freeze)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        time.sleep(0.05)


def _job(job_id: int) -> Job:
    db.session.rollback()  # a fresh snapshot: the workers commit in their own connections
    return db.session.execute(sa.select(Job).where(Job.id == job_id)).scalar_one()


def test_a_worker_killed_mid_job_has_it_run_again_by_another_and_the_email_leaves_once(
    app, student, workers, smtp_server, tmp_path
):
    operations.set_preference(
        student.id, "regrade_answered", "in_app"
    )  # the test's job sends the email itself
    notice = operations.notify(
        student.id, "regrade_answered", "Your regrade request is answered", "Declined."
    )
    job = jobs.enqueue("test.email_then_block", {"notification_id": notice.id})
    db.session.commit()
    (tmp_path / "block").touch()

    first = workers()
    wait_until((tmp_path / "started").exists, 30, "the first worker to send the email and hang")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert len(smtp_server.inbox.to(student.email)) == 1
    assert _job(job.id).state == "running", "left leased by the dead worker"

    (tmp_path / "block").unlink()
    second = workers()
    wait_until(lambda: _job(job.id).state == DONE, 30, "the second worker to take the job again")
    done = _job(job.id)
    assert done.attempts == 2 and done.locked_by == f"worker-{second.pid}"
    assert len(smtp_server.inbox.to(student.email)) == 1, "the ledger kept the second run from sending again"


def test_two_workers_run_each_periodic_slot_once(app, workers, tmp_path):
    ticks = tmp_path / "ticks"
    one, two = workers(LMS_TEST_TICKS_FILE=str(ticks)), workers(LMS_TEST_TICKS_FILE=str(ticks))

    def slots() -> list[str]:
        return [line.split()[0] for line in ticks.read_text().splitlines()] if ticks.exists() else []

    wait_until(lambda: len(set(slots())) >= 4, 40, "four periodic slots")
    for process in (one, two):
        process.send_signal(signal.SIGTERM)
    for process in (one, two):
        assert process.wait(timeout=15) == 0, "a worker stops cleanly on SIGTERM"
    counts = Counter(slots())
    assert counts and max(counts.values()) == 1, f"a slot ran twice: {counts}"
