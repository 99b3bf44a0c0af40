from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from annotations.models import Annotation, ChangeEvent, Consensus, GoldLabel, Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin[Topic]):
    list_display = ["name", "slug", "statement", "ordering", "is_active"]
    list_editable = ["ordering", "is_active"]
    prepopulated_fields = {"slug": ["name"]}


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Labels change through the application's actions only, so that history and consensus stay true."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Annotation)
class AnnotationAdmin(ReadOnlyAdmin):
    list_display = [
        "article",
        "comment",
        "topic",
        "annotator",
        "stance",
        "unsure",
        "confidence",
        "version",
        "updated_at",
    ]
    list_filter = ["topic", "stance", "unsure"]
    list_select_related = ["article", "comment", "topic", "annotator", "comment__author"]


@admin.register(Consensus)
class ConsensusAdmin(ReadOnlyAdmin):
    list_display = ["article", "comment", "topic", "stance", "status", "n"]
    list_filter = ["topic", "status", "stance"]
    list_select_related = ["article", "comment", "topic", "comment__author"]


@admin.register(GoldLabel)
class GoldLabelAdmin(ReadOnlyAdmin):
    list_display = ["article", "comment", "topic", "stance", "set_by", "set_at"]
    list_select_related = ["article", "comment", "topic", "set_by", "comment__author"]


@admin.register(ChangeEvent)
class ChangeEventAdmin(ReadOnlyAdmin):
    list_display = [
        "at",
        "kind",
        "action",
        "actor_username",
        "item_type",
        "article_id",
        "comment_id",
        "topic_slug",
        "annotator_username",
    ]
    list_filter = ["kind", "action"]
