"""What every page needs to know about the user's roles."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from annotations.permissions import role_flags
from debate.roles import roles_of


def roles(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "roles": sorted(role.value for role in roles_of(user)),
        **role_flags(user),
    }
