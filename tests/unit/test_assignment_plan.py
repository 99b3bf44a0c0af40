"""The assignment plan, pure: coverage, balance, stability, labels never taken away, caps, checks, order."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.assignment.plan import (
    Facts,
    Plan,
    PlanSettings,
    Reason,
    overlap_sample,
    plan,
    qualification_set,
    queue_order,
)

ITEMS = list(range(1, 301))
THREE = ["ann", "bob", "cat"]


def current_of(result: Plan) -> dict[int, list[str]]:
    """The plan as the `current` assignments of the next planning."""
    current: dict[int, list[str]] = {}
    for annotator, queue in result.queues.items():
        for item, reason in queue:
            if reason in (Reason.OVERLAP, Reason.SINGLE):
                current.setdefault(item, []).append(annotator)
    return current


def holders(result: Plan) -> Counter[int]:
    return Counter(item for queue in result.queues.values() for item, reason in queue if reason != Reason.CHECK)


def test_default_settings_give_everyone_everything() -> None:
    result = plan(Facts(items=ITEMS, annotators=THREE), PlanSettings())
    assert PlanSettings().everyone_labels_everything
    for annotator in THREE:
        assert result.items_of(annotator) == ITEMS  # reading order, as the queue was before assignment
        assert {reason for _, reason in result.queues[annotator]} == {Reason.OVERLAP}
    assert result.overlap == frozenset(ITEMS)


def test_acceptance_shape_overlap_plus_a_balanced_third() -> None:
    result = plan(Facts(items=ITEMS, annotators=THREE), PlanSettings(overlap_share=0.2, overlap_annotators=3))
    assert len(result.overlap) == 60
    singles = set(ITEMS) - result.overlap
    seen_singles: Counter[int] = Counter()
    for annotator in THREE:
        mine = result.items_of(annotator)
        assert result.overlap <= set(mine)
        own_singles = set(mine) - result.overlap
        assert len(own_singles) == 80
        seen_singles.update(own_singles)
    assert set(seen_singles) == singles
    assert set(seen_singles.values()) == {1}
    assert set(holders(result)) == set(ITEMS)  # the union covers every item
    assert not result.unassigned


def test_overlap_annotators_fewer_than_the_pool_is_balanced() -> None:
    annotators = ["a", "b", "c", "d", "e"]
    result = plan(Facts(items=ITEMS, annotators=annotators), PlanSettings(overlap_share=0.5, overlap_annotators=2))
    counts = holders(result)
    assert all(counts[item] == 2 for item in result.overlap)
    assert all(counts[item] == 1 for item in set(ITEMS) - result.overlap)
    sizes = [len(result.queues[a]) for a in annotators]
    assert max(sizes) - min(sizes) <= 1, sizes  # (150 * 2 + 150) / 5 = 90 each


def test_overlap_sample_grows_by_adding_items() -> None:
    small, large = overlap_sample(ITEMS, 0.1), overlap_sample(ITEMS, 0.3)
    assert len(small) == 30
    assert len(large) == 90
    assert small <= large
    assert overlap_sample(ITEMS, 0) == frozenset()
    # A new item does not reshuffle the rest: at most the one item at the cut-off changes.
    grown = overlap_sample([*ITEMS, 301], 0.2)
    assert len(overlap_sample(ITEMS, 0.2) - grown) <= 1


def test_the_same_facts_give_the_same_plan_whatever_the_input_order() -> None:
    options = PlanSettings(overlap_share=0.2, overlap_annotators=2)
    first = plan(Facts(items=ITEMS, annotators=THREE), options)
    second = plan(Facts(items=ITEMS, annotators=list(reversed(THREE))), options)
    assert first == second


def test_planning_again_changes_nothing() -> None:
    options = PlanSettings(overlap_share=0.2, overlap_annotators=2, per_annotator_cap=120)
    first = plan(Facts(items=ITEMS, annotators=THREE), options)
    again = plan(Facts(items=ITEMS, annotators=THREE, current=current_of(first)), options)
    assert again.queues == first.queues


def labelled_prefix(result: Plan, share: float) -> tuple[dict[int, list[str]], set[tuple[str, int]]]:
    """Each annotator has labelled (and finished) the first `share` of their queue."""
    labelled: dict[int, list[str]] = {}
    done: set[tuple[str, int]] = set()
    for annotator, queue in result.queues.items():
        for item, _ in queue[: int(len(queue) * share)]:
            labelled.setdefault(item, []).append(annotator)
            done.add((annotator, item))
    return labelled, done


def test_a_fourth_annotator_gets_a_share_and_nobody_loses_a_labelled_item() -> None:
    options = PlanSettings(overlap_share=0.2, overlap_annotators=3)
    before = plan(Facts(items=ITEMS, annotators=THREE), options)
    labelled, done = labelled_prefix(before, 0.25)
    after = plan(
        Facts(items=ITEMS, annotators=[*THREE, "dan"], labelled=labelled, done=done, current=current_of(before)),
        options,
    )
    for item, annotators in labelled.items():
        for annotator in annotators:
            assert item in after.items_of(annotator)
    remaining = {a: sum(1 for item, _ in after.queues[a] if (a, item) not in done) for a in [*THREE, "dan"]}
    assert remaining["dan"] > 0
    assert max(remaining.values()) - min(remaining.values()) <= 1, remaining
    counts = holders(after)
    assert all(counts[item] == 3 for item in after.overlap)
    assert set(counts) == set(ITEMS)
    # Of the items nobody had labelled, only as many moved as balance needs: the rest stayed where they were.
    moved = sum(1 for annotator in THREE for item in set(before.items_of(annotator)) - set(after.items_of(annotator)))
    assert moved == len(after.queues["dan"]) - 0


def test_an_annotator_who_leaves_keeps_their_labels_and_the_rest_is_shared_out() -> None:
    options = PlanSettings(overlap_share=0.2, overlap_annotators=2)
    before = plan(Facts(items=ITEMS, annotators=THREE), options)
    labelled, done = labelled_prefix(before, 0.5)
    after = plan(
        Facts(items=ITEMS, annotators=["ann", "bob"], labelled=labelled, done=done, current=current_of(before)),
        options,
    )
    cat_labelled = {item for item, annotators in labelled.items() if "cat" in annotators}
    assert set(after.items_of("cat")) == cat_labelled  # kept, and nothing new
    counts = holders(after)
    assert set(counts) == set(ITEMS)
    assert all(counts[item] == 2 for item in after.overlap)
    # Cat's label counts for its overlap items: only one more annotator was needed there.
    assert all(counts[item] == 1 for item in set(ITEMS) - after.overlap)


def test_items_labelled_before_the_plan_stay_with_all_their_labellers() -> None:
    labelled = {item: list(THREE) for item in ITEMS[:30]}  # everyone labelled the first 30, as before
    done = {(a, item) for item in ITEMS[:30] for a in THREE}
    result = plan(
        Facts(items=ITEMS, annotators=THREE, labelled=labelled, done=done),
        PlanSettings(overlap_share=0.2, overlap_annotators=2),
    )
    for annotator in THREE:
        assert set(ITEMS[:30]) <= set(result.items_of(annotator))
    remaining = [len(result.queues[a]) - 30 for a in THREE]
    assert max(remaining) - min(remaining) <= 1


def test_the_cap_limits_each_queue_and_reports_what_is_left() -> None:
    result = plan(Facts(items=ITEMS, annotators=THREE), PlanSettings(overlap_share=0.1, per_annotator_cap=50))
    assert all(len(result.queues[a]) == 50 for a in THREE)
    counts = holders(result)
    assert all(counts[item] <= 3 for item in counts)
    assert len(set(ITEMS) - set(counts)) == 300 - (150 - 30 * 2)  # 30 overlap items take 90 places
    assert result.unassigned == frozenset(set(ITEMS) - set(counts))


def test_no_annotators_no_queues() -> None:
    result = plan(Facts[int, str](items=ITEMS, annotators=[]), PlanSettings(overlap_share=0.2))
    assert result.queues == {}
    assert result.unassigned == frozenset(ITEMS)


def test_checks_make_up_their_share_and_never_double_ordinary_work() -> None:
    gold = list(range(1001, 1041))
    result = plan(
        Facts(items=ITEMS, annotators=THREE, check_items=gold),
        PlanSettings(overlap_share=0.2, overlap_annotators=3, check_share=0.1),
    )
    for annotator in THREE:
        queue = result.queues[annotator]
        checks = [item for item, reason in queue if reason is Reason.CHECK]
        assert len(checks) == 16  # 140 ordinary items; 16 / 156 is about 10%
        assert set(checks) <= set(gold)
        assert len({item for item, _ in queue}) == len(queue)
        # Spread through the queue, not bunched at one end.
        positions = [index for index, (_, reason) in enumerate(queue) if reason is Reason.CHECK]
        assert positions[0] < 20
        assert positions[-1] > len(queue) - 20
    # Different annotators get different checks (drawn per annotator).
    assert len({tuple(i for i, r in result.queues[a] if r is Reason.CHECK) for a in THREE}) > 1


def test_labelled_checks_stay_when_checks_are_switched_off() -> None:
    gold = [1001, 1002, 1003]
    options = PlanSettings(overlap_share=0.2, check_share=0.2)
    before = plan(Facts(items=ITEMS, annotators=THREE, check_items=gold), options)
    current_checks = {a: [i for i, r in before.queues[a] if r is Reason.CHECK] for a in THREE}
    answered = {("ann", 1001)}
    after = plan(
        Facts(items=ITEMS, annotators=THREE, check_items=gold, answered_checks=answered, current_checks=current_checks),
        PlanSettings(overlap_share=0.2),
    )
    ann_checks = [i for i, r in after.queues["ann"] if r is Reason.CHECK]
    assert ann_checks == ([1001] if 1001 in current_checks["ann"] else [])
    assert not [i for i, r in after.queues["bob"] if r is Reason.CHECK]


def test_closed_items_stay_with_their_labellers_and_go_to_nobody_else() -> None:
    gold = ITEMS[:20]
    result = plan(
        Facts(items=ITEMS, annotators=THREE, labelled={1: ["ann"]}, closed=gold, check_items=gold),
        PlanSettings(overlap_share=0.2, overlap_annotators=3, check_share=0.05),
    )
    ordinary = {a: {i for i, r in result.queues[a] if r is not Reason.CHECK} for a in THREE}
    assert 1 in ordinary["ann"]
    assert all(not (set(gold) - {1}) & items for items in ordinary.values())
    assert not result.unassigned
    assert set().union(*ordinary.values()) == set(ITEMS[20:]) | {1}
    checks = {a: [i for i, r in result.queues[a] if r is Reason.CHECK] for a in THREE}
    assert 1 not in checks["ann"]
    assert all(checks.values())


def test_queue_order_interleaves_overlap_with_single_items() -> None:
    order = queue_order(overlap=["o1", "o2"], single=["s1", "s2", "s3", "s4", "s5", "s6"])
    assert order == ["s1", "o1", "s2", "s3", "s4", "o2", "s5", "s6"] or order.index("o1") < 4 < order.index("o2")
    assert [x for x in order if x.startswith("o")] == ["o1", "o2"]
    assert [x for x in order if x.startswith("s")] == ["s1", "s2", "s3", "s4", "s5", "s6"]
    assert queue_order(overlap=[], single=["a", "b"]) == ["a", "b"]


def test_qualification_set_is_the_same_for_everyone_and_of_the_size_asked() -> None:
    gold = list(range(50))
    assert qualification_set(gold, 5) == qualification_set(list(reversed(gold)), 5)
    assert len(qualification_set(gold, 5)) == 5
    assert sorted(qualification_set(gold, None)) == gold


@pytest.mark.parametrize(
    "options",
    [
        {"overlap_share": 1.5},
        {"overlap_share": -0.1},
        {"overlap_annotators": 1},
        {"per_annotator_cap": 0},
        {"check_share": 1.0},
    ],
)
def test_settings_out_of_range_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        PlanSettings(**options)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(
    n_items=st.integers(0, 80),
    n_annotators=st.integers(1, 6),
    share=st.sampled_from([0.0, 0.1, 0.25, 0.5, 1.0]),
    wanted=st.one_of(st.none(), st.integers(2, 7)),
    cap=st.one_of(st.none(), st.integers(1, 90)),
    labelled_share=st.sampled_from([0.0, 0.3, 0.7]),
    joiner=st.booleans(),
)
def test_properties_hold_for_any_facts(
    n_items: int,
    n_annotators: int,
    share: float,
    wanted: int | None,
    cap: int | None,
    labelled_share: float,
    joiner: bool,
) -> None:
    items = list(range(n_items))
    annotators = [f"a{i}" for i in range(n_annotators)]
    options = PlanSettings(overlap_share=share, overlap_annotators=wanted, per_annotator_cap=cap)
    first = plan(Facts(items=items, annotators=annotators), options)
    # Stable: the same facts again change nothing.
    assert plan(Facts(items=items, annotators=annotators, current=current_of(first)), options).queues == first.queues
    labelled, done = labelled_prefix(first, labelled_share)
    pool = [*annotators, "new"] if joiner else annotators[1:]
    after = plan(Facts(items=items, annotators=pool, labelled=labelled, done=done, current=current_of(first)), options)
    for item, who in labelled.items():  # never taken away
        for annotator in who:
            assert item in after.items_of(annotator)
    counts = holders(after)
    need = len(pool) if wanted is None else wanted
    for item in items:
        labellers = len(labelled.get(item, ()))
        if item in after.overlap:
            expected = max(need, labellers) if cap is None else None
        else:
            expected = max(1, labellers) if cap is None else None
        if expected is not None and pool:
            available = labellers + sum(1 for a in pool if a not in labelled.get(item, ()))
            assert counts[item] == min(expected, available), (item, counts[item], expected)
    for annotator in pool:  # the cap holds for new work
        queue = after.queues.get(annotator, [])
        own_labels = sum(1 for item, who in labelled.items() if annotator in who)
        if cap is not None:
            assert len(queue) <= max(cap, own_labels)
        assert len({item for item, _ in queue}) == len(queue)
