"""Consensus of one item's labels. Pure: no Django."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from annotations.vocabulary import ConsensusStatus, Stance

MAJORITY = Fraction(2, 3)


@dataclass(frozen=True)
class ConsensusResult:
    stance: Stance | None  # None when unresolved or unlabelled
    status: ConsensusStatus | None  # None when unlabelled
    n: int
    counts: dict[str, int]


def compute_consensus(stances: Iterable[str], gold: str | None = None) -> ConsensusResult:
    """Gold first; else `single` for one label, `unanimous` when ≥ 2 all agree, `majority` when at least
    two thirds agree, else `unresolved`."""
    counts = Counter(stances)
    n = sum(counts.values())
    ordered = dict(sorted(counts.items()))
    if gold is not None:
        return ConsensusResult(Stance(gold), ConsensusStatus.GOLD, n, ordered)
    if n == 0:
        return ConsensusResult(None, None, 0, ordered)
    top_stance, top = counts.most_common(1)[0]
    stance = Stance(top_stance)
    if n == 1:
        return ConsensusResult(stance, ConsensusStatus.SINGLE, n, ordered)
    if top == n:
        return ConsensusResult(stance, ConsensusStatus.UNANIMOUS, n, ordered)
    if Fraction(top, n) >= MAJORITY:
        return ConsensusResult(stance, ConsensusStatus.MAJORITY, n, ordered)
    return ConsensusResult(None, ConsensusStatus.UNRESOLVED, n, ordered)
