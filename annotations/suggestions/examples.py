"""What a stance model learns from, without the model: the training example, the item's text as the model
reads it, and how a consensus label weighs. Pure and light (standard library only), so that the web processes,
which select and describe training data, never load scikit-learn; `annotations.suggestions.model` trains."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ABOUT_STANCES",
    "CONSENSUS_STATUSES",
    "NOT_ABOUT",
    "STANCES",
    "Example",
    "ItemText",
    "agreement_weight",
    "split_quotes",
]

STANCES = ("favor", "against", "neutral", "not_about")
NOT_ABOUT = "not_about"
ABOUT_STANCES = ("favor", "against", "neutral")
CONSENSUS_STATUSES = ("gold", "unanimous", "majority")  # what people agree on; `single` and `unresolved` are not


@dataclass(frozen=True)
class ItemText:
    """What the model reads of an item: its own words, its parent's, and the passages it quotes."""

    text: str
    context: str = ""
    quotes: str = ""


@dataclass(frozen=True)
class Example:
    item: ItemText
    stance: str
    weight: float = 1.0
    key: int | None = None  # the caller's id of the item: `TrainResult.held_out` is keyed by it


def agreement_weight(status: str, counts: dict[str, int], stance: str) -> float:
    """How much a consensus label counts in training: 1 for gold and unanimous, the agreeing share for a
    majority (2 of 3 labels: 0.67); 0 for anything people do not agree on."""
    if status in ("gold", "unanimous"):
        return 1.0
    if status == "majority":
        total = sum(counts.values())
        return counts.get(stance, 0) / total if total else 0.0
    return 0.0


def split_quotes(body: str, spans: Sequence[dict[str, Any]]) -> tuple[str, str]:
    """The body without its quoted spans, and the quoted passages joined by newlines. Spans out of range or
    overlapping are clipped; their order does not matter."""
    cuts = sorted(
        (max(0, int(span.get("start", 0))), min(len(body), int(span.get("end", 0))))
        for span in spans
        if isinstance(span, dict)
    )
    own: list[str] = []
    quoted: list[str] = []
    at = 0
    for start, end in cuts:
        start = max(start, at)
        if end <= start:
            continue
        own.append(body[at:start])
        quoted.append(body[start:end])
        at = end
    own.append(body[at:])
    return "".join(own), "\n".join(quoted)
