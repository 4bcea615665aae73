"""Kept staff pages and the student's dashboard (lms.accounts.kept_pages) and the table stamps they are kept under
(lms.stamps): a kept page is served in one statement, and every change, whoever makes it, shows at the next
request; so does every change the time alone makes. Both databases, and across processes (a real gunicorn host)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade

from lms import clock, create_app, stamps
from lms.accounts import kept_pages
from lms.accounts.models import Role
from lms.certificates.models import Certificate
from lms.certificates.revoking import revoke_certificate
from lms.courses.models import Track
from lms.database import dispose_engines
from lms.extensions import db
from lms.page_cache import TOKEN_MARKER
from tests import hosts
from tests.conftest import BASE_CONFIG, PASSWORD
from tests.support import recorded_statements
from tests.test_certificates import issued, progress, track  # noqa: F401  (fixtures)


def read_stamps() -> stamps.Stamps:
    """In a connection of its own: what another process sees."""
    with db.engine.connect() as conn:
        return stamps.read_stamps(conn, stamps.stamped_tables(db.metadata.tables))


def rename(email: str, name: str) -> None:
    """What a fix typed into psql does: no ORM, no app."""
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE users SET full_name = :name WHERE email = :email"), {"name": name, "email": email}
        )


def statements_of(client, path: str) -> tuple[str, list[str]]:
    with recorded_statements() as statements:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True), statements


# --- the stamps --------------------------------------------------------------------------------------------------


def test_every_table_but_the_busiest_has_its_stamp_triggers(app):
    with db.engine.connect() as conn:
        found = stamps.tables_with_triggers(conn)
    expected = set(stamps.stamped_tables(db.metadata.tables))
    assert found == expected
    assert {"users", "certificates", "assignment_submissions", "quiz_attempts", "enrollments"} <= found
    assert not found & stamps.UNSTAMPED_TABLES


def test_the_migrations_install_a_trigger_on_every_stamped_table(empty_database):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade()
        try:
            with db.engine.connect() as conn:
                found = stamps.tables_with_triggers(conn)
            db.session.add(Track(slug="t", title="T", summary="", certifies="", validity_months=12, completion={},
                                 unlock="free", source_hash="t"))  # fmt: skip
            db.session.commit()
            before = read_stamps()
            rename("nobody@example.org", "Nobody")  # changes no row: no stamp moves
            assert read_stamps() == before
            with db.engine.begin() as conn:
                conn.execute(sa.text("UPDATE tracks SET title = 'T, renamed'"))
            after = read_stamps()
        finally:
            db.session.remove()
            dispose_engines(db.engine)
    assert found == set(stamps.stamped_tables(db.metadata.tables)), (
        "a migration must install the stamp triggers"
    )
    assert after.of_table("tracks") > before.of_table("tracks")


def test_each_transaction_raises_the_stamps_of_the_tables_it_changed(app, backend, make_user):
    first = make_user(Role.STUDENT, email="first@example.org")
    make_user(Role.STUDENT, email="second@example.org")
    before = read_stamps()
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET full_name = 'Renamed' WHERE role = 'student'"))
        conn.execute(sa.text("DELETE FROM users WHERE email = 'second@example.org'"))
    after = read_stamps()
    assert after.of_table("users") > before.of_table("users")
    if backend == "postgresql":  # counted once per transaction, at commit
        assert after.of_table("users") == before.of_table("users") + 1
    assert after.of_table("certificates") == before.of_table("certificates")

    with db.engine.connect() as conn, conn.begin() as transaction:
        conn.execute(sa.text("UPDATE users SET full_name = 'Rolled back' WHERE id = :id"), {"id": first.id})
        transaction.rollback()
    assert read_stamps() == after, "a transaction rolled back must leave the stamps"


def test_the_stamps_row_made_again_never_matches_a_page_kept_before(app, make_user):
    make_user(Role.STUDENT)
    before = read_stamps()
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"DELETE FROM {stamps.STAMPS_TABLE}"))  # noqa: S608
        conn.execute(sa.text("UPDATE users SET full_name = 'Again'"))
    after = read_stamps()
    assert after.epoch not in ("", before.epoch)


# --- kept pages --------------------------------------------------------------------------------------------------


def test_a_kept_page_is_served_in_one_statement_and_shows_a_raw_sql_change_at_the_next_request(
    client, login, admin, make_user
):
    make_user(Role.STUDENT, email="nora@example.org", full_name="Nora Quill")
    login(client, admin)
    first, _ = statements_of(client, "/admin/users?q=nora")
    assert "Nora Quill" in first
    again, statements = statements_of(client, "/admin/users?q=nora")
    assert len(statements) == 1, statements
    assert "table_stamps" in statements[0] and "FROM users" in statements[0]
    assert "Nora Quill" in again
    rename("nora@example.org", "Nora Quillfeather")
    changed, statements = statements_of(client, "/admin/users?q=nora")
    assert "Nora Quillfeather" in changed and len(statements) > 1


def test_a_certificate_revoked_shows_revoked_in_the_staff_list_at_the_next_request(
    client,
    login,
    instructor,
    issued,  # noqa: F811
):
    login(client, instructor)
    assert ">VALID<" in client.get("/staff/certificates").get_data(as_text=True)
    _, statements = statements_of(client, "/staff/certificates")
    assert len(statements) == 1, "the list was not kept"
    revoke_certificate(db.session.get(Certificate, issued.id), instructor, "Issued in error")
    db.session.commit()
    assert ">REVOKED<" in client.get("/staff/certificates").get_data(as_text=True)


def test_an_expiry_shows_in_the_staff_list_and_the_dashboard_with_no_write(
    client,
    login,
    instructor,
    student,
    issued,  # noqa: F811
):
    expires = issued.current.expires_at
    assert expires is not None
    try:
        clock.freeze(expires - timedelta(days=1))
        login(client, instructor)
        assert ">VALID<" in client.get("/staff/certificates").get_data(as_text=True)
        _, statements = statements_of(client, "/staff/certificates")
        assert len(statements) == 1, "the list was not kept before the expiry"
        clock.freeze(expires + timedelta(seconds=1))
        assert ">EXPIRED<" in client.get("/staff/certificates").get_data(as_text=True)

        clock.freeze(expires - timedelta(days=400))  # before the renewal window opens
        login(client, student)
        assert "due for renewal" not in client.get("/dashboard").get_data(as_text=True)
        _, statements = statements_of(client, "/dashboard")
        assert len(statements) == 1, "the dashboard was not kept"
        clock.freeze(expires - timedelta(days=1))  # inside the window
        assert "due for renewal" in client.get("/dashboard").get_data(as_text=True)
    finally:
        clock.freeze(None)


def test_each_reader_gets_a_page_of_their_own_with_their_own_csrf_token(client, app, login, make_user):
    ada = make_user(Role.INSTRUCTOR, full_name="Ada Marker")
    bea = make_user(Role.INSTRUCTOR, full_name="Bea Grader")
    login(client, ada)
    client.get("/grading")
    kept = client.get("/grading").get_data(as_text=True)
    assert "Ada Marker" in kept and TOKEN_MARKER not in kept
    token = re.search(r'name="csrf_token" value="([^"]+)"', kept)
    assert token is not None
    other = app.test_client()
    login(other, bea)
    theirs = other.get("/grading").get_data(as_text=True)
    assert "Bea Grader" in theirs and "Ada Marker" not in theirs
    # The token on the kept page is the reader's own: the form it sits in is accepted.
    assert client.post("/logout", data={"csrf_token": token.group(1)}).status_code == 302
    assert client.get("/grading").status_code == 302, "signed out: the kept page must not be served"


def test_a_page_with_a_flashed_message_is_rendered_for_it_alone(client, login, admin):
    login(client, admin)
    client.get("/admin/users")
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Shown once, to you")]
    assert "Shown once, to you" in client.get("/admin/users").get_data(as_text=True)
    assert "Shown once, to you" not in client.get("/admin/users").get_data(as_text=True)


def test_a_rendering_is_not_kept_when_it_reads_an_unstamped_table_or_the_clock_unbounded(app):
    stamped = frozenset(stamps.stamped_tables(db.metadata.tables))
    now = stamps.Stamps("e", {"users": 3, "certificates": 5})
    plain = kept_pages._Rendering(tables={"certificates"})
    page = kept_pages._kept(plain, stamped, now, "<p>x</p>")
    assert page is not None and page.stamps == (("certificates", 5), ("users", 3))
    assert page.holds(now, clock.now_utc())
    assert not page.holds(stamps.Stamps("e", {"users": 3, "certificates": 6}), clock.now_utc())
    assert not page.holds(stamps.Stamps("other", {"users": 3, "certificates": 5}), clock.now_utc())
    assert kept_pages._kept(kept_pages._Rendering(tables={"jobs"}), stamped, now, "") is None
    assert (
        kept_pages._kept(
            kept_pages._Rendering(tables={"users"}, time=clock.TimeRead(read=True)), stamped, now, ""
        )
        is None
    )
    until = clock.now_utc() + timedelta(minutes=5)
    timed = kept_pages._Rendering(tables={"users"}, time=clock.TimeRead(read=True, said=True, until=until))
    page = kept_pages._kept(timed, stamped, now, "")
    assert page is not None and page.holds(now, until - timedelta(seconds=1))
    assert not page.holds(now, until)


def test_another_host_shows_each_change_at_its_next_request(app, tmp_path: Path, make_user):
    """The test process is the other host: it changes the rows without the ORM while the app host keeps pages."""
    admin = make_user(Role.ADMIN, email="admin@example.org")
    make_user(Role.STUDENT, email="nora@example.org", full_name="Nora Quill")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with hosts.running_hosts({"a": hosts.host_env(url, tmp_path, "a")}) as running:
        host = running["a"]
        reader = hosts.Visitor()
        reader.sign_in(host, admin.email, PASSWORD)
        assert "Nora Quill" in reader.get(host, "/admin/users?q=nora").text
        assert "Nora Quill" in reader.get(host, "/admin/users?q=nora").text  # now kept by the host
        rename("nora@example.org", "Nora Renamed")
        assert "Nora Renamed" in reader.get(host, "/admin/users?q=nora").text, "the host showed its kept page"
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE users SET active = false WHERE email = 'nora@example.org'"))
        assert "<strong>Deactivated</strong>" in reader.get(host, "/admin/users?q=nora").text
