"""Stance flow along reply links and the geometry of the dashboard charts. Pure: no database."""

from __future__ import annotations

import itertools

import pytest

from annotations.quality.charts import LABEL_WIDTH, PLOT_WIDTH, heatmap, interval_chart, stacked_bars
from annotations.quality.flow import relation, summarise, takes_both_sides

STANCES = ["favor", "against", "neutral", "not_about"]


@pytest.mark.parametrize(
    ("parent", "reply", "expected"),
    [
        ("favor", "favor", "agrees"),
        ("not_about", "not_about", "agrees"),
        ("favor", "against", "opposes"),
        ("against", "favor", "opposes"),
        ("favor", "neutral", "shifts"),
        ("neutral", "against", "shifts"),
        ("not_about", "favor", "shifts"),
        ("against", "not_about", "shifts"),
    ],
)
def test_relation_of_a_reply_to_its_parent(parent: str, reply: str, expected: str) -> None:
    assert relation(parent, reply) == expected


def test_every_pair_of_stances_has_exactly_one_symmetric_relation() -> None:
    for parent, reply in itertools.product(STANCES, repeat=2):
        assert relation(parent, reply) == relation(reply, parent)
        assert (relation(parent, reply) == "agrees") == (parent == reply)


def test_summary_counts_stances_and_the_share_of_opposing_links() -> None:
    summary = summarise(
        ["favor", "favor", "against", "not_about"],
        [("favor", "against"), ("favor", "favor"), ("against", "neutral"), ("favor", "against")],
    )

    assert summary.as_dict() == {
        "stances": {"against": 1, "favor": 2, "not_about": 1},
        "reply_links": {"agrees": 1, "opposes": 2, "shifts": 1},
        "labelled_reply_links": 4,
        "share_opposing": 0.5,
        "article_stance": None,
        "answers_to_article": {"agrees": 0, "opposes": 0, "shifts": 0},
        "labelled_answers_to_article": 0,
    }


def test_summary_without_labelled_links_has_no_share() -> None:
    assert summarise(["favor"], []).share_opposing is None


@pytest.mark.parametrize(
    ("stances", "expected"),
    [
        (["favor", "against"], True),
        (["favor", "neutral", "against", "favor"], True),
        (["favor", "favor", "neutral"], False),
        (["against", "not_about"], False),
        ([], False),
    ],
)
def test_an_author_takes_both_sides_with_favor_and_against(stances: list[str], expected: bool) -> None:
    assert takes_both_sides(stances) is expected


def test_stacked_bars_are_comparable_and_parts_sit_end_to_end() -> None:
    chart = stacked_bars(
        [("A", {"favor": 3, "against": 1}), ("B", {"against": 2}), ("C", {})], ["favor", "against", "neutral"]
    )

    a, b, c = chart.bars
    assert [bar.total for bar in chart.bars] == [4, 2, 0]
    assert a.segments[0].x == LABEL_WIDTH
    assert a.segments[0].width + a.segments[1].width == pytest.approx(PLOT_WIDTH)
    assert a.segments[1].x == pytest.approx(a.segments[0].x + a.segments[0].width)
    assert b.segments[0].width == pytest.approx(PLOT_WIDTH / 2)
    assert [segment.category for segment in b.segments] == ["against"]
    assert c.segments == ()
    assert c.y > b.y > a.y


def test_stacked_bars_against_a_fixed_scale() -> None:
    (bar,) = stacked_bars([("me", {"done": 10})], ["done"], scale=40).bars

    assert bar.segments[0].width == pytest.approx(PLOT_WIDTH / 4)


def test_interval_chart_places_estimates_and_extends_the_axis_below_zero_when_needed() -> None:
    positive = interval_chart([("a", 0.5, (0.25, 0.75))])
    negative = interval_chart([("a", 0.1, (-0.25, 0.3)), ("b", None, None)])

    (mark,) = positive.marks
    assert [tick.value for tick in positive.ticks] == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert mark.x == pytest.approx(LABEL_WIDTH + PLOT_WIDTH * 0.5)
    assert (mark.x_low, mark.x_high) == pytest.approx((LABEL_WIDTH + PLOT_WIDTH / 4, LABEL_WIDTH + PLOT_WIDTH * 3 / 4))
    assert [tick.value for tick in negative.ticks] == pytest.approx([-0.4, -0.2, 0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert negative.x_zero > LABEL_WIDTH
    assert negative.marks[1].x is None


def test_heatmap_shades_relative_to_the_largest_cell() -> None:
    cells = heatmap([[4, 0], [2, 1]])

    assert [[cell.shade for cell in row] for row in cells] == [[1.0, 0.0], [0.5, 0.25]]
    assert cells[1][0].row == 1
    assert cells[1][0].column == 0


def test_summary_compares_the_answers_to_the_article_with_its_own_stance() -> None:
    summary = summarise(
        ["favor", "against", "neutral"],
        [],
        article_stance="against",
        article_links=[("against", "favor"), ("against", "against"), ("against", "neutral"), ("against", "favor")],
    )

    assert summary.as_dict()["article_stance"] == "against"
    assert summary.as_dict()["answers_to_article"] == {"agrees": 1, "opposes": 2, "shifts": 1}
    assert summary.as_dict()["labelled_answers_to_article"] == 4
