"""answer saves keep one index: (attempt, question, seq) also serves lookups by attempt

Revision ID: 3c6e1f0a9b2d
Revises: 98f2b336da0f
Create Date: 2026-11-30 02:50:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3c6e1f0a9b2d'
down_revision = '98f2b336da0f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quiz_answer_saves', schema=None) as batch_op:
        batch_op.drop_index('ix_quiz_answer_saves_attempt_id')


def downgrade():
    with op.batch_alter_table('quiz_answer_saves', schema=None) as batch_op:
        batch_op.create_index('ix_quiz_answer_saves_attempt_id', ['attempt_id'], unique=False)
