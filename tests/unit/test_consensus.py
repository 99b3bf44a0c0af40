"""The consensus rule, as a pure function: no database."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotations.consensus import ConsensusResult, compute_consensus
from annotations.vocabulary import ConsensusStatus, Stance

STANCES = ["favor", "against", "neutral", "not_about"]


def test_no_labels_have_no_consensus() -> None:
    assert compute_consensus([]) == ConsensusResult(None, None, 0, {})


def test_one_label_is_single() -> None:
    assert compute_consensus(["against"]) == ConsensusResult(Stance.AGAINST, ConsensusStatus.SINGLE, 1, {"against": 1})


@pytest.mark.parametrize("n", [2, 3, 7])
def test_two_or_more_labels_that_all_agree_are_unanimous(n: int) -> None:
    assert compute_consensus(["favor"] * n) == ConsensusResult(Stance.FAVOR, ConsensusStatus.UNANIMOUS, n, {"favor": n})


@pytest.mark.parametrize(
    ("stances", "winner"),
    [
        (["favor", "favor", "against"], "favor"),  # exactly two thirds
        (["neutral", "against", "neutral", "neutral"], "neutral"),
        (["not_about"] * 4 + ["favor", "against"], "not_about"),  # 4 of 6 is exactly two thirds
    ],
)
def test_two_thirds_or_more_is_a_majority(stances: list[str], winner: str) -> None:
    result = compute_consensus(stances)

    assert (result.stance, result.status, result.n) == (winner, "majority", len(stances))


@pytest.mark.parametrize(
    "stances",
    [
        ["favor", "against"],
        ["favor", "favor", "against", "against"],
        ["favor", "favor", "favor", "against", "against"],  # 3 of 5 is less than two thirds
        ["favor", "against", "neutral"],
        ["favor", "favor", "against", "neutral"],
    ],
)
def test_less_than_two_thirds_is_unresolved_and_has_no_stance(stances: list[str]) -> None:
    result = compute_consensus(stances)

    assert (result.stance, result.status, result.n) == (None, "unresolved", len(stances))


def test_counts_are_per_stance_in_a_stable_order() -> None:
    result = compute_consensus(["neutral", "against", "neutral", "favor"])

    assert list(result.counts.items()) == [("against", 1), ("favor", 1), ("neutral", 2)]


@pytest.mark.parametrize("stances", [[], ["favor"], ["favor", "favor"], ["favor", "against"]])
def test_a_gold_label_overrides_the_annotators(stances: list[str]) -> None:
    result = compute_consensus(stances, gold="not_about")

    assert (result.stance, result.status, result.n) == ("not_about", "gold", len(stances))


@given(st.lists(st.sampled_from(STANCES), max_size=12), st.randoms())
def test_consensus_follows_the_rule_for_any_labels(stances: list[str], rnd: random.Random) -> None:
    result = compute_consensus(stances)
    shuffled = list(stances)
    rnd.shuffle(shuffled)

    assert compute_consensus(shuffled) == result
    assert result.n == len(stances)
    assert result.counts == dict(Counter(stances))
    if not stances:
        assert (result.stance, result.status) == (None, None)
        return
    top_stance, top = Counter(stances).most_common(1)[0]
    expected: tuple[str | None, str]
    if len(stances) == 1:
        expected = (top_stance, "single")
    elif top == len(stances):
        expected = (top_stance, "unanimous")
    elif 3 * top >= 2 * len(stances):
        expected = (top_stance, "majority")
    else:
        expected = (None, "unresolved")
    assert (result.stance, result.status) == expected
