"""From labels to gold, end to end over HTTP: three annotators label the seed threads, the dashboard and the
agreement API agree on α, a curator resolves every disagreement, and the exports carry the gold labels."""

from __future__ import annotations

import io
import json
import random
import re
from collections.abc import Callable

import pandas as pd
import pytest

from annotations.models import Consensus, GoldLabel, Topic
from debate.models import Article, Comment
from tests.conftest import CLUSTER_MUNITIONS, PASSWORD, STRIKES_IN_RUSSIA, Api

pytestmark = pytest.mark.django_db(transaction=True)

STANCES = ["favor", "against", "neutral", "not_about"]


def test_three_annotators_then_adjudication_to_gold(
    api_as: Callable[..., Api], make_user, topics: dict[str, Topic], seeds: dict[str, Article], live_server
) -> None:
    annotators = [api_as(make_user("annotator", name)) for name in ("ana", "ben", "cai")]
    comments = list(
        Comment.objects.filter(article__in=[seeds[CLUSTER_MUNITIONS], seeds[STRIKES_IN_RUSSIA]]).order_by("pk")
    )
    rng = random.Random(7)
    for item in comments:
        for topic in topics:
            truth = rng.choice(STANCES)
            for api in annotators:
                stance = truth if rng.random() < 0.7 else rng.choice(STANCES)
                response = api.put(f"/comments/{item.pk}/annotations/{topic}/", {"stance": stance})
                assert response.status_code == 201, response.text

    researcher = api_as("researcher")
    agreement = {report["topic"]: report for report in researcher.get("/agreement/").json()["topics"]}
    assert set(agreement) == set(topics)
    assert all(report["labels"] == 57 * 3 for report in agreement.values())

    # The dashboard, as a researcher sees it in the browser, shows the same α.
    dashboard = researcher_dashboard(live_server.url, make_user("researcher", "rita"))
    for slug, report in agreement.items():
        shown = re.search(rf'data-alpha="{slug}">([^<]+)<', dashboard)
        assert shown is not None
        assert shown.group(1) == f"{report['alpha']['alpha']:.3f}"

    # The curator resolves every unresolved item, finding them through the API's filters.
    curator = api_as(make_user("curator", "carla"))
    resolved = 0
    for slug in topics:
        unresolved = curator.all_pages("/comments/", topic=slug, status="unresolved")
        assert len(unresolved) == Consensus.objects.filter(topic__slug=slug, status="unresolved").count()
        for record in unresolved:
            counts = record["consensus"][slug]
            assert counts["status"] == "unresolved"
            gold = curator.put(f"/comments/{record['id']}/gold/{slug}/", {"stance": "neutral", "note": "adjudicated"})
            assert gold.status_code == 201
            resolved += 1
    assert resolved > 0
    assert not Consensus.objects.filter(status="unresolved").exists()
    assert GoldLabel.objects.count() == resolved

    # The exports carry the gold labels.
    comments_export = [json.loads(line) for line in researcher.get("/export/comments.jsonl").text.splitlines()]
    gold_records = [
        (record["comment_id"], slug)
        for record in comments_export
        for slug, gold in record["gold"].items()
        if gold is not None
    ]
    assert len(gold_records) == resolved
    for record in comments_export:
        for slug, gold in record["gold"].items():
            if gold is not None:
                assert gold["stance"] == "neutral"
                assert gold["set_by"] == "carla"
                assert record["consensus"][slug]["status"] == "gold"
    frame = pd.read_csv(io.StringIO(researcher.get("/export/annotations.csv").text))
    assert len(frame) == 57 * 3 * 3
    gold_rows = frame[frame["gold"].notna()]
    assert len(gold_rows) == resolved * 3  # every annotator's row of a resolved item names its gold stance
    assert set(gold_rows["gold"]) == {"neutral"}


def researcher_dashboard(base_url: str, user) -> str:
    """The dashboard's HTML, fetched over HTTP after logging in through the login form."""
    import httpx

    with httpx.Client(base_url=base_url, follow_redirects=True, timeout=60) as browser:
        login = browser.get("/accounts/login/")
        token = browser.cookies["csrftoken"]
        browser.post(
            "/accounts/login/",
            data={"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base_url}/accounts/login/"},
        )
        page = browser.get("/dashboard/")
        assert login.status_code == 200
        assert page.status_code == 200
        return page.text
