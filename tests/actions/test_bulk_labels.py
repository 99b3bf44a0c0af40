"""`annotations.bulk.import_labels`: the rows, history and consensus that set_stance would have written."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError

from annotations.actions import TopicClosed, clear_stance
from annotations.bulk import LabelExists, LabelRow, import_labels
from annotations.consensus import compute_consensus
from annotations.models import Annotation, ChangeEvent, Consensus, GoldLabel, Topic
from debate.models import Article, Comment
from debate.roles import Role
from tests.conftest import comments_by_number, label


@pytest.fixture
def annotators(make_user: Callable[..., User]) -> list[User]:
    return [make_user(Role.ANNOTATOR, f"bulk-{number}") for number in range(4)]


def consensus_of(comment: Comment, topic: Topic) -> tuple[str | None, str | None, int, dict[str, int]]:
    row = Consensus.objects.get(comment=comment, topic=topic)
    return row.stance, row.status, row.n, row.counts


def expected_consensus(comment: Comment, topic: Topic) -> tuple[str | None, str | None, int, dict[str, int]]:
    stances = list(Annotation.objects.filter(comment=comment, topic=topic).values_list("stance", flat=True))
    gold = GoldLabel.objects.filter(comment=comment, topic=topic).values_list("stance", flat=True).first()
    result = compute_consensus(stances, gold)
    return result.stance, result.status, result.n, result.counts


def test_labels_history_and_consensus(
    cluster_article: Article, topics: dict[str, Topic], annotators: list[User]
) -> None:
    comments = comments_by_number(cluster_article)
    topic = topics["cluster-munitions"]
    other = topics["strikes-in-russia"]
    # An earlier label through the action, and a gold label: both must count in the recomputed consensus.
    label(annotators[3], comments[1], topic, "against")
    curator = User.objects.create_user("bulk-curator")
    GoldLabel.objects.create(
        article_id=comments[2].article_id, comment=comments[2], topic=topic, stance="neutral", set_by=curator
    )
    rows = [
        LabelRow(comments[1].pk, topic.pk, annotators[0].pk, "favor", confidence=3, note="clear"),
        LabelRow(comments[1].pk, topic.pk, annotators[1].pk, "favor", unsure=True),
        LabelRow(comments[1].pk, topic.pk, annotators[2].pk, "favor"),
        LabelRow(comments[2].pk, topic.pk, annotators[0].pk, "favor"),
        LabelRow(comments[3].pk, other.pk, annotators[0].pk, "not_about"),
        LabelRow(
            comments[3].pk,
            topic.pk,
            annotators[1].pk,
            "against",
            evidence=[{"start": 0, "end": 5, "text": comments[3].body[:5]}],
        ),
    ]
    result = import_labels(labels=iter(rows))
    assert (result.labels, result.items) == (6, 4)

    stored = Annotation.objects.get(comment=comments[1], topic=topic, annotator=annotators[0])
    assert (stored.stance, stored.confidence, stored.note, stored.version) == ("favor", 3, "clear", 1)
    assert Annotation.objects.get(comment=comments[3], topic=topic).evidence == [
        {"start": 0, "end": 5, "text": comments[3].body[:5]}
    ]
    assert consensus_of(comments[1], topic) == ("favor", "majority", 4, {"against": 1, "favor": 3})
    assert consensus_of(comments[2], topic)[:2] == ("neutral", "gold")
    assert consensus_of(comments[3], other) == ("not_about", "single", 1, {"not_about": 1})
    for comment, item_topic in [(comments[1], topic), (comments[2], topic), (comments[3], other), (comments[3], topic)]:
        assert consensus_of(comment, item_topic) == expected_consensus(comment, item_topic)

    events = ChangeEvent.objects.filter(kind="annotation", action="create", actor_username__startswith="bulk-")
    assert events.count() == 7  # six imported, one through the action
    event = events.get(comment_id=comments[1].pk, annotator_username="bulk-0")
    assert (event.actor_username, event.article_id, event.topic_slug, event.version) == (
        "bulk-0",
        cluster_article.pk,
        "cluster-munitions",
        1,
    )
    assert event.after == {
        "stance": "favor",
        "unsure": False,
        "confidence": 3,
        "note": "clear",
        "evidence": [],
        "version": 1,
    }

    # The item locks exist: the actions carry on from the imported state.
    label(annotators[1], comments[1], topic, "against")
    assert consensus_of(comments[1], topic) == expected_consensus(comments[1], topic)
    assert consensus_of(comments[1], topic)[:2] == (None, "unresolved")


def test_actor_is_recorded_when_given(
    cluster_article: Article, topics: dict[str, Topic], annotators: list[User], make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN, "bulk-admin")
    comment = comments_by_number(cluster_article)[4]
    import_labels(
        labels=[LabelRow(comment.pk, topics["cluster-munitions"].pk, annotators[0].pk, "neutral")], actor=admin
    )
    event = ChangeEvent.objects.get(comment_id=comment.pk)
    assert (event.actor_username, event.actor_id, event.annotator_username) == ("bulk-admin", admin.pk, "bulk-0")


def test_versions_continue_the_history_of_a_deleted_label(
    cluster_article: Article, topics: dict[str, Topic], annotators: list[User]
) -> None:
    comment = comments_by_number(cluster_article)[5]
    topic = topics["cluster-munitions"]
    label(annotators[0], comment, topic, "favor")
    label(annotators[0], comment, topic, "against")
    clear_stance(actor=annotators[0], comment=comment, topic=topic)
    import_labels(labels=[LabelRow(comment.pk, topic.pk, annotators[0].pk, "neutral")])
    assert Annotation.objects.get(comment=comment, topic=topic).version == 3
    assert consensus_of(comment, topic) == ("neutral", "single", 1, {"neutral": 1})


def test_an_existing_label_refuses_the_whole_import(
    cluster_article: Article, topics: dict[str, Topic], annotators: list[User]
) -> None:
    comments = comments_by_number(cluster_article)
    topic = topics["cluster-munitions"]
    label(annotators[0], comments[6], topic, "favor")
    before = (Annotation.objects.count(), ChangeEvent.objects.count(), consensus_of(comments[6], topic))
    with pytest.raises(LabelExists, match=r"bulk-0 already has a label for comment \d+ on 'cluster-munitions'"):
        import_labels(
            labels=[
                LabelRow(comments[7].pk, topic.pk, annotators[1].pk, "against"),
                LabelRow(comments[6].pk, topic.pk, annotators[1].pk, "against"),
                LabelRow(comments[6].pk, topic.pk, annotators[0].pk, "against"),
            ]
        )
    assert (Annotation.objects.count(), ChangeEvent.objects.count(), consensus_of(comments[6], topic)) == before
    assert not Consensus.objects.filter(comment=comments[7]).exclude(status=None).exists()
    with pytest.raises(LabelExists, match="already has a label"):  # the same label twice in one import
        import_labels(labels=[LabelRow(comments[8].pk, topic.pk, annotators[1].pk, "favor")] * 2)
    assert not Annotation.objects.filter(comment=comments[8]).exists()


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"stance": "maybe"}, "is not a stance"),
        ({"stance": "favor", "confidence": 7}, "must be 1, 2 or 3"),
        ({"stance": "favor", "unsure": "yes"}, "true or false"),
        ({"stance": "favor", "evidence": [{"start": 0, "end": 3, "text": "zzz"}]}, "does not match"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(
    cluster_article: Article, topics: dict[str, Topic], annotators: list[User], values: dict, error: str
) -> None:
    comment = comments_by_number(cluster_article)[9]
    good = LabelRow(comment.pk, topics["cluster-munitions"].pk, annotators[0].pk, "favor")
    with pytest.raises(ValidationError, match=error):
        import_labels(labels=[good, LabelRow(comment.pk, topics["strikes-in-russia"].pk, annotators[0].pk, **values)])
    assert not Annotation.objects.exists()
    assert not ChangeEvent.objects.exists()


def test_roles_and_closed_topics_are_checked(
    cluster_article: Article, topics: dict[str, Topic], make_user: Callable[..., User], annotators: list[User]
) -> None:
    comment = comments_by_number(cluster_article)[10]
    researcher = make_user(Role.RESEARCHER, "bulk-researcher")
    with pytest.raises(PermissionDenied, match="bulk-researcher's role cannot write labels"):
        import_labels(labels=[LabelRow(comment.pk, topics["cluster-munitions"].pk, researcher.pk, "favor")])
    closed = topics["trainers-in-ukraine"]
    closed.is_active = False
    closed.save()
    with pytest.raises(TopicClosed):
        import_labels(labels=[LabelRow(comment.pk, closed.pk, annotators[0].pk, "favor")])
    with pytest.raises(ValidationError, match="no comment with id"):
        import_labels(labels=[LabelRow(10**9, topics["cluster-munitions"].pk, annotators[0].pk, "favor")])
    assert not Annotation.objects.exists()


def test_many_labels_in_several_batches(
    cluster_article: Article, topics: dict[str, Topic], annotators: list[User], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batching (here 7 rows a batch) changes nothing in what is written."""
    import annotations.bulk

    monkeypatch.setattr(annotations.bulk, "BATCH_SIZE", 7)
    comments = list(Comment.objects.filter(article=cluster_article).order_by("number"))
    stances = ["favor", "against", "neutral", "not_about"]
    rows = [
        LabelRow(comment.pk, topic.pk, annotator.pk, stances[(index + number) % 4])
        for index, comment in enumerate(comments)
        for topic in topics.values()
        for number, annotator in enumerate(annotators[:3])
    ]
    result = import_labels(labels=rows)
    assert result.labels == len(rows) == Annotation.objects.count() == ChangeEvent.objects.count()
    assert result.items == len(comments) * len(topics)
    for comment in comments[:: len(comments) // 5]:
        for topic in topics.values():
            assert consensus_of(comment, topic) == expected_consensus(comment, topic)
