"""The demo accounts (development only): who they are, and the start-up refusal while one signs in with its
published password on a production site."""

from __future__ import annotations

import sqlalchemy as sa

from lms.accounts.models import Role, User
from lms.accounts.passwords import verify_password
from lms.extensions import db

# Published in the README: on a production site they would be known credentials.
DEMO_ACCOUNTS = [
    (Role.ADMIN, "admin@example.org", "Avery Admin", "blue-harbor-lantern"),
    (Role.INSTRUCTOR, "instructor@example.org", "Irene Instructor", "green-meadow-compass"),
    (Role.STUDENT, "student@example.org", "Sam Student", "amber-fox-journey"),
    (Role.STUDENT, "student2@example.org", "Sasha Student", "silver-oak-whistle"),
]


def accounts_with_demo_passwords() -> list[str]:
    """The emails of demo accounts that still sign in with their published password. Only these pairs are tried
    (at most four slow hashes at each start): checking every account would cost a hash per account."""
    published = {email: password for _, email, _, password in DEMO_ACCOUNTS}
    found = db.session.execute(
        sa.select(User.email, User.password_hash).where(User.email.in_(published)).order_by(User.email)
    ).all()
    return [
        email
        for email, password_hash in found
        if password_hash and verify_password(password_hash, published[email])
    ]
