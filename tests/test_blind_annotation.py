"""Blind annotation on the pages' write paths: a refused request learns nothing but that it was refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from annotations.models import Annotation, GoldLabel, Topic
from debate.models import Article
from tests.conftest import comments_by_number, label

pytestmark = pytest.mark.django_db

CM = "cluster-munitions"
HTMX = {"HX-Request": "true"}
SECRET_NOTE = "bob-secret-note-71c2"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def labelled(cluster_article: Article, topics: dict[str, Topic], make_user: Callable[..., User]) -> dict[str, object]:
    comments = comments_by_number(cluster_article)
    bob = make_user("annotator", "bob-the-other")
    label(bob, comments[1], topics[CM], "against", note=SECRET_NOTE)
    return {"ann": make_user("annotator", "ann"), "bob": bob, "labelled": comments[1], "unlabelled": comments[2]}


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
@pytest.mark.parametrize("data", [{"stance": "favor", "note": "mine"}, {"op": "clear"}], ids=["set", "clear"])
def test_an_annotator_posting_a_gold_label_gets_a_403_that_shows_no_label(
    labelled: dict[str, object], data: dict[str, str], headers: dict[str, str]
) -> None:
    client = client_for(labelled["ann"])  # type: ignore[arg-type]
    comment = labelled["labelled"]

    response = client.post(f"/adjudicate/{comment.pk}/{CM}/", data, headers=headers)  # type: ignore[attr-defined]

    body = response.content.decode()
    assert response.status_code == 403
    assert SECRET_NOTE not in body
    assert "bob-the-other" not in body
    assert "Against" not in body
    assert not GoldLabel.objects.exists()
    if headers:
        assert body.strip() == '<p class="error" role="alert">only curators and admins adjudicate</p>'


def test_an_annotator_cannot_tell_labelled_from_unlabelled_items(labelled: dict[str, object]) -> None:
    client = client_for(labelled["ann"])  # type: ignore[arg-type]

    answers = [
        client.post(f"/adjudicate/{labelled[which].pk}/{CM}/", {"op": "clear"}, headers=HTMX)  # type: ignore[attr-defined]
        for which in ("labelled", "unlabelled")
    ]

    assert [answer.status_code for answer in answers] == [403, 403]
    assert answers[0].content == answers[1].content


def test_a_curator_still_adjudicates_through_the_fragment(
    labelled: dict[str, object], make_user: Callable[..., User]
) -> None:
    client = client_for(make_user("curator"))
    comment = labelled["labelled"]

    response = client.post(f"/adjudicate/{comment.pk}/{CM}/", {"stance": "favor"}, headers=HTMX)  # type: ignore[attr-defined]

    assert response.status_code == 200
    assert SECRET_NOTE in response.content.decode()  # curators see every annotator's note
    assert GoldLabel.objects.get().stance == "favor"
    assert Annotation.objects.count() == 1
