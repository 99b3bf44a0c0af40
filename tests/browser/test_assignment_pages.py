"""The curators' assignment page, and the dashboard's summary of it, in a real browser."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Locator, Page, expect

from annotations.actions import set_gold
from annotations.assignment.actions import mark_qualification_item, update_assignment_settings
from annotations.guidelines import revise_guidelines
from annotations.models import Assignment, AssignmentReason, AssignmentSettings, Topic
from debate.models import Article, Comment
from tests.browser.conftest import screenshot
from tests.conftest import CLUSTER_MUNITIONS, comments_by_number, label

GOLD = {1: "favor", 2: "not_about"}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_curator_sets_the_overlap_and_sees_each_annotators_share(
    open_as: Callable[..., Page],
    make_user: Callable[..., User],
    seeds: dict[str, Article],
    topics: dict[str, Topic],
) -> None:
    for name in ("ana", "ben", "cai"):
        make_user("annotator", name)
    page = open_as(make_user("curator", "cora"))
    page.get_by_role("link", name="Assignment").click()
    expect(page.locator("h1")).to_have_text("Assignment")
    expect(page.locator("[data-mode]")).to_contain_text("Everyone labels everything")
    expect(page.get_by_label("Overlap sample (% of items)")).to_have_value("100.0")
    summary = page.locator("#assignment-summary")
    expect(summary.locator("tbody tr")).to_have_count(3)
    expect(summary.locator("tr[data-annotator=ana] [data-assigned]")).to_have_text("57")

    page.get_by_label("Overlap sample (% of items)").fill("20")
    page.get_by_label("Annotators per overlap item").fill("2")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".messages")).to_contain_text("Assignment settings saved")
    expect(page.locator("[data-mode]")).to_contain_text("Work is assigned")
    settings = AssignmentSettings.current()
    assert (settings.overlap_share, settings.overlap_annotators) == (0.2, 2)
    # 57 comments: 11 in the overlap sample, twice each, and 46 single ones: 68 places for three annotators.
    shares = [Assignment.objects.filter(annotator__username=name).count() for name in ("ana", "ben", "cai")]
    assert sum(shares) == 68, shares
    assert max(shares) - min(shares) <= 1, shares
    for name, share in zip(("ana", "ben", "cai"), shares, strict=True):
        expect(summary.locator(f"tr[data-annotator={name}] [data-assigned]")).to_have_text(str(share))
    screenshot(page, "assignment-settings-1280")

    # The browser refuses an out-of-range share before sending it (the server refuses it too: test_assignment).
    page.get_by_label("Overlap sample (% of items)").fill("120")
    page.get_by_role("button", name="Save settings").click()
    assert page.get_by_label("Overlap sample (% of items)").evaluate("input => input.validity.rangeOverflow")
    assert AssignmentSettings.current().overlap_share == 0.2
    page.reload()

    page.locator("tr[data-annotator=cai]").get_by_role("button", name="Pause").click()
    expect(page.locator("tr[data-annotator=cai] [data-standing]")).to_contain_text("paused")
    shares = [Assignment.objects.filter(annotator__username=name).count() for name in ("ana", "ben")]
    assert sum(shares) == 11 * 2 + 46, shares

    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("#assignment-summary tr[data-annotator=ana] [data-assigned]")).to_have_text(str(shares[0]))
    expect(page.locator("[data-agreement-sample=overlap]")).to_contain_text("overlap sample")
    screenshot(page, "assignment-dashboard-1280")


def test_annotators_cannot_open_the_assignment_page(
    open_as: Callable[..., Page], make_user: Callable[..., User], topics: dict[str, Topic]
) -> None:
    page = open_as(make_user("annotator", "ana"))
    expect(page.get_by_role("link", name="Assignment")).to_have_count(0)
    response = page.goto("/assignment/")
    assert response is not None
    assert response.status == 403


def _stance(page: Page, comment_id: int, topic: str, stance: str) -> Locator:
    return page.locator(f"#c{comment_id} [data-topic-row][data-topic='{topic}'] .stance--{stance}")


def test_a_new_annotator_qualifies_seeing_each_gold_answer_then_reaches_the_queue(
    open_as: Callable[..., Page],
    make_user: Callable[..., User],
    seeds: dict[str, Article],
    topics: dict[str, Topic],
) -> None:
    curator = make_user("curator", "cora")
    comments = comments_by_number(seeds[CLUSTER_MUNITIONS])
    gold = {comments[number].pk: GOLD[number] for number in (1, 2)}
    for comment_id, stance in gold.items():
        for topic in topics.values():
            set_gold(actor=curator, comment=Comment.objects.get(pk=comment_id), topic=topic, stance=stance)
        mark_qualification_item(actor=curator, comment=Comment.objects.get(pk=comment_id))
    update_assignment_settings(
        actor=curator, values={"qualification_required": True, "qualification_size": 2, "qualification_pass": 0.5}
    )
    newbie = make_user("annotator", "newbie")
    page = open_as(newbie)
    page.get_by_role("link", name="Queue").click()
    expect(page.locator("h1")).to_have_text("Qualification")
    expect(page.locator(".notice")).to_contain_text("After each one you see the gold answer")
    order = list(
        Assignment.objects.filter(annotator=newbie, reason=AssignmentReason.QUALIFICATION)
        .order_by("position")
        .values_list("comment_id", flat=True)
    )
    assert set(order) == set(gold)
    screenshot(page, "qualification-item-1280")

    # The first answered wrongly on cluster munitions, rightly elsewhere; the second all right.
    for index, comment_id in enumerate(order):
        expect(page.locator("[data-comment]")).to_have_attribute("id", f"c{comment_id}")
        for slug in topics:
            stance = gold[comment_id]
            if index == 0 and slug == "cluster-munitions":
                stance = "against" if stance != "against" else "favor"
            _stance(page, comment_id, slug, stance).click()
            expect(_stance(page, comment_id, slug, stance)).to_have_attribute("aria-pressed", "true")
        page.get_by_role("link", name="Next unfinished").click()
        feedback = page.locator(f"[data-feedback='{comment_id}']")
        expect(feedback).to_contain_text("and the gold answer")
        if index == 0:
            expect(feedback.locator(".feedback-wrong")).to_contain_text("Cluster munitions")
            expect(feedback.locator(".feedback-guidelines[open]")).to_contain_text("Guidelines: Cluster munitions")
            screenshot(page, "qualification-feedback-1280")
    # 5 of 6 answers right: passed, and the real queue opened right after the last gold answer.
    expect(page.locator("h1")).to_have_text("Your queue")
    expect(page.locator("[data-comment]")).to_have_count(1)
    expect(page.locator(".progress-line")).to_contain_text("of 62 items done")  # 57 comments and 5 articles
    screenshot(page, "qualification-passed-queue-1280")

    page_as_curator = open_as(curator)
    page_as_curator.goto("/assignment/")
    expect(page_as_curator.locator("tr[data-annotator=newbie] [data-qualification]")).to_have_text("Passed (5/6)")


def test_the_browse_filter_finds_labels_made_under_older_guidelines(
    open_as: Callable[..., Page],
    make_user: Callable[..., User],
    seeds: dict[str, Article],
    topics: dict[str, Topic],
) -> None:
    ann = make_user("annotator", "ann")
    comments = comments_by_number(seeds[CLUSTER_MUNITIONS])
    for number in (1, 2, 3):
        label(ann, comments[number], topics["cluster-munitions"], "favor")
    revise_guidelines(
        actor=make_user("admin", "root"),
        topic=topics["cluster-munitions"],
        statement=topics["cluster-munitions"].statement,
        guidelines=topics["cluster-munitions"].guidelines + "\nDud rates alone are **neutral**.",
        note="dud rates",
    )
    label(ann, comments[4], topics["cluster-munitions"], "against")
    page = open_as(ann)
    page.get_by_role("link", name="Browse").click()
    page.get_by_label("Labelled under older guidelines").check()
    page.get_by_role("button", name="Filter", exact=True).click()
    results = page.locator("[data-comment]")
    expect(results).to_have_count(3)
    for number in (1, 2, 3):
        expect(page.locator(f"[data-comment-id='{comments[number].pk}']")).to_have_count(1)
    expect(page.locator(f"[data-comment-id='{comments[1].pk}'] [data-outdated]")).to_have_text("older guidelines")
    screenshot(page, "browse-outdated-1280")
    filtered = page.url

    # Confirming a label under the new guidelines (its stance again, in the thread) takes it off the list.
    page.goto(f"/articles/{comments[1].article_id}/?at={comments[1].pk}")
    expect(page.locator(f"#c{comments[1].pk} [data-outdated]")).to_have_text("older guidelines")
    _stance(page, comments[1].pk, "cluster-munitions", "favor").click()
    expect(page.locator(f"#c{comments[1].pk} [data-outdated]")).to_have_count(0)
    page.goto(filtered)
    expect(page.locator("[data-comment]")).to_have_count(2)
