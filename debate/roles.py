"""The four roles, as Django groups. `add_user --role` assigns them; permission checks read them."""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class Role(StrEnum):
    ANNOTATOR = "annotator"  # reads the corpus, writes and sees only their own labels
    CURATOR = "curator"  # sees every label, fixes reply links, adjudicates
    RESEARCHER = "researcher"  # reads everything and exports; writes no labels
    ADMIN = "admin"  # everything, including the Django admin


def roles_of(user: AbstractBaseUser | AnonymousUser) -> frozenset[Role]:
    """The user's roles; cached on the user object, since every request asks several times."""
    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[Role] | None = getattr(user, "_debate_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
        cached = frozenset(role for role in Role if role.value in names)
        if user.is_superuser:  # type: ignore[attr-defined]
            cached |= {Role.ADMIN}
        user._debate_roles = cached  # type: ignore[union-attr]
    return cached


def has_role(user: AbstractBaseUser | AnonymousUser, *roles: Role) -> bool:
    return bool(roles_of(user) & set(roles))
