"""Imports over HTTP, shared by the API (`POST /api/imports/`) and the import page: the limits on an upload,
and an import job as the API and the page show it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.db.models import QuerySet
from django.http import HttpRequest

from debate.actions import Upload
from debate.errors import DomainError
from debate.models import ImportFile, Job


class UploadRefused(DomainError):
    """An upload refused before anything is stored: 400, or 413 when it is too large."""


class UploadTooLarge(UploadRefused):
    status_code = 413


def _megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def uploads_from(request: HttpRequest, files: Any = None) -> list[Upload]:
    """The files of the field `files`, within the limits: at most IMPORT_MAX_FILES files and IMPORT_MAX_BYTES in
    all (refused from the request's Content-Length, before its body is read). `files` is the parsed
    MultiValueDict when the caller (DRF) parses the request itself."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.IMPORT_MAX_BYTES:
        raise UploadTooLarge(
            f"the upload is {_megabytes(length)}; at most {_megabytes(settings.IMPORT_MAX_BYTES)} at once "
            "(split it over several uploads)"
        )
    try:
        received = (request.FILES if files is None else files).getlist("files")
    except TooManyFilesSent:
        raise UploadRefused(f"too many files; at most {settings.IMPORT_MAX_FILES} at once") from None
    except RequestDataTooBig:
        raise UploadTooLarge(f"the upload is too large; at most {_megabytes(settings.IMPORT_MAX_BYTES)}") from None
    if not received:
        raise UploadRefused("no files: send them as multipart/form-data in the field `files`")
    if len(received) > settings.IMPORT_MAX_FILES:
        raise UploadRefused(f"{len(received)} files; at most {settings.IMPORT_MAX_FILES} at once")
    total = sum(file.size or 0 for file in received)
    if total > settings.IMPORT_MAX_BYTES:
        raise UploadTooLarge(
            f"the files hold {_megabytes(total)}; at most {_megabytes(settings.IMPORT_MAX_BYTES)} at once"
        )
    return [Upload(name=file.name or "unnamed", data=file.read()) for file in received]


def import_jobs() -> QuerySet[Job]:
    return Job.objects.filter(kind=Job.Kind.IMPORT).select_related("created_by")


def file_view(file: ImportFile) -> dict[str, Any]:
    if file.outcome == ImportFile.Outcome.REFUSED:
        line = f"{file.name}: {file.reason}"
    elif file.outcome:
        line = f"{file.name}: {file.comments} comments, {file.reply_links} reply links"
    else:
        line = ""
    return {
        "name": file.name,
        "size": file.size,
        "outcome": file.outcome or None,
        "reason": file.reason,
        "line": line,
        "progress": {"done": file.done, "total": file.total, "message": file.message},
        "article_id": file.article_id,
        "comments": file.comments,
        "reply_links": file.reply_links,
    }


def job_view(job: Job) -> dict[str, Any]:
    """An import job as the API answers it and the page shows it."""
    files = [file_view(file) for file in ImportFile.objects.filter(job=job).defer("data").order_by("position")]
    return {
        "id": job.pk,
        "status": job.status,
        "live": job.status in (Job.Status.QUEUED, Job.Status.RUNNING),
        "progress": {"done": job.done, "total": job.total, "message": job.message},
        "created_by": job.created_by.get_username() if job.created_by else None,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "attempts": job.attempts,
        "error": job.error,
        "files": files,
    }
