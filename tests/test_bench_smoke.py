"""`make bench` at tiny sizes, so that the benchmark code cannot rot. No timing is asserted: only that every
item runs against the real production server and reports, and the correctness checks that come with it."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from bench.run import ITEMS, SMOKE, markdown, run_benchmarks


def database_url() -> str:
    database = settings.DATABASES["default"]
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database.get("PASSWORD") else "")
    return f"postgres://{credentials}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_every_benchmark_runs_at_smoke_size(topics: object) -> None:
    report = run_benchmarks(SMOKE, database_url())
    results = {result["id"]: result for result in report["results"]}
    assert set(results) == set(ITEMS)
    for result in results.values():
        assert result["value"]
        assert result["target"]
        assert result["command"]
    json.dumps(report)  # the JSON file is written from this
    table = markdown(report)
    assert all(f"| {item} |" in table for item in ITEMS)

    assert results["1b"]["details"]["comments"] == SMOKE.corpus_articles * SMOKE.corpus_comments
    assert results["2"]["details"]["statuses"] == {201: SMOKE.puts}
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
