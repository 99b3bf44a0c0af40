"""Who labels what: the assignment plan. Pure: no Django, no ItemT/O, deterministic.

Given the items (in reading order), the annotators in the pool, what is already labelled and what is assigned
now, and the curator's settings, :func:`plan` says which items each annotator labels and why:

* the **overlap sample**: a share of the items, each labelled by ``overlap_annotators`` annotators (all of
  them by default), for agreement. The sample is the items whose stable hash ranks lowest, so a larger share
  keeps every item of a smaller one and a new item does not reshuffle the rest;
* every other item goes to exactly **one** annotator (a **single** item), balanced by what each has still to
  do;
* **check** items: gold items mixed into each queue at ``check_share`` of it, to measure attention;
* **qualification** items are not planned here: :func:`qualification_set` picks them for a new annotator.

Rules that hold whatever the input (the tests check them):

* an annotator keeps every item they have labelled (a label is never taken away), and such an item counts
  towards the annotators it needs, even when its labeller has left the pool;
* an item already assigned keeps its annotator as long as that annotator's fair share allows (stability:
  planning again with the same facts and settings changes nothing);
* the work that can move is shared so that each annotator's remaining work is as even as the constraints
  (an item is not given twice to the same annotator, the per-annotator cap) allow;
* ties are broken by a hash of (item, annotator), never by the order of a dictionary or by chance.

Items and annotators are any hashable, sortable-by-repr keys (comment ids today; ("article", id) later).
"""

from __future__ import annotations

import hashlib
import heapq
import math
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

__all__ = [
    "Facts",
    "Plan",
    "PlanSettings",
    "Reason",
    "overlap_sample",
    "plan",
    "qualification_set",
    "queue_order",
]

ItemT = TypeVar("ItemT", bound=Hashable)  # an item
AnnotatorT = TypeVar("AnnotatorT", bound=Hashable)  # an annotator


class Reason(StrEnum):
    OVERLAP = "overlap"  # in the overlap sample: several annotators label it, for agreement
    SINGLE = "single"  # one annotator labels it
    QUALIFICATION = "qualification"  # a gold item a new annotator labels before the real queue opens
    CHECK = "check"  # a gold item mixed into the queue to measure attention


@dataclass(frozen=True)
class PlanSettings:
    overlap_share: float = 1.0  # 0 to 1
    overlap_annotators: int | None = None  # None: every annotator in the pool
    per_annotator_cap: int | None = None  # ordinary (overlap + single) items per annotator; None: no cap
    check_share: float = 0.0  # share of each queue made of check items, 0 to under 1

    def __post_init__(self) -> None:
        if not 0 <= self.overlap_share <= 1:
            raise ValueError(f"overlap_share must be between 0 and 1, not {self.overlap_share}")
        if self.overlap_annotators is not None and self.overlap_annotators < 2:
            raise ValueError(f"overlap_annotators must be at least 2 (or None for all), not {self.overlap_annotators}")
        if self.per_annotator_cap is not None and self.per_annotator_cap < 1:
            raise ValueError(f"per_annotator_cap must be at least 1 (or None), not {self.per_annotator_cap}")
        if not 0 <= self.check_share < 1:
            raise ValueError(f"check_share must be at least 0 and below 1, not {self.check_share}")

    @property
    def everyone_labels_everything(self) -> bool:
        """The default: the plan is the whole corpus for every annotator, so nothing need be stored."""
        return (
            self.overlap_share >= 1
            and self.overlap_annotators is None
            and self.per_annotator_cap is None
            and self.check_share == 0
        )


@dataclass(frozen=True)
class Facts(Generic[ItemT, AnnotatorT]):
    """What the plan starts from."""

    items: Sequence[ItemT]  # ordinary items, in reading order
    annotators: Collection[AnnotatorT]  # the pool: annotators who take new work (not paused, not gone)
    # Who labelled what as ordinary work (anyone, in the pool or not): not their check or qualification items.
    labelled: Mapping[ItemT, Collection[AnnotatorT]] = field(default_factory=dict)
    done: Collection[tuple[AnnotatorT, ItemT]] = frozenset()  # (annotator, item) finished on every topic
    current: Mapping[ItemT, Collection[AnnotatorT]] = field(default_factory=dict)  # assigned now (ordinary)
    check_items: Sequence[ItemT] = ()  # gold items that may serve as checks, in reading order
    current_checks: Mapping[AnnotatorT, Collection[ItemT]] = field(default_factory=dict)
    answered_checks: Collection[tuple[AnnotatorT, ItemT]] = frozenset()  # checks labelled: they stay
    # Items that take no new annotators (gold items kept for checks, qualification items): their labellers
    # keep them, nobody else is given them as ordinary work.
    closed: Collection[ItemT] = frozenset()


@dataclass(frozen=True)
class Plan(Generic[ItemT, AnnotatorT]):
    # Per annotator, in queue order: (item, reason). Annotators outside the pool keep what they labelled.
    queues: dict[AnnotatorT, list[tuple[ItemT, Reason]]]
    overlap: frozenset[ItemT]  # the overlap sample
    unassigned: frozenset[ItemT]  # items the cap left without (enough) annotators

    def items_of(self, annotator: AnnotatorT) -> list[ItemT]:
        return [item for item, _ in self.queues.get(annotator, [])]

    def reasons(self) -> dict[tuple[AnnotatorT, ItemT], Reason]:
        return {(annotator, item): reason for annotator, queue in self.queues.items() for item, reason in queue}


def _digest(*parts: object) -> bytes:
    return hashlib.sha256(repr(parts).encode()).digest()


def overlap_sample(items: Iterable[ItemT], share: float) -> frozenset[ItemT]:
    """The `share` of the items (rounded half up) whose hash ranks lowest."""
    items = list(items)
    size = min(len(items), math.floor(share * len(items) + 0.5 + 1e-9))
    return frozenset(sorted(items, key=lambda item: _digest("overlap", item))[:size])


def qualification_set(items: Iterable[ItemT], size: int | None) -> list[ItemT]:
    """The qualification items every new annotator labels: `size` of them (all if None), the same for all."""
    ranked = sorted(items, key=lambda item: _digest("qualification", item))
    return ranked if size is None else ranked[:size]


def _order_key(annotators: Iterable[AnnotatorT]) -> dict[AnnotatorT, bytes]:
    return {annotator: _digest("annotator", annotator) for annotator in annotators}


def _quotas(
    load: Mapping[AnnotatorT, int], bound: Mapping[AnnotatorT, int], total: int, order: Mapping[AnnotatorT, bytes]
) -> dict[AnnotatorT, int]:
    """Share `total` new items so that load + share is as even as possible (water filling), each annotator
    taking at most `bound` of them."""
    quota = dict.fromkeys(load, 0)
    heap = [(load[a], order[a], a) for a in load if bound[a] > 0]
    heapq.heapify(heap)
    for _ in range(total):
        if not heap:
            break
        level, key, annotator = heapq.heappop(heap)
        quota[annotator] += 1
        if quota[annotator] < bound[annotator]:
            heapq.heappush(heap, (level + 1, key, annotator))
    return quota


def _distribute(
    slots: Sequence[tuple[ItemT, int, frozenset[AnnotatorT]]],
    pool: Sequence[AnnotatorT],
    load: dict[AnnotatorT, int],
    cap_left: dict[AnnotatorT, int | None],
    current: Mapping[ItemT, Collection[AnnotatorT]],
    order: Mapping[AnnotatorT, bytes],
) -> tuple[dict[ItemT, list[AnnotatorT]], set[ItemT]]:
    """Fill each slot (item, how many annotators it still needs, who may not take it) from the pool.

    Keeps current assignees up to their quota, then gives the rest to whoever has most quota left."""
    total = sum(need for _, need, _ in slots)
    eligible = {a: sum(1 for _, need, taken in slots if need and a not in taken) for a in pool}
    bound = {a: eligible[a] if cap_left[a] is None else min(eligible[a], cap_left[a] or 0) for a in pool}
    quota = _quotas(load, bound, total, order)
    chosen: dict[ItemT, list[AnnotatorT]] = {item: [] for item, _, _ in slots}

    def take(item: ItemT, annotator: AnnotatorT) -> None:
        chosen[item].append(annotator)
        quota[annotator] -= 1
        load[annotator] += 1
        if cap_left[annotator] is not None:
            cap_left[annotator] = (cap_left[annotator] or 0) - 1

    def free(annotator: AnnotatorT) -> bool:
        return cap_left[annotator] is None or (cap_left[annotator] or 0) > 0

    for item, need, taken in slots:  # stability first: current assignees within their quota stay
        for annotator in sorted(current.get(item, ()), key=order.__getitem__):
            if len(chosen[item]) < need and annotator in quota and annotator not in taken and quota[annotator] > 0:
                take(item, annotator)
    short: set[ItemT] = set()
    for item, need, taken in slots:
        while len(chosen[item]) < need:
            candidates = [a for a in pool if a not in taken and a not in chosen[item] and free(a)]
            if not candidates:
                short.add(item)
                break
            take(item, min(candidates, key=lambda a: (-quota[a], load[a], _digest(item, a))))
    return chosen, short


def plan(facts: Facts[ItemT, AnnotatorT], settings: PlanSettings) -> Plan[ItemT, AnnotatorT]:
    """Who labels what, and why; see the module's docstring for the rules."""
    pool = sorted(set(facts.annotators), key=lambda a: _digest("annotator", a))
    order = _order_key(pool)
    in_pool = set(pool)
    items = list(dict.fromkeys(facts.items))
    sample = overlap_sample(items, settings.overlap_share)
    wanted = len(pool) if settings.overlap_annotators is None else settings.overlap_annotators
    done = set(facts.done)
    labelled = {item: frozenset(facts.labelled.get(item, ())) for item in items}

    assigned: dict[AnnotatorT, dict[ItemT, Reason]] = {}
    for item in items:  # labelled items stay with their labellers, in or out of the pool
        for annotator in labelled[item]:
            assigned.setdefault(annotator, {})[item] = Reason.OVERLAP if item in sample else Reason.SINGLE
    load = {a: sum(1 for item in assigned.get(a, {}) if (a, item) not in done) for a in pool}
    count = {a: len(assigned.get(a, {})) for a in pool}
    cap_left: dict[AnnotatorT, int | None] = {
        a: None if settings.per_annotator_cap is None else max(settings.per_annotator_cap - count[a], 0) for a in pool
    }
    current = {item: [a for a in facts.current.get(item, ()) if a in in_pool] for item in items}

    closed = set(facts.closed)
    overlap_slots = [
        (item, 0 if item in closed else max(wanted - len(labelled[item]), 0), labelled[item])
        for item in items
        if item in sample
    ]
    # An item out of the sample that anyone labelled is done with; the others need one annotator.
    single_slots = [
        (item, 0 if labelled[item] or item in closed else 1, labelled[item]) for item in items if item not in sample
    ]
    unassigned: set[ItemT] = set()
    for slots, reason in ((overlap_slots, Reason.OVERLAP), (single_slots, Reason.SINGLE)):
        chosen, short = _distribute(slots, pool, load, cap_left, current, order)
        unassigned |= short
        for item, annotators in chosen.items():
            for annotator in annotators:
                assigned.setdefault(annotator, {})[item] = reason

    held = {item for queue in assigned.values() for item in queue}
    unassigned |= {item for item in items if item not in held and item not in closed}
    checks = _plan_checks(facts, settings, pool, assigned, order)
    position = {item: index for index, item in enumerate(items)}
    check_position = {item: index for index, item in enumerate(dict.fromkeys(facts.check_items))}
    queues: dict[AnnotatorT, list[tuple[ItemT, Reason]]] = {}
    for annotator in sorted(set(assigned) | set(checks), key=lambda a: _digest("annotator", a)):
        mine = assigned.get(annotator, {})
        ordered = queue_order(
            overlap=sorted((i for i, r in mine.items() if r is Reason.OVERLAP), key=position.__getitem__),
            single=sorted((i for i, r in mine.items() if r is Reason.SINGLE), key=position.__getitem__),
            checks=sorted(checks.get(annotator, ()), key=check_position.__getitem__),
            annotator=annotator,
        )
        queues[annotator] = [(item, mine.get(item, Reason.CHECK)) for item in ordered]
    return Plan(queues=queues, overlap=sample, unassigned=frozenset(unassigned))


def _plan_checks(
    facts: Facts[ItemT, AnnotatorT],
    settings: PlanSettings,
    pool: Sequence[AnnotatorT],
    assigned: Mapping[AnnotatorT, Mapping[ItemT, Reason]],
    order: Mapping[AnnotatorT, bytes],
) -> dict[AnnotatorT, list[ItemT]]:
    """Per annotator, check items making up `check_share` of their queue: labelled checks stay, current ones
    are kept, the rest are drawn by hash. An item the annotator has as ordinary work is never also a check."""
    checks: dict[AnnotatorT, list[ItemT]] = {}
    candidates = list(dict.fromkeys(facts.check_items))
    answered = set(facts.answered_checks)
    for annotator, current in facts.current_checks.items():  # answered checks stay, in the pool or not
        kept = [item for item in current if (annotator, item) in answered and item not in assigned.get(annotator, {})]
        if kept:
            checks[annotator] = kept
    if settings.check_share <= 0:
        return checks
    ratio = settings.check_share / (1 - settings.check_share)
    for annotator in pool:
        ordinary = assigned.get(annotator, {})
        wanted = math.floor(ratio * len(ordinary) + 0.5)
        mine = checks.setdefault(annotator, [])
        available = [item for item in candidates if item not in ordinary and item not in mine]
        current = set(facts.current_checks.get(annotator, ()))
        for item in sorted(available, key=lambda item: (item not in current, _digest("check", annotator, item))):
            if len(mine) >= wanted:
                break
            mine.append(item)
        if not mine:
            del checks[annotator]
    return checks


def queue_order(
    *, overlap: Sequence[ItemT], single: Sequence[ItemT], checks: Sequence[ItemT] = (), annotator: Hashable = None
) -> list[ItemT]:
    """One queue: overlap items interleaved evenly with single items, each list keeping its own order (so
    every annotator meets the overlap items in the same order and agreement grows from the start), and check
    items spread through it at positions that differ between annotators."""
    merged = _interleave(list(overlap), list(single))
    if not checks:
        return merged
    # Spread n checks over the queue: one in each of n equal stretches, at an offset drawn per annotator.
    total = len(merged) + len(checks)
    slots: dict[int, ItemT] = {}
    for index, item in enumerate(checks):
        start, end = math.floor(index * total / len(checks)), math.floor((index + 1) * total / len(checks))
        offset = int.from_bytes(_digest("slot", annotator, index)[:4], "big") % (end - start)
        slots[start + offset] = item
    rest = iter(merged)
    return [slots[position] if position in slots else next(rest) for position in range(total)]


def _interleave(first: list[ItemT], second: list[ItemT]) -> list[ItemT]:
    """Both lists merged so that each is spread evenly through the result (Bresenham's line)."""
    if not first or not second:
        return first + second
    total = len(first) + len(second)
    result: list[ItemT] = []
    taken = 0
    for position in range(total):
        # Take from `first` whenever it has fallen behind its share of the positions so far.
        behind = (taken + 0.5) * total <= (position + 1) * len(first)
        if taken < len(first) and (behind or position - taken >= len(second)):
            result.append(first[taken])
            taken += 1
        else:
            result.append(second[position - taken])
    return result
