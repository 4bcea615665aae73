"""quizzes of kind "recertification"

A track's recertification exam is a quiz of its own kind: the kind column grows to 20 characters and its CHECK
constraint admits "recertification" (replaced in batch mode, so SQLite recreates the table).

Revision ID: c17b1e000002
Revises: a63878b82b9c
Create Date: 2026-12-05 21:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c17b1e000002'
down_revision = 'a63878b82b9c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_quizzes_kind_known'), type_='check')
        batch_op.alter_column('kind', existing_type=sa.String(length=10), type_=sa.String(length=20), existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_quizzes_kind_known'), "kind IN ('module', 'final', 'recertification')")


def downgrade():
    # A recertification exam has no place in the older schema: it becomes a final exam in name (its attempts stay).
    op.execute("UPDATE quizzes SET kind = 'final' WHERE kind = 'recertification'")
    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_quizzes_kind_known'), type_='check')
        batch_op.alter_column('kind', existing_type=sa.String(length=20), type_=sa.String(length=10), existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_quizzes_kind_known'), "kind IN ('module', 'final')")
