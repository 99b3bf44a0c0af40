"""Use cases that write labels and reply links. The API, the HTMX views and the commands all call these.

Each is one transaction. Every change is recorded in the append-only `ChangeEvent` table, and the
item's consensus is recomputed in the same transaction. Writers of one (item, topic) serialise on the
item's consensus row, so concurrent labels can neither duplicate nor be lost from the consensus.

An item is a comment, or the article itself: label actions take `comment=` or `article=` (exactly one), and the
article's own labels follow every rule of comment labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Max, Q, Value
from django.utils import timezone
from django.utils.text import slugify

from annotations import label_sql, labels
from annotations.assignment import actions as assignment
from annotations.consensus import compute_consensus
from annotations.items import LabelItem, label_item
from annotations.labels import CleanLabel, EvidenceSpan, InvalidLabel, LabelEdit, LabelValues
from annotations.models import Annotation, ChangeEvent, Consensus, GoldLabel, Release, Topic
from annotations.permissions import (
    CANNOT_ANNOTATE,
    ONLY_CURATORS_LINK,
    RELEASES_REFUSED,
    can_annotate,
    can_curate,
    can_release,
)
from annotations.suggestions import actions as suggestions
from debate.actions import relayout_article
from debate.errors import Conflict, DomainError, PreconditionFailed
from debate.models import Article, Comment, Job, ReplyLink

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


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What a write did: `changed`, whether it changed anything (false: the same values again), and
    `created`, whether that made a new row. Callers answer from it rather than checking first (and racing)."""

    changed: bool
    created: bool = False


@dataclass(frozen=True)
class LabelWrite(Outcome):
    """What `set_stance` did to the actor's label."""

    annotation: Annotation


@dataclass(frozen=True)
class Removal:
    """What a `clear_*` action did: removed the row (and which version it was), or found nothing to remove."""

    removed: bool
    version: int | None = None


@dataclass(frozen=True)
class GoldWrite(Outcome):
    """What `set_gold` did to the item's gold label."""

    gold: GoldLabel


@dataclass(frozen=True)
class ParentWrite(Outcome):
    """What `set_parent` did: the comment as laid out afterwards; `changed`, whether its parent changed."""

    comment: Comment


def clean_label(*, item: Comment | Article | LabelItem, values: LabelValues) -> CleanLabel:
    """Validate a label's values against the item's text; raises ValidationError naming each bad field."""
    item = item if isinstance(item, LabelItem) else LabelItem.of(item)
    try:
        return labels.clean_label(values, body=item.body, item_type=item.item_type)
    except InvalidLabel as invalid:
        raise ValidationError(invalid.errors) from None


def check_label_values(values: LabelValues) -> None:
    """The checks of `clean_label` that need no item text (everything but evidence)."""
    errors = labels.value_errors(values)
    if errors:
        raise ValidationError(errors)


def evidence_of(raw: object) -> tuple[EvidenceSpan, ...]:
    """Evidence as JSON gives it, as spans; raises ValidationError for anything else."""
    try:
        return labels.spans_from_json(raw)
    except InvalidLabel as invalid:
        raise ValidationError(invalid.errors) from None


Snapshot = dict[str, object]  # a row's values as the history stores them (JSON)


def _snapshot(annotation: Annotation) -> Snapshot:
    return {
        "stance": annotation.stance,
        "unsure": annotation.unsure,
        "confidence": annotation.confidence,
        "note": annotation.note,
        "evidence": annotation.evidence,
        "version": annotation.version,
        "lead_time_ms": annotation.lead_time_ms,
    }


def _lock_item(item: LabelItem, topic: Topic) -> int:
    """Take the item's lock: its consensus row, created on first use; returns the row's id."""
    # Nearly always the row exists: one statement locks it, written out because it runs on every label write
    # (the ORM compiled it anew each time: 0.7 ms of CPU). Only the first write of an item creates the row.
    found = _locked_consensus_id(item, topic)
    if found is not None:
        return found
    Consensus.objects.bulk_create([Consensus(**item.keys, topic=topic)], ignore_conflicts=True)
    created = _locked_consensus_id(item, topic)  # ours, or the row a concurrent first write committed
    if created is None:
        raise Consensus.DoesNotExist(f"no consensus row for {item} on {topic.slug!r} after creating it")
    return created


def _locked_consensus_id(item: LabelItem, topic: Topic) -> int | None:
    """The id of the item's consensus row on the topic, locked until the transaction ends; None if missing."""
    table = Consensus._meta.db_table
    comment = "comment_id IS NULL" if item.comment_id is None else "comment_id = %s"
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    params = [item.article_id, topic.pk] if item.comment_id is None else [item.article_id, item.comment_id, topic.pk]
    with connection.cursor() as cursor:
        cursor.execute(  # table name from the model; values are parameters
            f"SELECT id FROM {table} WHERE article_id = %s AND {comment} AND topic_id = %s{lock}",  # noqa: S608
            params,
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


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
    kind: ChangeEvent.Kind,
    action: ChangeEvent.Action,
    actor: User,
    item: LabelItem,
    topic: Topic | None = None,
    annotator: User | None = None,
    version: int | None = None,
    before: Snapshot | None = None,
    after: Snapshot | None = None,
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


def _record_label(
    action: ChangeEvent.Action,
    *,
    actor: User,
    item: LabelItem,
    topic: Topic,
    label: Annotation,
    before: Snapshot | None = None,
) -> None:
    """Record a change of the actor's own label: its version, and its values after unless it was deleted."""
    after = None if action == ChangeEvent.Action.DELETE else _snapshot(label)
    _record(
        kind=ChangeEvent.Kind.ANNOTATION,
        action=action,
        actor=actor,
        item=item,
        topic=topic,
        annotator=actor,
        version=label.version,
        before=before,
        after=after,
    )


def _ensure_open(topic: Topic) -> None:
    if not topic.is_active:
        raise TopicClosed(f"topic {topic.slug!r} is closed for annotation")


def _locked_label(*, actor: User, topic: Topic, item: LabelItem) -> tuple[int, Annotation | None]:
    """The item's lock (its consensus row's id) and the actor's label on (item, topic), read under it."""
    consensus_id = _lock_item(item, topic)
    return consensus_id, label_sql.read_label(
        article_id=item.article_id, comment_id=item.comment_id, topic_id=topic.pk, annotator_id=actor.pk
    )


@transaction.atomic
def set_stance(
    *,
    actor: User,
    topic: Topic,
    comment: Comment | None = None,
    article: Article | None = None,
    values: LabelValues,
    if_match: IfMatch | None = None,
    lead_time_ms: int | None = None,
) -> LabelWrite:
    """Set the actor's own label for (item, topic), the item being `comment` or `article` itself. Idempotent:
    the same values change nothing (`changed` is false).

    A paused annotator, or one still qualifying, is refused; a label on a qualification or check item is
    scored (see `annotations.assignment.actions`)."""
    reason = assignment.check_may_label(actor=actor, comment=comment)
    result = _write_stance(
        actor=actor,
        topic=topic,
        item=label_item(comment=comment, article=article),
        values=values,
        if_match=if_match,
        lead_time_ms=lead_time_ms,
    )
    if result.changed and comment is not None:
        assignment.after_label_write(actor=actor, comment=comment, reason=reason)
        suggestions.record_shown(annotation=result.annotation, actor=actor, comment=comment)
    return result


def _write_stance(
    *,
    actor: User,
    topic: Topic,
    item: LabelItem,
    values: LabelValues,
    if_match: IfMatch | None,
    lead_time_ms: int | None = None,
) -> LabelWrite:
    if not can_annotate(actor):
        raise PermissionDenied(CANNOT_ANNOTATE)
    _ensure_open(topic)
    fields = clean_label(item=item, values=values).fields()
    # Made under the topic's current guidelines; the same values saved again under newer guidelines than the
    # label's confirm it under them (a change, which clears its flag for review).
    fields["guideline_version"] = topic.guideline_version
    _check_lead_time(lead_time_ms)
    consensus_id, current = _locked_label(actor=actor, topic=topic, item=item)
    _check_precondition(if_match, current)
    return _apply(PendingWrite(item, topic, actor, fields, lead_time_ms, current, consensus_id))


def _check_lead_time(lead_time_ms: object) -> None:
    if lead_time_ms is not None and (
        isinstance(lead_time_ms, bool) or not isinstance(lead_time_ms, int) or lead_time_ms < 0
    ):
        raise ValidationError({"lead_time_ms": "must be a whole number of milliseconds, at least 0"})


@dataclass(frozen=True)
class PendingWrite:
    """A label write whose values passed every check, under the item's lock (`consensus_id`): `fields` over
    `current` (None: no label yet)."""

    item: LabelItem
    topic: Topic
    actor: User
    fields: dict[str, object]
    lead_time_ms: int | None
    current: Annotation | None
    consensus_id: int

    def values(self) -> tuple[LabelItem, Topic, User, dict[str, object], int | None, Annotation | None]:
        return self.item, self.topic, self.actor, self.fields, self.lead_time_ms, self.current


def _apply(write: PendingWrite) -> LabelWrite:
    """Write checked fields over `current` (None: no label yet); the caller holds the item's lock."""
    if connection.vendor == "postgresql":
        return _write_in_one_statement(write)
    item, topic, actor, fields, lead_time_ms, current = write.values()
    if current is None:
        annotation = Annotation(
            **item.keys,
            topic=topic,
            annotator=actor,
            version=_next_version(item, topic, actor),
            lead_time_ms=lead_time_ms,
        )
        for name, value in fields.items():
            setattr(annotation, name, value)
        annotation.save(force_insert=True)
        _known(annotation, item, topic, actor)
        _record_label(ChangeEvent.Action.CREATE, actor=actor, item=item, topic=topic, label=annotation)
        recompute_consensus(item=item, topic=topic)
        return LabelWrite(annotation, created=True, changed=True)

    _known(current, item, topic, actor)
    if all(getattr(current, name) == value for name, value in fields.items()):
        return LabelWrite(current, created=False, changed=False)
    before = _snapshot(current)
    for name, value in fields.items():
        setattr(current, name, value)
    current.lead_time_ms = lead_time_ms
    current.version += 1
    current.save()
    _record_label(ChangeEvent.Action.UPDATE, actor=actor, item=item, topic=topic, label=current, before=before)
    if before["stance"] != current.stance:
        recompute_consensus(item=item, topic=topic)
    return LabelWrite(current, created=False, changed=True)


def _write_in_one_statement(write: PendingWrite) -> LabelWrite:
    """`_write_stance`'s write on PostgreSQL: the label, its event and the consensus in one statement
    (`annotations.label_sql`), with the same outcome as the ORM path below it in `_write_stance`."""
    item, topic, actor, fields, lead_time_ms, current = write.values()
    consensus_id = write.consensus_id
    if current is not None and all(getattr(current, name) == value for name, value in fields.items()):
        _known(current, item, topic, actor)
        return LabelWrite(current, created=False, changed=False)
    now = timezone.now()
    version = None if current is None else current.version + 1
    after: Snapshot = {name: fields[name] for name in _SNAPSHOT_VALUES}
    after.update(version=version, lead_time_ms=lead_time_ms)
    pk, version = label_sql.write_label(
        consensus_id=consensus_id,
        article_id=item.article_id,
        comment_id=item.comment_id,
        topic_id=topic.pk,
        topic_slug=topic.slug,
        annotator_id=actor.pk,
        annotator_username=actor.get_username(),
        actor_id=actor.pk,
        actor_username=actor.get_username(),
        fields=fields,
        lead_time_ms=lead_time_ms,
        now=now,
        current_id=None if current is None else current.pk,
        version=version,
        before=None if current is None else _snapshot(current),
        after=after,
        recompute=current is None or current.stance != fields["stance"],
    )
    annotation = Annotation(
        pk=pk,
        **item.keys,
        topic_id=topic.pk,
        annotator_id=actor.pk,
        version=version,
        lead_time_ms=lead_time_ms,
        created_at=now if current is None else current.created_at,
        updated_at=now,
    )
    for name, value in fields.items():
        setattr(annotation, name, value)
    annotation._state.adding = False
    annotation._state.db = connection.alias
    _known(annotation, item, topic, actor)
    return LabelWrite(annotation, created=current is None, changed=True)


_SNAPSHOT_VALUES = ("stance", "unsure", "confidence", "note", "evidence")


def _known(annotation: Annotation, item: LabelItem, topic: Topic, annotator: User) -> None:
    """Related rows known already: callers that show the label (the API's serializer) need not load them."""
    if item.comment is not None:
        annotation.comment = item.comment
    elif item.article is not None:
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
    missing_ok: bool = False,
) -> Removal:
    """Remove the actor's own label for (item, topic). Without a label: raises Annotation.DoesNotExist, or with
    `missing_ok` answers that nothing was removed."""
    item = label_item(comment=comment, article=article)
    if not can_annotate(actor):
        raise PermissionDenied(CANNOT_ANNOTATE)
    _, current = _locked_label(actor=actor, topic=topic, item=item)
    if current is None and missing_ok:
        return Removal(removed=False)
    _check_precondition(if_match, current)
    return _remove(item=item, topic=topic, actor=actor, current=current)


def edit_stance(
    *,
    actor: User,
    edit: LabelEdit,
    topic: Topic,
    comment: Comment | None = None,
    article: Article | None = None,
    if_match: IfMatch | None = None,
) -> LabelWrite | Removal:
    """One edit of the actor's label on (item, topic), as the annotation panel asks for it (a stance, unsure,
    a note, evidence, `clear`): the other values stay the current label's (`labels.edited` has the rules)."""
    item = label_item(comment=comment, article=article)
    current = Annotation.objects.filter(**item.keys, topic=topic, annotator_id=actor.pk).order_by("pk").first()
    before = None
    if current is not None:
        evidence = evidence_of(current.evidence)
        before = LabelValues(current.stance, current.unsure, current.confidence, current.note, evidence)
    try:
        values = labels.edited(before, edit, body=item.body, item_type=item.item_type.value)
    except InvalidLabel as invalid:
        raise ValidationError(invalid.errors) from None
    if values is None:
        return clear_stance(
            actor=actor, topic=topic, comment=comment, article=article, if_match=if_match, missing_ok=True
        )
    return set_stance(actor=actor, topic=topic, comment=comment, article=article, values=values, if_match=if_match)


def _remove(*, item: LabelItem, topic: Topic, actor: User, current: Annotation | None) -> Removal:
    """Delete `current`, record it and recompute the consensus; the caller holds the item's lock."""
    if current is None:
        raise Annotation.DoesNotExist(f"you have no label for {item} on {topic.slug!r}")
    before = _snapshot(current)
    current.delete()
    _record_label(ChangeEvent.Action.DELETE, actor=actor, item=item, topic=topic, label=current, before=before)
    recompute_consensus(item=item, topic=topic)
    return Removal(removed=True, version=current.version)


# --- several labels in one request (the browser's write queue, API clients) ------------------------------

MAX_BATCH = 100


@dataclass(frozen=True)
class LabelRequest:
    """One write of a batch: the actor's label for (item, topic) set to `values`, or removed (`values` None)."""

    topic_slug: str
    comment_id: int | None = None
    article_id: int | None = None
    values: LabelValues | None = None
    lead_time_ms: int | None = None
    if_match: IfMatch | None = None


LabelOutcome = LabelWrite | Removal | Exception


@transaction.atomic
def write_labels(*, actor: User, requests: Sequence[LabelRequest]) -> list[LabelOutcome]:
    """Apply the actor's label writes in order, each with its own outcome: a `LabelWrite`, a `Removal`, or the
    exception a single write would have raised (refused, invalid, missing, stale); a refused write changes
    nothing and the others go on. Every rule of `set_stance` and `clear_stance` holds for each write, and so
    does their serialisation on the item's lock; the items and topics are read once, and the locks taken in
    one statement (in id order, as every batch takes them, so two batches cannot deadlock on each other).
    One transaction: an unexpected error leaves nothing behind."""
    if len(requests) > MAX_BATCH:
        raise ValidationError({"writes": f"has {len(requests)} writes; at most {MAX_BATCH} are allowed"})
    if not can_annotate(actor):
        raise PermissionDenied(CANNOT_ANNOTATE)
    comments = Comment.objects.in_bulk([r.comment_id for r in requests if r.comment_id is not None])
    articles = Article.objects.in_bulk([r.article_id for r in requests if r.comment_id is None and r.article_id])
    topics = {topic.slug: topic for topic in Topic.objects.filter(slug__in={r.topic_slug for r in requests})}
    standing = assignment.may_label(actor=actor, comment_ids={r.comment_id for r in requests})

    outcomes: list[LabelOutcome | None] = [None] * len(requests)
    planned: list[tuple[int, LabelItem, Topic, dict[str, object] | None]] = []
    for number, request in enumerate(requests):
        try:
            item, topic = _resolve(request, comments, articles, topics)
            refusal = standing(request.comment_id)
            if refusal is not None:
                raise refusal
            fields = None
            if request.values is not None:
                _ensure_open(topic)
                fields = clean_label(item=item, values=request.values).fields()
                _check_lead_time(request.lead_time_ms)
                fields["guideline_version"] = topic.guideline_version
            planned.append((number, item, topic, fields))
        except (ValidationError, PermissionDenied, ObjectDoesNotExist, DomainError) as exc:
            outcomes[number] = exc

    keys = sorted({(item.article_id, item.comment_id or 0, topic.pk) for _, item, topic, _ in planned})
    locks = _lock_items(keys)
    currents = _current_labels(actor, keys)
    for number, item, topic, fields in planned:
        request = requests[number]
        key = (item.article_id, item.comment_id or 0, topic.pk)
        current = currents.get(key)
        try:
            _check_precondition(request.if_match, current)
            if fields is None:
                outcomes[number] = _remove(item=item, topic=topic, actor=actor, current=current)  # raises if none
                currents.pop(key)
                continue
        except (PreconditionFailed, ObjectDoesNotExist) as exc:
            outcomes[number] = exc
            continue
        result = _apply(PendingWrite(item, topic, actor, fields, request.lead_time_ms, current, locks[key]))
        currents[key] = result.annotation
        if result.changed and item.comment is not None:
            assignment.after_label_write(actor=actor, comment=item.comment, reason=standing.reason(item.comment_id))
            suggestions.record_shown(annotation=result.annotation, actor=actor, comment=item.comment)
        outcomes[number] = result
    return [outcome for outcome in outcomes if outcome is not None]


def _resolve(
    request: LabelRequest,
    comments: Mapping[int, Comment],
    articles: Mapping[int, Article],
    topics: Mapping[str, Topic],
) -> tuple[LabelItem, Topic]:
    if request.comment_id is not None:
        comment = comments.get(request.comment_id)
        if comment is None:
            raise Comment.DoesNotExist(f"no comment with id {request.comment_id}")
        item = LabelItem.of(comment)
    else:
        article = articles.get(request.article_id or 0)
        if article is None:
            raise Article.DoesNotExist(f"no article with id {request.article_id}")
        item = LabelItem.of(article)
    topic = topics.get(request.topic_slug)
    if topic is None:
        raise Topic.DoesNotExist(f"unknown topic {request.topic_slug!r}; see /api/topics/")
    return item, topic


ItemKey = tuple[int, int, int]  # (article id, comment id or 0 for the article itself, topic id)


def _key_filter(keys: Sequence[ItemKey]) -> Q:
    condition = Q(pk__in=[])
    for article_id, comment_id, topic_id in keys:
        condition |= Q(article_id=article_id, comment_id=comment_id or None, topic_id=topic_id)
    return condition


def _lock_items(keys: Sequence[ItemKey]) -> dict[ItemKey, int]:
    """Lock the consensus rows of these items (created when missing), in id order; their ids by key."""
    if not keys:
        return {}

    def locked() -> dict[ItemKey, int]:
        rows = Consensus.objects.select_for_update().filter(_key_filter(keys)).order_by("pk")
        return {(a, c or 0, t): pk for pk, a, c, t in rows.values_list("pk", "article_id", "comment_id", "topic_id")}

    # Missing rows are created before any row is locked, in key order: a batch that inserted while holding the
    # locks of rows it had found would wait for another batch's uncommitted row while that batch waited for one
    # of those locks (a deadlock); and two batches inserting in different orders would each wait for the other.
    existing = Consensus.objects.filter(_key_filter(keys)).values_list("article_id", "comment_id", "topic_id")
    present = {(a, c or 0, t) for a, c, t in existing}
    missing = sorted({key for key in keys if key not in present})
    if missing:
        Consensus.objects.bulk_create(
            [Consensus(article_id=a, comment_id=c or None, topic_id=t) for a, c, t in missing], ignore_conflicts=True
        )
    return locked()


def _current_labels(actor: User, keys: Sequence[ItemKey]) -> dict[ItemKey, Annotation]:
    if not keys:
        return {}
    labels = Annotation.objects.filter(_key_filter(keys), annotator_id=actor.pk).order_by("pk")
    return {(label.article_id, label.comment_id or 0, label.topic_id): label for label in labels}


@transaction.atomic
def set_parent(*, actor: User, comment: Comment, parent: Comment | None) -> ParentWrite:
    """A curator's correction of a comment's parent; kept through re-imports. Setting the parent it has already
    makes the link manual (`changed` says whether the parent itself changed)."""
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
    before: Snapshot = {"parent": comment.parent_id, "manual": comment.parent_is_manual}
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
    return ParentWrite(comment, changed=before["parent"] != comment.parent_id)


def set_parent_number(*, actor: User, comment: Comment, number: str) -> ParentWrite:
    """`set_parent` with the parent named by its number in the comment's article (`""`: no parent)."""
    parent = None
    if number:
        parent = Comment.objects.numbered(comment.article_id, _whole_or(number, -1))
        if parent is None:
            raise ValidationError(f"this article has no comment #{number}")
    return set_parent(actor=actor, comment=comment, parent=parent)


def _whole_or(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def _gold_snapshot(gold: GoldLabel) -> Snapshot:
    return {"stance": gold.stance, "note": gold.note, "set_by": gold.set_by.get_username()}


def _locked_gold(*, topic: Topic, item: LabelItem) -> GoldLabel | None:
    """The gold label of (item, topic) under the item's lock."""
    _lock_item(item, topic)
    return GoldLabel.objects.filter(**item.keys, topic=topic).select_related("set_by").first()


@transaction.atomic
def set_gold(
    *,
    actor: User,
    topic: Topic,
    stance: str,
    note: str = "",
    comment: Comment | None = None,
    article: Article | None = None,
) -> GoldWrite:
    """A curator's adjudicated label for (item, topic); consensus reads it before any annotator's. The same
    stance and note from the same curator again change nothing."""
    item = label_item(comment=comment, article=article)
    if not can_curate(actor):
        raise PermissionDenied("only curators can set gold labels")
    errors = labels.stance_and_note_errors(stance, note)
    if errors:
        raise ValidationError(errors)
    gold = _locked_gold(topic=topic, item=item)
    if gold is not None and (gold.stance, gold.note, gold.set_by_id) == (stance, note, actor.pk):
        return GoldWrite(gold, created=False, changed=False)
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
    return GoldWrite(gold, created=before is None, changed=True)


@transaction.atomic
def clear_gold(*, actor: User, topic: Topic, comment: Comment | None = None, article: Article | None = None) -> Removal:
    """Withdraw a gold label: the item's consensus falls back to the annotators' labels. Raises
    GoldLabel.DoesNotExist when there is none."""
    item = label_item(comment=comment, article=article)
    if not can_curate(actor):
        raise PermissionDenied("only curators can remove gold labels")
    gold = _locked_gold(topic=topic, item=item)
    if gold is None:
        raise GoldLabel.DoesNotExist(f"{item} has no gold label on {topic.slug!r}")
    before = _gold_snapshot(gold)
    gold.delete()
    _record(
        kind=ChangeEvent.Kind.GOLD, action=ChangeEvent.Action.DELETE, actor=actor, item=item, topic=topic, before=before
    )
    recompute_consensus(item=item, topic=topic)
    return Removal(removed=True)


RELEASE_ATTEMPTS = 2  # safe to run again: files go to a folder of their own, renamed into place at the end


@transaction.atomic
def start_release(*, actor: User, name: str, filters: Mapping[str, object] | None = None) -> Release:
    """A dataset release of the labels (and comments) these export filters select, written by a background job
    queued on commit. Curators, researchers and admins; unknown or invalid filters are refused now."""
    from annotations.releases import validate_filters
    from debate.jobs import enqueue_job

    if not can_release(actor):
        raise PermissionDenied(RELEASES_REFUSED)
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": ["a release needs a name"]})
    if len(name) > 200:
        raise ValidationError({"name": ["at most 200 characters"]})
    cleaned = validate_filters(dict(filters or {}), actor)
    created: list[Release] = []

    def describe(job: Job) -> None:
        release = Release.objects.create(
            name=name, filters=cleaned, job=job, created_by=actor, folder=f"pending-{job.pk}"
        )
        release.folder = f"{release.pk:05d}-{slugify(name)[:60] or 'release'}"
        release.save(update_fields=["folder"])
        created.append(release)

    enqueue_job(kind=Job.Kind.RELEASE, actor=actor, max_attempts=RELEASE_ATTEMPTS, before_enqueue=describe)
    return created[0]
