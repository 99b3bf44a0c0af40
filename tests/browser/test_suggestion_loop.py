"""Issue 16's loop on the real processes: labels in over HTTP, the worker trains, suggestions appear, an
annotator's single item shows the hint in Chromium, and the queue reorders by uncertainty. Once on `make run`
(SQLite, its own worker) and once on PostgreSQL with gunicorn and `scripts/workers.py`, as `make serve` and
`make worker` run them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Browser, expect

from annotations.models import Assignment, Topic
from annotations.suggestions.queries import in_random_stream
from debate.synthetic import generate_corpus
from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD, Api, database_url, wait_for
from tests.processes import make_run, manage, sqlite_url, start_gunicorn, stop

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

CM = "cluster-munitions"
TOPICS = ("cluster-munitions", "strikes-in-russia", "trainers-in-ukraine")
# Counted on every write, so that the write completing `retrain_every` consensus labels queues the training.
LOOP_ENV = {"SUGGESTION_CHECK_SECONDS": "0", "JOB_POLL_SECONDS": "0.2"}
LABELLED = 200  # comments two annotators label alike on one topic (of 300)


@dataclass
class Deployment:
    """A running app: its URL, how an operator adds a user, and where its queues are stored."""

    base: str
    add_user: Callable[[str, str], None]
    assignments: Callable[[str], dict[int, tuple[int, str]]]  # username -> {comment id: (position, reason)}


def login(base: str, username: str) -> Api:
    token = Api(base).post("/auth/token/", {"username": username, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return Api(base, token.json()["token"])


@pytest.fixture
def on_sqlite(tmp_path: Path) -> Iterator[Deployment]:
    with make_run(tmp_path, **LOOP_ENV) as base:
        database = sqlite_url(tmp_path)

        def add_user(name: str, role: str) -> None:
            manage("add_user", name, "--role", role, database=database)

        def assignments(username: str) -> dict[int, tuple[int, str]]:
            with sqlite3.connect(f"file:{tmp_path / 'db.sqlite3'}?mode=ro", uri=True) as connection:
                rows = connection.execute(
                    "SELECT a.comment_id, a.position, a.reason FROM annotations_assignment a "
                    "JOIN auth_user u ON u.id = a.annotator_id WHERE u.username = ?",
                    (username,),
                ).fetchall()
            return {comment: (position, reason) for comment, position, reason in rows}

        yield Deployment(base, add_user, assignments)


@pytest.fixture
def on_postgresql(transactional_db: None, topics: dict[str, Topic]) -> Iterator[Deployment]:
    # `topics`: an earlier transactional test's flush removed the migration's topic rows.
    server, base = start_gunicorn(LOOP_ENV)
    workers = subprocess.Popen(
        [sys.executable, str(Path(settings.BASE_DIR) / "scripts" / "workers.py"), "--workers", "1"],
        env={**os.environ, "DATABASE_URL": database_url(), **LOOP_ENV},
        start_new_session=True,
    )
    try:
        # As an operator adds them (and with the servers' password hashers, not the tests' fast one).
        def add_user(name: str, role: str) -> None:
            manage("add_user", name, "--role", role, database=database_url())

        add_user("admin", "admin")

        def assignments(username: str) -> dict[int, tuple[int, str]]:
            rows = Assignment.objects.filter(annotator__username=username)
            return {row.comment_id: (row.position, row.reason) for row in rows if row.comment_id is not None}

        yield Deployment(base, add_user, assignments)
    finally:
        stop(workers)
        stop(server)


def _imported(admin: Api, url: str) -> dict[str, Any] | None:
    body = admin.http.get(url).json()
    return body if body["status"] in ("done", "failed") else None


def _trained(admin: Api) -> dict[str, Any] | None:
    models = [model for model in admin.get("/models/").json()["models"] if model["topic"] == CM]
    return models[0] if models else None


def run_the_loop(deployment: Deployment, browser: Browser, name: str) -> None:
    admin = login(deployment.base, "admin")
    for username in ("ann1", "ann2", "dan"):
        deployment.add_user(username, "annotator")
    trainers = [login(deployment.base, username) for username in ("ann1", "ann2")]
    dan = login(deployment.base, "dan")

    # A stance-bearing corpus (300 comments), imported over HTTP by the worker.
    documents = list(generate_corpus(seed=31, articles=2, comments_per_article=150, topics=TOPICS))
    upload = admin.http.post("/imports/", files=[("files", (doc.source, doc.data)) for doc in documents])
    assert upload.status_code == 202, upload.text
    job = wait_for(lambda: _imported(admin, upload.json()["url"]), timeout=120, interval=0.2)
    assert job["status"] == "done", job
    article_of = {file["name"]: file["article_id"] for file in job["files"]}
    reference: dict[int, str] = {}
    records = admin.all_pages("/comments/", page_size=1000)
    by_number = {(row["article"], row["number"]): row["id"] for row in records}
    for document in documents:
        for comment in document.comments:
            reference[by_number[(article_of[document.source], comment.number)]] = comment.stances[CM]
    ids = sorted(reference)
    assert len(ids) == 300

    # Labels in: two annotators agree on 200 comments; the write completing 150 consensus labels queues training.
    settings_put = admin.put("/suggestions/settings/", {"retrain_every": 150})
    assert settings_put.status_code == 200, settings_put.text
    for api in trainers:
        for start in range(0, LABELLED, 100):
            writes = [{"comment": pk, "topic": CM, "stance": reference[pk]} for pk in ids[start : start + 100]]
            batch = api.post("/annotations/batch/", {"writes": writes})
            assert batch.status_code == 200, batch.text
            assert {result["status"] for result in batch.json()["results"]} <= {200, 201}, batch.text[:500]
    # The job trains: the model appears in /api/models/, measured, and used.
    model = wait_for(lambda: _trained(admin), timeout=120, interval=0.5)
    assert model["usable"], model["reason"]
    assert model["label_count"] >= 150
    assert admin.get("/models/").json()["current"][CM] == model["version"]

    # Suggestions appear for a curator (every comment) in GET /api/comments/.
    suggested = {row["id"]: row["suggestions"].get(CM) for row in admin.all_pages("/comments/", page_size=1000)}
    assert all(suggested[pk] for pk in ids)
    assert {suggestion["model_version"] for suggestion in suggested.values()} == {model["version"]}
    unlabelled = ids[LABELLED:]
    right = sum(suggested[pk]["stance"] == reference[pk] for pk in unlabelled) / len(unlabelled)
    assert right > 0.5, right

    # With an overlap sample of 20%, dan's single items carry hints, in the API and in the workspace panel.
    assert admin.put("/assignment/", {"overlap_share": 0.2, "overlap_annotators": 2}).status_code == 200
    before = [row["id"] for row in dan.all_pages("/comments/", unannotated="true", page_size=1000)]
    queue = deployment.assignments("dan")
    singles = {pk for pk, (_, reason) in queue.items() if reason == "single"}
    assert len(singles) >= 10
    hinted = {
        row["id"]: row["suggestions"][CM]
        for row in dan.all_pages("/comments/", unannotated="true", page_size=1000)
        if row["suggestions"]
    }
    assert hinted
    assert set(hinted) <= singles  # never an overlap item
    target = min(hinted, key=lambda pk: queue[pk][0])
    earlier = [pk for pk in queue if queue[pk][0] < queue[target][0]]
    previous = max(earlier, key=lambda pk: queue[pk][0]) if earlier else None
    context = browser.new_context(base_url=deployment.base, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", "dan")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"/annotate/?after={previous}" if previous is not None else "/annotate/")
    row = page.locator(f'#panel-{target} [data-topic-row][data-topic="{CM}"]')
    expect(row.locator("[data-hint]")).to_have_attribute("data-hint", hinted[target]["stance"])
    expect(row.locator(f'[data-stance="{hinted[target]["stance"]}"]')).to_have_attribute("aria-pressed", "false")
    screenshot(page, f"suggestion-loop-{name}")
    # The thread page's panel of the same comment carries the same hint.
    article = next(row["article"] for row in records if row["id"] == target)
    page.goto(f"/articles/{article}/?at={target}#c{target}")
    row = page.locator(f'#panel-{target} [data-topic-row][data-topic="{CM}"]')
    expect(row.locator("[data-hint]")).to_have_attribute("data-hint", hinted[target]["stance"])
    row.scroll_into_view_if_needed()
    screenshot(page, f"suggestion-loop-thread-{name}")

    # Active learning on: the queue reorders, single items by the model's uncertainty with a random share.
    assert admin.put("/suggestions/settings/", {"active_learning": True}).status_code == 200
    after = [row["id"] for row in dan.all_pages("/comments/", unannotated="true", page_size=1000)]
    assert sorted(after) == sorted(before)
    assert after != before
    order = [pk for pk in after if pk in singles]
    uncertainty = {pk: 1 - suggested[pk]["probability"] for pk in singles}
    uncertain_turns = [pk for turn, pk in enumerate(order[:10]) if turn % 5 != 4]
    assert all(not in_random_stream(pk, 0.2) for pk in uncertain_turns)
    picked = sorted((pk for pk in singles if not in_random_stream(pk, 0.2)), key=lambda pk: -uncertainty[pk])
    assert [round(uncertainty[pk], 3) for pk in uncertain_turns] == [
        round(uncertainty[pk], 3) for pk in picked[: len(uncertain_turns)]
    ]
    if any(in_random_stream(pk, 0.2) for pk in singles):
        assert in_random_stream(order[4], 0.2)
    # The queue page serves the API's first item; dan labels the first single one, which records its stream.
    page.goto("/annotate/")
    expect(page.locator(f"#panel-{after[0]}")).to_be_visible()
    first_single = order[0]
    for slug in TOPICS:
        put = dan.put(f"/comments/{first_single}/annotations/{slug}/", {"stance": "neutral"})
        assert put.status_code == 201, put.text
    exported = admin.http.get("/export/annotations.jsonl", params={"annotator": "dan"})
    rows = [json.loads(line) for line in exported.text.splitlines()]
    assert {(row["comment_id"], row["stream"]) for row in rows} == {(first_single, "uncertain")}
    context.close()
    for api in (admin, dan, *trainers):
        api.close()


def test_the_loop_on_make_run_with_sqlite(on_sqlite: Deployment, browser: Browser) -> None:
    run_the_loop(on_sqlite, browser, "make-run")


def test_the_loop_on_gunicorn_and_workers_with_postgresql(on_postgresql: Deployment, browser: Browser) -> None:
    run_the_loop(on_postgresql, browser, "serve")
