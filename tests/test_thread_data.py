"""Thread data that knows its structure (JSONL, CSV): parsed, imported through the command's import function,
given parents stored as `given` links, quotes of the article still found."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from debate.models import Article, Comment, ReplyLink
from debate.seed_parser import SeedFormatError
from debate.thread_data import format_of, parse_thread_data

ARTICLE: dict[str, Any] = {
    "title": "Cluster munitions for Kyiv",
    "author": "Eleanor Vance",
    "body": "The administration will send cluster munitions to Ukraine despite the objections of its allies.",
    "tags": ["Ukraine", "Weapons"],
}
COMMENTS: list[dict[str, Any]] = [
    {
        "id": "t1_a",
        "parent_id": None,
        "author": "Ann",
        "body": "A sound decision.",
        "created_at": "2023-07-07T12:00:00Z",
    },
    {"id": "t1_b", "parent_id": "t1_a", "author": "Bob", "body": "Not if the duds stay in the fields."},
    {
        "id": "t1_c",
        "parent_id": "",
        "author": "Cat",
        "body": '"send cluster munitions to Ukraine despite the objections" is the news.',
    },
    {"id": 4, "parent_id": "t1_b", "author": "Ann", "body": "They clear them after the war."},
]


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(record) for record in records).encode()


def csv_bytes() -> bytes:
    rows = ["id,parent_id,author,body,created_at,title,tags"]
    rows.append(f',,{ARTICLE["author"]},"{ARTICLE["body"]}",,{ARTICLE["title"]},Ukraine|Weapons')
    for comment in COMMENTS:
        body = str(comment["body"]).replace('"', '""')
        created = comment.get("created_at", "")
        rows.append(f'{comment["id"]},{comment["parent_id"] or ""},{comment["author"]},"{body}",{created},,')
    return ("\n".join(rows) + "\n").encode()


@pytest.mark.parametrize(("kind", "data"), [("jsonl", jsonl([ARTICLE, *COMMENTS])), ("csv", csv_bytes())])
def test_both_formats_parse_alike(kind: str, data: bytes) -> None:
    document = parse_thread_data(data, kind)
    assert document.given_structure
    assert (document.title, document.author, document.tags) == (
        ARTICLE["title"],
        "Eleanor Vance",
        ("Ukraine", "Weapons"),
    )
    assert [c.number for c in document.comments] == [1, 2, 3, 4]
    assert [c.external_id for c in document.comments] == ["t1_a", "t1_b", "t1_c", "4"]
    assert [c.given_parent for c in document.comments] == [None, 0, None, 1]
    posted = document.comments[0].posted_at
    assert posted is not None
    assert posted.year == 2023
    assert document.comments[1].posted_at is None


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([ARTICLE, {**COMMENTS[1]}], "parent_id 't1_a' is not an earlier comment's id"),
        ([ARTICLE, COMMENTS[0], COMMENTS[0]], "id 't1_a' appears twice"),
        ([ARTICLE, {**COMMENTS[0], "id": ""}], "a comment needs an id"),
        ([ARTICLE, {**COMMENTS[0], "created_at": "yesterday"}], "is not an ISO 8601 time"),
        ([COMMENTS[0]], "the first record must be the article"),
        ([ARTICLE, {**COMMENTS[0], "body": ["x"]}], "body must be text"),
    ],
)
def test_bad_thread_data_is_refused_in_one_line(records: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(SeedFormatError, match="^line [0-9]+: .*" + message.replace("(", r"\(")):
        parse_thread_data(jsonl(records), "jsonl")


def test_a_line_that_is_not_json_and_a_csv_without_its_columns() -> None:
    with pytest.raises(SeedFormatError, match=r"^line 2: not JSON"):
        parse_thread_data(jsonl([ARTICLE]) + b"\n{oops", "jsonl")
    with pytest.raises(SeedFormatError, match="lacks the column"):
        parse_thread_data(b"id,author\n,x\n", "csv")


def test_format_follows_the_name() -> None:
    assert [format_of(n) for n in ("a.txt", "a.JSONL", "a.ndjson", "a.csv", "a")] == [
        "seed",
        "jsonl",
        "jsonl",
        "csv",
        "seed",
    ]


@pytest.mark.django_db
def test_the_command_imports_thread_data_with_given_links(tmp_path: Path) -> None:
    (tmp_path / "reddit.jsonl").write_bytes(jsonl([ARTICLE, *COMMENTS]))
    (tmp_path / "disqus.csv").write_bytes(csv_bytes())
    (tmp_path / "broken.jsonl").write_bytes(jsonl([ARTICLE, COMMENTS[1]]))
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match=r"1 path\(s\) failed; 2 created"):
        call_command("import_debate", str(tmp_path), stdout=out, stderr=err)
    assert "  created    reddit.jsonl: 4 comments, 2 reply links" in out.getvalue()
    assert "  created    disqus.csv: 4 comments, 2 reply links" in out.getvalue()
    assert f"  refused    {tmp_path / 'broken.jsonl'}: line 2: parent_id" in err.getvalue()
    for source in ("reddit.jsonl", "disqus.csv"):
        article = Article.objects.get(source=source)
        comments = {c.external_id: c for c in Comment.objects.filter(article=article)}
        assert comments["t1_b"].parent == comments["t1_a"]
        assert comments["4"].parent == comments["t1_b"]
        assert comments["4"].depth == 2
        assert comments["t1_c"].parent is None
        assert comments["t1_c"].quotes_article
        links = ReplyLink.objects.filter(source__article=article)
        assert sorted(links.values_list("source__external_id", "target__external_id", "method")) == [
            ("4", "t1_b", "given"),
            ("t1_b", "t1_a", "given"),
        ]
    # The same bytes again change nothing.
    out = StringIO()
    call_command("import_debate", str(tmp_path / "reddit.jsonl"), stdout=out)
    assert "unchanged  reddit.jsonl" in out.getvalue()
