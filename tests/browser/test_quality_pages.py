"""The disagreement queue and the dashboard in a real browser."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from annotations.models import ChangeEvent, Consensus, GoldLabel, Topic
from debate.models import Article, Comment
from tests.browser.conftest import screenshot
from tests.conftest import CLUSTER_MUNITIONS, label

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def disagreements(make_user, topics: dict[str, Topic], seeds: dict[str, Article]) -> list[Comment]:
    """Comments 1-6 of the cluster-munitions thread: three annotators who split on cluster munitions."""
    annotators = [make_user("annotator", name) for name in ("ana", "ben", "cai")]
    article = seeds[CLUSTER_MUNITIONS]
    items = list(Comment.objects.filter(article=article, number__lte=6).order_by("number"))
    for item in items:
        for annotator, stance in zip(annotators, ["favor", "against", "neutral"], strict=True):
            label(annotator, item, topics["cluster-munitions"], stance)
            label(annotator, item, topics["strikes-in-russia"], "not_about")
    label(annotators[0], items[0], topics["cluster-munitions"], "favor", note="see the last line")
    return items


def test_curator_resolves_a_disagreement_into_gold_from_the_queue(
    open_as: Callable[..., Page], make_user, disagreements: list[Comment], topics: dict[str, Topic]
) -> None:
    curator = make_user("curator", "cora")
    page = open_as(curator)
    page.goto("/adjudicate/")

    expect(page.locator("[data-item]")).to_have_count(6)
    first = page.locator(f"#item-{disagreements[0].pk}-cluster-munitions")
    expect(first.locator(".labels-side-by-side tbody tr")).to_have_count(3)
    expect(first.locator(".labels-side-by-side")).to_contain_text("see the last line")
    expect(first).to_contain_text("unresolved")
    screenshot(page, "adjudicate-1280")

    # Enter in the note makes a new line; it must not submit the form (whose first button would set favor).
    note = first.locator("[name=note]")
    note.fill("the last line")
    note.press("Enter")
    note.press_sequentially("is ironic")
    expect(note).to_have_value("the last line\nis ironic")
    assert not GoldLabel.objects.exists()
    note.fill("the last line is ironic")
    first.get_by_role("button", name="Against").click()
    resolved = page.locator(f"#item-{disagreements[0].pk}-cluster-munitions")
    expect(resolved).to_have_class("adjudication is-resolved")
    expect(resolved.get_by_role("button", name="Against")).to_have_attribute("aria-pressed", "true")
    expect(resolved).to_contain_text("Gold label: Against by cora")

    gold = GoldLabel.objects.get(comment=disagreements[0], topic=topics["cluster-munitions"])
    assert (gold.stance, gold.note, gold.set_by) == ("against", "the last line is ironic", curator)
    consensus = Consensus.objects.get(comment=disagreements[0], topic=topics["cluster-munitions"])
    assert (consensus.status, consensus.stance) == ("gold", "against")
    assert ChangeEvent.objects.filter(kind="gold", actor_username="cora").count() == 1

    page.reload()  # resolved items leave the default (unresolved) queue
    expect(page.locator("[data-item]")).to_have_count(5)
    page.select_option("#a-status", "gold")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("[data-item]")).to_have_count(1)


def test_annotators_cannot_open_the_disagreement_queue(
    open_as: Callable[..., Page], make_user, disagreements: list[Comment]
) -> None:
    page = open_as(make_user("annotator"))
    response = page.goto("/adjudicate/")

    assert response is not None
    assert response.status == 403
    expect(page.locator("nav").get_by_role("link", name="Adjudicate")).to_have_count(0)


def test_dashboard_shows_agreement_distribution_progress_and_a_confusion_matrix(
    open_as: Callable[..., Page], make_user, disagreements: list[Comment], topics: dict[str, Topic]
) -> None:
    page = open_as(make_user("researcher"))
    page.goto("/dashboard/")

    expect(page.locator("svg.chart")).to_have_count(3)
    # Six items each split three ways: 1 - (n - 1) * 18 / (18^2 - 3 * 6^2) = 1 - 17 * 18 / 216 = -0.417.
    expect(page.locator("[data-alpha='cluster-munitions']")).to_have_text("-0.417")
    expect(page.locator("[data-alpha='strikes-in-russia']")).to_have_text("–")  # every label the same: undefined
    expect(page.locator(".heatmap tbody tr")).to_have_count(4)
    expect(page.locator(".heatmap")).to_contain_text("favor")
    page.select_option("#cm-a", "ben")
    page.select_option("#cm-b", "cai")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".heatmap")).to_have_attribute(
        "aria-label", "Labels of ben (rows) against cai (columns), Cluster munitions"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 1281
    screenshot(page, "dashboard-1280")
    page.set_viewport_size({"width": 390, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 391
    screenshot(page, "dashboard-390")


def test_an_annotator_sees_only_their_own_progress_on_the_dashboard(
    open_as: Callable[..., Page], disagreements: list[Comment]
) -> None:
    from django.contrib.auth.models import User

    page = open_as(User.objects.get(username="ben"))
    page.goto("/dashboard/")

    expect(page.locator("svg.chart")).to_have_count(0)
    expect(page.locator("main")).to_contain_text(
        "0 of 57 comments and 0 of 5 articles labelled on every topic; 12 labels in all."
    )
    expect(page.locator("main")).not_to_contain_text("ana")
    expect(page.locator("main")).not_to_contain_text("cai")
