"""Shared fixtures: PostgreSQL only, the seed corpus, users by role, and API clients over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User

from annotations.actions import evidence_of, set_stance
from annotations.labels import LabelValues
from annotations.models import Annotation, Topic
from annotations.topics import DEFAULT_TOPICS
from debate.actions import import_document, issue_api_token
from debate.models import Article, Comment
from debate.roles import Role

SEEDS = Path(settings.BASE_DIR) / "fixtures" / "seeds"
CLUSTER_MUNITIONS = "000_e41b44eaa1304eb1.txt"  # 36 comments
STRIKES_IN_RUSSIA = "002_67ebe6d974f15d13.txt"  # 21 comments
PASSWORD = "correct horse battery staple"


UNIT = Path(__file__).resolve().parent / "unit"
# Modules that take tens of seconds or more (subprocesses, servers, thousands of rows): `slow`, like every browser
# test, so that `make check` can leave them to `make test`.
SLOW_MODULES = frozenset(
    {
        "test_bench_smoke.py",
        "test_concurrency.py",
        "test_end_to_end_quality.py",
        "test_generate_corpus.py",
        "test_production_settings.py",
    }
)


def pytest_sessionstart(session: pytest.Session) -> None:
    # Django's default hasher takes about half a second per password, by design; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The unit tier (tests/unit/) runs without any database: a test there that asks for one is an error. Every
    other tier runs on PostgreSQL only."""
    for item in items:
        if item.path.name in SLOW_MODULES or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)
    in_unit = [item for item in items if item.path.is_relative_to(UNIT)]
    for item in in_unit:
        if item.get_closest_marker("django_db") or {"db", "transactional_db", "live_server"} & set(
            getattr(item, "fixturenames", ())
        ):
            raise pytest.UsageError(f"{item.nodeid}: tests/unit/ runs without a database; move it to another tier")
    engine = settings.DATABASES["default"]["ENGINE"]
    if len(in_unit) < len(items) and engine != "django.db.backends.postgresql":
        pytest.exit(
            f"the test suite runs on PostgreSQL, but DATABASE_URL selects {engine}; "
            "use `make test` or set DATABASE_URL=postgres://postgres@127.0.0.1:5432/debate",
            returncode=2,
        )


def import_seed(name: str) -> Article:
    result = import_document(source=name, data=(SEEDS / name).read_bytes())
    return Article.objects.get(pk=result.article_id)


@pytest.fixture
def seeds(db: None) -> dict[str, Article]:
    """All five seed documents, imported; keyed by file name."""
    return {path.name: import_seed(path.name) for path in sorted(SEEDS.glob("*.txt"))}


@pytest.fixture
def cluster_article(db: None) -> Article:
    return import_seed(CLUSTER_MUNITIONS)


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(role: Role | str, username: str | None = None) -> User:
        role = Role(role)
        user = User.objects.create_user(
            username=username or f"{role.value}-{User.objects.count() + 1}", password=PASSWORD
        )
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
        if role is Role.ADMIN:
            user.is_staff = user.is_superuser = True
            user.save()
        return user

    return make


class Api:
    """A JSON client for the live server's API, over real HTTP."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        headers = {"Authorization": f"Token {token}"} if token else {}
        self.server = base_url
        self.http = httpx.Client(base_url=f"{base_url}/api", headers=headers, timeout=30)

    def url(self, path: str) -> str:
        """Absolute URL of an API path such as "/articles/"."""
        return f"{self.server}/api{path}"

    def site_url(self, path: str) -> str:
        """Absolute URL of a path outside the API, such as a static file."""
        return f"{self.server}{path}"

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, **kwargs)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.http.put(path, json=json, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.http.post(path, json=json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.delete(path, **kwargs)

    def all_pages(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every result of a paginated list, following `next` links."""
        response = self.get(path, **params)
        response.raise_for_status()
        page = response.json()
        results = list(page["results"])
        while page["next"]:
            response = self.http.get(page["next"])
            response.raise_for_status()
            page = response.json()
            results.extend(page["results"])
        return results

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def anonymous_api(live_server: Any) -> Iterator[Api]:
    api = Api(live_server.url)
    yield api
    api.close()


@pytest.fixture
def api_as(live_server: Any, make_user: Callable[..., User]) -> Iterator[Callable[..., Api]]:
    """`api_as("annotator")` or `api_as(user)`: an API client authenticated with that user's token."""
    clients: list[Api] = []

    def client(who: Role | str | User, username: str | None = None) -> Api:
        user = who if isinstance(who, User) else make_user(who, username)
        api = Api(live_server.url, issue_api_token(user=user).token)
        clients.append(api)
        return api

    yield client
    for api in clients:
        api.close()


@pytest.fixture
def topics(db: None) -> dict[str, Topic]:
    """The default topics, by slug.

    The data migration creates them, but transactional tests flush the database afterwards, so every test
    that needs them asks for this fixture rather than trusting the migration's rows to still be there.
    """
    created = {}
    for values in DEFAULT_TOPICS:
        topic, _ = Topic.objects.update_or_create(
            slug=values["slug"], defaults={key: value for key, value in values.items() if key != "slug"}
        )
        created[topic.slug] = topic
    return created


def label(
    user: User,
    item: Comment | Article,
    topic: Topic,
    stance: str,
    *,
    unsure: bool = False,
    confidence: int | None = None,
    note: str = "",
    evidence: Sequence[Mapping[str, object]] = (),
) -> Annotation:
    """Set a label on a comment or on the article itself through the action, as the API would, for test set-up."""
    target: dict[str, Any] = {"comment": item} if isinstance(item, Comment) else {"article": item}
    values = LabelValues(stance, unsure, confidence, note, evidence_of(list(evidence)))
    return set_stance(actor=user, **target, topic=topic, values=values).annotation


def comments_by_number(article: Article) -> dict[int, Comment]:
    return {comment.number: comment for comment in Comment.objects.filter(article=article)}


def database_url() -> str:
    """The URL of the database this test process uses (the test database), for processes it starts."""
    db = settings.DATABASES["default"]
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Workers:
    """Real `manage.py worker` processes on the test database (tests that use them need transactional_db)."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, **env: str) -> subprocess.Popen[bytes]:
        environment = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "JOB_HEARTBEAT_SECONDS": "0.5",
            "JOB_HEARTBEAT_TIMEOUT": "3",
            **env,
        }
        process = subprocess.Popen(
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "worker"], env=environment
        )
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def workers(transactional_db: None) -> Iterator[Workers]:
    started = Workers()
    yield started
    started.stop_all()


def wait_for(condition: Callable[[], Any], timeout: float = 60, interval: float = 0.05) -> Any:
    """The first truthy value of `condition()`, polled until `timeout` seconds have passed (then fail)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting after {timeout} s")
        time.sleep(interval)
