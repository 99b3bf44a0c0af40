"""The read API over the corpus, exercised over real HTTP against a live server."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from django.test import Client

from debate.models import Article, Comment
from tests.conftest import CLUSTER_MUNITIONS, PASSWORD, STRIKES_IN_RUSSIA, Api

pytestmark = pytest.mark.django_db(transaction=True)


def test_health_is_open_and_names_postgresql(anonymous_api: Api) -> None:
    response = anonymous_api.get("/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "postgresql"}


def test_token_endpoint_exchanges_credentials_for_a_token(anonymous_api: Api, make_user) -> None:
    make_user("annotator", "ann")

    response = anonymous_api.post("/auth/token/", {"username": "ann", "password": PASSWORD})
    wrong = anonymous_api.post("/auth/token/", {"username": "ann", "password": "nope"})

    assert response.status_code == 200
    token = response.json()["token"]
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    assert set(response.json()) == {"token", "expiry"}
    assert wrong.status_code == 400
    assert wrong.json()["detail"] == "Unable to log in with provided credentials."
    authenticated = httpx.get(anonymous_api.url("/articles/"), headers={"Authorization": f"Token {token}"}, timeout=30)
    assert authenticated.status_code == 200


@pytest.mark.parametrize("path", ["/articles/", "/articles/1/", "/comments/", "/comments/1/"])
def test_corpus_endpoints_need_authentication(anonymous_api: Api, path: str) -> None:
    response = anonymous_api.get(path)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_bad_token_is_refused(anonymous_api: Api) -> None:
    response = httpx.get(anonymous_api.url("/articles/"), headers={"Authorization": "Token 0000"}, timeout=30)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_articles_list_shows_the_five_seeds(api_as: Callable[..., Api], seeds: dict[str, Article]) -> None:
    api = api_as("researcher")

    page = api.get("/articles/").json()

    assert page["count"] == 5
    assert page["previous"] is None
    assert page["next"] is None
    by_source = {article["source"]: article for article in page["results"]}
    assert set(by_source) == set(seeds)
    cluster = by_source[CLUSTER_MUNITIONS]
    assert cluster == {
        "id": seeds[CLUSTER_MUNITIONS].pk,
        "title": "US Considering Sending Banned Weapons to Ukraine",
        "subtitle": "A bad idea fueled by desperation.",
        "author": "James Joyner",
        "tags": ["Military Affairs", "World Politics"],
        "source": CLUSTER_MUNITIONS,
        "comment_count": 36,
        # The article's own labels (none yet): the caller's, and for a researcher its consensus and gold.
        "my_annotations": {},
        "consensus": {},
        "gold": {},
    }
    assert by_source[STRIKES_IN_RUSSIA]["comment_count"] == 21
    assert by_source["003_fe0cb380292f74eb.txt"]["author"] is None
    assert "body" not in cluster


def test_article_detail_adds_the_body(api_as: Callable[..., Api], seeds: dict[str, Article]) -> None:
    article = seeds[STRIKES_IN_RUSSIA]

    detail = api_as("annotator").get(f"/articles/{article.pk}/").json()

    assert detail["body"] == article.body
    assert detail["body"].startswith("David Sanger reporting for NYT")
    assert detail["comment_count"] == 21
    assert detail["title_derived"] is False


def test_unknown_article_is_404_with_a_message(api_as: Callable[..., Api], seeds: dict[str, Article]) -> None:
    response = api_as("annotator").get("/articles/999999/")

    assert response.status_code == 404
    assert response.json() == {"detail": "No Article matches the given query."}


def test_comments_of_an_article_in_order_with_reply_links(
    api_as: Callable[..., Api], seeds: dict[str, Article]
) -> None:
    article = seeds[CLUSTER_MUNITIONS]
    api = api_as("annotator")

    comments = api.all_pages("/comments/", article=article.pk)

    assert [c["number"] for c in comments] == list(range(1, 37))
    by_number = {c["number"]: c for c in comments}
    ids = {number: c["id"] for number, c in by_number.items()}
    three = by_number[3]
    assert three["author"] == "James Joyner"
    assert three["is_article_author"] is True
    assert three["parent"] == ids[1]
    assert three["depth"] == 1
    assert [(link["comment"], link["method"]) for link in three["reply_to"]] == [
        (ids[1], "mention"),
        (ids[2], "mention"),
    ]
    assert three["reply_to"][0] == {
        "comment": ids[1],
        "comment_number": 1,
        "method": "mention",
        "score": 1.0,
        "evidence": "@charontwo:",
        "basis": "",
    }
    assert by_number[24]["parent"] == ids[3]
    assert by_number[24]["reply_to"][0]["method"] == "quote"
    assert by_number[2]["quotes_article"] is True
    assert by_number[2]["parent"] is None
    assert by_number[36]["author"] is None
    assert by_number[1]["body"].startswith("Ukraine is begging for them.")
    assert set(three) == {
        "id",
        "article",
        "number",
        "author",
        "is_article_author",
        "body",
        "parent",
        "parent_is_manual",
        "depth",
        "thread_order",
        "quotes_article",
        "quoted_spans",
        "reply_to",
        "my_annotations",
        "suggestions",  # issue 16: an annotator's hints, none here
    }


def test_comment_list_spans_articles_ordered_by_article_then_number(
    api_as: Callable[..., Api], seeds: dict[str, Article]
) -> None:
    comments = api_as("curator").all_pages("/comments/", page_size=10)

    assert len(comments) == 57
    keys = [(c["article"], c["number"]) for c in comments]
    assert keys == sorted(keys)


def test_page_size_is_capped_at_1000(api_as: Callable[..., Api], seeds: dict[str, Article]) -> None:
    api = api_as("annotator")

    small = api.get("/comments/", page_size=5).json()
    huge = api.get("/comments/", page_size=5000).json()

    assert len(small["results"]) == 5
    assert small["count"] == 57
    assert "page_size=5" in small["next"]
    assert len(huge["results"]) == 57


def test_invalid_article_filter_is_a_400_naming_the_field(
    api_as: Callable[..., Api], seeds: dict[str, Article]
) -> None:
    response = api_as("annotator").get("/comments/", article="nope")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("article: ")


def test_schema_and_docs_are_open_and_served_locally(anonymous_api: Api) -> None:
    schema = anonymous_api.get("/schema/", format="json")
    docs = anonymous_api.get("/docs/")

    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    assert "/api/comments/" in schema.json()["paths"]
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", docs.text)
    assert external == []
    asset = re.search(r"""src=["']([^"']*swagger-ui-bundle\.js)["']""", docs.text)
    assert asset is not None
    bundle = httpx.get(anonymous_api.site_url(asset.group(1)), timeout=30)
    assert bundle.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/articles/", "/api/comments/"])
def test_list_endpoints_run_a_constant_number_of_queries(
    path: str, seeds: dict[str, Article], make_user, django_assert_max_num_queries
) -> None:
    client = Client()
    client.force_login(make_user("researcher"))
    counts = []
    for page_size in (1, 10, 1000):
        # Session and user, count, page, reply links, own labels, consensus, gold, both-sides flags.
        with django_assert_max_num_queries(11) as context:
            response = client.get(path, {"page_size": page_size})
        assert response.status_code == 200
        counts.append(len(context.captured_queries))

    assert len(set(counts)) == 1, counts
    assert Comment.objects.count() == 57


def test_unknown_api_urls_answer_with_json(anonymous_api: Api) -> None:
    response = anonymous_api.get("/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"detail": "no API endpoint at /api/no-such-thing/"}


def test_deeply_nested_json_is_a_400_not_a_500(anonymous_api: Api) -> None:
    body = "[" * 100_000 + "]" * 100_000

    response = anonymous_api.post("/auth/token/", content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["detail"] == "JSON parse error - nested too deeply"
