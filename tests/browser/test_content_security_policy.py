"""Every page works under the Content-Security-Policy, and the browser reports no violation on any of them.

Chromium reports each blocked script, style or image as a `securitypolicyviolation` event and a console error;
both are collected from the first byte of every page (an init script), through htmx swaps and the API docs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import ConsoleMessage, Page, expect

from annotations.models import Topic
from debate.models import Article
from tests.browser.conftest import screenshot
from tests.conftest import STRIKES_IN_RUSSIA

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


def watch(page: Page) -> list[str]:
    """Console errors of the page from now on (CSP violations among them)."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.context.add_init_script(RECORD_VIOLATIONS)
    return errors


def violations(page: Page) -> list[str]:
    recorded = page.evaluate("window.__cspViolations")
    assert isinstance(recorded, list), "the recording script did not run on this page"
    return recorded


def test_every_page_works_under_the_policy_without_a_violation(
    open_as: Callable[..., Page],
    make_user: Callable[..., User],
    topics: dict[str, Topic],
    seeds: dict[str, Article],
    live_server: Any,
) -> None:
    topic = topics["trainers-in-ukraine"]
    topic.guidelines = "See ![the chart](https://images.example.org/chart.png) and **read** it all."
    topic.save()
    article = seeds[STRIKES_IN_RUSSIA]
    page = open_as(make_user("admin", "boss"))
    errors = watch(page)

    # The article list, a thread with an htmx label write and the guidelines dialog.
    page.goto("/")
    expect(page.locator("h1")).to_be_visible()
    page.goto(f"/articles/{article.pk}/")
    first = page.locator("[data-comment]").first
    first.locator("[data-guidelines='trainers-in-ukraine']").click()
    dialog = page.locator("#guidelines-trainers-in-ukraine")
    expect(dialog.locator("strong")).to_have_text("read")
    assert dialog.locator("img").get_attribute("src") is None  # the other host's image is gone
    screenshot(page, "csp-thread-guidelines")
    page.keyboard.press("Escape")
    button = first.locator("[data-topic-row][data-topic='cluster-munitions'] .stance--favor")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    assert violations(page) == []

    pages = [
        "/queue/",
        "/browse/",
        "/adjudicate/",
        "/assignment/",
        "/dashboard/",
        "/admin/",
        "/admin/auth/user/",
        "/api/docs/",
    ]
    for path in pages:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert violations(page) == [], path
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Debate annotator API")
    screenshot(page, "csp-api-docs")

    assert [error for error in errors if "Content Security Policy" in error] == []


def test_an_inline_script_is_refused_by_the_browser(
    open_as: Callable[..., Page], make_user: Callable[..., User]
) -> None:
    """The policy is really enforced: a script injected into a page does not run."""
    page = open_as(make_user("annotator"))
    errors = watch(page)
    page.goto("/")

    page.evaluate(
        """() => { const script = document.createElement("script");
                   script.textContent = "window.__injected = true"; document.body.append(script); }"""
    )

    assert page.evaluate("window.__injected") is None
    assert any("script-src" in violation for violation in violations(page))
    assert any("Content Security Policy" in error for error in errors)
