"""The migrations build the whole schema from an empty database, and agree with the models, on both databases."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from lms import create_app
from lms.database import compared_with_models, dispose_engines
from lms.extensions import db
from tests.conftest import BASE_CONFIG


def test_upgrade_from_empty_builds_the_schema_the_models_describe(empty_database):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": compared_with_models}
            )
            diff = compare_metadata(context, db.metadata)
            tables = set(sa.inspect(conn).get_table_names())
        dispose_engines(db.engine)
    assert diff == [], f"models and migrations differ; run `flask --app wsgi db migrate`: {diff}"
    assert {"users", "audit_events", "alembic_version"} <= tables


def test_downgrade_to_base_and_upgrade_again(empty_database):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        with db.engine.connect() as conn:
            assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
        upgrade()
        with db.engine.connect() as conn:
            assert "users" in sa.inspect(conn).get_table_names()
        dispose_engines(db.engine)
