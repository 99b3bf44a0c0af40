"""Reply threads over HTTP (GET /api/threads/{id}/) and a curator's corrections of reply links, which
re-imports keep."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User

from annotations.models import ChangeEvent, Topic
from debate.actions import import_document
from debate.models import Article, Comment, ReplyLink
from tests.conftest import CLUSTER_MUNITIONS, SEEDS, STRIKES_IN_RUSSIA, Api, comments_by_number

pytestmark = pytest.mark.django_db(transaction=True)


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for reply in node["replies"]:
        yield from walk(reply)


def records_of(api: Api, article: Article) -> dict[int, dict[str, Any]]:
    """The article's comment records by id, as /api/comments/ serves them."""
    return {record["id"]: record for record in api.all_pages("/comments/", article=article.pk, page_size=1000)}


def expected_tree(records: dict[int, dict[str, Any]], root: int) -> dict[str, Any]:
    """The subtree rooted at `root` built from the records' parent fields alone, children in file order."""
    children: dict[int, list[int]] = {}
    for record in sorted(records.values(), key=lambda r: r["number"]):
        if record["parent"] is not None:
            children.setdefault(record["parent"], []).append(record["id"])

    def build(comment_id: int) -> dict[str, Any]:
        return {
            "number": records[comment_id]["number"],
            "replies": [build(child) for child in children.get(comment_id, [])],
        }

    return build(root)


def shape(node: dict[str, Any]) -> dict[str, Any]:
    return {"number": node["number"], "replies": [shape(reply) for reply in node["replies"]]}


def assert_layout_is_consistent(records: dict[int, dict[str, Any]]) -> None:
    """Depth is the parent's plus one, and thread order is a pre-order walk with children in file order."""
    roots = sorted((r for r in records.values() if r["parent"] is None), key=lambda r: r["number"])
    order: list[int] = []

    def visit(record: dict[str, Any], depth: int) -> None:
        assert record["depth"] == depth, record["number"]
        order.append(record["id"])
        for child in sorted((r for r in records.values() if r["parent"] == record["id"]), key=lambda r: r["number"]):
            visit(child, depth + 1)

    for root in roots:
        visit(root, 0)
    assert order == sorted(records, key=lambda comment_id: records[comment_id]["thread_order"])
    assert len(order) == len(records)


@pytest.fixture
def curator(api_as: Callable[..., Api]) -> Api:
    return api_as("curator", "cura")


# Threads


def test_thread_nests_the_reply_subtree_of_every_seed_comment(
    seeds: dict[str, Article], topics: dict[str, Topic], api_as: Callable[..., Api]
) -> None:
    api = api_as("researcher")
    wrong = []
    for article in seeds.values():
        records = records_of(api, article)
        for comment_id in records:
            response = api.get(f"/threads/{comment_id}/")
            if response.status_code != 200 or shape(response.json()) != expected_tree(records, comment_id):
                wrong.append((article.source, records[comment_id]["number"], response.status_code))

    assert wrong == []


def test_thread_of_the_first_cluster_comment_follows_the_known_replies(
    seeds: dict[str, Article], topics: dict[str, Topic], api_as: Callable[..., Api]
) -> None:
    c = comments_by_number(seeds[CLUSTER_MUNITIONS])

    thread = api_as("annotator").get(f"/threads/{c[1].pk}/").json()

    assert thread["number"] == 1
    assert thread["depth"] == 0
    three = next(reply for reply in thread["replies"] if reply["number"] == 3)
    assert three["depth"] == 1
    assert three["parent"] == c[1].pk
    assert 24 in [reply["number"] for reply in three["replies"]]  # it quotes 3, though it names 18's author
    nodes = list(walk(thread))
    assert [node["thread_order"] for node in nodes] == sorted(node["thread_order"] for node in nodes)
    assert all(set(node) >= {"id", "body", "author", "reply_to", "my_annotations", "replies"} for node in nodes)


def test_thread_of_a_reply_starts_at_that_reply(seeds: dict[str, Article], api_as: Callable[..., Api]) -> None:
    c = comments_by_number(seeds[STRIKES_IN_RUSSIA])

    thread = api_as("annotator").get(f"/threads/{c[18].pk}/").json()
    leaf = api_as("annotator").get(f"/threads/{c[21].pk}/").json()

    assert shape(thread) == {"number": 18, "replies": [{"number": 19, "replies": [{"number": 20, "replies": []}]}]}
    assert thread["depth"] == 1
    assert leaf["replies"] == []


def test_thread_of_an_unknown_comment_is_404(cluster_article: Article, api_as: Callable[..., Api]) -> None:
    api = api_as("annotator")

    answers = {comment_id: api.get(f"/threads/{comment_id}/") for comment_id in (0, 999_999, 10**30)}

    assert {comment_id: (r.status_code, r.json()) for comment_id, r in answers.items()} == {
        comment_id: (404, {"detail": f"no comment with id {comment_id}"}) for comment_id in answers
    }


# Reply-link corrections


def test_curator_links_a_top_level_comment_to_an_earlier_one(
    cluster_article: Article, topics: dict[str, Topic], curator: Api
) -> None:
    c = comments_by_number(cluster_article)
    assert c[4].parent_id is None

    response = curator.put(f"/comments/{c[4].pk}/parent/", {"parent": c[2].pk})

    assert response.status_code == 200
    record = response.json()
    assert (record["id"], record["parent"], record["parent_is_manual"], record["depth"]) == (c[4].pk, c[2].pk, True, 1)
    manual = {"comment": c[2].pk, "comment_number": 2, "method": "manual", "score": 1.0, "evidence": "", "basis": ""}
    assert manual in record["reply_to"]
    assert "consensus" in record  # curators see it
    thread = curator.get(f"/threads/{c[2].pk}/").json()
    assert [reply["number"] for reply in thread["replies"]] == [4]
    assert_layout_is_consistent(records_of(curator, cluster_article))


def test_moving_a_subtree_recomputes_depth_and_thread_order_below_it(
    cluster_article: Article, topics: dict[str, Topic], curator: Api
) -> None:
    c = comments_by_number(cluster_article)
    below = [node["number"] for node in walk(curator.get(f"/threads/{c[24].pk}/").json())]

    response = curator.put(f"/comments/{c[24].pk}/parent/", {"parent": None})

    assert response.status_code == 200
    assert (response.json()["parent"], response.json()["depth"]) == (None, 0)
    records = records_of(curator, cluster_article)
    assert_layout_is_consistent(records)
    moved = [node["number"] for node in walk(curator.get(f"/threads/{c[24].pk}/").json())]
    assert moved == below
    assert all(24 not in [n["number"] for n in walk(curator.get(f"/threads/{c[1].pk}/").json())] for _ in [0])
    by_number = {record["number"]: record for record in records.values()}
    assert [by_number[n]["depth"] for n in below] == list(range(len(below)))


def test_choosing_a_parent_that_an_automatic_link_found_keeps_its_evidence(
    cluster_article: Article, topics: dict[str, Topic], curator: Api
) -> None:
    c = comments_by_number(cluster_article)
    mention = ReplyLink.objects.get(source=c[3], target=c[2])

    response = curator.put(f"/comments/{c[3].pk}/parent/", {"parent": c[2].pk})

    links = {link["comment_number"]: link for link in response.json()["reply_to"]}
    assert links[2]["method"] == "manual"
    assert links[2]["evidence"] == mention.evidence != ""
    assert links[1]["method"] == "mention"  # the other link stays as the importer found it
    assert response.json()["parent"] == c[2].pk


def test_parent_changes_are_kept_in_the_history(
    cluster_article: Article, topics: dict[str, Topic], curator: Api
) -> None:
    c = comments_by_number(cluster_article)
    curator.put(f"/comments/{c[4].pk}/parent/", {"parent": c[2].pk})
    curator.put(f"/comments/{c[4].pk}/parent/", {"parent": None})

    events = curator.all_pages("/history/", kind="parent", comment=c[4].pk)

    assert [(e["actor"], e["action"], e["before"], e["after"]) for e in events] == [
        ("cura", "update", {"parent": None, "manual": False}, {"parent": c[2].pk, "manual": True}),
        ("cura", "update", {"parent": c[2].pk, "manual": True}, {"parent": None, "manual": True}),
    ]


def test_invalid_parents_are_refused_with_400_and_change_nothing(
    seeds: dict[str, Article], topics: dict[str, Topic], curator: Api
) -> None:
    c = comments_by_number(seeds[CLUSTER_MUNITIONS])
    other = comments_by_number(seeds[STRIKES_IN_RUSSIA])[1]
    path = f"/comments/{c[10].pk}/parent/"
    before = list(Comment.objects.order_by("pk").values_list("pk", "parent_id", "depth", "thread_order"))
    cases = {
        "a later comment": ({"parent": c[12].pk}, "comes after"),
        "itself": ({"parent": c[10].pk}, "itself"),
        "another article": ({"parent": other.pk}, "another article"),
        "no such comment": ({"parent": 999_999}, "999999"),
        "far too large an id": ({"parent": 10**30}, "parent"),
        "not an id": ({"parent": "six"}, "parent"),
        "no parent given": ({}, "parent"),
        "an unknown field": ({"parent": c[1].pk, "why": "x"}, "why"),
        "not an object": ([c[1].pk], "dictionary"),
    }

    wrong = {}
    for name, (payload, fragment) in cases.items():
        response = curator.put(path, payload)
        detail = response.json().get("detail", "")
        if response.status_code != 400 or fragment not in detail or "\n" in detail:
            wrong[name] = (response.status_code, detail)

    deep = curator.put(path, content=b"[" * 5000 + b"]" * 5000, headers={"Content-Type": "application/json"})
    assert wrong == {}
    assert (deep.status_code, deep.json()) == (400, {"detail": "JSON parse error - nested too deeply"})
    assert list(Comment.objects.order_by("pk").values_list("pk", "parent_id", "depth", "thread_order")) == before
    assert not ChangeEvent.objects.exists()


def test_parent_of_an_unknown_comment_is_404(cluster_article: Article, curator: Api) -> None:
    response = curator.put("/comments/999999/parent/", {"parent": None})

    assert response.status_code == 404
    assert response.json() == {"detail": "no comment with id 999999"}


def changed_cluster_file() -> bytes:
    """The cluster-munitions file with comment 35 reworded and a comment 37 added."""
    text = (SEEDS / CLUSTER_MUNITIONS).read_bytes().decode("utf-8")
    assert "I suppose if anything goes" in text
    text = text.replace("I suppose if anything goes", "I suppose, if anything goes")
    return (text.rstrip("\n") + "\n\n  37. Newcomer says:\n\n    @Andy: late to this, but no.\n").encode("utf-8")


def test_a_manual_parent_survives_a_changed_reimport(
    cluster_article: Article, topics: dict[str, Topic], curator: Api
) -> None:
    c = comments_by_number(cluster_article)
    curator.put(f"/comments/{c[4].pk}/parent/", {"parent": c[2].pk})
    curator.put(f"/comments/{c[24].pk}/parent/", {"parent": None})

    result = import_document(source=CLUSTER_MUNITIONS, data=changed_cluster_file())

    assert result.status == "updated"
    after = comments_by_number(cluster_article)
    assert len(after) == 37
    assert after[35].pk != c[35].pk  # reworded, so a new comment
    assert (after[4].pk, after[4].parent_id, after[4].parent_is_manual) == (c[4].pk, c[2].pk, True)
    assert (after[24].parent_id, after[24].parent_is_manual, after[24].depth) == (None, True, 0)
    assert ReplyLink.objects.filter(source=c[4], target=c[2], method="manual").exists()
    assert_layout_is_consistent(records_of(curator, cluster_article))


def test_only_curators_and_admins_correct_reply_links(
    cluster_article: Article, api_as: Callable[..., Api], make_user: Callable[..., User]
) -> None:
    c = comments_by_number(cluster_article)
    path, payload = f"/comments/{c[4].pk}/parent/", {"parent": c[2].pk}

    statuses = {role: api_as(role).put(path, payload).status_code for role in ("annotator", "researcher", "admin")}

    assert statuses == {"annotator": 403, "researcher": 403, "admin": 200}
