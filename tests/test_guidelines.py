"""Versioned guidelines: a change flags exactly the labels made under the older version, over HTTP; the admin
makes versions; annotators see what changed; releases get the history."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from annotations.guidelines import guideline_history, revise_guidelines
from annotations.models import Annotation, GuidelineVersion, Topic
from debate.models import Article
from tests.conftest import CLUSTER_MUNITIONS, Api, comments_by_number, label

pytestmark = pytest.mark.django_db(transaction=True)

CM = "cluster-munitions"
SR = "strikes-in-russia"


def test_a_guideline_change_flags_exactly_the_labels_made_under_the_older_version(
    seeds: dict[str, Article], topics: dict[str, Topic], api_as: Callable[..., Api]
) -> None:
    comments = list(comments_by_number(seeds[CLUSTER_MUNITIONS]).values())[:8]
    ann, bob = api_as("annotator", "ann"), api_as("annotator", "bob")
    for api in (ann, bob):
        for comment in comments[:5]:
            for slug in (CM, SR):
                assert api.put(f"/comments/{comment.pk}/annotations/{slug}/", {"stance": "favor"}).status_code == 201
    before = set(Annotation.objects.filter(topic__slug=CM).values_list("pk", flat=True))
    assert len(before) == 10

    admin = api_as("admin", "root")
    assert ann.post(f"/topics/{CM}/guidelines/", {"guidelines": "new"}).status_code == 403
    changed = admin.post(
        f"/topics/{CM}/guidelines/",
        {"guidelines": topics[CM].guidelines + "\nDud rates alone are **neutral**.", "note": "dud rates"},
    )
    assert changed.status_code == 201, changed.text
    assert changed.json() == {"topic": CM, "version": 2, "created": True, "outdated_labels": 10}
    # The same text again is no new version.
    again = admin.post(f"/topics/{CM}/guidelines/", {"guidelines": Topic.objects.get(slug=CM).guidelines})
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert admin.post(f"/topics/{CM}/guidelines/", {"statement": ""}).status_code == 400
    assert admin.post(f"/topics/{CM}/guidelines/", {"colour": "red"}).status_code == 400

    # A label made after the change is not flagged; neither are the other topic's.
    assert ann.put(f"/comments/{comments[6].pk}/annotations/{CM}/", {"stance": "against"}).status_code == 201
    researcher = api_as("researcher")
    flagged = {row["id"] for row in researcher.all_pages("/annotations/", outdated="true")}
    assert flagged == before
    fresh = {row["id"]: row for row in researcher.all_pages("/annotations/", outdated="false")}
    assert set(fresh) == set(Annotation.objects.values_list("pk", flat=True)) - before
    row = researcher.get("/annotations/", topic=CM, outdated="true").json()["results"][0]
    assert (row["guideline_version"], row["outdated"]) == (1, True)
    assert researcher.get("/annotations/", outdated="maybe").status_code == 400

    # Annotators see their own flagged labels only (blind annotation), on comments too.
    mine = {row["id"] for row in ann.all_pages("/annotations/", outdated="true")}
    assert mine == set(Annotation.objects.filter(pk__in=before, annotator__username="ann").values_list("pk", flat=True))
    flagged_comments = {row["id"] for row in ann.all_pages("/comments/", outdated="true")}
    assert flagged_comments == {comment.pk for comment in comments[:5]}
    assert {row["id"] for row in ann.all_pages("/comments/", outdated="true", topic=SR)} == set()

    # Confirming a label (the same stance again) makes it current: one flag fewer.
    confirmed = ann.put(f"/comments/{comments[0].pk}/annotations/{CM}/", {"stance": "favor"})
    assert confirmed.status_code == 200
    assert (confirmed.json()["guideline_version"], confirmed.json()["outdated"], confirmed.json()["version"]) == (
        2,
        False,
        2,
    )
    assert len(researcher.all_pages("/annotations/", outdated="true")) == 9

    history = researcher.get(f"/topics/{CM}/guidelines/").json()["versions"]
    assert [(v["version"], v["current"], v["labels"]) for v in history] == [(1, False, 9), (2, True, 2)]
    assert history[1]["note"] == "dud rates"
    assert history[1]["created_by"] == "root"
    assert researcher.get(f"/topics/{CM}/").json()["guideline_version"] == 2


def test_releases_get_every_version_of_every_topic(topics: dict[str, Topic], make_user: Callable[..., User]) -> None:
    admin = make_user("admin", "root")
    revise_guidelines(actor=admin, topic=topics[SR], statement="Strikes inside Russia are right", guidelines="g2")
    revise_guidelines(actor=admin, topic=topics[SR], statement="Strikes inside Russia are right", guidelines="g3")
    history = guideline_history()
    by_topic = [(entry["topic"], entry["version"]) for entry in history]
    assert by_topic == [(CM, 1), (SR, 1), (SR, 2), (SR, 3), ("trainers-in-ukraine", 1)]
    first = next(entry for entry in history if (entry["topic"], entry["version"]) == (SR, 1))
    assert (
        first["statement"] == "Ukraine should be allowed to strike targets inside Russia with Western-supplied weapons"
    )
    assert [entry["guidelines"] for entry in history if entry["topic"] == SR][1:] == ["g2", "g3"]
    with pytest.raises(Exception, match="only admins"):
        revise_guidelines(actor=make_user("curator"), topic=topics[SR], statement="x", guidelines="y")


def _admin_form(page: str) -> dict[str, str]:
    """The admin change form's fields as the page fills them in (inputs, selected options, textareas)."""
    data: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if not name or (kind and kind.group(1) in ("submit", "button")):
            continue
        if kind and kind.group(1) == "checkbox":
            if "checked" in tag:
                data[name.group(1)] = "on"
            continue
        data[name.group(1)] = value.group(1) if value else ""
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        import html

        data[name] = html.unescape(text).lstrip("\n")
    return data


def test_changing_guidelines_in_the_admin_makes_a_version_and_annotators_see_what_changed(
    seeds: dict[str, Article], topics: dict[str, Topic], make_user: Callable[..., User]
) -> None:
    ann = make_user("annotator", "ann")
    comment = comments_by_number(seeds[CLUSTER_MUNITIONS])[1]
    label(ann, comment, topics[CM], "favor")
    admin = Client()
    admin.force_login(make_user("admin", "root"))
    url = f"/admin/annotations/topic/{topics[CM].pk}/change/"
    page = admin.get(url)
    assert page.status_code == 200
    form = _admin_form(page.content.decode())
    form["guidelines"] = form["guidelines"] + "\nA comment about dud rates only is **neutral**."
    form["change_note"] = "Dud rates"
    response = admin.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    topic = Topic.objects.get(pk=topics[CM].pk)
    assert topic.guideline_version == 2
    assert GuidelineVersion.objects.filter(topic=topic).count() == 2
    assert Annotation.objects.get(annotator=ann).guideline_version == 1

    client = Client()
    client.force_login(ann)
    queue = client.get("/annotate/").content.decode()
    assert "The guidelines changed" in queue
    assert "version 1 → 2: Dud rates" in queue
    assert "<ins>A comment about dud rates only is **neutral**.</ins>" in queue
    assert client.post("/guidelines/seen/").status_code == 302
    assert "The guidelines changed" not in client.get("/annotate/").content.decode()
