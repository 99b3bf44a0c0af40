"""The label actions' rules, called directly against PostgreSQL: what each returns, writes and refuses. The HTTP
tests check the wiring (status codes, bodies); these check the rules once, without a server."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError

from annotations import actions
from annotations.actions import GoldWrite, LabelWrite, Removal, TopicClosed
from annotations.labels import EvidenceSpan, LabelValues
from annotations.models import Annotation, ChangeEvent, Consensus, GoldLabel, Topic
from annotations.vocabulary import ConsensusStatus, Stance
from debate.errors import PreconditionFailed
from debate.models import Article, Comment
from debate.roles import Role
from tests.conftest import comments_by_number

pytestmark = pytest.mark.django_db

CM = "cluster-munitions"


@pytest.fixture
def comment(cluster_article: Article) -> Comment:
    return comments_by_number(cluster_article)[3]


@pytest.fixture
def annotator(make_user: Callable[..., User]) -> User:
    return make_user(Role.ANNOTATOR, "ann")


@pytest.fixture
def curator(make_user: Callable[..., User]) -> User:
    return make_user(Role.CURATOR, "cur")


def events(comment: Comment) -> list[tuple[str, str]]:
    return list(ChangeEvent.objects.filter(comment_id=comment.pk).values_list("kind", "action"))


def consensus(comment: Comment, topic: Topic) -> tuple[str | None, str | None]:
    row = Consensus.objects.get(comment=comment, topic=topic)
    return row.stance, row.status


def test_set_stance_says_whether_it_created_changed_or_left_the_label(
    comment: Comment, annotator: User, topics: dict[str, Topic]
) -> None:
    topic = topics[CM]
    first = actions.set_stance(actor=annotator, comment=comment, topic=topic, values=LabelValues(Stance.FAVOR))
    assert (first.created, first.changed, first.annotation.version) == (True, True, 1)

    same = actions.set_stance(actor=annotator, comment=comment, topic=topic, values=LabelValues("favor"))
    assert (same.created, same.changed, same.annotation.version) == (False, False, 1)
    assert events(comment) == [("annotation", "create")]  # the same values again record nothing

    unsure = actions.set_stance(
        actor=annotator, comment=comment, topic=topic, values=LabelValues("favor", unsure=True, confidence=2)
    )
    assert isinstance(unsure, LabelWrite)
    assert (unsure.created, unsure.changed, unsure.annotation.version) == (False, True, 2)
    assert consensus(comment, topic) == (Stance.FAVOR, ConsensusStatus.SINGLE)


def test_evidence_is_stored_sorted_without_duplicates_in_code_points(
    comment: Comment, annotator: User, topics: dict[str, Topic]
) -> None:
    body = comment.body
    late, early = EvidenceSpan(10, 20, body[10:20]), EvidenceSpan(0, 5, body[:5])
    values = LabelValues("against", evidence=(late, early, late))
    result = actions.set_stance(actor=annotator, comment=comment, topic=topics[CM], values=values)
    assert result.annotation.evidence == [early.stored(), late.stored()]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        (LabelValues("maybe"), "stance", "'maybe' is not a stance; choose one of favor, against, neutral, not_about"),
        (LabelValues("favor", confidence=4), "confidence", "must be 1, 2 or 3 (or null)"),
        (LabelValues("favor", note="x" * 10_001), "note", "at most 10000 are allowed"),
        (LabelValues("favor", evidence=(EvidenceSpan(0, 3, "zzz"),)), "evidence", "does not match the comment body"),
        (LabelValues("favor", evidence=(EvidenceSpan(5, 2, ""),)), "evidence", "is outside the comment body"),
    ],
)
def test_values_that_break_a_rule_are_refused_naming_the_field(
    comment: Comment, annotator: User, topics: dict[str, Topic], values: LabelValues, field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        actions.set_stance(actor=annotator, comment=comment, topic=topics[CM], values=values)
    assert message in " ".join(refused.value.message_dict[field])
    assert not Annotation.objects.exists()
    assert not ChangeEvent.objects.exists()


def test_roles_closed_topics_and_stale_versions_are_refused(
    comment: Comment, annotator: User, make_user: Callable[..., User], topics: dict[str, Topic]
) -> None:
    with pytest.raises(PermissionDenied, match="your role cannot write labels"):
        actions.set_stance(
            actor=make_user(Role.RESEARCHER), comment=comment, topic=topics[CM], values=LabelValues("favor")
        )
    closed = topics["trainers-in-ukraine"]
    Topic.objects.filter(pk=closed.pk).update(is_active=False)
    closed.refresh_from_db()
    with pytest.raises(TopicClosed):
        actions.set_stance(actor=annotator, comment=comment, topic=closed, values=LabelValues("favor"))
    actions.set_stance(actor=annotator, comment=comment, topic=topics[CM], values=LabelValues("favor"))
    with pytest.raises(PreconditionFailed, match="the current version is 1"):
        actions.set_stance(
            actor=annotator, comment=comment, topic=topics[CM], values=LabelValues("against"), if_match=frozenset({7})
        )


def test_clear_stance_says_what_it_removed(comment: Comment, annotator: User, topics: dict[str, Topic]) -> None:
    topic = topics[CM]
    with pytest.raises(Annotation.DoesNotExist):
        actions.clear_stance(actor=annotator, comment=comment, topic=topic)
    assert actions.clear_stance(actor=annotator, comment=comment, topic=topic, missing_ok=True) == Removal(False)

    actions.set_stance(actor=annotator, comment=comment, topic=topic, values=LabelValues("neutral"))
    assert actions.clear_stance(actor=annotator, comment=comment, topic=topic) == Removal(True, version=1)
    assert consensus(comment, topic) == (None, None)
    # Versions never repeat after a delete, so a stale ETag stays stale.
    again = actions.set_stance(actor=annotator, comment=comment, topic=topic, values=LabelValues("neutral"))
    assert again.annotation.version == 2


def test_gold_labels_report_created_and_changed_and_lead_the_consensus(
    comment: Comment, annotator: User, curator: User, topics: dict[str, Topic]
) -> None:
    topic = topics[CM]
    actions.set_stance(actor=annotator, comment=comment, topic=topic, values=LabelValues("favor"))
    created = actions.set_gold(actor=curator, comment=comment, topic=topic, stance="against")
    assert isinstance(created, GoldWrite)
    assert (created.created, created.changed) == (True, True)
    assert consensus(comment, topic) == (Stance.AGAINST, ConsensusStatus.GOLD)
    same = actions.set_gold(actor=curator, comment=comment, topic=topic, stance="against")
    assert (same.created, same.changed) == (False, False)
    noted = actions.set_gold(actor=curator, comment=comment, topic=topic, stance="against", note="see #2")
    assert (noted.created, noted.changed) == (False, True)
    assert [action for kind, action in events(comment) if kind == "gold"] == ["create", "update"]

    assert actions.clear_gold(actor=curator, comment=comment, topic=topic) == Removal(True)
    assert consensus(comment, topic) == (Stance.FAVOR, ConsensusStatus.SINGLE)
    with pytest.raises(GoldLabel.DoesNotExist):
        actions.clear_gold(actor=curator, comment=comment, topic=topic)
    with pytest.raises(PermissionDenied, match="only curators can set gold labels"):
        actions.set_gold(actor=annotator, comment=comment, topic=topic, stance="favor")


def test_the_article_itself_is_an_item_with_the_same_rules(
    cluster_article: Article, annotator: User, topics: dict[str, Topic]
) -> None:
    topic = topics[CM]
    values = LabelValues("against", evidence=(EvidenceSpan(0, 4, cluster_article.body[:4]),))
    result = actions.set_stance(actor=annotator, article=cluster_article, topic=topic, values=values)
    assert (result.created, result.annotation.comment_id, result.annotation.article_id) == (
        True,
        None,
        cluster_article.pk,
    )
    bad = LabelValues("against", evidence=(EvidenceSpan(0, 4, "nope"),))
    with pytest.raises(ValidationError, match="does not match the article body"):
        actions.set_stance(actor=annotator, article=cluster_article, topic=topic, values=bad)


def test_set_parent_says_whether_the_parent_changed(cluster_article: Article, curator: User) -> None:
    comments = comments_by_number(cluster_article)
    reply = comments[5]
    moved = actions.set_parent(actor=curator, comment=reply, parent=comments[2])
    assert moved.changed is (reply.parent_id != comments[2].pk)
    assert moved.comment.parent_id == comments[2].pk
    assert moved.comment.depth == comments[2].depth + 1
    kept = actions.set_parent(actor=curator, comment=reply, parent=comments[2])
    assert not kept.changed
    with pytest.raises(ValidationError, match="cannot answer itself"):
        actions.set_parent(actor=curator, comment=reply, parent=reply)
    with pytest.raises(ValidationError, match="replies answer earlier comments"):
        actions.set_parent(actor=curator, comment=comments[2], parent=comments[9])
