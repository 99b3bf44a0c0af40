"""`make bench` at tiny sizes, so that the benchmark code cannot rot. No timing is asserted: only that every
item runs against the real production server and reports, and the correctness checks that come with it."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from bench.run import ITEMS, SMOKE, TARGETS, markdown, run_benchmarks


def database_url() -> str:
    database = settings.DATABASES["default"]
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database.get("PASSWORD") else "")
    return f"postgres://{credentials}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_every_benchmark_runs_at_smoke_size(topics: object) -> None:
    report = run_benchmarks(SMOKE, database_url())
    results = {result["id"]: result for result in report["results"]}
    # Item 2 measures the batch endpoint beside single writes (2b); 9a's uploads also judge issue 14's import
    # target (1d).
    assert set(results) == set(ITEMS) | {"2b", "1d"}
    assert results["1d"]["details"]["http_median_s"] == results["9a"]["details"]["http_median_s"]
    for result in results.values():
        assert result["value"]
        assert result["target"]
        assert result["command"]
    # Every target is judged as a ratio to a reference of this run.
    assert report["references"]["health_p50_s"] > 0
    assert report["references"]["calibration_s"] > 0
    for item in TARGETS:
        assert results[item]["ratio"], item
        assert set(results[item]["details"]["ratios"]) == {target.figure for target in TARGETS[item]}
        assert results[item]["met"] in (True, False)
    json.dumps(report)  # the JSON file is written from this
    table = markdown(report)
    assert all(f"| {item} |" in table for item in results)

    assert results["1b"]["details"]["comments"] == SMOKE.corpus_articles * SMOKE.corpus_comments
    assert results["2"]["details"]["statuses"] == {201: SMOKE.puts}
    assert set(results["2b"]["details"]["statuses"]) <= {200, 201}
    assert results["4c"]["details"]["annotator"]["records"] == SMOKE.corpus_comments
    concurrent = results["3"]["details"]
    assert concurrent["acknowledged"] > 0
    assert not concurrent["errors_sample"]
    assert concurrent["labels_stored"] == concurrent["labels_acknowledged"]
    assert concurrent["history_events"] == concurrent["history_expected"]
    assert concurrent["consensus_wrong"] == 0
    thread = results["5"]["details"]
    assert len(set(thread["large"]["queries"] + thread["small"]["queries"])) == 1  # constant
    export = results["6"]["details"]
    assert export["jsonl"]["lines"] == export["annotations"]
    assert export["csv"]["lines"] == export["annotations"] + 1  # the header
    assert results["8"]["details"]["processes"] == 1 + SMOKE.workers
    imported = results["9a"]["details"]
    assert len(imported["http_until_queryable_s"]) == SMOKE.import_repeats
    progress = results["9b"]["details"]
    assert progress["comments"] == SMOKE.corpus_articles * SMOKE.corpus_comments
    assert progress["changes"] >= 1
    release = results["9c"]["details"]
    assert release["files"]["annotations.jsonl"]["rows"] == release["rows"]
    assert release["files"]["annotations.parquet"]["rows"] == release["rows"]
