"""API token authentication: django-rest-knox's hashed, expiring tokens behind the `Token` header prefix.

A verified token is remembered for `API_TOKEN_CACHE_SECONDS` in the shared cache (Redis, or the database
table, both seen by every app server), keyed by the token's SHA-512 digest, with its user's fields (never the
password hash) and roles: a request then costs one cache read instead of knox's three queries (the token
with its user, the user's other tokens for clean-up, the user's groups). Revocation still holds at once:
deleting a token (logout, logout-all, a password change, `revoke_tokens`, a deleted user) and saving a
user or changing their groups puts a *tombstone* under each of their tokens' keys, and the cache is only
ever filled with `add`, which never replaces a tombstone: a request that read the token just before its
revocation cannot put it back. A tombstone sends the next requests to the database until it expires.
Expiry is checked on every request against the remembered expiry. The cache is off (0) when the cache is
not shared between processes (the development server's in-memory cache), since a revocation by another
process could not reach it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework import exceptions

from debate.roles import Role, roles_of

_PREFIX = "apitoken:"
_TOMBSTONE = "revoked"


def _key(digest: str) -> str:
    return _PREFIX + digest


def cache_seconds() -> int:
    return int(getattr(settings, "API_TOKEN_CACHE_SECONDS", 0))


def forget_tokens(digests: Iterable[str]) -> None:
    """Tombstones under these tokens' keys: the next requests with them go to the database."""
    seconds = cache_seconds()
    keys = [_key(digest) for digest in digests]
    if seconds > 0 and keys:
        cache.set_many(dict.fromkeys(keys, _TOMBSTONE), timeout=seconds)


def forget_tokens_of(user_id: int) -> None:
    """After a change to the user (saved, groups changed): none of their remembered tokens is trusted."""
    if cache_seconds() > 0:
        forget_tokens(AuthToken.objects.filter(user_id=user_id).values_list("digest", flat=True))


def _user_fields() -> list[str]:
    return [field.attname for field in get_user_model()._meta.concrete_fields if field.attname != "password"]


def _remembered(token: AuthToken) -> dict[str, Any]:
    user = token.user
    return {
        "token_key": token.token_key,
        "created": token.created,
        "expiry": token.expiry,
        "user": {name: getattr(user, name) for name in _user_fields()},
        "roles": sorted(roles_of(user)),
    }


def _recall(digest: str, entry: dict[str, Any]) -> tuple[Any, AuthToken] | None:
    expiry: datetime | None = entry["expiry"]
    if expiry is not None and expiry < timezone.now():
        return None  # expired: knox's own path deletes it and refuses
    fields = entry["user"]
    # The password stays deferred: loaded from the database only if something reads it.
    user = get_user_model().from_db(DEFAULT_DB_ALIAS, list(fields), list(fields.values()))
    setattr(user, "_debate_roles", frozenset(Role(role) for role in entry["roles"]))  # noqa: B010 - see roles_of
    token = AuthToken.from_db(
        DEFAULT_DB_ALIAS,
        ["digest", "token_key", "user_id", "created", "expiry"],
        [digest, entry["token_key"], user.pk, entry["created"], expiry],
    )
    token.user = user
    return user, token


class TokenAuthentication(KnoxTokenAuthentication):  # type: ignore[misc]  # knox ships no types
    """Knox's scheme, remembered in the shared cache (see the module docstring); a token that is not even
    text is refused with 401 like any other wrong token."""

    def authenticate_credentials(self, token: bytes) -> Any:
        try:
            text = token.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        seconds = cache_seconds()
        if seconds <= 0:
            return super().authenticate_credentials(token)
        try:
            digest = hash_token(text)
        except (TypeError, ValueError):
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        entry = cache.get(_key(digest))
        if isinstance(entry, dict):
            recalled = _recall(digest, entry)
            if recalled is not None and recalled[0].is_active:
                return recalled
        user, auth_token = super().authenticate_credentials(token)
        if entry is None:  # never over a tombstone
            cache.add(_key(digest), _remembered(auth_token), timeout=seconds)
        return user, auth_token


class TokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]  # its __init_subclass__ is untyped
    """How the OpenAPI schema describes the scheme (as DRF's own token scheme was described)."""

    target_class = "config.tokens.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'An API token from POST /api/auth/token/, sent as "Token <token>"; it expires.',
        }


def _token_deleted(sender: Any, instance: AuthToken, **kwargs: Any) -> None:
    forget_tokens([instance.digest])


def _user_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    if not kwargs.get("created"):
        forget_tokens_of(instance.pk)


def _groups_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    if action not in ("post_add", "post_remove", "post_clear", "pre_clear"):
        return
    if not reverse:  # user.groups.add(...): the instance is the user
        forget_tokens_of(instance.pk)
    elif cache_seconds() > 0:  # group.user_set.add(...): the users are pk_set (all of the group's on clear)
        users = pk_set if pk_set is not None else set(instance.user_set.values_list("pk", flat=True))
        forget_tokens(AuthToken.objects.filter(user_id__in=users).values_list("digest", flat=True))


def connect_signals() -> None:
    """Revocation reaches the cache: called by the corpus app's ready(), so every process (the web, the
    commands) tombstones what it revokes."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    user_model = get_user_model()
    post_delete.connect(_token_deleted, sender=AuthToken, dispatch_uid="api_token_cache_deleted")
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="api_token_cache_user_saved")
    m2m_changed.connect(
        _groups_changed, sender=user_model.groups.through, dispatch_uid="api_token_cache_groups_changed"
    )
