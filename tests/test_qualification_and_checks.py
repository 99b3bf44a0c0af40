"""Qualification before the real queue, and attention checks that flag an annotator answering at random,
over HTTP on PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from annotations.actions import set_gold
from annotations.assignment.queries import check_accuracy
from annotations.models import Annotation, Assignment, AssignmentReason, Stance, Topic
from annotations.quality import queries as quality
from debate.models import Article, Comment
from tests.conftest import CLUSTER_MUNITIONS, Api, comments_by_number, label

pytestmark = pytest.mark.django_db(transaction=True)

GOLD_STANCES = ["favor", "against", "neutral", "not_about"]


@pytest.fixture
def gold(
    seeds: dict[str, Article], topics: dict[str, Topic], make_user: Callable[..., User]
) -> dict[int, dict[str, str]]:
    """Gold labels on every topic for comments 1-10 of the cluster-munitions piece: comment id -> slug -> stance."""
    curator = make_user("curator", "gold-curator")
    comments = comments_by_number(seeds[CLUSTER_MUNITIONS])
    answers: dict[int, dict[str, str]] = {}
    for number in range(1, 11):
        comment = comments[number]
        answers[comment.pk] = {}
        for offset, topic in enumerate(topics.values()):
            stance = GOLD_STANCES[(number + offset) % 4]
            set_gold(actor=curator, comment=comment, topic=topic, stance=stance)
            answers[comment.pk][topic.slug] = stance
    return answers


def queue_ids(api: Api) -> list[int]:
    return [row["id"] for row in api.all_pages("/comments/", unannotated="true", page_size=1000)]


def answer(api: Api, comment_id: int, stances: dict[str, str]) -> None:
    for slug, stance in stances.items():
        response = api.put(f"/comments/{comment_id}/annotations/{slug}/", {"stance": stance})
        assert response.status_code in (200, 201), response.text


def wrong(stance: str) -> str:
    return GOLD_STANCES[(GOLD_STANCES.index(stance) + 1) % 4]


def test_a_new_annotator_qualifies_before_the_real_queue_opens(
    gold: dict[int, dict[str, str]],
    api_as: Callable[..., Api],
    make_user: Callable[..., User],
    topics: dict[str, Topic],
) -> None:
    veteran = make_user("annotator", "vet")
    label(veteran, Comment.objects.order_by("pk").last(), topics["cluster-munitions"], "favor")  # type: ignore[arg-type]
    curator = api_as("curator", "cora")
    items = list(gold)[:5]
    for comment_id in items:
        assert curator.put(f"/comments/{comment_id}/qualification/").status_code == 201
    assert curator.put(f"/comments/{items[0]}/qualification/").status_code == 200
    ungolded = Comment.objects.exclude(pk__in=gold).first()
    assert ungolded is not None
    refused = curator.put(f"/comments/{ungolded.pk}/qualification/")
    assert refused.status_code == 400
    assert "has no gold label yet" in refused.json()["detail"]
    settings = {"qualification_required": True, "qualification_size": 4, "qualification_pass": 0.75}
    assert curator.put("/assignment/", settings).status_code == 200

    # The veteran labelled before qualification was switched on: not asked to qualify.
    assert len(queue_ids(api_as(veteran))) == 57

    newbie = api_as("annotator", "newbie")
    first_queue = queue_ids(newbie)
    assert len(first_queue) == 4
    assert set(first_queue) <= set(items)
    outside = Comment.objects.exclude(pk__in=first_queue).first()
    assert outside is not None
    blocked = newbie.put(f"/comments/{outside.pk}/annotations/cluster-munitions/", {"stance": "favor"})
    assert blocked.status_code == 403
    assert "finish your qualification items first" in blocked.json()["detail"]

    # The queue page: a qualification item, then, after answering it, its gold answer and the guidelines.
    client = Client()
    client.force_login(User.objects.get(username="newbie"))
    page = client.get("/annotate/").content.decode()
    assert "Qualification" in page
    in_order = list(
        Assignment.objects.filter(annotator__username="newbie", reason=AssignmentReason.QUALIFICATION)
        .order_by("position")
        .values_list("comment_id", flat=True)
    )
    assert set(in_order) == set(first_queue)
    assert f'id="c{in_order[0]}"' in page

    # Three items right on every topic, one wrong on every topic: 9 of 12, exactly the 75% needed.
    for index, comment_id in enumerate(in_order):
        stances = gold[comment_id] if index else {slug: wrong(stance) for slug, stance in gold[comment_id].items()}
        answer(newbie, comment_id, stances)
        if index == 0:
            feedback = client.get("/annotate/", {"after": str(comment_id)}).content.decode()
            assert "and the gold answer" in feedback
            assert "✗ different" in feedback
            assert "Guidelines: Cluster munitions" in feedback
            # Changing the answer after seeing the gold one does not change the score.
            answer(newbie, comment_id, gold[comment_id])
    summary = {row["annotator"]: row for row in curator.get("/assignment/summary/").json()["annotators"]}
    assert summary["newbie"]["qualification"]["status"] == "passed"
    assert (summary["newbie"]["qualification"]["correct"], summary["newbie"]["qualification"]["scored"]) == (9, 12)
    assert summary["vet"]["qualification"]["status"] == "not_required"
    # Passed: the real queue opens (everything, with the default overlap), and writes are accepted.
    assert len(queue_ids(newbie)) > 40
    assert newbie.put(f"/comments/{outside.pk}/annotations/cluster-munitions/", {"stance": "favor"}).status_code == 201

    # Another one answers everything wrongly: failed, with nothing in the queue and the result for curators.
    failing = api_as("annotator", "guesser")
    for comment_id in queue_ids(failing):
        answer(failing, comment_id, {slug: wrong(stance) for slug, stance in gold[comment_id].items()})
    assert queue_ids(failing) == []
    client.force_login(User.objects.get(username="guesser"))
    assert "below the 75% needed" in client.get("/annotate/").content.decode()
    summary = {row["annotator"]: row for row in curator.get("/assignment/summary/").json()["annotators"]}
    assert summary["guesser"]["qualification"]["status"] == "failed"
    assert summary["guesser"]["qualification"]["correct"] == 0
    assert summary["guesser"]["qualification"]["accuracy"] == 0
    # A curator may let them through.
    assert curator.put("/assignment/annotators/guesser/", {"qualification": "passed"}).status_code == 200
    assert len(queue_ids(failing)) > 40


def test_attention_checks_measure_accuracy_and_flag_one_who_answers_at_random(
    gold: dict[int, dict[str, str]],
    api_as: Callable[..., Api],
    topics: dict[str, Topic],
) -> None:
    annotators = {name: api_as("annotator", name) for name in ("careful", "steady", "random")}
    curator = api_as("curator", "cora")
    settings = {
        "overlap_share": 0.5,
        "overlap_annotators": 2,
        "check_share": 0.2,
        "check_minimum": 6,
        "check_threshold": 0.7,
        "pause_on_failed_checks": True,
    }
    assert curator.put("/assignment/", settings).status_code == 200
    checks = {
        name: set(
            Assignment.objects.filter(annotator__username=name, reason=AssignmentReason.CHECK).values_list(
                "comment_id", flat=True
            )
        )
        for name in annotators
    }
    for name, mine in checks.items():
        assert len(mine) >= 4, (name, mine)  # about a fifth of a queue of about 24 items
        assert mine <= set(gold)
    # Checks look like any other item: they are in the queue, interleaved.
    queues = {name: queue_ids(api) for name, api in annotators.items()}
    for name, queue in queues.items():
        assert checks[name] <= set(queue)
        positions = Assignment.objects.filter(annotator__username=name).order_by("position")
        order = list(positions.values_list("reason", flat=True))
        spots = [index for index, reason in enumerate(order) if reason == AssignmentReason.CHECK]
        assert spots[0] < len(order) / 2 < spots[-1], (name, order)
    # Gold items are checks only: nobody has one as ordinary work.
    ordinary = Assignment.objects.filter(reason__in=[AssignmentReason.OVERLAP, AssignmentReason.SINGLE])
    assert not set(ordinary.values_list("comment_id", flat=True)) & set(gold)

    chance = random.Random(15)
    for name, api in annotators.items():
        for comment_id in queues[name]:
            if comment_id in gold:
                stances = (
                    {slug: chance.choice(GOLD_STANCES) for slug in gold[comment_id]}
                    if name == "random"
                    else gold[comment_id]
                )
            else:
                stances = dict.fromkeys(topics, "neutral")
            response = None
            for slug, stance in stances.items():
                response = api.put(f"/comments/{comment_id}/annotations/{slug}/", {"stance": stance})
                if response.status_code == 403:
                    break
            if response is not None and response.status_code == 403:
                assert name == "random"
                assert "paused: attention checks" in response.json()["detail"]
                break

    summary = {row["annotator"]: row for row in curator.get("/assignment/summary/").json()["annotators"]}
    for name in ("careful", "steady"):
        assert summary[name]["checks"]["accuracy"] == 1.0
        assert set(summary[name]["checks"]["by_topic"]) == set(topics)
        assert not summary[name]["flagged"]
    assert summary["random"]["flagged"]
    assert summary["random"]["checks"]["accuracy"] < 0.7
    assert "attention checks" in summary["random"]["flag_reason"]
    assert summary["random"]["paused"]
    assert all(
        set(topic) == {"checked", "correct", "accuracy"} for topic in summary["random"]["checks"]["by_topic"].values()
    )
    # The careful ones took over the random one's unlabelled work.
    assert (
        not Assignment.objects.filter(annotator__username="random", reason=AssignmentReason.SINGLE)
        .exclude(comment__annotations__annotator__username="random")
        .exists()
    )

    # Check answers stay out of agreement and are marked in the export.
    check_labels = Annotation.objects.filter(comment_id__in=gold)
    assert check_labels.exists()
    report = quality.agreement(topics["cluster-munitions"])
    overlap_items = set(Assignment.objects.filter(reason=AssignmentReason.OVERLAP).values_list("comment_id", flat=True))
    labelled_overlap = set(
        Annotation.objects.filter(topic__slug="cluster-munitions", comment_id__in=overlap_items).values_list(
            "comment_id", flat=True
        )
    )
    assert report.items == len(labelled_overlap)
    researcher = api_as("researcher")
    response = researcher.get("/export/annotations.jsonl")
    assert response.status_code == 200
    import json

    rows = [json.loads(line) for line in response.text.splitlines()]
    roles = {(row["annotator"], row["comment_id"]): row["label_role"] for row in rows}
    assert {role for (_, comment_id), role in roles.items() if comment_id in gold} == {"check"}
    assert {role for (_, comment_id), role in roles.items() if comment_id not in gold} == {"ordinary"}
    assert set(check_accuracy()) == {"careful", "steady", "random"}
    assert Stance.FAVOR in GOLD_STANCES
