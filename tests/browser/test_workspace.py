"""The annotation workspace in a real browser: keyboard and mouse labelling, evidence, filters, blindness."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect

from annotations.models import Annotation, Topic
from debate.actions import import_document
from debate.models import Article, Comment
from tests.browser.conftest import screenshot, wait_saved
from tests.conftest import CLUSTER_MUNITIONS, STRIKES_IN_RUSSIA, label

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOPIC_ORDER = ["cluster-munitions", "strikes-in-russia", "trainers-in-ukraine"]

HOSTILE_DOCUMENT = """Emoji and markup

An article that gives the comments something to quote.

  1. Олена says:

    Привіт 😀 cluster munitions 🇺🇦 save lives, so send them.

  2. Mallory says:

    <script>window.__xss = 1</script> and <img src=x onerror="window.__xss = 2"> stay text.
"""


def comment(article: Article, number: int) -> Comment:
    return Comment.objects.get(article=article, number=number)


def panel(page: Page, target: Comment):
    return page.locator(f"#c{target.pk} [data-panel]")


def stance_button(page: Page, target: Comment, topic: str, stance: str):
    return page.locator(f"#c{target.pk} [data-topic-row][data-topic='{topic}'] .stance--{stance}")


def my_labels(user, target: Comment) -> dict[str, str]:
    return dict(Annotation.objects.filter(annotator=user, comment=target).values_list("topic__slug", "stance"))


def test_label_one_comment_by_keyboard_and_another_by_mouse_and_both_persist(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic], seeds: dict[str, Article]
) -> None:
    annotator = make_user("annotator", "olga")
    article = seeds[STRIKES_IN_RUSSIA]
    first, second = comment(article, 1), comment(article, 2)
    page = open_as(annotator)
    page.goto(f"/articles/{article.pk}/")

    # Keyboard only: the article itself is current on arrival, j moves to the first comment; 1-4 set a stance,
    # t moves to the next topic.
    expect(page.locator(f"#a{article.pk}")).to_have_class(re.compile(r"\bis-current\b"))
    page.keyboard.press("j")
    expect(page.locator(f"#c{first.pk}")).to_have_class(re.compile(r"\bis-current\b"))
    for key in ("1", "t", "2", "t", "4"):
        page.keyboard.press(key)
        if key != "t":
            expect(panel(page, first).locator(".stance[aria-pressed='true']")).to_have_count("124".index(key) + 1)
    expect(stance_button(page, first, "trainers-in-ukraine", "not_about")).to_have_attribute("aria-pressed", "true")

    # Mouse: click buttons on the second comment.
    stance_button(page, second, "cluster-munitions", "neutral").click()
    expect(stance_button(page, second, "cluster-munitions", "neutral")).to_have_attribute("aria-pressed", "true")
    stance_button(page, second, "strikes-in-russia", "favor").click()
    expect(stance_button(page, second, "strikes-in-russia", "favor")).to_have_attribute("aria-pressed", "true")

    wait_saved(page)
    assert my_labels(annotator, first) == {
        "cluster-munitions": "favor",
        "strikes-in-russia": "against",
        "trainers-in-ukraine": "not_about",
    }
    assert my_labels(annotator, second) == {"cluster-munitions": "neutral", "strikes-in-russia": "favor"}

    page.reload()
    for topic, stance in my_labels(annotator, first).items():
        expect(stance_button(page, first, topic, stance)).to_have_attribute("aria-pressed", "true")
    expect(stance_button(page, second, "strikes-in-russia", "favor")).to_have_attribute("aria-pressed", "true")
    expect(stance_button(page, second, "trainers-in-ukraine", "favor")).to_have_attribute("aria-pressed", "false")
    expect(panel(page, first)).to_have_attribute("data-complete", "true")


def test_keyboard_moves_between_comments_and_topics_and_marks_the_current_ones(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic], seeds: dict[str, Article]
) -> None:
    article = seeds[CLUSTER_MUNITIONS]
    ordered = list(Comment.objects.filter(article=article).order_by("thread_order"))
    page = open_as(make_user("annotator"))
    page.goto(f"/articles/{article.pk}/")

    page.keyboard.press("j")  # from the article itself to the first comment
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    current = page.locator(".comment.is-current")
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("id", f"c{ordered[1].pk}")

    page.keyboard.press("t")
    expect(current.locator(".topic-row.is-current-topic")).to_have_attribute("data-topic", "strikes-in-russia")
    page.keyboard.press("Shift+T")
    expect(current.locator(".topic-row.is-current-topic")).to_have_attribute("data-topic", "cluster-munitions")
    expect(page.locator("#workspace-status")).to_contain_text(f"#{ordered[1].number}")
    expect(page.locator("#workspace-status")).to_contain_text("Cluster munitions")

    page.keyboard.press("u")  # no label yet: nothing to mark unsure, and nothing is written
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    expect(page.locator("#help")).to_contain_text("next comment I have not finished")
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()
    assert not Annotation.objects.exists()


def test_shortcuts_do_not_fire_while_typing_a_note(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic], seeds: dict[str, Article]
) -> None:
    annotator = make_user("annotator")
    article = seeds[STRIKES_IN_RUSSIA]
    target = comment(article, 1)
    label(annotator, target, topics["cluster-munitions"], "favor")
    page = open_as(annotator)
    page.goto(f"/articles/{article.pk}/")

    row = page.locator(f"#c{target.pk} [data-topic='cluster-munitions']")
    row.locator("details.note summary").click()
    note = row.locator("textarea")
    note.click()
    page.keyboard.type("j 2 k t 4 n u ?")
    expect(note).to_have_value("j 2 k t 4 n u ?")
    expect(page.locator("#help")).to_be_hidden()
    with page.expect_response(lambda response: f"/comments/{target.pk}/annotations/" in response.url) as saved:
        row.get_by_role("button", name="Save note").click()
    assert saved.value.status == 200
    wait_saved(page)
    expect(page.locator(f"#c{target.pk} [data-topic='cluster-munitions'] textarea")).to_have_value("j 2 k t 4 n u ?")

    stored = Annotation.objects.get(annotator=annotator, comment=target)
    assert stored.stance == "favor"
    assert stored.note == "j 2 k t 4 n u ?"
    assert Annotation.objects.filter(annotator=annotator).count() == 1


def test_evidence_across_an_emoji_is_stored_in_code_points(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic]
) -> None:
    annotator = make_user("annotator")
    article = Article.objects.get(pk=import_document(source="hostile.txt", data=HOSTILE_DOCUMENT.encode()).article_id)
    target = comment(article, 1)
    page = open_as(annotator)
    page.goto(f"/articles/{article.pk}/#c{target.pk}")  # the comment, not the article itself, is current
    page.keyboard.press("1")  # favor on cluster munitions: evidence needs a label
    expect(stance_button(page, target, "cluster-munitions", "favor")).to_have_attribute("aria-pressed", "true")

    # Select from the grinning face to the end of the flag, as a reader would with the mouse.
    page.evaluate(
        """(id) => {
            const segment = document.querySelector(`#c${id} .seg`);
            const text = segment.firstChild;
            const from = text.data.indexOf("😀");
            const to = text.data.indexOf("🇺🇦") + "🇺🇦".length;
            const range = document.createRange();
            range.setStart(text, from);
            range.setEnd(text, to);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
        }""",
        target.pk,
    )
    page.keyboard.press("e")
    expect(page.locator(f"#c{target.pk} [data-topic='cluster-munitions'] .evidence li")).to_have_count(1)

    body = target.body
    start = body.index("😀")
    end = body.index("🇺🇦") + len("🇺🇦")
    wait_saved(page)
    label = Annotation.objects.get(annotator=annotator, comment=target)
    assert label.evidence == [{"start": start, "end": end, "text": "😀 cluster munitions 🇺🇦"}]
    assert body[start:end] == "😀 cluster munitions 🇺🇦"
    # The browser counts UTF-16 units: the emoji is 2 there, the flag 4, so its offsets would be 25 long, not 22.
    assert start == len("Привіт ") == 7
    assert end - start == 22
    assert page.evaluate("'😀 cluster munitions 🇺🇦'.length") == 25


def test_evidence_button_with_a_mouse_selection_spanning_two_lines(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic], seeds: dict[str, Article]
) -> None:
    annotator = make_user("annotator")
    article = seeds[STRIKES_IN_RUSSIA]
    target = comment(article, 16)  # JohnSF's comment: several lines in one paragraph
    label(annotator, target, topics["strikes-in-russia"], "against")
    page = open_as(annotator)
    page.goto(f"/articles/{article.pk}/#c{target.pk}")

    segments = page.locator(f"#c{target.pk} .seg")
    first_line, second_line = segments.nth(0), segments.nth(1)
    first_box, second_box = first_line.bounding_box(), second_line.bounding_box()
    assert first_box is not None
    assert second_box is not None
    page.mouse.move(first_box["x"] + 1, first_box["y"] + first_box["height"] / 2)
    page.mouse.down()
    page.mouse.move(second_box["x"] + second_box["width"] - 1, second_box["y"] + second_box["height"] / 2, steps=8)
    page.mouse.up()
    page.locator(f"#c{target.pk} [data-topic='strikes-in-russia'] [data-evidence-button]").click()
    expect(page.locator(f"#c{target.pk} [data-topic='strikes-in-russia'] .evidence li")).to_have_count(1)

    wait_saved(page)
    span = Annotation.objects.get(annotator=annotator, comment=target).evidence[0]
    opening = target.body.split("\n")[0]
    assert span["start"] == 0
    assert span["text"] == target.body[span["start"] : span["end"]]
    # The selection crossed the line break, so the span holds the whole first line, the break and more.
    assert span["text"].startswith(opening + "\n")
    assert span["end"] > len(opening) + 10


def test_markup_in_a_comment_is_shown_as_text(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic]
) -> None:
    article = Article.objects.get(pk=import_document(source="hostile.txt", data=HOSTILE_DOCUMENT.encode()).article_id)
    target = comment(article, 2)
    page = open_as(make_user("researcher"))
    page.goto(f"/articles/{article.pk}/")

    body = page.locator(f"#c{target.pk} .comment-body")
    expect(body).to_contain_text('<script>window.__xss = 1</script> and <img src=x onerror="window.__xss = 2">')
    expect(body.locator("script, img")).to_have_count(0)
    assert page.evaluate("window.__xss") is None
    page.goto("/browse/?search=stay")
    expect(page.locator(".result")).to_have_count(1)
    assert page.evaluate("window.__xss") is None


def test_a_second_annotator_does_not_see_the_first_ones_labels(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic], seeds: dict[str, Article]
) -> None:
    first, second = make_user("annotator", "first"), make_user("annotator", "second")
    article = seeds[CLUSTER_MUNITIONS]
    for number in (1, 2, 3):
        for topic in topics.values():
            label(first, comment(article, number), topic, "favor")
    page = open_as(second)

    expect(page.locator(".article-card").first.locator(".mix-part")).to_have_count(0)
    expect(page.locator(".article-card").first.locator(".count").first).to_have_text(
        "0/37"
    )  # the article and its 36 comments
    page.goto(f"/articles/{article.pk}/")
    expect(page.locator(".stance[aria-pressed='true']")).to_have_count(0)
    expect(page.locator(".consensus")).to_have_count(0)
    assert "favor (" not in page.content().lower()
    page.goto("/browse/?topic=cluster-munitions&stance=favor")
    expect(page.locator(".result")).to_have_count(0)
    expect(page.locator("#f-annotator")).to_have_count(0)
    page.goto("/browse/?topic=cluster-munitions&annotator=first")
    expect(page.locator(".result")).to_have_count(0)


def test_browse_filters_by_consensus_stance_without_reloading_and_keeps_filters_in_the_url(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic], seeds: dict[str, Article]
) -> None:
    article = seeds[CLUSTER_MUNITIONS]
    ann1, ann2 = make_user("annotator", "ann1"), make_user("annotator", "ann2")
    strikes = topics["strikes-in-russia"]
    for number in (1, 7, 20):  # unanimous favor
        for annotator in (ann1, ann2):
            label(annotator, comment(article, number), strikes, "favor")
    label(ann1, comment(article, 9), strikes, "favor")  # single favor
    label(ann1, comment(article, 5), strikes, "favor")  # unresolved
    label(ann2, comment(article, 5), strikes, "against")
    label(ann1, comment(article, 11), topics["cluster-munitions"], "favor")
    page = open_as(make_user("researcher"))
    page.goto("/browse/")
    page.evaluate("window.__sameDocument = true")

    page.select_option("#f-topic", "strikes-in-russia")
    page.select_option("#f-stance", "favor")
    expect(page.locator(".results-head")).to_contain_text("4 comments")
    numbers = page.locator(".result-where a").all_inner_texts()
    assert sorted(int(text.split()[0].lstrip("#")) for text in numbers) == [1, 7, 9, 20]
    assert page.evaluate("window.__sameDocument") is True  # htmx swapped the results; no page load
    query = parse_qs(urlparse(page.url).query)
    assert query["topic"] == ["strikes-in-russia"]
    assert query["stance"] == ["favor"]

    page.select_option("#f-status", "unanimous")
    expect(page.locator(".results-head")).to_contain_text("3 comments")
    export = page.get_by_role("link", name="Export these (JSONL)")
    assert parse_qs(urlparse(export.get_attribute("href") or "").query) == {
        "topic": ["strikes-in-russia"],
        "stance": ["favor"],
        "status": ["unanimous"],
    }
    page.reload()  # a shared URL shows the same selection
    expect(page.locator(".results-head")).to_contain_text("3 comments")
    expect(page.locator("#f-status")).to_have_value("unanimous")
    first = page.locator(".result-where a").first
    first.click()
    first_id = comment(article, 1).pk
    expect(page).to_have_url(f"{page.url.split('/articles/')[0]}/articles/{article.pk}/?at={first_id}#c{first_id}")
    expect(page.locator(f"#c{first_id}")).to_have_class(re.compile(r"\bis-current\b"))


def test_thread_reads_and_labels_with_javascript_off(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic], seeds: dict[str, Article]
) -> None:
    annotator = make_user("annotator")
    article = seeds[CLUSTER_MUNITIONS]
    target = comment(article, 24)
    page = open_as(annotator, javascript=False)
    page.goto(f"/articles/{article.pk}/")

    expect(page.locator("[data-comment]")).to_have_count(1 + 36)  # the article itself, then its 36 comments
    expect(page.locator(f"#c{target.pk} .reply-to")).to_have_text("replying to #3 by James Joyner")
    expect(page.locator(f"#c{target.pk} blockquote")).to_contain_text("It’s their choice whether to use them")
    page.locator("details.article-body summary").click()
    expect(page.locator(".article-body .prose")).to_contain_text("cluster munitions")
    stance_button(page, target, "trainers-in-ukraine", "against").click()
    expect(stance_button(page, target, "trainers-in-ukraine", "against")).to_have_attribute("aria-pressed", "true")
    assert my_labels(annotator, target) == {"trainers-in-ukraine": "against"}  # a form post: saved on arrival


def test_curator_fixes_a_reply_link_in_the_thread_view(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic], seeds: dict[str, Article]
) -> None:
    article = seeds[STRIKES_IN_RUSSIA]
    kathy, steve = comment(article, 6), comment(article, 5)
    page = open_as(make_user("curator"))
    page.goto(f"/articles/{article.pk}/")

    page.locator(f"#c{kathy.pk} details.curate summary").click()
    page.fill(f"#parent-{kathy.pk}", "5")
    page.locator(f"#c{kathy.pk} details.curate").get_by_role("button", name="Save").click()
    expect(page.locator(f"#c{kathy.pk} .reply-to")).to_have_text("replying to #5 by steve")
    expect(page.locator(".message")).to_contain_text("#6 now replies to #5")
    kathy.refresh_from_db()
    assert kathy.parent_id == steve.pk
    assert kathy.parent_is_manual


def test_annotators_do_not_get_the_reply_link_form(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic], seeds: dict[str, Article]
) -> None:
    page = open_as(make_user("annotator"))
    page.goto(f"/articles/{seeds[STRIKES_IN_RUSSIA].pk}/")
    expect(page.locator("details.curate")).to_have_count(0)


def test_queue_shows_the_next_unfinished_comment_with_context_and_progress(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic], seeds: dict[str, Article]
) -> None:
    annotator = make_user("annotator")
    article = seeds[CLUSTER_MUNITIONS]
    ordered = list(Comment.objects.filter(article=article).order_by("thread_order"))
    for finished in ordered[:2]:  # #1 and its reply #3 are done, and the article itself
        for topic in topics.values():
            label(annotator, finished, topic, "not_about")
    for topic in topics.values():
        label(annotator, article, topic, "against")
    page = open_as(annotator)
    page.goto("/annotate/")

    nxt = ordered[2]
    expect(page.locator("[data-comment]")).to_have_attribute("id", f"c{nxt.pk}")
    expect(page.locator(".progress-line")).to_contain_text("3 of 62 items done")  # 57 comments and 5 articles
    expect(page.locator(".context-title")).to_contain_text(article.title)
    for key, slug, stance in (
        ("3", "cluster-munitions", "neutral"),
        ("3", "strikes-in-russia", "neutral"),
        ("4", "trainers-in-ukraine", "not_about"),
    ):
        page.keyboard.press(key)
        expect(stance_button(page, nxt, slug, stance)).to_have_attribute("aria-pressed", "true")
        page.keyboard.press("t")
    expect(page.locator("[data-panel]")).to_have_attribute("data-complete", "true")
    page.keyboard.press("n")
    expect(page.locator(".progress-line")).to_contain_text("4 of 62 items done")
    expect(page.locator("[data-comment]")).to_have_attribute("id", f"c{ordered[3].pk}")
    wait_saved(page)
    assert my_labels(annotator, nxt) == {
        "cluster-munitions": "neutral",
        "strikes-in-russia": "neutral",
        "trainers-in-ukraine": "not_about",
    }


def test_queue_shows_the_parent_chain_of_a_reply(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic], seeds: dict[str, Article]
) -> None:
    annotator = make_user("annotator")
    article = seeds[CLUSTER_MUNITIONS]
    target = comment(article, 28)  # 28 -> 25 -> 24 -> 3 -> 1
    page = open_as(annotator)
    previous = Comment.objects.get(article=article, thread_order=target.thread_order - 1)
    page.goto(f"/annotate/?after={previous.pk}")

    expect(page.locator("[data-comment]")).to_have_attribute("id", f"c{target.pk}")
    chain = page.locator(".ancestor .number").all_inner_texts()
    assert chain == ["#1", "#3", "#24", "#25"]


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_of_the_four_pages(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic], seeds: dict[str, Article], width: int
) -> None:
    article = seeds[CLUSTER_MUNITIONS]
    curator, annotator = make_user("curator", "cora"), make_user("annotator", "abe")
    for number in range(1, 13):
        for position, topic in enumerate(topics.values()):
            stance = ["favor", "against", "neutral", "not_about"][(number + position) % 4]
            label(annotator, comment(article, number), topic, stance)
            if number % 3:
                label(curator, comment(article, number), topic, stance)
    page = open_as(curator, width=width)

    pages = {
        "articles": "/",
        "thread": f"/articles/{article.pk}/#c{comment(article, 3).pk}",
        "queue": "/annotate/",
        "browse": "/browse/?topic=cluster-munitions&stance=favor",
    }
    for name, path in pages.items():
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert "Server Error" not in page.content()
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, f"{name} scrolls sideways"
        shot = screenshot(page, f"{name}-{width}")
        assert shot.stat().st_size > 10_000


def test_tab_is_left_to_the_browser_and_t_wraps_within_the_comment(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic], seeds: dict[str, Article]
) -> None:
    """Tab walks the page's controls as everywhere (WCAG 2.1.1), with a visible focus; t and Shift+t walk the
    topics of the current comment, wrapping around."""
    annotator = make_user("annotator")
    article = seeds[STRIKES_IN_RUSSIA]
    first = comment(article, 1)
    page = open_as(annotator)
    page.goto(f"/articles/{article.pk}/#c{first.pk}")
    current_topic = page.locator(f"#c{first.pk} .topic-row.is-current-topic")

    expect(current_topic).to_have_attribute("data-topic", "cluster-munitions")
    page.keyboard.press("Shift+T")
    expect(current_topic).to_have_attribute("data-topic", "trainers-in-ukraine")
    page.keyboard.press("t")
    expect(current_topic).to_have_attribute("data-topic", "cluster-munitions")
    page.keyboard.press("t")
    expect(current_topic).to_have_attribute("data-topic", "strikes-in-russia")

    # Tab goes from control to control; the focused one is outlined, and Space presses it.
    favor = stance_button(page, first, "strikes-in-russia", "favor")
    favor.focus()
    page.keyboard.press("Tab")
    against = stance_button(page, first, "strikes-in-russia", "against")
    expect(against).to_be_focused()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Space")
    expect(against).to_have_attribute("aria-pressed", "true")
    wait_saved(page)
    assert my_labels(annotator, first) == {"strikes-in-russia": "against"}


def test_guidelines_open_from_the_panel_rendered_from_markdown(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic], seeds: dict[str, Article]
) -> None:
    topic = topics["trainers-in-ukraine"]
    topic.guidelines = "Read the **whole** comment.\n\n- favor: *for* it\n\n<script>window.__guide = 1</script>"
    topic.save()
    article = seeds[STRIKES_IN_RUSSIA]
    page = open_as(make_user("annotator"))
    page.goto(f"/articles/{article.pk}/")

    page.locator(f"#c{comment(article, 1).pk} [data-guidelines='trainers-in-ukraine']").click()
    dialog = page.locator("#guidelines-trainers-in-ukraine")
    expect(dialog).to_be_visible()
    expect(dialog.locator("strong")).to_have_text("whole")
    expect(dialog.locator("li em")).to_have_text("for")
    expect(dialog).to_contain_text("Western military trainers should be deployed inside Ukraine")
    assert page.evaluate("window.__guide") is None
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    for _ in range(3):  # the click made Trainers current; t walks the three topics round to it again
        page.keyboard.press("t")
    page.keyboard.press("g")  # the current topic's guidelines, from the keyboard
    expect(dialog).to_be_visible()


def test_a_long_thread_loads_its_next_chunks_as_the_reader_goes(
    open_as: Callable[..., Page], make_user, topics: dict[str, Topic]
) -> None:
    from annotations.views import THREAD_CHUNK
    from tests.test_thread_chunks import COMMENTS, long_thread

    article = long_thread()
    page = open_as(make_user("annotator"))
    page.goto(f"/articles/{article.pk}/")
    expect(page.locator("[data-comment]")).to_have_count(1 + THREAD_CHUNK)  # the article, then its comments

    for _ in range(1 + THREAD_CHUNK):  # walk to the end of the first chunk with the keyboard
        page.keyboard.press("j")
    expect(page.locator("[data-comment]")).to_have_count(1 + 2 * THREAD_CHUNK)
    page.keyboard.press("j")
    current = page.locator(".comment.is-current")
    expect(current).to_have_attribute("id", f"c{Comment.objects.get(article=article, number=THREAD_CHUNK + 1).pk}")
    page.keyboard.press("1")
    expect(current.locator("[data-topic='cluster-munitions'] .stance--favor")).to_have_attribute("aria-pressed", "true")

    page.mouse.wheel(0, 200_000)
    expect(page.locator("[data-comment]")).to_have_count(1 + COMMENTS)
    expect(page.locator(".thread-more")).to_have_count(0)
