"""Re-importing a changed file must never lose labels: it is refused, in one line, and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from annotations.models import Annotation, ChangeEvent, Consensus, Topic
from debate.actions import ImportRefused, import_document
from debate.models import Article, Comment, ReplyLink
from tests.conftest import CLUSTER_MUNITIONS, SEEDS, comments_by_number, label

pytestmark = pytest.mark.django_db

CM = "cluster-munitions"


def snapshot() -> list[tuple[object, ...]]:
    return [
        *Article.objects.order_by("pk").values_list("pk", "content_sha256", "body", "imported_at"),
        *Comment.objects.order_by("pk").values_list("pk", "number", "body", "parent_id", "depth", "thread_order"),
        *ReplyLink.objects.order_by("pk").values_list("pk", "source_id", "target_id", "method"),
        *Annotation.objects.order_by("pk").values_list("pk", "comment_id", "stance", "version"),
        *Consensus.objects.order_by("pk").values_list("pk", "comment_id", "stance", "status", "n"),
        *ChangeEvent.objects.order_by("pk").values_list("pk"),
    ]


def seed_text() -> str:
    return (SEEDS / CLUSTER_MUNITIONS).read_bytes().decode("utf-8")


def reworded_35() -> bytes:
    text = seed_text()
    assert "I suppose if anything goes" in text
    return text.replace("I suppose if anything goes", "I suppose, if anything goes").encode("utf-8")


def without_36() -> bytes:
    text = seed_text()
    return text[: text.index("\n  36. ")].encode("utf-8") + b"\n"


@pytest.fixture
def annotator(make_user: Callable[..., User]) -> User:
    return make_user("annotator", "ann")


@pytest.mark.parametrize(
    ("changed", "number"), [(reworded_35, 35), (without_36, 36)], ids=["comment changed", "comment removed"]
)
def test_a_change_that_would_lose_labels_is_refused_and_changes_nothing(
    cluster_article: Article,
    topics: dict[str, Topic],
    annotator: User,
    changed: Callable[[], bytes],
    number: int,
) -> None:
    c = comments_by_number(cluster_article)
    label(annotator, c[number], topics[CM], "against")
    label(annotator, c[1], topics[CM], "favor")
    before = snapshot()

    with pytest.raises(ImportRefused) as refusal:
        import_document(source=CLUSTER_MUNITIONS, data=changed())

    message = str(refusal.value)
    assert message == (
        f"replacing it would lose 1 annotation(s) on comment(s) #{number}, which the new version removes or changes"
    )
    assert snapshot() == before


def test_the_import_command_reports_the_refusal_in_one_line_and_exits_non_zero(
    cluster_article: Article, topics: dict[str, Topic], annotator: User, tmp_path: Path
) -> None:
    label(annotator, comments_by_number(cluster_article)[35], topics[CM], "against")
    changed = tmp_path / CLUSTER_MUNITIONS
    changed.write_bytes(reworded_35())
    before = snapshot()
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match=r"^1 path\(s\) failed; 0 created, 0 updated, 0 unchanged$"):
        # From another folder than the fixture's import: --replace allows the update, the labels still refuse it.
        call_command("import_debate", str(changed), "--replace", stdout=out, stderr=err)

    assert err.getvalue().splitlines() == [
        f"  refused    {changed}: replacing it would lose 1 annotation(s) on comment(s) #35, "
        "which the new version removes or changes"
    ]
    assert "Traceback" not in out.getvalue() + err.getvalue()
    assert snapshot() == before


def test_a_change_that_spares_labelled_comments_is_imported_and_keeps_the_labels(
    cluster_article: Article, topics: dict[str, Topic], annotator: User
) -> None:
    c = comments_by_number(cluster_article)
    kept = label(annotator, c[34], topics[CM], "against")

    result = import_document(source=CLUSTER_MUNITIONS, data=reworded_35())

    assert result.status == "updated"
    after = comments_by_number(cluster_article)
    assert after[34].pk == c[34].pk
    assert after[35].pk != c[35].pk
    assert Annotation.objects.get().pk == kept.pk
    assert Annotation.objects.get().comment_id == c[34].pk
    assert Consensus.objects.get(comment=c[34]).stance == "against"
