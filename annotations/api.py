"""REST API for topics, labels, reply-link corrections, threads, history and dataset exports."""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import actions
from annotations.datasets import annotation_export_rows, comment_export_records, export_filename
from annotations.export import ANNOTATION_COLUMNS, csv_lines, jsonl_lines
from annotations.filters import AnnotationFilter, CommentFilter
from annotations.models import Annotation, ChangeEvent, Topic
from annotations.querysets import sees_all_labels, with_labels_for
from annotations.serializers import (
    AnnotationSerializer,
    ChangeEventSerializer,
    LabelInputSerializer,
    LabelledCommentSerializer,
    ParentInputSerializer,
    ThreadNodeSerializer,
    TopicSerializer,
)
from debate.models import Comment
from debate.roles import Role, authenticated_user, has_role
from debate.views import CommentViewSet


class ExportRole(BasePermission):
    message = "exports are for researchers, curators and admins"

    def has_permission(self, request: Request, view: APIView) -> bool:
        return has_role(request.user, Role.RESEARCHER, Role.CURATOR, Role.ADMIN)


def topic_or_404(slug: str) -> Topic:
    topic = Topic.objects.filter(slug=slug).first()
    if topic is None:
        raise NotFound(f"unknown topic {slug!r}; see /api/topics/")
    return topic


def comment_or_404(comment_id: int) -> Comment:
    comment = Comment.objects.filter(pk=comment_id).first()
    if comment is None:
        raise NotFound(f"no comment with id {comment_id}")
    return comment


class TopicViewSet(viewsets.ReadOnlyModelViewSet[Topic]):
    """The topics annotators judge, in their display order; `?all=true` includes inactive ones."""

    serializer_class = TopicSerializer
    lookup_field = "slug"
    pagination_class = None

    def get_queryset(self) -> QuerySet[Topic]:
        if self.action == "list" and self.request.query_params.get("all") != "true":
            return Topic.objects.active()
        return Topic.objects.all()


class LabelledCommentViewSet(CommentViewSet):
    """Comments with the caller's own labels and, for curators, researchers and admins, the consensus."""

    serializer_class = LabelledCommentSerializer
    filterset_class = CommentFilter

    def get_queryset(self) -> QuerySet[Comment]:
        return with_labels_for(super().get_queryset(), self.request.user)


_ETAG_VERSION = re.compile(r'^(?:W/)?"?(\d+)"?$')


def parse_if_match(request: Request) -> actions.IfMatch | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    if header.strip() == "*":
        return "*"
    versions = set()
    for tag in header.split(","):
        match = _ETAG_VERSION.match(tag.strip())
        if match is None:
            raise ValidationError({"If-Match": [f'{tag.strip()!r} is not an ETag of this API, such as "3"']})
        versions.add(int(match.group(1)))
    return frozenset(versions)


def etag(version: int) -> str:
    return f'"{version}"'


class CommentLabelView(APIView):
    """The caller's own label for a comment on a topic."""

    def _label_response(self, annotation: Annotation, status_code: int = status.HTTP_200_OK) -> Response:
        response = Response(AnnotationSerializer(annotation).data, status=status_code)
        response["ETag"] = etag(annotation.version)
        return response

    @extend_schema(responses={200: AnnotationSerializer, 404: OpenApiResponse(description="no label yet")})
    def get(self, request: Request, comment_id: int, topic_slug: str) -> Response:
        comment, topic = comment_or_404(comment_id), topic_or_404(topic_slug)
        annotation = (
            Annotation.objects.with_names().filter(comment=comment, topic=topic, annotator_id=request.user.pk).first()
        )
        if annotation is None:
            raise NotFound(f"you have no label for comment {comment.pk} on {topic.slug!r}")
        return self._label_response(annotation)

    @extend_schema(
        request=LabelInputSerializer,
        responses={200: AnnotationSerializer, 201: AnnotationSerializer},
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False)],
    )
    def put(self, request: Request, comment_id: int, topic_slug: str) -> Response:
        if not actions.can_annotate(request.user):
            raise PermissionDenied("your role cannot write labels")
        comment, topic = comment_or_404(comment_id), topic_or_404(topic_slug)
        payload = LabelInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = actions.set_stance(
            actor=authenticated_user(request),
            comment=comment,
            topic=topic,
            if_match=parse_if_match(request),
            **payload.validated_data,
        )
        return self._label_response(
            result.annotation, status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )

    @extend_schema(
        responses={204: None},
        parameters=[OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False)],
    )
    def delete(self, request: Request, comment_id: int, topic_slug: str) -> Response:
        if not actions.can_annotate(request.user):
            raise PermissionDenied("your role cannot write labels")
        comment, topic = comment_or_404(comment_id), topic_or_404(topic_slug)
        actions.clear_stance(
            actor=authenticated_user(request), comment=comment, topic=topic, if_match=parse_if_match(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommentParentView(APIView):
    """A curator's correction of a comment's parent (stored as a manual link, kept through re-imports)."""

    @extend_schema(request=ParentInputSerializer, responses=LabelledCommentSerializer)
    def put(self, request: Request, comment_id: int) -> Response:
        if not actions.can_curate(request.user):
            raise PermissionDenied("only curators can change reply links")
        comment = comment_or_404(comment_id)
        payload = ParentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        actions.set_parent(actor=authenticated_user(request), comment=comment, parent=payload.validated_data["parent"])
        record = with_labels_for(Comment.objects.with_thread(), request.user).get(pk=comment.pk)
        return Response(LabelledCommentSerializer(record, context={"request": request}).data)


class ThreadView(APIView):
    """The reply subtree rooted at a comment, nested, in thread order."""

    @extend_schema(responses=ThreadNodeSerializer)
    def get(self, request: Request, comment_id: int) -> Response:
        root = comment_or_404(comment_id)
        nodes = list(with_labels_for(Comment.objects.subtree(root).with_thread(), request.user))
        by_id = {node.pk: node for node in nodes}
        for node in nodes:
            node.thread_replies = []  # type: ignore[attr-defined]
        for node in nodes[1:]:
            by_id[node.parent_id].thread_replies.append(node)  # type: ignore[attr-defined,index]
        return Response(ThreadNodeSerializer(nodes[0], context={"request": request}).data)


class AnnotationViewSet(viewsets.ReadOnlyModelViewSet[Annotation]):
    """Labels, newest changes last; annotators see only their own."""

    serializer_class = AnnotationSerializer
    filterset_class = AnnotationFilter

    def get_queryset(self) -> QuerySet[Annotation]:
        return Annotation.objects.visible_to(self.request.user).with_names().order_by("updated_at", "id")


class ChangeEventList(generics.ListAPIView[ChangeEvent]):
    """The append-only history of label, gold and reply-link changes; annotators see their own labels'."""

    serializer_class = ChangeEventSerializer
    filterset_fields = {
        "comment_id": ["exact"],
        "topic_slug": ["exact"],
        "kind": ["exact"],
        "annotator_username": ["exact"],
    }

    def get_queryset(self) -> QuerySet[ChangeEvent]:
        events = ChangeEvent.objects.order_by("at", "id")
        if sees_all_labels(self.request.user):
            return events
        return events.filter(kind=ChangeEvent.Kind.ANNOTATION, annotator_username=self.request.user.get_username())


class _ExportView(APIView):
    permission_classes = [ExportRole]

    def stream(self, lines: Iterator[str], filename: str, content_type: str) -> StreamingHttpResponse:
        response = StreamingHttpResponse(lines, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class AnnotationExportJsonl(_ExportView):
    """Every visible label, one JSON object per line (long format); the same filters as /api/annotations/."""

    @extend_schema(responses={(200, "application/jsonl"): OpenApiTypes.STR}, filters=True)
    def get(self, request: Request) -> StreamingHttpResponse:
        rows = annotation_export_rows(request=request)
        return self.stream(
            jsonl_lines(rows), export_filename("annotations", "jsonl"), "application/jsonl; charset=utf-8"
        )


class AnnotationExportCsv(_ExportView):
    """Every visible label, one CSV row each (long format); `evidence` is JSON text."""

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: Request) -> StreamingHttpResponse:
        rows = annotation_export_rows(request=request)
        return self.stream(
            csv_lines(rows, ANNOTATION_COLUMNS), export_filename("annotations", "csv"), "text/csv; charset=utf-8"
        )


class CommentExportJsonl(_ExportView):
    """One JSON object per comment: text, thread fields, its labels and consensus; comment filters apply."""

    @extend_schema(responses={(200, "application/jsonl"): OpenApiTypes.STR})
    def get(self, request: Request) -> StreamingHttpResponse:
        records = comment_export_records(request=request)
        return self.stream(
            jsonl_lines(records), export_filename("comments", "jsonl"), "application/jsonl; charset=utf-8"
        )
