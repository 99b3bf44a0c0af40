"""Serializers for topics, labels and comment records with labels. Topics are named by slug, annotators by
username, everywhere."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotations.actions import MAX_BATCH
from annotations.labels import EvidenceSpan, LabelValues
from annotations.models import Annotation, ChangeEvent, Topic
from annotations.permissions import sees_all_labels
from annotations.vocabulary import STANCE_VALUES
from debate.models import Article, Comment
from debate.serializers import ArticleDetailSerializer, ArticleSerializer, CommentSerializer


class TopicSerializer(serializers.ModelSerializer[Topic]):
    class Meta:
        model = Topic
        fields = ["slug", "name", "statement", "guidelines", "is_active", "guideline_version"]


class StrictSerializer(serializers.Serializer[Any]):
    """Refuses fields it does not know, so that a misspelt field is an error rather than silently ignored."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [f"unknown field; expected one of {', '.join(self.fields)}"] for name in unknown}
                )
        return super().to_internal_value(data)


class StrictSerializerSchema(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]  # its __init_subclass__ is untyped
    """In the OpenAPI schema, a strict serializer's request body admits no other properties, as the server."""

    target_class = StrictSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


class TextField(serializers.CharField):
    """A string, and only a string: DRF's CharField would quietly turn 3 or true into text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "enum": list(STANCE_VALUES)})
class StanceField(TextField):
    """A stance, as text; the action checks it is one of the vocabulary's (the schema lists them)."""


class EvidenceSpanSerializer(StrictSerializer):
    start = serializers.IntegerField(min_value=0)
    end = serializers.IntegerField(min_value=0)
    text = serializers.CharField(trim_whitespace=False)


class LabelInputSerializer(StrictSerializer):
    """The body of PUT /api/comments/{id}/annotations/{topic}/: types only; the action checks the rest."""

    stance = StanceField(help_text="favor, against, neutral or not_about")
    unsure = serializers.BooleanField(default=False)
    confidence = serializers.IntegerField(
        allow_null=True, default=None, help_text="1 (low) to 3 (high)", min_value=1, max_value=3
    )
    note = TextField(allow_blank=True, default="", trim_whitespace=False)
    evidence = EvidenceSpanSerializer(many=True, default=list)
    lead_time_ms = serializers.IntegerField(
        min_value=0,
        max_value=2**31 - 1,
        allow_null=True,
        default=None,
        help_text="Milliseconds spent on the item before this change (the browser workspace measures it)",
    )

    @staticmethod
    def values_of(data: Mapping[str, Any]) -> LabelValues:
        """Validated data (of `run_validation`, or `is_valid`'s `validated_data`) as the action takes it."""
        return LabelValues(
            stance=data["stance"],
            unsure=data["unsure"],
            confidence=data["confidence"],
            note=data["note"],
            evidence=tuple(EvidenceSpan(span["start"], span["end"], span["text"]) for span in data["evidence"]),
        )


class BatchWriteSerializer(LabelInputSerializer):
    """One write of POST /api/annotations/batch/: the item (`comment` or `article`), the `topic`, the label's
    values as for PUT (or `"delete": true`), and the precondition the PUT's headers would carry."""

    comment = serializers.IntegerField(required=False, help_text="the comment labelled")
    article = serializers.IntegerField(required=False, help_text="the article itself, instead of a comment")
    topic = TextField(help_text="the topic's slug")
    delete = serializers.BooleanField(default=False, help_text="remove the label instead (as DELETE)")
    stance = StanceField(required=False, help_text="favor, against, neutral or not_about (unless delete)")
    if_match = TextField(required=False, help_text='as the If-Match header: "3", several, or *')
    if_none_match = TextField(required=False, help_text="as the If-None-Match header: * (a first label)")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("comment" in attrs) == ("article" in attrs):
            raise serializers.ValidationError({"comment": ["name the item: comment or article (an id), not both"]})
        if not attrs["delete"] and "stance" not in attrs:
            raise serializers.ValidationError({"stance": ["This field is required."]})
        return attrs


class BatchSerializer(StrictSerializer):
    writes = serializers.ListField(
        child=serializers.DictField(), max_length=MAX_BATCH, help_text="at most 100, applied in order"
    )


class GoldInputSerializer(StrictSerializer):
    """The body of PUT /api/comments/{id}/gold/{topic}/: types only; the action checks the rest."""

    stance = StanceField(help_text="favor, against, neutral or not_about")
    note = TextField(allow_blank=True, default="", trim_whitespace=False)


class ParentInputSerializer(StrictSerializer):
    # The stubs see Field.parent here; at runtime DRF's metaclass moves declared fields off the class.
    parent = serializers.PrimaryKeyRelatedField(queryset=Comment.objects.all(), allow_null=True)  # type: ignore[assignment]


class AnnotationSerializer(serializers.ModelSerializer[Annotation]):
    article = serializers.IntegerField(source="article_id", read_only=True)
    comment_number = serializers.IntegerField(source="comment.number", read_only=True, allow_null=True)
    item_type = serializers.SerializerMethodField(help_text="`comment`, or `article` for the article's own label")
    topic = serializers.CharField(source="topic.slug", read_only=True)
    annotator = serializers.CharField(source="annotator.username", read_only=True)
    outdated = serializers.SerializerMethodField(
        help_text="Made under an older version of the topic's guidelines than the current one: to review."
    )

    class Meta:
        model = Annotation
        fields = [
            "id",
            "comment",
            "article",
            "comment_number",
            "topic",
            "annotator",
            "stance",
            "unsure",
            "confidence",
            "note",
            "evidence",
            "version",
            "guideline_version",
            "outdated",
            "lead_time_ms",
            "created_at",
            "updated_at",
            "item_type",
        ]

    def get_item_type(self, annotation: Annotation) -> str:
        return "article" if annotation.comment_id is None else "comment"

    def get_outdated(self, annotation: Annotation) -> bool:
        return annotation.guideline_version < annotation.topic.guideline_version


_TIMESTAMP = serializers.DateTimeField()


def annotation_record(annotation: Annotation) -> dict[str, Any]:
    """What `AnnotationSerializer` gives for one label, built directly: every label write answers with one,
    and DRF builds a ModelSerializer's fields anew for each instance (1.5 ms of a 12 ms write, profiled). A
    test holds the two equal, key order included; the serializer stays the schema's description."""
    return {
        "id": annotation.pk,
        "comment": annotation.comment_id,
        "article": annotation.article_id,
        "comment_number": None if annotation.comment is None else annotation.comment.number,
        "topic": annotation.topic.slug,
        "annotator": annotation.annotator.username,
        "stance": annotation.stance,
        "unsure": annotation.unsure,
        "confidence": annotation.confidence,
        "note": annotation.note,
        "evidence": annotation.evidence,
        "version": annotation.version,
        "guideline_version": annotation.guideline_version,
        "outdated": annotation.guideline_version < annotation.topic.guideline_version,
        "lead_time_ms": annotation.lead_time_ms,
        "created_at": _TIMESTAMP.to_representation(annotation.created_at),
        "updated_at": _TIMESTAMP.to_representation(annotation.updated_at),
        "item_type": "article" if annotation.comment_id is None else "comment",
    }


def my_labels_of(comment: Comment | Article) -> dict[str, dict[str, Any]]:
    """The caller's labels on an item, by topic slug, from the `my_labels` prefetch."""
    return {
        label.topic.slug: {
            "stance": label.stance,
            "unsure": label.unsure,
            "confidence": label.confidence,
            "note": label.note,
            "evidence": label.evidence,
            "version": label.version,
            "updated_at": serializers.DateTimeField().to_representation(label.updated_at),
        }
        for label in getattr(comment, "my_labels", [])
    }


def consensus_of(comment: Comment | Article) -> dict[str, dict[str, Any]]:
    """Consensus by topic slug, from the `consensus_rows` prefetch."""
    return {
        row.topic.slug: {"stance": row.stance, "status": row.status, "n": row.n}
        for row in getattr(comment, "consensus_rows", [])
    }


def gold_of(comment: Comment | Article) -> dict[str, dict[str, Any]]:
    """Gold labels by topic slug, from the `gold_rows` prefetch."""
    return {
        gold.topic.slug: {
            "stance": gold.stance,
            "note": gold.note,
            "set_by": gold.set_by.get_username(),
            "set_at": serializers.DateTimeField().to_representation(gold.set_at),
        }
        for gold in getattr(comment, "gold_rows", [])
    }


# Fields computed from other annotators' labels: absent from an annotator's records (blind annotation).
LABEL_SUMMARY_FIELDS = ("consensus", "gold", "author_takes_both_sides")
# The OpenAPI schema marks them so (config/schema.py makes such fields optional).
BLIND = {"x-omitted-for-annotators": True}
BLIND_NOTE = " Absent from an annotator's records (blind annotation)."
CONSENSUS_SCHEMA = {
    "type": "object",
    "description": "By topic slug: the consensus stance (null while there is none), its status and how many "
    "labels it rests on." + BLIND_NOTE,
    "additionalProperties": {
        "type": "object",
        "properties": {
            "stance": {"type": "string", "nullable": True},
            "status": {"type": "string"},
            "n": {"type": "integer"},
        },
    },
    **BLIND,
}
GOLD_SCHEMA = {
    "type": "object",
    "description": "By topic slug: the curator's gold label." + BLIND_NOTE,
    "additionalProperties": {
        "type": "object",
        "properties": {
            "stance": {"type": "string"},
            "note": {"type": "string"},
            "set_by": {"type": "string"},
            "set_at": {"type": "string", "format": "date-time"},
        },
    },
    **BLIND,
}
BOTH_SIDES_SCHEMA = {
    "type": "array",
    "items": {"type": "string"},
    "description": "The topics on which the comment's author takes both sides in this article." + BLIND_NOTE,
    **BLIND,
}


class _ItemLabelsMixin(serializers.Serializer[Any]):
    """The caller's own labels on the record's item and, for those who may see them, its consensus and gold
    labels (from `with_labels_for`)."""

    my_annotations = serializers.SerializerMethodField()
    consensus = serializers.SerializerMethodField()
    gold = serializers.SerializerMethodField()
    summary_fields: tuple[str, ...] = ("consensus", "gold")

    def get_my_annotations(self, item: Comment | Article) -> dict[str, dict[str, Any]]:
        return my_labels_of(item)

    @extend_schema_field(CONSENSUS_SCHEMA)
    def get_consensus(self, item: Comment | Article) -> dict[str, dict[str, Any]]:
        return consensus_of(item)

    @extend_schema_field(GOLD_SCHEMA)
    def get_gold(self, item: Comment | Article) -> dict[str, dict[str, Any]]:
        return gold_of(item)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not sees_all_labels(request.user):
            for field in self.summary_fields:  # blind annotation: an annotator never learns what others chose
                data.pop(field)
        return data


class LabelledCommentSerializer(_ItemLabelsMixin, CommentSerializer):
    """A comment record with the caller's own labels and, for those who may see them, the consensus, gold
    labels, and the topics on which the comment's author takes both sides in this article."""

    author_takes_both_sides = serializers.SerializerMethodField()
    suggestions = serializers.SerializerMethodField()
    summary_fields = LABEL_SUMMARY_FIELDS

    class Meta(CommentSerializer.Meta):
        fields = [*CommentSerializer.Meta.fields, "my_annotations", *LABEL_SUMMARY_FIELDS, "suggestions"]

    def get_suggestions(self, comment: Comment) -> dict[str, dict[str, Any]]:
        """Per topic: the model's suggestion (stance, probability, band, model_version) where the caller may
        see one (`annotations.suggestions.queries.suggestions_for`): every one for curators, researchers and
        admins; for annotators, hints on their single-annotator items only."""
        found: dict[int, dict[str, dict[str, Any]]] = self.context.get("suggestions", {})
        return found.get(comment.pk, {})

    @extend_schema_field(BOTH_SIDES_SCHEMA)
    def get_author_takes_both_sides(self, comment: Comment) -> list[str]:
        flags: dict[tuple[int, int], list[str]] = self.context.get("both_sides", {})
        return flags.get((comment.article_id, comment.author_id or 0), [])


class LabelledArticleSerializer(_ItemLabelsMixin, ArticleSerializer):
    """An article record with the caller's own labels on the article itself and, for those who may see them,
    the article's consensus and gold labels (its own stance, not its comments')."""

    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "my_annotations", "consensus", "gold"]


class LabelledArticleDetailSerializer(_ItemLabelsMixin, ArticleDetailSerializer):
    class Meta(ArticleDetailSerializer.Meta):
        fields = [*ArticleDetailSerializer.Meta.fields, "my_annotations", "consensus", "gold"]


@extend_schema_field({"type": "array", "items": {"$ref": "#/components/schemas/ThreadNode"}})
class _RepliesField(serializers.ListField):
    """The answers of a thread node, each a thread node itself (documented as such in the OpenAPI schema)."""


class ThreadNodeSerializer(LabelledCommentSerializer):
    """A comment of a reply subtree with its answers nested under `replies`, to any depth."""

    # It serializes one node; the thread view nests the nodes with `debate.trees.nested_json`, a loop, since a
    # reply chain may run deeper than Python can recurse.

    replies = _RepliesField(child=serializers.DictField(), read_only=True, default=list)

    class Meta(LabelledCommentSerializer.Meta):
        # Suggestions are on the comment lists (and their queue); a thread is read for its shape.
        fields = [*(f for f in LabelledCommentSerializer.Meta.fields if f != "suggestions"), "replies"]


class ChangeEventSerializer(serializers.ModelSerializer[ChangeEvent]):
    actor = serializers.CharField(source="actor_username", read_only=True)
    topic = serializers.CharField(source="topic_slug", read_only=True)
    annotator = serializers.CharField(source="annotator_username", read_only=True)
    comment = serializers.IntegerField(source="comment_id", read_only=True, allow_null=True)
    article = serializers.IntegerField(source="article_id", read_only=True)

    class Meta:
        model = ChangeEvent
        fields = [
            "id",
            "kind",
            "action",
            "at",
            "actor",
            "comment",
            "article",
            "topic",
            "annotator",
            "version",
            "before",
            "after",
            "item_type",
        ]
