"""Dataset exports as streams of lines. Pure: no Django; the callers feed it database rows lazily.

Two shapes:

* long format, one row per annotation (`ANNOTATION_COLUMNS`), as JSON Lines or CSV; the labels of the
  articles themselves are rows too, told apart by `item_type`;
* one record per comment with its annotations and consensus, as JSON Lines, assembled by merging three
  streams sorted the same way, so memory stays flat whatever the corpus size.

Both load into `pandas.read_json(lines=True)` / `pandas.read_csv` and Hugging Face
`datasets.load_dataset("json", ...)` as they are: every record has the same keys, every consensus the same
topics, datetimes are ISO 8601 strings, and CSV cells holding structure (evidence) are JSON text.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

# A label's own values, named alike in both shapes: the long rows and a comment record's `annotations`.
LABEL_FIELDS = ("stance", "unsure", "confidence", "note", "evidence", "created_at", "updated_at")

ANNOTATION_COLUMNS = (
    "comment_id",
    "article_id",
    "comment_number",
    "parent_id",
    "depth",
    "author",
    "annotator",
    "topic",
    *LABEL_FIELDS,
    "gold",  # the curator's adjudicated stance for the same (item, topic), or empty
    # `comment`, or `article` for a label of the article itself (its comment fields are empty). Added last, so
    # that readers of the earlier columns keep working.
    "item_type",
    # "ordinary"; or "check" / "qualification" for an answer on a gold item given to test the annotator,
    # which is not annotation data (agreement leaves those out too).
    "label_role",
    "guideline_version",  # the version of the topic's guidelines the label was made (or last confirmed) under
    "lead_time_ms",  # milliseconds the annotator spent on the item before the label's last change, or empty
    # What the annotator was shown when they last set the label (issue 16), so that labels made with and without
    # a model's hint can be compared: whether a hint was on the panel, the stance it suggested and the model
    # version (empty without a hint), and the queue stream that served the item ("uncertain" or "random" while
    # queues were ordered by the model's uncertainty; keep "random" for an unbiased sample), else empty.
    "suggestion_shown",
    "suggested_stance",
    "suggestion_model_version",
    "stream",
)

Record = Mapping[str, Any]


def _default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot export a {type(value).__name__}")


# Line breaks that json.dumps leaves raw with ensure_ascii=False (it always escapes the C0 controls) but that
# str.splitlines() and some JSON Lines readers split on: escaped, one record stays on one line for every reader.
_UNICODE_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


# One encoder for every record: json.dumps with options builds a new one per call, a third of the export's time.
_encode = json.JSONEncoder(ensure_ascii=False, default=_default, separators=(",", ":")).encode


def to_json(record: Record) -> str:
    text = _encode(record)
    # Rare characters: three substring scans cost less than translating every character of every line.
    if "\u2028" in text or "\u2029" in text or "\x85" in text:
        text = text.translate(_UNICODE_LINE_BREAKS)
    return text


def jsonl_lines(records: Iterable[Record]) -> Iterator[str]:
    for record in records:
        yield to_json(record) + "\n"


def csv_lines(records: Iterable[Record], columns: Sequence[str]) -> Iterator[str]:
    """A header line, then one line per record; lists and dicts become JSON text, None an empty cell."""
    # The writer hands each formatted line to `write`: a list's append collects it, with no buffer to rewind.
    written: list[str] = []
    writer = csv.writer(_Lines(written), lineterminator="\n")
    writer.writerow(columns)
    yield written.pop()
    plain = _PLAIN_CELLS
    for record in records:
        writer.writerow([value if type(value) in plain else _cell(value) for value in map(record.get, columns)])
        yield written.pop()


class _Lines:
    def __init__(self, lines: list[str]) -> None:
        self.write = lines.append


_PLAIN_CELLS = frozenset({str, int, bool, float})
# json.dumps(value, ensure_ascii=False), without building an encoder for every cell.
_encode_cell = json.JSONEncoder(ensure_ascii=False).encode


def _cell(value: Any) -> Any:
    if type(value) in _PLAIN_CELLS:  # most cells: written as they are
        return value
    if value is None:
        return ""
    if isinstance(value, list | dict | tuple):
        return _encode_cell(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def in_blocks(lines: Iterable[str], size: int = 1 << 16) -> Iterator[bytes]:
    """Lines joined into blocks of about `size` bytes of UTF-8: a server writes each block to the socket at
    once, where one write per line of a million-line export costs more than producing the lines."""
    pending: list[str] = []
    length = 0
    for line in lines:
        pending.append(line)
        length += len(line)
        if length >= size:
            yield "".join(pending).encode()
            pending.clear()
            length = 0
    if pending:
        yield "".join(pending).encode()


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
