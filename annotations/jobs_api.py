"""The API of background work: imports over HTTP (`/api/imports/`) and dataset releases (`/api/releases/`)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.actions import start_release
from annotations.imports import import_jobs, job_view, uploads_from
from annotations.models import Release
from annotations.permissions import CanImport, CanRelease
from annotations.releases import CONTENT_TYPES, RELEASE_FILTERS, release_file_names, release_path, release_view
from annotations.serializers import TextField
from debate.actions import start_import
from debate.models import Job
from debate.roles import authenticated_user

RECENT_JOBS = 50

Accepted = inline_serializer(
    "JobAccepted", {"id": serializers.IntegerField(), "status": serializers.CharField(), "url": serializers.URLField()}
)


def accepted(request: Request, job_id: int, status_value: str, route: str) -> Response:
    url = request.build_absolute_uri(reverse(route, kwargs={"pk": job_id}))
    return Response(
        {"id": job_id, "status": status_value, "url": url}, status=status.HTTP_202_ACCEPTED, headers={"Location": url}
    )


class ImportListView(APIView):
    """Curators and admins: upload files to import (a background job), and list recent imports."""

    permission_classes = [CanImport]
    parser_classes = [MultiPartParser]

    @extend_schema(operation_id="imports_list", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response({"results": [job_view(job) for job in import_jobs()[:RECENT_JOBS]]})

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}, "minItems": 1},
                    "replace": {"type": "boolean"},
                },
                "required": ["files"],
            }
        },
        responses={
            202: Accepted,
            400: OpenApiResponse(description="no files, or too many"),
            413: OpenApiResponse(description="the upload is too large"),
        },
    )
    def post(self, request: Request) -> Response:
        uploads = uploads_from(request._request, files=_files(request))
        replace = _flag(request.data.get("replace", ""), "replace")
        job = start_import(actor=authenticated_user(request), uploads=uploads, replace=replace)
        return accepted(request, job.pk, job.status, "api:import-detail")


def _flag(value: Any, name: str) -> bool:
    """A form field's true or false (left out or empty: false); anything else is a 400 naming it, rather than
    quietly false."""
    text = str(value).lower()
    if text == "true":
        return True
    if text in ("false", ""):
        return False
    raise ValidationError({name: [f"{value!r} is not a boolean; use true or false"]})


def _files(request: Request) -> Any:
    """The parsed files, read only once the size has been checked (uploads_from does, from Content-Length)."""

    class Lazy:
        def getlist(self, name: str) -> list[Any]:
            return list(request.FILES.getlist(name))

    return Lazy()


class ImportDetailView(APIView):
    """An import's status (queued, running, done, failed), progress, and each file's outcome and reason."""

    permission_classes = [CanImport]

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: OpenApiResponse(description="no such import")})
    def get(self, request: Request, pk: int) -> Response:
        return Response(job_view(get_object_or_404(import_jobs(), pk=pk)))


# --- dataset releases ------------------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "object",
        "properties": {name: {"type": "string"} for name in RELEASE_FILTERS},
        "additionalProperties": False,
        "description": "The export filters, as on /api/export/comments.jsonl and /api/export/annotations.jsonl",
    }
)
class ReleaseFiltersField(serializers.DictField):
    """The release's export filters; `annotations.releases.validate_filters` checks names and values."""


class ReleaseRequestSerializer(serializers.Serializer[Any]):
    name = TextField(max_length=200)
    filters = ReleaseFiltersField(child=TextField(allow_blank=True), required=False, default=dict)


class ReleaseListView(APIView):
    """Curators, researchers and admins: dataset releases, newest first; POST starts one (a background job)."""

    permission_classes = [CanRelease]

    @extend_schema(operation_id="releases_list", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        releases = Release.objects.select_related("job", "created_by")[:RECENT_JOBS]
        return Response({"results": [release_view(release, request, card=False) for release in releases]})

    @extend_schema(
        request=ReleaseRequestSerializer, responses={202: Accepted, 400: OpenApiResponse(description="invalid")}
    )
    def post(self, request: Request) -> Response:
        body = ReleaseRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            release = start_release(
                actor=authenticated_user(request),
                name=body.validated_data["name"],
                filters=body.validated_data["filters"],
            )
        except DjangoValidationError as invalid:
            raise ValidationError(invalid.message_dict) from None
        return accepted(request, release.pk, release.job.status, "api:release-detail")


class ReleaseDetailView(APIView):
    """A release: `status`, progress, the dataset card, and its files with their URLs, sha256 and rows."""

    permission_classes = [CanRelease]

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: OpenApiResponse(description="no such release")})
    def get(self, request: Request, pk: int) -> Response:
        release = get_object_or_404(Release.objects.select_related("job", "created_by"), pk=pk)
        return Response(release_view(release, request))


class ReleaseFileView(APIView):
    """One file of a finished release, as it was written (the web only reads it)."""

    permission_classes = [CanRelease]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: OpenApiResponse()})
    def get(self, request: Request, pk: int, name: str) -> FileResponse:
        release = get_object_or_404(Release.objects.select_related("job"), pk=pk, job__status=Job.Status.DONE)
        if name not in release_file_names(release):
            raise Http404("no such file in this release")
        path = release_path(release) / name
        if not path.is_file():
            raise Http404("the release's files are missing on this server")
        return FileResponse(
            path.open("rb"), as_attachment=True, filename=name, content_type=CONTENT_TYPES.get(path.suffix)
        )
