from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from annotations.guidelines import record_first_version, revise_guidelines
from annotations.models import Annotation, ChangeEvent, Consensus, GoldLabel, GuidelineVersion, Topic
from debate.roles import authenticated_user


class GuidelineVersionInline(admin.TabularInline[GuidelineVersion, Topic]):
    """Earlier versions, read-only: a change of the statement or guidelines above makes the next one."""

    model = GuidelineVersion
    extra = 0
    fields = ("number", "created_at", "created_by", "note", "statement")
    readonly_fields = ("number", "created_at", "created_by", "note", "statement")
    ordering = ["-number"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TopicForm(forms.ModelForm[Topic]):
    change_note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What changed in the statement or guidelines, for annotators (shown with the changes).",
    )

    class Meta:
        model = Topic
        fields = ["slug", "name", "statement", "guidelines", "ordering", "is_active"]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin[Topic]):
    """Changing a topic's statement or guidelines makes a new guideline version: labels made under older
    ones are flagged for review, and annotators are shown what changed."""

    form = TopicForm
    list_display = ["name", "slug", "statement", "ordering", "is_active", "guideline_version"]
    list_editable = ["ordering", "is_active"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["guideline_version"]
    inlines = [GuidelineVersionInline]

    def save_model(self, request: HttpRequest, obj: Topic, form: Any, change: bool) -> None:
        user = authenticated_user(request)
        if change and obj.pk:
            revise_guidelines(
                actor=user,
                topic=obj,
                statement=obj.statement,
                guidelines=obj.guidelines,
                note=form.cleaned_data.get("change_note", ""),
            )
        super().save_model(request, obj, form, change)
        if not change:
            record_first_version(topic=obj, actor=user)


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
