"""Use cases that write labels and reply links. The API, the HTMX views and the commands all call these.

Each is one transaction. Every change is recorded in the append-only `ChangeEvent` table, and the
item's consensus is recomputed in the same transaction. Writers of one (item, topic) serialise on the
item's consensus row, so concurrent labels can neither duplicate nor be lost from the consensus.

An item is a comment, or the article itself: label actions take `comment=` or `article=` (exactly one), and the
article's own labels follow every rule of comment labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Value

from annotations.assignment import actions as assignment
from annotations.consensus import compute_consensus
from annotations.items import LabelItem, label_item
from annotations.models import Annotation, ChangeEvent, Consensus, GoldLabel, Stance, Topic
from annotations.permissions import (
    CANNOT_ANNOTATE,
    ONLY_CURATORS_LINK,
    can_annotate,
    can_curate,
)
from debate.actions import relayout_article
from debate.errors import Conflict, PreconditionFailed
from debate.models import Article, Comment, ReplyLink

MAX_NOTE_LENGTH = 10_000
MAX_EVIDENCE_SPANS = 100
STANCE_CHOICES = ", ".join(Stance.values)


# A precondition on the label a write replaces: versions (If-Match: "3"), any label ("*"), or none at all
# ("absent", from If-None-Match: *: a first write that must not overwrite a label made elsewhere meanwhile).
IfMatch = frozenset[int] | Literal["*", "absent"]


def _check_precondition(if_match: IfMatch | None, current: Annotation | None) -> None:
    """Refuse a write whose precondition does not hold for the current label."""
    if if_match is None:
        return
    if if_match == "absent":
        if current is None:
            return
    elif current is not None and (if_match == "*" or current.version in if_match):
        return
    state = "no label exists" if current is None else f"the current version is {current.version}"
    raise PreconditionFailed(
        f"the label changed since you read it: {state}", version=current.version if current else None
    )


class TopicClosed(Conflict):
    """The topic is inactive: it takes no new labels."""


@dataclass(frozen=True)
class LabelWrite:
    annotation: Annotation
    created: bool
    changed: bool


def clean_label(
    *,
    item: Comment | Article | LabelItem,
    stance: Any,
    unsure: Any = False,
    confidence: Any = None,
    note: Any = "",
    evidence: Any = (),
) -> dict[str, Any]:
    """Validate a label's values against the item's text; raises ValidationError naming each bad field."""
    errors = _value_errors(stance=stance, unsure=unsure, confidence=confidence, note=note)
    item = item if isinstance(item, LabelItem) else LabelItem.of(item)
    spans, evidence_error = _clean_evidence(item.body, evidence, item.item_type)
    if evidence_error:
        errors["evidence"] = evidence_error
    if errors:
        raise ValidationError(errors)
    return {"stance": stance, "unsure": unsure, "confidence": confidence, "note": note, "evidence": spans}


def check_label_values(*, stance: Any, unsure: Any = False, confidence: Any = None, note: Any = "") -> None:
    """The checks of `clean_label` that need no item text (everything but evidence)."""
    errors = _value_errors(stance=stance, unsure=unsure, confidence=confidence, note=note)
    if errors:
        raise ValidationError(errors)


def _value_errors(*, stance: Any, unsure: Any, confidence: Any, note: Any) -> dict[str, str]:
    errors = _stance_and_note_errors(stance, note)
    if not isinstance(unsure, bool):
        errors["unsure"] = "must be true or false"
    if confidence is not None and (isinstance(confidence, bool) or confidence not in (1, 2, 3)):
        errors["confidence"] = "must be 1, 2 or 3 (or null)"
    return errors


def _stance_and_note_errors(stance: Any, note: Any) -> dict[str, str]:
    errors: dict[str, str] = {}
    if stance not in Stance.values:
        errors["stance"] = f"{stance!r} is not a stance; choose one of {STANCE_CHOICES}"
    if not isinstance(note, str):
        errors["note"] = "must be text"
    elif len(note) > MAX_NOTE_LENGTH:
        errors["note"] = f"is {len(note)} characters long; at most {MAX_NOTE_LENGTH} are allowed"
    return errors


def _clean_evidence(body: str, evidence: Any, item_type: str) -> tuple[list[dict[str, Any]], str | None]:
    """Spans sorted and deduplicated, each checked against the body (offsets count code points)."""
    if not isinstance(evidence, list | tuple):
        return [], "must be a list of {start, end, text} spans"
    if len(evidence) > MAX_EVIDENCE_SPANS:
        return [], f"has {len(evidence)} spans; at most {MAX_EVIDENCE_SPANS} are allowed"
    spans: dict[tuple[int, int], dict[str, Any]] = {}
    for number, span in enumerate(evidence):
        if not isinstance(span, Mapping) or set(span) != {"start", "end", "text"}:
            return [], f"span {number} must be an object with exactly start, end and text"
        start, end, text = span["start"], span["end"], span["text"]
        if not all(isinstance(value, int) and not isinstance(value, bool) for value in (start, end)):
            return [], f"span {number}: start and end must be integers"
        if not isinstance(text, str):
            return [], f"span {number}: text must be a string"
        if not 0 <= start < end <= len(body):
            return [], f"span {number} ({start}–{end}) is outside the {item_type} body (0–{len(body)})"
        if body[start:end] != text:
            return [], (
                f"span {number} ({start}–{end}): text {_excerpt(text)} does not match the {item_type} body there, "
                f"which reads {_excerpt(body[start:end])}"
            )
        spans[(start, end)] = {"start": start, "end": end, "text": text}
    return [spans[key] for key in sorted(spans)], None


def _excerpt(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _snapshot(annotation: Annotation) -> dict[str, Any]:
    return {
        "stance": annotation.stance,
        "unsure": annotation.unsure,
        "confidence": annotation.confidence,
        "note": annotation.note,
        "evidence": annotation.evidence,
        "version": annotation.version,
        "lead_time_ms": annotation.lead_time_ms,
    }


def _lock_item(item: LabelItem, topic: Topic) -> None:
    """Take the item's lock: its consensus row, created on first use."""
    # Nearly always the row exists: one statement locks it. Only the first write of an item creates it.
    locked = Consensus.objects.select_for_update().filter(**item.keys, topic=topic).order_by().values("pk")
    if locked.first() is not None:
        return
    Consensus.objects.bulk_create([Consensus(**item.keys, topic=topic)], ignore_conflicts=True)
    Consensus.objects.select_for_update().filter(**item.keys, topic=topic).get()


def recompute_consensus(*, item: LabelItem, topic: Topic) -> Consensus:
    """Recompute and store an item's consensus; the caller holds the item's lock."""
    # Labels and gold label in one round trip; without a default ordering, no join to the topic table.
    rows = (
        Annotation.objects.filter(**item.keys, topic=topic)
        .order_by()
        .values_list("stance", Value(False))
        .union(
            GoldLabel.objects.filter(**item.keys, topic=topic).order_by().values_list("stance", Value(True)),
            all=True,
        )
    )
    stances: list[str] = []
    gold = None
    for stance, is_gold in rows:
        if is_gold:
            gold = stance
        else:
            stances.append(stance)
    result = compute_consensus(stances, gold)
    Consensus.objects.filter(**item.keys, topic=topic).update(
        stance=result.stance, status=result.status, n=result.n, counts=result.counts
    )
    return Consensus(**item.keys, topic=topic, stance=result.stance, status=result.status, n=result.n)


def _record(
    *,
    kind: str,
    action: str,
    actor: User,
    item: LabelItem,
    topic: Topic | None = None,
    annotator: User | None = None,
    version: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    ChangeEvent.objects.create(
        kind=kind,
        action=action,
        actor_id=actor.pk,
        actor_username=actor.get_username(),
        item_type=item.item_type,
        comment_id=item.comment_id,
        article_id=item.article_id,
        topic_slug=topic.slug if topic else "",
        annotator_username=annotator.get_username() if annotator else "",
        version=version,
        before=before,
        after=after,
    )


def _ensure_open(topic: Topic) -> None:
    if not topic.is_active:
        raise TopicClosed(f"topic {topic.slug!r} is closed for annotation")


@transaction.atomic
def set_stance(
    *,
    actor: User,
    topic: Topic,
    comment: Comment | None = None,
    article: Article | None = None,
    stance: Any,
    unsure: Any = False,
    confidence: Any = None,
    note: Any = "",
    evidence: Any = (),
    if_match: IfMatch | None = None,
    lead_time_ms: int | None = None,
) -> LabelWrite:
    """Set the actor's own label for (item, topic), the item being `comment` or `article` itself. Idempotent:
    the same values change nothing.

    A paused annotator, or one still qualifying, is refused; a label on a qualification or check item is
    scored (see `annotations.assignment.actions`)."""
    reason = assignment.check_may_label(actor=actor, comment=comment)
    result = _write_stance(
        actor=actor,
        topic=topic,
        comment=comment,
        article=article,
        stance=stance,
        unsure=unsure,
        confidence=confidence,
        note=note,
        evidence=evidence,
        if_match=if_match,
        lead_time_ms=lead_time_ms,
    )
    if result.changed and comment is not None:
        assignment.after_label_write(actor=actor, comment=comment, reason=reason)
    return result


def _write_stance(
    *,
    actor: User,
    topic: Topic,
    comment: Comment | None = None,
    article: Article | None = None,
    stance: Any,
    unsure: Any = False,
    confidence: Any = None,
    note: Any = "",
    evidence: Any = (),
    if_match: IfMatch | None = None,
    lead_time_ms: int | None = None,
) -> LabelWrite:
    item = label_item(comment=comment, article=article)
    if not can_annotate(actor):
        raise PermissionDenied(CANNOT_ANNOTATE)
    _ensure_open(topic)
    values = clean_label(item=item, stance=stance, unsure=unsure, confidence=confidence, note=note, evidence=evidence)
    # Made under the topic's current guidelines; the same values saved again under newer guidelines than the
    # label's confirm it under them (a change, which clears its flag for review).
    values["guideline_version"] = topic.guideline_version
    _lock_item(item, topic)
    current = Annotation.objects.filter(**item.keys, topic=topic, annotator_id=actor.pk).order_by("pk").first()
    _check_precondition(if_match, current)

    if lead_time_ms is not None and (
        isinstance(lead_time_ms, bool) or not isinstance(lead_time_ms, int) or lead_time_ms < 0
    ):
        raise ValidationError({"lead_time_ms": "must be a whole number of milliseconds, at least 0"})
    if current is None:
        annotation = Annotation.objects.create(
            **item.keys,
            topic=topic,
            annotator=actor,
            version=_next_version(item, topic, actor),
            lead_time_ms=lead_time_ms,
            **values,
        )
        _known(annotation, item, topic, actor)
        _record(
            kind=ChangeEvent.Kind.ANNOTATION,
            action=ChangeEvent.Action.CREATE,
            actor=actor,
            item=item,
            topic=topic,
            annotator=actor,
            version=annotation.version,
            after=_snapshot(annotation),
        )
        recompute_consensus(item=item, topic=topic)
        return LabelWrite(annotation, created=True, changed=True)

    _known(current, item, topic, actor)
    if all(getattr(current, field) == value for field, value in values.items()):
        return LabelWrite(current, created=False, changed=False)
    before = _snapshot(current)
    for field, value in values.items():
        setattr(current, field, value)
    current.lead_time_ms = lead_time_ms
    current.version += 1
    current.save()
    _record(
        kind=ChangeEvent.Kind.ANNOTATION,
        action=ChangeEvent.Action.UPDATE,
        actor=actor,
        item=item,
        topic=topic,
        annotator=actor,
        version=current.version,
        before=before,
        after=_snapshot(current),
    )
    if before["stance"] != current.stance:
        recompute_consensus(item=item, topic=topic)
    return LabelWrite(current, created=False, changed=True)


def _known(annotation: Annotation, item: LabelItem, topic: Topic, annotator: User) -> None:
    """Related rows known already: callers that show the label (the API's serializer) need not load them."""
    if item.comment is not None:
        annotation.comment = item.comment
    else:
        assert item.article is not None
        annotation.article = item.article
    annotation.topic, annotation.annotator = topic, annotator


def _next_version(item: LabelItem, topic: Topic, annotator: User) -> int:
    """Versions never repeat for an item and annotator, even after a delete, so stale ETags stay stale."""
    last = ChangeEvent.objects.filter(
        kind=ChangeEvent.Kind.ANNOTATION,
        **item.keys,
        topic_slug=topic.slug,
        annotator_username=annotator.get_username(),
    ).aggregate(last=Max("version"))["last"]
    return (last or 0) + 1


@transaction.atomic
def clear_stance(
    *,
    actor: User,
    topic: Topic,
    comment: Comment | None = None,
    article: Article | None = None,
    if_match: IfMatch | None = None,
) -> None:
    """Remove the actor's own label for (item, topic); raises Annotation.DoesNotExist if there is none."""
    item = label_item(comment=comment, article=article)
    if not can_annotate(actor):
        raise PermissionDenied(CANNOT_ANNOTATE)
    _lock_item(item, topic)
    current = Annotation.objects.filter(**item.keys, topic=topic, annotator_id=actor.pk).first()
    _check_precondition(if_match, current)
    if current is None:
        raise Annotation.DoesNotExist(f"you have no label for {item} on {topic.slug!r}")
    before = _snapshot(current)
    current.delete()
    _record(
        kind=ChangeEvent.Kind.ANNOTATION,
        action=ChangeEvent.Action.DELETE,
        actor=actor,
        item=item,
        topic=topic,
        annotator=actor,
        version=before["version"],
        before=before,
    )
    recompute_consensus(item=item, topic=topic)


@transaction.atomic
def set_parent(*, actor: User, comment: Comment, parent: Comment | None) -> Comment:
    """A curator's correction of a comment's parent; kept through re-imports."""
    if not can_curate(actor):
        raise PermissionDenied(ONLY_CURATORS_LINK)
    # The article row first: relayout_article locks all its comments, and two curators who each held one
    # comment of the same article while waiting for the other's would deadlock. The importer locks it too.
    Article.objects.select_for_update().filter(pk=comment.article_id).first()
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if parent is not None:
        if parent.pk == comment.pk:
            raise ValidationError({"parent": f"comment #{comment.number} cannot answer itself"})
        if parent.article_id != comment.article_id:
            raise ValidationError({"parent": f"comment {parent.pk} belongs to another article"})
        if parent.position >= comment.position:
            raise ValidationError(
                {"parent": f"comment #{parent.number} comes after #{comment.number}; replies answer earlier comments"}
            )
    before = {"parent": comment.parent_id, "manual": comment.parent_is_manual}
    ReplyLink.objects.filter(source=comment, method=ReplyLink.Method.MANUAL).delete()
    if parent is not None:
        # An automatic link to the same comment becomes the manual one, keeping its evidence.
        ReplyLink.objects.update_or_create(
            source=comment, target=parent, defaults={"method": ReplyLink.Method.MANUAL, "score": 1.0}
        )
    comment.parent = parent
    comment.parent_is_manual = True
    comment.save(update_fields=["parent", "parent_is_manual"])
    relayout_article(article_id=comment.article_id)
    _record(
        kind=ChangeEvent.Kind.PARENT,
        action=ChangeEvent.Action.UPDATE,
        actor=actor,
        item=LabelItem.of(comment),
        before=before,
        after={"parent": comment.parent_id, "manual": True},
    )
    comment.refresh_from_db(fields=["depth", "thread_order"])
    return comment


def _gold_snapshot(gold: GoldLabel) -> dict[str, Any]:
    return {"stance": gold.stance, "note": gold.note, "set_by": gold.set_by.get_username()}


@transaction.atomic
def set_gold(
    *,
    actor: User,
    topic: Topic,
    stance: Any,
    note: Any = "",
    comment: Comment | None = None,
    article: Article | None = None,
) -> GoldLabel:
    """A curator's adjudicated label for (item, topic); consensus reads it before any annotator's."""
    item = label_item(comment=comment, article=article)
    if not can_curate(actor):
        raise PermissionDenied("only curators can set gold labels")
    errors = _stance_and_note_errors(stance, note)
    if errors:
        raise ValidationError(errors)
    _lock_item(item, topic)
    gold = GoldLabel.objects.filter(**item.keys, topic=topic).select_related("set_by").first()
    if gold is not None and (gold.stance, gold.note, gold.set_by_id) == (stance, note, actor.pk):
        return gold
    before = _gold_snapshot(gold) if gold else None
    if gold is None:
        gold = GoldLabel(**item.keys, topic=topic)
    gold.stance, gold.note, gold.set_by = stance, note, actor
    gold.save()
    _record(
        kind=ChangeEvent.Kind.GOLD,
        action=ChangeEvent.Action.UPDATE if before else ChangeEvent.Action.CREATE,
        actor=actor,
        item=item,
        topic=topic,
        before=before,
        after=_gold_snapshot(gold),
    )
    recompute_consensus(item=item, topic=topic)
    return gold


@transaction.atomic
def clear_gold(*, actor: User, topic: Topic, comment: Comment | None = None, article: Article | None = None) -> None:
    """Withdraw a gold label: the item's consensus falls back to the annotators' labels."""
    item = label_item(comment=comment, article=article)
    if not can_curate(actor):
        raise PermissionDenied("only curators can remove gold labels")
    _lock_item(item, topic)
    gold = GoldLabel.objects.filter(**item.keys, topic=topic).select_related("set_by").first()
    if gold is None:
        raise GoldLabel.DoesNotExist(f"{item} has no gold label on {topic.slug!r}")
    before = _gold_snapshot(gold)
    gold.delete()
    _record(
        kind=ChangeEvent.Kind.GOLD,
        action=ChangeEvent.Action.DELETE,
        actor=actor,
        item=item,
        topic=topic,
        before=before,
    )
    recompute_consensus(item=item, topic=topic)
