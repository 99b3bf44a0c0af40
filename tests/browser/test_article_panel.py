"""The article itself in the browser: its panel at the top of the thread page, labelled by keyboard and mouse
like a comment's (evidence from the article text included), adjudicated, in the queue, at two widths."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from annotations.models import Annotation, Consensus, Topic
from debate.models import Article
from tests.browser.conftest import screenshot, wait_saved
from tests.conftest import label

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ABANDON_THE_BANS = "003_fe0cb380292f74eb.txt"  # "... Must Abandon Bans on Landmines and Cluster Munitions", no comments


def article_button(page: Page, article: Article, topic: str, stance: str):
    return page.locator(f"#a{article.pk} [data-topic-row][data-topic='{topic}'] .stance--{stance}")


def own_labels(user, article: Article) -> dict[str, str]:
    rows = Annotation.objects.filter(annotator=user, article=article, comment=None)
    return dict(rows.values_list("topic__slug", "stance"))


def test_two_annotators_label_a_comment_less_article_and_a_curator_adjudicates(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic], seeds: dict[str, Article]
) -> None:
    article = seeds[ABANDON_THE_BANS]
    first, second = make_user("annotator", "kira"), make_user("annotator", "lev")

    # Keyboard: the article is current on arrival; 2 = against, t = next topic, u = unsure, e = evidence.
    page = open_as(first)
    page.goto(f"/articles/{article.pk}/")
    expect(page.locator(f"#a{article.pk}")).to_have_class(re.compile(r"\bis-current\b"))
    expect(page.locator(f"#a{article.pk} .article-body")).to_have_attribute("open", "")
    expect(page.locator("main")).to_contain_text("This article has no comments.")
    page.keyboard.press("2")
    expect(article_button(page, article, "cluster-munitions", "against")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("u")
    expect(page.locator(f"#a{article.pk} [data-topic='cluster-munitions'] [data-unsure]")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.evaluate(
        """(id) => {
            const segment = Array.from(document.querySelectorAll(`#a${id} .seg`))
                .find((element) => element.textContent.includes("proven decisive"));
            const text = segment.firstChild;
            const from = text.data.indexOf("proven decisive");
            const range = document.createRange();
            range.setStart(text, from);
            range.setEnd(text, from + "proven decisive".length);
            window.getSelection().removeAllRanges();
            window.getSelection().addRange(range);
        }""",
        article.pk,
    )
    page.keyboard.press("e")
    expect(page.locator(f"#a{article.pk} [data-topic='cluster-munitions'] .evidence li")).to_have_count(1)
    for key in ("t", "4", "t", "4"):
        page.keyboard.press(key)
    expect(page.locator(f"#a{article.pk} [data-panel]")).to_have_attribute("data-complete", "true")

    wait_saved(page)
    label = Annotation.objects.get(annotator=first, article=article, comment=None, topic__slug="cluster-munitions")
    start = article.body.index("proven decisive")
    assert (label.stance, label.unsure, label.evidence) == (
        "against",
        True,
        [{"start": start, "end": start + len("proven decisive"), "text": "proven decisive"}],
    )
    assert own_labels(first, article) == {
        "cluster-munitions": "against",
        "strikes-in-russia": "not_about",
        "trainers-in-ukraine": "not_about",
    }

    # Mouse, and blind: the second annotator sees none of the first one's choices.
    page = open_as(second)
    page.goto(f"/articles/{article.pk}/")
    expect(page.locator(f"#a{article.pk} .stance[aria-pressed='true']")).to_have_count(0)
    expect(page.locator(".consensus")).to_have_count(0)
    article_button(page, article, "cluster-munitions", "favor").click()
    expect(article_button(page, article, "cluster-munitions", "favor")).to_have_attribute("aria-pressed", "true")
    wait_saved(page)
    assert own_labels(second, article) == {"cluster-munitions": "favor"}
    consensus = Consensus.objects.get(article=article, comment=None, topic__slug="cluster-munitions")
    assert (consensus.stance, consensus.status, consensus.n) == (None, "unresolved", 2)

    # The curator sees the disagreement on the article itself and settles it with a gold label.
    page = open_as(make_user("curator", "cleo"))
    page.goto(f"/adjudicate/?article={article.pk}")
    item = page.locator(f"#item-a{article.pk}-cluster-munitions")
    expect(item).to_contain_text("The article itself")
    expect(item.locator(".labels-side-by-side")).to_contain_text("proven decisive")
    item.locator(".gold-form .stance--against").click()
    expect(page.locator(f"#item-a{article.pk}-cluster-munitions")).to_have_class(re.compile(r"\bis-resolved\b"))
    consensus.refresh_from_db()
    assert (consensus.stance, consensus.status) == ("against", "gold")
    page.goto(f"/articles/{article.pk}/")
    expect(page.locator(f"#a{article.pk} [data-topic='cluster-munitions'] .consensus")).to_contain_text("Against")


def test_the_queue_starts_with_the_article_itself_and_counts_it(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic], seeds: dict[str, Article]
) -> None:
    annotator = make_user("annotator")
    first_article = min(seeds.values(), key=lambda article: article.pk)
    page = open_as(annotator)
    page.goto("/annotate/")

    expect(page.locator("[data-comment]")).to_have_attribute("id", f"a{first_article.pk}")
    expect(page.locator(".progress-line")).to_contain_text("0 of 62 items done")
    for key in ("3", "t", "3", "t", "3"):
        page.keyboard.press(key)
    expect(page.locator("[data-panel]")).to_have_attribute("data-complete", "true")
    page.keyboard.press("n")
    expect(page.locator(".progress-line")).to_contain_text("1 of 62 items done")
    expect(page.locator("[data-comment]")).to_have_attribute("id", re.compile(r"^c\d+$"))
    wait_saved(page)  # `n` moved on at once; the writes finish in the background
    assert set(own_labels(annotator, first_article).values()) == {"neutral"}


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_screenshots_of_the_thread_page_with_the_article_panel(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic], seeds: dict[str, Article], width, height
) -> None:
    article = seeds["000_e41b44eaa1304eb1.txt"]
    curator = make_user("curator", "cora")
    annotator = make_user("annotator", "abe")
    for user, stance in ((curator, "against"), (annotator, "against")):
        label(user, article, topics["cluster-munitions"], stance)
    label(curator, article, topics["strikes-in-russia"], "not_about", unsure=True)
    page = open_as(curator, width=width)
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"/articles/{article.pk}/")
    page.wait_for_load_state("networkidle")

    panel = page.locator(f"#a{article.pk} [data-panel]")
    expect(panel).to_be_visible()
    expect(panel.locator("[data-topic='cluster-munitions'] .consensus")).to_contain_text("unanimous")
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    shot = screenshot(page, f"thread-article-panel-{width}x{height}")
    assert shot.stat().st_size > 10_000
    page.locator(f"#a{article.pk} .stance-summary summary").click()
    expect(page.locator(f"#a{article.pk} .stance-summary table")).to_contain_text("against")
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    screenshot(page, f"thread-article-summary-{width}x{height}")


def test_every_article_is_labelled_in_the_browser_by_two_annotators(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic], seeds: dict[str, Article]
) -> None:
    pages = {"ann-1": open_as(make_user("annotator", "ann-1")), "ann-2": open_as(make_user("annotator", "ann-2"))}

    for article in seeds.values():
        for key, page in zip(("2", "3"), pages.values(), strict=True):  # against, neutral
            page.goto(f"/articles/{article.pk}/")
            page.keyboard.press(key)
            stance = {"2": "against", "3": "neutral"}[key]
            expect(article_button(page, article, "cluster-munitions", stance)).to_have_attribute("aria-pressed", "true")
            wait_saved(page)

    for article in seeds.values():
        labels = Annotation.objects.filter(article=article, comment=None, topic__slug="cluster-munitions")
        assert sorted(labels.values_list("annotator__username", "stance")) == [
            ("ann-1", "against"),
            ("ann-2", "neutral"),
        ]
        consensus = Consensus.objects.get(article=article, comment=None, topic__slug="cluster-munitions")
        assert (consensus.status, consensus.n) == ("unresolved", 2)
