"""Lists and threads run a constant number of queries, whatever the page or subtree size, labels included.

In-process (django.test.Client) so that the queries can be counted; the behaviour itself is tested over HTTP
elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from annotations.actions import set_parent
from annotations.models import Annotation, Topic
from debate.models import Article, Comment
from tests.conftest import CLUSTER_MUNITIONS, comments_by_number, label

pytestmark = pytest.mark.django_db

CM = "cluster-munitions"
MAX_QUERIES = 12


@pytest.fixture
def labelled(seeds: dict[str, Article], topics: dict[str, Topic], make_user: Callable[..., User]) -> list[User]:
    """Three annotators with a label on every comment and topic (bulk), plus some through the action."""
    annotators = [make_user("annotator", f"a{i}") for i in range(3)]
    Annotation.objects.bulk_create(
        Annotation(article_id=comment.article_id, comment=comment, topic=topic, annotator=user, stance=stance)
        for user, stance in zip(annotators, ["favor", "against", "favor"], strict=True)
        for comment in Comment.objects.all()
        for topic in topics.values()
    )
    # And through the action, so that consensus rows exist for some items.
    c = comments_by_number(seeds[CLUSTER_MUNITIONS])
    curator = make_user("curator", "cura")
    for number in range(1, 20):
        label(curator, c[number], topics[CM], "neutral")
    return annotators


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def query_counts(client: Client, requests: list[tuple[str, dict[str, Any]]], assert_max: Any) -> list[int]:
    counts = []
    for path, params in requests:
        with assert_max(MAX_QUERIES) as context:
            response = client.get(path, params)
        assert response.status_code == 200, response.content[:300]
        counts.append(len(context.captured_queries))
    return counts


@pytest.mark.parametrize("role", ["annotator", "researcher"])
@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"topic": CM, "stance": "favor", "annotator": "a0"},
        {"unannotated": "true"},
        {"unannotated": "true", "topic": CM},
        {"search": "Ukraine", "has_replies": "false"},
    ],
    ids=["no filter", "annotator", "queue", "queue per topic", "search"],
)
def test_comment_list_with_labels_runs_constant_queries(
    role: str,
    filters: dict[str, str],
    labelled: list[User],
    make_user: Callable[..., User],
    django_assert_max_num_queries: Any,
) -> None:
    user = labelled[0] if role == "annotator" else make_user(role)

    counts = query_counts(
        client_for(user),
        [("/api/comments/", {**filters, "page_size": size}) for size in (1, 10, 1000)],
        django_assert_max_num_queries,
    )

    assert len(set(counts)) == 1, counts


def test_consensus_filter_runs_constant_queries(
    labelled: list[User], make_user: Callable[..., User], django_assert_max_num_queries: Any
) -> None:
    counts = query_counts(
        client_for(make_user("curator")),
        [("/api/comments/", {"topic": CM, "stance": "neutral", "page_size": size}) for size in (1, 10, 1000)],
        django_assert_max_num_queries,
    )

    assert len(set(counts)) == 1, counts


@pytest.mark.parametrize("role", ["annotator", "researcher"])
def test_annotation_list_runs_constant_queries(
    role: str, labelled: list[User], make_user: Callable[..., User], django_assert_max_num_queries: Any
) -> None:
    user = labelled[0] if role == "annotator" else make_user(role)

    counts = query_counts(
        client_for(user),
        [("/api/annotations/", {"page_size": size}) for size in (1, 10, 1000)],
        django_assert_max_num_queries,
    )

    assert len(set(counts)) == 1, counts
    assert Annotation.objects.count() > 500


@pytest.mark.parametrize("role", ["annotator", "researcher"])
def test_thread_runs_constant_queries_whatever_the_subtree_size(
    role: str,
    seeds: dict[str, Article],
    labelled: list[User],
    make_user: Callable[..., User],
    django_assert_max_num_queries: Any,
) -> None:
    c = comments_by_number(seeds[CLUSTER_MUNITIONS])
    curator = User.objects.get(username="cura")
    for number in range(2, 37):  # every comment answers comment 1, the biggest subtree the article allows
        if c[number].parent_id is None:
            set_parent(actor=curator, comment=c[number], parent=c[1])
    user = labelled[0] if role == "annotator" else make_user(role)
    leaf = c[35]  # a leaf with an author, like the others: the both-sides flags are looked up for authors

    counts = query_counts(
        client_for(user),
        [(f"/api/threads/{leaf.pk}/", {}), (f"/api/threads/{c[3].pk}/", {}), (f"/api/threads/{c[1].pk}/", {})],
        django_assert_max_num_queries,
    )

    assert len(set(counts)) == 1, counts


def test_history_runs_constant_queries(
    labelled: list[User], make_user: Callable[..., User], django_assert_max_num_queries: Any
) -> None:
    counts = query_counts(
        client_for(make_user("researcher")),
        [("/api/history/", {"page_size": size}) for size in (1, 10, 1000)],
        django_assert_max_num_queries,
    )

    assert len(set(counts)) == 1, counts


@pytest.mark.parametrize("role", ["annotator", "researcher"])
@pytest.mark.parametrize(
    "filters",
    [{}, {"topic": CM, "annotator": "a0", "stance": "favor"}, {"unannotated": "true"}],
    ids=["no filter", "annotator", "unlabelled"],
)
def test_article_list_with_the_articles_own_labels_runs_constant_queries(
    role: str,
    filters: dict[str, str],
    seeds: dict[str, Article],
    labelled: list[User],
    make_user: Callable[..., User],
    django_assert_max_num_queries: Any,
) -> None:
    for article in seeds.values():
        for user in labelled:
            label(user, article, Topic.objects.get(slug=CM), "favor")
    user = labelled[0] if role == "annotator" else make_user(role)

    counts = query_counts(
        client_for(user),
        [("/api/articles/", {**filters, "page_size": size}) for size in (1, 3, 1000)],
        django_assert_max_num_queries,
    )

    assert len(set(counts)) == 1, counts
