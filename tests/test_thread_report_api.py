"""GET/POST /api/articles/{id}/thread-report/: the reply-link report of an imported article over real HTTP,
its stored links (a curator's included), errors as one line, and its place in the OpenAPI schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from debate.actions import import_document
from debate.models import Article, ReplyLink
from tests.conftest import CLUSTER_MUNITIONS, Api, comments_by_number

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = Path(__file__).resolve().parent / "fixtures" / "threads"
SEED_REFERENCE = Path(__file__).resolve().parent / "fixtures" / "seed_links.json"


def report_url(article: Article) -> str:
    return f"/articles/{article.pk}/thread-report/"


def test_report_of_an_imported_article_counts_its_stored_links_per_method(
    cluster_article: Article, api_as: Callable[..., Api]
) -> None:
    response = api_as("annotator").get(report_url(cluster_article))

    assert response.status_code == 200
    data = response.json()
    assert (data["documents"], data["comments"], data["links"]) == ([CLUSTER_MUNITIONS], 36, 18)
    stored = {
        method: ReplyLink.objects.filter(source__article=cluster_article, method=method).count()
        for method in ("mention", "quote")
    }
    assert {entry["method"]: entry["links"] for entry in data["methods"]} == stored
    assert "reference" not in data


def test_posting_the_seed_reference_scores_the_article(cluster_article: Article, api_as: Callable[..., Api]) -> None:
    reference = json.loads(SEED_REFERENCE.read_text())

    whole_file = api_as("researcher").post(report_url(cluster_article), json=reference)
    links_alone = api_as("curator").post(report_url(cluster_article), json=reference[CLUSTER_MUNITIONS])

    assert whole_file.status_code == links_alone.status_code == 200
    assert whole_file.json() == links_alone.json()
    scored = whole_file.json()["reference"]
    assert (scored["precision"], scored["recall"], scored["primary_accuracy"]) == (1.0, 1.0, 1.0)
    assert (scored["wrong"], scored["missed"]) == (0, 0)


def test_a_hand_checked_document_imported_scores_as_the_command_does(api_as: Callable[..., Api]) -> None:
    path = THREADS / "strikes_kharkiv.txt"
    result = import_document(source=path.name, data=path.read_bytes())
    reference = json.loads(path.with_suffix(".links.json").read_text())

    data = api_as("researcher").post(f"/articles/{result.article_id}/thread-report/", json=reference).json()

    assert data["reference"]["wrong"] == 0
    assert data["reference"]["recall"] >= 0.97
    content = next(entry for entry in data["methods"] if entry["method"] == "content")
    assert content["links"] >= 2
    assert content["precision"] == 1.0
    stored = ReplyLink.objects.filter(source__article_id=result.article_id, method="content").first()
    assert stored is not None
    assert "next best" in stored.basis


def test_a_curators_parent_counts_as_a_manual_link(cluster_article: Article, api_as: Callable[..., Api]) -> None:
    c = comments_by_number(cluster_article)
    curator = api_as("curator")
    assert curator.put(f"/comments/{c[17].pk}/parent/", {"parent": c[16].pk}).status_code == 200
    data = curator.post(report_url(cluster_article), json={"17": [16]}).json()

    manual = next(entry for entry in data["methods"] if entry["method"] == "manual")
    assert manual["links"] == 1
    assert manual["correct"] == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"other.txt": {}}, f"the reference has no entry for {CLUSTER_MUNITIONS}"),
        ({"99": [3]}, f"{CLUSTER_MUNITIONS}: the reference names comment 99, which is not there"),
        ({"3": [3]}, "comment 3 cannot reply to a later comment or itself"),
        ({"3": "1"}, "parents must be a list"),
        ([1, 2], f"the reference has no entry for {CLUSTER_MUNITIONS}"),
    ],
)
def test_a_bad_reference_is_a_400_in_one_line(
    body: Any, message: str, cluster_article: Article, api_as: Callable[..., Api]
) -> None:
    response = api_as("researcher").post(report_url(cluster_article), json=body)

    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert "\n" not in response.json()["detail"]


def test_malformed_json_is_a_400(cluster_article: Article, api_as: Callable[..., Api]) -> None:
    response = api_as("researcher").post(
        report_url(cluster_article), content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_unknown_article_is_a_404(db: None, api_as: Callable[..., Api]) -> None:
    api = api_as("researcher")
    assert api.get("/articles/999999/thread-report/").status_code == 404
    assert api.post("/articles/999999/thread-report/", json={"3": [1]}).status_code == 404


def test_the_report_needs_a_login(cluster_article: Article, anonymous_api: Api) -> None:
    assert anonymous_api.get(report_url(cluster_article)).status_code in (401, 403)
    assert anonymous_api.post(report_url(cluster_article), json={"3": [1]}).status_code in (401, 403)


def test_a_session_post_needs_the_csrf_token(cluster_article: Article, make_user: Callable[..., Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("researcher"))
    response = client.post(f"/api{report_url(cluster_article)}", {"3": [1]}, content_type="application/json")
    assert response.status_code == 403


def test_the_report_runs_a_constant_number_of_queries(
    seeds: dict[str, Article], make_user: Callable[..., Any], django_assert_max_num_queries: Any
) -> None:
    client = Client()
    client.force_login(make_user("researcher"))
    counts = []
    for article in seeds.values():
        with django_assert_max_num_queries(10) as context:
            response = client.get(f"/api/articles/{article.pk}/thread-report/")
        assert response.status_code == 200
        counts.append(len(context.captured_queries))
    assert len(set(counts)) == 1, counts


def test_the_report_is_in_the_openapi_schema(anonymous_api: Api) -> None:
    paths = anonymous_api.get("/schema/", format="json").json()["paths"]
    operations = paths["/api/articles/{id}/thread-report/"]
    assert {"get", "post"} <= operations.keys()
    schema = operations["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/ThreadReport")
