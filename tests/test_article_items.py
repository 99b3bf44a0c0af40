"""The article itself is an item: its own stance is labelled, adjudicated, filtered, exported and measured
like a comment's, over real HTTP, with the same rules (versions, ETags, blind annotation, errors)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from django.db import IntegrityError, transaction

from annotations.models import Annotation, ChangeEvent, Consensus, GoldLabel, Topic
from debate.models import Article, Comment
from tests.conftest import CLUSTER_MUNITIONS, Api, comments_by_number, label

pytestmark = pytest.mark.django_db(transaction=True)

CM = "cluster-munitions"
SR = "strikes-in-russia"
TR = "trainers-in-ukraine"


def label_path(article: Article | int, topic: str = CM) -> str:
    article_id = article if isinstance(article, int) else article.pk
    return f"/articles/{article_id}/annotations/{topic}/"


def gold_path(article: Article | int, topic: str = CM) -> str:
    article_id = article if isinstance(article, int) else article.pk
    return f"/articles/{article_id}/gold/{topic}/"


def assert_one_line_error(response: httpx.Response, status: int, *fragments: str) -> None:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert "\n" not in detail
    for fragment in fragments:
        assert fragment in detail, detail


def own_consensus(article: Article, topic: str = CM) -> tuple[Any, ...]:
    row = Consensus.objects.filter(article=article, comment=None, topic__slug=topic).first()
    return (row.stance, row.status, row.n) if row else (None, None, 0)


def test_every_article_including_those_without_comments_takes_two_annotators_labels(
    api_as: Callable[..., Api], seeds: dict[str, Article], topics: dict[str, Topic]
) -> None:
    first, second = api_as("annotator", "ann-a"), api_as("annotator", "ann-b")
    without_comments = [article for article in seeds.values() if not article.comments.exists()]
    assert len(without_comments) == 3

    for article in seeds.values():
        for slug in topics:
            assert first.put(label_path(article, slug), {"stance": "against"}).status_code == 201
            assert second.put(label_path(article, slug), {"stance": "against", "confidence": 3}).status_code == 201

    assert Annotation.objects.filter(comment=None).count() == 5 * 3 * 2
    for article in seeds.values():
        assert own_consensus(article) == ("against", "unanimous", 2)
    # The comments' items are untouched: no consensus row of a comment was made by these writes.
    assert not Consensus.objects.filter(comment__isnull=False).exists()


def test_put_get_versions_etags_and_delete_follow_the_comment_rules(
    api_as: Callable[..., Api], seeds: dict[str, Article], topics: dict[str, Topic]
) -> None:
    article = seeds["004_926dce63dff0079b.txt"]
    api = api_as("annotator", "ann")

    created = api.put(label_path(article), {"stance": "favor", "unsure": True, "confidence": 2, "note": "op-ed"})
    same = api.put(label_path(article), {"stance": "favor", "unsure": True, "confidence": 2, "note": "op-ed"})
    changed = api.put(label_path(article), {"stance": "against"}, headers={"If-Match": '"1"'})
    stale = api.put(label_path(article), {"stance": "neutral"}, headers={"If-Match": '"1"'})
    read = api.get(label_path(article))

    assert created.status_code == 201
    assert created.headers["ETag"] == '"1"'
    assert created.json() | {"id": 0, "created_at": "", "updated_at": ""} == {
        "id": 0,
        "comment": None,
        "article": article.pk,
        "comment_number": None,
        "topic": CM,
        "annotator": "ann",
        "stance": "favor",
        "unsure": True,
        "confidence": 2,
        "note": "op-ed",
        "evidence": [],
        "version": 1,
        "guideline_version": 1,
        "outdated": False,
        "lead_time_ms": None,
        "created_at": "",
        "updated_at": "",
        "item_type": "article",
    }
    assert (same.status_code, same.headers["ETag"]) == (200, '"1"')
    assert (changed.status_code, changed.headers["ETag"]) == (200, '"2"')
    assert_one_line_error(stale, 412, "the current version is 2")
    assert stale.json()["version"] == 2
    assert (read.status_code, read.headers["ETag"], read.json()["stance"]) == (200, '"2"', "against")

    deleted = api.delete(label_path(article), headers={"If-Match": '"2"'})
    again = api.delete(label_path(article))
    recreated = api.put(label_path(article), {"stance": "neutral"})

    assert deleted.status_code == 204
    assert_one_line_error(again, 404, f"no label for article {article.pk}", CM)
    assert_one_line_error(api.get(label_path(article, SR)), 404, f"article {article.pk}")
    assert recreated.headers["ETag"] == '"3"'  # versions never repeat, as for comments
    events = ChangeEvent.objects.filter(article_id=article.pk, item_type="article").order_by("id")
    assert list(events.values_list("action", "version", "comment_id")) == [
        ("create", 1, None),
        ("update", 2, None),
        ("delete", 2, None),
        ("create", 3, None),
    ]
    history = api.get("/history/", article=article.pk, item_type="article").json()["results"]
    assert [(event["action"], event["comment"], event["item_type"]) for event in history] == [
        ("create", None, "article"),
        ("update", None, "article"),
        ("delete", None, "article"),
        ("create", None, "article"),
    ]


def test_evidence_is_checked_against_the_article_body(
    api_as: Callable[..., Api], seeds: dict[str, Article], topics: dict[str, Topic]
) -> None:
    article = seeds[CLUSTER_MUNITIONS]
    api = api_as("annotator")
    start = article.body.index("cluster munitions")
    span = {"start": start, "end": start + 17, "text": "cluster munitions"}

    good = api.put(label_path(article), {"stance": "against", "evidence": [span, span]})
    wrong_text = api.put(
        label_path(article), {"stance": "against", "evidence": [{**span, "text": "cluster bombs!!!!"}]}
    )
    outside = api.put(
        label_path(article),
        {"stance": "against", "evidence": [{"start": 0, "end": len(article.body) + 1, "text": "x"}]},
    )

    assert good.status_code == 200 or good.status_code == 201
    assert good.json()["evidence"] == [span]
    assert_one_line_error(wrong_text, 400, "evidence", "does not match the article body")
    assert_one_line_error(outside, 400, "evidence", "outside the article body")


def test_errors_name_what_is_wrong(
    api_as: Callable[..., Api], seeds: dict[str, Article], topics: dict[str, Topic]
) -> None:
    article = seeds[CLUSTER_MUNITIONS]
    annotator, researcher = api_as("annotator"), api_as("researcher")

    assert_one_line_error(annotator.put(label_path(999_999), {"stance": "favor"}), 404, "no article with id 999999")
    assert_one_line_error(annotator.put(label_path(article, "nope"), {"stance": "favor"}), 404, "unknown topic")
    assert annotator.put(label_path(article), {"stance": "maybe"}).status_code == 400
    assert annotator.put(label_path(article), {"stance": "favor", "colour": 1}).status_code == 400
    assert_one_line_error(researcher.put(label_path(article), {"stance": "favor"}), 403, "cannot write labels")
    assert not Annotation.objects.exists()


def test_blind_annotation_holds_for_the_articles_own_labels(
    api_as: Callable[..., Api], seeds: dict[str, Article], topics: dict[str, Topic]
) -> None:
    article = seeds[CLUSTER_MUNITIONS]
    first, second = api_as("annotator", "ann-a"), api_as("annotator", "ann-b")
    first.put(label_path(article), {"stance": "against"})
    second.put(label_path(article), {"stance": "favor"})

    listed = {record["id"]: record for record in first.all_pages("/articles/")}
    detail = first.get(f"/articles/{article.pk}/").json()
    others = first.get("/annotations/", article=article.pk).json()["results"]
    by_stance = first.get("/articles/", topic=CM, stance="favor")
    by_status = first.get("/articles/", topic=CM, status="unresolved")

    assert listed[article.pk]["my_annotations"][CM]["stance"] == "against"
    assert "consensus" not in listed[article.pk]
    assert "gold" not in listed[article.pk]
    assert "consensus" not in detail
    assert detail["my_annotations"][CM]["stance"] == "against"
    assert [(record["annotator"], record["item_type"]) for record in others] == [("ann-a", "article")]
    assert_one_line_error(by_stance, 403, "blind")
    assert_one_line_error(by_status, 403, "blind")
    # Their own labels they may filter by.
    mine = first.get("/articles/", topic=CM, stance="against", annotator="ann-a").json()["results"]
    assert [record["id"] for record in mine] == [article.pk]


def test_the_articles_list_finds_articles_by_their_own_stance(
    api_as: Callable[..., Api], seeds: dict[str, Article], topics: dict[str, Topic]
) -> None:
    ban, other = seeds[CLUSTER_MUNITIONS], seeds["003_fe0cb380292f74eb.txt"]
    first, second = api_as("annotator", "ann-a"), api_as("annotator", "ann-b")
    for api in (first, second):
        api.put(label_path(ban), {"stance": "against"})
    first.put(label_path(other), {"stance": "favor"})
    second.put(label_path(other), {"stance": "against"})
    # A comment's label on the article is not the article's stance.
    label_comment = comments_by_number(ban)[1]
    first.put(f"/comments/{label_comment.pk}/annotations/{CM}/", {"stance": "favor"})
    researcher = api_as("researcher")

    def ids(**params: str) -> list[int]:
        response = researcher.get("/articles/", **params)
        assert response.status_code == 200, response.text
        return [record["id"] for record in response.json()["results"]]

    assert ids(topic=CM, stance="against") == [ban.pk]
    assert ids(topic=CM, stance="favor") == []
    assert ids(topic=CM, status="unresolved") == [other.pk]
    assert ids(topic=CM, status="unanimous") == [ban.pk]
    assert sorted(ids(topic=CM)) == sorted([ban.pk, other.pk])
    assert ids(topic=CM, annotator="ann-b", stance="against") == sorted([ban.pk, other.pk])
    assert len(ids(unannotated="true")) == 5  # the researcher labelled nothing
    assert sorted(ids(unannotated="true", topic=CM)) == sorted(seeds[name].pk for name in seeds)
    unlabelled = first.get("/articles/", unannotated="true", topic=CM).json()["results"]
    assert {record["id"] for record in unlabelled} == {a.pk for a in seeds.values()} - {ban.pk, other.pk}
    record = {r["id"]: r for r in researcher.all_pages("/articles/")}[ban.pk]
    assert record["consensus"][CM] == {"stance": "against", "status": "unanimous", "n": 2}
    assert_one_line_error(researcher.get("/articles/", stance="against"), 400, "needs a topic")
    assert researcher.get("/articles/", topic="nope").status_code == 400


def test_curators_adjudicate_the_article_and_consensus_reads_gold_first(
    api_as: Callable[..., Api], seeds: dict[str, Article], topics: dict[str, Topic]
) -> None:
    article = seeds["001_eef258f9ba9e91df.txt"]
    first, second = api_as("annotator", "ann-a"), api_as("annotator", "ann-b")
    first.put(label_path(article), {"stance": "against"})
    second.put(label_path(article), {"stance": "favor"})
    curator = api_as("curator", "cura")
    assert own_consensus(article) == (None, "unresolved", 2)

    refused = first.put(gold_path(article), {"stance": "against"})
    created = curator.put(gold_path(article), {"stance": "against", "note": "argues for the ban"})
    updated = curator.put(gold_path(article), {"stance": "against", "note": "argues for the ban, clearly"})

    assert refused.status_code == 403
    assert created.status_code == 201
    assert created.json() | {"gold": None} == {
        "item_type": "article",
        "article": article.pk,
        "comment": None,
        "topic": CM,
        "gold": None,
        "consensus": {"stance": "against", "status": "gold", "n": 2},
    }
    assert created.json()["gold"]["set_by"] == "cura"
    assert updated.status_code == 200
    assert own_consensus(article) == ("against", "gold", 2)
    assert GoldLabel.objects.get(article=article, comment=None).note == "argues for the ban, clearly"

    assert curator.delete(gold_path(article)).status_code == 204
    assert_one_line_error(curator.delete(gold_path(article)), 404, f"article {article.pk} has no gold label")
    assert own_consensus(article) == (None, "unresolved", 2)
    assert_one_line_error(curator.put(gold_path(999_999), {"stance": "favor"}), 404, "no article")


def test_exports_carry_the_articles_labels_told_apart_by_item_type(
    api_as: Callable[..., Api], seeds: dict[str, Article], topics: dict[str, Topic]
) -> None:
    article = seeds[CLUSTER_MUNITIONS]
    comment = comments_by_number(article)[2]
    api = api_as("annotator", "ann")
    api.put(label_path(article), {"stance": "against"})
    api.put(f"/comments/{comment.pk}/annotations/{CM}/", {"stance": "favor"})
    researcher = api_as("researcher")

    rows = list(csv.DictReader(io.StringIO(researcher.get("/export/annotations.csv").text)))
    articles_only = researcher.get("/export/annotations.jsonl", item_type="article").text.splitlines()

    # The earlier columns as they were, the new ones after them (issue 15 added label_role and guideline_version,
    # issue 16 the suggestion columns last).
    header = list(rows[0])
    at = header.index("gold")
    assert header[at : at + 5] == ["gold", "item_type", "label_role", "guideline_version", "lead_time_ms"]
    assert [(row["item_type"], row["comment_id"], row["article_id"], row["author"]) for row in rows] == [
        ("article", "", str(article.pk), "James Joyner"),
        ("comment", str(comment.pk), str(article.pk), comment.author.name if comment.author else ""),
    ]
    assert len(articles_only) == 1
    assert '"item_type":"article"' in articles_only[0]


def test_agreement_reads_with_and_without_the_articles(
    api_as: Callable[..., Api], seeds: dict[str, Article], topics: dict[str, Topic]
) -> None:
    first, second = api_as("annotator", "ann-a"), api_as("annotator", "ann-b")
    for article in seeds.values():
        first.put(label_path(article), {"stance": "against"})
        second.put(label_path(article), {"stance": "against" if article.source != CLUSTER_MUNITIONS else "favor"})
    comment = comments_by_number(seeds[CLUSTER_MUNITIONS])[1]
    for api in (first, second):
        api.put(f"/comments/{comment.pk}/annotations/{CM}/", {"stance": "neutral"})
    researcher = api_as("researcher")

    def report(**params: str) -> dict[str, Any]:
        response = researcher.get("/agreement/", topic=CM, **params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body["topics"][0]

    everything, default = report(items="all"), report()
    articles, comments = report(items="articles"), report(items="comments")

    assert everything == default
    assert (everything["items"], articles["items"], comments["items"]) == (6, 5, 1)
    assert articles["percent_agreement"] == pytest.approx(4 / 5)
    assert comments["percent_agreement"] == 1.0
    assert researcher.get("/agreement/", items="threads").status_code == 400
    distribution = researcher.get("/distribution/", items="articles").json()
    assert distribution["overall"][CM]["against"] == 4
    assert distribution["overall"][CM]["unresolved"] == 1


def test_stance_flow_compares_answers_with_the_articles_stance(
    api_as: Callable[..., Api], seeds: dict[str, Article], topics: dict[str, Topic]
) -> None:
    article = seeds[CLUSTER_MUNITIONS]
    by_number = comments_by_number(article)
    top_level = [c for c in by_number.values() if c.parent_id is None and not c.quotes_article]
    opposing, agreeing = top_level[0], top_level[1]
    reply = next(c for c in by_number.values() if c.parent_id is not None and not c.quotes_article)
    annotator = api_as("annotator", "ann")
    annotator.put(label_path(article), {"stance": "against"})
    annotator.put(f"/comments/{opposing.pk}/annotations/{CM}/", {"stance": "favor"})
    annotator.put(f"/comments/{agreeing.pk}/annotations/{CM}/", {"stance": "against"})
    annotator.put(f"/comments/{reply.pk}/annotations/{CM}/", {"stance": "favor"})  # answers a comment, not the article
    researcher = api_as("researcher")

    summary = researcher.get(f"/articles/{article.pk}/stance-summary/").json()["topics"][CM]
    opposes = researcher.get("/comments/", topic=CM, relation_to_article="opposes").json()["results"]
    agrees = researcher.get("/comments/", topic=CM, relation_to_article="agrees").json()["results"]

    assert summary["article_stance"] == "against"
    assert summary["answers_to_article"] == {"agrees": 1, "opposes": 1, "shifts": 0}
    assert [record["id"] for record in opposes] == [opposing.pk]
    assert [record["id"] for record in agrees] == [agreeing.pk]
    blind = annotator.get("/comments/", topic=CM, relation_to_article="opposes")
    assert_one_line_error(blind, 403, "blind")


def test_the_database_holds_one_label_per_annotator_and_the_comments_article(
    seeds: dict[str, Article], topics: dict[str, Topic], make_user: Callable[..., Any]
) -> None:
    article, other = seeds[CLUSTER_MUNITIONS], seeds["002_67ebe6d974f15d13.txt"]
    annotator = make_user("annotator")
    label(annotator, article, topics[CM], "favor")

    with pytest.raises(IntegrityError), transaction.atomic():
        Annotation.objects.create(article=article, comment=None, topic=topics[CM], annotator=annotator, stance="favor")
    comment: Comment = comments_by_number(article)[1]
    with pytest.raises(IntegrityError), transaction.atomic():  # the composite key: a comment's own article only
        Annotation.objects.create(article=other, comment=comment, topic=topics[SR], annotator=annotator, stance="favor")
    with pytest.raises(IntegrityError), transaction.atomic():
        ChangeEvent.objects.create(
            kind="parent",
            action="update",
            actor_username="x",
            article_id=article.pk,
            comment_id=None,
            item_type="article",
        )


def test_a_reimport_may_not_change_the_text_of_a_labelled_article(
    seeds: dict[str, Article], topics: dict[str, Topic], make_user: Callable[..., Any]
) -> None:
    from debate.actions import ImportRefused, import_document
    from tests.conftest import SEEDS

    name = "003_fe0cb380292f74eb.txt"
    article = seeds[name]
    original = (SEEDS / name).read_bytes()
    label(make_user("annotator"), article, topics[CM], "against")
    changed_title = original.replace(b"When Good Intentions Kill", b"When Good Intentions Fail", 1)
    changed_text = original.replace(b"noble intentions", b"the noblest intentions", 1)

    assert import_document(source=name, data=changed_title).status == "updated"  # the text is the same
    with pytest.raises(ImportRefused, match=f"change the text of article {article.pk}, which has 1 label"):
        import_document(source=name, data=changed_text)

    article.refresh_from_db()
    assert "noble intentions" in article.body
    assert article.title.startswith("When Good Intentions Fail")
    Annotation.objects.all().delete()
    assert import_document(source=name, data=changed_text).status == "updated"  # unlabelled: free to change
