"""certificates can be suspended while their basis is under review

A certificate gains the state "suspended" (with when and why, both required in that state, and `upheld_at` for a
restoration by staff while the basis still did not hold); the one-certificate-per-track index now covers active
and suspended ones; the history gains the actions "suspended" and "restored"; each version keeps the completion
rule it was issued under (NULL for earlier versions: the track's rule is read instead).

Generated with `flask --app wsgi db migrate` on a fresh SQLite database, then edited by hand: the CHECK constraints
(which autogenerate does not compare) are replaced in batch mode, so SQLite recreates the tables; the partial index
of revoked certificates is dropped and created again around that recreation, so it keeps its WHERE clause.

Revision ID: 6feb39e1b04a
Revises: 74c593032885
Create Date: 2026-12-04 23:27:51.409167

"""
from alembic import op
import sqlalchemy as sa

import lms.database


# revision identifiers, used by Alembic.
revision = '6feb39e1b04a'
down_revision = '74c593032885'
branch_labels = None
depends_on = None

HELD = "state IN ('active', 'suspended')"
SUSPENSION_COMPLETE = "(state = 'suspended') = (suspended_at IS NOT NULL AND suspended_reason IS NOT NULL)"
REVOKED = "state = 'revoked'"


def upgrade():
    with op.batch_alter_table('certificate_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rule', sa.JSON(), nullable=True))

    op.drop_index('ix_certificates_revoked', table_name='certificates', sqlite_where=sa.text(REVOKED), postgresql_where=sa.text(REVOKED))
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_at', lms.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('suspended_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('upheld_at', lms.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_index('uq_certificates_one_active_per_track', sqlite_where=sa.text("state = 'active'"), postgresql_where=sa.text("state = 'active'"))
        batch_op.drop_constraint(op.f('ck_certificates_state_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_certificates_state_known'), "state IN ('active', 'suspended', 'revoked')")
        batch_op.create_check_constraint(op.f('ck_certificates_suspension_complete'), SUSPENSION_COMPLETE)
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index('uq_certificates_one_held_per_track', ['user_id', 'track_id'], unique=True, sqlite_where=sa.text(HELD), postgresql_where=sa.text(HELD))
    op.create_index('ix_certificates_revoked', 'certificates', ['id'], unique=False, sqlite_where=sa.text(REVOKED), postgresql_where=sa.text(REVOKED))

    with op.batch_alter_table('certificate_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_certificate_events_action_known'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_certificate_events_action_known'),
            "action IN ('issued', 'reissued', 'renewed', 'suspended', 'restored', 'revoked')",
        )


def downgrade():
    # Suspensions and restorations have no place in the older schema: their history entries go, and a suspended
    # certificate becomes active again (as it was before it was suspended).
    op.execute("DELETE FROM certificate_events WHERE action IN ('suspended', 'restored')")
    op.execute("UPDATE certificates SET state = 'active', suspended_at = NULL, suspended_reason = NULL WHERE state = 'suspended'")
    with op.batch_alter_table('certificate_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_certificate_events_action_known'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_certificate_events_action_known'), "action IN ('issued', 'reissued', 'renewed', 'revoked')"
        )

    op.drop_index('ix_certificates_revoked', table_name='certificates', sqlite_where=sa.text(REVOKED), postgresql_where=sa.text(REVOKED))
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('uq_certificates_one_held_per_track', sqlite_where=sa.text(HELD), postgresql_where=sa.text(HELD))
        batch_op.drop_constraint(op.f('ck_certificates_suspension_complete'), type_='check')
        batch_op.drop_constraint(op.f('ck_certificates_state_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_certificates_state_known'), "state IN ('active', 'revoked')")
        batch_op.drop_column('upheld_at')
        batch_op.drop_column('suspended_reason')
        batch_op.drop_column('suspended_at')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index('uq_certificates_one_active_per_track', ['user_id', 'track_id'], unique=True, sqlite_where=sa.text("state = 'active'"), postgresql_where=sa.text("state = 'active'"))
    op.create_index('ix_certificates_revoked', 'certificates', ['id'], unique=False, sqlite_where=sa.text(REVOKED), postgresql_where=sa.text(REVOKED))

    with op.batch_alter_table('certificate_versions', schema=None) as batch_op:
        batch_op.drop_column('rule')
