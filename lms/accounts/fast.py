"""Fast paths of the access check: the busiest views read the signed-in user in their own first statement.

Each fast path mirrors the slow path every other view takes, and must decide as it does:

- the slow path is Flask-Login's user loader (lms.accounts.operations.load_user_from_session: the signed session
  names a user id, session version and server-side session; the account must exist, be active and still have that
  session version, and the server-side session must be live: lms.accounts.sessions),
  then the role check of lms.accounts.access.roles_required (the account's role is one the route admits);
- reads_user_with keeps the loader's rule in Python (Identity.accepts_session, Reader.session_live) on the
  account its statement read, and leaves the role check to run as on every page;
- tries_claimed keeps both rules in SQL (claim_holds, session_holds) in the one statement that changes anything;
  when that statement does nothing, the request goes the slow way and the slow path decides;
- both take the fast way only while the server-side session was seen within the last minute
  (sessions.live_and_fresh): otherwise the loader runs, and notes the visit (sessions.touch);
- both read the session only where Flask-Login would load the user from it: not once the request has its user,
  not when Flask-Login's session protection refuses the session (lms.compat), never from a remember-me cookie.

The access check runs them through one hook, prepare_fast_path(), and the app refuses to start when a view uses
one without a role check to run it (uses_fast_path). The tests that prove each equal to the slow path:
tests/test_access.py (every route as every role, the lesson page and the autosave included; the startup
refusal), tests/test_courses_views.py (the lesson page's one statement; a session the account no longer accepts;
a reader back by remember-me cookie) and tests/test_quiz_autosave_claimed.py (a claimed save is one statement;
a changed password, a deactivated account, another account or role store nothing and answer as the slow path).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import g

from lms import compat
from lms.accounts import sessions
from lms.accounts.models import Identity, Role

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

PRELOAD_ATTR = "_lms_preload"
CLAIMED_ATTR = "_lms_claimed"

Preload = Callable[..., "tuple[Identity, Any] | None"]
Claimed = Callable[..., Any]
# What a view's fast paths do before the role check, given the view's arguments: a response to send as it is, or
# None to go the usual way (prepare_fast_path).
FastPath = Callable[[dict[str, Any]], Any]


def reads_user_with(preload: Preload) -> Callable[[F], F]:
    """The view's first statement also reads the signed-in user, so the busiest pages pay one query, not two.

    Mirrors Flask-Login's user loader (lms.accounts.operations.load_user_from_session), and must keep its rule:
    `preload(user_id, session=key, **view_args)` runs that statement before the access check, for the user id
    and the server-side session key the signed session names, and returns the account it read (a User, or a
    read-only Reader) with the page's rows, or None when there is no such account. The loader's checks then
    decide (Identity.accepts_session, Reader.session_live): the session version must match, the account be
    active and the server-side session live and seen within the last minute. If they pass, that account is the
    request's user and nothing else loads it, and the view takes its rows with preloaded_or(); otherwise (or
    without a session, as with a remember-me cookie) Flask-Login loads the user as on every other page. The role check runs either way. Put
    it below the access decorator, which is what runs it. Proved equal by tests/test_courses_views.py (the
    lesson page's tests) and tests/test_access.py.
    """

    def decorate(view: F) -> F:
        setattr(view, PRELOAD_ATTR, preload)
        return view

    return decorate


def preloaded_or(read: Callable[[], tuple[Identity, T] | None]) -> T | None:
    """The rows the access check read with the request's user (reads_user_with), or, when it read none (a user
    signed in by a remember-me cookie, the slow path), the rows `read()` reads now: the same rows either way."""
    if "lms_preloaded" in g:
        return g.pop("lms_preloaded")  # type: ignore[no-any-return]
    found = read()
    return found[1] if found is not None else None


# The roles a claim admits, as one parameter each: `role IN (:claim_role_0, :claim_role_1, ...)`, one slot per role
# there is, the slots a claim leaves empty NULL (no role equals NULL, so an empty slot admits nobody). A fixed
# number of parameters keeps the statement's SQL the same for every claim: SQLAlchemy compiles it once and reuses
# it as it is, where an expanding IN list is re-rendered at every execution (about 5% of an autosave's CPU).
ROLE_SLOTS = tuple(f"claim_role_{i}" for i in range(len(Role)))
_NO_ROLES = (None,) * len(ROLE_SLOTS)


@dataclass(frozen=True, slots=True)
class Claim:
    """Who the signed session says is signed in (the user id and session version it was signed for), with the
    roles the route admits: not checked yet. A statement that acts on it checks it itself (claim_holds), which
    is what Flask-Login's loader and the role check would have checked (tests/test_quiz_autosave_claimed.py)."""

    user_id: int
    session_version: int
    roles: tuple[str, ...]
    # The key of the server-side session the signed session names (lms.accounts.sessions.session_key), which a
    # statement checks with session_holds. None only in Claim.of: the request's loader checked the session already.
    session_key: str | None = None

    @classmethod
    def of(cls, account: Identity) -> Claim:
        """The claim an account already signed in and admitted makes (for statements shared with claimed ones):
        its session was checked when it was loaded, so the claim names none."""
        return cls(account.id, account.session_version, (account.role,))

    def params(self, now: Any = None) -> dict[str, Any]:
        """The values of claim_holds' parameters, and of session_holds' when the claim names a session."""
        if len(self.roles) > len(ROLE_SLOTS):
            raise ValueError(f"a claim names at most {len(ROLE_SLOTS)} roles: {self.roles}")
        values = {
            "claim_user": self.user_id,
            "claim_version": self.session_version,
            **dict(zip(ROLE_SLOTS, (*self.roles, *_NO_ROLES), strict=False)),
        }
        if self.session_key is not None:
            values.update(sessions.fresh_params("claim", self.session_key, now))
        return values


def claim_holds(users: sa.Table) -> sa.ColumnElement[bool]:
    """SQL that is true for the users row the claim names when the claim holds: the account exists, is active,
    still has the session version the session was signed for (Flask-Login's loader: accepts_session) and one of
    the route's roles (the role check). Parameters from Claim.params(). Proved equal by
    tests/test_quiz_autosave_claimed.py (test_the_statement_stores_only_what_the_claim_allows and the sessions
    the account no longer accepts)."""
    return sa.and_(
        users.c.id == sa.bindparam("claim_user"),
        users.c.session_version == sa.bindparam("claim_version"),
        users.c.active.is_(True),
        users.c.role.in_([sa.bindparam(slot, type_=users.c.role.type) for slot in ROLE_SLOTS]),
    )


def session_holds(users: sa.Table) -> sa.ColumnElement[bool]:
    """SQL that is true when the server-side session the claim names (Claim.session_key) is the account's, live
    and seen within the last minute (sessions.live_and_fresh): what the loader checks, without its touch. A
    statement for claims made from the signed session adds it to claim_holds (lms.quizzes.fast). Proved by
    tests/test_sessions.py (a signed-out session's save stores nothing) and tests/test_quiz_autosave_claimed.py."""
    return sessions.live_and_fresh(users.c.id, "claim")


def tries_claimed(attempt: Claimed) -> Callable[[F], F]:
    """Let the route's commonest request do its work in one statement that also checks who is signed in.

    Mirrors Flask-Login's user loader and the role check together, and must keep both rules in that statement
    (claim_holds). `attempt(claim, **view_args)` runs first, before anything loads the user, with what the
    signed session claims (Claim: user id, session version and the roles the route admits). It may change
    nothing except in a statement that checks the claim itself, and it returns that statement's response, or None
    when that statement did nothing or it did not try (a malformed request, rows it does not know). With None the
    request goes the usual way: Flask-Login loads the user, the access check decides, the view runs, and says why
    not. So a save by a signed-in student costs one round trip to the database, not two, and the same rules
    decide whether it is theirs to make. Put it below the access decorator, which is what runs it. Proved equal by
    tests/test_quiz_autosave_claimed.py and tests/test_access.py.
    """

    def decorate(view: F) -> F:
        setattr(view, CLAIMED_ATTR, attempt)
        return view

    return decorate


def uses_fast_path(view: Callable[..., Any]) -> bool:
    """Whether the view reads the user or acts on a claim (reads_user_with, tries_claimed): only a role check
    runs those, so the startup check (lms.accounts.access.undeclared_views) refuses such a view without one."""
    return hasattr(view, PRELOAD_ATTR) or hasattr(view, CLAIMED_ATTR)


def prepare_fast_path(view: Callable[..., Any], roles: Iterable[Role]) -> FastPath | None:
    """The hook the role check (lms.accounts.access.roles_required) calls once for each view it guards: what the
    view's fast paths do before the check, or None for a view without any (the usual way, at no cost).

    The claimed attempt runs first (its response, when it has one, is the request's); otherwise the preload reads
    the user with the page's rows. Either way the role check then runs as it would without them."""
    preload: Preload | None = getattr(view, PRELOAD_ATTR, None)
    claimed: Claimed | None = getattr(view, CLAIMED_ATTR, None)
    if preload is None and claimed is None:
        return None
    admitted = tuple(sorted(role.value for role in roles))  # as a Claim names them

    def run(view_args: dict[str, Any]) -> Any:
        if claimed is not None:
            done = _try_claimed(claimed, admitted, view_args)
            if done is not None:
                return done
        if preload is not None:
            _preload_user(preload, view_args)
        return None

    return run


def _preload_user(preload: Preload, view_args: dict[str, Any]) -> None:
    """Run the view's preload for the session's claim, and make the account it read the request's user when
    Flask-Login's loader would have accepted it (accepts_session); otherwise leave the loading to Flask-Login."""
    claim = _unloaded_session_claim()
    if claim is None:
        return
    user_id, version, key = claim
    found = preload(user_id, session=key, **view_args)
    if found is None:
        return
    user, rows = found
    if user.id == user_id and user.accepts_session(version) and getattr(user, "session_live", False):
        compat.set_request_user(user)
        g.lms_preloaded = rows


def _try_claimed(attempt: Claimed, admitted: tuple[str, ...], view_args: dict[str, Any]) -> Any:
    """Run the view's claimed attempt with the session's claim and the route's roles; None when the session
    claims nothing (the request then goes the usual way)."""
    claim = _unloaded_session_claim()
    if claim is None:
        return None
    user_id, version, key = claim
    return attempt(Claim(user_id, version, admitted, key), **view_args)


def _unloaded_session_claim() -> tuple[int, int, str] | None:
    """The session's claim (_session_claim), when the request has not loaded its user yet and Flask-Login's
    session protection accepts the session; None otherwise, and the user is then loaded the usual way."""
    if compat.request_user_loaded():
        return None
    claim = _session_claim()
    if claim is None or compat.session_protection_failed():
        return None
    return claim


def _session_claim() -> tuple[int, int, str] | None:
    """The (user id, session version, server-side session key) the signed session names, as Flask-Login stored
    it (Identity.get_id); None for a session that names none."""
    parsed = sessions.parse_session_id(compat.session_user_id())
    if parsed is None:
        return None
    user_id, version, token = parsed
    return user_id, version, sessions.session_key(token)
