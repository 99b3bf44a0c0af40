"""Lead time per label (issue 11): sent with a write, kept in the label, its history and the exports, and
summed up per annotator on the dashboard; and the app's own 403 and 404 pages, also under DEBUG."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from annotations.models import Annotation, ChangeEvent, Topic
from annotations.quality.queries import lead_times
from debate.models import Article, Comment
from tests.conftest import Api, comments_by_number

pytestmark = pytest.mark.django_db(transaction=True)

CM = "cluster-munitions"


def label_path(comment: Comment, topic: str = CM) -> str:
    return f"/comments/{comment.pk}/annotations/{topic}/"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_lead_time_is_stored_kept_in_history_exported_and_summed_up(
    api_as: Callable[..., Api], cluster_article: Article, topics: dict[str, Topic]
) -> None:
    comments = comments_by_number(cluster_article)
    ann = api_as("annotator", "ann")
    for number, seconds in ((1, 2.0), (3, 4.0), (5, 9.0)):
        response = ann.put(label_path(comments[number]), {"stance": "favor", "lead_time_ms": int(seconds * 1000)})
        assert response.status_code == 201, response.text
        assert response.json()["lead_time_ms"] == int(seconds * 1000)
    # An item's time is its longest label's: the third topic of comment 1, set later, counts for it.
    later = ann.put(label_path(comments[1], "trainers-in-ukraine"), {"stance": "not_about", "lead_time_ms": 3000})
    assert later.status_code == 201
    # The same values again change nothing, lead time included; a change keeps its own.
    again = ann.put(label_path(comments[3]), {"stance": "favor", "lead_time_ms": 99_000})
    assert again.status_code == 200
    assert again.json()["lead_time_ms"] == 4000
    changed = ann.put(label_path(comments[3]), {"stance": "against", "lead_time_ms": 5000}, headers={"If-Match": '"1"'})
    assert changed.json()["lead_time_ms"] == 5000
    refused = ann.put(label_path(comments[5]), {"stance": "favor", "lead_time_ms": -1})
    assert refused.status_code == 400
    assert "lead_time_ms" in refused.json()["detail"]
    untimed = api_as("annotator", "bo").put(label_path(comments[1]), {"stance": "neutral"})
    assert untimed.json()["lead_time_ms"] is None

    update = ChangeEvent.objects.filter(comment_id=comments[3].pk, action="update").get()
    assert update.before is not None
    assert update.after is not None
    assert (update.before["lead_time_ms"], update.after["lead_time_ms"]) == (4000, 5000)
    curator = api_as("curator", "cora")
    rows = list(csv.DictReader(io.StringIO(curator.get("/export/annotations.csv").text)))
    assert {(row["comment_number"], row["annotator"], row["lead_time_ms"]) for row in rows} == {
        ("1", "ann", "2000"),
        ("1", "ann", "3000"),
        ("3", "ann", "5000"),
        ("5", "ann", "9000"),
        ("1", "bo", ""),
    }

    (ann_times,) = lead_times()  # bo's label is not timed
    assert (ann_times.username, ann_times.items, ann_times.median_seconds) == ("ann", 3, 5.0)  # of 3, 5 and 9 s
    page = client_for(User.objects.get(username="cora")).get("/dashboard/").content.decode()
    assert "Time per item" in page
    assert "<td data-median-seconds>5.0</td>" in page
    own = client_for(User.objects.get(username="bo")).get("/dashboard/").content.decode()
    assert "No timed labels yet." in own
    assert Annotation.objects.filter(lead_time_ms__isnull=False).count() == 4


@override_settings(DEBUG=True)
def test_the_apps_own_404_and_403_pages_also_under_debug(make_user: Callable[..., User]) -> None:
    annotator = client_for(make_user("annotator", "newcomer"))

    missing = annotator.get("/articels/1/")
    absent_item = annotator.get("/articles/999999/")
    refused = annotator.get("/adjudicate/")
    api_missing = annotator.get("/api/nope/")

    assert missing.status_code == 404
    page = missing.content.decode()
    assert "Nothing here" in page
    assert 'href="/"' in page  # a way back
    assert "Using the URLconf" not in page  # not Django's debug page
    assert absent_item.status_code == 404
    assert "Nothing here" in absent_item.content.decode()
    assert refused.status_code == 403
    assert "Not for your role" in refused.content.decode()
    assert "only curators" in refused.content.decode().lower()
    assert api_missing.status_code == 404
    assert api_missing.json() == {"detail": "no API endpoint at /api/nope/"}


def test_the_apps_own_404_page_in_production_settings(make_user: Callable[..., User]) -> None:
    response = client_for(make_user("researcher")).get("/no/such/page/")
    assert response.status_code == 404
    assert "Nothing here" in response.content.decode()
