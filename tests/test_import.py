"""Importing seed documents: the action and the import_debate command."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from debate.actions import import_document, relayout_article
from debate.models import Article, Author, Comment, ReplyLink
from debate.seed_parser import SeedFormatError
from tests.conftest import CLUSTER_MUNITIONS, SEEDS, STRIKES_IN_RUSSIA

pytestmark = pytest.mark.django_db


def corpus_snapshot() -> list[tuple[object, ...]]:
    """Everything the importer writes, as comparable rows."""
    return [
        *Article.objects.order_by("pk").values_list("pk", "source", "content_sha256", "title", "body", "imported_at"),
        *Author.objects.order_by("pk").values_list("pk", "name"),
        *Comment.objects.order_by("pk").values_list(
            "pk", "article_id", "number", "author_id", "body", "parent_id", "depth", "thread_order", "quotes_article"
        ),
        *ReplyLink.objects.order_by("pk").values_list("pk", "source_id", "target_id", "method", "score", "evidence"),
    ]


def run_import(*paths: Path | str) -> tuple[str, str, int]:
    """Run the command as a user would; returns stdout, stderr and the exit status."""
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("import_debate", *map(str, paths), stdout=out, stderr=err)
    except CommandError as error:
        err.write(f"CommandError: {error}\n")
        return out.getvalue(), err.getvalue(), 1
    return out.getvalue(), err.getvalue(), 0


def test_seed_import_creates_five_articles_with_36_and_21_comments() -> None:
    out, err, status = run_import(SEEDS)

    assert status == 0, err
    assert Article.objects.count() == 5
    counts = dict(Article.objects.annotate(n=Count("comments")).values_list("source", "n"))
    assert counts[CLUSTER_MUNITIONS] == 36
    assert counts[STRIKES_IN_RUSSIA] == 21
    assert sum(counts.values()) == 57
    assert out.count("  created ") == 5
    assert "Imported 5 file(s): 5 created, 0 updated, 0 unchanged" in out


def test_article_fields_come_from_the_document() -> None:
    run_import(SEEDS)
    cluster = Article.objects.get(source=CLUSTER_MUNITIONS)

    assert cluster.title == "US Considering Sending Banned Weapons to Ukraine"
    assert cluster.subtitle == "A bad idea fueled by desperation."
    assert cluster.tags == ["Military Affairs", "World Politics"]
    assert cluster.author is not None
    assert cluster.author.name == "James Joyner"
    assert cluster.author_bio.startswith("James Joyner is Professor")
    assert cluster.body.startswith("NYT (“Biden Weighs Giving Ukraine")
    assert cluster.body.endswith("It would be foolish to squander those gains for temporary advantage.")
    derived = Article.objects.get(source="004_926dce63dff0079b.txt")
    assert derived.title_derived
    assert derived.title.startswith("US national security adviser Jake Sullivan")


def test_article_author_is_the_same_author_when_commenting() -> None:
    run_import(SEEDS)
    cluster = Article.objects.get(source=CLUSTER_MUNITIONS)
    joyner_comments = Comment.objects.filter(article=cluster, author=cluster.author).values_list("number", flat=True)

    assert sorted(joyner_comments) == [3, 18]
    assert Author.objects.filter(name="James Joyner").count() == 1
    # One Author per distinct name across articles.
    assert Author.objects.filter(name="JohnSF").count() == 1
    assert Comment.objects.filter(author__name="JohnSF").values("article").distinct().count() == 2


def test_comment_without_says_has_no_author_and_keeps_its_first_line() -> None:
    run_import(SEEDS)
    comment = Comment.objects.get(article__source=CLUSTER_MUNITIONS, number=36)

    assert comment.author is None
    assert comment.body.startswith("The big question is what is the alternative?\n\nLots of HE")


def test_page_chrome_is_not_comment_text() -> None:
    run_import(SEEDS)
    last = Comment.objects.get(article__source=STRIKES_IN_RUSSIA, number=21)

    assert "Speak Your Mind" not in last.body
    assert last.body.endswith("Hampton Roads Naval Museum")


def test_reimporting_the_fixtures_changes_nothing() -> None:
    run_import(SEEDS)
    before = corpus_snapshot()

    out, err, status = run_import(SEEDS)

    assert status == 0, err
    assert corpus_snapshot() == before
    assert out.count("  unchanged ") == 5
    assert "0 created, 0 updated, 5 unchanged" in out


def test_reimport_of_unchanged_file_writes_nothing(django_assert_max_num_queries) -> None:
    data = (SEEDS / CLUSTER_MUNITIONS).read_bytes()
    import_document(source=CLUSTER_MUNITIONS, data=data)

    with django_assert_max_num_queries(3) as context:
        result = import_document(source=CLUSTER_MUNITIONS, data=data)

    assert result.status == "unchanged"
    assert not [query for query in context.captured_queries if not query["sql"].startswith("SELECT")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"  \n\r\n  ", "empty file"),
        (b"Title\n\nBody with a bad byte \xff here\n", "not UTF-8 text"),
        (b"FILED UNDER: , ,\n", "no article body and no comments"),
        (
            b"Title\n\nBody.\n\n  1. Ann says:\n\n    One.\n\n  1. Bob says:\n\n    Two.\n",
            "duplicate comment number 1 (lines 5 and 9)",
        ),
    ],
    ids=["empty", "blank", "not-utf8", "no-body-no-comments", "duplicate-numbers"],
)
def test_bad_file_exits_non_zero_with_one_line_and_writes_nothing(tmp_path: Path, content: bytes, message: str) -> None:
    run_import(SEEDS / CLUSTER_MUNITIONS)
    before = corpus_snapshot()
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)

    _out, err, status = run_import(bad)

    assert status == 1
    failure_lines = [line for line in err.splitlines() if "bad.txt" in line]
    assert len(failure_lines) == 1
    assert message in failure_lines[0]
    assert "Traceback" not in err
    assert corpus_snapshot() == before


def test_unreadable_and_missing_paths_are_reported_and_the_rest_imported(tmp_path: Path) -> None:
    # Reading /proc/self/mem as a whole fails with EIO, for root too: an unreadable file on any machine.
    unreadable = tmp_path / "unreadable.txt"
    unreadable.symlink_to("/proc/self/mem")
    missing = tmp_path / "missing.txt"

    _out, err, status = run_import(missing, SEEDS / STRIKES_IN_RUSSIA, unreadable)

    assert status == 1
    assert f"{missing}: no such file or folder" in err
    assert f"{unreadable}: cannot read (Input/output error)" in err
    assert Article.objects.filter(source=STRIKES_IN_RUSSIA).exists()
    assert not Article.objects.filter(source="unreadable.txt").exists()
    assert "Traceback" not in err
    assert "2 path(s) failed; 1 created" in err


def test_good_files_in_the_same_run_as_a_bad_one_are_kept(tmp_path: Path) -> None:
    (tmp_path / "a_good.txt").write_text("A title\n\nSome body.\n\n  1. Ann says:\n\n    Hello.\n")
    (tmp_path / "b_bad.txt").write_bytes(b"\xfe\xfe\xfe not text")

    _out, err, status = run_import(tmp_path)

    assert status == 1
    assert Article.objects.filter(source="a_good.txt").exists()
    assert not Article.objects.filter(source="b_bad.txt").exists()
    assert "1 path(s) failed; 1 created" in err


def test_changed_file_updates_in_place_and_keeps_unchanged_comments() -> None:
    original = (SEEDS / STRIKES_IN_RUSSIA).read_bytes()
    import_document(source=STRIKES_IN_RUSSIA, data=original)
    ids_before = dict(Comment.objects.filter(article__source=STRIKES_IN_RUSSIA).values_list("number", "pk"))
    changed = original.replace(b"Someone needs to lock Jake Sullivan", b"Someone should lock Jake Sullivan")
    assert changed != original

    result = import_document(source=STRIKES_IN_RUSSIA, data=changed)

    assert result.status == "updated"
    ids_after = dict(Comment.objects.filter(article__source=STRIKES_IN_RUSSIA).values_list("number", "pk"))
    assert set(ids_after) == set(ids_before)
    assert ids_after[4] != ids_before[4]  # the edited comment is a new comment
    assert {n: pk for n, pk in ids_after.items() if n != 4} == {n: pk for n, pk in ids_before.items() if n != 4}
    assert Comment.objects.get(pk=ids_after[4]).body.startswith("Someone should lock")


def test_manual_parent_survives_a_changed_reimport() -> None:
    original = (SEEDS / STRIKES_IN_RUSSIA).read_bytes()
    article = Article.objects.get(pk=import_document(source=STRIKES_IN_RUSSIA, data=original).article_id)
    kathy = Comment.objects.get(article=article, number=6)  # answers steve (#5), but nothing in it says so
    steve = Comment.objects.get(article=article, number=5)
    kathy.parent, kathy.parent_is_manual = steve, True
    kathy.save()
    ReplyLink.objects.create(source=kathy, target=steve, method=ReplyLink.Method.MANUAL, score=1.0)
    relayout_article(article_id=article.pk)

    import_document(source=STRIKES_IN_RUSSIA, data=original.replace(b"What you said.", b"What he said."))

    kathy.refresh_from_db()
    assert kathy.parent_id == steve.pk
    assert kathy.parent_is_manual
    assert kathy.depth == 1
    assert ReplyLink.objects.filter(source=kathy, target=steve, method="manual").count() == 1


def test_reply_links_are_stored_with_method_score_and_evidence() -> None:
    run_import(SEEDS / CLUSTER_MUNITIONS)
    links = {
        (link.source.number, link.target.number): link
        for link in ReplyLink.objects.select_related("source", "target").filter(
            source__article__source=CLUSTER_MUNITIONS
        )
    }

    assert set(links) >= {(3, 1), (3, 2), (24, 3), (12, 6)}
    assert (24, 18) not in links
    assert (12, 10) not in links
    assert links[(3, 1)].method == "mention"
    assert links[(3, 1)].evidence == "@charontwo:"
    assert links[(24, 3)].method == "quote"
    assert "It’s their choice whether to use them" in links[(24, 3)].evidence
    assert links[(24, 3)].score == 1.0


def test_parent_depth_and_thread_order_form_a_tree() -> None:
    run_import(SEEDS / CLUSTER_MUNITIONS)
    comments = {c.number: c for c in Comment.objects.filter(article__source=CLUSTER_MUNITIONS)}

    assert comments[3].parent == comments[1]
    assert comments[24].parent == comments[3]
    assert comments[25].depth == comments[24].depth + 1 == 3
    assert comments[2].quotes_article
    assert comments[2].parent is None
    assert comments[25].root == comments[1]  # 25 -> 24 -> 3 -> 1
    assert comments[2].root == comments[2]
    assert all(c.root is not None and c.root.depth == 0 for c in comments.values())
    orders = sorted(c.thread_order for c in comments.values())
    assert orders == list(range(36))
    # Pre-order: every child comes after its parent, and a subtree is contiguous.
    for comment in comments.values():
        if comment.parent is not None:
            assert comment.thread_order > comment.parent.thread_order


def test_an_import_pauses_the_cycle_collector_only_while_it_runs() -> None:
    import gc

    assert gc.isenabled()
    during: set[bool] = set()
    import_document(
        source="paused.txt",
        data=(SEEDS / "000_e41b44eaa1304eb1.txt").read_bytes(),
        progress=lambda message, share: during.add(gc.isenabled()),
    )
    assert during == {False}
    assert gc.isenabled()
    gc.disable()  # a caller that had it off keeps it off
    try:
        with pytest.raises(SeedFormatError):
            import_document(source="broken.txt", data=b"\x00")
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(SeedFormatError):  # and an import that fails turns it back on
        import_document(source="broken.txt", data=b"\x00")
    assert gc.isenabled()
