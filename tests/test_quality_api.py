"""Gold labels, agreement, dashboards' data and stance flow, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from annotations.models import Annotation, ChangeEvent, Consensus, Topic
from annotations.quality.agreement import topic_report
from debate.models import Article, Comment
from tests.conftest import CLUSTER_MUNITIONS, STRIKES_IN_RUSSIA, Api, label
from tests.factories import labels

pytestmark = pytest.mark.django_db(transaction=True)

CM, SR = "cluster-munitions", "strikes-in-russia"


def comment(article: Article, number: int) -> Comment:
    return Comment.objects.get(article=article, number=number)


def label_number(user: User, article: Article, number: int, topic: Topic, stance: str) -> None:
    label(user, comment(article, number), topic, stance)


# --- gold --------------------------------------------------------------------------------------------------


def test_curator_sets_gold_and_consensus_reads_it_first(
    api_as: Callable[..., Api], make_user, topics: dict[str, Topic], cluster_article: Article
) -> None:
    a1, a2 = make_user("annotator", "a1"), make_user("annotator", "a2")
    target = comment(cluster_article, 4)
    label_number(a1, cluster_article, 4, topics[CM], "favor")
    label_number(a2, cluster_article, 4, topics[CM], "against")
    curator = api_as("curator", "cora")
    path = f"/comments/{target.pk}/gold/{CM}/"

    created = curator.put(path, {"stance": "against", "note": "sarcasm in the last line"})
    again = curator.put(path, {"stance": "against", "note": "sarcasm in the last line"})
    changed = curator.put(path, {"stance": "neutral"})

    assert created.status_code == 201
    assert created.json()["gold"]["stance"] == "against"
    assert created.json()["gold"]["set_by"] == "cora"
    assert created.json()["consensus"] == {"stance": "against", "status": "gold", "n": 2}
    assert again.status_code == 200
    assert changed.json()["consensus"]["stance"] == "neutral"
    events = ChangeEvent.objects.filter(kind="gold", comment_id=target.pk).order_by("id")
    assert [(e.action, (e.after or {}).get("stance")) for e in events] == [("create", "against"), ("update", "neutral")]
    assert events[1].before == {"stance": "against", "note": "sarcasm in the last line", "set_by": "cora"}

    removed = curator.delete(path)
    assert removed.status_code == 204
    assert Consensus.objects.get(comment=target, topic=topics[CM]).status == "unresolved"
    assert curator.delete(path).status_code == 404


@pytest.mark.parametrize(("role", "status"), [("annotator", 403), ("researcher", 403), ("admin", 201)])
def test_only_curators_and_admins_set_gold(
    role: str, status: int, api_as: Callable[..., Api], topics: dict[str, Topic], cluster_article: Article
) -> None:
    response = api_as(role).put(f"/comments/{comment(cluster_article, 1).pk}/gold/{CM}/", {"stance": "favor"})

    assert response.status_code == status


def test_gold_needs_authentication(anonymous_api: Api, topics: dict[str, Topic], cluster_article: Article) -> None:
    assert (
        anonymous_api.put(f"/comments/{comment(cluster_article, 1).pk}/gold/{CM}/", {"stance": "favor"}).status_code
        == 401
    )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"stance": "maybe"}, "stance: 'maybe' is not a stance; choose one of favor, against, neutral, not_about"),
        ({"stance": "favor", "note": 3}, "note: Not a valid string."),
        ({"stance": "favor", "verdict": "x"}, "verdict: unknown field"),
    ],
)
def test_bad_gold_is_a_400_naming_the_field(
    body: dict[str, object], detail: str, api_as: Callable[..., Api], topics: dict[str, Topic], cluster_article: Article
) -> None:
    response = api_as("curator").put(f"/comments/{comment(cluster_article, 1).pk}/gold/{CM}/", body)

    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)


def test_gold_on_an_unknown_topic_is_404(
    api_as: Callable[..., Api], topics: dict[str, Topic], cluster_article: Article
) -> None:
    response = api_as("curator").put(f"/comments/{comment(cluster_article, 1).pk}/gold/nope/", {"stance": "favor"})

    assert response.status_code == 404
    assert response.json()["detail"] == "unknown topic 'nope'; see /api/topics/"


def test_gold_shows_in_records_and_filters_for_researchers_but_not_for_annotators(
    api_as: Callable[..., Api], make_user, topics: dict[str, Topic], cluster_article: Article
) -> None:
    annotator = make_user("annotator", "ann")
    label_number(annotator, cluster_article, 6, topics[CM], "favor")
    curator = api_as("curator")
    curator.put(f"/comments/{comment(cluster_article, 6).pk}/gold/{CM}/", {"stance": "against", "note": "irony"})
    researcher, own = api_as("researcher"), api_as(annotator)

    record = researcher.get(f"/comments/{comment(cluster_article, 6).pk}/").json()
    by_gold = researcher.get("/comments/", topic=CM, stance="against").json()
    by_status = researcher.get("/comments/", topic=CM, status="gold").json()
    blind = own.get(f"/comments/{comment(cluster_article, 6).pk}/").json()

    assert record["gold"] == {
        CM: {"stance": "against", "note": "irony", "set_by": curator_name(), "set_at": record["gold"][CM]["set_at"]}
    }
    assert record["consensus"][CM] == {"stance": "against", "status": "gold", "n": 1}
    assert [c["number"] for c in by_gold["results"]] == [6]
    assert [c["number"] for c in by_status["results"]] == [6]
    assert "gold" not in blind
    assert "consensus" not in blind
    assert blind["my_annotations"][CM]["stance"] == "favor"


def curator_name() -> str:
    return User.objects.get(groups__name="curator").username


# --- agreement and dashboard data ---------------------------------------------------------------------------


@pytest.fixture
def three_annotators(make_user, topics: dict[str, Topic], seeds: dict[str, Article]) -> list[User]:
    """Three annotators over both threads: a1 and a2 mostly agree, a3 often differs."""
    annotators = [make_user("annotator", f"a{n}") for n in (1, 2, 3)]
    rows = []
    for article in (seeds[CLUSTER_MUNITIONS], seeds[STRIKES_IN_RUSSIA]):
        for index, item in enumerate(Comment.objects.filter(article=article).order_by("number")):
            base = ["favor", "against", "neutral", "not_about", "not_about"][index % 5]
            for topic in topics.values():
                rows.append((annotators[0], item, topic, base))
                rows.append((annotators[1], item, topic, base if index % 7 else "neutral"))
                if index % 3:
                    rows.append((annotators[2], item, topic, base if index % 4 else "favor"))
    labels(rows)
    return annotators


def test_agreement_api_equals_the_agreement_module_on_the_stored_labels(
    api_as: Callable[..., Api], three_annotators: list[User], topics: dict[str, Topic]
) -> None:
    response = api_as("researcher").get("/agreement/", topic=SR)

    assert response.status_code == 200
    (report,) = response.json()["topics"]
    rows = Annotation.objects.filter(topic=topics[SR]).values_list("comment_id", "annotator__username", "stance")
    expected = topic_report(list(rows))
    assert report["topic"] == SR
    assert report["alpha"]["alpha"] == pytest.approx(expected.alpha.alpha, abs=1e-12)
    assert report["alpha"]["interval"] == pytest.approx(list(expected.alpha.interval or ()), abs=1e-12)
    assert report["items"] == 57
    assert report["annotators"] == 3
    assert report["labels"] == Annotation.objects.filter(topic=topics[SR]).count()
    assert {group["group"] for group in report["breakdowns"]["depth_bucket"]} == {"top-level", "reply"}
    assert len(report["breakdowns"]["article"]) == 2
    assert {(pair["annotator_a"], pair["annotator_b"]) for pair in report["pairwise"]} == {
        ("a1", "a2"),
        ("a1", "a3"),
        ("a2", "a3"),
    }
    assert set(report["stages"]) == {"about", "stance"}


def test_agreement_for_one_article_and_every_topic(
    api_as: Callable[..., Api], three_annotators: list[User], seeds: dict[str, Article]
) -> None:
    response = api_as("curator").get("/agreement/", article=seeds[STRIKES_IN_RUSSIA].pk)

    body = response.json()
    assert body["article"] == seeds[STRIKES_IN_RUSSIA].pk
    assert [report["topic"] for report in body["topics"]] == [CM, SR, "trainers-in-ukraine"]
    assert all(report["items"] == 21 for report in body["topics"])


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        ({"topic": "nope"}, 404, "unknown topic 'nope'; see /api/topics/"),
        ({"article": "x"}, 400, "article: 'x' is not a whole number"),
        ({"article": "999999"}, 404, "no article with id 999999"),
    ],
)
def test_agreement_refuses_bad_parameters(
    params: dict[str, str], status: int, detail: str, api_as: Callable[..., Api], topics: dict[str, Topic]
) -> None:
    response = api_as("researcher").get("/agreement/", **params)

    assert response.status_code == status
    assert response.json()["detail"] == detail


@pytest.mark.parametrize("path", ["/agreement/", "/agreement/confusion/?topic=x&a=y&b=z", "/distribution/"])
def test_annotators_get_no_label_summaries(path: str, api_as: Callable[..., Api], topics: dict[str, Topic]) -> None:
    response = api_as("annotator").http.get(path)

    assert response.status_code == 403


def test_confusion_matrix_of_two_annotators(
    api_as: Callable[..., Api], three_annotators: list[User], topics: dict[str, Topic]
) -> None:
    body = api_as("researcher").get("/agreement/confusion/", topic=CM, a="a1", b="a2").json()

    assert body["labels"] == ["favor", "against", "neutral", "not_about"]
    assert body["overlap"] == 57
    assert sum(body["matrix"][i][i] for i in range(4)) < 57  # they differ on every seventh comment
    missing = api_as("researcher").get("/agreement/confusion/", topic=CM)
    assert missing.status_code == 400
    assert "a: this parameter is required" in missing.json()["detail"]


def test_progress_shows_an_annotator_only_their_own(api_as: Callable[..., Api], three_annotators: list[User]) -> None:
    own = api_as(three_annotators[2]).get("/progress/").json()["annotators"]
    everyone = api_as("researcher").get("/progress/").json()["annotators"]

    assert [row["annotator"] for row in own] == ["a3"]
    assert [row["annotator"] for row in everyone] == ["a1", "a2", "a3"]
    assert everyone[0]["comments_done"] == 57
    assert everyone[0]["labels"] == 57 * 3
    assert own[0]["comments_done"] == 38  # a3 skipped every third comment


def test_distribution_counts_consensus_per_topic_and_article(
    api_as: Callable[..., Api], three_annotators: list[User], topics: dict[str, Topic], seeds: dict[str, Article]
) -> None:
    body = api_as("researcher").get("/distribution/").json()

    assert body["categories"] == ["favor", "against", "neutral", "not_about", "unresolved"]
    for topic in topics.values():
        expected = dict.fromkeys(body["categories"], 0)
        for row in Consensus.objects.filter(topic=topic).exclude(status=None):
            expected[row.stance or "unresolved"] += 1
        assert body["overall"][topic.slug] == expected
    per_article = body["by_article"][str(seeds[STRIKES_IN_RUSSIA].pk)][SR]
    assert sum(per_article.values()) == 21


# --- stance flow -------------------------------------------------------------------------------------------


@pytest.fixture
def flow(make_user, topics: dict[str, Topic], seeds: dict[str, Article]) -> Article:
    """002's reply links (8->5, 9->7, 10->9) with single-label consensus on strikes into Russia."""
    article = seeds[STRIKES_IN_RUSSIA]
    annotator = make_user("annotator", "flow")
    for number, stance in {5: "favor", 8: "against", 7: "favor", 9: "favor", 10: "neutral"}.items():
        label_number(annotator, article, number, topics[SR], stance)
    return article


def numbers(response_json: dict[str, object]) -> list[int]:
    return sorted(record["number"] for record in response_json["results"])  # type: ignore[attr-defined]


def test_stance_summary_counts_stances_and_reply_relations(api_as: Callable[..., Api], flow: Article) -> None:
    body = api_as("researcher").get(f"/articles/{flow.pk}/stance-summary/").json()

    assert body["topics"][SR] == {
        "stances": {"favor": 3, "against": 1, "neutral": 1},
        "reply_links": {"agrees": 1, "opposes": 1, "shifts": 1},
        "labelled_reply_links": 3,
        "share_opposing": pytest.approx(1 / 3),
        # No label on the article itself yet: nothing to compare its answers with.
        "article_stance": None,
        "answers_to_article": {"agrees": 0, "opposes": 0, "shifts": 0},
        "labelled_answers_to_article": 0,
    }
    assert body["topics"][CM]["labelled_reply_links"] == 0
    assert body["topics"][CM]["share_opposing"] is None


@pytest.mark.parametrize(("relation", "expected"), [("opposes", [8]), ("agrees", [9]), ("shifts", [10])])
def test_filter_replies_by_their_relation_to_their_parent(
    relation: str, expected: list[int], api_as: Callable[..., Api], flow: Article
) -> None:
    response = api_as("researcher").get("/comments/", article=flow.pk, topic=SR, relation=relation)

    assert numbers(response.json()) == expected


@pytest.mark.parametrize(("mix", "expected"), [("contested", [5, 8]), ("favor", [7, 9, 10]), ("against", [])])
def test_filter_threads_by_their_stance_mix(
    mix: str, expected: list[int], api_as: Callable[..., Api], flow: Article
) -> None:
    response = api_as("researcher").get("/comments/", article=flow.pk, topic=SR, thread_mix=mix)

    assert numbers(response.json()) == expected


def test_authors_who_take_both_sides_are_flagged_and_filterable(api_as: Callable[..., Api], flow: Article) -> None:
    researcher = api_as("researcher")

    flagged = researcher.get("/comments/", article=flow.pk, topic=SR, both_sides="true").json()
    record = researcher.get(f"/comments/{comment(flow, 9).pk}/").json()
    other = researcher.get(f"/comments/{comment(flow, 5).pk}/").json()

    assert numbers(flagged) == [8, 9]  # "Just nutha ignint cracker" is against in #8 and favor in #9
    assert record["author_takes_both_sides"] == [SR]
    assert other["author_takes_both_sides"] == []


@pytest.mark.parametrize("name", ["relation", "thread_mix", "both_sides"])
def test_flow_filters_need_a_topic_and_are_not_for_annotators(
    name: str, api_as: Callable[..., Api], flow: Article
) -> None:
    value = {"relation": "opposes", "thread_mix": "contested", "both_sides": "true"}[name]

    without_topic = api_as("researcher").get("/comments/", **{name: value})
    blind = api_as("annotator").get("/comments/", topic=SR, **{name: value})

    assert without_topic.status_code == 400
    assert without_topic.json()["detail"] == f"{name}: needs a topic: add topic=<slug>"
    assert blind.status_code == 403


def test_thread_records_flag_authors_below_the_root_too(api_as: Callable[..., Api], flow: Article) -> None:
    tree = api_as("researcher").get(f"/threads/{comment(flow, 7).pk}/").json()

    (reply,) = tree["replies"]  # #9, by "Just nutha ignint cracker", against in #8 and favor here
    assert reply["number"] == 9
    assert reply["author_takes_both_sides"] == [SR]
    assert tree["author_takes_both_sides"] == []
