"""The article itself becomes an item labels are about: `article` on every label, gold label and consensus
row (filled from the comment's article), `comment` NULL for the article's own items; the history names the
item's type.

On PostgreSQL a composite foreign key (comment_id, article_id) -> debate_comment (id, article_id) holds every
comment item's `article` to its comment's article (MATCH SIMPLE: article items, comment NULL, are not checked).
"""

import django.db.models.deletion
from django.db import migrations, models

LABEL_TABLES = ("annotations_annotation", "annotations_goldlabel", "annotations_consensus")
COMMENT_KEY = "debate_comment_id_article_id_key"


def fill_articles(apps, schema_editor):
    for table in LABEL_TABLES:
        schema_editor.execute(
            f"UPDATE {table} SET article_id = "
            f"(SELECT article_id FROM debate_comment WHERE debate_comment.id = {table}.comment_id)"
        )


def add_composite_keys(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE debate_comment ADD CONSTRAINT {COMMENT_KEY} UNIQUE (id, article_id)")
    for table in LABEL_TABLES:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {table}_item_article_fk FOREIGN KEY (comment_id, article_id) "
            f"REFERENCES debate_comment (id, article_id) DEFERRABLE INITIALLY DEFERRED"
        )


def drop_composite_keys(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in LABEL_TABLES:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_item_article_fk")
    schema_editor.execute(f"ALTER TABLE debate_comment DROP CONSTRAINT IF EXISTS {COMMENT_KEY}")


def article_field(on_delete, related_name, null):
    return models.ForeignKey(
        null=null, on_delete=on_delete, related_name=related_name, to="debate.article"
    )


ITEM_HELP = "The comment labelled; NULL when the label is about the article itself."
ARTICLE_ITEM = models.Q(("comment__isnull", True))


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0003_change_event_append_only"),
        ("debate", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            "annotation", "article", article_field(django.db.models.deletion.PROTECT, "annotations", True)
        ),
        migrations.AddField(
            "goldlabel", "article", article_field(django.db.models.deletion.PROTECT, "gold_labels", True)
        ),
        migrations.AddField(
            "consensus", "article", article_field(django.db.models.deletion.CASCADE, "consensus", True)
        ),
        migrations.RunPython(fill_articles, migrations.RunPython.noop),
        migrations.AlterField(
            "annotation", "article", article_field(django.db.models.deletion.PROTECT, "annotations", False)
        ),
        migrations.AlterField(
            "goldlabel", "article", article_field(django.db.models.deletion.PROTECT, "gold_labels", False)
        ),
        migrations.AlterField(
            "consensus", "article", article_field(django.db.models.deletion.CASCADE, "consensus", False)
        ),
        migrations.AlterField(
            "annotation",
            "comment",
            models.ForeignKey(
                blank=True,
                null=True,
                help_text=ITEM_HELP,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="annotations",
                to="debate.comment",
            ),
        ),
        migrations.AlterField(
            "goldlabel",
            "comment",
            models.ForeignKey(
                blank=True,
                null=True,
                help_text=ITEM_HELP,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="gold_labels",
                to="debate.comment",
            ),
        ),
        migrations.AlterField(
            "consensus",
            "comment",
            models.ForeignKey(
                blank=True,
                null=True,
                help_text=ITEM_HELP,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="consensus",
                to="debate.comment",
            ),
        ),
        migrations.AlterModelOptions(
            name="annotation", options={"ordering": ["article_id", "comment_id", "topic__ordering", "annotator_id"]}
        ),
        migrations.AddConstraint(
            "annotation",
            models.UniqueConstraint(
                condition=ARTICLE_ITEM, fields=("article", "topic", "annotator"), name="one_article_label_per_annotator"
            ),
        ),
        migrations.AddConstraint(
            "goldlabel",
            models.UniqueConstraint(
                condition=ARTICLE_ITEM, fields=("article", "topic"), name="one_gold_label_per_article_item"
            ),
        ),
        migrations.AddConstraint(
            "consensus",
            models.UniqueConstraint(
                condition=ARTICLE_ITEM, fields=("article", "topic"), name="one_consensus_per_article_item"
            ),
        ),
        migrations.AddField(
            "changeevent",
            "item_type",
            models.CharField(
                choices=[("article", "Article"), ("comment", "Comment")], default="comment", max_length=16
            ),
        ),
        migrations.AlterField(
            "changeevent",
            "comment_id",
            models.BigIntegerField(blank=True, null=True, help_text="NULL when the item is the article."),
        ),
        migrations.AddIndex(
            "changeevent", models.Index(fields=["article_id", "topic_slug"], name="change_event_article_item")
        ),
        migrations.AddConstraint(
            "changeevent",
            models.CheckConstraint(
                condition=models.Q(("comment_id__isnull", False), ("item_type", "comment"))
                | models.Q(("comment_id__isnull", True), ("item_type", "article"), ("kind__in", ["annotation", "gold"])),
                name="change_event_item_type_matches",
            ),
        ),
        migrations.RunPython(add_composite_keys, drop_composite_keys),
    ]
