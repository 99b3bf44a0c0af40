"""The export formats, as pure functions over rows: no database."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from annotations.export.formats import ANNOTATION_COLUMNS, comment_records, csv_lines, jsonl_lines, to_json

WHEN = datetime(2024, 5, 17, 9, 30, 5, 123456, tzinfo=UTC)

ROW = {
    "comment_id": 7,
    "article_id": 1,
    "comment_number": 3,
    "parent_id": None,
    "depth": 0,
    "author": "Just nutha ignint cracker",
    "annotator": "ann",
    "topic": "cluster-munitions",
    "stance": "favor",
    "unsure": False,
    "confidence": None,
    "note": 'says "yes", then\nchanges his mind; 100% sure — ünïcödé',
    "evidence": [{"start": 0, "end": 5, "text": "Ukra,"}],
    "created_at": WHEN,
    "updated_at": WHEN,
}


def test_annotation_columns_are_those_the_issues_list() -> None:
    # The annotation issue's columns, in its order, then the adjudicated gold stance of the same item, then
    # (issue 12) the item's type, then (issue 15) whether the label is annotation or an answer to a check or
    # qualification item and the guideline version it was made under, then (issue 11) the lead time, then (issue
    # 16) what the annotator was shown (a model's hint) and the queue stream: new columns come last, so that
    # readers of the earlier ones keep working.
    assert ANNOTATION_COLUMNS[-9:] == (
        "gold",
        "item_type",
        "label_role",
        "guideline_version",
        "lead_time_ms",
        "suggestion_shown",
        "suggested_stance",
        "suggestion_model_version",
        "stream",
    )
    assert ANNOTATION_COLUMNS[:-9] == (
        "comment_id",
        "article_id",
        "comment_number",
        "parent_id",
        "depth",
        "author",
        "annotator",
        "topic",
        "stance",
        "unsure",
        "confidence",
        "note",
        "evidence",
        "created_at",
        "updated_at",
    )


def test_jsonl_is_one_object_per_line_with_iso_datetimes_and_text_as_is() -> None:
    lines = list(jsonl_lines([ROW, {**ROW, "comment_id": 8}]))

    assert len(lines) == 2
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in lines)
    first = json.loads(lines[0])
    assert first == {**ROW, "created_at": "2024-05-17T09:30:05.123456+00:00", "updated_at": WHEN.isoformat()}
    assert "ünïcödé" in lines[0]  # readable, not \u-escaped


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\r"])
def test_jsonl_lines_survive_readers_that_split_on_any_unicode_line_break(separator: str) -> None:
    record = {**ROW, "note": f"one{separator}two"}

    text = "".join(jsonl_lines([record, record]))

    assert len(text.splitlines()) == 2
    assert [json.loads(line)["note"] for line in text.splitlines()] == [f"one{separator}two"] * 2


def test_jsonl_refuses_values_it_cannot_represent() -> None:
    with pytest.raises(TypeError, match="cannot export a set"):
        to_json({"bad": {1, 2}})


def test_csv_has_the_header_then_one_row_per_record_and_round_trips() -> None:
    text = "".join(csv_lines([ROW, {**ROW, "confidence": 2, "unsure": True}], ANNOTATION_COLUMNS))

    rows = list(csv.reader(io.StringIO(text)))

    assert rows[0] == list(ANNOTATION_COLUMNS)
    assert len(rows) == 3
    first = dict(zip(ANNOTATION_COLUMNS, rows[1], strict=True))
    assert first["note"] == ROW["note"]
    assert first["parent_id"] == ""  # None is an empty cell
    assert first["confidence"] == ""
    assert first["unsure"] == "False"
    assert json.loads(first["evidence"]) == ROW["evidence"]  # structure as JSON text
    assert first["created_at"] == "2024-05-17T09:30:05.123456+00:00"
    assert rows[2][ANNOTATION_COLUMNS.index("confidence")] == "2"
    assert rows[2][ANNOTATION_COLUMNS.index("unsure")] == "True"


def test_csv_of_no_records_is_just_the_header() -> None:
    assert "".join(csv_lines([], ANNOTATION_COLUMNS)) == ",".join(ANNOTATION_COLUMNS) + "\n"


def test_comment_records_merge_sorted_streams_by_key() -> None:
    comments = [{"key": (1, n), "comment_id": 10 + n, "body": f"c{n}"} for n in (1, 2, 5)]
    links: list[dict[str, Any]] = [
        {"key": (1, 0), "comment_id": 99, "method": "quote", "score": 1.0},  # orphan: no comment (1, 0)
        {"key": (1, 2), "comment_id": 11, "method": "mention", "score": 1.0},
        {"key": (1, 2), "comment_id": 12, "method": "quote", "score": 0.9},
    ]
    annotations: list[dict[str, Any]] = [
        {"key": (1, 1), "annotator": "a", "topic": "t1", "stance": "favor"},
        {"key": (1, 1), "annotator": "b", "topic": "t1", "stance": "against"},
        {"key": (1, 3), "annotator": "a", "topic": "t1", "stance": "favor"},  # orphan between comments
        {"key": (1, 5), "annotator": "a", "topic": "t2", "stance": "neutral"},
    ]
    consensus: list[dict[str, Any]] = [
        {"key": (1, 1), "topic": "t1", "stance": None, "status": "unresolved", "n": 2},
        {"key": (1, 5), "topic": "t2", "stance": "neutral", "status": "single", "n": 1},
    ]

    records = list(
        comment_records(comments, links=links, annotations=annotations, consensus=consensus, topics=["t1", "t2"])
    )

    assert [record["comment_id"] for record in records] == [11, 12, 15]
    assert all("key" not in record for record in records)
    one, two, five = records
    assert one["reply_to"] == []
    assert [label["annotator"] for label in one["annotations"]] == ["a", "b"]
    assert one["consensus"] == {"t1": {"stance": None, "status": "unresolved", "n": 2}, "t2": None}
    assert [link["comment_id"] for link in two["reply_to"]] == [11, 12]
    assert two["annotations"] == []
    assert two["consensus"] == {"t1": None, "t2": None}
    assert five["annotations"] == [{"annotator": "a", "topic": "t2", "stance": "neutral"}]
    assert five["consensus"]["t2"] == {"stance": "neutral", "status": "single", "n": 1}


def test_comment_records_are_lazy() -> None:
    def comments():
        yield {"key": 1, "comment_id": 1}
        raise AssertionError("read past the first record")

    records = comment_records(comments(), links=[], annotations=[], consensus=[], topics=[])

    assert next(records)["comment_id"] == 1
