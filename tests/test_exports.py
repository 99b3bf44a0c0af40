"""Dataset exports over HTTP and through the CLI: exact columns, one row per label, filters, loading with
pandas, and a number of queries that does not grow with the number of rows."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from annotations.export.formats import ANNOTATION_COLUMNS
from annotations.models import Annotation, Topic
from debate.models import Article, Comment
from tests.conftest import CLUSTER_MUNITIONS, STRIKES_IN_RUSSIA, Api, comments_by_number, label

CM, SR, TU = "cluster-munitions", "strikes-in-russia", "trainers-in-ukraine"
NOTE = 'He says "send them",\nthen hedges; 100% — ünïcödé'

COMMENT_KEYS = {
    "comment_id",
    "article_id",
    "article_source",
    "comment_number",
    "author",
    "body",
    "parent_id",
    "parent_number",
    "depth",
    "thread_order",
    "quotes_article",
    "reply_to",
    "annotations",
    "consensus",
    "gold",
}


class Labels:
    """Labels with every kind of value: a note needing CSV quoting, evidence, no confidence, an author-less
    comment (cluster 36), a reply (cluster 3) and labels on two articles."""

    def __init__(self, seeds: dict[str, Article], topics: dict[str, Topic], make_user: Callable[..., User]) -> None:
        self.cluster, self.strikes = seeds[CLUSTER_MUNITIONS], seeds[STRIKES_IN_RUSSIA]
        self.c, self.s = comments_by_number(self.cluster), comments_by_number(self.strikes)
        self.a1, self.a2 = make_user("annotator", "a1"), make_user("annotator", "a2")
        one = self.c[1]
        self.evidence = [{"start": 0, "end": 7, "text": one.body[:7]}]
        label(self.a1, one, topics[CM], "favor", unsure=True, confidence=3, note=NOTE, evidence=self.evidence)
        label(self.a2, one, topics[CM], "favor")
        label(self.a1, self.c[3], topics[SR], "against", confidence=1)
        label(self.a2, self.c[36], topics[CM], "neutral")
        label(self.a1, self.s[5], topics[TU], "against", confidence=2)


@pytest.fixture
def labels(seeds: dict[str, Article], topics: dict[str, Topic], make_user: Callable[..., User]) -> Labels:
    return Labels(seeds, topics, make_user)


def streamed(response: Any) -> str:
    """The whole body of a streaming response from the test client, read the way a server sends it."""
    return b"".join(response.streaming_content).decode()


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.django_db(transaction=True)
class TestOverHttp:
    def test_annotations_jsonl_has_exactly_the_columns_and_one_row_per_label(
        self, labels: Labels, api_as: Callable[..., Api]
    ) -> None:
        response = api_as("researcher").get("/export/annotations.jsonl")

        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("application/jsonl")
        assert response.headers["Content-Disposition"].startswith('attachment; filename="debate-annotations-')
        rows = jsonl(response.text)
        assert len(rows) == Annotation.objects.count() == 5
        assert all(list(row) == list(ANNOTATION_COLUMNS) for row in rows)
        assert [(r["article_id"], r["comment_number"], r["topic"], r["annotator"]) for r in rows] == [
            (labels.cluster.pk, 1, CM, "a1"),
            (labels.cluster.pk, 1, CM, "a2"),
            (labels.cluster.pk, 3, SR, "a1"),
            (labels.cluster.pk, 36, CM, "a2"),
            (labels.strikes.pk, 5, TU, "a1"),
        ]
        first = rows[0]
        assert {key: first[key] for key in ANNOTATION_COLUMNS if not key.endswith("_at")} == {
            "comment_id": labels.c[1].pk,
            "article_id": labels.cluster.pk,
            "comment_number": 1,
            "parent_id": None,
            "depth": 0,
            "author": "charontwo",
            "annotator": "a1",
            "topic": CM,
            "stance": "favor",
            "unsure": True,
            "confidence": 3,
            "note": NOTE,
            "evidence": labels.evidence,
            "gold": None,
            "item_type": "comment",
            "label_role": "ordinary",
            "guideline_version": 1,
            "lead_time_ms": None,
            "suggestion_shown": False,
            "suggested_stance": "",
            "suggestion_model_version": None,
            "stream": "",
        }
        assert (rows[2]["parent_id"], rows[2]["depth"]) == (labels.c[1].pk, 1)
        assert rows[3]["author"] is None

    def test_annotations_csv_has_the_header_and_evidence_as_json_text(
        self, labels: Labels, api_as: Callable[..., Api]
    ) -> None:
        response = api_as("curator").get("/export/annotations.csv")

        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/csv")
        assert response.text.splitlines()[0] == ",".join(ANNOTATION_COLUMNS)
        frame = pd.read_csv(io.StringIO(response.text))
        assert list(frame.columns) == list(ANNOTATION_COLUMNS)
        assert len(frame) == 5
        assert json.loads(frame.loc[0, "evidence"]) == labels.evidence
        assert frame.loc[1, "evidence"] == "[]"
        assert frame.loc[0, "note"] == NOTE

    def test_both_long_formats_load_into_pandas_with_proper_types_and_the_same_values(
        self, labels: Labels, api_as: Callable[..., Api]
    ) -> None:
        api = api_as("admin")

        from_json = pd.read_json(io.StringIO(api.get("/export/annotations.jsonl").text), lines=True)
        from_csv = pd.read_csv(
            io.StringIO(api.get("/export/annotations.csv").text), parse_dates=["created_at", "updated_at"]
        )

        for frame in (from_json, from_csv):
            assert list(frame.columns) == list(ANNOTATION_COLUMNS)
            for column in ("comment_id", "article_id", "comment_number", "depth"):
                assert frame[column].dtype == "int64", column
            assert frame["unsure"].dtype == bool
            assert frame["unsure"].tolist() == [True, False, False, False, False]
            assert frame["confidence"].dtype == "float64"  # nullable: NaN where unset
            assert frame["confidence"].isna().tolist() == [False, True, False, True, False]
            assert str(frame["created_at"].dtype).startswith("datetime64")
            assert frame["stance"].tolist() == ["favor", "favor", "against", "neutral", "against"]
            assert frame["parent_id"].isna().tolist() == [True, True, False, True, True]
        for column in ("comment_id", "comment_number", "annotator", "topic", "stance", "depth", "created_at"):
            assert from_json[column].tolist() == from_csv[column].tolist(), column
        assert from_json.loc[0, "evidence"] == labels.evidence

    def test_annotation_exports_apply_the_list_filters(self, labels: Labels, api_as: Callable[..., Api]) -> None:
        api = api_as("researcher")

        def exported(path: str, **params: object) -> list[tuple[int, str, str]]:
            text = api.get(path, **params).text
            if path.endswith(".csv"):
                frame = pd.read_csv(io.StringIO(text))
                return list(zip(frame["comment_number"], frame["topic"], frame["annotator"], strict=True))
            return [(r["comment_number"], r["topic"], r["annotator"]) for r in jsonl(text)]

        for path in ("/export/annotations.jsonl", "/export/annotations.csv"):
            assert exported(path, topic=CM) == [(1, CM, "a1"), (1, CM, "a2"), (36, CM, "a2")]
            assert exported(path, annotator="a1", article=labels.cluster.pk) == [(1, CM, "a1"), (3, SR, "a1")]
            assert exported(path, stance="against") == [(3, SR, "a1"), (5, TU, "a1")]
            assert exported(path, comment=labels.c[36].pk) == [(36, CM, "a2")]
            assert exported(path, topic=TU, article=labels.cluster.pk) == []
        assert api.get("/export/annotations.csv", topic=TU, article=labels.cluster.pk).text == (
            ",".join(ANNOTATION_COLUMNS) + "\n"
        )

    def test_an_invalid_export_filter_is_a_400_before_anything_streams(
        self, labels: Labels, api_as: Callable[..., Api]
    ) -> None:
        api = api_as("researcher")

        responses = [
            api.get("/export/annotations.jsonl", topic="no-such-topic"),
            api.get("/export/annotations.csv", updated_since="last week"),
            api.get("/export/comments.jsonl", stance="favor"),
        ]

        assert [r.status_code for r in responses] == [400, 400, 400]
        assert [r.headers["Content-Type"] for r in responses] == ["application/json"] * 3
        details = [r.json()["detail"] for r in responses]
        assert details[0].startswith("topic: ")
        assert "'no-such-topic'" in details[0]
        assert details[1].startswith("updated_since: ")
        assert details[2] == "stance: needs a topic: add topic=<slug>"

    @pytest.mark.parametrize(
        ("path", "accept", "lines"),
        [
            ("/export/annotations.csv", "text/csv", 7),  # header + 5 rows, one note spans two lines
            ("/export/annotations.jsonl", "application/jsonl", 5),
            ("/export/comments.jsonl", "application/x-ndjson, text/plain;q=0.5", 57),
        ],
    )
    def test_exports_answer_a_client_that_asks_for_their_own_media_type(
        self, labels: Labels, api_as: Callable[..., Api], path: str, accept: str, lines: int
    ) -> None:
        api = api_as("researcher")

        response = api.request("GET", path, headers={"Accept": accept})
        refused = api.request("GET", path, params={"article": "nope"}, headers={"Accept": accept})

        assert response.status_code == 200
        assert len(response.text.splitlines()) == lines
        assert refused.status_code == 400  # errors are still JSON, whatever the client asked for
        assert refused.json()["detail"].startswith("article: ")

    def test_comments_jsonl_has_one_record_per_comment_with_labels_and_consensus(
        self, labels: Labels, api_as: Callable[..., Api]
    ) -> None:
        response = api_as("researcher").get("/export/comments.jsonl")

        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith('attachment; filename="debate-comments-')
        records = jsonl(response.text)
        assert len(records) == Comment.objects.count() == 57
        assert all(set(record) == COMMENT_KEYS for record in records)
        by_key = {(r["article_id"], r["comment_number"]): r for r in records}
        one = by_key[(labels.cluster.pk, 1)]
        assert one["body"] == labels.c[1].body
        assert [(a["annotator"], a["topic"], a["stance"]) for a in one["annotations"]] == [
            ("a1", CM, "favor"),
            ("a2", CM, "favor"),
        ]
        assert one["annotations"][0]["note"] == NOTE
        assert one["annotations"][0]["evidence"] == labels.evidence
        assert one["consensus"] == {CM: {"stance": "favor", "status": "unanimous", "n": 2}, SR: None, TU: None}
        three = by_key[(labels.cluster.pk, 3)]
        assert (three["parent_id"], three["parent_number"], three["depth"]) == (labels.c[1].pk, 1, 1)
        assert [(link["comment_number"], link["method"]) for link in three["reply_to"]] == [
            (1, "mention"),
            (2, "mention"),
        ]
        assert three["consensus"][SR] == {"stance": "against", "status": "single", "n": 1}
        assert by_key[(labels.cluster.pk, 36)]["author"] is None
        assert by_key[(labels.cluster.pk, 2)]["annotations"] == []
        assert by_key[(labels.cluster.pk, 2)]["consensus"] == {CM: None, SR: None, TU: None}

    def test_comments_jsonl_loads_into_pandas_and_applies_the_comment_filters(
        self, labels: Labels, api_as: Callable[..., Api]
    ) -> None:
        api = api_as("curator")

        frame = pd.read_json(io.StringIO(api.get("/export/comments.jsonl").text), lines=True)
        favor = jsonl(api.get("/export/comments.jsonl", topic=CM, stance="favor").text)
        strikes = jsonl(api.get("/export/comments.jsonl", article=labels.strikes.pk, search="trainer").text)

        assert len(frame) == 57
        assert set(frame.columns) == COMMENT_KEYS
        assert frame["comment_id"].dtype == "int64"
        assert frame["annotations"].map(len).sum() == 5
        assert [(r["article_id"], r["comment_number"]) for r in favor] == [(labels.cluster.pk, 1)]
        assert [r["comment_number"] for r in strikes] == [3, 5, 21]
        assert strikes[1]["annotations"][0]["topic"] == TU


def size_labels(n_annotators: int, seeds: dict[str, Article]) -> int:
    """n_annotators × every comment × every topic, written in bulk: set-up for query counting only."""
    users = User.objects.bulk_create([User(username=f"bulk-{n_annotators}-{i}") for i in range(n_annotators)])
    topics = list(Topic.objects.all())
    Annotation.objects.bulk_create(
        Annotation(article_id=comment.article_id, comment=comment, topic=topic, annotator=user, stance="favor")
        for user in users
        for comment in Comment.objects.all()
        for topic in topics
    )
    return Annotation.objects.count()


EXPORTS = ["/api/export/annotations.jsonl", "/api/export/annotations.csv", "/api/export/comments.jsonl"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", EXPORTS)
def test_exports_run_the_same_number_of_queries_whatever_the_number_of_rows(
    path: str,
    seeds: dict[str, Article],
    topics: dict[str, Topic],
    make_user: Callable[..., User],
    django_assert_max_num_queries: Any,
) -> None:
    client = Client()
    client.force_login(make_user("researcher"))
    counts, sizes = [], []
    for n_annotators in (0, 1, 15):  # 15 × 57 comments × 3 topics crosses the 2000-row fetch size
        sizes.append(size_labels(n_annotators, seeds) if n_annotators else 0)
        with django_assert_max_num_queries(10) as context:
            response = client.get(path)
            lines = streamed(response).splitlines()
        assert response.status_code == 200
        counts.append(len(context.captured_queries))
        if "annotations" in path:
            assert len(lines) == sizes[-1] + (1 if path.endswith(".csv") else 0)
        else:
            assert len(lines) == 57
            assert sum(len(json.loads(line)["annotations"]) for line in lines) == sizes[-1]

    assert sizes[-1] > 2000
    assert len(set(counts)) == 1, counts


# The CLI


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_command_writes_the_same_dataset_as_the_api(
    fmt: str, labels: Labels, tmp_path: Path, make_user: Callable[..., User], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"labels.{fmt}"
    client = Client()
    client.force_login(make_user("researcher"))

    call_command("export_annotations", "--format", fmt, "--out", str(out))

    api_text = streamed(client.get(f"/api/export/annotations.{fmt}"))
    assert out.read_text(encoding="utf-8") == api_text
    assert not (tmp_path / f"labels.{fmt}.partial").exists()
    captured = capsys.readouterr()
    assert f"Wrote 5 label(s) to {out}" in captured.out
    assert "5/5" in captured.err  # the progress bar reached the end
    frame = pd.read_json(out, lines=True) if fmt == "jsonl" else pd.read_csv(out)
    assert list(frame.columns) == list(ANNOTATION_COLUMNS)
    assert len(frame) == 5


@pytest.mark.django_db
def test_export_command_can_filter_by_topic_and_write_to_stdout(labels: Labels) -> None:
    stdout = io.StringIO()

    call_command("export_annotations", "--format", "csv", "--out", "-", "--topic", CM, stdout=stdout)

    frame = pd.read_csv(io.StringIO(stdout.getvalue()))
    assert frame["topic"].tolist() == [CM, CM, CM]


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["missing-folder/labels.jsonl", "a-file/labels.jsonl"])
def test_export_command_fails_cleanly_on_an_unwritable_path(labels: Labels, tmp_path: Path, where: str) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / where

    with pytest.raises(CommandError, match=rf"^cannot write {out}: (No such file or directory|Not a directory)$"):
        call_command("export_annotations", "--format", "jsonl", "--out", str(out))

    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-file"]


@pytest.mark.django_db
def test_export_command_refuses_an_unknown_topic(labels: Labels, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no labels for topic 'nope'"):
        call_command("export_annotations", "--out", str(tmp_path / "x.jsonl"), "--topic", "nope")

    assert list(tmp_path.iterdir()) == []
