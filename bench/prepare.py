"""Benchmark data, made with the app's own operations: students enrolled, certificates issued, a quiz attempt
started, handbooks submitted. Run by bench/throughput.py (with its LMS_* environment) after the bootstrap; prints
one JSON line saying what it made.

    LMS_INSTANCE_PATH=... LMS_DATABASE_URL=... .venv/bin/python bench/prepare.py --students 40
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

TRACK = "social-media-strategist"
STUDENT_PASSWORD = "quiet-river-lantern-42"  # noqa: S105  (throwaway accounts in a throwaway database)
HANDBOOK = b"# Strategy handbook\n\nGoal and purpose: grow repeat custom by a third within a year.\n" * 40


def prepare(students: int, quiz_takers: int) -> dict[str, object]:
    from lms import create_app
    from lms.accounts import operations as accounts
    from lms.accounts.models import Role
    from lms.assignments import operations as assignments
    from lms.certificates import operations as certificates
    from lms.clock import now_utc
    from lms.courses import operations as courses
    from lms.courses.models import Lesson, Module
    from lms.extensions import db
    from lms.quizzes import operations as quizzes
    from lms.quizzes.models import Quiz

    app = create_app()
    with app.app_context():
        instructor = accounts.find_user_by_email("instructor@example.org")
        assert instructor is not None, (
            "run `flask --app wsgi lms bootstrap` first (it creates the demo accounts)"
        )
        track = courses.find_track(TRACK)
        assignment = assignments.find_assignment(TRACK, "handbook")
        people = []
        for n in range(students):
            user = accounts.register_user(
                f"bench{n}@example.org", f"Bench Student {n}", STUDENT_PASSWORD, Role.STUDENT
            )
            courses.enroll(user, track)
            now = now_utc()
            assignments.upload_draft(user, assignment, io.BytesIO(HANDBOOK), "handbook.md", now)
            assignments.submit_draft(user, assignment, True, now)
            certificate = certificates.issue_certificate(user, track, instructor, "Benchmark data")
            people.append((user, certificate))
        student, certificate = people[0]

        first_module = db.session.scalars(
            sa.select(Module).where(Module.track_id == track.id).order_by(Module.position, Module.id)
        ).first()
        lesson = db.session.scalars(
            sa.select(Lesson).where(Lesson.module_id == first_module.id).order_by(Lesson.position, Lesson.id)
        ).first()

        quiz = db.session.scalars(
            sa.select(Quiz).where(Quiz.module_id == first_module.id, Quiz.retired_at.is_(None))
        ).first()
        attempts = []
        for user, _ in people[:quiz_takers]:
            attempt = quizzes.start_attempt(user, quiz)
            # The benchmark runs for minutes; give the attempt room so its autosaves are never refused as late.
            quizzes.add_extra_time(instructor, attempt.id, 240)
            questions = attempt.version.question_map()
            single = next(
                (item for item in attempt.layout if questions[item["question"]]["type"] == "single"), None
            )
            assert single is not None, "the quiz has no single-choice question to autosave"
            attempts.append(
                {"email": user.email, "attempt_id": attempt.id, "question": single["question"],
                 "value": single["choices"][0]}
            )  # fmt: skip
        return {
            "student": student.email,
            "student_password": STUDENT_PASSWORD,
            "instructor": "instructor@example.org",
            "instructor_password": next(
                p for r, e, n, p in _demo_accounts() if e == "instructor@example.org"
            ),
            "certificate": certificate.display_code,
            "lesson_path": f"/tracks/{track.slug}/lessons/{lesson.slug}",
            "lesson_title": lesson.title,
            "attempts": attempts,
            "submissions": students,
            "certificates": students,
        }


def _demo_accounts() -> list[tuple[object, str, str, str]]:
    from lms.accounts.cli import DEMO_ACCOUNTS

    return DEMO_ACCOUNTS  # type: ignore[return-value]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--students", type=int, default=40, help="students, each with a submission and a certificate"
    )
    parser.add_argument(
        "--quiz-takers", type=int, default=16, help="students with a quiz attempt in progress"
    )
    args = parser.parse_args()
    print(json.dumps(prepare(args.students, min(args.quiz_takers, args.students))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
