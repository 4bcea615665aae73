"""database triggers raise a track's content version whenever one of its modules or lessons changes

Revision ID: c21a00000001
Revises: c21b00000001
Create Date: 2026-12-06 00:40:00

Whoever changes the rows (the ORM, raw SQL, a data migration, psql), and both tracks when a row moves to another
track. A frozen copy of lms/courses/triggers.py at this revision (a migration must not change when the code does).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c21a00000001'
down_revision = 'c21b00000001'
branch_labels = None
depends_on = None

TABLES = ("modules", "lessons")
FUNCTION = "lms_bump_track_content_version"

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE tracks SET content_version = content_version + 1 WHERE id = NEW.track_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE tracks SET content_version = content_version + 1 WHERE id = OLD.track_id;
    ELSE
        UPDATE tracks SET content_version = content_version + 1 WHERE id IN (OLD.track_id, NEW.track_id);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
SQLITE_BUMP = "UPDATE tracks SET content_version = content_version + 1 WHERE id IN"
SQLITE_EVENTS = {"insert": "(NEW.track_id)", "update": "(OLD.track_id, NEW.track_id)", "delete": "(OLD.track_id)"}


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table in TABLES:
            name = f"{table}_bump_track_content_version"
            op.execute(
                f"CREATE TRIGGER {name}_update AFTER UPDATE ON {table} FOR EACH ROW "
                f"WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE PROCEDURE {FUNCTION}()"
            )
            op.execute(
                f"CREATE TRIGGER {name} AFTER INSERT OR DELETE ON {table} FOR EACH ROW EXECUTE PROCEDURE {FUNCTION}()"
            )
    else:
        for table in TABLES:
            for event, ids in SQLITE_EVENTS.items():
                op.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_bump_track_content_version_{event} "
                    f"AFTER {event.upper()} ON {table} BEGIN {SQLITE_BUMP} {ids}; END"
                )


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in TABLES:
            name = f"{table}_bump_track_content_version"
            op.execute(f"DROP TRIGGER IF EXISTS {name}_update ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    else:
        for table in TABLES:
            for event in SQLITE_EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_track_content_version_{event}")
