"""GIN index for full-text search of comment bodies, on PostgreSQL only (SQLite searches plainly).

The indexed expression matches `debate.filters.full_text_search`, so the planner can use it.
"""

from django.db import migrations

INDEX = "comment_body_search"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON debate_comment "
            "USING gin (to_tsvector('english'::regconfig, COALESCE(body, '')))"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("debate", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
