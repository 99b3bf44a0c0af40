from django.db import migrations

from annotations.topics import DEFAULT_TOPICS


def create_topics(apps, schema_editor):
    Topic = apps.get_model("annotations", "Topic")
    for topic in DEFAULT_TOPICS:
        Topic.objects.update_or_create(slug=topic["slug"], defaults={k: v for k, v in topic.items() if k != "slug"})


def remove_topics(apps, schema_editor):
    Topic = apps.get_model("annotations", "Topic")
    Topic.objects.filter(slug__in=[topic["slug"] for topic in DEFAULT_TOPICS], annotations__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("annotations", "0001_initial")]

    operations = [migrations.RunPython(create_topics, remove_topics)]
