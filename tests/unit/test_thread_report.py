"""The reply-link report: the hand-checked documents in tests/fixtures/threads/ and the seeds scored against
their references, the report's arithmetic, the reference format's errors, and `manage.py thread_report`.

No database: the command rebuilds links from the files and imports nothing."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from debate.seed_parser import decode_document, parse_document
from debate.thread_report import (
    BadReference,
    DocumentLinks,
    ReportLink,
    article_reference,
    build_report,
    parse_reference,
    reconstructed_links,
    render_report,
    report_as_dict,
)
from tests.unit.test_threading import SEED_000, SEED_002

HERE = Path(__file__).resolve().parents[1]  # tests/
THREADS = HERE / "fixtures" / "threads"
SEEDS = HERE.parent / "fixtures" / "seeds"
SEED_REFERENCE = HERE / "fixtures" / "seed_links.json"
HAND_CHECKED = sorted(THREADS.glob("*.txt"))


def links_of(path: Path) -> DocumentLinks:
    return reconstructed_links(path.name, parse_document(decode_document(path.read_bytes())))


def reference_of(*paths: Path) -> dict[str, dict[int, tuple[int, ...]]]:
    merged: dict[str, dict[int, tuple[int, ...]]] = {}
    for path in paths:
        merged |= parse_reference(path.read_bytes())
    return merged


# The hand-checked documents ------------------------------------------------------------------------------------


def test_there_are_at_least_three_hand_checked_documents_of_25_comments_each_with_a_reference() -> None:
    assert len(HAND_CHECKED) >= 3
    for path in HAND_CHECKED:
        document = parse_document(decode_document(path.read_bytes()))
        assert len(document.comments) >= 25, path.name
        assert path.with_suffix(".links.json").exists(), path.name


@pytest.mark.parametrize("path", HAND_CHECKED, ids=lambda path: path.stem)
def test_each_hand_checked_document_scores_recall_097_with_no_wrong_link(path: Path) -> None:
    report = build_report([links_of(path)], reference_of(path.with_suffix(".links.json")))
    assert report.wrong_links == ()
    assert report.recall is not None
    assert report.recall >= 0.97, report.missed_links
    assert report.primary_accuracy is not None
    assert report.primary_accuracy >= 0.97


def test_the_hand_checked_documents_need_every_method() -> None:
    report = build_report([links_of(path) for path in HAND_CHECKED])
    counts = {method.method: method.links for method in report.methods}
    assert counts.keys() == {"mention", "quote", "content"}
    assert min(counts.values()) >= 10


def test_the_seed_reference_file_is_the_hand_checked_seed_tables() -> None:
    reference = parse_reference(SEED_REFERENCE.read_bytes())
    for name, table in (("000_e41b44eaa1304eb1.txt", SEED_000), ("002_67ebe6d974f15d13.txt", SEED_002)):
        expected = {
            number: (parent, *sorted(targets - {parent}))
            for number, (targets, parent, _) in table.items()
            if targets and parent is not None
        }
        assert reference[name] == expected


def test_the_seeds_score_perfectly() -> None:
    report = build_report([links_of(path) for path in sorted(SEEDS.glob("*.txt"))], reference_of(SEED_REFERENCE))
    assert (report.precision, report.recall, report.primary_accuracy) == (1.0, 1.0, 1.0)
    assert report.reference_links == 25


# The report's arithmetic --------------------------------------------------------------------------------------


def document(*links: tuple[int, int, str, float], primary: dict[int, int | None] | None = None) -> DocumentLinks:
    numbers = (1, 2, 3, 4, 5, 6)
    firsts: dict[int, int | None] = {}
    for child, parent, _, _ in links:
        firsts.setdefault(child, parent)
    return DocumentLinks(
        "doc.txt",
        numbers,
        tuple(ReportLink(*link) for link in links),
        primary if primary is not None else {number: firsts.get(number) for number in numbers},
    )


def test_without_a_reference_the_report_counts_links_and_scores_per_method() -> None:
    report = build_report([document((2, 1, "mention", 1.0), (3, 1, "quote", 0.9), (4, 2, "mention", 0.8))])
    assert [(method.method, method.links, method.scores) for method in report.methods] == [
        ("mention", 2, (1.0, 0.8)),
        ("quote", 1, (0.9,)),
    ]
    assert report.precision is None
    assert report.recall is None
    text = render_report(report)
    assert "mention      2  min 0.80  median 0.90  mean 0.90  max 1.00" in text
    assert "precision" not in text
    assert "reference" not in report_as_dict(report)


def test_precision_recall_and_primary_accuracy_per_method_and_overall() -> None:
    links = document(
        (2, 1, "mention", 1.0),  # right
        (3, 1, "quote", 1.0),  # right
        (4, 2, "content", 0.3),  # wrong: 4 answers 3
        (5, 3, "mention", 0.9),  # right, but 5's primary parent is 4
        (5, 4, "mention", 0.9),  # right
    )
    reference = {"doc.txt": {2: (1,), 3: (1,), 4: (3,), 5: (4, 3), 6: (5,)}}
    report = build_report([links], reference)
    assert (report.links, report.correct, report.reference_links) == (5, 4, 6)
    assert report.precision == pytest.approx(4 / 5)
    assert report.recall == pytest.approx(4 / 6)
    assert report.wrong_links == (("doc.txt", 4, 2, "content"),)
    assert report.missed_links == (("doc.txt", 4, 3), ("doc.txt", 6, 5))
    # Primary parents: 2 right, 3 right, 4 wrong, 5 wrong (3 first, reference says 4), 6 missing.
    assert (report.primary_correct, report.primary_compared) == (2, 5)
    by_method = {method.method: method for method in report.methods}
    assert (by_method["mention"].correct, by_method["mention"].precision) == (3, 1.0)
    assert (by_method["content"].correct, by_method["content"].precision) == (0, 0.0)
    assert report.recall_by_method["mention"] == pytest.approx(3 / 6)
    assert by_method["mention"].primary_accuracy == pytest.approx(1 / 2)
    data = report_as_dict(report)
    assert data["reference"]["missed_links"][1] == {"document": "doc.txt", "comment": 6, "parent": 5}
    assert "  wrong   doc.txt #4 -> #2 (content)" in render_report(report).splitlines()


def test_a_perfect_empty_reference_is_perfect() -> None:
    report = build_report([document()], {"doc.txt": {}})
    assert (report.precision, report.recall, report.primary_accuracy) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json", "reference is not JSON"),
        (b"\xff\xfe", "reference is not JSON"),
        (b"[]", "must be a JSON object"),
        (b"{}", "must be a JSON object"),
        (b'{"doc.txt": [1, 2]}', "doc.txt: links must be an object"),
        (b'{"doc.txt": {"x": [1]}}', "doc.txt: 'x' is not a comment number"),
        (b'{"doc.txt": {"0": []}}', "doc.txt: '0' is not a comment number"),
        (b'{"doc.txt": {"3": 1}}', "comment 3: parents must be a list"),
        (b'{"doc.txt": {"3": [1.5]}}', "comment 3: parents must be a list"),
        (b'{"doc.txt": {"3": [true]}}', "comment 3: parents must be positive"),
        (b'{"doc.txt": {"3": [3]}}', "comment 3 cannot reply to a later comment or itself"),
        (b'{"doc.txt": {"3": [1, 1]}}', "comment 3 lists a parent twice"),
    ],
)
def test_a_bad_reference_is_refused_in_one_line(data: bytes, message: str) -> None:
    with pytest.raises(BadReference, match=message) as error:
        parse_reference(data)
    assert "\n" not in str(error.value)


def test_a_reference_must_cover_every_document_and_only_its_comments() -> None:
    with pytest.raises(BadReference, match=r"no entry for doc\.txt"):
        build_report([document()], {"other.txt": {}})
    with pytest.raises(BadReference, match=r"doc\.txt: the reference names comment 9, which is not there"):
        build_report([document()], {"doc.txt": {9: (1,)}})


def test_an_articles_reference_may_be_the_file_format_or_the_links_alone() -> None:
    assert article_reference({"doc.txt": {"3": [1]}}, "doc.txt") == {3: (1,)}
    assert article_reference({"3": [1], "5": []}, "doc.txt") == {3: (1,), 5: ()}
    with pytest.raises(BadReference, match=r"no entry for doc\.txt"):
        article_reference({"other.txt": {}}, "doc.txt")
    with pytest.raises(BadReference, match=r"no entry for doc\.txt"):
        article_reference([1, 2], "doc.txt")


# The command ---------------------------------------------------------------------------------------------------


def command(*arguments: str) -> str:
    out = StringIO()
    call_command("thread_report", *arguments, stdout=out)
    return out.getvalue()


def test_command_reports_the_hand_checked_documents_against_their_references() -> None:
    output = command(str(THREADS), "--reference", str(THREADS))
    lines = output.splitlines()
    assert lines[0].startswith(f"{len(HAND_CHECKED)} document(s)")
    overall = next(line for line in lines if line.startswith("overall"))
    _, _links, _right, wrong, precision, recall, primary = overall.split()
    assert (wrong, precision, primary) == ("0", "1.000", "1.000")
    assert float(recall) >= 0.97
    assert not any(line.startswith("  wrong") for line in lines)


def test_command_prints_json() -> None:
    data = json.loads(command(str(SEEDS), "--reference", str(SEED_REFERENCE), "--json"))
    assert data["comments"] == 57
    assert data["reference"]["recall"] == 1.0
    assert {method["method"] for method in data["methods"]} == {"mention", "quote"}


def test_command_without_reference_reports_counts_and_scores() -> None:
    output = command(str(SEEDS / "000_e41b44eaa1304eb1.txt"))
    assert output.splitlines()[0] == "1 document(s), 36 comments, 18 reply links"
    assert "precision" not in output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.txt"], "missing.txt: no such file or folder"),
        (["{binary}"], "binary.txt: not UTF-8 text"),
        (["{seeds}", "--reference", "{threads}"], "the reference has no entry for 000_e41b44eaa1304eb1.txt"),
        (["{seeds}", "--reference", "missing.json"], "missing.json: No such file or directory"),
        (["{threads}", "--reference", "{bad}"], "bad.json: reference is not JSON"),
        (["{seeds}", "--reference", "{seeds}"], "no .json reference files in this folder"),
    ],
)
def test_command_fails_with_one_line_on_bad_input(arguments: list[str], message: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00 text")
    filled = [argument.format(threads=THREADS, seeds=SEEDS, bad=bad, binary=binary) for argument in arguments]
    with pytest.raises(CommandError, match=message) as error:
        command(*filled)
    assert "\n" not in str(error.value)
