"""Make the change history append-only in the database itself: UPDATE and DELETE raise."""

from django.db import migrations

TABLE = "annotations_changeevent"

POSTGRESQL = f"""
CREATE OR REPLACE FUNCTION annotations_changeevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'the change history is append-only: ' || TG_OP || ' on {TABLE} refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER annotations_changeevent_no_update BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION annotations_changeevent_append_only();
"""
POSTGRESQL_REVERSE = f"""
DROP TRIGGER IF EXISTS annotations_changeevent_no_update ON {TABLE};
DROP FUNCTION IF EXISTS annotations_changeevent_append_only();
"""
SQLITE = [
    f"CREATE TRIGGER annotations_changeevent_no_{operation.lower()} BEFORE {operation} ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, 'the change history is append-only: {operation} on {TABLE} refused'); END;"
    for operation in ("UPDATE", "DELETE")
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS annotations_changeevent_no_{operation};" for operation in ("update", "delete")
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_REVERSE)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("annotations", "0002_default_topics")]

    operations = [migrations.RunPython(forwards, backwards)]
