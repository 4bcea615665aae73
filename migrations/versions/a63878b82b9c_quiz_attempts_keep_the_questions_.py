"""quiz attempts keep the questions flagged for review

Revision ID: a63878b82b9c
Revises: 6feb39e1b04a
Create Date: 2026-12-04 23:26:43.253721

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a63878b82b9c'
down_revision = '6feb39e1b04a'
branch_labels = None
depends_on = None


def upgrade():
    # A JSON list of question ids; attempts already there start with none flagged.
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flagged', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))


def downgrade():
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.drop_column('flagged')
