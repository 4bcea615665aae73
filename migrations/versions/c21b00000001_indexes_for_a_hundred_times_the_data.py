"""indexes for a hundred times the data: the grading queue's order, the certificate list and its review queue,
the gradebook sorted by name or by enrolment, the open regrade requests

Revision ID: c21b00000001
Revises: c22a91000001
Create Date: 2026-12-06 00:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c21b00000001'
down_revision = 'c22a91000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assignment_submissions', schema=None) as batch_op:
        batch_op.create_index('ix_assignment_submissions_submitted', ['submitted_at', 'id'], unique=False)
    with op.batch_alter_table('assignment_regrade_requests', schema=None) as batch_op:
        batch_op.create_index('ix_assignment_regrade_requests_state', ['state', 'submission_id'], unique=False)
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index('ix_certificates_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_certificates_state_suspended', ['state', 'suspended_at', 'id'], unique=False)
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.create_index('ix_enrollments_track_enrolled', ['track_id', 'enrolled_at'], unique=False)
    # An expression index: created outside batch mode (SQLite recreates no table for an index).
    op.create_index('ix_users_name', 'users', [sa.text('lower(full_name)'), 'id'], unique=False)


def downgrade():
    op.drop_index('ix_users_name', table_name='users')
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_index('ix_enrollments_track_enrolled')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('ix_certificates_state_suspended')
        batch_op.drop_index('ix_certificates_created')
    with op.batch_alter_table('assignment_regrade_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_assignment_regrade_requests_state')
    with op.batch_alter_table('assignment_submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_assignment_submissions_submitted')
