"""API tokens: stored only as a digest, expiring, revocable one by one or all at once, and on a password change."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime, timedelta
from io import StringIO

import httpx
import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from knox.models import AuthToken

from tests.conftest import PASSWORD, Api


def log_in(api: Api, username: str, password: str = PASSWORD) -> str:
    response = api.post("/auth/token/", {"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def status_with(api: Api, token: str, path: str = "/articles/") -> int:
    return httpx.get(api.url(path), headers={"Authorization": f"Token {token}"}, timeout=30).status_code


def test_only_a_digest_is_stored_and_the_token_expires(anonymous_api: Api, make_user: Callable[..., User]) -> None:
    make_user("annotator", "ann")

    response = anonymous_api.post("/auth/token/", {"username": "ann", "password": PASSWORD})

    token = response.json()["token"]
    (stored,) = AuthToken.objects.all()
    assert token not in {stored.digest, stored.token_key}
    assert stored.token_key == token[:15]
    expiry = datetime.fromisoformat(response.json()["expiry"])
    assert timedelta(days=29, hours=23) < expiry - timezone.now() <= timedelta(days=30)
    assert status_with(anonymous_api, token) == 200

    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))

    assert status_with(anonymous_api, token) == 401
    assert not AuthToken.objects.exists()


def test_logout_revokes_the_token_it_is_sent_with_and_no_other(
    anonymous_api: Api, make_user: Callable[..., User]
) -> None:
    make_user("annotator", "ann")
    laptop, script = log_in(anonymous_api, "ann"), log_in(anonymous_api, "ann")

    response = httpx.post(anonymous_api.url("/auth/logout/"), headers={"Authorization": f"Token {laptop}"}, timeout=30)

    assert response.status_code == 204
    assert status_with(anonymous_api, laptop) == 401
    assert status_with(anonymous_api, script) == 200


def test_logout_all_revokes_every_token_of_the_user_only(anonymous_api: Api, make_user: Callable[..., User]) -> None:
    make_user("annotator", "ann")
    make_user("annotator", "bob")
    first, second, bobs = log_in(anonymous_api, "ann"), log_in(anonymous_api, "ann"), log_in(anonymous_api, "bob")

    response = httpx.post(
        anonymous_api.url("/auth/logout-all/"), headers={"Authorization": f"Token {first}"}, timeout=30
    )

    assert response.status_code == 200
    assert response.json() == {"revoked": 2}
    assert (status_with(anonymous_api, first), status_with(anonymous_api, second)) == (401, 401)
    assert status_with(anonymous_api, bobs) == 200


def test_a_password_change_revokes_every_token(anonymous_api: Api, make_user: Callable[..., User]) -> None:
    ann = make_user("annotator", "ann")
    token = log_in(anonymous_api, "ann")
    ann.last_login = timezone.now()
    ann.save(update_fields=["last_login"])  # saves that leave the password alone leave the tokens alone
    assert status_with(anonymous_api, token) == 200

    ann.set_password("a brand new passphrase")
    ann.save()

    assert status_with(anonymous_api, token) == 401
    assert status_with(anonymous_api, log_in(anonymous_api, "ann", "a brand new passphrase")) == 200


def test_logout_without_a_token_is_a_400(make_user: Callable[..., User]) -> None:
    from django.test import Client

    browser = Client()
    browser.force_login(make_user("annotator", "ann"))

    response = browser.post("/api/auth/logout/")

    assert response.status_code == 400
    assert "carries no API token" in response.json()["detail"]


@pytest.mark.django_db
def test_the_command_revokes_every_token_of_the_named_users(make_user: Callable[..., User]) -> None:
    from debate.actions import issue_api_token

    ann = make_user("annotator", "ann")
    issue_api_token(user=ann)
    issue_api_token(user=ann)
    out = StringIO()

    call_command("revoke_tokens", "ann", stdout=out)

    assert out.getvalue() == "Revoked 2 token(s) of ann.\n"
    assert not AuthToken.objects.exists()
    with pytest.raises(CommandError, match="no such user: nobody"):
        call_command("revoke_tokens", "ann", "nobody")


def test_a_token_that_is_not_text_is_a_401_not_a_500(anonymous_api: Api) -> None:
    response = httpx.get(anonymous_api.url("/articles/"), headers={b"Authorization": b"Token \xff\xfe\xfd"}, timeout=30)

    assert response.status_code == 401


def test_plain_tokens_of_the_old_table_are_hashed_and_keep_working(
    anonymous_api: Api, make_user: Callable[..., User]
) -> None:
    ann = make_user("annotator", "ann")
    old_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"  # DRF's format: 40 hex digits
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz, user_id int)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)", [old_key, ann.pk])
    migration = importlib.import_module("debate.migrations.0007_api_tokens_hashed")

    with connection.schema_editor() as editor:
        migration.hash_plain_tokens(apps, editor)

    assert "authtoken_token" not in connection.introspection.table_names()
    (stored,) = AuthToken.objects.all()
    assert old_key not in {stored.digest, stored.token_key}
    assert stored.expiry is not None
    assert status_with(anonymous_api, old_key) == 200
