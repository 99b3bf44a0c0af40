"""`POST /api/imports/` and `GET /api/imports/{id}/` over real HTTP, with real workers, on PostgreSQL; and two
app servers with two workers on one database: every job runs exactly once, every label is there."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from annotations.models import Annotation
from debate.actions import issue_api_token
from debate.models import Article, Comment, ImportFile, Job
from tests.conftest import CLUSTER_MUNITIONS, SEEDS, Api, Workers, wait_for
from tests.processes import start_gunicorn, stop

pytestmark = pytest.mark.timeout(240)


def upload(api: Api, *files: tuple[str, bytes], **data: str) -> httpx.Response:
    return api.http.post("/imports/", files=[("files", (name, content)) for name, content in files], data=data)


def seed(name: str = CLUSTER_MUNITIONS) -> tuple[str, bytes]:
    return name, (SEEDS / name).read_bytes()


def finished(api: Api, url: str) -> dict[str, Any] | None:
    body = api.http.get(url).json()
    return body if body["status"] in ("done", "failed") else None


def test_curators_import_files_over_http_and_see_each_outcome(api_as: Callable[..., Api], workers: Workers) -> None:
    workers.start()
    curator = api_as("curator")
    thread_data = "\n".join(
        json.dumps(record)
        for record in [
            {"title": "Given", "author": "Ed", "body": "Tanks arrived in the port today.", "tags": ["t"]},
            {"id": "a", "parent_id": None, "author": "Ann", "body": "Good."},
            {"id": "b", "parent_id": "a", "author": "Bob", "body": "No."},
        ]
    ).encode()
    response = upload(curator, seed(), ("given.jsonl", thread_data), ("empty.txt", b"   \n"), seed())
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert set(accepted) == {"id", "status", "url"}
    assert accepted["status"] == "queued"
    assert accepted["url"] == curator.url(f"/imports/{accepted['id']}/")
    body = wait_for(lambda: finished(curator, accepted["url"]))
    assert body["status"] == "done"
    assert body["progress"] == {"done": 4, "total": 4, "message": "2 created, 2 refused"}
    outcomes = [(f["name"], f["outcome"], f["reason"]) for f in body["files"]]
    assert outcomes == [
        (CLUSTER_MUNITIONS, "created", ""),
        ("given.jsonl", "created", ""),
        ("empty.txt", "refused", "empty file"),
        (
            CLUSTER_MUNITIONS,
            "refused",
            "same file name as an earlier file of this upload; articles are keyed by file name",
        ),
    ]
    first = body["files"][0]
    assert first["line"] == f"{CLUSTER_MUNITIONS}: 36 comments, 18 reply links"
    assert first["progress"]["done"] == first["progress"]["total"] == 1000
    # Queryable at once through the API.
    comments = curator.get("/comments/", article=first["article_id"], page_size=1).json()
    assert comments["count"] == 36
    assert Comment.objects.filter(article__source="given.jsonl", reply_links__method="given").count() == 1
    # The same bytes again: unchanged, as the command says.
    again_url = upload(curator, seed()).json()["url"]
    again = wait_for(lambda: finished(curator, again_url))
    assert [f["outcome"] for f in again["files"]] == ["unchanged"]
    listing = curator.get("/imports/").json()["results"]
    assert [job["id"] for job in listing][:2] == [again["id"], body["id"]]


def test_only_curators_and_admins_import(api_as: Callable[..., Api], anonymous_api: Api) -> None:
    assert upload(anonymous_api, seed()).status_code == 401
    for role in ("annotator", "researcher"):
        refused = upload(api_as(role), seed())
        assert refused.status_code == 403
        assert refused.json()["detail"] == "only curators and admins import documents"
        assert api_as(role).get("/imports/").status_code == 403
    assert not Job.objects.exists()
    assert upload(api_as("admin"), seed()).status_code == 202


def test_limits_answer_400_and_413_and_store_nothing(api_as: Callable[..., Api]) -> None:
    curator = api_as("curator")
    empty = curator.http.post("/imports/", data={"replace": "true"}, files={"other": ("x.txt", b"x")})
    assert empty.status_code == 400
    assert "field `files`" in empty.json()["detail"]
    with override_settings(IMPORT_MAX_FILES=2, DATA_UPLOAD_MAX_NUMBER_FILES=3):
        many = upload(curator, *[(f"f{n}.txt", b"x") for n in range(3)])
        assert many.status_code == 400
        assert many.json()["detail"] == "3 files; at most 2 at once"
        flood = upload(curator, *[(f"f{n}.txt", b"x") for n in range(6)])
        assert flood.status_code == 400
        assert flood.json()["detail"] == "too many files; at most 2 at once"
    with override_settings(IMPORT_MAX_BYTES=10_000):
        large = upload(curator, seed())
        assert large.status_code == 413
        assert re.fullmatch(
            r"the upload is [0-9]+ KB; at most 10 KB at once \(split it over several uploads\)", large.json()["detail"]
        )
    assert not Job.objects.exists()
    assert not ImportFile.objects.exists()


def test_an_upload_of_several_megabytes_is_taken_whole(api_as: Callable[..., Api]) -> None:
    from debate.synthetic import generate_document

    document = generate_document(seed=5, number=1, comments=6000)
    assert len(document.data) > 3 * 1024 * 1024  # above Django's default in-memory upload size
    response = upload(api_as("curator"), (document.source, document.data))
    assert response.status_code == 202, response.text
    stored = ImportFile.objects.get()
    assert stored.size == len(document.data)
    assert bytes(stored.data) == document.data


def test_unknown_and_non_numeric_imports_are_404(api_as: Callable[..., Api]) -> None:
    curator = api_as("curator")
    assert curator.get("/imports/999/").status_code == 404
    assert curator.get("/imports/abc/").status_code == 404


# --- two app servers, two workers, one PostgreSQL -------------------------------------------------------


@pytest.fixture
def app_servers(transactional_db: None) -> Iterator[list[str]]:
    """Two gunicorn servers on the test database, as two machines behind a load balancer would run."""
    started = [start_gunicorn() for _ in range(2)]
    yield [url for _, url in started]
    for process, _ in started:
        stop(process)


def test_two_app_servers_and_two_workers_share_one_database(
    app_servers: list[str], workers: Workers, make_user: Callable[..., User], topics: dict[str, Any]
) -> None:
    curator = make_user("curator")
    annotator = make_user("annotator")
    curator_apis = [Api(url, issue_api_token(user=curator).token) for url in app_servers]
    annotator_apis = [Api(url, issue_api_token(user=annotator).token) for url in app_servers]
    workers.start()
    workers.start()
    names = sorted(path.name for path in SEEDS.glob("*.txt"))
    accepted = [upload(curator_apis[n % 2], seed(name)).json() for n, name in enumerate(names * 2)]
    bodies = [wait_for(functools.partial(finished, curator_apis[0], job["url"])) for job in accepted]
    assert {body["status"] for body in bodies} == {"done"}
    assert sorted(f["outcome"] for body in bodies for f in body["files"]) == ["created"] * 5 + ["unchanged"] * 5
    assert Article.objects.count() == 5
    assert Job.objects.filter(attempts=1).count() == len(accepted)
    tasks = list(DBTaskResult.objects.all())
    assert len(tasks) == len(accepted)
    assert [len(task.worker_ids) for task in tasks] == [1] * len(tasks)
    assert len({worker for task in tasks for worker in task.worker_ids}) <= 2
    # Labels written through both servers are all there.
    comment_ids = list(Comment.objects.order_by("pk").values_list("pk", flat=True)[:40])
    for n, comment_id in enumerate(comment_ids):
        response = annotator_apis[n % 2].put(
            f"/comments/{comment_id}/annotations/cluster-munitions/", json={"stance": "favor"}
        )
        assert response.status_code == 201, response.text
    assert set(Annotation.objects.values_list("comment_id", flat=True)) == set(comment_ids)
    for api in [*curator_apis, *annotator_apis]:
        api.close()
