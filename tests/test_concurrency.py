"""Real concurrent transactions: threads released together by a barrier fire requests at the live server,
which serves each in its own thread with its own database connection. No mocks, no sleeps."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User

from annotations.consensus import compute_consensus
from annotations.models import Annotation, ChangeEvent, Consensus, Topic
from debate.models import Article, Comment
from tests.conftest import Api, comments_by_number, label

pytestmark = pytest.mark.django_db(transaction=True)

CM = "cluster-munitions"
ROUNDS = 10


def race(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run the calls in threads released at the same instant; their responses, in call order."""
    barrier = threading.Barrier(len(calls))
    responses: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            responses[index] = calls[index]()
        except Exception as error:  # reported in the main thread below
            responses[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    failures = [response for response in responses if not isinstance(response, httpx.Response)]
    assert failures == []
    return responses


def clients(api_as: Callable[..., Api], user: User, n: int) -> list[Api]:
    """n clients of the same user (think browser tabs), each with its connection already open."""
    apis = [api_as(user) for _ in range(n)]
    for api in apis:
        api.get("/topics/").raise_for_status()
    return apis


def label_path(comment: Comment) -> str:
    return f"/comments/{comment.pk}/annotations/{CM}/"


def versions_of(comment: Comment, annotator: User) -> list[int | None]:
    return list(
        ChangeEvent.objects.filter(comment_id=comment.pk, annotator_username=annotator.username)
        .order_by("id")
        .values_list("version", flat=True)
    )


def test_concurrent_first_puts_of_one_label_create_exactly_one_row(
    cluster_article: Article, topics: dict[str, Topic], api_as: Callable[..., Api], make_user: Callable[..., User]
) -> None:
    ann = make_user("annotator", "ann")
    tabs = clients(api_as, ann, 6)
    comments = comments_by_number(cluster_article)
    stances = ["favor", "against", "neutral", "not_about", "favor", "against"]

    for number in range(1, ROUNDS + 1):
        comment = comments[number]
        responses = race(
            [
                partial(api.put, label_path(comment), {"stance": stances[i], "note": f"tab {i}"})
                for i, api in enumerate(tabs)
            ]
        )

        assert sorted(r.status_code for r in responses) == [200] * 5 + [201], [r.text for r in responses]
        rows = list(Annotation.objects.filter(comment=comment, annotator=ann))
        assert len(rows) == 1
        # Every write changed the note, so each was one version, none lost and none repeated.
        assert sorted(r.json()["version"] for r in responses) == [1, 2, 3, 4, 5, 6]
        assert versions_of(comment, ann) == [1, 2, 3, 4, 5, 6]
        last = next(r.json() for r in responses if r.json()["version"] == 6)
        assert (rows[0].stance, rows[0].note, rows[0].version) == (last["stance"], last["note"], 6)


def test_racing_writes_with_the_same_if_match_let_exactly_one_win(
    cluster_article: Article, topics: dict[str, Topic], api_as: Callable[..., Api], make_user: Callable[..., User]
) -> None:
    ann = make_user("annotator", "ann")
    tabs = clients(api_as, ann, 4)
    comment = comments_by_number(cluster_article)[1]
    version = tabs[0].put(label_path(comment), {"stance": "neutral"}).json()["version"]

    for round_number in range(ROUNDS):
        etag = f'"{version}"'
        responses = race(
            [
                partial(
                    api.put,
                    label_path(comment),
                    {"stance": "favor", "note": f"round {round_number} tab {i}"},
                    headers={"If-Match": etag},
                )
                for i, api in enumerate(tabs)
            ]
        )

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 412, 412, 412], [r.text for r in responses]
        winner = next(r.json() for r in responses if r.status_code == 200)
        losers = [r.json() for r in responses if r.status_code == 412]
        stored = Annotation.objects.get(comment=comment, annotator=ann)
        assert (stored.note, stored.version) == (winner["note"], version + 1)
        assert all(loser["version"] == version + 1 for loser in losers)
        version = stored.version
    assert versions_of(comment, ann) == list(range(1, version + 1))


def test_racing_deletes_with_the_same_if_match_delete_once(
    cluster_article: Article, topics: dict[str, Topic], api_as: Callable[..., Api], make_user: Callable[..., User]
) -> None:
    ann = make_user("annotator", "ann")
    tabs = clients(api_as, ann, 4)
    comments = comments_by_number(cluster_article)

    for number in range(1, ROUNDS // 2 + 1):
        comment = comments[number]
        label(ann, comment, topics[CM], "favor")
        responses = race([partial(api.delete, label_path(comment), headers={"If-Match": '"1"'}) for api in tabs])

        assert sorted(r.status_code for r in responses) == [204, 412, 412, 412]
        assert not Annotation.objects.filter(comment=comment).exists()
        assert [event.action for event in ChangeEvent.objects.filter(comment_id=comment.pk)] == ["create", "delete"]


def test_concurrent_labels_by_many_annotators_keep_the_consensus_exact(
    cluster_article: Article, topics: dict[str, Topic], api_as: Callable[..., Api], make_user: Callable[..., User]
) -> None:
    annotators = [make_user("annotator", f"a{i}") for i in range(6)]
    apis = [clients(api_as, user, 1)[0] for user in annotators]
    comment = comments_by_number(cluster_article)[2]
    rng = random.Random(20240517)  # reproducible, yet mixes creates, changes and deletes
    stances = ["favor", "against", "neutral", "not_about"]

    for _ in range(ROUNDS + 8):
        calls: list[Callable[[], httpx.Response]] = []
        for api in apis:
            if rng.random() < 0.25:
                calls.append(partial(api.delete, label_path(comment)))
            else:
                calls.append(partial(api.put, label_path(comment), {"stance": rng.choice(stances)}))
        responses = race(calls)

        assert {r.status_code for r in responses} <= {200, 201, 204, 404}, [r.text for r in responses]
        labels = list(Annotation.objects.filter(comment=comment, topic__slug=CM).values_list("stance", flat=True))
        expected = compute_consensus(labels)
        row = Consensus.objects.get(comment=comment, topic__slug=CM)
        assert (row.stance, row.status, row.n, row.counts) == (
            expected.stance,
            expected.status,
            expected.n,
            expected.counts,
        )
    assert Consensus.objects.filter(comment=comment).count() == 1


def test_curators_correcting_links_of_one_article_at_once_all_succeed(
    cluster_article: Article, topics: dict[str, Topic], api_as: Callable[..., Api], make_user: Callable[..., User]
) -> None:
    curators = [clients(api_as, make_user("curator", f"cura{i}"), 1)[0] for i in range(4)]
    c = comments_by_number(cluster_article)
    # Each curator moves a different comment, back and forth between an earlier comment and top level.
    moves = [(c[13], c[2]), (c[20], c[4]), (c[26], c[5]), (c[35], c[7])]

    for round_number in range(ROUNDS):
        responses = race(
            [
                partial(
                    api.put, f"/comments/{comment.pk}/parent/", {"parent": parent.pk if round_number % 2 == 0 else None}
                )
                for api, (comment, parent) in zip(curators, moves, strict=True)
            ]
        )
        assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]

    layout = list(
        Comment.objects.filter(article=cluster_article).order_by("thread_order").values("id", "parent_id", "depth")
    )
    depth_of: dict[int, int] = {}
    for row in layout:  # pre-order: a parent always comes before its replies
        expected_depth = 0 if row["parent_id"] is None else depth_of[row["parent_id"]] + 1
        assert row["depth"] == expected_depth
        depth_of[row["id"]] = row["depth"]
    assert list(range(len(layout))) == list(
        Comment.objects.filter(article=cluster_article).order_by("thread_order").values_list("thread_order", flat=True)
    )


def test_threads_read_while_curators_move_comments_are_always_the_requested_consistent_subtree(
    cluster_article: Article, topics: dict[str, Topic], api_as: Callable[..., Api], make_user: Callable[..., User]
) -> None:
    c = comments_by_number(cluster_article)
    curator = clients(api_as, make_user("curator", "cura"), 1)[0]
    readers = clients(api_as, make_user("researcher", "reader"), 4)
    # Moving comment 3 between comment 1 and the top level shifts the depth and thread order of 24 and below.
    roots = [c[24], c[25], c[28]]
    done = threading.Event()
    wrong: list[str] = []

    def check(node: dict[str, Any], depth: int) -> None:
        if node["depth"] != depth:
            wrong.append(f"#{node['number']} at depth {node['depth']}, expected {depth}")
        for reply in node["replies"]:
            if reply["parent"] != node["id"]:
                wrong.append(f"#{reply['number']} listed under #{node['number']}, its parent is {reply['parent']}")
            check(reply, depth + 1)

    def read(api: Api) -> None:
        while not done.is_set():
            for root in roots:
                response = api.get(f"/threads/{root.pk}/")
                if response.status_code != 200 or response.json()["id"] != root.pk:
                    wrong.append(f"thread of #{root.number}: {response.status_code} {response.text[:80]}")
                else:
                    check(response.json(), response.json()["depth"])

    threads = [threading.Thread(target=read, args=(api,)) for api in readers]
    for thread in threads:
        thread.start()
    try:
        for move in range(30):
            curator.put(f"/comments/{c[3].pk}/parent/", {"parent": c[1].pk if move % 2 else None}).raise_for_status()
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=60)

    assert wrong == []


def test_concurrent_writes_on_the_articles_own_items_serialise_like_a_comments(
    seeds: dict[str, Article], topics: dict[str, Topic], api_as: Callable[..., Api], make_user: Callable[..., User]
) -> None:
    ann = make_user("annotator", "ann")
    tabs = clients(api_as, ann, 6)
    others = [api_as(make_user("annotator")) for _ in range(6)]
    stances = ["favor", "against", "neutral", "not_about", "favor", "against"]

    for article in seeds.values():
        path = f"/articles/{article.pk}/annotations/{CM}/"
        first_puts = race(
            [partial(api.put, path, {"stance": "favor", "note": f"tab {i}"}) for i, api in enumerate(tabs)]
        )
        many = race([partial(api.put, path, {"stance": stances[i]}) for i, api in enumerate(others)])

        assert sorted(r.status_code for r in first_puts) == [200] * 5 + [201], [r.text for r in first_puts]
        assert [r.status_code for r in many] == [201] * 6
        assert Annotation.objects.filter(article=article, comment=None, annotator=ann).count() == 1
        assert sorted(r.json()["version"] for r in first_puts) == [1, 2, 3, 4, 5, 6]
        stored = list(
            Annotation.objects.filter(article=article, comment=None, topic__slug=CM).values_list("stance", flat=True)
        )
        expected = compute_consensus(stored)
        consensus = Consensus.objects.get(article=article, comment=None, topic__slug=CM)
        assert (consensus.stance, consensus.status, consensus.n) == (expected.stance, expected.status, 7)
