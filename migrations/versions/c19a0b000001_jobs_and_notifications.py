"""the job queue (jobs), notifications, notification preferences and calendar feeds

Revision ID: c19a0b000001
Revises: c16a5e550002
Create Date: 2026-12-05 21:17:07.690473

"""
from alembic import op
import sqlalchemy as sa

import lms.database


# revision identifiers, used by Alembic.
revision = 'c19a0b000001'
down_revision = 'c16a5e550002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=80), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('run_at', lms.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', lms.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('locked_by', sa.String(length=120), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('unique_key', sa.String(length=200), nullable=True),
    sa.Column('created_at', lms.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', lms.database.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('queued', 'running', 'done', 'dead')", name=op.f('ck_jobs_state')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sa.UniqueConstraint('unique_key', name=op.f('uq_jobs_unique_key'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_due', ['state', 'run_at'], unique=False)

    op.create_table('calendar_feeds',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', lms.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_calendar_feeds_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_calendar_feeds')),
    sa.UniqueConstraint('token', name=op.f('uq_calendar_feeds_token'))
    )
    op.create_table('notification_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('updated_at', lms.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('email', 'in_app', 'off')", name=op.f('ck_notification_preferences_channel')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_notification_preferences'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=False),
    sa.Column('links', sa.JSON(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=True),
    sa.Column('created_at', lms.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', lms.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('emailed_at', lms.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('email_message_id', sa.String(length=200), nullable=True),
    sa.Column('email_to', sa.String(length=254), nullable=True),
    sa.Column('listed', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.CheckConstraint("channel IN ('email', 'in_app', 'off')", name=op.f('ck_notifications_channel')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notifications_dedupe_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'read_at'], unique=False)



def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_unread')

    op.drop_table('notifications')
    op.drop_table('notification_preferences')
    op.drop_table('calendar_feeds')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_due')

    op.drop_table('jobs')
