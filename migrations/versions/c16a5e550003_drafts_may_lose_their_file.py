"""a draft never handed in may lose its file (deleted by the student, or pruned); the row says who and when

Revision ID: c16a5e550003
Revises: c17b1e000001
Create Date: 2026-12-05 21:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lms.database


# revision identifiers, used by Alembic.
revision = 'c16a5e550003'
down_revision = 'c17b1e000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assignment_submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_removed_at', lms.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('file_removed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('file_removed_reason', sa.String(length=10), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_assignment_submissions_file_removed_by_id_users'),
            'users', ['file_removed_by_id'], ['id'], ondelete='SET NULL',
        )
        batch_op.create_check_constraint(
            op.f('ck_assignment_submissions_file_removed_only_from_drafts'),
            "(file_removed_at IS NULL AND file_removed_reason IS NULL) OR "
            "(state = 'replaced' AND file_removed_at IS NOT NULL AND file_removed_reason IN ('deleted', 'pruned'))",
        )


def downgrade():
    with op.batch_alter_table('assignment_submissions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_assignment_submissions_file_removed_only_from_drafts'), type_='check')
        batch_op.drop_constraint(
            batch_op.f('fk_assignment_submissions_file_removed_by_id_users'), type_='foreignkey'
        )
        batch_op.drop_column('file_removed_reason')
        batch_op.drop_column('file_removed_by_id')
        batch_op.drop_column('file_removed_at')
