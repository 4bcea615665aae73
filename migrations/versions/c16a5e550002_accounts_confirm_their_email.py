"""accounts confirm their email address; an email change waits for the new address to confirm it

Revision ID: c16a5e550002
Revises: c17b1e000003
Create Date: 2026-12-05 21:30:00.000000

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

import lms.database


# revision identifiers, used by Alembic.
revision = 'c16a5e550002'
down_revision = 'c17b1e000003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', lms.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pending_email', sa.String(length=254), nullable=True))
        batch_op.add_column(
            sa.Column('email_change_requested_at', lms.database.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('email_restored_at', lms.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_users_pending_email_normalized'), 'pending_email = lower(trim(pending_email))'
        )
    # Accounts made before confirmation existed were trusted as they are: they count as confirmed from now.
    users = sa.table('users', sa.column('email_verified_at', lms.database.UTCDateTime(timezone=True)))
    op.execute(users.update().values(email_verified_at=datetime.now(UTC)))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_pending_email_normalized'), type_='check')
        batch_op.drop_column('email_restored_at')
        batch_op.drop_column('email_change_requested_at')
        batch_op.drop_column('pending_email')
        batch_op.drop_column('email_verified_at')
