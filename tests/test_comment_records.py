"""GET /api/comments/ built from rows (annotations.records) answers byte for byte what the serializer does, for
every role and filter, and reads a whole thread in a constant number of queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from annotations.actions import set_gold, set_parent
from annotations.api import LabelledCommentViewSet
from annotations.models import Topic
from debate.models import Article, Comment
from tests.conftest import CLUSTER_MUNITIONS, comments_by_number, label

pytestmark = pytest.mark.django_db

CM = "cluster-munitions"


@pytest.fixture
def labelled(seeds: dict[str, Article], topics: dict[str, Topic], make_user: Callable[..., User]) -> dict[str, User]:
    """Labels by two annotators (with notes, evidence, unsure), a gold label, a manual parent: every field."""
    users = {role: make_user(role, role) for role in ("annotator", "curator", "researcher")}
    other = make_user("annotator", "other")
    c = comments_by_number(seeds[CLUSTER_MUNITIONS])
    for number in range(1, 12):
        for topic, stance in zip(topics.values(), ["favor", "against", "neutral"], strict=False):
            label(users["annotator"], c[number], topic, stance, unsure=number % 3 == 0, note=f"n{number}")
            label(other, c[number], topic, "against" if number % 2 else stance)
    body = c[2].body
    label(users["annotator"], c[2], topics[CM], "favor", evidence=[{"start": 0, "end": 5, "text": body[:5]}])
    set_gold(actor=users["curator"], topic=topics[CM], comment=c[3], stance="neutral", note="settled")
    set_parent(actor=users["curator"], comment=c[5], parent=c[1])
    return users


def both_ways(client: Client, params: dict[str, Any]) -> tuple[bytes, bytes]:
    answers = []
    for from_rows in (True, False):
        LabelledCommentViewSet.records_from_rows = from_rows
        try:
            response = client.get("/api/comments/", params)
        finally:
            LabelledCommentViewSet.records_from_rows = True
        assert response.status_code == 200, response.content[:300]
        answers.append(response.content)
    return answers[0], answers[1]


@pytest.mark.parametrize("role", ["annotator", "curator", "researcher"])
@pytest.mark.parametrize(
    "params",
    [
        {"page_size": 1000},
        {"article": "CM", "page_size": 1000},
        {"page_size": 7, "page": 2},
        {"topic": CM, "stance": "against"},
        {"search": "Ukraine"},
        {"unannotated": "true", "topic": CM},
        {"has_replies": "true", "page_size": 1000},
    ],
    ids=["everything", "one article", "a middle page", "consensus filter", "search", "queue", "with replies"],
)
def test_records_from_rows_are_the_serializers_byte_for_byte(
    role: str, params: dict[str, Any], labelled: dict[str, User], seeds: dict[str, Article]
) -> None:
    client = Client()
    client.force_login(labelled[role])
    if params.get("article") == "CM":
        params = {**params, "article": seeds[CLUSTER_MUNITIONS].pk}
    if role == "annotator" and "stance" in params:  # blind: an annotator filters by their own labels
        params = {**params, "annotator": "annotator"}
    from_rows, serialized = both_ways(client, params)
    assert from_rows == serialized
    assert b'"results":[' in from_rows


def test_a_whole_thread_is_read_in_constant_queries(
    labelled: dict[str, User], seeds: dict[str, Article], django_assert_max_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(labelled["researcher"])
    counts = {}
    for article in seeds.values():
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/comments/", {"article": article.pk, "page_size": 1000})
        records = response.json()["results"]
        assert len(records) == Comment.objects.filter(article=article).count()
        counts[len(records)] = len(captured.captured_queries)
    # Session, user, groups; count, page; reply links, labels, consensus, gold, both sides, the model's
    # suggestions (issue 16): whatever the size.
    big = max(counts)
    assert big > 20
    assert counts[big] <= 12
    assert len({count for size, count in counts.items() if size}) == 1, counts


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 30, 23, 4, 45, tzinfo=UTC),  # a whole second: no fraction written
        datetime(2026, 11, 30, 23, 4, 45, 1, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 6, 1, 12, 0, 0, 500, tzinfo=timezone(timedelta(hours=-7))),  # written in UTC
    ],
)
def test_timestamps_written_by_the_database_are_drfs_and_isoformats_text(moment: datetime) -> None:
    from django.db.models import DateTimeField, Value
    from rest_framework import serializers

    from debate.db import UtcIsoText

    def written(utc: str) -> str:
        expression = UtcIsoText(Value(moment, output_field=DateTimeField()), utc=utc)
        return str(Topic.objects.annotate(text=expression).values_list("text", flat=True)[:1].get())

    Topic.objects.get_or_create(slug="any-topic", defaults={"name": "Any"})
    assert written("Z") == serializers.DateTimeField().to_representation(moment)
    assert written("+00:00") == moment.astimezone(UTC).isoformat()
