"""A worker process for tests/test_jobs_workers.py: the real worker loop (lms.jobs.run_worker) on the test's
PostgreSQL schema, with two job kinds of the tests' own. Run as `python -m tests.job_worker` from the project root.

- "test.email_then_block": sends a notice's email through the real email job, then, while the file named by
  LMS_TEST_BLOCK_FILE exists, says so (LMS_TEST_STARTED_FILE) and hangs, to be killed mid-job;
- the periodic "test.tick" (every second): appends its slot and this process's id to LMS_TEST_TICKS_FILE."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from lms import create_app, jobs
from lms.notifications.sending import send_notification_email


def email_then_block(payload: dict[str, Any]) -> None:
    send_notification_email(payload)
    block = Path(os.environ["LMS_TEST_BLOCK_FILE"])
    if block.exists():
        Path(os.environ["LMS_TEST_STARTED_FILE"]).write_text(str(os.getpid()))
        while block.exists():
            time.sleep(0.05)


def tick(payload: dict[str, Any]) -> None:
    line = f"{payload['slot']} {os.getpid()}\n"
    fd = os.open(os.environ["LMS_TEST_TICKS_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def main() -> None:
    app = create_app(
        {
            "SECRET_KEY": "test-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": os.environ["LMS_TEST_WORKER_DATABASE"],
            "MAIL_SMTP_HOST": "127.0.0.1",
            "MAIL_SMTP_PORT": int(os.environ["LMS_TEST_SMTP_PORT"]),
            "MAIL_SMTP_STARTTLS": False,
            "JOBS_RUNNER": "worker",
            "JOBS_LEASE_SECONDS": 2,
        }
    )
    jobs.register_handler("test.email_then_block", email_then_block)
    if os.environ.get("LMS_TEST_TICKS_FILE"):
        jobs._PERIODIC.clear()  # only the test's periodic job: the app's own would only slow the test down
        jobs.register_periodic("test.tick", timedelta(seconds=1), lambda: None)
        jobs.register_handler("periodic.test.tick", tick)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with app.app_context():
        jobs.run_worker(poll_seconds=0.1, stop=stop, name=f"worker-{os.getpid()}")


if __name__ == "__main__":
    main()
