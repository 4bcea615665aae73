"""credentials: status list places, signed credentials, status lists

Open Badges 3.0 (issue 20): each certificate's random place in the revocation and suspension lists, the signed
credential of each certificate version (served as stored), and each status list credential as last signed. Two partial indexes keep a status list's read to its set bits: the
revoked certificates, and the suspended places.

Revision ID: 96b5696b0087
Revises: 3c6e1f0a9b2d
Create Date: 2026-12-04 22:40:10.992712

"""
from alembic import op
import sqlalchemy as sa

import lms.database


# revision identifiers, used by Alembic.
revision = '96b5696b0087'
down_revision = '3c6e1f0a9b2d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('credential_status_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('list_number', sa.Integer(), nullable=False),
    sa.Column('bits_digest', sa.String(length=64), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('signed_at', lms.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("purpose IN ('revocation', 'suspension')", name=op.f('ck_credential_status_lists_purpose_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credential_status_lists')),
    sa.UniqueConstraint('purpose', 'list_number', name=op.f('uq_credential_status_lists_purpose_list_number'))
    )
    op.create_table('credential_status_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('list_number', sa.Integer(), nullable=False),
    sa.Column('list_index', sa.Integer(), nullable=False),
    sa.Column('suspended', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', lms.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("purpose = 'suspension' OR NOT suspended", name=op.f('ck_credential_status_entries_suspended_in_suspension_list')),
    sa.CheckConstraint("purpose IN ('revocation', 'suspension')", name=op.f('ck_credential_status_entries_purpose_known')),
    sa.CheckConstraint('list_number >= 1 AND list_index >= 0', name=op.f('ck_credential_status_entries_place_in_range')),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_credential_status_entries_certificate_id_certificates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credential_status_entries')),
    sa.UniqueConstraint('certificate_id', 'purpose', name=op.f('uq_credential_status_entries_certificate_id_purpose')),
    sa.UniqueConstraint('purpose', 'list_number', 'list_index', name=op.f('uq_credential_status_entries_purpose_list_number_list_index'))
    )
    op.create_index('ix_credential_status_entries_suspended', 'credential_status_entries', ['certificate_id'], unique=False, sqlite_where=sa.text('suspended = 1'), postgresql_where=sa.text('suspended'))
    op.create_index('ix_certificates_revoked', 'certificates', ['id'], unique=False, sqlite_where=sa.text("state = 'revoked'"), postgresql_where=sa.text("state = 'revoked'"))

    op.create_table('signed_credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=300), nullable=False),
    sa.Column('verification_method', sa.String(length=400), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('signed_at', lms.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['certificate_versions.id'], name=op.f('fk_signed_credentials_version_id_certificate_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signed_credentials')),
    sa.UniqueConstraint('version_id', name=op.f('uq_signed_credentials_version_id'))
    )


def downgrade():
    op.drop_index('ix_certificates_revoked', table_name='certificates')

    op.drop_table('signed_credentials')
    op.drop_table('credential_status_entries')
    op.drop_table('credential_status_lists')
