"""The words labels are made of, defined once: stances, consensus statuses and stance-flow relations. Pure: no
Django. Models take their choices from here; pure modules (consensus, agreement, flow) compare against these.

Each is a `StrEnum`, so a member is the string stored in the database (`Stance.FAVOR == "favor"`). Membership of
a raw string is `value in STANCE_VALUES` (on Python 3.11 `value in Stance` raises for a non-member).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Stance(StrEnum):
    FAVOR = "favor"
    AGAINST = "against"
    NEUTRAL = "neutral"  # discusses the topic without taking a side
    NOT_ABOUT = "not_about"  # does not address the topic

    @property
    def label(self) -> str:
        return STANCE_LABELS[self]


STANCE_LABELS: dict[Stance, str] = {
    Stance.FAVOR: "Favor",
    Stance.AGAINST: "Against",
    Stance.NEUTRAL: "Neutral",
    Stance.NOT_ABOUT: "Not about",
}


class ConsensusStatus(StrEnum):
    GOLD = "gold"
    UNANIMOUS = "unanimous"
    MAJORITY = "majority"
    UNRESOLVED = "unresolved"
    SINGLE = "single"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS: dict[ConsensusStatus, str] = {
    ConsensusStatus.GOLD: "Gold (adjudicated)",
    ConsensusStatus.UNANIMOUS: "Unanimous",
    ConsensusStatus.MAJORITY: "Majority",
    ConsensusStatus.UNRESOLVED: "Unresolved",
    ConsensusStatus.SINGLE: "Single label",
}


class Relation(StrEnum):
    """How a reply's stance relates to the stance it answers (its parent's, or the article's own)."""

    AGREES = "agrees"  # the same stance
    OPPOSES = "opposes"  # one favors, the other is against
    SHIFTS = "shifts"  # anything else: one addresses the topic and the other not, or one takes a side and one not


STANCE_VALUES: tuple[str, ...] = tuple(Stance)
STATUS_VALUES: tuple[str, ...] = tuple(ConsensusStatus)
STANCE_CHOICES: list[tuple[str, str]] = [(stance.value, stance.label) for stance in Stance]
STATUS_CHOICES: list[tuple[str, str]] = [(status.value, status.label) for status in ConsensusStatus]
STANCE_LIST = ", ".join(STANCE_VALUES)  # for messages: "favor, against, neutral, not_about"

# The two sides a stance can take; a pair of them, one each, is what "opposes" means.
SIDES: frozenset[Stance] = frozenset({Stance.FAVOR, Stance.AGAINST})
OPPOSING_PAIRS: tuple[tuple[Stance, Stance], ...] = ((Stance.FAVOR, Stance.AGAINST), (Stance.AGAINST, Stance.FAVOR))


def relation(answered: str, reply: str) -> Relation:
    """How `reply`'s stance relates to the stance it answers. Query builders state the same rule from
    `OPPOSING_PAIRS` (see `annotations.querysets.relation_condition`)."""
    if answered == reply:
        return Relation.AGREES
    if (answered, reply) in OPPOSING_PAIRS:
        return Relation.OPPOSES
    return Relation.SHIFTS


def takes_both_sides(stances: Iterable[str]) -> bool:
    """Stances (an author's, on one topic in one article) that include both favor and against."""
    return set(stances) >= SIDES


def stance_label(value: str | None) -> str:
    """`not_about` -> `not about`: a stance's display name, lower-cased; anything else as it is."""
    return Stance(value).label.lower() if value in STANCE_VALUES else (value or "")
