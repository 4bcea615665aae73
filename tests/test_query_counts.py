"""Every list page runs the same number of SQL statements with 10 rows as with 1 000 (no query per row).

Rows are made in bulk with core INSERTs, each a copy of a row the app's own operations made (the access-walk
samples), so every column the models require is filled the way the app fills it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.assignments.models import Submission
from lms.certificates.codes import format_code, new_code
from lms.certificates.models import Certificate, CertificateVersion
from lms.courses.models import Track
from lms.extensions import db
from lms.quizzes.models import Attempt
from tests.support import recorded_statements

SMALL, LARGE = 10, 1000


def copies(table: sa.Table, template_id: int, count: int, vary: Callable[[int], dict[str, Any]]) -> None:
    """`count` copies of one row in one INSERT, each changed by vary(i)."""
    if count <= 0:
        return
    template = dict(db.session.execute(sa.select(table).where(table.c.id == template_id)).mappings().one())
    template.pop("id")
    db.session.execute(table.insert(), [{**template, **vary(i)} for i in range(count)])
    db.session.commit()


class Grower:
    """Adds students, and rows that belong to them, up to a total number."""

    def __init__(self, samples: Any) -> None:
        self.samples = samples
        self.users: list[int] = []
        self.tag = secrets.token_hex(3)

    def students(self, total: int) -> list[int]:
        start = len(self.users)
        copies(User.__table__, self.samples.other_student.id, total - start, lambda i: {
            "email": f"bulk-{self.tag}-{start + i}@example.org", "full_name": f"Bulk Student {start + i}",
        })  # fmt: skip
        self.users = list(
            db.session.scalars(
                sa.select(User.id).where(User.email.like(f"bulk-{self.tag}-%")).order_by(User.id)
            )
        )
        return self.users

    def new_users(self, total: int) -> list[int]:
        before = len(self.users)
        return self.students(total)[before:]


def grow_attempts(grower: Grower, total: int) -> None:
    users = grower.new_users(total)
    copies(Attempt.__table__, grower.samples.done_attempt_id, len(users), lambda i: {"user_id": users[i]})


def grow_submissions(grower: Grower, total: int) -> None:
    users = grower.new_users(total)
    copies(Submission.__table__, grower.samples.submission.id, len(users), lambda i: {
        "user_id": users[i], "stored_name": secrets.token_hex(16),
    })  # fmt: skip


def grow_certificates(grower: Grower, total: int) -> list[str]:
    users = grower.new_users(total)
    codes = [new_code().canonical for _ in users]
    copies(Certificate.__table__, grower.samples.certificate.id, len(users), lambda i: {
        "user_id": users[i], "code": codes[i], "recipient_salt": secrets.token_hex(8),
    })  # fmt: skip
    if users:
        found = sa.select(Certificate.code, Certificate.id).where(Certificate.code.in_(codes))
        ids = {row.code: row.id for row in db.session.execute(found)}
        version = db.session.scalar(
            sa.select(CertificateVersion.id).where(
                CertificateVersion.certificate_id == grower.samples.certificate.id
            )
        )
        copies(CertificateVersion.__table__, version, len(users), lambda i: {
            "certificate_id": ids[codes[i]], "holder_name": f"Bulk Student {i}",
        })  # fmt: skip
    return [format_code(code) for code in db.session.scalars(sa.select(Certificate.code))]


def grow_tracks(grower: Grower, total: int) -> None:
    existing = db.session.scalar(sa.select(sa.func.count()).select_from(Track)) or 0
    copies(Track.__table__, grower.samples.certificate_track.id, total - existing, lambda i: {
        "slug": f"bulk-{grower.tag}-{existing + i}", "title": f"Bulk track {existing + i}", "retired_at": None,
    })  # fmt: skip


@pytest.fixture
def grower(samples: Any) -> Grower:
    return Grower(samples)


def statements_at_both_sizes(grow: Callable[[int], Any], request: Callable[[Any], Any], large: int = LARGE
                             ) -> tuple[list[str], list[str]]:  # fmt: skip
    results = []
    for total in (SMALL, large):
        grown = grow(total)
        request(grown)  # once unmeasured: first-use work (compiled statements, caches) is not per row
        with recorded_statements(one_line=True) as statements:
            response = request(grown)
        assert response.status_code == 200, response.status_code
        results.append(statements)
    return results[0], results[1]


def assert_constant(small: list[str], large: list[str]) -> None:
    assert len(small) == len(large), "\n".join(
        ["statements with 10 rows:", *small, "", f"with {LARGE} rows:", *large]
    )


def test_quiz_attempts_list(client, login, samples, grower):
    login(client, samples.instructor)
    small, large = statements_at_both_sizes(
        lambda n: grow_attempts(grower, n),
        lambda _: client.get(f"/staff/quizzes/{samples.quiz_slug}/attempts"),
    )
    assert_constant(small, large)
    assert "Bulk Student 999" in client.get(f"/staff/quizzes/{samples.quiz_slug}/attempts").get_data(
        as_text=True
    )


def test_grading_queue(client, login, samples, grower):
    login(client, samples.instructor)
    small, large = statements_at_both_sizes(
        lambda n: grow_submissions(grower, n), lambda _: client.get("/grading?state=all")
    )
    assert_constant(small, large)


def test_admin_user_list(client, login, samples, grower):
    login(client, samples.admin)
    small, large = statements_at_both_sizes(grower.students, lambda _: client.get("/admin/users"))
    assert_constant(small, large)


def test_bulk_verification(client, samples, grower):
    # At most 500 codes a request (MAX_BULK_CODES): 10 codes against 500.
    small, large = statements_at_both_sizes(
        lambda n: grow_certificates(grower, n),
        lambda codes: client.post("/verify/bulk", data={"codes": "\n".join(codes[:500])}),
    )
    assert_constant(small, large)
    page = client.post("/verify/bulk", data={"codes": "\n".join(grow_certificates(grower, LARGE)[:500])})
    assert page.get_data(as_text=True).count("VALID") >= 500


def test_certificate_staff_list(client, login, samples, grower):
    login(client, samples.instructor)
    small, large = statements_at_both_sizes(
        lambda n: grow_certificates(grower, n), lambda _: client.get("/staff/certificates")
    )
    assert_constant(small, large)


def test_track_catalog(client, login, samples, grower):
    login(client, samples.student)
    small, large = statements_at_both_sizes(lambda n: grow_tracks(grower, n), lambda _: client.get("/tracks"))
    assert_constant(small, large)
    assert "Bulk track 900" in client.get("/tracks").get_data(as_text=True)
