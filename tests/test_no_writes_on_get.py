"""No GET request writes to the database: every GET route, as every role (the routes and samples of
tests/access_rules/, walked as tests/test_access.py walks them), runs no INSERT, UPDATE or DELETE, but for the few named in ALLOWED_ON_GET.

Verification views are counted in memory and written later by lms.certificates.tally: these tests delay that write
for an hour (CERTIFICATE_COUNT_FLUSH_SECONDS), so it never falls inside the request."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from lms.certificates.tally import tally_of
from tests.access_rules import ALL_RULES, ROLES, Rule
from tests.conftest import sign_in

GET_RULES = [rule for rule in ALL_RULES if rule.method == "GET"]

# A statement that changes rows or tables; a row lock taken by a read (FOR UPDATE, FOR SHARE) is not one.
_LOCKING_READ = re.compile(r"\bFOR\s+(NO\s+KEY\s+)?(UPDATE|SHARE)\b", re.IGNORECASE)
_WRITE = re.compile(
    r"\b(INSERT|UPDATE|DELETE|MERGE|UPSERT|REPLACE\s+INTO|TRUNCATE|CREATE|DROP|ALTER)\b", re.IGNORECASE
)


# The only writes a GET may make, each for a reason: none changes what anybody has done or been given.
ALLOWED_ON_GET: dict[str, str] = {
    # A visit record (where the reader left off), like an access log line; at most one per lesson per few minutes.
    "UPDATE enrollments SET last_lesson_id": "the lesson page records the visit for 'Continue where you left off'",
    # Session bookkeeping (lms.accounts.sessions.touch): the idle timeout counts from the last request, reading
    # included; at most one per session per minute, and it changes nothing anybody did.
    "UPDATE user_sessions SET last_seen_at": "a signed-in request notes when its session was last used",
    # Derived documents made on first request and kept, so each is made once and served byte-identical after.
    "INSERT INTO signed_credentials": "a version's signed OB 3.0 credential, signed once",
    "INSERT INTO credential_status_entries": "the certificate's random places in the status lists, taken once",
    "INSERT INTO credential_status_lists": "a status list's signed document, signed again only when it changes",
    "UPDATE credential_status_lists": "a status list's signed document, signed again only when it changes",
}


def not_allowed(writes: list[str]) -> list[str]:
    return [write for write in writes if not any(write.startswith(prefix) for prefix in ALLOWED_ON_GET)]


def is_write(statement: str) -> bool:
    return bool(_WRITE.search(_LOCKING_READ.sub("", statement)))


@contextmanager
def writes_recorded() -> Iterator[list[str]]:
    """Every writing statement any engine runs inside the block (the app's pools, the single-statement pool)."""
    writes: list[str] = []

    def record(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        if is_write(statement):
            writes.append(" ".join(statement.split()))

    sa.event.listen(sa.Engine, "before_cursor_execute", record)
    try:
        yield writes
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", record)


@pytest.mark.parametrize(
    ("statement", "writes"),
    [
        ("INSERT INTO users (email) VALUES (?)", True),
        ("UPDATE enrollments SET last_lesson_id=%(id)s WHERE enrollments.id = %(id_1)s", True),
        ("DELETE FROM answer_saves WHERE attempt_id = ?", True),
        ("WITH gone AS (DELETE FROM t RETURNING id) SELECT count(*) FROM gone", True),
        ("SELECT attempts.id FROM attempts WHERE attempts.id = %(id)s FOR UPDATE", False),
        ("SELECT attempts.id FROM attempts FOR NO KEY UPDATE", False),
        ("SELECT users.updated_at, users.deleted FROM users", False),
    ],
)
def test_writes_are_told_from_reads(statement: str, writes: bool) -> None:
    assert is_write(statement) is writes


@pytest.fixture
def counts_written_after(app: Any) -> Iterator[None]:
    """The views counted during the test are written once it is over, while its database is still there (not by
    the exit handler, after the schema is dropped)."""
    yield
    tally_of(app).flush()


@pytest.mark.app_config(CERTIFICATE_COUNT_FLUSH_SECONDS=3600)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("rule", GET_RULES, ids=lambda r: r.id)
def test_a_get_request_writes_nothing(counts_written_after, client, samples, rule: Rule, role: str) -> None:
    if role != "anonymous":
        sign_in(client, getattr(samples, role))
    kwargs: dict[str, Any] = {"headers": rule.headers}
    if rule.data is not None:
        kwargs["data"] = rule.data(samples)
    if rule.json is not None:
        kwargs["json"] = rule.json(samples)
    url = rule.url(samples)
    with writes_recorded() as writes:
        response = client.get(url, **kwargs)
    assert response.status_code != 500
    assert not_allowed(writes) == [], f"GET {url} as {role} ({response.status_code}) wrote: {writes}"


def test_only_the_named_derived_writes_are_allowed() -> None:
    assert not_allowed(["UPDATE enrollments SET last_lesson_id=? WHERE enrollments.id = ?"]) == []
    assert not_allowed(["UPDATE enrollments SET left_at=? WHERE enrollments.id = ?"]) != []
    assert not_allowed(["INSERT INTO certificates (code) VALUES (?)"]) != []


VERIFY = next(rule for rule in GET_RULES if rule.endpoint == "certificates.verify")


@pytest.mark.parametrize("rule", [VERIFY], ids=lambda r: r.id)
def test_the_walk_would_hear_the_counted_view_if_it_were_written_at_once(client, samples, rule: Rule) -> None:
    """The tests' default writes verification counts at once: the listener hears that write, so the hour's delay
    above is what keeps the verification page out of the request, not a deaf listener."""
    with writes_recorded() as writes:
        assert client.get(rule.url(samples)).status_code == 200
    assert any(write.startswith("UPDATE certificates") for write in writes), writes
