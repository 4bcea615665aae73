"""A large certification body in a PostgreSQL database, in minutes: bulk COPY, never the ORM row by row.

At --scale 1 (the default): 20 000 students in 40 cohorts (20 per track); every student on the Manager track and a
quarter of them on the Strategist track too (a 5 000-student gradebook and a 20 000-student one); about 200 000
quiz attempts (100 000 of them at one quiz, `manager-daily-operations`, five sittings per student, the two beyond
its limit of three granted as overrides) with about 2 000 000 answer saves; 20 000 handbook submissions with their
grades, criterion scores and grading history; 15 000 certificates with their versions, history and verification
counts; lesson progress. `--scale 0.01` makes a hundredth of it (tests use `seed()` directly).

The rows keep the app's rules, so every page renders: an attempt's results are scored by lms.quizzes.scoring from
its saves (the newest per question), a certificate earned by completion belongs to a student who completed every
lesson, passed every quiz and had the handbook released as passed (the others are awarded by staff, "manual",
with a reason), one held certificate per student and track, one pending version per student, grades complete
before release. The submitted files themselves are not written (only their rows): reconcile would report them.

    .venv/bin/python bench/seed_scale.py postgresql+psycopg://postgres@127.0.0.1:5432/lms_scale
    .venv/bin/python bench/seed_scale.py URL --scale 0.01 --no-bootstrap

The database must exist; unless --no-bootstrap, `lms bootstrap` runs first (migrations, both tracks' content, the
demo accounts). It may already hold data: every row made here takes ids after the highest there.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "quiet-river-lantern-42"  # noqa: S105  (throwaway accounts in a throwaway database)
HOT_QUIZ = "manager-daily-operations"  # the quiz with half the attempts (item analysis at scale)
HOT_SITTINGS = 5
FIRST_NAMES = (
    "Ada",
    "Bo",
    "Chidi",
    "Dana",
    "Emre",
    "Fatima",
    "Goran",
    "Hana",
    "Ines",
    "Jonas",
    "Kemal",
    "Lena",
    "Mateo",
    "Nora",
    "Oskar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sami",
    "Tariq",
    "Uma",
    "Vera",
    "Wen",
    "Yara",
)
LAST_NAMES = ("Abe", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ivanova", "Jensen",
              "Kowalski", "Lopez", "Moreau", "Nowak", "Okafor", "Petrov", "Rossi", "Schmidt", "Tanaka", "Weber")  # fmt: skip


@dataclass(frozen=True)
class Sizes:
    students: int
    cohorts_per_track: int
    strategist_students: int
    manager_completers: int
    strategist_completers: int
    certificates: int
    submissions: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        students = max(8, round(20_000 * scale))
        strategist = max(4, students // 4)
        return cls(
            students=students,
            cohorts_per_track=20,
            strategist_students=strategist,
            manager_completers=round(students * 0.25),
            strategist_completers=round(strategist * 0.3),
            certificates=round(students * 0.75),
            submissions=students,
        )


# -- COPY ------------------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value, separators=(",", ":"))
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


class Loader:
    """Rows into tables with COPY, in big chunks; counts what it wrote."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.counts: dict[str, int] = {}

    def copy(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> int:
        count = 0
        with self.conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for row in rows:
                buffer.write("\t".join(map(_text, row)))
                buffer.write("\n")
                count += 1
                if count % 20_000 == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        self.counts[table] = self.counts.get(table, 0) + count
        return count

    def next_id(self, table: str) -> int:
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")  # noqa: S608 (our own table names)
            return int(cur.fetchone()[0])

    def reset_sequences(self) -> None:
        with self.conn.cursor() as cur:
            for table in self.counts:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"  # noqa: S608
                )


class Ids:
    """Ids handed out here, each table counting on from its highest row."""

    def __init__(self, loader: Loader, tables: Iterable[str]) -> None:
        self.next = {table: loader.next_id(table) for table in tables}

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


# -- the content, as the bootstrap loaded it -------------------------------------------------------------------


@dataclass
class QuizInfo:
    id: int
    slug: str
    module_id: int | None
    version_id: int
    questions: list[dict[str, Any]]
    draw: int
    time_limit_seconds: int
    pass_percent: float
    on_expiry: str
    grace_seconds: int


@dataclass
class TrackInfo:
    id: int
    slug: str
    snapshot: dict[str, Any]
    validity_months: int
    lessons: list[int]  # live lessons, in reading order
    module_lessons: dict[int, list[int]]
    quizzes: list[QuizInfo]  # live module quizzes in module order, then the final
    assignment: dict[str, Any] = field(default_factory=dict)


def read_content(app: Any) -> tuple[dict[str, TrackInfo], int]:
    """Both tracks as the bootstrap loaded them (through the app's models), and the instructor's id."""
    import sqlalchemy as sa

    from lms.accounts.models import User
    from lms.assignments.models import Assignment
    from lms.assignments.rubric import snapshot_rubric
    from lms.certificates import eligibility
    from lms.courses.models import Lesson, Module, Track
    from lms.extensions import db
    from lms.gradebook import queries
    from lms.quizzes.models import QuizVersion

    found: dict[str, TrackInfo] = {}
    with app.app_context():
        instructor = db.session.execute(
            sa.select(User.id).where(User.email == "instructor@example.org")
        ).scalar_one()
        for track in db.session.execute(sa.select(Track).order_by(Track.id)).scalars():
            lessons = db.session.execute(
                sa.select(Lesson.id, Lesson.module_id)
                .join(Module, Module.id == Lesson.module_id)
                .where(Lesson.track_id == track.id, Lesson.retired_at.is_(None), Module.retired_at.is_(None))
                .order_by(Module.position, Lesson.position, Lesson.id)
            ).all()
            module_lessons: dict[int, list[int]] = {}
            for lesson_id, module_id in lessons:
                module_lessons.setdefault(module_id, []).append(lesson_id)
            quizzes = []
            for quiz in queries.track_quizzes(track.id):
                version = db.session.execute(
                    sa.select(QuizVersion).where(
                        QuizVersion.quiz_id == quiz.id, QuizVersion.number == quiz.current_version
                    )
                ).scalar_one()
                quizzes.append(
                    QuizInfo(
                        quiz.id, quiz.slug, quiz.module_id, version.id, version.questions, quiz.draw,
                        quiz.time_limit_seconds, quiz.pass_percent, quiz.on_expiry, quiz.grace_seconds,
                    )
                )  # fmt: skip
            assignment = queries.track_assignment(track)
            info = TrackInfo(
                id=track.id,
                slug=track.slug,
                snapshot={
                    "track_title": track.title,
                    "certifies": track.certifies,
                    "modules": [m.title for m in track.modules if m.retired_at is None],
                    "assessed_work": eligibility.assessed_work_title(track),
                    "rule": eligibility.settled_rule(track),
                },
                validity_months=track.validity_months,
                lessons=[lesson_id for lesson_id, _ in lessons],
                module_lessons=module_lessons,
                quizzes=quizzes,
            )
            if assignment is not None:
                assignment = db.session.get(Assignment, assignment.id)
                criteria = [
                    (c.id, [(level.name, level.points) for level in c.levels])
                    for c in assignment.active_criteria
                ]
                info.assignment = {
                    "id": assignment.id,
                    "due_days": assignment.due_days,
                    "pass_percent": assignment.pass_percent,
                    "no_missing_criterion": assignment.no_missing_criterion,
                    "version": assignment.version,
                    "criteria": criteria,
                    "rubric": snapshot_rubric(assignment),
                }
            found[track.slug] = info
    return found, instructor


# -- answers ---------------------------------------------------------------------------------------------------


def _answer(question: dict[str, Any], right: bool, rng: random.Random) -> Any:
    kind = question["type"]
    if kind in ("single", "multiple"):
        ids = [c["id"] for c in question["choices"]]
        correct = [c["id"] for c in question["choices"] if c["correct"]]
        if kind == "single":
            return correct[0] if right else rng.choice(ids)
        return correct if right else sorted(rng.sample(ids, rng.randint(1, len(ids))))
    if kind == "true_false":
        return bool(question["answer"]) if right else not question["answer"]
    if "number" in question:
        return str(question["number"]) if right else "0"
    return question["accept"][0] if right else "not sure"


@dataclass
class Clock:
    now: datetime

    def before(self, rng: random.Random, days: float, after: datetime | None = None) -> datetime:
        """A moment within the last `days` days (and after `after`)."""
        start = max(after or self.now - timedelta(days=days), self.now - timedelta(days=days))
        span = max(1.0, (self.now - start).total_seconds() - 3600)
        return start + timedelta(seconds=rng.uniform(0, span))


def seed(url: str, scale: float = 1.0, *, bootstrap: bool = True, rng_seed: int = 21,
         log: Callable[[str], None] = print, app: Any = None) -> dict[str, Any]:  # fmt: skip
    """Fill the database at `url` (a SQLAlchemy URL); returns what was made and how long it took. `app`: an app
    already on that database (tests), else one is made here."""
    started = time.monotonic()
    sizes = Sizes.at(scale)
    if bootstrap:
        _bootstrap(url, log)
    app = app or _app(url)
    tracks, instructor = read_content(app)
    manager, strategist = tracks["social-media-manager"], tracks["social-media-strategist"]
    from werkzeug.security import generate_password_hash

    from lms.certificates.codes import new_code
    from lms.extensions import db
    from lms.quizzes.scoring import score_attempt

    rng = random.Random(rng_seed)
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    password_hash = generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            conn = raw.driver_connection
            loader = Loader(conn)
            ids = Ids(loader, (
                "users", "cohorts", "enrollments", "lesson_completions", "quiz_overrides", "quiz_attempts",
                "quiz_answer_saves", "assignment_submissions", "assignment_grades", "assignment_criterion_scores",
                "assignment_grade_changes", "certificates", "certificate_versions", "certificate_events",
            ))  # fmt: skip
            tag = uuid.uuid4().hex[:6]  # a second seeding of the same database gets other addresses

            # Students ---------------------------------------------------------------------------------------
            users = []
            for n in range(sizes.students):
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {n}"
                created = clock.before(rng, 3 * 365)
                users.append((ids.take("users"), f"scale{n}.{tag}@example.org", name, created))
            loader.copy(
                "users",
                ("id", "email", "full_name", "password_hash", "role", "active", "session_version", "created_at",
                 "updated_at", "accommodation_factor", "email_verified_at"),
                ((uid, email, name, password_hash, "student", True, 1, at, at, 1.5 if uid % 50 == 0 else 1.0, at)
                 for uid, email, name, at in users),
            )  # fmt: skip
            log(f"  users: {len(users)}")

            # Cohorts and enrolments ---------------------------------------------------------------------------
            cohorts: dict[int, list[tuple[int, datetime]]] = {}
            cohort_rows = []
            for track in (manager, strategist):
                for k in range(sizes.cohorts_per_track):
                    starts = clock.now - timedelta(
                        days=1000 * (sizes.cohorts_per_track - k) / sizes.cohorts_per_track
                    )
                    cid = ids.take("cohorts")
                    cohort_rows.append((cid, track.id, f"{track.slug.split('-')[-1].title()} {tag} {k + 1:02d}",
                                        starts, starts - timedelta(days=30)))  # fmt: skip
                    cohorts.setdefault(track.id, []).append((cid, starts))
            loader.copy("cohorts", ("id", "track_id", "name", "starts_at", "created_at"), cohort_rows)

            plans: list[Plan] = []
            for index, (uid, _, name, created) in enumerate(users):
                for track, members in ((manager, sizes.students), (strategist, sizes.strategist_students)):
                    if index >= members:
                        continue
                    cid, starts = cohorts[track.id][index % sizes.cohorts_per_track]
                    enrolled = max(created, starts - timedelta(days=rng.uniform(0, 14)))
                    completer = index < (
                        sizes.manager_completers if track is manager else sizes.strategist_completers
                    )
                    plans.append(Plan(uid, name, track, cid, enrolled, completer, index))
            enrolments = [
                (ids.take("enrollments"), p.user_id, p.track.id, p.enrolled,
                 clock.before(rng, 200, p.enrolled) if p.index % 40 == 39 and not p.completer else None,
                 p.cohort_id, clock.before(rng, 60, p.enrolled)) for p in plans
            ]  # fmt: skip
            # Lesson progress: each enrolment keeps its count of live lessons done (Enrollment.lessons_done).
            for plan in plans:
                lessons = plan.track.lessons
                plan.lessons_done = len(lessons) if plan.completer else rng.randint(0, len(lessons) - 1)
            loader.copy(
                "enrollments",
                ("id", "user_id", "track_id", "enrolled_at", "left_at", "cohort_id", "last_seen_at",
                 "lessons_done"),
                ((*row, p.lessons_done) for row, p in zip(enrolments, plans, strict=True)),
            )  # fmt: skip
            log(f"  enrolments: {len(plans)} in {len(cohort_rows)} cohorts")
            loader.copy(
                "lesson_completions",
                ("id", "user_id", "lesson_id", "completed_at"),
                ((ids.take("lesson_completions"), p.user_id, lesson_id, clock.before(rng, 900, p.enrolled))
                 for p in plans for lesson_id in p.track.lessons[: p.lessons_done]),
            )  # fmt: skip
            log(f"  lesson completions: {loader.counts['lesson_completions']}")

            # Quiz attempts and every answer save ----------------------------------------------------------------
            hot = next(q for q in manager.quizzes if q.slug == HOT_QUIZ)
            overrides = []
            sittings: list[tuple[Plan, QuizInfo, int, bool]] = []  # (plan, quiz, sittings, pass the last)
            for plan in plans:
                done = set(plan.track.lessons[: plan.lessons_done])
                for quiz in plan.track.quizzes:
                    if quiz is hot:
                        sittings.append((plan, quiz, HOT_SITTINGS, True))
                        continue
                    if plan.completer:
                        sittings.append((plan, quiz, 1, True))
                    elif (
                        quiz.module_id is not None
                        and set(plan.track.module_lessons.get(quiz.module_id, [1])) <= done
                        and rng.random() < 0.5
                    ):
                        sittings.append((plan, quiz, rng.randint(1, 2), rng.random() < 0.8))
            for plan, quiz, count, _ in sittings:
                if count > 3:
                    for _ in range(count - 3):
                        overrides.append((ids.take("quiz_overrides"), quiz.id, plan.user_id, "extra_attempt",
                                          None, "Re-sit campaign", instructor, plan.enrolled))  # fmt: skip
            loader.copy(
                "quiz_overrides",
                ("id", "quiz_id", "user_id", "kind", "until", "note", "granted_by_id", "granted_at"),
                overrides,
            )
            saves: list[tuple[Any, ...]] = []
            attempt_columns = (
                "id", "quiz_id", "quiz_version_id", "user_id", "number", "state", "started_at", "time_limit_seconds",
                "accommodation_factor", "extra_seconds", "cut_by_close", "deadline", "on_expiry", "grace_seconds",
                "layout", "submitted_at", "submitted_by", "score", "max_score", "percent", "passed", "results",
                "flagged",
            )  # fmt: skip

            def attempts() -> Iterator[tuple[Any, ...]]:
                for plan, quiz, count, pass_last in sittings:
                    at = plan.enrolled
                    for number in range(1, count + 1):
                        yield _attempt(ids, rng, clock, plan, quiz, number, pass_last and number == count, at, saves,
                                       score_attempt)  # fmt: skip
                        at = min(at + timedelta(days=rng.uniform(0.5, 20)), clock.now - timedelta(days=1))

            loader.copy("quiz_attempts", attempt_columns, attempts())
            log(
                f"  quiz attempts: {loader.counts['quiz_attempts']} ({HOT_QUIZ}: {HOT_SITTINGS * sizes.students})"
            )
            loader.copy(
                "quiz_answer_saves",
                ("id", "attempt_id", "question_id", "seq", "value", "client_at", "server_at", "source"),
                saves,
            )
            log(f"  answer saves: {loader.counts['quiz_answer_saves']}")
            saves.clear()

            # Handbook submissions, grades, their history ---------------------------------------------------
            _submissions(loader, ids, rng, clock, plans, sizes, instructor)
            log(f"  submissions: {loader.counts['assignment_submissions']}, grades: "
                f"{loader.counts['assignment_grades']}, grade changes: {loader.counts['assignment_grade_changes']}")  # fmt: skip

            # Certificates -----------------------------------------------------------------------------------
            _certificates(loader, ids, rng, clock, plans, sizes, instructor, new_code)
            log(f"  certificates: {loader.counts['certificates']}, versions: "
                f"{loader.counts['certificate_versions']}, events: {loader.counts['certificate_events']}")  # fmt: skip

            loader.reset_sequences()
            conn.commit()
            # VACUUM runs outside a transaction; the pool gets the connection back as it was
            conn.autocommit = True
            try:
                with conn.cursor() as cur:
                    cur.execute("VACUUM ANALYZE")
            finally:
                conn.autocommit = False
        finally:
            raw.close()
        # The attempts came in by COPY, past lms.quizzes.finishing, so the item analysis' kept sums (whose
        # versions were marked complete when the content loaded) hold none of them: recompute them, as
        # `lms item-report --rebuild` does after an upgrade, or the analysis page would show empty sums.
        from lms.quizzes.items import rebuild_item_counts

        counted = sum(attempts for _, _, attempts in rebuild_item_counts())
        log(f"  item analysis sums rebuilt from {counted} submitted attempts")
    took = round(time.monotonic() - started, 1)
    log(f"-- seeded in {took} s")
    return {"seconds": took, "rows": loader.counts, "password": PASSWORD, "tag": tag,
            "students": [email for _, email, _, _ in users[:5]]}  # fmt: skip


@dataclass
class Plan:
    """One enrolment and how far the student got."""

    user_id: int
    name: str
    track: TrackInfo
    cohort_id: int
    enrolled: datetime
    completer: bool
    index: int
    lessons_done: int = 0
    released_at: datetime | None = None


def _attempt(ids: Ids, rng: random.Random, clock: Clock, plan: Plan, quiz: QuizInfo, number: int, passes: bool,
             after: datetime, saves: list[tuple[Any, ...]], score_attempt: Any) -> tuple[Any, ...]:  # fmt: skip
    attempt_id = ids.take("quiz_attempts")
    drawn = rng.sample(quiz.questions, min(quiz.draw, len(quiz.questions)))
    layout = [
        {
            "question": q["id"],
            "choices": rng.sample([c["id"] for c in q.get("choices", [])], len(q.get("choices", []))),
        }
        for q in drawn
    ]
    skill = 0.95 if passes else rng.uniform(0.2, 0.6)
    started = (
        clock.before(rng, 5, after) if after > clock.now - timedelta(days=5) else after + timedelta(hours=1)
    )
    started = min(started, clock.now - timedelta(hours=2))
    deadline = started + timedelta(seconds=quiz.time_limit_seconds)
    answers: dict[str, Any] = {}
    save_ids: dict[str, int] = {}
    seq = 0
    second = 0
    order = list(drawn) + rng.sample(drawn, min(2, len(drawn)))  # two answers changed on the way
    for q in order:
        value = _answer(q, passes or rng.random() < skill, rng)
        seq += 1
        second += rng.randint(5, max(6, quiz.time_limit_seconds // (len(order) + 1)))
        save_id = ids.take("quiz_answer_saves")
        at = started + timedelta(seconds=min(second, quiz.time_limit_seconds - 1))
        saves.append((save_id, attempt_id, q["id"], seq, json.dumps(value), at, at, "autosave"))
        answers[q["id"]] = value
        save_ids[q["id"]] = save_id
    if passes:  # the newest answers are the right ones
        for q in drawn:
            right = _answer(q, True, rng)
            if answers[q["id"]] != right:
                seq += 1
                save_id = ids.take("quiz_answer_saves")
                saves.append((save_id, attempt_id, q["id"], seq, json.dumps(right), deadline - timedelta(seconds=2),
                              deadline - timedelta(seconds=2), "autosave"))  # fmt: skip
                answers[q["id"]], save_ids[q["id"]] = right, save_id
    score = score_attempt(drawn, answers, quiz.pass_percent)
    results = {
        qid: {
            "answer": answers.get(qid),
            "points": s.points,
            "max": s.max_points,
            "save_id": save_ids.get(qid),
        }
        for qid, s in score.per_question.items()
    }
    submitted = min(deadline - timedelta(seconds=1), started + timedelta(seconds=second + 5))
    return (
        attempt_id, quiz.id, quiz.version_id, plan.user_id, number, "submitted", started, quiz.time_limit_seconds,
        1.0, 0, False, deadline, quiz.on_expiry, quiz.grace_seconds, layout, submitted, "student", score.points,
        score.max_points, score.percent, score.passed, results, [],
    )  # fmt: skip


# Version histories of a student's handbook (each a state, oldest first).
COMPLETER_HISTORIES = ((("released",), 7), (("returned", "released"), 3))
OTHER_HISTORIES = ((("submitted",), 30), (("in_grading",), 8), (("graded",), 8), (("returned",), 15),
                   (("returned", "submitted"), 12), (("released",), 20), (("returned", "released"), 7))  # fmt: skip


def _pick(rng: random.Random, weighted: tuple[tuple[tuple[str, ...], int], ...]) -> tuple[str, ...]:
    return rng.choices([h for h, _ in weighted], [w for _, w in weighted])[0]


def _submissions(loader: Loader, ids: Ids, rng: random.Random, clock: Clock, plans: list[Plan], sizes: Sizes,
                 instructor: int) -> None:  # fmt: skip
    submissions, grades, scores, changes = [], [], [], []
    others = [p for p in plans if not p.completer and p.lessons_done >= len(p.track.lessons) // 3]
    rng.shuffle(others)
    chosen = [p for p in plans if p.completer] + others
    for plan in chosen:
        if len(submissions) >= sizes.submissions:
            break
        assignment = plan.track.assignment
        history = _pick(rng, COMPLETER_HISTORIES if plan.completer else OTHER_HISTORIES)
        due = plan.enrolled + timedelta(days=assignment["due_days"])
        at = min(
            clock.before(rng, 400, plan.enrolled + timedelta(days=14)),
            clock.now - timedelta(days=len(history) * 3),
        )
        for version, state in enumerate(history, start=1):
            sid = ids.take("assignment_submissions")
            late = int((at - due).total_seconds()) if at > due else 0
            submissions.append((
                sid, assignment["id"], plan.user_id, state, uuid.uuid4().hex, "handbook.pdf", 180_000 + sid % 5000,
                f"{sid:064x}", "pdf", at - timedelta(minutes=5), at, version, due, late, version > 1,
            ))  # fmt: skip
            if state != "submitted":
                decision = {"in_grading": None, "graded": "pass", "returned": "revise", "released": "pass"}[
                    state
                ]
                released = at + timedelta(days=2) if state in ("returned", "released") else None
                _grade(ids, rng, assignment, sid, state, decision, at + timedelta(days=1), released, instructor,
                       grades, scores, changes)  # fmt: skip
                if state == "released":
                    plan.released_at = released
            at = at + timedelta(days=rng.uniform(3, 9))
    loader.copy(
        "assignment_submissions",
        ("id", "assignment_id", "user_id", "state", "stored_name", "original_name", "size_bytes", "sha256",
         "detected_type", "uploaded_at", "submitted_at", "version", "due_at", "late_seconds", "is_revision"),
        submissions,
    )  # fmt: skip
    loader.copy(
        "assignment_grades",
        ("id", "submission_id", "grader_id", "overall_comment", "decision", "points", "max_points", "complete",
         "meets_pass_rule", "saved_at", "released_at", "released_by_id", "release_count", "rubric"),
        grades,
    )  # fmt: skip
    loader.copy(
        "assignment_criterion_scores",
        ("id", "grade_id", "criterion_id", "level_name", "points", "comment"),
        scores,
    )
    loader.copy(
        "assignment_grade_changes",
        ("id", "grade_id", "submission_id", "changed_by_id", "changed_at", "action", "old", "new"),
        changes,
    )


def _grade(ids: Ids, rng: random.Random, assignment: dict[str, Any], sid: int, state: str, decision: str | None,
           saved: datetime, released: datetime | None, instructor: int, grades: list[Any], scores: list[Any],
           changes: list[Any]) -> None:  # fmt: skip
    gid = ids.take("assignment_grades")
    criteria = assignment["criteria"]
    given = criteria if state != "in_grading" else criteria[: len(criteria) // 2]
    points, max_points, snapshot_scores, missing = 0, 0, {}, False
    for criterion_id, levels in criteria:
        top = max(p for _, p in levels)
        max_points += top
        if (criterion_id, levels) not in given:
            snapshot_scores[str(criterion_id)] = {"level": None, "points": None, "comment": ""}
            scores.append((ids.take("assignment_criterion_scores"), gid, criterion_id, None, None, ""))
            continue
        ranked = sorted(levels, key=lambda level: level[1])
        name, value = ranked[-1] if decision == "pass" and rng.random() < 0.6 else (
            ranked[-2] if decision == "pass" else ranked[rng.randint(0, 1)]
        )  # fmt: skip
        missing = missing or value == 0
        points += value
        comment = "Clear and specific." if value == top else "Say more about how."
        snapshot_scores[str(criterion_id)] = {"level": name, "points": value, "comment": comment}
        scores.append((ids.take("assignment_criterion_scores"), gid, criterion_id, name, value, comment))
    complete = state != "in_grading"
    meets = 100 * points >= assignment["pass_percent"] * max_points and not (
        assignment["no_missing_criterion"] and missing
    )
    if decision == "pass" and not meets:
        decision = "revise"
    comment = "Thank you: see the notes per criterion."
    snapshot = {"scores": snapshot_scores, "overall_comment": comment, "decision": decision, "points": points,
                "max_points": max_points, "rubric_version": assignment["version"]}  # fmt: skip
    grades.append((gid, sid, instructor, comment, decision, points, max_points, complete, meets, saved, released,
                   instructor if released else None, 1 if released else 0, assignment["rubric"]))  # fmt: skip
    changes.append(
        (ids.take("assignment_grade_changes"), gid, sid, instructor, saved, "saved", None, snapshot)
    )
    if released:
        changes.append((ids.take("assignment_grade_changes"), gid, sid, instructor, released, "released", snapshot,
                        snapshot))  # fmt: skip


def _certificates(loader: Loader, ids: Ids, rng: random.Random, clock: Clock, plans: list[Plan], sizes: Sizes,
                  instructor: int, new_code: Any) -> None:  # fmt: skip
    certificates, versions, events = [], [], []
    earned = [p for p in plans if p.completer and p.released_at is not None]
    awarded = [p for p in plans if not p.completer and p.track.slug == "social-media-manager"]
    for plan in earned + awarded[: max(0, sizes.certificates - len(earned))]:
        cid = ids.take("certificates")
        basis = "completion" if plan.completer else "manual"
        issued = (
            plan.released_at + timedelta(hours=1)
            if plan.released_at
            else clock.before(rng, 1000, plan.enrolled)
        )
        issued = min(issued, clock.now - timedelta(hours=1))
        reason = (
            ""
            if basis == "completion"
            else "Recognised prior certification (records of the previous platform)"
        )
        number = 2 if rng.random() < 0.25 else 1
        roll = rng.random()
        state = "revoked" if roll < 0.02 else ("suspended" if roll < 0.03 else "active")
        count = rng.randint(0, 60)
        last_verified = clock.before(rng, 90, issued) if count else None
        revoked = (
            (issued + timedelta(days=30), "Issued in error", instructor)
            if state == "revoked"
            else (None,) * 3
        )
        suspended = (
            (issued + timedelta(days=10), "The handbook grade was reopened for review")
            if state == "suspended" else (None, None)
        )  # fmt: skip
        certificates.append((
            cid, new_code().canonical, plan.user_id, plan.track.id, state, number, uuid.uuid4().hex, count,
            last_verified, revoked[0], revoked[1], revoked[2], suspended[0], suspended[1], issued,
        ))  # fmt: skip
        for n in range(1, number + 1):
            at = issued if n == 1 else issued + timedelta(days=20)
            expires = _add_months(issued, plan.track.validity_months)
            name = plan.name if n == number else plan.name.upper()
            versions.append((
                ids.take("certificate_versions"), cid, n, name, plan.track.snapshot["track_title"],
                plan.track.snapshot["certifies"], plan.track.snapshot["modules"], plan.track.snapshot["assessed_work"],
                plan.track.snapshot["rule"], basis, "classic", at, expires, reason if n == 1 else "Name corrected",
                None if basis == "completion" and n == 1 else instructor, at,
            ))  # fmt: skip
            action = "issued" if n == 1 else "reissued"
            data = {"automatic": True} if basis == "completion" and n == 1 else {"automatic": False}
            events.append((ids.take("certificate_events"), cid, action, n, None if data["automatic"] else instructor,
                           at, versions[-1][13], data))  # fmt: skip
        if state == "revoked":
            events.append((ids.take("certificate_events"), cid, "revoked", number, instructor, revoked[0], revoked[1],
                           {}))  # fmt: skip
        elif state == "suspended":
            events.append((ids.take("certificate_events"), cid, "suspended", number, None, suspended[0], suspended[1],
                           {"automatic": True}))  # fmt: skip
    loader.copy(
        "certificates",
        ("id", "code", "user_id", "track_id", "state", "version_number", "recipient_salt", "verification_count",
         "last_verified_at", "revoked_at", "revoked_reason", "revoked_by_id", "suspended_at", "suspended_reason",
         "created_at"),
        certificates,
    )  # fmt: skip
    loader.copy(
        "certificate_versions",
        ("id", "certificate_id", "number", "holder_name", "track_title", "certifies", "modules", "assessed_work",
         "rule", "basis", "template", "issued_at", "expires_at", "reason", "created_by_id", "created_at"),
        versions,
    )  # fmt: skip
    loader.copy(
        "certificate_events",
        ("id", "certificate_id", "action", "version_number", "actor_id", "at", "reason", "data"),
        events,
    )


def _add_months(at: datetime, months: int) -> datetime:
    month = at.month - 1 + months
    year, month = at.year + month // 12, month % 12 + 1
    return at.replace(year=year, month=month, day=min(at.day, 28))


# -- the app ---------------------------------------------------------------------------------------------------


def _bootstrap(url: str, log: Callable[[str], None]) -> None:
    """`lms bootstrap` on that database (migrations, both tracks' content, the demo accounts)."""
    log("-- lms bootstrap (migrations, both tracks' content, demo accounts) ...")
    instance = Path(tempfile.mkdtemp(prefix="seed-scale-"))
    env = {
        **os.environ,
        "LMS_DATABASE_URL": url,
        "LMS_INSTANCE_PATH": str(instance),
        "LMS_UPLOAD_DIR": str(instance / "uploads"),
        "LMS_SECRET_KEY": os.environ.get("LMS_SECRET_KEY", "seed-scale-" + uuid.uuid4().hex),
        "LMS_JOBS_RUNNER": "manual",
    }
    flask = str(Path(sys.executable).with_name("flask"))
    done = subprocess.run([flask, "--app", "wsgi", "lms", "bootstrap"], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"lms bootstrap failed:\n{done.stderr[-3000:]}")


def _app(url: str) -> Any:
    """The app on that database, to read the content through its models."""
    from lms import create_app

    instance = Path(tempfile.mkdtemp(prefix="seed-scale-"))
    return create_app({
        "SQLALCHEMY_DATABASE_URI": url, "JOBS_RUNNER": "manual", "UPLOAD_DIR": str(instance / "uploads"),
        "SECRET_KEY": os.environ.get("LMS_SECRET_KEY", "seed-scale-" + uuid.uuid4().hex),
    })  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", help="SQLAlchemy URL of an existing PostgreSQL database")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the full size (0.01: a hundredth)"
    )
    parser.add_argument(
        "--no-bootstrap", action="store_true", help="the schema and content are already there"
    )
    parser.add_argument("--seed", type=int, default=21, help="random seed")
    args = parser.parse_args()
    if not args.url.startswith("postgresql"):
        print("seed_scale needs PostgreSQL (COPY)", file=sys.stderr)
        return 2
    result = seed(args.url, args.scale, bootstrap=not args.no_bootstrap, rng_seed=args.seed)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
