"""A label's values and the rules they obey, apart from any item or database. Pure: no Django.

Writers (the API's serializer, the pages' forms, bulk imports) produce a `LabelValues` whose fields have the
right types; the rules that remain (a known stance, confidence 1–3, a note's length, evidence that quotes the
item's body) are checked here, and `annotations.actions` raises them as a validation error naming each field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from annotations.vocabulary import STANCE_LIST, STANCE_VALUES, Stance

MAX_NOTE_LENGTH = 10_000
MAX_EVIDENCE_SPANS = 100

StoredSpan = dict[str, int | str]  # a span as the label's `evidence` JSON holds it


@dataclass(frozen=True, order=True)
class EvidenceSpan:
    """A passage of the item's body, `body[start:end] == text`; offsets count code points."""

    start: int
    end: int
    text: str

    def stored(self) -> StoredSpan:
        return {"start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True)
class LabelValues:
    """What an annotator says about an item on a topic: the stance and the optional values beside it."""

    stance: str
    unsure: bool = False
    confidence: int | None = None
    note: str = ""
    evidence: tuple[EvidenceSpan, ...] = field(default=())


@dataclass(frozen=True)
class CleanLabel:
    """Values that passed every rule, in the form the label row stores them."""

    stance: Stance
    unsure: bool
    confidence: int | None
    note: str
    evidence: list[StoredSpan]

    def fields(self) -> dict[str, object]:
        return {
            "stance": self.stance,
            "unsure": self.unsure,
            "confidence": self.confidence,
            "note": self.note,
            "evidence": self.evidence,
        }


class InvalidLabel(ValueError):
    """Values that break a rule; `errors` names each bad field with its one-line reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


def stance_and_note_errors(stance: str, note: str) -> dict[str, str]:
    """The rules a gold label's values obey too."""
    errors: dict[str, str] = {}
    if stance not in STANCE_VALUES:
        errors["stance"] = f"{stance!r} is not a stance; choose one of {STANCE_LIST}"
    if not isinstance(note, str):
        errors["note"] = "must be text"
    elif len(note) > MAX_NOTE_LENGTH:
        errors["note"] = f"is {len(note)} characters long; at most {MAX_NOTE_LENGTH} are allowed"
    return errors


def value_errors(values: LabelValues) -> dict[str, str]:
    """Every rule but the evidence's: those need the item's body."""
    errors = stance_and_note_errors(values.stance, values.note)
    # Typed callers cannot get these wrong; bulk rows built from loose data can.
    if not isinstance(values.unsure, bool):
        errors["unsure"] = "must be true or false"
    confidence = values.confidence
    if confidence is not None and (isinstance(confidence, bool) or confidence not in (1, 2, 3)):
        errors["confidence"] = "must be 1, 2 or 3 (or null)"
    return errors


def clean_label(values: LabelValues, *, body: str, item_type: str) -> CleanLabel:
    """The values checked against every rule, evidence against the item's body (sorted, duplicates dropped);
    raises InvalidLabel naming each bad field."""
    errors = value_errors(values)
    spans, evidence_error = clean_evidence(body, values.evidence, item_type)
    if evidence_error:
        errors["evidence"] = evidence_error
    if errors:
        raise InvalidLabel(errors)
    return CleanLabel(Stance(values.stance), values.unsure, values.confidence, values.note, spans)


def clean_evidence(body: str, evidence: Iterable[EvidenceSpan], item_type: str) -> tuple[list[StoredSpan], str | None]:
    """Spans sorted and deduplicated, each checked against the body; or the first one's error."""
    evidence = tuple(evidence)
    if len(evidence) > MAX_EVIDENCE_SPANS:
        return [], f"has {len(evidence)} spans; at most {MAX_EVIDENCE_SPANS} are allowed"
    for number, span in enumerate(evidence):
        if not 0 <= span.start < span.end <= len(body):
            return [], f"span {number} ({span.start}–{span.end}) is outside the {item_type} body (0–{len(body)})"
        if body[span.start : span.end] != span.text:
            return [], (
                f"span {number} ({span.start}–{span.end}): text {_excerpt(span.text)} does not match the "
                f"{item_type} body there, which reads {_excerpt(body[span.start : span.end])}"
            )
    return [span.stored() for span in sorted(set(evidence))], None


def spans_from_json(raw: object) -> tuple[EvidenceSpan, ...]:
    """Evidence as JSON gives it (`[{start, end, text}, ...]`: a stored label's, a bulk row's) as typed spans;
    raises InvalidLabel for anything else."""
    if not isinstance(raw, list | tuple):
        raise InvalidLabel({"evidence": "must be a list of {start, end, text} spans"})
    spans = []
    for number, span in enumerate(raw):
        if not isinstance(span, Mapping) or set(span) != {"start", "end", "text"}:
            raise InvalidLabel({"evidence": f"span {number} must be an object with exactly start, end and text"})
        start, end, text = span["start"], span["end"], span["text"]
        if not all(isinstance(value, int) and not isinstance(value, bool) for value in (start, end)):
            raise InvalidLabel({"evidence": f"span {number}: start and end must be integers"})
        if not isinstance(text, str):
            raise InvalidLabel({"evidence": f"span {number}: text must be a string"})
        spans.append(EvidenceSpan(start, end, text))
    return tuple(spans)


@dataclass(frozen=True)
class LabelEdit:
    """One change to a label, as the annotation panel asks for it: `operation` is a stance, `unsure` (toggle),
    `note` (set `note`), `evidence` (add the span `start`–`end` of the body), `remove` (the evidence at `index`)
    or `clear` (remove the label)."""

    operation: str
    note: str = ""
    start: int | None = None
    end: int | None = None
    index: int | None = None


EDIT_OPERATIONS = "a stance, unsure, note, evidence, remove or clear"


def edited(current: LabelValues | None, edit: LabelEdit, *, body: str, item_type: str) -> LabelValues | None:
    """The label after `edit`, or None to remove it; values not edited are the current label's. A label
    needs a stance: any other edit of an item without one is refused ("choose a stance first")."""
    if edit.operation == "clear":
        return None
    values = current or LabelValues(stance="")
    if edit.operation in STANCE_VALUES:
        values = replace(values, stance=edit.operation)
    elif edit.operation == "unsure":
        values = replace(values, unsure=not values.unsure)
    elif edit.operation == "note":
        values = replace(values, note=edit.note)
    elif edit.operation == "evidence":
        if edit.start is None or edit.end is None:
            raise InvalidLabel({"evidence": f"select some text of the {item_type} first"})
        # The browser sends offsets only; the span's text is the body's own, by construction.
        span = EvidenceSpan(edit.start, edit.end, body[edit.start : edit.end])
        values = replace(values, evidence=(*values.evidence, span))
    elif edit.operation == "remove":
        if edit.index is not None and 0 <= edit.index < len(values.evidence):
            values = replace(values, evidence=tuple(s for n, s in enumerate(values.evidence) if n != edit.index))
    else:
        raise InvalidLabel({"do": f"unknown action {edit.operation!r}; expected {EDIT_OPERATIONS}"})
    if not values.stance:
        raise InvalidLabel({"stance": f"choose a stance first; one of {STANCE_LIST}"})
    return values


def _excerpt(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
