"""item analysis kept as sums per quiz version (quiz_item_counts), updated as attempts finish

Revision ID: c21d00000001
Revises: c22a55000001
Create Date: 2026-12-06 01:30:00.000000

Existing attempts are not summed here (that needs the scoring code): a version without submitted attempts gets
the marker row (kind "v": its sums are complete); one with attempts does not, and its analysis scans, as before,
until `lms item-report --rebuild` runs.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c21d00000001"
down_revision = "c22a55000001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "quiz_item_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("question_id", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=1000), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["quiz_version_id"],
            ["quiz_versions.id"],
            name=op.f("fk_quiz_item_counts_quiz_version_id_quiz_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_item_counts")),
        sa.UniqueConstraint(
            "quiz_version_id", "kind", "question_id", "value", name="uq_quiz_item_counts_key"
        ),
    )


def downgrade():
    op.drop_table("quiz_item_counts")
