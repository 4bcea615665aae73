"""table stamps: a counter per table, raised by database triggers in each transaction that changes the table

Revision ID: c21f00000001
Revises: c21e00000001
Create Date: 2026-12-06 09:30:00

Kept staff pages (lms.kept_pages) are served only while the stamps of the tables they read are unchanged. A frozen
copy of lms/stamps.py at this revision (a migration must not change when the code does): the stamps rows (eight
slots on PostgreSQL, by transaction id), the trigger function, and the triggers on every table of this revision
but the busiest.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

# revision identifiers, used by Alembic.
revision = 'c21f00000001'
down_revision = 'c21e00000001'
branch_labels = None
depends_on = None

TABLES = (
    'api_tokens', 'assignment_calibration_waivers', 'assignment_criteria', 'assignment_criterion_levels',
    'assignment_criterion_scores', 'assignment_exemplars', 'assignment_extensions', 'assignment_feedback_files',
    'assignment_grade_changes', 'assignment_grades', 'assignment_marks', 'assignment_regrade_requests',
    'assignment_second_markings', 'assignment_submissions', 'assignments', 'calendar_feeds', 'certificate_events',
    'certificate_versions', 'certificates', 'cohorts', 'credential_status_entries', 'credential_status_lists',
    'enrollments', 'lesson_completions', 'lessons', 'modules', 'notification_preferences', 'notifications',
    'quiz_attempts', 'quiz_item_counts', 'quiz_overrides', 'quiz_versions', 'quizzes', 'signed_credentials',
    'sso_identities', 'staged_rosters', 'tracks', 'users', 'webhook_endpoints',
)
FUNCTION = "lms_raise_table_stamp"
SUFFIX = "_raise_table_stamp"

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$
BEGIN
    IF current_setting('lms_stamped.' || TG_TABLE_NAME, true) = '1' THEN
        RETURN NULL;
    END IF;
    INSERT INTO table_stamps AS s (id, epoch, versions)
    VALUES (mod(txid_current(), 8)::integer, (random() * 1e15)::bigint, jsonb_build_object(TG_TABLE_NAME, 1))
    ON CONFLICT (id) DO UPDATE SET versions = jsonb_set(
        s.versions, ARRAY[TG_TABLE_NAME], to_jsonb(COALESCE((s.versions ->> TG_TABLE_NAME)::bigint, 0) + 1)
    );
    IF TG_LEVEL = 'ROW' THEN
        PERFORM set_config('lms_stamped.' || TG_TABLE_NAME, '1', true);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""


def upgrade():
    op.create_table(
        'table_stamps',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('epoch', sa.BigInteger(), nullable=False),
        sa.Column('versions', sa.JSON().with_variant(JSONB(), 'postgresql'), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_table_stamps')),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table in TABLES:
            name = f"{table}{SUFFIX}"
            op.execute(
                f'CREATE CONSTRAINT TRIGGER {name}_update AFTER UPDATE ON "{table}" DEFERRABLE INITIALLY DEFERRED '
                f"FOR EACH ROW WHEN (ROW(OLD.*)::text IS DISTINCT FROM ROW(NEW.*)::text) EXECUTE FUNCTION {FUNCTION}()"
            )
            op.execute(
                f'CREATE CONSTRAINT TRIGGER {name} AFTER INSERT OR DELETE ON "{table}" DEFERRABLE INITIALLY DEFERRED '
                f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
            )
            op.execute(
                f'CREATE TRIGGER {name}_truncate AFTER TRUNCATE ON "{table}" FOR EACH STATEMENT '
                f"EXECUTE FUNCTION {FUNCTION}()"
            )
    else:
        for table in TABLES:
            raise_stamp = (
                "INSERT INTO table_stamps (id, epoch, versions) VALUES (0, abs(random() % 1000000000000000), "
                f"json_object('{table}', 1)) ON CONFLICT (id) DO UPDATE SET versions = "
                f"json_set(versions, '$.{table}', coalesce(json_extract(versions, '$.{table}'), 0) + 1);"
            )
            for event in ("insert", "update", "delete"):
                op.execute(
                    f'CREATE TRIGGER IF NOT EXISTS {table}{SUFFIX}_{event} AFTER {event.upper()} ON "{table}" '
                    f"BEGIN {raise_stamp} END"
                )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            for suffix in ("", "_update", "_truncate"):
                op.execute(f'DROP TRIGGER IF EXISTS {table}{SUFFIX}{suffix} ON "{table}"')
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}{SUFFIX}_{event}")
    op.drop_table('table_stamps')
