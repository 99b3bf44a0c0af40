"""Password guessing is limited per account and client, per client and per account, with a clear 429.

The API over real HTTP (clients told apart by the X-Forwarded-For address a trusted proxy appends); the login
page through Django's test client (clients told apart by REMOTE_ADDR). The timing under attack is measured
by bench/login_attack.py against `make serve`; here only the behaviour is asserted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import PASSWORD, Api
from tests.hashers import CountingHasher

SettingsWrapper = Any  # pytest-django's `settings` fixture
ATTACKER = "203.0.113.7"
OTHER_CLIENT = "198.51.100.20"


@pytest.fixture
def limits(settings: SettingsWrapper) -> SettingsWrapper:
    """The production defaults (5 per account and client, 20 per client, 50 per account), behind one proxy,
    with a hasher that counts its work."""
    settings.TRUSTED_PROXIES = 1
    settings.PASSWORD_HASHERS = ["tests.hashers.CountingHasher"]
    return settings


def token_request(api: Api, username: str, password: str, client: str) -> httpx.Response:
    return api.post("/auth/token/", {"username": username, "password": password}, headers={"X-Forwarded-For": client})


def test_thirty_wrong_passwords_get_429_with_retry_after_and_the_owner_still_logs_in(
    limits: SettingsWrapper, anonymous_api: Api, api_as: Callable[..., Api], make_user: Callable[..., User]
) -> None:
    make_user("annotator", "victim")
    bystander = api_as("researcher")
    CountingHasher.calls = 0

    answers = [token_request(anonymous_api, "victim", f"guess-{n}", ATTACKER) for n in range(30)]

    assert [answer.status_code for answer in answers[:4]] == [400] * 4
    assert [answer.status_code for answer in answers[4:]] == [429] * 26
    locked = answers[-1]
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert locked.json() == {
        "detail": "too many failed logins; try again in 15 minutes",
        "retry_after": int(locked.headers["Retry-After"]),
    }
    # Refused before any password was hashed: only the five counted failures cost a hash.
    assert CountingHasher.calls == 5
    # The right password from the attacking client is refused too, without hashing it ...
    assert token_request(anonymous_api, "victim", PASSWORD, ATTACKER).status_code == 429
    assert CountingHasher.calls == 5
    # ... but works from the owner's own client, and other users go on as before.
    mine = token_request(anonymous_api, "victim", PASSWORD, OTHER_CLIENT)
    assert mine.status_code == 200, mine.text
    assert bystander.get("/articles/").status_code == 200
    # The owner's login forgives the owner's client only: the attacker stays locked out.
    assert token_request(anonymous_api, "victim", "guess-31", ATTACKER).status_code == 429
    assert CountingHasher.calls == 6


def test_a_client_guessing_across_accounts_is_locked_out_of_every_account(
    limits: SettingsWrapper, anonymous_api: Api, make_user: Callable[..., User]
) -> None:
    make_user("annotator", "known")

    answers = [token_request(anonymous_api, f"user-{n}", "guess", ATTACKER) for n in range(20)]

    assert [answer.status_code for answer in answers] == [400] * 19 + [429]
    assert token_request(anonymous_api, "known", PASSWORD, ATTACKER).status_code == 429
    assert token_request(anonymous_api, "known", PASSWORD, OTHER_CLIENT).status_code == 200


@pytest.mark.django_db
def test_an_account_guessed_from_many_clients_closes_for_the_cool_off(
    limits: SettingsWrapper, make_user: Callable[..., User]
) -> None:
    make_user("annotator", "target")
    client = Client()

    statuses = [
        client.post("/accounts/login/", {"username": "target", "password": "guess"}, REMOTE_ADDR=f"10.0.{n}.1")
        for n in range(50)
    ]

    assert [response.status_code for response in statuses] == [200] * 49 + [429]
    assert (
        client.post(
            "/accounts/login/", {"username": "target", "password": PASSWORD}, REMOTE_ADDR="10.9.9.9"
        ).status_code
        == 429
    )


@pytest.mark.django_db
def test_the_login_page_locks_out_with_a_page_that_says_when(
    limits: SettingsWrapper, make_user: Callable[..., User]
) -> None:
    make_user("annotator", "ann")
    client = Client()
    CountingHasher.calls = 0

    def login(password: str, address: str) -> Any:
        return client.post("/accounts/login/", {"username": "ann", "password": password}, REMOTE_ADDR=address)

    failures = [login("wrong", ATTACKER) for _ in range(5)]

    assert [response.status_code for response in failures] == [200, 200, 200, 200, 429]
    locked = login(PASSWORD, ATTACKER)
    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= 15 * 60
    assert b"Too many failed logins; try again in 15 minutes." in locked.content
    assert CountingHasher.calls == 5
    welcome = login(PASSWORD, OTHER_CLIENT)
    assert welcome.status_code == 302


@pytest.mark.django_db
def test_a_successful_login_clears_that_clients_failures(
    limits: SettingsWrapper, make_user: Callable[..., User]
) -> None:
    make_user("annotator", "ann")
    client = Client()

    for _ in range(4):
        client.post("/accounts/login/", {"username": "ann", "password": "wrong"}, REMOTE_ADDR=ATTACKER)
    assert (
        client.post("/accounts/login/", {"username": "ann", "password": PASSWORD}, REMOTE_ADDR=ATTACKER).status_code
        == 302
    )
    client.logout()

    # Four more typos are four, not eight.
    for _ in range(4):
        response = client.post("/accounts/login/", {"username": "ann", "password": "wrong"}, REMOTE_ADDR=ATTACKER)
        assert response.status_code == 200


def test_the_client_address_is_the_one_the_trusted_proxy_saw(settings: SettingsWrapper) -> None:
    from django.test import RequestFactory

    from config.login_limits import client_ip

    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.TRUSTED_PROXIES = 0
    assert client_ip(request) == "127.0.0.1"
    settings.TRUSTED_PROXIES = 1
    assert client_ip(request) == "203.0.113.7"  # the client's own "6.6.6.6" proves nothing
    settings.TRUSTED_PROXIES = 3
    assert client_ip(request) == "127.0.0.1"  # fewer hops than proxies: not through them


@pytest.mark.django_db
def test_a_refused_login_costs_one_query_and_no_hash(
    limits: SettingsWrapper, make_user: Callable[..., User], django_assert_num_queries: Any
) -> None:
    make_user("annotator", "ann")
    client = Client()
    for _ in range(5):
        client.post("/api/auth/token/", {"username": "ann", "password": "wrong"}, REMOTE_ADDR=ATTACKER)
    CountingHasher.calls = 0

    with django_assert_num_queries(1):
        refused = client.post("/api/auth/token/", {"username": "ann", "password": PASSWORD}, REMOTE_ADDR=ATTACKER)

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert CountingHasher.calls == 0
