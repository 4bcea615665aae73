"""The preview of a bulk-enrolment file: every row with what applying it would do, read from the database in a
few statements whatever the file's size (users, enrolments and cohorts in chunks, tracks at once). Writes nothing.

Outcomes: "create" (a new account, invited by email, and its enrolment), "enrol" (an existing account, or one a
row above creates; an enrolment left earlier is reopened), "already enrolled" (nothing to do, unless the row names
another cohort: the note says it moves there), "error: <reason>". Rows are keyed by (email, track): the same
person may appear once per track; a second row for the same pair is an error."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

from lms.accounts.models import User
from lms.courses.models import Cohort, Enrollment, Track
from lms.extensions import db
from lms.roster.parsing import ParsedFile, ParsedRow

CREATE, ENROL, ALREADY, ERROR = "create", "enrol", "already enrolled", "error"
KINDS = (CREATE, ENROL, ALREADY, ERROR)
CHUNK = 500  # ids or addresses per IN (...) list


@dataclass(frozen=True)
class RosterRow:
    line: int
    email: str
    name: str
    track: str  # as the file wrote it
    cohort: str
    kind: str  # one of KINDS
    reason: str = ""  # why an error row is one
    note: str = ""  # what else happens: a new cohort, a cohort move, a return to a left track
    user_id: int | None = None
    track_id: int | None = None
    cohort_id: int | None = None  # an existing cohort; None with a cohort name: created on applying

    @property
    def outcome(self) -> str:
        return f"error: {self.reason}" if self.kind == ERROR else self.kind


@dataclass(frozen=True)
class RosterPreview:
    rows: list[RosterRow]
    sha256: str
    ignored_columns: tuple[str, ...] = ()
    new_cohorts: tuple[str, ...] = field(default=())  # "Track title: cohort name", in file order

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(row.kind for row in self.rows)
        return {kind: found.get(kind, 0) for kind in KINDS}

    @property
    def ok(self) -> bool:
        return self.counts[ERROR] == 0

    @property
    def errors(self) -> list[RosterRow]:
        return [row for row in self.rows if row.kind == ERROR]


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _chunks(values: Iterable[object]) -> Iterator[list[object]]:
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _users(emails: set[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for chunk in _chunks(sorted(emails)):
        found.update((u.email, u) for u in db.session.scalars(sa.select(User).where(User.email.in_(chunk))))
    return found


def _tracks() -> tuple[dict[str, Track], dict[str, list[Track]]]:
    tracks = list(db.session.scalars(sa.select(Track)))
    by_title: dict[str, list[Track]] = {}
    for track in tracks:
        by_title.setdefault(track.title.strip().lower(), []).append(track)
    return {track.slug.lower(): track for track in tracks}, by_title


def _enrollments(user_ids: set[int], track_ids: set[int]) -> dict[tuple[int, int], Enrollment]:
    found: dict[tuple[int, int], Enrollment] = {}
    if not track_ids:
        return found
    for chunk in _chunks(sorted(user_ids)):
        statement = sa.select(Enrollment).where(
            Enrollment.user_id.in_(chunk), Enrollment.track_id.in_(sorted(track_ids))
        )
        found.update(((e.user_id, e.track_id), e) for e in db.session.scalars(statement))
    return found


def _cohorts(track_ids: set[int]) -> dict[tuple[int, str], Cohort]:
    if not track_ids:
        return {}
    statement = sa.select(Cohort).where(Cohort.track_id.in_(sorted(track_ids))).order_by(Cohort.id)
    found: dict[tuple[int, str], Cohort] = {}
    for cohort in db.session.scalars(statement):
        found.setdefault((cohort.track_id, cohort.name.lower()), cohort)
    return found


def find_track(text: str, by_slug: dict[str, Track], by_title: dict[str, list[Track]]) -> Track | str:
    """The track a cell names, by slug or by title (either case), or the reason it names none."""
    key = text.strip().lower()
    if key in by_slug:
        return by_slug[key]
    titled = by_title.get(key, [])
    if len(titled) == 1:
        return titled[0]
    if len(titled) > 1:
        return f"several tracks are titled “{text}”: use the track's slug"
    return f"there is no track “{text}” (use the track's slug or title)"


class _Planner:
    def __init__(self, parsed: ParsedFile) -> None:
        self.by_slug, self.by_title = _tracks()
        self.users = _users({row.email for row in parsed.rows if row.email})
        self.tracks = {row.line: find_track(row.track, self.by_slug, self.by_title) for row in parsed.rows}
        track_ids = {t.id for t in self.tracks.values() if isinstance(t, Track)}
        self.enrollments = _enrollments({u.id for u in self.users.values()}, track_ids)
        self.cohorts = _cohorts(track_ids)
        self.seen: dict[tuple[str, int], int] = {}  # (email, track id) -> line
        self.created_by: dict[str, int] = {}  # email of a new account -> the line that creates it
        self.new_cohorts: dict[tuple[int, str], str] = {}

    def plan(self, row: ParsedRow) -> RosterRow:
        base = {
            "line": row.line,
            "email": row.email,
            "name": row.name,
            "track": row.track,
            "cohort": row.cohort,
        }
        track = self.tracks[row.line]
        reasons = list(row.problems)
        if row.track and isinstance(track, str):
            reasons.append(track)
        elif isinstance(track, Track):
            if track.retired_at is not None:
                reasons.append(f"{track.title} is no longer offered")
            key = (row.email, track.id)
            if row.email and key in self.seen:
                reasons.append(f"the same email and track as line {self.seen[key]}")
            elif row.email:
                self.seen[key] = row.line
        user = self.users.get(row.email)
        if user is not None and not user.active:
            reasons.append("the account is deactivated: reactivate it first")
        if user is None and not row.name and row.email not in self.created_by:
            reasons.append("no name, which a new account needs")
        if reasons or not isinstance(track, Track):
            return RosterRow(**base, kind=ERROR, reason="; ".join(reasons))
        return self._outcome(row, base, user, track)

    def _outcome(self, row: ParsedRow, base: dict[str, object], user: User | None, track: Track) -> RosterRow:
        cohort_id, notes = None, []
        if row.cohort:
            cohort = self.cohorts.get((track.id, row.cohort.lower()))
            if cohort is not None:
                cohort_id = cohort.id
            else:
                first = self.new_cohorts.setdefault((track.id, row.cohort.lower()), row.cohort)
                notes.append(f"new cohort “{first}”, starting the day the file is applied")
        ids = {"user_id": user.id if user else None, "track_id": track.id, "cohort_id": cohort_id}
        if user is None:
            if row.email in self.created_by:
                notes.insert(0, f"the account line {self.created_by[row.email]} creates")
                return RosterRow(**base, kind=ENROL, note="; ".join(notes), **ids)  # type: ignore[arg-type]
            self.created_by[row.email] = row.line
            return RosterRow(**base, kind=CREATE, note="; ".join(notes), **ids)  # type: ignore[arg-type]
        enrollment = self.enrollments.get((user.id, track.id))
        if enrollment is not None and enrollment.left_at is None:
            moves = row.cohort and (cohort_id is None or enrollment.cohort_id != cohort_id)
            note = f"moves to cohort “{row.cohort}”" if moves else ""
            return RosterRow(**base, kind=ALREADY, note="; ".join([*notes, note] if note else notes), **ids)  # type: ignore[arg-type]
        if enrollment is not None:
            notes.insert(0, "returns to a track left earlier (progress kept)")
        return RosterRow(**base, kind=ENROL, note="; ".join(notes), **ids)  # type: ignore[arg-type]


def plan_roster(parsed: ParsedFile, data: bytes) -> RosterPreview:
    """Every row of the parsed file with its outcome (reads only)."""
    planner = _Planner(parsed)
    rows = [planner.plan(row) for row in parsed.rows]
    titles = {t.id: t.title for t in planner.by_slug.values()}
    new = tuple(f"{titles[track_id]}: {name}" for (track_id, _), name in planner.new_cohorts.items())
    return RosterPreview(rows, file_hash(data), parsed.ignored_columns, new)
