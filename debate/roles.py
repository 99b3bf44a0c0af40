"""The four roles, as Django groups. `add_user --role` assigns them; permission checks read them."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, PermissionsMixin
from django.http import HttpRequest
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class Role(StrEnum):
    ANNOTATOR = "annotator"  # reads the corpus, writes and sees only their own labels
    CURATOR = "curator"  # sees every label, fixes reply links, adjudicates
    RESEARCHER = "researcher"  # reads everything and exports; writes no labels
    ADMIN = "admin"  # everything, including the Django admin


def roles_of(user: AbstractBaseUser | AnonymousUser | None) -> frozenset[Role]:
    """The user's roles; cached on the user object, since one request asks several times."""
    if user is None or not user.is_authenticated:
        return frozenset()
    cached: frozenset[Role] | None = getattr(user, "_debate_roles", None)
    if cached is None:
        groups = user.groups if isinstance(user, PermissionsMixin) else None  # Django's User has them
        names = set(groups.values_list("name", flat=True)) if groups is not None else set()
        cached = frozenset(role for role in Role if role.value in names)
        if getattr(user, "is_superuser", False):
            cached |= {Role.ADMIN}
        setattr(user, "_debate_roles", cached)  # noqa: B010 - a cache attribute the model does not declare
    return cached


def has_role(user: AbstractBaseUser | AnonymousUser | None, *roles: Role) -> bool:
    return bool(roles_of(user) & set(roles))


def authenticated_user(request: HttpRequest | Request) -> User:
    """The request's user, who must be logged in (views behind IsAuthenticated or login_required)."""
    from django.contrib.auth.models import User

    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated
    return user
