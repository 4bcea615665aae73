"""Helpers shared by the quiz tests (no tests here): a track in the database, quiz files loaded through the real
checker and loader, enrolment, lessons and their completion (quizzes follow the track's unlock order)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from lms.accounts.models import User
from lms.content import ContentSet
from lms.courses import operations as courses
from lms.courses.models import Enrollment, Lesson, Module, Track
from lms.courses.spec import ModuleSpec, TrackSpec
from lms.extensions import db
from lms.quizzes import loader
from lms.quizzes.models import Quiz

TRACK_SLUG = "test-track"
MODULES = ("basics", "advanced")

QUESTIONS = """
[[questions]]
id = "goal"
type = "single"
points = 1
prompt = "What should a strategy start from?"
feedback = "Goals first."

[[questions.choices]]
text = "A clear business goal"
correct = true
feedback = "Right."

[[questions.choices]]
text = "The most popular platform"
correct = false
feedback = "Platforms are tools."

[[questions]]
id = "pick"
type = "multiple"
points = 2
prompt = "Which are evaluation criteria?"
partial_credit = "right_minus_wrong"

[[questions.choices]]
text = "Channel coverage"
correct = true

[[questions.choices]]
text = "Data quality"
correct = true

[[questions.choices]]
text = "Demo shine"
correct = false

[[questions]]
id = "pilot"
type = "true_false"
points = 1
prompt = "Success criteria are written before a pilot starts."
answer = true

[[questions]]
id = "roi"
type = "short"
points = 1
prompt = "What does ROI stand for?"
accept = ["return on investment", "ROI"]
"""


def quiz_toml(**settings: Any) -> str:
    """A valid module quiz (4 questions, 5 points) with settings overridden by keyword."""
    values: dict[str, Any] = {
        "title": "Basics quiz",
        "track": TRACK_SLUG,
        "module": "basics",
        "kind": "module",
        "time_limit_minutes": 10,
        "attempts_allowed": 3,
        "delay_between_attempts_minutes": 0,
        "pass_percent": 60,
        "grading": "highest",
        "shuffle_questions": False,
        "shuffle_choices": False,
        "draw": 4,
        "review": "correct_answers",
        "review_after": "submit",
        "on_expiry": "auto_submit",
        "grace_seconds": 0,
    }
    values.update(settings)
    lines = []
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, str) and not key.endswith("_at"):
            lines.append(f'{key} = "{value}"')
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n" + textwrap.dedent(QUESTIONS)


def make_track(slug: str = TRACK_SLUG, modules: tuple[str, ...] = MODULES) -> Track:
    track = Track(
        slug=slug, title=slug.replace("-", " ").title(), summary="A track.", certifies="Things.", validity_months=24,
        completion={}, source_hash="x",
    )  # fmt: skip
    db.session.add(track)
    db.session.flush()
    for position, module_slug in enumerate(modules):
        db.session.add(Module(track_id=track.id, slug=module_slug, title=module_slug.title(), position=position,
                              source_hash="x"))  # fmt: skip
    db.session.commit()
    return track


def track_spec(slug: str = TRACK_SLUG, modules: tuple[str, ...] = MODULES, quizzes: list[str] | None = None,
               path: Path | None = None) -> TrackSpec:  # fmt: skip
    return TrackSpec(
        slug=slug, path=path or Path(f"courses/{slug}/track.toml"), title=slug, summary="", certifies="",
        validity_months=24, unlock="free", program_weeks=None, completion={"quizzes": quizzes or []},
        modules=[ModuleSpec(slug=m, title=m, summary="", week=None, position=i) for i, m in enumerate(modules)],
        line_of={"completion": 7},
    )  # fmt: skip


def content_for(quizzes_dir: Path, tracks: list[TrackSpec] | None = None) -> ContentSet:
    content = ContentSet(courses_dir=quizzes_dir.parent / "courses", quizzes_dir=quizzes_dir)
    content.parsed["courses"] = {t.slug: t for t in (tracks if tracks is not None else [track_spec()])}
    return content


def check_files(
    quizzes_dir: Path, files: dict[str, str], tracks: list[TrackSpec] | None = None
) -> ContentSet:
    quizzes_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (quizzes_dir / f"{name}.toml").write_text(text)
    content = content_for(quizzes_dir, tracks)
    loader.check(content)
    return content


def load_quizzes(quizzes_dir: Path, files: dict[str, str]) -> list[Any]:
    """Write the files, check them (failing loudly on problems) and sync them in one transaction."""
    content = check_files(quizzes_dir, files)
    assert content.problems == [], [str(p) for p in content.problems]
    changes = loader.sync(content)
    db.session.commit()
    return changes


def enrol(user: User, track: Track) -> None:
    db.session.add(Enrollment(user_id=user.id, track_id=track.id))
    db.session.commit()


def quiz_by_slug(slug: str) -> Quiz:
    return db.session.execute(db.select(Quiz).where(Quiz.slug == slug)).scalar_one()


def setup_quiz(
    tmp_path: Path, student: User | None = None, slug: str = "basics-quiz", **settings: Any
) -> Quiz:
    """A track, one quiz with these settings, and the student enrolled."""
    track = make_track()
    load_quizzes(tmp_path / "quizzes", {slug: quiz_toml(**settings)})
    if student is not None:
        enrol(student, track)
    return quiz_by_slug(slug)


def add_lessons(track: Track, per_module: int = 2) -> list[Lesson]:
    """Give each of the track's modules lessons (a track made by make_track has none, so every module is complete
    and every quiz open); returns them in reading order."""
    lessons = []
    modules = db.session.execute(
        db.select(Module).where(Module.track_id == track.id).order_by(Module.position)
    ).scalars()
    for module in modules:
        for position in range(per_module):
            lesson = Lesson(track_id=track.id, module_id=module.id, slug=f"{module.slug}-{position + 1}",
                            title=f"{module.title} lesson {position + 1}", position=position, body_html="<p>x</p>",
                            source_hash="x")  # fmt: skip
            db.session.add(lesson)
            lessons.append(lesson)
    db.session.commit()
    return lessons


def complete_lessons(user: User, track: Track, modules: tuple[str, ...] | None = None) -> None:
    """Complete the lessons of these modules (all when None) as the student would, in reading order."""
    rows = db.session.execute(
        db.select(Lesson)
        .join(Module, Module.id == Lesson.module_id)
        .where(Lesson.track_id == track.id)
        .order_by(Module.position, Lesson.position)
    ).scalars()
    for lesson in list(rows):
        if modules is None or lesson.module.slug in modules:
            courses.complete_lesson(user, lesson)
