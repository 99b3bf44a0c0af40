"""`manage.py generate_corpus`: a synthetic corpus in the seed format, imported, with K annotators' labels.

    python manage.py generate_corpus --articles 100 --comments-per-article 1000 --annotators 5 --seed 1

Documents come from `debate.synthetic` and go through `debate.actions.import_document`, as real files do;
labels go through `annotations.bulk.import_labels`. Everything is drawn from the seed, so the same
arguments give the same documents and the same labels, and running the command again adds nothing.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from annotations.bulk import LabelRow, import_labels
from annotations.models import Annotation, Stance, Topic
from debate.actions import import_document
from debate.models import Comment
from debate.roles import Role
from debate.synthetic import SyntheticDocument, generate_corpus

# Reference stances of the items, before annotators disagree: the mix of the seeds' labels, roughly.
REFERENCE_WEIGHTS = {
    Stance.FAVOR.value: 0.3,
    Stance.AGAINST.value: 0.3,
    Stance.NEUTRAL.value: 0.15,
    Stance.NOT_ABOUT.value: 0.25,
}
ANNOTATOR_PREFIX = "synthetic-annotator-"


def annotator_name(number: int) -> str:
    return f"{ANNOTATOR_PREFIX}{number + 1:02d}"


class Command(BaseCommand):
    help = (
        "Generate a synthetic corpus (threads in the seed format) and labels from K annotators with a chosen "
        "level of agreement. Deterministic for a seed; running it again adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--articles", type=int, required=True)
        parser.add_argument("--comments-per-article", type=int, required=True)
        parser.add_argument("--annotators", type=int, default=3, help="How many annotators label (default 3).")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--agreement",
            type=float,
            default=0.7,
            help="Share of labels that equal the item's reference stance, 0 to 1 (default 0.7); the others "
            "are one of the three other stances, uniformly. Pairs of annotators then agree on about "
            "p² + (1 − p)²/3 of the items.",
        )
        parser.add_argument(
            "--coverage",
            type=float,
            default=1.0,
            help="Share of the (comment, topic) items each annotator labels, 0 to 1 (default 1).",
        )
        parser.add_argument(
            "--topics", default="", help="Comma-separated topic slugs to label (default: every active topic)."
        )
        parser.add_argument(
            "--stance-text",
            action="store_true",
            help="Comments carry their reference stance on each topic in their words (stance sentences, "
            "distractors, concessions to the other side, sarcasm-like reversals), so that a model can learn it; "
            "the labels start from that stance. Other documents than without it (their names say so).",
        )
        parser.add_argument(
            "--out",
            type=Path,
            help="Write the documents as seed-format .txt files into this folder instead of importing them "
            "(no labels): for `import_debate`.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        articles, per_article, seed = options["articles"], options["comments_per_article"], options["seed"]
        annotators, agreement, coverage = options["annotators"], options["agreement"], options["coverage"]
        if articles < 1 or per_article < 0:
            raise CommandError("--articles must be at least 1 and --comments-per-article at least 0")
        if annotators < 0 or not 0 <= agreement <= 1 or not 0 <= coverage <= 1:
            raise CommandError("--annotators must be at least 0; --agreement and --coverage between 0 and 1")
        topics = _topics(options["topics"]) if options["out"] is None or options["stance_text"] else []
        stance_topics = [topic.slug for topic in topics] if options["stance_text"] else []
        documents = generate_corpus(
            seed=seed, articles=articles, comments_per_article=per_article, topics=stance_topics
        )
        if options["out"] is not None:
            self._write(documents, options["out"])
            return
        users = [ensure_user(annotator_name(number), Role.ANNOTATOR) for number in range(annotators)]
        totals = {"comments": 0, "labels": 0}
        for document in documents:
            result = import_document(source=document.source, data=document.data)
            labels = 0
            if users and topics:
                rows = list(_new_labels(document, result.article_id, topics, users, seed, agreement, coverage))
                labels = import_labels(labels=rows).labels if rows else 0
            totals["comments"] += result.comments
            totals["labels"] += labels
            self.stdout.write(
                f"  {result.status:<10} {document.source}: {result.comments} comments, "
                f"{result.reply_links} reply links, {labels} new labels"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated {articles} article(s), {totals['comments']} comments, {totals['labels']} new labels "
                f"from {annotators} annotator(s)"
            )
        )

    def _write(self, documents: Iterator[SyntheticDocument], folder: Path) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            count = 0
            for document in documents:
                (folder / document.source).write_bytes(document.data)
                count += 1
        except OSError as error:
            raise CommandError(f"cannot write into {folder}: {error.strerror}") from None
        self.stdout.write(self.style.SUCCESS(f"Wrote {count} document(s) to {folder}"))


def _topics(slugs: str) -> list[Topic]:
    if not slugs.strip():
        return list(Topic.objects.active().order_by("slug"))
    wanted = [slug.strip() for slug in slugs.split(",") if slug.strip()]
    found = {topic.slug: topic for topic in Topic.objects.filter(slug__in=wanted)}
    unknown = [slug for slug in wanted if slug not in found]
    if unknown:
        raise CommandError(f"unknown topic(s): {', '.join(unknown)}; see /api/topics/")
    return [found[slug] for slug in sorted(found)]


@transaction.atomic
def ensure_user(username: str, role: Role) -> User:
    """The user with this name and role, created (without a usable password) if missing, as `add_user` does."""
    user, created = User.objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    return user


def _new_labels(
    document: SyntheticDocument,
    article_id: int,
    topics: list[Topic],
    users: list[User],
    seed: int,
    agreement: float,
    coverage: float,
) -> Iterator[LabelRow]:
    """The document's labels, drawn from the seed and the document's name, minus those already stored."""
    comments = dict(Comment.objects.filter(article_id=article_id).values_list("number", "id"))
    existing = set(
        Annotation.objects.filter(comment__article_id=article_id, annotator__in=users).values_list(
            "comment_id", "topic_id", "annotator_id"
        )
    )
    stances = list(REFERENCE_WEIGHTS)
    weights = list(REFERENCE_WEIGHTS.values())
    others = {stance: [other for other in stances if other != stance] for stance in stances}
    rng = random.Random(f"labels:{seed}:{document.source}")
    for comment in document.comments:
        comment_id = comments[comment.number]
        for topic in topics:
            reference = rng.choices(stances, weights)[0]
            reference = comment.stances.get(topic.slug, reference)  # --stance-text: the words' stance
            for user in users:
                # Every draw is made whether or not the label is kept, so that what is stored already does not
                # shift the labels that follow.
                covered, agrees, other, extra = (
                    rng.random() < coverage,
                    rng.random() < agreement,
                    rng.random(),
                    rng.random(),
                )
                if not covered or (comment_id, topic.pk, user.pk) in existing:
                    continue
                yield LabelRow(
                    comment_id=comment_id,
                    topic_id=topic.pk,
                    annotator_id=user.pk,
                    stance=reference if agrees else others[reference][int(other * 3)],
                    unsure=extra < 0.08,
                    confidence=(None, 1, 2, 3)[int(extra * 400) % 4],
                    note=f"synthetic note {comment.number}/{topic.slug}" if extra > 0.95 else "",
                    evidence=_evidence(comment.body) if 0.9 < extra <= 0.95 else (),
                )


def _evidence(body: str) -> tuple[dict[str, Any], ...]:
    """A span at the start of the body, as an annotator might select it."""
    end = min(len(body), 40)
    return ({"start": 0, "end": end, "text": body[:end]},) if end else ()
