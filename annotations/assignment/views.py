"""The curators' assignment page: settings, each annotator's progress, checks and qualification, pauses, and
the choice of qualification items. Every write goes through `annotations.assignment.actions`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from annotations.assignment import actions, queries
from annotations.assignment.forms import AssignmentSettingsForm
from annotations.models import GoldLabel, QualificationItem
from debate.models import Comment
from debate.roles import authenticated_user

GOLD_ITEMS_SHOWN = 200


def _curator(request: HttpRequest) -> User:
    user = authenticated_user(request)
    if not actions.can_manage_assignment(user):
        raise PermissionDenied("only curators and admins manage assignment")
    return user


@login_required
@require_http_methods(["GET", "POST"])
def assignment_page(request: HttpRequest) -> HttpResponse:
    user = _curator(request)
    settings = actions.ensure_plan()
    form = AssignmentSettingsForm(initial=AssignmentSettingsForm.initial_from(settings))
    status = 200
    if request.method == "POST":
        form = AssignmentSettingsForm(request.POST)
        if form.is_valid():
            try:
                actions.update_assignment_settings(actor=user, values=form.values())
            except ValidationError as invalid:
                for field, problems in invalid.message_dict.items():
                    messages.error(request, f"{field}: {' '.join(problems)}")
            else:
                messages.success(request, "Assignment settings saved; queues follow them now.")
                return HttpResponseRedirect(reverse("workspace:assignment"))
        status = 400
    qualification = set(QualificationItem.objects.values_list("comment_id", flat=True))
    gold_ids = list(actions.gold_comment_ids().order_by("comment_id")[:GOLD_ITEMS_SHOWN])
    gold_items = [
        {"comment": comment, "qualification": comment.pk in qualification}
        for comment in Comment.objects.filter(pk__in=gold_ids).select_related("article", "author").order_by("pk")
    ]
    return render(
        request,
        "annotations/assignment.html",
        {
            "form": form,
            "settings": settings,
            "mode": queries.assignment_mode(settings),
            "summary": queries.assignment_summary(settings),
            "gold_items": gold_items,
            "gold_total": GoldLabel.objects.values("comment_id").distinct().count(),
            "qualification_count": len(qualification),
        },
        status=status,
    )


@login_required
@require_POST
def annotator_status(request: HttpRequest, username: str) -> HttpResponse:
    """Pause or resume an annotator, clear a flag, or pass a qualification by hand (button values)."""
    user = _curator(request)
    annotator = get_object_or_404(User, username=username)
    changes: dict[str, dict[str, Any]] = {
        "pause": {"paused": True, "pause_reason": request.POST.get("pause_reason", "")},
        "resume": {"paused": False},
        "clear-flag": {"flagged": False},
        "pass": {"qualification": "passed"},
        "retry": {"qualification": "pending"},
    }
    change = changes.get(request.POST.get("do", ""))
    if change is None:
        messages.error(request, "unknown action; expected pause, resume, clear-flag, pass or retry")
    else:
        try:
            actions.update_annotator_status(actor=user, annotator=annotator, values=change)
            messages.success(request, f"{username}: done.")
        except ValidationError as invalid:
            messages.error(request, " ".join(invalid.messages))
    return HttpResponseRedirect(reverse("workspace:assignment") + "#annotators")


@login_required
@require_POST
def qualification_item(request: HttpRequest, comment_id: int) -> HttpResponse:
    """Mark a gold item as a qualification item, or unmark it."""
    user = _curator(request)
    comment = get_object_or_404(Comment, pk=comment_id)
    try:
        if request.POST.get("do") == "unmark":
            actions.unmark_qualification_item(actor=user, comment=comment)
        else:
            actions.mark_qualification_item(actor=user, comment=comment)
    except (ValidationError, QualificationItem.DoesNotExist) as refused:
        messages.error(request, " ".join(getattr(refused, "messages", [str(refused)])))
    return HttpResponseRedirect(reverse("workspace:assignment") + "#qualification")
