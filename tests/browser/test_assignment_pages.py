"""The curators' assignment page, and the dashboard's summary of it, in a real browser."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from annotations.models import Assignment, AssignmentSettings, Topic
from debate.models import Article
from tests.browser.conftest import screenshot

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
