"""Dataset exports as streams of lines. Pure: no Django; the callers feed it database rows lazily.

Two shapes:

* long format, one row per annotation (`ANNOTATION_COLUMNS`), as JSON Lines or CSV;
* one record per comment with its annotations and consensus, as JSON Lines, assembled by merging three
  streams sorted the same way, so memory stays flat whatever the corpus size.

Both load into `pandas.read_json(lines=True)` / `pandas.read_csv` and Hugging Face
`datasets.load_dataset("json", ...)` as they are: every record has the same keys, every consensus the same
topics, datetimes are ISO 8601 strings, and CSV cells holding structure (evidence) are JSON text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

ANNOTATION_COLUMNS = (
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
    "gold",  # the curator's adjudicated stance for the same (comment, topic), or empty
)

Record = Mapping[str, Any]


def _default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot export a {type(value).__name__}")


# Line breaks that json.dumps leaves raw with ensure_ascii=False (it always escapes the C0 controls) but that
# str.splitlines() and some JSON Lines readers split on: escaped, one record stays on one line for every reader.
_UNICODE_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


def to_json(record: Record) -> str:
    return json.dumps(record, ensure_ascii=False, default=_default, separators=(",", ":")).translate(
        _UNICODE_LINE_BREAKS
    )


def jsonl_lines(records: Iterable[Record]) -> Iterator[str]:
    for record in records:
        yield to_json(record) + "\n"


def csv_lines(records: Iterable[Record], columns: Sequence[str]) -> Iterator[str]:
    """A header line, then one line per record; lists and dicts become JSON text, None an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def flush() -> str:
        line = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return line

    writer.writerow(columns)
    yield flush()
    for record in records:
        writer.writerow([_cell(record.get(column)) for column in columns])
        yield flush()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def comment_records(
    comments: Iterable[Record],
    *,
    links: Iterable[Record],
    annotations: Iterable[Record],
    consensus: Iterable[Record],
    topics: Sequence[str],
    gold: Iterable[Record] = (),
) -> Iterator[dict[str, Any]]:
    """One record per comment with `reply_to` and `annotations` (lists), and `consensus` and `gold`
    ({topic: ... or None}).

    Every stream must be sorted by the same `key` field (any totally ordered value); consensus and gold rows
    name their topic in `topic`. Rows whose key matches no comment are dropped.
    """
    link_rows, annotation_rows, consensus_rows = _Peekable(links), _Peekable(annotations), _Peekable(consensus)
    gold_rows = _Peekable(gold)
    for comment in comments:
        key = comment["key"]
        record = _without(comment, "key")
        record["reply_to"] = [_without(row, "key") for row in link_rows.take(key)]
        record["annotations"] = [_without(row, "key") for row in annotation_rows.take(key)]
        by_topic: dict[str, Any] = dict.fromkeys(topics)
        for row in consensus_rows.take(key):
            by_topic[row["topic"]] = _without(row, "key", "topic")
        record["consensus"] = by_topic
        gold_by_topic: dict[str, Any] = dict.fromkeys(topics)
        for row in gold_rows.take(key):
            gold_by_topic[row["topic"]] = _without(row, "key", "topic")
        record["gold"] = gold_by_topic
        yield record


def _without(row: Record, *names: str) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name not in names}


class _Peekable:
    """A sorted stream of rows, consumed group by group."""

    def __init__(self, rows: Iterable[Record]) -> None:
        self._rows = iter(rows)
        self._head: Record | None = next(self._rows, None)

    def take(self, key: Any) -> Iterator[Record]:
        """Rows with this key; rows with smaller keys (orphans) are skipped."""
        while self._head is not None and self._head["key"] < key:
            self._head = next(self._rows, None)
        while self._head is not None and self._head["key"] == key:
            yield self._head
            self._head = next(self._rows, None)
