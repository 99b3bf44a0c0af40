"""Full-text search vectors in a table of their own, filled after an import commits (see `CommentSearch`).

On PostgreSQL, triggers keep a row per comment (statement-level on insert, so that a COPY of thousands of
comments adds their rows in one statement) and clear a vector whose body changed; the existing comments get
their vectors here, and the expression index that computed them on every insert goes.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

CONFIG = "english"  # debate.filters.SEARCH_CONFIG, as it stood

FORWARD = [
    """
    CREATE FUNCTION debate_comment_search_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO debate_commentsearch (comment_id) SELECT id FROM inserted;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER debate_comment_search_insert AFTER INSERT ON debate_comment
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION debate_comment_search_insert()
    """,
    """
    CREATE FUNCTION debate_comment_search_body() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE debate_commentsearch SET vector = NULL WHERE comment_id = NEW.id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER debate_comment_search_body AFTER UPDATE OF body ON debate_comment
    FOR EACH ROW WHEN (OLD.body IS DISTINCT FROM NEW.body) EXECUTE FUNCTION debate_comment_search_body()
    """,
    f"""
    INSERT INTO debate_commentsearch (comment_id, vector)
    SELECT id, to_tsvector('{CONFIG}'::regconfig, COALESCE(body, '')) FROM debate_comment
    """,
    "DROP INDEX IF EXISTS comment_body_search",
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS debate_comment_search_insert ON debate_comment",
    "DROP TRIGGER IF EXISTS debate_comment_search_body ON debate_comment",
    "DROP FUNCTION IF EXISTS debate_comment_search_insert()",
    "DROP FUNCTION IF EXISTS debate_comment_search_body()",
    f"""
    CREATE INDEX IF NOT EXISTS comment_body_search ON debate_comment
    USING gin (to_tsvector('{CONFIG}'::regconfig, COALESCE(body, '')))
    """,
]


def run_on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("debate", "0009_job_kind_train"),
    ]

    operations = [
        migrations.CreateModel(
            name="CommentSearch",
            fields=[
                (
                    "comment",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="debate.comment",
                    ),
                ),
                ("vector", django.contrib.postgres.search.SearchVectorField(null=True)),
            ],
            options={
                "indexes": [
                    django.contrib.postgres.indexes.GinIndex(fields=["vector"], name="comment_search_vector"),
                    models.Index(
                        condition=models.Q(("vector__isnull", True)), fields=["comment"], name="comment_search_pending"
                    ),
                ],
            },
        ),
        migrations.RunPython(run_on_postgresql(FORWARD), run_on_postgresql(BACKWARD), elidable=False),
    ]
