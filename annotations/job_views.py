"""Pages for background work: the import page (drop files, watch each file's progress, see each outcome) and
the release pages (create, watch, download, read the card). Writes go through the actions, as the API's do."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from annotations.actions import start_release
from annotations.htmx import HtmxHttpRequest, refusal
from annotations.imports import UploadRefused, import_jobs, job_view, uploads_from
from annotations.models import Release, Topic
from annotations.permissions import IMPORTS_REFUSED, RELEASES_REFUSED, can_import, can_release
from annotations.releases import release_view
from debate.actions import start_import
from debate.roles import authenticated_user

RECENT_JOBS = 20


def _importer(request: HttpRequest) -> User:
    user = authenticated_user(request)
    if not can_import(user):
        raise PermissionDenied(IMPORTS_REFUSED)
    return user


@login_required
@require_http_methods(["GET", "POST"])
def imports_page(request: HtmxHttpRequest) -> HttpResponse:
    user = _importer(request)
    if request.method == "POST":
        try:
            uploads = uploads_from(request)
        except UploadRefused as refused:
            if request.htmx:
                return refusal(request, str(refused), status=refused.status_code)
            jobs = [job_view(job) for job in import_jobs()[:RECENT_JOBS]]
            return render(
                request, "annotations/imports.html", {"jobs": jobs, "error": str(refused)}, status=refused.status_code
            )
        job = start_import(actor=user, uploads=uploads, replace=request.POST.get("replace") == "on")
        if request.htmx:
            return render(request, "annotations/imports.html#job", {"job": job_view(job)})
        return redirect(f"{reverse('workspace:imports')}#import-{job.pk}")
    jobs = [job_view(job) for job in import_jobs()[:RECENT_JOBS]]
    return render(request, "annotations/imports.html", {"jobs": jobs})


@login_required
@require_GET
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """One import's card: the page polls it (htmx) until the job has finished."""
    _importer(request)
    job = get_object_or_404(import_jobs(), pk=pk)
    return render(request, "annotations/imports.html#job", {"job": job_view(job)})


# --- releases ----------------------------------------------------------------------------------------------


def _releaser(request: HttpRequest) -> User:
    user = authenticated_user(request)
    if not can_release(user):
        raise PermissionDenied(RELEASES_REFUSED)
    return user


def _release_filters(request: HttpRequest) -> dict[str, str]:
    return {key: request.POST.get(key, "") for key in ("topic", "article", "item_type") if request.POST.get(key)}


@login_required
@require_http_methods(["GET", "POST"])
def releases_page(request: HttpRequest) -> HttpResponse:
    user = _releaser(request)
    error = ""
    status = 200
    if request.method == "POST":
        try:
            release = start_release(actor=user, name=request.POST.get("name", ""), filters=_release_filters(request))
        except ValidationError as invalid:
            error = " ".join(f"{field}: {' '.join(map(str, problems))}" for field, problems in _problems(invalid))
            status = 400
        else:
            return redirect("workspace:release", pk=release.pk)
    releases = [release_view(r, request, card=False) for r in Release.objects.select_related("job", "created_by")[:50]]
    return render(
        request,
        "annotations/releases.html",
        {"releases": releases, "topics": Topic.objects.order_by("ordering", "slug"), "error": error},
        status=status,
    )


def _problems(invalid: Exception) -> list[tuple[str, list[Any]]]:
    detail = getattr(invalid, "message_dict", None) or getattr(invalid, "detail", None) or {"error": [str(invalid)]}
    if isinstance(detail, dict):
        return [(str(key), value if isinstance(value, list) else [value]) for key, value in detail.items()]
    return [("error", [str(detail)])]


@login_required
@require_GET
def release_page(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A release: its progress while the job runs (polled), then its files to download and its dataset card."""
    _releaser(request)
    release = get_object_or_404(Release.objects.select_related("job", "created_by"), pk=pk)
    view = release_view(release, request)
    header, _, body = view["card"].removeprefix("---\n").partition("\n---\n")
    context = {"release": view, "card_header": header if body else "", "card_body": body or view["card"]}
    if request.htmx:
        response = render(request, "annotations/release.html#status", context)
        if not view["live"]:
            response["HX-Refresh"] = "true"  # finished: the whole page, with the dataset card
        return response
    return render(request, "annotations/release.html", context)
