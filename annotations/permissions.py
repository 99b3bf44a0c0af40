"""Who may see and do what: the roles' rights and the blind-annotation rule, written once.

Views, the API, filters, serializers, querysets, exports and templates (through the `roles` context processor)
ask here, and the DRF permission classes below are built from the same predicates; nothing else looks at roles
to decide. The roles themselves (`Role`, `has_role`) live in `debate.roles`: the corpus app cannot import this one.

Blind annotation: an annotator sees their own labels and nothing derived from anyone else's: not other labels,
notes or evidence, nor the consensus, gold labels, agreement, distributions, or others' progress and history.
A refusal says why in one line and carries nothing else.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from debate.roles import Role, has_role

AnyUser = AbstractBaseUser | AnonymousUser

BLIND = "annotators see only their own labels (blind annotation)"
CANNOT_ANNOTATE = "your role cannot write labels"
DOES_NOT_ANNOTATE = "your role does not annotate"
ONLY_CURATORS_ADJUDICATE = "only curators and admins adjudicate"
ONLY_CURATORS_LINK = "only curators can change reply links"
EXPORTS_REFUSED = "exports are for researchers, curators and admins"
SUMMARIES_REFUSED = "agreement and stance summaries are for curators, researchers and admins"
IMPORTS_REFUSED = "only curators and admins import documents"
RELEASES_REFUSED = "dataset releases are for curators, researchers and admins"


# --- role predicates ------------------------------------------------------------------------------------


def can_annotate(user: AnyUser | None) -> bool:
    """Writes labels of their own: annotators, curators and admins (researchers only read)."""
    return has_role(user, Role.ANNOTATOR, Role.CURATOR, Role.ADMIN)


def can_curate(user: AnyUser | None) -> bool:
    """Adjudicates (gold labels) and corrects reply links."""
    return has_role(user, Role.CURATOR, Role.ADMIN)


def can_import(user: AnyUser | None) -> bool:
    """Uploads documents into the corpus."""
    return has_role(user, Role.CURATOR, Role.ADMIN)


def can_release(user: AnyUser | None) -> bool:
    """Creates and downloads dataset releases, which hold everyone's labels."""
    return has_role(user, Role.CURATOR, Role.RESEARCHER, Role.ADMIN)


def sees_all_labels(user: AnyUser | None) -> bool:
    """The blind-annotation rule: only curators, researchers and admins see labels other than their own, and
    whatever is computed from them."""
    return has_role(user, Role.CURATOR, Role.RESEARCHER, Role.ADMIN)


def can_export(user: AnyUser | None) -> bool:
    """Downloads whole datasets, which hold everyone's labels: only for those who see them."""
    return sees_all_labels(user)


def sees_labels_of(user: AnyUser | None, username: str) -> bool:
    """May `user` see the labels (and label history) of the annotator called `username`?"""
    if sees_all_labels(user):
        return True
    return user is not None and user.is_authenticated and username == user.get_username()


def role_flags(user: AnyUser | None) -> dict[str, bool]:
    """The answers templates decide with, under the names they use."""
    return {
        "can_annotate": can_annotate(user),
        "can_curate": can_curate(user),
        "can_import": can_import(user),
        "can_release": can_release(user),
        "sees_all": sees_all_labels(user),
        "can_export": can_export(user),
    }


# --- DRF permission classes ------------------------------------------------------------------------------
# Each also requires a signed-in user, so that an anonymous request is answered 401 rather than let through.


def _signed_in(request: Request) -> bool:
    return bool(request.user and request.user.is_authenticated)


class CanExport(BasePermission):
    message = EXPORTS_REFUSED

    def has_permission(self, request: Request, view: APIView) -> bool:
        return _signed_in(request) and can_export(request.user)


class CanCurate(BasePermission):
    message = ONLY_CURATORS_ADJUDICATE

    def has_permission(self, request: Request, view: APIView) -> bool:
        return _signed_in(request) and can_curate(request.user)


class CanCorrectReplyLinks(CanCurate):
    message = ONLY_CURATORS_LINK


class SeesAllLabels(BasePermission):
    """Agreement and distributions are computed from everyone's labels: not for annotators."""

    message = SUMMARIES_REFUSED

    def has_permission(self, request: Request, view: APIView) -> bool:
        return _signed_in(request) and sees_all_labels(request.user)


class WritesOwnLabels(BasePermission):
    """Anyone signed in reads their own labels; changing them needs a role that annotates."""

    message = CANNOT_ANNOTATE

    def has_permission(self, request: Request, view: APIView) -> bool:
        return _signed_in(request) and (request.method in SAFE_METHODS or can_annotate(request.user))


class CanImport(BasePermission):
    message = IMPORTS_REFUSED

    def has_permission(self, request: Request, view: APIView) -> bool:
        return _signed_in(request) and can_import(request.user)


class CanRelease(BasePermission):
    message = RELEASES_REFUSED

    def has_permission(self, request: Request, view: APIView) -> bool:
        return _signed_in(request) and can_release(request.user)
