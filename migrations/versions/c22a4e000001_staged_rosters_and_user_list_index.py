"""staged bulk-enrolment files (staged_rosters) and the users list's (created_at, id) index

Revision ID: c22a4e000001
Revises: c21d00000001
Create Date: 2026-12-06 00:45:00

"""
from alembic import op
import sqlalchemy as sa

import lms.database


# revision identifiers, used by Alembic.
revision = 'c22a4e000001'
down_revision = 'c21d00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staged_rosters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', lms.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_staged_rosters_actor_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staged_rosters')),
    sa.UniqueConstraint('key', name=op.f('uq_staged_rosters_key'))
    )
    with op.batch_alter_table('staged_rosters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staged_rosters_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staged_rosters_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_created_at_id', ['created_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_created_at_id')

    with op.batch_alter_table('staged_rosters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staged_rosters_created_at'))
        batch_op.drop_index(batch_op.f('ix_staged_rosters_actor_id'))

    op.drop_table('staged_rosters')
