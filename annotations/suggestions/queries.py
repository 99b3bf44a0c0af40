"""The read side of suggestions: what a model trains on, and who sees which suggestion.

Blind annotation holds: a model is learned from consensus labels, so what it suggests is derived from other
people's labels. Curators, researchers and admins see every suggestion. An annotator sees a hint only on the
items of their queue that nobody else labels (assignment reason `single`): never on an item of the agreement
overlap sample (agreement is measured on independent labels), never on a gold item (qualification, attention
check), and not at all while every item is in the overlap sample (the default) or hints are turned off.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BigIntegerField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce

from annotations.assignment.queries import assignment_mode, in_plan
from annotations.models import (
    Annotation,
    Assignment,
    AssignmentReason,
    AssignmentSettings,
    Consensus,
    GoldLabel,
    Suggestion,
    SuggestionModel,
    SuggestionSettings,
    Topic,
)
from annotations.permissions import sees_all_labels
from annotations.suggestions.examples import CONSENSUS_STATUSES, Example, ItemText, agreement_weight, split_quotes
from debate.db import among
from debate.models import Comment

HINTS_OFF_OVERLAP = (
    "Suggestions are off: every item is in the agreement overlap sample, where labels must stay independent so "
    "that agreement is honest. A curator can lower the overlap share on the Assignment page."
)
HINTS_OFF_SETTING = "Suggestions are turned off by a curator."


def item_text(comment: Comment, parent_body: str | None) -> ItemText:
    own, quotes = split_quotes(comment.body, comment.quoted_spans or [])
    return ItemText(text=own, context=parent_body or "", quotes=quotes)


def item_texts(comments: QuerySet[Comment], chunk: int = 2000) -> Iterator[list[tuple[int, int, ItemText]]]:
    """(comment id, article id, what the model reads) for these comments, `chunk` at a time."""
    rows = comments.order_by("pk").values_list("pk", "article_id", "body", "quoted_spans", "parent__body")
    batch: list[tuple[int, int, ItemText]] = []
    for pk, article_id, body, spans, parent_body in rows.iterator(chunk_size=chunk):
        own, quotes = split_quotes(body, spans or [])
        batch.append((pk, article_id, ItemText(text=own, context=parent_body or "", quotes=quotes)))
        if len(batch) >= chunk:
            yield batch
            batch = []
    if batch:
        yield batch


def training_rows(topic: Topic) -> QuerySet[Consensus]:
    """The topic's comment items with a consensus people agree on (gold, unanimous, majority), leaving out an
    item whose labels include an `unsure` one unless a curator settled it with a gold label."""
    unsure = Annotation.objects.filter(comment=OuterRef("comment"), topic=topic, unsure=True)
    return (
        Consensus.objects.filter(topic=topic, comment__isnull=False, status__in=CONSENSUS_STATUSES)
        .filter(Q(status="gold") | ~Exists(unsure))
        .order_by("comment_id")
    )


def consensus_count(topic: Topic) -> int:
    return training_rows(topic).count()


def training_examples(topic: Topic) -> list[Example]:
    rows = training_rows(topic).values_list(
        "stance", "status", "counts", "comment__body", "comment__quoted_spans", "comment__parent__body", "comment_id"
    )
    examples = []
    for stance, status, counts, body, spans, parent_body, comment_id in rows.iterator(chunk_size=2000):
        if stance is None or status is None:  # not among CONSENSUS_STATUSES; for the type checker
            continue
        own, quotes = split_quotes(body, spans or [])
        examples.append(
            Example(
                item=ItemText(text=own, context=parent_body or "", quotes=quotes),
                stance=stance,
                weight=agreement_weight(status, counts or {}, stance),
                key=comment_id,
            )
        )
    return examples


def current_models() -> dict[int, SuggestionModel]:
    """The latest model of each topic, by topic id (usable or not)."""
    latest: dict[int, SuggestionModel] = {}
    for model in SuggestionModel.objects.defer("data").order_by("topic_id", "-version"):
        latest.setdefault(model.topic_id, model)
    return latest


@dataclass(frozen=True)
class HintState:
    on: bool
    message: str = ""
    settings: SuggestionSettings | None = None  # as read on the way (annotators only), for the queue


def hint_state(
    user: Any, assignment: AssignmentSettings | None = None, settings: SuggestionSettings | None = None
) -> HintState:
    """Whether this annotator may see hints at all, and if not, why (the workspace says it)."""
    if sees_all_labels(user) or not in_plan(user):
        return HintState(on=False)
    settings = settings or SuggestionSettings.current()
    if not settings.hints:
        return HintState(on=False, message=HINTS_OFF_SETTING, settings=settings)
    if not assignment_mode(assignment or AssignmentSettings.current()):
        return HintState(on=False, message=HINTS_OFF_OVERLAP, settings=settings)
    return HintState(on=True, settings=settings)


def hint_eligible(user: Any) -> QuerySet[Assignment]:
    """The caller's single-annotator assignments: the only items an annotator may see hints on."""
    return Assignment.objects.filter(annotator=user, reason=AssignmentReason.SINGLE)


def suggestion_record(row: Suggestion, version: int) -> dict[str, Any]:
    return {
        "stance": row.stance,
        "probability": round(row.probability, 4),
        "band": row.band or None,
        "model_version": version,
    }


def suggestions_for(
    user: Any, comments: Iterable[Comment], state: HintState | None = None
) -> dict[int, dict[str, dict[str, Any]]]:
    """Per comment id, per topic slug, the suggestion this user may see (one or two queries for a page).

    Curators, researchers and admins: every suggestion of a usable model. Annotators: hints (band high or
    medium) on their single-annotator items only, when hints are on (see the module's docstring)."""
    return suggestions_for_ids(user, [comment.pk for comment in comments], state)


def suggestions_for_ids(
    user: Any, ids: list[int], state: HintState | None = None
) -> dict[int, dict[str, dict[str, Any]]]:
    """`suggestions_for` by comment ids."""
    if not ids:
        return {}
    rows = Suggestion.objects.filter(among("comment_id", ids), model__usable=True).select_related("topic", "model")
    if not sees_all_labels(user):
        if not (state or hint_state(user)).on:
            return {}
        rows = rows.exclude(band="").filter(Exists(hint_eligible(user).filter(comment=OuterRef("comment"))))
    result: dict[int, dict[str, dict[str, Any]]] = {}
    for row in rows.only(
        "comment_id", "stance", "probability", "band", "topic__slug", "model__version", "model__usable"
    ):
        result.setdefault(row.comment_id, {})[row.topic.slug] = suggestion_record(row, row.model.version)
    return result


def hint_for_label(user: Any, comment: Comment, topic: Topic) -> Suggestion | None:
    """The hint an annotator (hints on) sees on this item and topic, as `suggestions_for` gives it, if any."""
    return (
        Suggestion.objects.filter(comment=comment, topic=topic, model__usable=True)
        .exclude(band="")
        .filter(Exists(hint_eligible(user).filter(comment=OuterRef("comment"))))
        .select_related("model")
        .only("stance", "model__version")
        .first()
    )


RANDOM_STREAM_MODULUS = 10_000
KNUTH = 2654435761


def stream_hash() -> ExpressionWrapper[CombinedExpression]:
    """A comment's place in 0..9,999 by Knuth's multiplicative hash of its id: the same for everyone and for
    every ordering, so that the comments below `share` * 10,000 are a fixed pseudo-random (unbiased) sample."""
    return ExpressionWrapper(F("pk") * KNUTH % 4294967296 % RANDOM_STREAM_MODULUS, output_field=BigIntegerField())


def in_random_stream(comment_id: int, share: float) -> bool:
    return (comment_id * KNUTH) % 4294967296 % RANDOM_STREAM_MODULUS < round(share * RANDOM_STREAM_MODULUS)


def stream_of(settings: SuggestionSettings, comment_id: int) -> str:
    """The stream a label's item came from while queues are ordered by uncertainty; '' otherwise."""
    if not settings.active_learning:
        return ""
    return "random" if in_random_stream(comment_id, settings.random_share) else "uncertain"


def uncertainty_of_comment() -> Coalesce:
    """For a comment row: the model's highest uncertainty across the topics (1 where no model suggests yet)."""
    highest = (
        Suggestion.objects.filter(comment=OuterRef("pk"), model__usable=True)
        .order_by()
        .values("comment")
        .annotate(top=Max("uncertainty"))
        .values("top")
    )
    return Coalesce(Subquery(highest), Value(1.0), output_field=FloatField())


def served_from_streams(user: Any) -> int:
    """How many items the user labelled from either stream (the count the streams' rhythm runs on)."""
    return (
        Annotation.objects.filter(annotator=user, comment__isnull=False)
        .exclude(stream="")
        .values("comment")
        .distinct()
        .count()
    )


def stream_after(served: int, share: float) -> str:
    """The stream of the item served after `served` others: every (1 / share)-th is a random one."""
    return "random" if math.floor((served + 1) * share) > math.floor(served * share) else "uncertain"


def next_stream(user: Any, settings: SuggestionSettings) -> str:
    """Which stream serves the user's next single item: every (1 / random_share)-th comes from the random
    stream, the others from the uncertain one, counted over the items they labelled from either."""
    return stream_after(served_from_streams(user), settings.random_share)


def active_learning_pick(user: Any, pending: QuerySet[Comment], settings: SuggestionSettings) -> int | None:
    """Among the user's pending single-annotator items (the only ones the model may steer), the next one by
    active learning: from the random stream (a fixed pseudo-random sample, in hash order) or the uncertain one
    (highest uncertainty first), as `next_stream` says; the other stream when that one is empty."""
    singles = pending.filter(Exists(hint_eligible(user).filter(comment=OuterRef("pk")))).annotate(
        stream_place=stream_hash()
    )
    cut = round(settings.random_share * RANDOM_STREAM_MODULUS)
    random_pick = singles.filter(stream_place__lt=cut).order_by("stream_place", "pk").values_list("pk", flat=True)
    uncertain_pick = (
        singles.filter(stream_place__gte=cut)
        .annotate(uncertainty=uncertainty_of_comment())
        .order_by("-uncertainty", "pk")
        .values_list("pk", flat=True)
    )
    first, second = (
        (random_pick, uncertain_pick)
        if next_stream(user, settings) == "random"
        else (
            uncertain_pick,
            random_pick,
        )
    )
    return first.first() or second.first()


def active_learning_order(user: Any, comments: QuerySet[Comment], settings: SuggestionSettings) -> list[int]:
    """The ids of `comments` (the user's pending queue items, as the API lists them) in the order the queue
    page serves them with active learning on: overlap and check items keep their places in the queue; the
    places of the single-annotator items go, in turn, to the items `active_learning_pick` would pick one after
    another (the uncertain stream by uncertainty, every (1 / random_share)-th from the random stream, the
    other stream when one runs out). Four queries, whatever the queue's length."""
    listed = comments.order_by().values("pk")  # subqueries, not lists of ids: a queue may hold thousands
    places = dict(Assignment.objects.filter(annotator=user, comment__in=listed).values_list("comment_id", "position"))
    single_rows = hint_eligible(user).filter(comment__in=listed)
    singles = set(single_rows.values_list("comment_id", flat=True))
    highest = dict(
        Suggestion.objects.filter(comment__in=single_rows.values("comment"), model__usable=True)
        .order_by()
        .values("comment_id")
        .annotate(top=Max("uncertainty"))
        .values_list("comment_id", "top")
    )
    share = settings.random_share
    random_stream = sorted(
        (pk for pk in singles if in_random_stream(pk, share)),
        key=lambda pk: (pk * KNUTH % 4294967296 % RANDOM_STREAM_MODULUS, pk),
    )
    uncertain = sorted(
        (pk for pk in singles if not in_random_stream(pk, share)), key=lambda pk: (-highest.get(pk, 1.0), pk)
    )
    streams = {"random": iter(random_stream), "uncertain": iter(uncertain)}
    served = served_from_streams(user)
    picks = []
    for turn in range(len(singles)):
        first = stream_after(served + turn, share)
        second = "uncertain" if first == "random" else "random"
        picks.append(next(streams[first], None) or next(streams[second]))
    place = {pk: position for pk, position in places.items() if pk not in singles}
    place.update(zip(picks, sorted(places[pk] for pk in singles), strict=True))
    return sorted(places, key=lambda pk: (place[pk], pk))


def hint_usage(topic: Topic) -> dict[str, Any]:
    """How annotators used the topic's hints, from what each label recorded (`suggestion_shown`, ...):

    `shown`/`accepted`: labels set with a hint on the panel, and those that chose the hinted stance;
    `unhinted`/`unhinted_match`: labels on single items set without a hint (before a model, or in the overlap
    sample) that the current model's suggestion matches, for comparison (how often people and the model agree
    without the nudge); `gold_with`/`gold_without`: accuracy against gold labels of labels set with and without
    a hint, where a curator adjudicated the item."""
    labels = Annotation.objects.filter(topic=topic, comment__isnull=False)
    shown = labels.filter(suggestion_shown=True)
    accepted = shown.filter(stance=F("suggested_stance")).count()
    current = Suggestion.objects.filter(topic=topic, comment=OuterRef("comment"), model__usable=True)
    unhinted = labels.filter(suggestion_shown=False).filter(Exists(current))
    unhinted_match = unhinted.filter(Exists(current.filter(stance=OuterRef("stance")))).count()
    gold = GoldLabel.objects.filter(topic=topic, comment=OuterRef("comment"))
    graded = labels.filter(Exists(gold))

    def accuracy(rows: QuerySet[Annotation]) -> dict[str, Any]:
        total = rows.count()
        right = rows.filter(Exists(gold.filter(stance=OuterRef("stance")))).count()
        return {"labels": total, "accuracy": round(right / total, 4) if total else None}

    shown_count = shown.count()
    unhinted_count = unhinted.count()
    return {
        "shown": shown_count,
        "accepted": accepted,
        "acceptance_rate": round(accepted / shown_count, 4) if shown_count else None,
        "unhinted": unhinted_count,
        "unhinted_match_rate": round(unhinted_match / unhinted_count, 4) if unhinted_count else None,
        "gold_with_hint": accuracy(graded.filter(suggestion_shown=True)),
        "gold_without_hint": accuracy(graded.filter(suggestion_shown=False)),
    }


def learning_curve(topic: Topic) -> list[dict[str, Any]]:
    """The topic's models, oldest first: label count and cross-validated quality against the baseline."""
    rows = []
    for model in SuggestionModel.objects.filter(topic=topic).defer("data").order_by("version"):
        overall = model.metrics.get("overall", {})
        rows.append(
            {
                "version": model.version,
                "trained_at": model.trained_at,
                "label_count": model.label_count,
                "usable": model.usable,
                "reason": model.reason,
                "macro_f1": overall.get("macro_f1"),
                "baseline_macro_f1": overall.get("baseline_macro_f1"),
                "accuracy": overall.get("accuracy"),
                "baseline_accuracy": overall.get("baseline_accuracy"),
                "about_macro_f1": model.metrics.get("about", {}).get("macro_f1"),
                "stance_macro_f1": model.metrics.get("stance", {}).get("macro_f1"),
                "ece": overall.get("ece"),
            }
        )
    return rows
