"""Imports never crash and never stop early: over-long fields, unexpected errors, odd file names, namesakes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import connection

from debate.actions import ImportRefused, import_document
from debate.models import Article, Author
from debate.seed_parser import SeedFormatError
from tests.conftest import CLUSTER_MUNITIONS, SEEDS
from tests.test_import import corpus_snapshot, run_import

pytestmark = pytest.mark.django_db

GOOD = "A title\n\nSome body.\n\n  1. Ann says:\n\n    Hello.\n"


def document(*, title: str = "A title", subtitle: str = "", author: str = "Jane Doe", commenter: str = "Ann") -> str:
    subtitle_line = f"{subtitle}\n" if subtitle else ""
    return (
        f"{title}\n{subtitle_line}\nThe body of the article.\n\nFILED UNDER: Politics\n{author}\nAbout {author}\n"
        f"{author} writes.\n\n\n  1. {commenter} says:\n\n    Hello.\n"
    )


def test_an_article_author_too_long_for_its_column_is_one_line_and_the_run_goes_on(tmp_path: Path) -> None:
    # Titles, subtitles and commenters' names are bounded by the parser; the author block was not.
    (tmp_path / "a_long.txt").write_text(document(author="A" * 201))
    (tmp_path / "b_good.txt").write_text(document())

    _out, err, status = run_import(tmp_path)

    assert status == 1
    (failure,) = [line for line in err.splitlines() if "a_long.txt" in line]
    assert failure.endswith("a_long.txt: article author is 201 characters long; at most 200 are allowed")
    assert "Traceback" not in err
    assert list(Article.objects.values_list("source", flat=True)) == ["b_good.txt"]
    assert "1 path(s) failed; 1 created" in err


def test_the_limits_are_exactly_the_columns(tmp_path: Path) -> None:
    (tmp_path / "longest.txt").write_text(document(author="A" * 200))

    _out, err, status = run_import(tmp_path)

    assert status == 0, err
    assert Article.objects.get().author == Author.objects.get(name="A" * 200)


def test_an_unexpected_error_in_one_file_is_reported_for_it_and_the_rest_are_imported(tmp_path: Path) -> None:
    # A real failure the importer does not foresee: the database itself refuses this one article.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE debate_article ADD CONSTRAINT test_refuses CHECK (title <> 'Refused title')")
    (tmp_path / "a_first.txt").write_text(GOOD)
    (tmp_path / "b_refused.txt").write_text(document(title="Refused title"))
    (tmp_path / "c_last.txt").write_text(GOOD)

    _out, err, status = run_import(tmp_path)

    assert status == 1
    (failure,) = [line for line in err.splitlines() if "b_refused.txt" in line]
    assert "unexpected error, file skipped (IntegrityError: " in failure
    assert "Traceback" not in err
    assert sorted(Article.objects.values_list("source", flat=True)) == ["a_first.txt", "c_last.txt"]
    assert "1 path(s) failed; 2 created" in err


def test_a_file_name_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    bad_name = tmp_path / os.fsdecode(b"caf\xe9.txt")  # Latin-1 bytes: not UTF-8
    bad_name.write_text(GOOD)
    (tmp_path / "good.txt").write_text(GOOD)

    _out, err, status = run_import(tmp_path)

    assert status == 1
    (failure,) = [line for line in err.splitlines() if "caf" in line]
    assert failure.endswith("caf\\xe9.txt: the file name is not valid UTF-8; rename the file")
    assert "Traceback" not in err
    assert list(Article.objects.values_list("source", flat=True)) == ["good.txt"]


def test_a_namesake_from_another_folder_is_refused_without_replace(tmp_path: Path) -> None:
    run_import(SEEDS / CLUSTER_MUNITIONS)
    before = corpus_snapshot()
    namesake = tmp_path / CLUSTER_MUNITIONS
    namesake.write_text(document(title="Another article entirely"))

    _out, err, status = run_import(namesake)

    assert status == 1
    (failure,) = [line for line in err.splitlines() if CLUSTER_MUNITIONS in line]
    assert f"an article named {CLUSTER_MUNITIONS} was imported from {SEEDS} with other content" in failure
    assert "--replace" in failure
    assert corpus_snapshot() == before

    out, err, status = run_import(namesake, "--replace")

    assert status == 0, err
    assert f"updated    {CLUSTER_MUNITIONS}" in out
    article = Article.objects.get(source=CLUSTER_MUNITIONS)
    assert (article.title, article.origin) == ("Another article entirely", str(tmp_path))


def test_a_changed_file_in_the_same_folder_still_updates(tmp_path: Path) -> None:
    path = tmp_path / "doc.txt"
    path.write_text(document())
    run_import(path)
    path.write_text(document(title="A corrected title"))

    out, err, status = run_import(path)

    assert status == 0, err
    assert "updated    doc.txt" in out
    assert Article.objects.get(source="doc.txt").title == "A corrected title"


def test_two_files_of_one_name_in_one_run_import_the_first_and_refuse_the_second(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "one" / "doc.txt").write_text(document(title="First"))
    (tmp_path / "two" / "doc.txt").write_text(document(title="Second"))

    _out, err, status = run_import(tmp_path / "one", tmp_path / "two", "--replace")

    assert status == 1
    assert f"{tmp_path / 'two' / 'doc.txt'}: same file name as {tmp_path / 'one' / 'doc.txt'} in this run" in err
    assert Article.objects.get(source="doc.txt").title == "First"


def test_the_action_refuses_a_namesake_from_another_origin_with_a_conflict() -> None:
    import_document(source="doc.txt", data=document().encode(), origin="/corpus/a")

    with pytest.raises(ImportRefused, match="imported from /corpus/a with other content"):
        import_document(source="doc.txt", data=document(title="Other").encode(), origin="/corpus/b")
    # The same bytes from anywhere are simply unchanged.
    assert import_document(source="doc.txt", data=document().encode(), origin="/corpus/b").status == "unchanged"


def test_a_source_name_longer_than_its_column_is_refused_by_the_action() -> None:
    # Command-line file names stop at 255 bytes; other callers (an upload) may name a document anything.
    with pytest.raises(SeedFormatError, match="file name is 260 characters long; at most 255 are allowed"):
        import_document(source="n" * 256 + ".txt", data=document().encode())
    assert not Article.objects.exists()
