"""A hint in the queue, in a real browser: a marker beside the suggested option, never pressed, never saved;
the annotator's own choice is what is stored, with what they were shown."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from annotations.assignment.actions import ensure_plan, update_assignment_settings
from annotations.models import Annotation, Assignment, AssignmentReason, Suggestion, Topic
from annotations.suggestions.actions import train_topic
from tests.browser.conftest import screenshot, wait_saved
from tests.test_suggestions import label_by_three, stance_corpus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CM = "cluster-munitions"


def test_the_hint_is_a_marker_not_an_answer(
    open_as: Callable[..., Page], make_user: Callable[..., User], topics: dict[str, Topic]
) -> None:
    reference = stance_corpus(topics, articles=2, per_article=150, seed=27)
    ids = sorted(reference)
    annotators = [make_user("annotator", f"ann{n}") for n in range(3)]
    label_by_three({CM: topics[CM]}, reference, ids[:240], annotators)
    assert train_topic(topic=topics[CM]).model.usable
    update_assignment_settings(
        actor=make_user("curator", "cora"), values={"overlap_share": 0.2, "overlap_annotators": 3}
    )
    ensure_plan()
    me = annotators[0]
    mine = {row.comment_id: row.position for row in Assignment.objects.filter(annotator=me)}
    single = set(
        Assignment.objects.filter(annotator=me, reason=AssignmentReason.SINGLE).values_list("comment_id", flat=True)
    )
    hint = (
        Suggestion.objects.filter(topic__slug=CM, band="high", comment_id__in=single - set(ids[:240]))
        .order_by("comment_id")
        .first()
    )
    assert hint is not None
    before = max((pos for comment_id, pos in mine.items() if pos < mine[hint.comment_id]), default=None)
    previous = next(comment_id for comment_id, pos in mine.items() if pos == before) if before is not None else None

    page = open_as(me)
    page.goto(f"/annotate/?after={previous}" if previous is not None else "/annotate/")
    row = page.locator(f'#panel-{hint.comment_id} [data-topic-row][data-topic="{CM}"]')
    expect(row.locator("[data-hint]")).to_have_attribute("data-hint", hint.stance)
    expect(row.locator("[data-hint]")).to_contain_text("high")
    suggested = row.locator(f'[data-stance="{hint.stance}"]')
    expect(suggested).to_have_attribute("aria-pressed", "false")  # never pre-selected
    assert suggested.evaluate("b => getComputedStyle(b).outlineStyle") == "solid"
    screenshot(page, "suggestion-hint")
    assert not Annotation.objects.filter(annotator=me, comment_id=hint.comment_id).exists()  # never saved

    other = "against" if hint.stance != "against" else "favor"
    row.locator(f'[data-stance="{other}"]').click()
    wait_saved(page)
    stored = Annotation.objects.get(annotator=me, comment_id=hint.comment_id, topic__slug=CM)
    assert (stored.stance, stored.suggestion_shown, stored.suggested_stance) == (other, True, hint.stance)
