"""users choose the time zone their pages show times in

Revision ID: c14a7e2b0001
Revises: c16a5e550001
Create Date: 2026-12-05 21:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c14a7e2b0001'
down_revision = 'c16a5e550001'
branch_labels = None
depends_on = None


def upgrade():
    # An IANA name such as Europe/Berlin; NULL: not chosen (the browser's zone, else UTC).
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
