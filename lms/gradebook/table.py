"""The gradebook table: one row per student of a track, built from a constant number of set-based queries.

Reading only: nothing is finalized or committed here (an overdue quiz attempt shows as "in progress (overdue)").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lms.accounts.models import User
from lms.assignments.models import HANDED_IN, PENDING, STATE_LABELS, Assignment, SubmissionState
from lms.certificates.codes import format_code
from lms.certificates.models import Status, status_of
from lms.clock import holds_until, next_moment
from lms.courses.models import Cohort, Enrollment, Track
from lms.courses.progress import percent
from lms.csv_export import render_csv_lines
from lms.extensions import db
from lms.gradebook import operations, queries
from lms.quizzes.models import IN_PROGRESS, Quiz
from lms.quizzes.operations import QuizStatus, counting_attempt, is_overdue, submit_cutoff
from lms.timezones import format_time

PAGE_SIZE = 50


@dataclass(frozen=True)
class Filters:
    search: str = ""
    include_left: bool = False
    sort: str = "name"
    order: str = "asc"

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        """From the query string; anything unknown falls back to the default rather than failing."""
        sort = args.get("sort", "name")
        order = args.get("order", "desc" if sort == "progress" else "asc")
        return cls(
            search=args.get("q", "")[:200],
            include_left=args.get("left", "") in ("1", "on", "yes", "true"),
            sort=sort if sort in queries.SORTS else "name",
            order=order if order in queries.ORDERS else "asc",
        )

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments (for links to other pages, sorts and the CSV)."""
        args = {"q": self.search, "sort": self.sort, "order": self.order}
        if self.include_left:
            args["left"] = "1"
        return {key: value for key, value in args.items() if value}


@dataclass(frozen=True)
class QuizCell:
    status: QuizStatus
    overdue: bool  # an attempt past its time that nobody has finalized yet

    @property
    def percent(self) -> float | None:
        return self.status.counting_percent

    @property
    def label(self) -> str:
        label = self.status.label
        return f"{label} (overdue)" if self.overdue else label

    @property
    def key(self) -> str:
        """A short name for the state, for CSS."""
        if self.status.in_progress_id:
            return "in-progress"
        if self.status.passed:
            return "passed"
        return "not-passed" if self.status.attempts else "not-started"


@dataclass(frozen=True)
class HandbookCell:
    label: str
    key: str
    late: bool = False
    submission_id: int | None = None  # the submission to link to (None: no link)
    hidden: bool = False  # blind marking keeps the grading state to itself until release
    draft: bool = False  # a draft waits beside a handed-in version


@dataclass(frozen=True)
class CertificateCell:
    status: Status | None
    code: str = ""  # as displayed (and as the /verify/ URL wants it)

    @property
    def label(self) -> str:
        return self.status.value.capitalize() if self.status else "None"


@dataclass
class Row:
    enrollment: Enrollment
    user: User
    done: int
    total: int
    quizzes: list[QuizCell] = field(default_factory=list)
    handbook: HandbookCell | None = None
    certificate: CertificateCell = field(default_factory=lambda: CertificateCell(None))

    @property
    def percent(self) -> int:
        return percent(self.done, self.total)

    @property
    def left(self) -> bool:
        return self.enrollment.left_at is not None


@dataclass
class Gradebook:
    track: Track
    quizzes: list[Quiz]
    assignment: Assignment | None
    total_lessons: int
    rows: list[Row]
    total_rows: int
    filters: Filters
    page: int = 1
    cohorts: list[Cohort] = field(default_factory=list)  # the track's; the cohort column shows when any exist

    @property
    def pages(self) -> int:
        return max(1, -(-self.total_rows // PAGE_SIZE))


def quiz_cell(quiz: Quiz, attempts: Sequence[Any], now: datetime) -> QuizCell:
    """The standing as the quiz's own rule counts it (highest or last submitted attempt). `attempts`: the
    student's, in attempt order, as plain rows of queries.ATTEMPT_COLUMNS (or Attempt objects)."""
    counting = counting_attempt(quiz.grading, attempts)
    open_attempt = next((a for a in attempts if a.state == IN_PROGRESS), None)
    status = QuizStatus(
        quiz=quiz,
        attempts=len(attempts),
        in_progress_id=open_attempt.id if open_attempt else None,
        counting_percent=counting.percent if counting else None,
        passed=bool(counting and counting.passed),
    )
    return QuizCell(status, overdue=open_attempt is not None and is_overdue(open_attempt, now))


def handbook_cell(assignment: Assignment, uploads: Sequence[Any]) -> HandbookCell:
    """Where the student stands with the handbook. With blind marking, a version waiting for (or in) grading
    shows only as "Submitted", with no link and no late marker, so the grader cannot tie it to a name.

    `uploads`: plain rows of queries.SUBMISSION_COLUMNS (or Submission objects)."""
    handed_in = [s for s in uploads if SubmissionState(s.state) in HANDED_IN]
    has_draft = any(s.state == SubmissionState.DRAFT for s in uploads)
    if not handed_in:
        if has_draft:
            return HandbookCell("Draft", "draft")
        return HandbookCell("Not started", "not-started")
    latest = max(handed_in, key=lambda s: (s.version or 0, s.id))
    state = SubmissionState(latest.state)
    if assignment.blind_marking and state in PENDING:
        return HandbookCell("Submitted", "submitted", hidden=True)
    return HandbookCell(
        STATE_LABELS[state],
        state.value.replace("_", "-"),
        late=bool(latest.late_seconds),
        submission_id=latest.id,
        draft=has_draft,
    )


def certificate_cell(certificate: Any | None, now: datetime) -> CertificateCell:
    """`certificate`: a plain row of state, code and its current version's expires_at
    (queries.certificates_by_student)."""
    if certificate is None:
        return CertificateCell(None)
    return CertificateCell(
        status_of(certificate.state, certificate.expires_at, now), format_code(certificate.code)
    )


def build_gradebook(track: Track, filters: Filters, now: datetime, page: int | None = 1) -> Gradebook:
    """The gradebook of a track: one page of rows (`page`), or every row (`page=None`, for the CSV).

    Ten queries whatever the number of students, quizzes and lessons."""
    chosen = {"search": filters.search, "include_left": filters.include_left}
    if page is not None:
        total_rows = queries.count_roster(track.id, **chosen)
        pages = max(1, -(-total_rows // PAGE_SIZE))
        page = min(max(page, 1), pages)
        only = queries.roster_page_ids(
            track.id,
            **chosen,
            sort=filters.sort,
            order=filters.order,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
        stmt = queries.roster_statement(track.id, **chosen, sort=filters.sort, order=filters.order, only=only)
    else:
        stmt = queries.roster_statement(track.id, **chosen, sort=filters.sort, order=filters.order)
    roster = list(db.session.execute(stmt).all())
    if page is None:
        total_rows = len(roster)
    user_ids: queries.UserIds = (
        [user.id for _, user, _ in roster] if page is not None else queries.enrolled_ids(track.id)
    )
    total_lessons = queries.live_lesson_count(track.id)
    quizzes = queries.track_quizzes(track.id)
    attempts = queries.attempts_by_student([q.id for q in quizzes], user_ids) if roster else {}
    assignment = queries.track_assignment(track)
    uploads = queries.submissions_by_student(assignment.id, user_ids) if assignment and roster else {}
    certificates = queries.certificates_by_student(track.id, user_ids) if roster else {}
    cohorts = operations.track_cohorts(track.id)
    holds_until(_next_change(attempts, certificates, now))  # the cells below compare these with `now`
    rows = []
    for enrollment, user, done in roster:
        rows.append(
            Row(
                enrollment=enrollment,
                user=user,
                done=int(done),
                total=total_lessons,
                quizzes=[quiz_cell(q, attempts.get((user.id, q.id), []), now) for q in quizzes],
                handbook=handbook_cell(assignment, uploads.get(user.id, [])) if assignment else None,
                certificate=certificate_cell(certificates.get(user.id), now),
            )
        )
    return Gradebook(
        track=track,
        quizzes=quizzes,
        assignment=assignment,
        total_lessons=total_lessons,
        rows=rows,
        total_rows=total_rows,
        filters=filters,
        page=page or 1,
        cohorts=cohorts,
    )


def _next_change(
    attempts: dict[Any, Sequence[Any]], certificates: dict[int, Any], now: datetime
) -> datetime | None:
    """When the cells of these attempts and certificates next change with the time alone (lms.clock.holds_until):
    an open attempt's submission cut-off (overdue after it), a certificate's expiry (expired from it)."""
    moments = [submit_cutoff(a) for tried in attempts.values() for a in tried if a.state == IN_PROGRESS]
    moments += [c.expires_at for c in certificates.values() if c.expires_at is not None]
    return next_moment(moments, now)


# ---- CSV -----------------------------------------------------------------------------------------------------


def _date(value: datetime | None) -> str:
    """The day on the reader's clock, as the gradebook page shows it."""
    return format_time(value, "day")


def csv_header(book: Gradebook) -> list[str]:
    header = ["Name", "Email", "Enrolled", "Left", "Lessons completed", "Lessons total", "Progress %"]
    if book.cohorts:
        header[4:4] = ["Cohort"]
    for quiz in book.quizzes:
        header += [f"{quiz.title} %", f"{quiz.title} status"]
    if book.assignment is not None:
        header += [f"{book.assignment.title}", f"{book.assignment.title} late"]
    header += ["Certificate", "Certificate code"]
    return header


def csv_row(book: Gradebook, row: Row) -> list[Any]:
    cohort = row.enrollment.cohort
    return csv_cells(
        book,
        (row.user.full_name, row.user.email, row.enrollment.enrolled_at, row.enrollment.left_at),
        cohort.name if cohort else None,
        row.done,
        row.quizzes,
        row.handbook,
        row.certificate,
    )


def csv_cells(
    book: Gradebook,
    student: tuple[str, str, datetime, datetime | None],
    cohort: str | None,
    done: int,
    quizzes: list[QuizCell],
    handbook: HandbookCell | None,
    certificate: CertificateCell,
) -> list[Any]:
    """One line of the CSV: the student's name, email, enrolled and left, then the cells."""
    name, email, enrolled_at, left_at = student
    total = book.total_lessons
    cells: list[Any] = [name, email, _date(enrolled_at), _date(left_at), done, total, percent(done, total)]
    if book.cohorts:
        cells[4:4] = [cohort or ""]
    for cell in quizzes:
        cells += [format_percent(cell.percent), cell.label]
    if handbook is not None:
        cells += [handbook.label, "yes" if handbook.late else ""]
    cells += [certificate.label, certificate.code]
    return cells


def format_percent(value: float | None) -> str:
    """87.5 rather than 87.50000001; 100 rather than 100.0; empty when there is no score."""
    if value is None:
        return ""
    return f"{round(float(value), 1):g}"


def csv_lines(book: Gradebook) -> Iterator[str]:
    """The table as CSV text, line by line, every cell defused (lms.csv_export)."""
    yield from render_csv_lines([csv_header(book), *(csv_row(book, row) for row in book.rows)])


CSV_CHUNK = 500  # students read (with their attempts, uploads and certificate) at a time while streaming


def streamed_csv_lines(
    track: Track, filters: Filters, now: datetime, chunk: int = CSV_CHUNK
) -> Iterator[str]:
    """The same lines as csv_lines(build_gradebook(track, filters, now, page=None)), read `chunk` students at a
    time from a server-side cursor, so memory stays flat however many students the track has.

    The roster is one statement streamed from the database (yield_per); each chunk of it then costs three
    statements (attempts, uploads, certificates for those students), so a 20 000-student export is 1 + 3 x 40."""
    book = Gradebook(
        track=track,
        quizzes=queries.track_quizzes(track.id),
        assignment=queries.track_assignment(track),
        total_lessons=queries.live_lesson_count(track.id),
        rows=[],
        total_rows=0,
        filters=filters,
        cohorts=operations.track_cohorts(track.id),
    )
    yield from render_csv_lines([csv_header(book)])
    stmt = queries.roster_statement(
        track.id,
        search=filters.search,
        include_left=filters.include_left,
        sort=filters.sort,
        order=filters.order,
        plain=True,
    )
    assignment = book.assignment
    # (quiz id, quiz, its cell for everyone who has not tried it): ids read once, not per student
    by_quiz = [(q.id, q, quiz_cell(q, (), now)) for q in book.quizzes]
    quiz_ids = [q.id for q in book.quizzes]
    result = db.session.connection().execute(stmt.execution_options(yield_per=chunk))
    for part in result.partitions():
        user_ids = [student.user_id for student in part]
        attempts = queries.attempts_by_student(quiz_ids, user_ids)
        uploads = queries.submissions_by_student(assignment.id, user_ids) if assignment else {}
        certificates = queries.certificates_by_student(track.id, user_ids)
        lines = (
            csv_cells(
                book,
                (student.full_name, student.email, student.enrolled_at, student.left_at),
                student.cohort,
                int(student.done),
                [
                    quiz_cell(quiz, tried, now)
                    if (tried := attempts.get((student.user_id, quiz_id)))
                    else untried
                    for quiz_id, quiz, untried in by_quiz
                ],
                handbook_cell(assignment, uploads.get(student.user_id, ())) if assignment else None,
                certificate_cell(certificates.get(student.user_id), now),
            )
            for student in part
        )
        yield "".join(render_csv_lines(lines))
