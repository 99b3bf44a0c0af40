"""Parse thread data that already knows its structure: JSON Lines or CSV of comments with their parents.

JSON Lines (`.jsonl`, `.ndjson`): the first record is the article, every later one a comment::

    {"title": "...", "author": "...", "body": "...", "tags": ["...", "..."]}
    {"id": "c1", "parent_id": null, "author": "Ann", "body": "...", "created_at": "2024-05-01T10:00:00Z"}
    {"id": "c2", "parent_id": "c1", "author": "Bob", "body": "..."}

CSV (`.csv`, with a header row): columns `id`, `parent_id`, `author`, `body`, and optionally `created_at`,
`title`, `tags`. The first data row, with an empty `id`, is the article (its `title`, `author`, `body`, and
`tags` separated by `|`); every later row is a comment.

A comment's `parent_id` is empty (or null) for a top-level comment, else the `id` of an *earlier* comment of
the same file: replies come after what they answer (sort a dump by time first). Ids are strings of at most
255 characters (numbers are taken as their decimal text) and unique within the file; `created_at` is ISO 8601
(`Z` allowed), taken as UTC without an offset. Comments are numbered 1, 2, ... in file order.

Pure: no Django, no I/O. `parse_thread_data` returns a `ParsedDocument` with `given_structure` set, or raises
`SeedFormatError` with a one-line message.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from debate.seed_parser import (
    MAX_AUTHOR_LENGTH,
    ParsedComment,
    ParsedDocument,
    SeedFormatError,
    decode_document,
    derive_title,
)

__all__ = ["THREAD_DATA_SUFFIXES", "format_of", "parse_thread_data"]

THREAD_DATA_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
MAX_ID_LENGTH = 255
CSV_COLUMNS = ("id", "parent_id", "author", "body")

Progress = Callable[[int, int], None]


def format_of(name: str) -> str:
    """`seed`, `jsonl` or `csv`, by the file name's suffix (seed text for anything else)."""
    lowered = name.lower()
    for suffix, kind in THREAD_DATA_SUFFIXES.items():
        if lowered.endswith(suffix):
            return kind
    return "seed"


def parse_thread_data(data: bytes, kind: str, progress: Progress | None = None) -> ParsedDocument:
    """The article and comments of a JSONL or CSV file; `progress(lines_read, lines)` is called as records are
    read."""
    text = decode_document(data)
    records = _jsonl_records(text) if kind == "jsonl" else _csv_records(text)
    lines = text.count("\n") + 1
    return _document(records, kind, None if progress is None else lambda line: progress(line, lines))


def _jsonl_records(text: str) -> Iterable[tuple[int, Mapping[str, Any]]]:
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise SeedFormatError(f"line {number}: not JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise SeedFormatError(f"line {number}: a record must be a JSON object")
        yield number, record


def _csv_records(text: str) -> Iterable[tuple[int, Mapping[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in CSV_COLUMNS if name not in columns]
    if missing:
        raise SeedFormatError(f"the CSV header lacks the column(s) {', '.join(missing)}")
    reader.fieldnames = columns
    try:
        for row in reader:
            if None in row:
                raise SeedFormatError(f"line {reader.line_num}: more cells than the header has columns")
            record: dict[str, Any] = dict(row)
            if "tags" in record:
                record["tags"] = [tag.strip() for tag in (record["tags"] or "").split("|") if tag.strip()]
            yield reader.line_num, record
    except csv.Error as error:
        raise SeedFormatError(f"line {reader.line_num}: not CSV ({error})") from None


def _text(record: Mapping[str, Any], key: str, line: int) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise SeedFormatError(f"line {line}: {key} must be text")
    return str(value)


def _timestamp(value: str, line: int) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SeedFormatError(f"line {line}: created_at {value[:40]!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _document(
    records: Iterable[tuple[int, Mapping[str, Any]]], kind: str, progress: Callable[[int], None] | None
) -> ParsedDocument:
    iterator = iter(records)
    first = next(iterator, None)
    if first is None:
        raise SeedFormatError("no records: the first must be the article")
    line, article = first
    if kind == "csv" and _text(article, "id", line):
        raise SeedFormatError(f"line {line}: the first row is the article and has an empty id")
    if kind == "jsonl" and "id" in article and "title" not in article:
        raise SeedFormatError(f"line {line}: the first record must be the article (title, author, body, tags)")
    tags = article.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise SeedFormatError(f"line {line}: tags must be a list of strings")
    body = _text(article, "body", line).strip()
    title = " ".join(_text(article, "title", line).split())
    title_derived = not title
    if title_derived:
        title = derive_title(body) if body else "Untitled"
    article_author = _text(article, "author", line).strip() or None

    comments: list[ParsedComment] = []
    index_of: dict[str, int] = {}
    for line, record in iterator:
        external_id = _text(record, "id", line).strip()
        if not external_id:
            raise SeedFormatError(f"line {line}: a comment needs an id")
        if len(external_id) > MAX_ID_LENGTH:
            raise SeedFormatError(f"line {line}: id is longer than {MAX_ID_LENGTH} characters")
        if external_id in index_of:
            raise SeedFormatError(f"line {line}: id {external_id[:40]!r} appears twice")
        parent_id = _text(record, "parent_id", line).strip()
        parent = None
        if parent_id:
            parent = index_of.get(parent_id)
            if parent is None:
                raise SeedFormatError(
                    f"line {line}: parent_id {parent_id[:40]!r} is not an earlier comment's id "
                    "(replies must come after what they answer)"
                )
        author = " ".join(_text(record, "author", line).split()) or None
        if author is not None and len(author) > MAX_AUTHOR_LENGTH:
            raise SeedFormatError(f"line {line}: author is longer than {MAX_AUTHOR_LENGTH} characters")
        index_of[external_id] = len(comments)
        comments.append(
            ParsedComment(
                number=len(comments) + 1,
                author=author,
                body=_text(record, "body", line).replace("\r\n", "\n").strip(),
                line=line,
                external_id=external_id,
                posted_at=_timestamp(_text(record, "created_at", line).strip(), line),
                given_parent=parent,
            )
        )
        if progress is not None and len(comments) % 256 == 0:
            progress(line)
    return ParsedDocument(
        title=title,
        title_derived=title_derived,
        subtitle="",
        body=body,
        tags=tuple(tags),
        author=article_author,
        author_bio="",
        comments=tuple(comments),
        given_structure=True,
    )
