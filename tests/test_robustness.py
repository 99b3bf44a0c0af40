"""Every request a client can send gets a clear 4xx, never a 500: text PostgreSQL cannot store, `%` in
boolean filters, reply chains a thousand deep, and bodies over the upload limit.

The text and size refusals are made once, by `config.middleware.RefuseUnstorableInput`, before any view runs.
"""

from __future__ import annotations

import html
import itertools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from annotations.models import Annotation, GoldLabel, Topic
from debate.actions import relayout_article
from debate.models import Article, Author, Comment
from tests.conftest import comments_by_number, label

pytestmark = pytest.mark.django_db

CM = "cluster-munitions"
HTMX = {"HX-Request": "true"}
DEEP = 1000


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def people(make_user: Callable[..., User]) -> dict[str, User]:
    return {role: make_user(role) for role in ("annotator", "curator", "researcher", "admin")}


# --- text PostgreSQL cannot store --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("annotator", "/api/topics/%00/"),
        ("researcher", "/api/agreement/?topic=%00"),
        ("researcher", f"/api/agreement/confusion/?topic={CM}&a=%00&b=x"),
        ("annotator", "/api/comments/?author=%00"),
        ("annotator", "/api/history/?topic=a%00b"),
        ("admin", "/api/assignment/annotators/a%00b/"),
    ],
)
def test_nul_in_an_api_url_is_a_400_naming_the_place(
    people: dict[str, User], topics: dict[str, Topic], role: str, url: str
) -> None:
    response = client_for(people[role]).get(url)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    detail = response.json()["detail"]
    assert "NUL" in detail
    assert "\n" not in detail
    assert set(response.json()) <= {"detail", "errors"}


@pytest.mark.parametrize(
    ("role", "url", "place"),
    [
        ("curator", "/adjudicate/?topic=%00", "topic"),
        ("researcher", "/dashboard/?a=%00", "a"),
        ("annotator", "/browse/?search=%00", "search"),
        ("annotator", "/articles/1/?at=%00", "at"),
    ],
)
@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "page"])
def test_nul_in_a_page_url_is_a_400_page_or_fragment(
    people: dict[str, User], topics: dict[str, Topic], role: str, url: str, place: str, headers: dict[str, str]
) -> None:
    response = client_for(people[role]).get(url, headers=headers)

    body = html.unescape(response.content.decode())
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert f"{place!r}" in body
    assert "NUL" in body
    if headers:
        assert body.startswith('<p class="error" role="alert">')
    else:
        assert "<title>Bad request" in body


def test_nul_in_the_path_of_a_page(people: dict[str, User]) -> None:
    response = client_for(people["annotator"]).get("/assignment/annotators/a%00b/")

    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_htmx_note_with_nul_is_refused_and_nothing_is_stored(
    people: dict[str, User], cluster_article: Article, topics: dict[str, Topic]
) -> None:
    comment = comments_by_number(cluster_article)[1]
    annotator = people["annotator"]
    label(annotator, comment, topics[CM], "favor")

    response = client_for(annotator).post(
        f"/comments/{comment.pk}/labels/", {"do": f"{CM}:note", f"note-{CM}": "before\x00after"}, headers=HTMX
    )

    assert response.status_code == 400
    assert f"'note-{CM}'" in html.unescape(response.content.decode())
    assert Annotation.objects.get(comment=comment).note == ""


def test_gold_note_with_nul_is_refused(
    people: dict[str, User], cluster_article: Article, topics: dict[str, Topic]
) -> None:
    comment = comments_by_number(cluster_article)[1]
    label(people["annotator"], comment, topics[CM], "favor")

    response = client_for(people["curator"]).post(
        f"/adjudicate/{comment.pk}/{CM}/", {"stance": "favor", "note": "a\x00b"}, headers=HTMX
    )

    assert response.status_code == 400
    assert not GoldLabel.objects.exists()


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"stance": "favor", "note": "a\x00b"}, "note"),
        ({"stance": "favor", "note": "lone \ud800 surrogate"}, "note"),
        ({"stance": "favor", "evidence": [{"start": 0, "end": 1, "text": "\udfff"}]}, "evidence.0.text"),
        ({"stance": "favor", "no\x00te": "x"}, "no\\x00te"),
    ],
)
def test_unstorable_text_in_a_json_body_is_a_400_naming_the_field(
    people: dict[str, User], cluster_article: Article, topics: dict[str, Topic], body: dict[str, Any], where: str
) -> None:
    comment = comments_by_number(cluster_article)[1]
    # json.dumps escapes NUL and lone surrogates as \u0000 and \ud800, as any client would send them.
    raw = json.dumps(body)

    response = client_for(people["annotator"]).put(
        f"/api/comments/{comment.pk}/annotations/{CM}/", raw, content_type="application/json"
    )

    assert response.status_code == 400
    assert where in response.json()["detail"]
    assert not Annotation.objects.exists()


def test_token_login_with_nul_in_the_username_is_a_400(people: dict[str, User]) -> None:
    response = Client().post(
        "/api/auth/token/", json.dumps({"username": "a\x00b", "password": "x"}), content_type="application/json"
    )

    assert response.status_code == 400
    assert "username" in response.json()["detail"]


def test_login_form_with_nul_is_a_400_page(people: dict[str, User]) -> None:
    response = Client().post("/accounts/login/", {"username": "a\x00b", "password": "x"})

    assert response.status_code == 400


def test_ordinary_text_passes_untouched(
    people: dict[str, User], cluster_article: Article, topics: dict[str, Topic]
) -> None:
    comment = comments_by_number(cluster_article)[1]
    note = "quotes « », emoji 🦊, a paired surrogate's character 𝄞, tabs\tand\nnewlines, 100% true"

    response = client_for(people["annotator"]).put(
        f"/api/comments/{comment.pk}/annotations/{CM}/",
        json.dumps({"stance": "favor", "note": note}),
        content_type="application/json",
    )

    assert response.status_code == 201
    assert Annotation.objects.get().note == note


# --- % in boolean filters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/comments/?has_replies=%25s", "has_replies"),
        ("/api/comments/?unannotated=%25s", "unannotated"),
        (f"/api/comments/?topic={CM}&both_sides=%25s", "both_sides"),
        ("/api/comments/?outdated=%25(x)s", "outdated"),
        ("/api/articles/?unannotated=%25d", "unannotated"),
        ("/api/annotations/?outdated=%25", "outdated"),
        ("/api/export/comments.jsonl?has_replies=%25s", "has_replies"),
        ("/api/export/annotations.jsonl?outdated=%25s", "outdated"),
    ],
)
def test_percent_in_a_boolean_filter_is_a_400_naming_the_parameter(
    people: dict[str, User], topics: dict[str, Topic], url: str, parameter: str
) -> None:
    response = client_for(people["researcher"]).get(url)

    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith(f"{parameter}: ")
    assert "is not a boolean" in detail


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "page"])
def test_percent_in_a_boolean_filter_of_the_browse_page(people: dict[str, User], headers: dict[str, str]) -> None:
    response = client_for(people["researcher"]).get("/browse/?has_replies=%25s&unannotated=%25d", headers=headers)

    assert response.status_code == 400
    assert "is not a boolean" in response.content.decode()


# --- deep reply chains -------------------------------------------------------------------------------


@pytest.fixture
def deep_chain(db: None) -> list[Comment]:
    """An article whose comments form one reply chain DEEP levels deep, laid out as the importer would."""
    article = Article.objects.create(source="deep.txt", content_sha256="0" * 64, title="A deep chain", body="Body.")
    authors = [Author.objects.create(name=f"writer {n}") for n in range(2)]
    comments = Comment.objects.bulk_create(
        Comment(article=article, number=n + 1, position=n, author=authors[n % 2], body=f"reply {n + 1}")
        for n in range(DEEP)
    )
    for previous, comment in itertools.pairwise(comments):
        comment.parent = previous
    Comment.objects.bulk_update(comments, ["parent"], batch_size=500)
    relayout_article(article_id=article.pk)
    chain = list(Comment.objects.filter(article=article).order_by("position"))
    assert chain[-1].depth == DEEP - 1
    return chain


@contextmanager
def recursion_limit(limit: int) -> Iterator[None]:
    """For the *test's* JSON parser only: Python's own json module recurses, and the tree nests DEEP levels."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


def test_the_thread_api_serves_a_chain_a_thousand_deep(
    people: dict[str, User], deep_chain: list[Comment], topics: dict[str, Topic]
) -> None:
    label(people["annotator"], deep_chain[-1], topics[CM], "against", note="deepest")

    response = client_for(people["annotator"]).get(f"/api/threads/{deep_chain[0].pk}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    with recursion_limit(20 * DEEP):
        node = json.loads(response.content)
    depth, ids = 0, []
    while True:
        ids.append(node["id"])
        assert node["depth"] == depth
        if not node["replies"]:
            break
        (node,) = node["replies"]
        depth += 1
    assert ids == [comment.pk for comment in deep_chain]
    assert node["my_annotations"][CM]["note"] == "deepest"
    assert "consensus" not in node  # blind annotation holds at every depth


def test_a_subtree_deep_in_the_chain_and_its_labels_for_curators(
    people: dict[str, User], deep_chain: list[Comment], topics: dict[str, Topic]
) -> None:
    label(people["annotator"], deep_chain[-1], topics[CM], "favor")
    middle = deep_chain[DEEP // 2]

    response = client_for(people["curator"]).get(f"/api/threads/{middle.pk}/")

    with recursion_limit(20 * DEEP):
        node = json.loads(response.content)
    count = 1
    while node["replies"]:
        (node,) = node["replies"]
        count += 1
    assert count == DEEP - DEEP // 2
    assert node["consensus"][CM]["stance"] == "favor"


def test_the_thread_serializer_builds_the_tree_without_recursion(
    people: dict[str, User], deep_chain: list[Comment]
) -> None:
    # With a recursion limit far below the chain's depth, any recursive step over the tree fails.
    client = client_for(people["researcher"])
    client.get("/api/topics/")  # warm up: imports and the session outside the tight limit
    with recursion_limit(200 + len(sys._getframe().f_code.co_name)):
        response = client.get(f"/api/threads/{deep_chain[0].pk}/")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/articles/{article}/",
        "/articles/{article}/?at={last}",
        "/articles/{article}/comments/?from=950&start=950",
        "/annotate/?after={before_last}",
        "/browse/?article={article}&has_replies=false",
        "/api/comments/?article={article}&page_size=1000",
        "/api/export/comments.jsonl?article={article}",
        "/api/export/annotations.jsonl?article={article}",
        "/api/articles/{article}/thread-report/",
        "/api/articles/{article}/stance-summary/",
    ],
)
def test_pages_and_exports_of_a_chain_a_thousand_deep(
    people: dict[str, User], deep_chain: list[Comment], topics: dict[str, Topic], url: str
) -> None:
    label(people["annotator"], deep_chain[-1], topics[CM], "favor")
    ids = {"article": deep_chain[0].article_id, "last": deep_chain[-1].pk, "before_last": deep_chain[-2].pk}

    response = client_for(people["admin"]).get(url.format(**ids))

    assert response.status_code == 200


def test_the_queue_shows_the_whole_parent_chain_of_the_deepest_comment(
    people: dict[str, User], deep_chain: list[Comment], topics: dict[str, Topic]
) -> None:
    response = client_for(people["annotator"]).get(f"/annotate/?after={deep_chain[-2].pk}")

    assert response.status_code == 200
    body = response.content.decode()
    assert f"reply {DEEP}" in body
    assert "reply 1<" in body


def test_a_curator_moves_the_deepest_comment(people: dict[str, User], deep_chain: list[Comment]) -> None:
    response = client_for(people["curator"]).put(
        f"/api/comments/{deep_chain[-1].pk}/parent/",
        json.dumps({"parent": deep_chain[0].pk}),
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["depth"] == 1


# --- bodies over the upload limit --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", "/api/comments/{comment}/annotations/cluster-munitions/"),
        ("post", "/api/articles/{article}/thread-report/"),
        ("put", "/api/assignment/"),
        ("post", "/api/auth/token/"),
    ],
)
def test_an_api_body_over_the_upload_limit_is_a_413_with_a_json_detail(
    people: dict[str, User], cluster_article: Article, topics: dict[str, Topic], method: str, url: str
) -> None:
    comment = comments_by_number(cluster_article)[1]
    big = json.dumps({"stance": "favor", "note": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    path = url.format(comment=comment.pk, article=cluster_article.pk)

    response = getattr(client_for(people["admin"]), method)(path, big, content_type="application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "upload limit" in response.json()["detail"]
    assert not Annotation.objects.exists()


def test_a_form_over_the_upload_limit_is_a_413_page(
    people: dict[str, User], cluster_article: Article, topics: dict[str, Topic]
) -> None:
    comment = comments_by_number(cluster_article)[1]

    response = client_for(people["annotator"]).post(
        f"/comments/{comment.pk}/labels/",
        {"do": f"{CM}:note", f"note-{CM}": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)},
        headers=HTMX,
    )

    assert response.status_code == 413
    assert "upload limit" in response.content.decode()


# --- what Schemathesis found (tests/test_api_fuzz.py) --------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/annotations/?updated_since=0001-01-01T00:00:00%2B01:00", "updated_since"),
        ("/api/history/?since=9999-12-31T23:59:59-05:00", "since"),
        ("/api/export/annotations.jsonl?updated_since=0001-01-01T00:30:00%2B20:31", "updated_since"),
    ],
)
def test_a_moment_without_a_utc_equivalent_is_a_400_naming_the_parameter(
    people: dict[str, User], url: str, parameter: str
) -> None:
    response = client_for(people["curator"]).get(url)

    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{parameter}: ")


@pytest.mark.parametrize("parameter", ["updated_since", "since"])
def test_a_moment_with_an_offset_beyond_postgresqls_filters(
    people: dict[str, User], cluster_article: Article, topics: dict[str, Topic], parameter: str
) -> None:
    # Python takes UTC offsets up to ±23:59, PostgreSQL only up to ±15:59: `+20:31` was a DataError, a 500.
    label(people["annotator"], comments_by_number(cluster_article)[1], topics[CM], "favor")
    url = "/api/annotations/" if parameter == "updated_since" else "/api/history/"
    client = client_for(people["curator"])

    before = client.get(url, {parameter: "2000-01-01T00:00:00+20:31"})
    after = client.get(url, {parameter: "9000-01-01T00:00:00-23:59"})

    assert (before.status_code, before.json()["count"]) == (200, 1)
    assert (after.status_code, after.json()["count"]) == (200, 0)


@pytest.mark.parametrize("value", ["null", "0", "-1", "abc", "1.5", "", "²"])
def test_a_page_size_that_is_no_positive_whole_number_is_a_400(people: dict[str, User], value: str) -> None:
    # DRF quietly served the default page size for all of these.
    response = client_for(people["curator"]).get("/api/comments/", {"page_size": value})

    assert response.status_code == 400
    assert response.json()["detail"].startswith("page_size: ")


def test_a_page_size_over_the_maximum_is_capped(people: dict[str, User], cluster_article: Article) -> None:
    response = client_for(people["curator"]).get("/api/comments/", {"page_size": "5000"})

    assert response.status_code == 200
    assert len(response.json()["results"]) == Comment.objects.count()


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        # Integers past PostgreSQL's were a NumericValueOutOfRange, a 500.
        ("/api/assignment/", {"qualification_size": 2432902008176640001}, "qualification_size"),
        ("/api/assignment/", {"per_annotator_cap": 2**31}, "per_annotator_cap"),
        ("/api/suggestions/settings/", {"retrain_every": 2**63}, "retrain_every"),
    ],
)
def test_a_setting_too_large_for_the_database_is_a_400(
    people: dict[str, User], url: str, body: dict[str, Any], field: str
) -> None:
    response = client_for(people["admin"]).put(url, json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/history/?comment_id=0.5", "comment_id"),
        ("/api/history/?article=1.5", "article"),
        ("/api/history/?comment_id=-9223372036854775809", "comment_id"),
        ("/api/topics/?all=maybe", "all"),
    ],
)
def test_a_parameter_of_the_wrong_type_is_a_400_not_ignored(people: dict[str, User], url: str, parameter: str) -> None:
    response = client_for(people["curator"]).get(url)

    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{parameter}: ")


def test_topics_all_lists_inactive_topics_too(people: dict[str, User], topics: dict[str, Topic]) -> None:
    Topic.objects.filter(slug=CM).update(is_active=False)
    client = client_for(people["annotator"])

    assert CM not in {topic["slug"] for topic in client.get("/api/topics/").json()}
    assert CM not in {topic["slug"] for topic in client.get("/api/topics/?all=false").json()}
    assert CM in {topic["slug"] for topic in client.get("/api/topics/?all=true").json()}


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        # DRF's CharField turned 0 into "0": a release named 0.
        ("/api/releases/", {"name": 0}, "name"),
        ("/api/releases/", {"name": "r", "filters": {"unannotated": 0}}, "filters.unannotated"),
        # Anything but an object was "every topic".
        ("/api/models/train/", [None, None], ""),
    ],
)
def test_a_body_of_the_wrong_type_is_a_400_not_coerced(
    people: dict[str, User], url: str, body: Any, field: str
) -> None:
    response = client_for(people["admin"]).post(url, json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}: " if field else "send a JSON object")


def test_an_import_with_replace_that_is_no_boolean_is_a_400(people: dict[str, User]) -> None:
    upload = SimpleUploadedFile("a.txt", b"A title\n\nA body.\n", content_type="text/plain")

    response = client_for(people["curator"]).post("/api/imports/", {"files": [upload], "replace": "0"})

    assert response.status_code == 400
    assert response.json()["detail"].startswith("replace: ")


def test_a_multipart_body_without_a_boundary_is_a_json_400(people: dict[str, User]) -> None:
    # Django's own answer was its HTML 400 page, also under /api/.
    response = client_for(people["curator"]).post("/api/imports/", b"--x\r\n\r\n", content_type="multipart/form-data")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "multipart" in response.json()["detail"]
