"""Dataset releases over real HTTP with a real worker on PostgreSQL: immutable files, a manifest whose sha256 and
row counts hold, a Hugging Face dataset card, pandas reading JSONL, CSV and Parquet alike."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from annotations.models import Annotation, Release, Topic
from debate.models import Article, Comment
from tests.conftest import Api, Workers, label, wait_for

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def release_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "releases"
    with override_settings(RELEASES_ROOT=root):
        yield root


@pytest.fixture
def labelled(seeds: dict[str, Article], topics: dict[str, Topic], make_user: Callable[..., User]) -> dict[str, Any]:
    annotators = [make_user("annotator", f"ann-{n}") for n in range(2)]
    comments = list(Comment.objects.order_by("article_id", "number")[:30])
    for n, comment in enumerate(comments):
        for annotator in annotators:
            label(annotator, comment, topics["cluster-munitions"], "favor" if (n + annotator.pk) % 3 else "against")
        label(annotators[0], comment, topics["strikes-in-russia"], "neutral")
    label(annotators[1], comments[0].article, topics["cluster-munitions"], "against")
    # What the annotator was shown (issue 16), as a label write with a hint records it.
    Annotation.objects.filter(annotator=annotators[0], comment=comments[0], topic=topics["cluster-munitions"]).update(
        suggestion_shown=True, suggested_stance="against", suggestion_model_version=3, stream="random"
    )
    return {"annotators": annotators, "comments": comments}


def finished(api: Api, url: str) -> dict[str, Any] | None:
    body = api.http.get(url).json()
    return body if body["status"] in ("done", "failed") else None


def test_a_release_is_immutable_and_loads_in_pandas(
    api_as: Callable[..., Api], workers: Workers, labelled: dict[str, Any], release_root: Path, topics: dict[str, Topic]
) -> None:
    workers.start(RELEASES_ROOT=str(release_root))
    researcher = api_as("researcher")
    response = researcher.post("/releases/", json={"name": "Cluster debates 2026"})
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert set(accepted) == {"id", "status", "url"}
    body = wait_for(lambda: finished(researcher, accepted["url"]))
    assert body["status"] == "done", body["error"]
    names = [file["name"] for file in body["files"]]
    assert names == [
        "annotations.jsonl",
        "annotations.csv",
        "annotations.parquet",
        "comments.jsonl",
        "comments.parquet",
        "README.md",
        "manifest.json",
    ]
    downloaded = {}
    for file in body["files"]:
        got = researcher.http.get(file["url"])
        assert got.status_code == 200
        assert hashlib.sha256(got.content).hexdigest() == file["sha256"]
        downloaded[file["name"]] = got.content
    manifest = json.loads(downloaded["manifest.json"])
    rows = {file["name"]: file["rows"] for file in manifest["files"]}
    labels = Annotation.objects.count()
    assert labels == 30 * 3 + 1
    assert rows["annotations.jsonl"] == rows["annotations.csv"] == rows["annotations.parquet"] == labels
    assert rows["comments.jsonl"] == rows["comments.parquet"] == Comment.objects.count()
    frames = {
        "annotations.jsonl": pd.read_json(io.BytesIO(downloaded["annotations.jsonl"]), lines=True),
        "annotations.csv": pd.read_csv(io.BytesIO(downloaded["annotations.csv"])),
        "annotations.parquet": pd.read_parquet(io.BytesIO(downloaded["annotations.parquet"])),
        "comments.jsonl": pd.read_json(io.BytesIO(downloaded["comments.jsonl"]), lines=True),
        "comments.parquet": pd.read_parquet(io.BytesIO(downloaded["comments.parquet"])),
    }
    for name, frame in frames.items():
        assert len(frame) == rows[name], name
    for frame in (frames["annotations.csv"], frames["annotations.parquet"]):
        assert list(frame.columns) == list(frames["annotations.jsonl"].columns)
        assert sorted(frame["stance"]) == sorted(frames["annotations.jsonl"]["stance"])
    assert (frames["annotations.parquet"]["item_type"] == "article").sum() == 1
    for frame in (frames["annotations.jsonl"], frames["annotations.csv"], frames["annotations.parquet"]):
        hinted = frame[frame["suggestion_shown"].astype(bool)]
        assert len(hinted) == 1
        assert (hinted["suggested_stance"].iloc[0], int(hinted["suggestion_model_version"].iloc[0])) == ("against", 3)
        assert hinted["stream"].iloc[0] == "random"
        assert (frame["stream"] == "random").sum() == 1
    # The manifest: topics with their guidelines as they stood, agreement, the app version.
    assert {topic["topic"] for topic in manifest["topics"]} == set(topics)
    assert manifest["agreement"]["cluster-munitions"]["items"] == 30
    assert manifest["app_version"]
    # The dataset card: a YAML header in the Hugging Face format, then the prose.
    card = downloaded["README.md"].decode()
    assert card == body["card"]
    header, _, prose = card.removeprefix("---\n").partition("\n---\n")
    assert "configs:\n- config_name: annotations\n  default: true" in header
    assert "path: annotations.parquet" in header
    assert "  - name: stance\n    dtype: string" in header
    assert f"    num_examples: {labels}" in header
    for section in (
        "## Label scheme",
        "## Topics and guidelines",
        "## Agreement",
        "## How reply links were made",
        "## Limitations",
    ):
        assert section in prose
    assert "2 annotator(s)" in prose
    # Later label changes never change a release.
    annotator = labelled["annotators"][0]
    label(annotator, labelled["comments"][0], topics["cluster-munitions"], "not_about")
    label(annotator, labelled["comments"][-1].article, topics["strikes-in-russia"], "favor")
    again = researcher.http.get(accepted["url"]).json()
    assert again["files"] == body["files"]
    for file in again["files"]:
        assert researcher.http.get(file["url"]).content == downloaded[file["name"]]
    folder = release_root / Release.objects.get().folder
    assert all(not (path.stat().st_mode & 0o222) for path in folder.iterdir())  # read-only files
    assert [r["id"] for r in researcher.get("/releases/").json()["results"]] == [accepted["id"]]


def test_filters_select_the_labels_and_bad_ones_are_refused(
    api_as: Callable[..., Api], workers: Workers, labelled: dict[str, Any], release_root: Path
) -> None:
    workers.start(RELEASES_ROOT=str(release_root))
    curator = api_as("curator")
    accepted = curator.post(
        "/releases/", json={"name": "Strikes only", "filters": {"topic": "strikes-in-russia"}}
    ).json()
    body = wait_for(lambda: finished(curator, accepted["url"]))
    assert body["filters"] == {"topic": "strikes-in-russia"}
    rows = {file["name"]: file["rows"] for file in body["files"]}
    assert rows["annotations.csv"] == 30
    frame = pd.read_csv(io.BytesIO(curator.http.get(body["files"][1]["url"]).content))
    assert set(frame["topic"]) == {"strikes-in-russia"}
    bad = curator.post("/releases/", json={"name": "x", "filters": {"colour": "red"}})
    assert bad.status_code == 400
    assert "unknown filter(s) colour" in json.dumps(bad.json())
    assert curator.post("/releases/", json={"name": "  "}).status_code == 400
    assert Release.objects.count() == 1


def test_who_may_release_and_what_is_404(
    api_as: Callable[..., Api], anonymous_api: Api, workers: Workers, seeds: dict[str, Article], release_root: Path
) -> None:
    assert anonymous_api.post("/releases/", json={"name": "x"}).status_code == 401
    annotator = api_as("annotator")
    refused = annotator.post("/releases/", json={"name": "x"})
    assert refused.status_code == 403
    assert refused.json()["detail"] == "dataset releases are for curators, researchers and admins"
    assert annotator.get("/releases/").status_code == 403
    workers.start(RELEASES_ROOT=str(release_root))
    researcher = api_as("researcher")
    accepted = researcher.post("/releases/", json={"name": "empty"}).json()
    body = wait_for(lambda: finished(researcher, accepted["url"]))
    assert {file["name"]: file["rows"] for file in body["files"]}["annotations.jsonl"] == 0
    base = f"/releases/{accepted['id']}"
    assert researcher.get(f"{base}/files/annotations.jsonl").status_code == 200
    assert researcher.get(f"{base}/files/..%2Fmanifest.json").status_code == 404
    assert researcher.get(f"{base}/files/secrets.txt").status_code == 404
    assert annotator.get(f"{base}/files/annotations.jsonl").status_code == 403
    assert researcher.get("/releases/999/").status_code == 404
    assert researcher.get("/releases/abc/").status_code == 404
