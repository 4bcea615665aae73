"""server-side sessions: one row per signed-in device, revoked at sign-out

Revision ID: c16a5e550001
Revises: c19a0b000001
Create Date: 2026-12-05 21:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lms.database


# revision identifiers, used by Alembic.
revision = 'c16a5e550001'
down_revision = 'c19a0b000001'
branch_labels = None
depends_on = None


def upgrade():
    # Sessions signed before this revision name no server-side session: their holders sign in again.
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('remember', sa.Boolean(), nullable=False),
        sa.Column('created_at', lms.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', lms.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('idle_until', lms.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column('expires_at', lms.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', lms.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column('address', sa.String(length=45), nullable=False),
        sa.Column('device', sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_user_sessions_key_hash')),
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
    op.drop_table('user_sessions')
