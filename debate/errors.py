"""Errors that use cases raise, each with the HTTP status the API answers it with."""

from __future__ import annotations

from typing import Any


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
