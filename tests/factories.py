"""Test data made in bulk through the application's own writers, rather than one action call per label.

`labels` goes through `annotations.bulk.import_labels`: the same rows, history and consensus `set_stance` writes,
in a handful of statements however many labels a fixture needs. Use `tests.conftest.label` for the one or two
labels a test is about, and whenever the label must pass the queue's rules (assignment, qualification, checks),
which only `set_stance` applies.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User

from annotations.bulk import LabelRow, import_labels
from annotations.models import Topic
from annotations.vocabulary import Stance
from debate.models import Comment

STANCE_CYCLE: tuple[Stance, ...] = tuple(Stance)


def labels(rows: Iterable[tuple[User, Comment, Topic, str]]) -> int:
    """Label each (annotator, comment, topic, stance); returns how many labels were written."""
    return import_labels(
        labels=[LabelRow(comment.pk, topic.pk, user.pk, stance) for user, comment, topic, stance in rows]
    ).labels


def cycled_stance(*offsets: int) -> Stance:
    """favor, against, neutral, not_about, favor, ... by the sum of `offsets`: varied labels without a table."""
    return STANCE_CYCLE[sum(offsets) % len(STANCE_CYCLE)]
