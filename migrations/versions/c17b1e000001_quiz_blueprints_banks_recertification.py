"""quizzes keep their blueprint and bank; recertification exams

Revision ID: c17b1e000001
Revises: a63878b82b9c
Create Date: 2026-12-05 21:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c17b1e000001'
down_revision = 'a63878b82b9c'
branch_labels = None
depends_on = None


def upgrade():
    # Quizzes already loaded have no blueprint (a plain draw) and no bank; the next sync fills both from the files.
    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blueprint', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('bank', sa.String(length=100), nullable=True))
        batch_op.alter_column('kind', existing_type=sa.String(length=10), type_=sa.String(length=20),
                              existing_nullable=False)
        batch_op.drop_constraint(op.f('ck_quizzes_kind_known'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_quizzes_kind_known'), "kind IN ('module', 'final', 'recertification')"
        )


def downgrade():
    # A recertification exam has no place in the older schema: it becomes a final exam in name (its attempts stay).
    op.execute("UPDATE quizzes SET kind = 'final' WHERE kind = 'recertification'")
    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_quizzes_kind_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_quizzes_kind_known'), "kind IN ('module', 'final')")
        batch_op.alter_column('kind', existing_type=sa.String(length=20), type_=sa.String(length=10),
                              existing_nullable=False)
        batch_op.drop_column('bank')
        batch_op.drop_column('blueprint')
