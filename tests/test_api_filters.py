"""Filtering comments and labels over HTTP: consensus, one annotator's labels, the caller's queue, author,
full-text search, replies; and the errors a bad filter gets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from annotations.models import Annotation, Topic
from debate.actions import index_comment_search
from debate.models import Article, Comment, CommentSearch
from tests.conftest import CLUSTER_MUNITIONS, STRIKES_IN_RUSSIA, Api, comments_by_number, label

pytestmark = pytest.mark.django_db(transaction=True)

CM, SR, TU = "cluster-munitions", "strikes-in-russia", "trainers-in-ukraine"


class Labelled:
    """Labels on the cluster-munitions piece with a known consensus on each comment:

    1 unanimous favor, 2 majority against, 3 unresolved, 4 single neutral, 5 favor on strikes only,
    6 labelled by a1 on all three topics.
    """

    def __init__(self, seeds: dict[str, Article], topics: dict[str, Topic], make_user: Callable[..., User]) -> None:
        self.article = seeds[CLUSTER_MUNITIONS]
        self.strikes = seeds[STRIKES_IN_RUSSIA]
        self.topics = topics
        self.c = comments_by_number(self.article)
        self.a1, self.a2, self.a3 = (make_user("annotator", name) for name in ("a1", "a2", "a3"))
        cm = topics[CM]
        for user, number, stance in [
            (self.a1, 1, "favor"),
            (self.a2, 1, "favor"),
            (self.a1, 2, "against"),
            (self.a2, 2, "against"),
            (self.a3, 2, "favor"),
            (self.a1, 3, "favor"),
            (self.a2, 3, "against"),
            (self.a3, 4, "neutral"),
        ]:
            label(user, self.c[number], cm, stance)
        label(self.a1, self.c[5], topics[SR], "favor")
        for slug in (CM, SR, TU):
            label(self.a1, self.c[6], topics[slug], "not_about")


@pytest.fixture
def labelled(seeds: dict[str, Article], topics: dict[str, Topic], make_user: Callable[..., User]) -> Labelled:
    return Labelled(seeds, topics, make_user)


def numbers(api: Api, **params: object) -> list[int]:
    return [record["number"] for record in api.all_pages("/comments/", page_size=1000, **params)]


def test_topic_and_stance_select_comments_by_consensus(labelled: Labelled, api_as: Callable[..., Api]) -> None:
    api = api_as("researcher")
    article = labelled.article.pk

    assert numbers(api, article=article, topic=CM, stance="favor") == [1]
    assert numbers(api, article=article, topic=CM, stance="against") == [2]
    assert numbers(api, article=article, topic=CM, stance="neutral") == [4]
    assert numbers(api, article=article, topic=CM, stance="not_about") == [6]
    assert numbers(api, article=article, topic=CM, status="unresolved") == [3]
    assert numbers(api, article=article, topic=CM, status="single") == [4, 6]
    assert numbers(api, article=article, topic=CM, status="majority", stance="against") == [2]
    assert numbers(api, article=article, topic=SR, stance="favor") == [5]
    assert numbers(api, article=article, topic=TU, stance="favor") == []


def test_annotator_topic_and_stance_select_that_annotators_labels(
    labelled: Labelled, api_as: Callable[..., Api]
) -> None:
    api = api_as("curator")

    assert numbers(api, annotator="a1", topic=CM, stance="favor") == [1, 3]
    assert numbers(api, annotator="a1", topic=CM) == [1, 2, 3, 6]
    assert numbers(api, annotator="a1") == [1, 2, 3, 5, 6]
    assert numbers(api, annotator="a3", topic=CM, stance="favor") == [2]
    assert numbers(api, annotator="nobody-by-that-name", topic=CM) == []
    # An annotator may ask the same about themself.
    assert numbers(api_as(labelled.a2), annotator="a2", topic=CM, stance="against") == [2, 3]


def test_unannotated_with_a_topic_is_the_callers_queue_for_it(labelled: Labelled, api_as: Callable[..., Api]) -> None:
    article = labelled.article.pk
    all_numbers = list(range(1, 37))

    assert numbers(api_as(labelled.a1), article=article, topic=CM, unannotated="true") == [
        n for n in all_numbers if n not in (1, 2, 3, 6)
    ]
    assert numbers(api_as(labelled.a3), article=article, topic=CM, unannotated="true") == [
        n for n in all_numbers if n not in (2, 4)
    ]
    assert numbers(api_as(labelled.a1), article=article, topic=SR, unannotated="true") == [
        n for n in all_numbers if n not in (5, 6)
    ]


def test_unannotated_without_a_topic_lists_comments_missing_a_label_on_some_active_topic(
    labelled: Labelled, api_as: Callable[..., Api], topics: dict[str, Topic]
) -> None:
    a1 = api_as(labelled.a1)
    article = labelled.article.pk
    label(labelled.a1, labelled.c[7], topics[CM], "favor")
    label(labelled.a1, labelled.c[7], topics[TU], "favor")

    before = numbers(a1, article=article, unannotated="true")
    Topic.objects.filter(slug=SR).update(is_active=False)
    after_closing = numbers(a1, article=article, unannotated="true")
    Topic.objects.create(slug="fourth", name="Fourth", statement="A fourth statement", ordering=40)
    after_adding = numbers(a1, article=article, unannotated="true")

    assert 6 not in before
    assert 7 in before
    assert len(before) == 35
    assert 7 not in after_closing  # labelled on every topic still open
    assert 6 not in after_closing
    assert len(after_closing) == 34
    assert after_adding == list(range(1, 37))


def test_unannotated_false_or_absent_does_not_filter(labelled: Labelled, api_as: Callable[..., Api]) -> None:
    a1 = api_as(labelled.a1)

    assert len(numbers(a1, article=labelled.article.pk, unannotated="false")) == 36
    assert len(numbers(a1, article=labelled.article.pk)) == 36


def test_author_filter_matches_the_name_ignoring_case(labelled: Labelled, api_as: Callable[..., Api]) -> None:
    api = api_as("annotator")

    joyner = api.all_pages("/comments/", author="james JOYNER")
    john = api.all_pages("/comments/", author="JohnSF")

    assert [(c["article"], c["number"]) for c in joyner] == [(labelled.article.pk, 3), (labelled.article.pk, 18)]
    assert len({c["article"] for c in john}) == 2
    assert all(c["author"] == "JohnSF" for c in john)
    assert api.get("/comments/", author="Nobody Atall").json()["count"] == 0


def test_search_is_full_text_with_stemming_and_web_syntax(labelled: Labelled, api_as: Callable[..., Api]) -> None:
    api = api_as("annotator")

    def found(text: str) -> list[tuple[int, int]]:
        return [(c["article"], c["number"]) for c in api.all_pages("/comments/", search=text)]

    strikes = labelled.strikes.pk
    assert found("trainer") == [(strikes, 3), (strikes, 5), (strikes, 21)]  # "trainers", stemmed
    assert found("Cupboards") == [(strikes, 4)]
    assert found('"lock Jake Sullivan"') == [(strikes, 4)]
    assert found("trainer -bad") == [(strikes, 3), (strikes, 21)]
    assert found("trainer or cupboard") == [(strikes, 3), (strikes, 4), (strikes, 5), (strikes, 21)]
    assert found("   ") == found("")
    assert len(found("")) == 57


def test_search_finds_the_same_before_and_after_the_workers_compute_the_vectors(
    labelled: Labelled, api_as: Callable[..., Api]
) -> None:
    """An import commits without search vectors (the workers compute them later): the filter computes the
    missing ones itself, so what it finds never depends on the workers having caught up."""
    api = api_as("researcher")
    queries = ["trainer", "Cupboards", '"lock Jake Sullivan"', "trainer -bad", "trainer or cupboard", "the"]
    assert CommentSearch.objects.count() == Comment.objects.count()  # a row per comment, from the trigger
    assert not CommentSearch.objects.filter(vector__isnull=False).exists()
    before = {text: numbers(api, search=text) for text in queries}

    indexed = 0
    while batch := index_comment_search(limit=20):
        indexed += batch
    assert indexed == Comment.objects.count()
    assert not CommentSearch.objects.filter(vector__isnull=True).exists()
    assert {text: numbers(api, search=text) for text in queries} == before
    assert before["trainer"] == [3, 5, 21]

    # A changed body waits for its new vector, and is found by its new words meanwhile, not by its old ones.
    cupboards = Comment.objects.get(article=labelled.strikes, number=4)
    cupboards.body = "Nothing about furniture here, only zeppelins."
    cupboards.save()
    assert CommentSearch.objects.get(comment=cupboards).vector is None
    assert numbers(api, search="zeppelin") == [4]
    assert numbers(api, search="Cupboards") == []
    assert index_comment_search() == 1
    assert numbers(api, search="zeppelin") == [4]


def test_search_combines_with_the_other_filters(labelled: Labelled, api_as: Callable[..., Api]) -> None:
    api = api_as("researcher")

    assert numbers(api, search="trainer", author="steve") == [5]
    assert numbers(api, search="trainer", article=labelled.article.pk) == []


def test_search_never_fails_on_odd_input(labelled: Labelled, api_as: Callable[..., Api]) -> None:
    api = api_as("annotator")
    odd = ['"unclosed', "-", "!!", "a & b | c", ":*", "'", "\\", "()", "ünïcødé ‘quotes’", "x" * 3000, "the"]

    statuses = {text[:20]: api.get("/comments/", search=text).status_code for text in odd}

    assert set(statuses.values()) == {200}, statuses


def test_has_replies_splits_comments_by_whether_anything_answers_them(
    labelled: Labelled, api_as: Callable[..., Api]
) -> None:
    api = api_as("annotator")
    everything = api.all_pages("/comments/", page_size=1000)
    parents = {c["parent"] for c in everything if c["parent"] is not None}

    with_replies = {c["id"] for c in api.all_pages("/comments/", has_replies="true", page_size=1000)}
    without = {c["id"] for c in api.all_pages("/comments/", has_replies="false", page_size=1000)}

    assert with_replies == parents
    assert len(parents) > 5
    assert without == {c["id"] for c in everything} - parents


def test_filter_errors_are_400_naming_the_parameter(labelled: Labelled, api_as: Callable[..., Api]) -> None:
    api = api_as("researcher")
    cases: dict[str, tuple[dict[str, Any], list[str]]] = {
        "stance without topic": ({"stance": "favor"}, ["stance: needs a topic"]),
        "status without topic": ({"status": "single"}, ["status: needs a topic"]),
        "unknown topic": ({"topic": "no-such-topic", "stance": "favor"}, ["topic: ", "'no-such-topic'"]),
        "unknown stance": ({"topic": CM, "stance": "pro"}, ["stance: ", "'pro'", "favor, against, neutral, not_about"]),
        "unknown status": ({"topic": CM, "status": "settled"}, ["status: "]),
        "not a boolean": ({"unannotated": "maybe"}, ["unannotated: ", "'maybe'"]),
        "not a boolean either": ({"has_replies": "yes please"}, ["has_replies: "]),
        "not an article": ({"article": "nope"}, ["article: "]),
        "too large an article": ({"article": 10**30}, ["article: "]),
    }

    wrong = {}
    for name, (params, fragments) in cases.items():
        response = api.get("/comments/", **params)
        detail = response.json().get("detail", "")
        if response.status_code != 400 or "\n" in detail or not all(f in detail for f in fragments):
            wrong[name] = (response.status_code, detail)

    assert wrong == {}


def test_unknown_topic_is_400_in_a_filter_but_404_in_a_path(labelled: Labelled, api_as: Callable[..., Api]) -> None:
    api = api_as("researcher")

    in_filter = [api.get(path, topic="no-such-topic") for path in ("/comments/", "/annotations/")]
    in_path = [api.get("/topics/no-such-topic/"), api.get(f"/comments/{labelled.c[1].pk}/annotations/no-such-topic/")]

    assert [r.status_code for r in in_filter] == [400, 400]
    assert all("'no-such-topic'" in r.json()["detail"] for r in in_filter)
    assert [r.status_code for r in in_path] == [404, 404]


def test_annotation_list_filters(labelled: Labelled, api_as: Callable[..., Api]) -> None:
    api = api_as("researcher")

    def listed(**params: object) -> list[tuple[str, int, str, str]]:
        return sorted(
            (a["annotator"], a["comment_number"], a["topic"], a["stance"])
            for a in api.all_pages("/annotations/", **params)
        )

    assert len(listed()) == 12
    assert listed(article=labelled.strikes.pk) == []
    assert listed(comment=labelled.c[4].pk) == [("a3", 4, CM, "neutral")]
    assert listed(topic=SR) == [("a1", 5, SR, "favor"), ("a1", 6, SR, "not_about")]
    assert listed(topic=CM, stance="favor") == [
        ("a1", 1, CM, "favor"),
        ("a1", 3, CM, "favor"),
        ("a2", 1, CM, "favor"),
        ("a3", 2, CM, "favor"),
    ]
    assert listed(annotator="a3") == [("a3", 2, CM, "favor"), ("a3", 4, CM, "neutral")]
    assert listed(updated_since=(timezone.now() + timedelta(minutes=1)).isoformat()) == []
    assert len(listed(updated_since=(timezone.now() - timedelta(hours=1)).isoformat())) == 12
    bad = api.get("/annotations/", stance="pro", updated_since="yesterday")
    assert bad.status_code == 400
    assert "stance: " in bad.json()["detail"]
    assert "updated_since: " in bad.json()["detail"]


def test_annotation_list_is_ordered_by_last_change(labelled: Labelled, api_as: Callable[..., Api]) -> None:
    api = api_as("researcher")
    label(labelled.a3, labelled.c[4], labelled.topics[CM], "against")  # now the most recent change

    records = api.all_pages("/annotations/")

    assert (records[-1]["annotator"], records[-1]["comment_number"], records[-1]["stance"]) == ("a3", 4, "against")
    assert [r["updated_at"] for r in records] == sorted(r["updated_at"] for r in records)
    assert Annotation.objects.count() == len(records)
    assert Comment.objects.count() == 57


def test_an_annotators_labels_combine_with_the_consensus_status(labelled: Labelled, api_as: Callable[..., Api]) -> None:
    researcher, a1 = api_as("researcher"), api_as(labelled.a1)

    combined = numbers(researcher, annotator="a1", topic=CM, status="unresolved")
    blind = a1.get("/comments/", annotator="a1", topic=CM, status="unresolved")

    assert combined == [3]  # a1 labelled 1, 2, 3 and 6 on this topic; only 3 is unresolved
    assert blind.status_code == 403
    assert "blind annotation" in blind.json()["detail"]
