"""Pages for curators' background work: the import page (drop files, watch each file's progress, see each
outcome). Writes go through `debate.actions.start_import`, as the API's do."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from annotations.imports import UploadRefused, import_jobs, job_view, uploads_from
from annotations.permissions import IMPORTS_REFUSED, can_import
from annotations.views import refusal
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
def imports_page(request: HttpRequest) -> HttpResponse:
    user = _importer(request)
    if request.method == "POST":
        try:
            uploads = uploads_from(request)
        except UploadRefused as refused:
            if request.htmx:  # type: ignore[attr-defined]
                return refusal(request, str(refused), status=refused.status_code)
            jobs = [job_view(job) for job in import_jobs()[:RECENT_JOBS]]
            return render(
                request, "annotations/imports.html", {"jobs": jobs, "error": str(refused)}, status=refused.status_code
            )
        job = start_import(actor=user, uploads=uploads, replace=request.POST.get("replace") == "on")
        if request.htmx:  # type: ignore[attr-defined]
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
