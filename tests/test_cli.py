"""The shell commands: create-user asks for a password; bootstrap can run again without duplicating anything."""

from __future__ import annotations

import sqlalchemy as sa

from lms import create_app
from lms.accounts import operations
from lms.accounts.cli import DEMO_ACCOUNTS
from lms.accounts.models import User
from lms.courses.models import Track
from lms.database import dispose_engines
from lms.extensions import db
from tests.conftest import BASE_CONFIG


def test_create_user_prompts_for_the_password_and_stores_the_role(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "lms",
            "create-user",
            "--email",
            " New.Instructor@Example.org ",
            "--name",
            "Nia Instructor",
            "--role",
            "instructor",
        ],
        input="teaching-is-learning\nteaching-is-learning\n",
    )
    assert result.exit_code == 0, result.output
    user = operations.find_user_by_email("new.instructor@example.org")
    assert user is not None and user.role == "instructor" and user.full_name == "Nia Instructor"
    assert operations.authenticate("new.instructor@example.org", "teaching-is-learning") is not None


def test_create_user_refuses_a_weak_password_with_a_message(app):
    result = app.test_cli_runner().invoke(
        args=["lms", "create-user", "--email", "weak@example.org", "--name", "Weak", "--role", "student"],
        input="short\nshort\n",
    )
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output
    assert operations.find_user_by_email("weak@example.org") is None


def test_create_user_on_an_existing_email_changes_the_role(app, student):
    result = app.test_cli_runner().invoke(
        args=["lms", "create-user", "--email", student.email, "--name", "X", "--role", "admin"],
        input="whatever-password\nwhatever-password\n",
    )
    assert result.exit_code == 0 and "role is now admin" in result.output
    db.session.refresh(student)
    assert student.role == "admin"


def test_bootstrap_twice_creates_the_demo_accounts_once(empty_database):
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database})
    runner = app.test_cli_runner()
    first = runner.invoke(args=["lms", "bootstrap"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["lms", "bootstrap"])
    assert second.exit_code == 0, second.output
    with app.app_context():
        tracks = db.session.execute(sa.select(Track.slug).order_by(Track.slug)).scalars().all()
        assert tracks == ["social-media-manager", "social-media-strategist"]
        assert (
            "Content synced" in first.output and "0 created" in second.output and "0 updated" in second.output
        )
        emails = db.session.execute(sa.select(User.email).order_by(User.email)).scalars().all()
        assert sorted(emails) == sorted(email for _, email, _, _ in DEMO_ACCOUNTS)
        for _, email, _, password in DEMO_ACCOUNTS:
            assert email in second.output and password in second.output
            assert operations.authenticate(email, password) is not None
        db.session.remove()
        dispose_engines(db.engine)
