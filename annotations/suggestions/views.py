"""The curator's button: train the topics' suggestion models now (a background job)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from annotations.models import Topic
from annotations.permissions import can_curate
from annotations.suggestions.actions import ONLY_CURATORS_TRAIN
from annotations.suggestions.jobs import enqueue_training
from debate.roles import authenticated_user


@login_required
@require_POST
def train_now(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    if not can_curate(user):
        raise PermissionDenied(ONLY_CURATORS_TRAIN)
    job = enqueue_training(topics=list(Topic.objects.active()), actor=user)
    if job is None:
        messages.info(request, "Training is already queued or running for every topic.")
    else:
        messages.success(request, f"Training queued (job {job.pk}): {', '.join(job.options['topics'])}.")
    return HttpResponseRedirect(reverse("workspace:dashboard") + "#suggestions")
