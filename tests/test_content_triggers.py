"""A track's content version goes up whoever changes its modules or lessons: a raw SQL update, a data migration, a
lesson moved to another track (both tracks). Checked in the database, and across processes: an app host (a real
gunicorn process) that keeps the lesson page shows the change at its next request. Both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from flask_migrate import upgrade

from lms import create_app
from lms.accounts.models import Role
from lms.courses import triggers
from lms.courses.models import Lesson, Module, Track
from lms.database import dispose_engines
from lms.extensions import db
from tests import hosts
from tests.conftest import BASE_CONFIG, PASSWORD


def _track(slug: str) -> Track:
    track = Track(slug=slug, title=slug.title(), summary="", certifies="", validity_months=12, completion={},
                  unlock="free", source_hash="t")  # fmt: skip
    db.session.add(track)
    db.session.flush()
    module = Module(track_id=track.id, slug=f"{slug}-module", title="Module", source_hash="t")
    db.session.add(module)
    db.session.flush()
    return track


def _lesson(track: Track, slug: str, body: str) -> Lesson:
    module = db.session.scalars(sa.select(Module).where(Module.track_id == track.id)).one()
    lesson = Lesson(track_id=track.id, module_id=module.id, slug=slug, title=slug.title(), body_html=body,
                    source_hash="t")  # fmt: skip
    db.session.add(lesson)
    return lesson


def seed() -> tuple[int, int]:
    alpha, beta = _track("alpha"), _track("beta")
    _lesson(alpha, "kept", "<p>first words</p>")
    _lesson(alpha, "wanderer", "<p>the wanderer</p>")
    _lesson(beta, "home", "<p>beta home</p>")
    db.session.commit()
    return alpha.id, beta.id


def versions() -> dict[str, int]:
    """Read in a connection of its own: what another process sees."""
    with db.engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT slug, content_version FROM tracks")).all())  # type: ignore[arg-type]


def raw_sql_update(body: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE lessons SET body_html = :body WHERE slug = 'kept'"), {"body": body})


def data_migration(body: str) -> None:
    """What a migration's `op.execute` does: Alembic's operations on a connection of their own, no ORM."""
    with db.engine.begin() as conn:
        op = Operations(MigrationContext.configure(conn))
        lessons = sa.table("lessons", sa.column("slug"), sa.column("body_html"))
        op.execute(lessons.update().where(lessons.c.slug == "kept").values(body_html=body))


def move_with_raw_sql(beta_id: int) -> None:
    with db.engine.begin() as conn:
        module_id = conn.execute(
            sa.text("SELECT id FROM modules WHERE track_id = :t"), {"t": beta_id}
        ).scalar()
        conn.execute(
            sa.text("UPDATE lessons SET track_id = :t, module_id = :m WHERE slug = 'wanderer'"),
            {"t": beta_id, "m": module_id},
        )


def move_with_the_orm(beta_id: int) -> None:
    lesson = db.session.scalars(sa.select(Lesson).where(Lesson.slug == "wanderer")).one()
    lesson.track_id = beta_id
    lesson.module_id = db.session.scalars(sa.select(Module.id).where(Module.track_id == beta_id)).one()
    db.session.commit()


def test_a_raw_sql_update_raises_the_version(app):
    seed()
    before = versions()
    raw_sql_update("<p>changed by hand</p>")
    after = versions()
    assert after["alpha"] > before["alpha"]
    assert after["beta"] == before["beta"]


def test_an_update_that_changes_nothing_leaves_the_version(app, backend):
    seed()
    before = versions()
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE lessons SET body_html = body_html WHERE slug = 'kept'"))
    if backend == "postgresql":
        assert versions() == before
    else:  # SQLite triggers cannot compare whole rows: a no-op update raises it too (harmless, a re-read)
        assert versions()["alpha"] >= before["alpha"]


def test_a_data_migration_raises_the_version(app):
    seed()
    before = versions()
    data_migration("<p>migrated</p>")
    assert versions()["alpha"] > before["alpha"]


@pytest.mark.parametrize("move", [move_with_raw_sql, move_with_the_orm])
def test_a_lesson_moved_to_another_track_raises_both_versions(app, move):
    _, beta_id = seed()
    before = versions()
    move(beta_id)
    after = versions()
    assert after["alpha"] > before["alpha"], "the old track's pages would still show the lesson"
    assert after["beta"] > before["beta"]


def test_inserts_and_deletes_raise_the_version(app):
    alpha_id, _ = seed()
    before = versions()
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM lessons WHERE slug = 'kept'"))
    middle = versions()
    assert middle["alpha"] > before["alpha"]
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO modules (track_id, slug, title, summary, position, source_hash) "
                             "VALUES (:t, 'extra', 'Extra', '', 9, 'x')"), {"t": alpha_id})  # fmt: skip
    assert versions()["alpha"] > middle["alpha"]


def test_the_migrations_install_the_triggers(empty_database):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            names = triggers.trigger_names(conn)
        with db.engine.connect() as conn:
            created = triggers_of_create_all(conn.dialect.name)
        try:
            seed()
            before = versions()
            raw_sql_update("<p>after upgrade</p>")
            assert versions()["alpha"] > before["alpha"]
        finally:
            db.session.remove()  # its connection back to the pool, which is then closed: none left open
            dispose_engines(db.engine)
    assert names == created, "the migration and create_all install different triggers"


def triggers_of_create_all(dialect: str) -> set[str]:
    names = set()
    for statement in triggers.install_statements(dialect):
        words = statement.split()
        if words[:2] == ["CREATE", "TRIGGER"]:
            names.add(words[2] if words[2] != "IF" else words[5])
    return names


def test_a_host_that_keeps_the_page_shows_each_change_at_its_next_request(app, tmp_path: Path, make_user):
    """The test process is the other host: it changes the rows without the ORM while the app host keeps pages."""
    _, beta_id = seed()
    admin = make_user(Role.ADMIN, email="admin@example.org")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with hosts.running_hosts({"a": hosts.host_env(url, tmp_path, "a")}) as running:
        host = running["a"]
        reader = hosts.Visitor()
        reader.sign_in(host, admin.email, PASSWORD)

        def lesson(track: str, slug: str) -> hosts.Response:
            return reader.get(host, f"/tracks/{track}/lessons/{slug}")

        assert "first words" in lesson("alpha", "kept").text
        assert "first words" in lesson("alpha", "kept").text  # now kept by the host
        assert lesson("alpha", "wanderer").status == 200

        raw_sql_update("<p>changed by hand</p>")
        assert "changed by hand" in lesson("alpha", "kept").text, "raw SQL: the host showed its kept page"

        data_migration("<p>migrated words</p>")
        assert "migrated words" in lesson("alpha", "kept").text, (
            "data migration: the host showed its kept page"
        )

        move_with_the_orm(beta_id)
        assert lesson("alpha", "wanderer").status == 404, "moved lesson: the old track's kept page was shown"
        assert "the wanderer" in lesson("beta", "wanderer").text
        assert "wanderer" not in reader.get(host, "/tracks/alpha").text.lower()
