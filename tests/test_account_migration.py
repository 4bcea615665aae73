"""The migration that brings email confirmation counts every account already there as confirmed."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import upgrade

from lms import create_app
from lms.database import dispose_engines
from lms.extensions import db
from tests.conftest import BASE_CONFIG

BEFORE = "a63878b82b9c"


def test_accounts_made_before_confirmation_existed_count_as_confirmed(empty_database):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database})
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO users (email, full_name, password_hash, role, active, session_version,"
                    " accommodation_factor, created_at, updated_at) VALUES ('old@example.org', 'Old Timer', 'h',"
                    " 'student', true, 1, 1.0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        upgrade(revision="c16a5e550002")
        with db.engine.connect() as conn:
            row = conn.execute(sa.text("SELECT email_verified_at, pending_email FROM users")).one()
        dispose_engines(db.engine)
    assert row.email_verified_at is not None and row.pending_email is None
