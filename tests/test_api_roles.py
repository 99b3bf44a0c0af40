"""Every endpoint for every role, and blind annotation: an annotator never sees another annotator's labels
nor the consensus, anywhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User

from annotations.models import Annotation, Topic
from debate.models import Article, Comment
from tests.conftest import Api, comments_by_number, label

pytestmark = pytest.mark.django_db(transaction=True)

CM = "cluster-munitions"
ROLES = ["anonymous", "annotator", "curator", "researcher", "admin", "no-role"]


class Corpus:
    """The cluster-munitions piece with labels by two annotators on comment 1 and by one on comment 3."""

    def __init__(self, article: Article, topics: dict[str, Topic], make_user: Callable[..., User]) -> None:
        self.article = article
        self.comments = comments_by_number(article)
        self.topic = topics[CM]
        self.ann = make_user("annotator", "ann")
        self.bob = make_user("annotator", "bob")
        c1, c3 = self.comments[1], self.comments[3]
        self.ann_label = label(self.ann, c1, self.topic, "favor", note="ann's reasons")
        self.bob_label = label(self.bob, c1, self.topic, "against", note="bob's reasons")
        self.bob_only = label(self.bob, c3, self.topic, "neutral")


@pytest.fixture
def corpus(cluster_article: Article, topics: dict[str, Topic], make_user: Callable[..., User]) -> Corpus:
    return Corpus(cluster_article, topics, make_user)


def client_for(role: str, api_as: Callable[..., Api], anonymous_api: Api, make_user: Callable[..., User]) -> Api:
    if role == "anonymous":
        return anonymous_api
    if role == "no-role":
        return api_as(User.objects.create_user("nobody", password="x"))
    return api_as(role, f"the-{role}")


def requests_of(corpus: Corpus) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path, keyword arguments) for every endpoint, in an order where each write precedes its reads."""
    c1, c5, c4 = corpus.comments[1], corpus.comments[5], corpus.comments[4]
    label_path = f"/comments/{c5.pk}/annotations/{CM}/"
    yield "GET", "/topics/", {}
    yield "GET", f"/topics/{CM}/", {}
    yield "GET", "/articles/", {}
    yield "GET", "/comments/", {}
    yield "GET", f"/comments/{c1.pk}/", {}
    yield "GET", "/annotations/", {}
    yield "GET", f"/annotations/{corpus.ann_label.pk}/", {}
    yield "PUT", label_path, {"json": {"stance": "favor"}}
    yield "PUT", label_path, {"json": {"stance": "against"}}
    yield "GET", label_path, {}
    yield "DELETE", label_path, {}
    yield "PUT", f"/comments/{c4.pk}/parent/", {"json": {"parent": c1.pk}}
    yield "GET", f"/threads/{c1.pk}/", {}
    yield "GET", "/history/", {}
    yield "GET", "/export/annotations.jsonl", {}
    yield "GET", "/export/annotations.csv", {}
    yield "GET", "/export/comments.jsonl", {}
    yield "POST", "/annotations/", {"json": {}}


UNAUTHENTICATED = {"*": 401}
READS = {
    "GET /topics/": 200,
    f"GET /topics/{CM}/": 200,
    "GET /articles/": 200,
    "GET /comments/": 200,
    "GET /comments/1/": 200,
    "GET /annotations/": 200,
    "GET /threads/1/": 200,
    "GET /history/": 200,
    "POST /annotations/": 405,
}
WRITER = {"PUT label (create)": 201, "PUT label (change)": 200, "GET label": 200, "DELETE label": 204}
NOT_A_WRITER = {"PUT label (create)": 403, "PUT label (change)": 403, "GET label": 404, "DELETE label": 403}
EXPORTS_OK = {
    "GET /export/annotations.jsonl": 200,
    "GET /export/annotations.csv": 200,
    "GET /export/comments.jsonl": 200,
}
EXPORTS_REFUSED = dict.fromkeys(EXPORTS_OK, 403)

EXPECTED: dict[str, dict[str, int]] = {
    "annotator": {**READS, "GET /annotations/ann/": 404, **WRITER, "PUT parent": 403, **EXPORTS_REFUSED},
    "curator": {**READS, "GET /annotations/ann/": 200, **WRITER, "PUT parent": 200, **EXPORTS_OK},
    "researcher": {**READS, "GET /annotations/ann/": 200, **NOT_A_WRITER, "PUT parent": 403, **EXPORTS_OK},
    "admin": {**READS, "GET /annotations/ann/": 200, **WRITER, "PUT parent": 200, **EXPORTS_OK},
    # Authenticated without a role: may read the corpus and their own (no) labels, nothing more.
    "no-role": {**READS, "GET /annotations/ann/": 404, **NOT_A_WRITER, "PUT parent": 403, **EXPORTS_REFUSED},
}


def name_of(corpus: Corpus, method: str, path: str, kwargs: dict[str, Any], seen: set[str]) -> str:
    """A stable, readable key for a request, independent of database ids."""
    if "/annotations/" in path and path.startswith("/comments/"):
        if method == "PUT":
            name = "PUT label (change)" if "PUT label (create)" in seen else "PUT label (create)"
        else:
            name = f"{method} label"
    elif path.endswith("/parent/"):
        name = "PUT parent"
    elif path == f"/annotations/{corpus.ann_label.pk}/":
        name = "GET /annotations/ann/"
    else:
        name = f"{method} {path.replace(f'/{corpus.comments[1].pk}/', '/1/')}"
    seen.add(name)
    return name


@pytest.mark.parametrize("role", ROLES)
def test_every_endpoint_answers_each_role_as_specified(
    role: str,
    corpus: Corpus,
    api_as: Callable[..., Api],
    anonymous_api: Api,
    make_user: Callable[..., User],
) -> None:
    api = client_for(role, api_as, anonymous_api, make_user)
    statuses: dict[str, int] = {}
    bad_errors: list[str] = []
    seen: set[str] = set()
    for method, path, kwargs in requests_of(corpus):
        response = api.request(method, path, **kwargs)
        name = name_of(corpus, method, path, kwargs, seen)
        statuses[name] = response.status_code
        if response.status_code >= 400:
            detail = response.json().get("detail")
            if not isinstance(detail, str) or not detail or "\n" in detail:
                bad_errors.append(f"{name}: {response.text[:200]}")

    expected = dict.fromkeys(statuses, 401) if role == "anonymous" else EXPECTED[role]
    assert statuses == expected
    assert bad_errors == []


def test_anonymous_requests_are_told_to_authenticate(corpus: Corpus, anonymous_api: Api) -> None:
    response = anonymous_api.get("/export/annotations.csv")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_researcher_gets_403_naming_the_role_when_writing_a_label(corpus: Corpus, api_as: Callable[..., Api]) -> None:
    response = api_as("researcher").put(f"/comments/{corpus.comments[2].pk}/annotations/{CM}/", {"stance": "favor"})

    assert response.status_code == 403
    assert response.json() == {"detail": "your role cannot write labels"}
    assert not Annotation.objects.filter(comment=corpus.comments[2]).exists()


# Blind annotation


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for reply in node["replies"]:
        yield from walk(reply)


def test_annotators_list_only_their_own_labels(corpus: Corpus, api_as: Callable[..., Api]) -> None:
    ann, researcher = api_as(corpus.ann), api_as("researcher")

    mine = ann.all_pages("/annotations/")
    everyone = researcher.all_pages("/annotations/")

    assert [(a["annotator"], a["stance"], a["note"]) for a in mine] == [("ann", "favor", "ann's reasons")]
    assert sorted((a["annotator"], a["comment_number"]) for a in everyone) == [("ann", 1), ("bob", 1), ("bob", 3)]
    assert ann.get(f"/annotations/{corpus.bob_label.pk}/").status_code == 404


def test_annotators_cannot_filter_labels_by_another_annotator(corpus: Corpus, api_as: Callable[..., Api]) -> None:
    ann = api_as(corpus.ann)

    other = ann.get("/annotations/", annotator="bob")
    own = ann.get("/annotations/", annotator="ann")
    as_researcher = api_as("researcher").get("/annotations/", annotator="bob")

    assert other.status_code == 403
    assert "blind annotation" in other.json()["detail"]
    assert own.status_code == 200
    assert own.json()["count"] == 1
    assert as_researcher.json()["count"] == 2


def test_comment_records_of_annotators_carry_no_consensus_and_only_their_labels(
    corpus: Corpus, api_as: Callable[..., Api]
) -> None:
    c1 = corpus.comments[1]

    records = api_as(corpus.ann).all_pages("/comments/", article=corpus.article.pk)
    single = api_as(corpus.ann).get(f"/comments/{c1.pk}/").json()

    assert len(records) == 36
    assert all("consensus" not in record for record in [*records, single])
    by_number = {record["number"]: record for record in records}
    assert by_number[1]["my_annotations"].keys() == {CM}
    assert by_number[1]["my_annotations"][CM]["stance"] == "favor"
    assert by_number[1]["my_annotations"][CM]["note"] == "ann's reasons"
    assert by_number[3]["my_annotations"] == {}  # bob's label there stays invisible
    assert single["my_annotations"] == by_number[1]["my_annotations"]
    assert "bob" not in str(records)


def test_comment_records_show_the_consensus_to_those_who_may_see_it(corpus: Corpus, api_as: Callable[..., Api]) -> None:
    for role in ("curator", "researcher", "admin"):
        records = api_as(role).all_pages("/comments/", article=corpus.article.pk)

        by_number = {record["number"]: record for record in records}
        assert by_number[1]["consensus"] == {CM: {"stance": None, "status": "unresolved", "n": 2}}, role
        assert by_number[3]["consensus"] == {CM: {"stance": "neutral", "status": "single", "n": 1}}, role
        assert by_number[2]["consensus"] == {}, role
        assert by_number[1]["my_annotations"] == {}, role


def test_annotators_cannot_filter_comments_by_consensus_or_by_another_annotator(
    corpus: Corpus, api_as: Callable[..., Api]
) -> None:
    ann = api_as(corpus.ann)
    refused = [
        {"topic": CM, "stance": "against"},
        {"topic": CM, "status": "unresolved"},
        {"annotator": "bob"},
        {"annotator": "bob", "topic": CM, "stance": "neutral"},
    ]

    answers = [ann.get("/comments/", **params) for params in refused]
    own = ann.get("/comments/", annotator="ann", topic=CM, stance="favor")
    topic_only = ann.get("/comments/", topic=CM)

    assert [(answer.status_code, "blind annotation" in answer.json()["detail"]) for answer in answers] == [
        (403, True)
    ] * len(refused)
    assert [record["number"] for record in own.json()["results"]] == [1]
    # A topic alone lists the comments the caller labelled, not those others did (comment 3).
    assert [record["number"] for record in topic_only.json()["results"]] == [1]


def test_researchers_may_filter_comments_by_anything(corpus: Corpus, api_as: Callable[..., Api]) -> None:
    researcher = api_as("researcher")

    by_bob = researcher.get("/comments/", annotator="bob", topic=CM, stance="neutral")
    unresolved = researcher.get("/comments/", topic=CM, status="unresolved")
    labelled = researcher.get("/comments/", topic=CM)

    assert [record["number"] for record in by_bob.json()["results"]] == [3]
    assert [record["number"] for record in unresolved.json()["results"]] == [1]
    assert [record["number"] for record in labelled.json()["results"]] == [1, 3]


def test_threads_are_blind_for_annotators_at_every_depth(corpus: Corpus, api_as: Callable[..., Api]) -> None:
    root = corpus.comments[1]

    blind = api_as(corpus.ann).get(f"/threads/{root.pk}/").json()
    sighted = api_as("researcher").get(f"/threads/{root.pk}/").json()

    blind_nodes, sighted_nodes = list(walk(blind)), list(walk(sighted))
    assert len(blind_nodes) == len(sighted_nodes) > 2
    assert all("consensus" not in node for node in blind_nodes)
    assert blind_nodes[0]["my_annotations"][CM]["stance"] == "favor"
    assert all(node["my_annotations"] == {} for node in blind_nodes[1:])
    assert all("consensus" in node for node in sighted_nodes)
    assert sighted_nodes[0]["consensus"] == {CM: {"stance": None, "status": "unresolved", "n": 2}}
    three = next(node for node in sighted_nodes if node["number"] == 3)
    assert three["consensus"] == {CM: {"stance": "neutral", "status": "single", "n": 1}}


def test_annotators_see_only_their_own_label_history(corpus: Corpus, api_as: Callable[..., Api]) -> None:
    curator = api_as("curator")
    curator.put(f"/comments/{corpus.comments[4].pk}/parent/", {"parent": corpus.comments[1].pk})
    ann = api_as(corpus.ann)

    mine = ann.all_pages("/history/")
    everything = api_as("researcher").all_pages("/history/")
    other = ann.get("/history/", annotator="bob")
    other_by_old_name = ann.get("/history/", annotator_username="bob")

    assert [(e["kind"], e["annotator"]) for e in mine] == [("annotation", "ann")]
    assert sorted((e["kind"], e["annotator"]) for e in everything) == [
        ("annotation", "ann"),
        ("annotation", "bob"),
        ("annotation", "bob"),
        ("parent", ""),
    ]
    for response in (other, other_by_old_name):
        assert response.status_code == 403
        assert "blind annotation" in response.json()["detail"]


def test_history_filters_name_topics_by_slug_and_annotators_by_username(
    corpus: Corpus, api_as: Callable[..., Api]
) -> None:
    researcher = api_as("researcher")
    c1 = corpus.comments[1]

    by_annotator = researcher.all_pages("/history/", annotator="bob")
    by_item = researcher.all_pages("/history/", comment=c1.pk, topic=CM)
    by_article = researcher.all_pages("/history/", article=corpus.article.pk, kind="annotation", action="create")
    unknown_kind = researcher.get("/history/", kind="nope")

    assert [(e["annotator"], e["comment"]) for e in by_annotator] == [("bob", c1.pk), ("bob", corpus.comments[3].pk)]
    assert sorted(e["annotator"] for e in by_item) == ["ann", "bob"]
    assert len(by_article) == 3
    assert unknown_kind.status_code == 400
    assert unknown_kind.json()["detail"].startswith("kind: ")


def test_a_label_write_answers_with_the_callers_label_only(corpus: Corpus, api_as: Callable[..., Api]) -> None:
    response = api_as(corpus.ann).put(f"/comments/{corpus.comments[1].pk}/annotations/{CM}/", {"stance": "neutral"})

    body = response.json()
    assert response.status_code == 200
    assert body["annotator"] == "ann"
    assert "consensus" not in body
    assert "bob" not in response.text


def test_exports_are_refused_to_annotators_with_a_reason(corpus: Corpus, api_as: Callable[..., Api]) -> None:
    responses: list[httpx.Response] = [
        api_as(corpus.ann).get(path)
        for path in ("/export/annotations.jsonl", "/export/annotations.csv", "/export/comments.jsonl")
    ]

    assert [(r.status_code, r.json()["detail"]) for r in responses] == [
        (403, "exports are for researchers, curators and admins")
    ] * 3


def test_annotators_queue_is_their_own(corpus: Corpus, api_as: Callable[..., Api]) -> None:
    queue = api_as(corpus.ann).all_pages("/comments/", article=corpus.article.pk, unannotated="true", topic=CM)
    bobs = api_as(corpus.bob).all_pages("/comments/", article=corpus.article.pk, unannotated="true", topic=CM)

    assert 1 not in [record["number"] for record in queue]
    assert 3 in [record["number"] for record in queue]
    assert len(queue) == 35
    assert len(bobs) == 34
    assert Comment.objects.filter(article=corpus.article).count() == 36
