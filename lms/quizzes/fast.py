"""The one-statement autosave: the web path's quick way to store a save, with the outcome of save_answer.

It mirrors lms.quizzes.saving.save_answer, which decides every save under the attempt's row lock, and keeps its
rules. What may have changed since the attempt was read is checked inside the one statement, which holds that same
lock (FOR UPDATE of the attempt's row):
- the attempt is the signed-in student's own (its owner) and still in progress;
- its deadline is still the one the save was decided on (time added elsewhere sends the save the usual way);
- the signed session's claim holds (lms.accounts.access.claim_holds: the account exists, is active, has the
  session's version and an admitted role; session_holds: its server-side session is live and was seen within the
  last minute).
What cannot change is checked before, on the attempt as read: the save was given before the deadline and arrived
within the network grace, to a question of the attempt, with a valid answer; and sequence numbers, with the same
check (0 <= seq < 2**31, else the same DomainError).
The order of saves is save_answer's (lms.quizzes.saving): the statement finds, as it stores, whether the save's
sequence number is above every one stored for the question (_FIRST_NOT_OLDER); one that is not is kept, answered
`current: false` with the answer that stands (read then, in a statement of its own: the rare case), and never
becomes the answer. One limit, on PostgreSQL only: the statement compares with the saves committed before it
began, so of two saves to the same question of the same attempt whose statements overlap (two tabs, within the
same few milliseconds) both may be told "current"; the answer is still the highest sequence number, the first
stored of equals, and a reload shows it.
In any other case it stores nothing and returns None, and save_answer decides under the lock and says why.

It may use web plumbing (the signed session's claim, the per-process page caches): it exists for the autosave
endpoint (lms.quizzes.answer_views.save). The tests that show the two equal:
- tests/test_quiz_autosave_claimed.py: bad saves get the same errors; a submit, extra time, a new password or a
  deactivated account elsewhere is seen at the next save; a late save still finalizes the attempt;
- tests/test_quiz_concurrency.py: saves racing a submit, the locked way and this way, are scored or refused and
  never lost; a save read before a submit or extra time is decided again under the lock;
- tests/test_quiz_attempts.py: every save over HTTP tries this path first (deadlines, network grace, late older
  saves, bad saves and their messages);
- tests/test_quiz_answer_order.py: a save that is not newer is refused as the answer the same way on both paths,
  with the answer that stands in the reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from lms.accounts.access import Claim, claim_holds, session_holds
from lms.accounts.models import Reader, User
from lms.accounts.operations import READER_SELECT, read_reader_with
from lms.clock import now_utc
from lms.database import labelled_columns, single_read, single_write
from lms.page_cache import forget_with_pages, page_cache_of
from lms.quizzes.attempts import ANSWER_NOW, SavedAnswer, _question_pool
from lms.quizzes.deadlines import save_cutoff
from lms.quizzes.models import IN_PROGRESS, Attempt, QuizVersion
from lms.quizzes.saving import (
    _FIRST_NOT_OLDER,
    SaveReceipt,
    _check_seq,
    _given_at,
    _is_newest,
    _receipt,
    _save_row,
    _saves,
)
from lms.quizzes.scoring import AnswerInvalid, normalize_answer

# The question pool is a per-process cache of rows: the page caches forget it with themselves (clear_page_caches).
# It is registered here because the modules of rules do not import lms.page_cache.
forget_with_pages(_question_pool)


@dataclass(frozen=True, slots=True)
class AttemptRow:
    """An attempt as a save decides on it: read with the student who is signed in, outside any transaction and
    before any lock, and kept per process (known_attempt). save_answer_at_once re-checks, under the lock, the
    parts that can change (the state and the deadline); the others never change after the attempt starts."""

    id: int
    user_id: int
    quiz_version_id: int
    state: str
    deadline: datetime
    on_expiry: str
    grace_seconds: int
    question_ids: frozenset[str]
    content_hash: str


_attempts, _versions, _users = Attempt.__table__, QuizVersion.__table__, User.__table__
_ATTEMPT_ROW = (
    "id",
    "user_id",
    "quiz_version_id",
    "state",
    "deadline",
    "on_expiry",
    "grace_seconds",
    "layout",
)


# Built once: every autosave runs it. Who is signed in and their attempt (none if it is not theirs), with its
# version's content hash, in one statement and one round trip.
_READER_AND_ATTEMPT = (
    sa.select(
        *READER_SELECT,
        *labelled_columns(Attempt, _ATTEMPT_ROW),
        _versions.c.content_hash,
    )
    .select_from(
        _users.outerjoin(
            _attempts, (_attempts.c.id == sa.bindparam("attempt_id")) & (_attempts.c.user_id == _users.c.id)
        ).outerjoin(_versions, _versions.c.id == _attempts.c.quiz_version_id)
    )
    .where(_users.c.id == sa.bindparam("user_id"))
)
_LAYOUT = _ATTEMPT_ROW.index("layout")


def read_reader_and_attempt(
    user_id: int, attempt_id: int, session: str | None = None
) -> tuple[Reader, AttemptRow | None] | None:
    """The account and its own attempt with this id (None when it has none), read outside any transaction;
    None when there is no such account. The attempt is kept for this process's next saves (known_attempt)."""
    found = read_reader_with(_READER_AND_ATTEMPT, {"user_id": user_id, "attempt_id": attempt_id}, session)
    if found is None:
        return None
    reader, row = found
    if row[0] is None:
        return reader, None
    question_ids = frozenset(item["question"] for item in row[_LAYOUT])
    attempt = AttemptRow(*row[:_LAYOUT], question_ids, row[_LAYOUT + 1])
    page_cache_of(current_app, "attempts").put(attempt.id, attempt)
    return reader, attempt


ATTEMPTS_KEPT = 4096  # per process; a few hundred bytes each


def known_attempt(attempt_id: int) -> AttemptRow | None:
    """The attempt as this process last read it for a save (read_reader_and_attempt), if it has."""
    return page_cache_of(current_app, "attempts").get(attempt_id)  # type: ignore[no-any-return]


# Stores one save only if the claim holds (lms.accounts.access.claim_holds: the account signed in, active, with
# the session's version and an admitted role) and the attempt is still what the save was decided on (that
# account's, in progress, the same deadline), holding the attempt's row lock for the statement (FOR UPDATE), and
# returns the new row's id with _FIRST_NOT_OLDER (among the saves committed before it began). No row back: the
# claim does not hold or the attempt changed in between.
def _save_if_unchanged(*session_check: sa.ColumnElement[bool]) -> sa.Insert:
    return (
        sa.insert(_saves)
        .from_select(
            ["attempt_id", "question_id", "seq", "value", "client_at", "server_at", "source"],
            sa.select(
                _attempts.c.id,
                sa.bindparam("question_id", type_=_saves.c.question_id.type),
                sa.bindparam("seq", type_=_saves.c.seq.type),
                sa.bindparam("value", type_=_saves.c.value.type),
                sa.bindparam("client_at", type_=_saves.c.client_at.type),
                sa.bindparam("server_at", type_=_saves.c.server_at.type),
                sa.bindparam("source", type_=_saves.c.source.type),
            )
            .select_from(_attempts.join(_users, _users.c.id == _attempts.c.user_id))
            .where(
                claim_holds(_users),
                *session_check,
                _attempts.c.id == sa.bindparam("attempt_id"),
                _attempts.c.state == IN_PROGRESS,
                _attempts.c.deadline == sa.bindparam("deadline", type_=_attempts.c.deadline.type),
            )
            .with_for_update(of=_attempts),
        )
        .returning(_saves.c.id, _FIRST_NOT_OLDER)
    )


# For a claim made from the signed session (tries_claimed), the statement also checks its server-side session
# (session_holds: live, and seen within the last minute); for Claim.of an account the loader accepted, it need not.
_SAVE_IF_UNCHANGED = _save_if_unchanged()
_SAVE_IF_UNCHANGED_IN_SESSION = _save_if_unchanged(session_holds(_users))


def save_answer_at_once(
    claim: Claim,
    attempt: AttemptRow,
    question_id: str,
    value: Any,
    seq: int,
    client_at: datetime | None = None,
    now: datetime | None = None,
) -> SaveReceipt | None:
    """save_answer for the common case, a valid answer in time, in one statement (one round trip, instead of
    five with the account's): decided on `attempt` as read before, stored only if the claim holds (the statement
    checks who is signed in: lms.accounts.access.tries_claimed) and the attempt has not changed since, under its
    row lock like every change to it. None when anything else is the case (late, finished, an unknown question,
    an invalid answer, the attempt changed, the claim does not hold): save_answer then decides under the lock and
    says why. A save racing a submit is still stored before the submit scores it, or not at all."""
    now = now or now_utc()
    _check_seq(seq)
    given = _given_at(client_at, now)
    if attempt.state != IN_PROGRESS or attempt.user_id != claim.user_id:
        return None
    if now > save_cutoff(attempt) or given > attempt.deadline or question_id not in attempt.question_ids:
        return None
    question = _question_pool(attempt.quiz_version_id, attempt.content_hash).get(question_id)
    if question is None:
        return None
    try:
        normalized = normalize_answer(question, value)
    except AnswerInvalid:
        return None
    with single_write() as connection:
        row = _save_row(attempt.id, question_id, seq, normalized, given, now)
        statement = _SAVE_IF_UNCHANGED if claim.session_key is None else _SAVE_IF_UNCHANGED_IN_SESSION
        stored = connection.execute(
            statement, {**row, **claim.params(now), "deadline": attempt.deadline}
        ).first()
    if stored is None:  # decided again under the lock, with the attempt as it is now
        page_cache_of(current_app, "attempts").forget(attempt.id)
        return None
    current = _is_newest(*stored)
    standing = None if current else _read_answer_now(attempt.id, question_id)
    return _receipt(current, question_id, seq, normalized, now, attempt, standing)


def _read_answer_now(attempt_id: int, question_id: str) -> SavedAnswer | None:
    """The answer that stands, for the reply to a save that is not newer (outside any transaction: one read)."""
    with single_read() as connection:
        row = connection.execute(ANSWER_NOW, {"of_attempt": attempt_id, "of_question": question_id}).first()
    return None if row is None else SavedAnswer(row.value, row.seq, row.id, row.server_at)
