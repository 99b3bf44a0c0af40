"""Errors that use cases raise, each with the HTTP status the API answers it with."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404


class DomainError(Exception):
    """A refused request, explained in one line; `extra` adds machine-readable fields to the API error."""

    status_code = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.extra = extra


class Conflict(DomainError):
    """The request clashes with the current state (HTTP 409)."""

    status_code = 409


class PreconditionFailed(DomainError):
    """The client's If-Match names a version that is no longer current (HTTP 412)."""

    status_code = 412


def status_for(exc: Exception) -> int | None:
    """The HTTP status of a refused request, for the API and the pages alike: a use case's own error carries
    it; invalid values are 400, a missing row 404, a role that may not 403. None: not a refusal (a bug)."""
    if isinstance(exc, DomainError):
        return exc.status_code
    if isinstance(exc, ValidationError):
        return 400
    if isinstance(exc, ObjectDoesNotExist | Http404):
        return 404
    if isinstance(exc, PermissionDenied):
        return 403
    return None


def message_for(exc: Exception) -> str:
    """A refusal in one line: invalid values as `field: problem; other: problem`."""
    if isinstance(exc, ValidationError):
        if not hasattr(exc, "error_dict"):
            return " ".join(exc.messages)
        return "; ".join(f"{field}: {' '.join(problems)}" for field, problems in exc.message_dict.items())
    if isinstance(exc, PermissionDenied):
        return str(exc) or "your role cannot do this"
    return str(exc)
