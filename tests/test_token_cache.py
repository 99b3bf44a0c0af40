"""API tokens remembered in the shared cache (config/tokens.py): a remembered token costs no query, and every
revocation still holds at once: logout, logout-all, a password change, the command, a deactivated user, a
role taken away, expiry."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken

from config import tokens
from debate.actions import issue_api_token
from tests.conftest import Api

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def remembered(settings: Any) -> Iterator[None]:
    settings.API_TOKEN_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def status_with(api: Api, token: str, path: str = "/articles/") -> int:
    return httpx.get(api.url(path), headers={"Authorization": f"Token {token}"}, timeout=30).status_code


def put_status(api: Api, token: str, comment_id: int = 0) -> int:
    return httpx.put(
        api.url(f"/comments/{comment_id}/annotations/cluster-munitions/"),
        json={"stance": "favor"},
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    ).status_code


def test_a_remembered_token_costs_no_query(anonymous_api: Api, make_user: Callable[..., User]) -> None:
    from django.test import Client

    token = issue_api_token(user=make_user("annotator", "ann")).token
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    with CaptureQueriesContext(connection) as first:
        assert client.get("/api/topics/").status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get("/api/topics/").status_code == 200
    assert any("knox_authtoken" in query["sql"] for query in first.captured_queries)
    assert len(second.captured_queries) == len(first.captured_queries) - 3
    assert not any("knox_authtoken" in q["sql"] or "auth_group" in q["sql"] for q in second.captured_queries)
    # Nothing of the password is in the cache.
    (entry,) = (cache.get(f"apitoken:{digest}") for digest in AuthToken.objects.values_list("digest", flat=True))
    assert "password" not in entry["user"]
    assert entry["roles"] == ["annotator"]


@pytest.mark.parametrize("how", ["logout", "logout-all", "password", "command", "deactivated", "deleted"])
def test_revocation_holds_at_once_for_a_remembered_token(
    how: str, anonymous_api: Api, make_user: Callable[..., User]
) -> None:
    user = make_user("annotator", "ann")
    token, other = issue_api_token(user=user).token, issue_api_token(user=user).token
    assert status_with(anonymous_api, token) == 200
    assert status_with(anonymous_api, token) == 200  # now from the cache
    if how == "logout":
        sent = httpx.post(anonymous_api.url("/auth/logout/"), headers={"Authorization": f"Token {token}"}, timeout=30)
        assert sent.status_code == 204
        assert status_with(anonymous_api, other) == 200
    elif how == "logout-all":
        sent = httpx.post(
            anonymous_api.url("/auth/logout-all/"), headers={"Authorization": f"Token {other}"}, timeout=30
        )
        assert sent.json() == {"revoked": 2}
    elif how == "password":
        user.set_password("a-whole-new-password-91")
        user.save()
    elif how == "command":
        call_command("revoke_tokens", "ann")
    elif how == "deactivated":
        user.is_active = False
        user.save(update_fields=["is_active"])
    else:
        user.delete()
    assert status_with(anonymous_api, token) == 401
    assert status_with(anonymous_api, token) == 401  # and a refused token is never remembered


def test_a_role_taken_away_is_seen_at_once(anonymous_api: Api, make_user: Callable[..., User]) -> None:
    user = make_user("annotator", "ann")
    token = issue_api_token(user=user).token
    assert put_status(anonymous_api, token) == 404  # allowed to write; no such comment
    assert put_status(anonymous_api, token) == 404
    Group.objects.get(name="annotator").user_set.remove(user)
    assert put_status(anonymous_api, token) == 403
    user.groups.add(Group.objects.get(name="annotator"))
    assert put_status(anonymous_api, token) == 404


def test_a_remembered_token_still_expires(anonymous_api: Api, make_user: Callable[..., User]) -> None:
    token = issue_api_token(user=make_user("annotator", "ann")).token
    stored = AuthToken.objects.get()
    stored.expiry = timezone.now() + timedelta(seconds=2)
    stored.save()
    assert status_with(anonymous_api, token) == 200
    assert status_with(anonymous_api, token) == 200
    time.sleep(2.2)
    assert status_with(anonymous_api, token) == 401
    assert not AuthToken.objects.exists()


def test_a_token_read_before_its_revocation_is_not_remembered_after_it(make_user: Callable[..., User]) -> None:
    """The cache is filled with `add`: a request that verified the token in the database just before it was
    revoked cannot put it back over the revocation's tombstone."""
    user = make_user("annotator", "ann")
    issue_api_token(user=user)
    stored = AuthToken.objects.get()
    key, remembered = tokens._key(stored.digest), tokens._remembered(stored)  # what that request would remember
    stored.delete()  # the revocation, in between
    cache.add(key, remembered, timeout=60)  # the request's late fill
    assert cache.get(key) == "revoked"
