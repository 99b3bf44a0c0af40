"""GET /api/topics/: the propositions annotators judge, named by slug."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from annotations.models import Topic
from tests.conftest import Api

pytestmark = pytest.mark.django_db(transaction=True)


def test_topics_list_the_three_statements_in_order(topics: dict[str, Topic], api_as: Callable[..., Api]) -> None:
    response = api_as("annotator").get("/topics/")

    assert response.status_code == 200
    listed = response.json()
    assert [(t["slug"], t["statement"]) for t in listed] == [
        ("cluster-munitions", "The US and allies should supply cluster munitions to Ukraine"),
        (
            "strikes-in-russia",
            "Ukraine should be allowed to strike targets inside Russia with Western-supplied weapons",
        ),
        ("trainers-in-ukraine", "Western military trainers should be deployed inside Ukraine"),
    ]
    assert all({"slug", "name", "statement", "guidelines"} <= set(t) for t in listed)
    assert "**favor**" in listed[0]["guidelines"]


def test_topics_added_later_are_listed_and_closed_ones_only_on_request(
    topics: dict[str, Topic], api_as: Callable[..., Api]
) -> None:
    Topic.objects.create(slug="sanctions", name="Sanctions", statement="Sanctions work", ordering=5)
    Topic.objects.filter(slug="trainers-in-ukraine").update(is_active=False)
    api = api_as("researcher")

    active = [t["slug"] for t in api.get("/topics/").json()]
    everything = [t["slug"] for t in api.get("/topics/", all="true").json()]
    closed = api.get("/topics/trainers-in-ukraine/")

    assert active == ["sanctions", "cluster-munitions", "strikes-in-russia"]
    assert everything == [*active, "trainers-in-ukraine"]
    assert closed.status_code == 200
    assert closed.json()["is_active"] is False
