"""Limits on password guessing, for the login page, the admin's and `POST /api/auth/token/` alike.

django-axes does the work: its authentication backend runs first and refuses a locked-out client before any
password is hashed, and its attempts live in the shared database, so every app server counts the same
failures. This module adds what axes leaves to the project: a separate limit for each lockout parameter set
(settings.LOGIN_FAILURE_LIMITS), the client's address behind the TLS proxy, and a 429 answer that says when
to try again (Retry-After), as JSON under /api/ and as a page elsewhere.
"""

from __future__ import annotations

import math
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_parameters, get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Q, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXIES proxies the address that the last of
    them appended to X-Forwarded-For (anything further left was written by the client and proves nothing)."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies = settings.TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    forwarded = [part for part in forwarded if part]
    return forwarded[-proxies] if len(forwarded) >= proxies else remote


def _filters(request: HttpRequest, credentials: dict[str, Any] | None) -> list[Q]:
    """One filter per lockout parameter set, in the order of settings.LOGIN_FAILURE_LIMITS."""
    username = get_client_username(request, credentials)
    # Axes sets these attributes on the request before it asks the handler anything.
    address, agent = request.axes_ip_address, request.axes_user_agent  # type: ignore[attr-defined]
    parameters = get_client_parameters(username, address, agent, request, credentials)
    return [Q(**kwargs) for kwargs in parameters]


def _recent(request: HttpRequest) -> Any:
    cool_off = get_cool_off(request)
    attempts = AccessAttempt.objects.all()
    return attempts if cool_off is None else attempts.filter(attempt_time__gte=timezone.now() - cool_off)


class LoginLimitsHandler(AxesDatabaseHandler):  # type: ignore[misc]  # axes ships no types
    """Axes' database handler with a limit of its own for each lockout parameter set.

    Axes compares one count with one limit (AXES_FAILURE_LIMIT); each set's failures are scaled so that
    reaching its own limit reaches that one. All sets are counted in one query, which also notes on the
    request when the latest of them failed (for Retry-After); a refused login costs that query alone."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        limits = list(settings.LOGIN_FAILURE_LIMITS.values())
        filters = _filters(request, credentials)
        any_set = Q()
        for condition in filters:
            any_set |= condition
        sums = _recent(request).aggregate(
            latest=Max("attempt_time", filter=any_set),
            **{f"set{index}": Sum("failures_since_start", filter=condition) for index, condition in enumerate(filters)},
        )
        request.login_failures_latest = sums["latest"]  # type: ignore[attr-defined]
        scale = settings.AXES_FAILURE_LIMIT
        return max(
            ((sums[f"set{index}"] or 0) * scale // limit for index, limit in enumerate(limits)),
            default=0,
        )

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
    ) -> None:
        """A login the lockout refused is not a failure to record (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT
        is off), so skip axes' clean-up query too: the refusal stays one query."""
        if request is not None and getattr(request, "axes_locked_out", False):
            return
        super().user_login_failed(sender, credentials, request, **kwargs)

    def reset_user_attempts(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """A successful login forgives this client's failures on this account, and nothing else: axes would
        clear every set the request matches, so the owner logging in would lift an attacker's lockout on
        the account (and the failures of everyone behind the owner's address)."""
        username = get_client_username(request, credentials)
        address = request.axes_ip_address  # type: ignore[attr-defined]
        deleted, _ = AccessAttempt.objects.filter(username=username, ip_address=address).delete()
        return int(deleted)


def retry_after(request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
    """Seconds until the lockout that holds this request ends: the cool-off counted from the latest failure
    that counts against it (refused attempts are not recorded, so they do not prolong it)."""
    cool_off = get_cool_off(request)
    if cool_off is None:
        return 0
    latest = getattr(request, "login_failures_latest", None)  # noted by the handler when it counted
    if latest is None:
        return 1
    remaining: float = (latest + cool_off - timezone.now()).total_seconds()
    return max(1, math.ceil(remaining))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """429 Too Many Requests with Retry-After: JSON with a one-line detail under /api/, else the login page's
    own message. A view that answered the lockout itself (the token view) keeps its answer."""
    if original_response is not None and original_response.status_code == 429:
        return original_response
    seconds = retry_after(request, credentials)
    minutes = max(1, math.ceil(seconds / 60))
    detail = f"too many failed logins; try again in {minutes} minute{'s' if minutes != 1 else ''}"
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": detail, "retry_after": seconds}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"detail": detail}, status=429)
    response["Retry-After"] = str(seconds)
    return response
