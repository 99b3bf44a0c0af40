"""Assignment over HTTP on PostgreSQL: settings, each annotator's queue, the summary, joining annotators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from annotations.models import Assignment, AssignmentReason, AssignmentSettings, Topic
from debate.actions import import_document
from debate.models import Comment
from debate.synthetic import generate_corpus
from tests.conftest import Api

pytestmark = pytest.mark.django_db(transaction=True)

TWENTY_PERCENT = {"overlap_share": 0.2, "overlap_annotators": 3, "per_annotator_cap": None}


@pytest.fixture
def corpus300(topics: dict[str, Topic]) -> list[int]:
    """Three synthetic articles of 100 comments each: 300 comments."""
    for document in generate_corpus(seed=15, articles=3, comments_per_article=100):
        import_document(source=document.source, data=document.data)
    ids = list(Comment.objects.values_list("pk", flat=True))
    assert len(ids) == 300
    return ids


def queue_ids(api: Api) -> set[int]:
    return {row["id"] for row in api.all_pages("/comments/", unannotated="true", page_size=1000)}


def label_all_topics(api: Api, comment_id: int, stance: str = "favor") -> None:
    for slug in Topic.objects.active().values_list("slug", flat=True):
        response = api.put(f"/comments/{comment_id}/annotations/{slug}/", {"stance": stance})
        assert response.status_code in (200, 201), response.text


def test_default_settings_keep_everyone_on_every_comment(corpus300: list[int], api_as: Callable[..., Api]) -> None:
    curator = api_as("curator")
    settings = curator.get("/assignment/")
    assert settings.status_code == 200
    body = settings.json()
    assert body["overlap_share"] == 1.0
    assert body["overlap_annotators"] is None
    assert body["per_annotator_cap"] is None
    assert body["mode"] == "everyone labels everything"
    annotators = [api_as("annotator", f"ann{i}") for i in range(2)]
    for api in annotators:
        assert queue_ids(api) == set(corpus300)
    assert not Assignment.objects.exists()  # nothing to store for the default


def test_overlap_20_percent_with_3_annotators_then_a_fourth_joins(
    corpus300: list[int], api_as: Callable[..., Api], make_user: Callable[..., User]
) -> None:
    annotators = {name: api_as("annotator", name) for name in ("ann", "bob", "cat")}
    curator = api_as("curator")
    response = curator.put("/assignment/", TWENTY_PERCENT)
    assert response.status_code == 200, response.text
    assert response.json()["overlap_share"] == 0.2
    assert response.json()["mode"] == "assigned"

    queues = {name: queue_ids(api) for name, api in annotators.items()}
    overlap = set.intersection(*queues.values())
    assert len(overlap) == 60  # 20% of 300, in every queue
    for name, queue in queues.items():
        assert len(queue - overlap) == 80, name  # a balanced third of the other 240
    singles = [queue - overlap for queue in queues.values()]
    assert not (singles[0] & singles[1])
    assert not (singles[0] & singles[2])
    assert not (singles[1] & singles[2])
    assert set.union(*queues.values()) == set(corpus300)  # the union covers every comment
    stored = set(
        Assignment.objects.filter(reason=AssignmentReason.OVERLAP).values_list("comment_id", flat=True).distinct()
    )
    assert stored == overlap

    summary = curator.get("/assignment/summary/").json()["annotators"]
    assert {row["annotator"]: (row["assigned"], row["done"], row["remaining"]) for row in summary} == dict.fromkeys(
        annotators, (140, 0, 140)
    )

    # Each labels the first ten items of their queue (overlap items interleaved with single ones).
    labelled: dict[str, list[int]] = {}
    for name, api in annotators.items():
        first = [row["id"] for row in api.get("/comments/", unannotated="true", page_size=10).json()["results"]]
        for comment_id in first:
            label_all_topics(api, comment_id)
        labelled[name] = first
    summary = {row["annotator"]: row for row in curator.get("/assignment/summary/").json()["annotators"]}
    assert all(summary[name]["done"] == 10 and summary[name]["remaining"] == 130 for name in annotators)

    # Unchanged settings: nobody's queue moves.
    before = set(Assignment.objects.values_list("annotator_id", "comment_id", "reason"))
    assert curator.put("/assignment/", TWENTY_PERCENT).status_code == 200
    assert set(Assignment.objects.values_list("annotator_id", "comment_id", "reason")) == before

    # A fourth annotator joins: they get a share, and nobody loses an item they labelled.
    dan = api_as("annotator", "dan")
    dan_queue = queue_ids(dan)
    assert len(dan_queue) > 50
    for name, first in labelled.items():
        held = set(Assignment.objects.filter(annotator__username=name).values_list("comment_id", flat=True))
        assert set(first) <= held, name
    summary = {row["annotator"]: row for row in curator.get("/assignment/summary/").json()["annotators"]}
    remaining = [summary[name]["remaining"] for name in ("ann", "bob", "cat", "dan")]
    assert max(remaining) - min(remaining) <= 2, remaining
    queues = {name: queue_ids(api) | set(labelled[name]) for name, api in annotators.items()}
    assert set.union(dan_queue, *queues.values()) == set(corpus300)
    per_comment = Assignment.objects.filter(reason=AssignmentReason.OVERLAP).values_list("comment_id", flat=True)
    assert {comment: list(per_comment).count(comment) for comment in overlap} == dict.fromkeys(overlap, 3)


def test_settings_are_checked_and_only_curators_and_admins_set_them(
    corpus300: list[int], api_as: Callable[..., Api]
) -> None:
    curator = api_as("curator")
    for payload, fragment in [
        ({"overlap_share": 1.5}, "overlap_share: 1.5 is out of range"),
        ({"overlap_share": "half"}, "overlap_share: 'half' is not a number"),
        ({"overlap_annotators": 1}, "overlap_annotators: must be at least 2"),
        ({"per_annotator_cap": 0}, "per_annotator_cap: must be at least 1"),
        ({"overlap_share": True}, "is not a number"),
        ({"overlap": 0.2}, "overlap: unknown setting"),
    ]:
        response = curator.put("/assignment/", payload)
        assert response.status_code == 400, (payload, response.text)
        assert fragment in response.json()["detail"], response.json()["detail"]
    assert curator.put("/assignment/", [1, 2]).status_code == 400
    assert AssignmentSettings.current().overlap_share == 1.0
    for role in ("annotator", "researcher"):
        api = api_as(role)
        assert api.put("/assignment/", TWENTY_PERCENT).status_code == 403
        assert api.get("/assignment/").status_code == 403
    assert api_as("annotator").get("/assignment/summary/").status_code == 403
    assert api_as("researcher").get("/assignment/summary/").status_code == 200
    assert api_as("admin").put("/assignment/", {"overlap_share": 0.5}).json()["overlap_share"] == 0.5


def test_a_paused_annotator_gets_nothing_new_and_the_rest_is_shared(
    corpus300: list[int], api_as: Callable[..., Api]
) -> None:
    annotators = {name: api_as("annotator", name) for name in ("ann", "bob", "cat")}
    curator = api_as("curator")
    curator.put("/assignment/", {"overlap_share": 0.1, "overlap_annotators": 2})
    first = next(iter(queue_ids(annotators["cat"])))
    label_all_topics(annotators["cat"], first)
    response = curator.put("/assignment/annotators/cat/", {"paused": True, "pause_reason": "on leave"})
    assert response.status_code == 200, response.text
    assert response.json()["paused"] is True
    refused = annotators["cat"].put(f"/comments/{first}/annotations/cluster-munitions/", {"stance": "against"})
    assert refused.status_code == 403
    assert "paused: on leave" in refused.json()["detail"]
    assert queue_ids(annotators["cat"]) == set()
    union = queue_ids(annotators["ann"]) | queue_ids(annotators["bob"])
    assert union | {first} == set(corpus300)
    assert set(Assignment.objects.filter(annotator__username="cat").values_list("comment_id", flat=True)) == {first}
    assert curator.put("/assignment/annotators/cat/", {"paused": False}).json()["paused"] is False
    assert len(queue_ids(annotators["cat"])) > 50
    assert curator.put("/assignment/annotators/nobody/", {"paused": True}).status_code == 404
    assert curator.put("/assignment/annotators/cat/", {"paused": "yes"}).status_code == 400


def test_the_queue_page_serves_the_callers_assignments_in_queue_order(
    corpus300: list[int], make_user: Callable[..., User], api_as: Callable[..., Api]
) -> None:
    ann = make_user("annotator", "ann")
    make_user("annotator", "bob")
    api_as("curator").put("/assignment/", {"overlap_share": 0.2, "overlap_annotators": 2})
    client = Client()
    client.force_login(ann)
    response = client.get("/annotate/")
    assert response.status_code == 200
    first = Assignment.objects.filter(annotator=ann).order_by("position").first()
    assert first is not None
    page = response.content.decode()
    assert f'id="c{first.comment_id}"' in page
    mine = Assignment.objects.filter(annotator=ann).count()
    assert f"0 of {mine} comments done" in page
    second = Assignment.objects.filter(annotator=ann).order_by("position")[1]
    following = client.get("/annotate/", {"after": str(first.comment_id)}).content.decode()
    assert f'id="c{second.comment_id}"' in following


def test_the_queue_runs_a_constant_number_of_queries_when_assigned(
    corpus300: list[int], make_user: Callable[..., User], api_as: Callable[..., Api], django_assert_max_num_queries: Any
) -> None:
    ann = make_user("annotator", "ann")
    make_user("annotator", "bob")
    api_as("curator").put("/assignment/", {"overlap_share": 0.2, "overlap_annotators": 2})
    client = Client()
    client.force_login(ann)
    client.get("/annotate/")  # the plan is current from here on
    requests: list[tuple[str, dict[str, str]]] = [
        ("/annotate/", {}),
        ("/api/comments/", {"unannotated": "true", "page_size": "100"}),
    ]
    for path, params in requests:
        with django_assert_max_num_queries(20):
            assert client.get(path, params).status_code == 200


def test_the_settings_page_refuses_out_of_range_values_with_the_fields_error(
    corpus300: list[int], make_user: Callable[..., User]
) -> None:
    client = Client()
    client.force_login(make_user("curator", "cora"))
    form = {
        "overlap_percent": "120",
        "overlap_annotators": "",
        "per_annotator_cap": "",
        "check_percent": "0",
        "check_threshold_percent": "60",
        "check_minimum": "5",
        "qualification_size": "5",
        "qualification_pass_percent": "80",
    }
    response = client.post("/assignment/", form)
    assert response.status_code == 400
    assert "less than or equal to 100" in response.content.decode()
    assert AssignmentSettings.current().overlap_share == 1.0
    response = client.post("/assignment/", {**form, "overlap_percent": "25", "overlap_annotators": "2"})
    assert response.status_code == 302
    assert (AssignmentSettings.current().overlap_share, AssignmentSettings.current().overlap_annotators) == (0.25, 2)
