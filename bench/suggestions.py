"""Training time of a topic's stance model (issue 16): `python -m bench.suggestions --labels 10000 [--json]`.

Pure (no database): a stance-bearing synthetic corpus (`debate.synthetic` with topics), three annotators per
comment who give the comment's reference stance 75% of the time, their consensus (unanimous or majority, as the
app trains on) with its agreement weight, then `annotations.suggestions.model.train`: the cross-validated
measurement and the final fit, as the training job runs them. Prints wall-clock and CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from typing import Any

from annotations.consensus import compute_consensus
from annotations.suggestions.model import STANCES, Example, ItemText, agreement_weight, split_quotes, train
from debate.synthetic import generate_corpus

TOPICS = ("cluster-munitions", "strikes-in-russia", "trainers-in-ukraine")


def examples(labels: int, seed: int = 1) -> list[Example]:
    rng = random.Random(seed)
    found: list[Example] = []
    for document in generate_corpus(seed=seed, articles=labels // 300 + 2, comments_per_article=400, topics=TOPICS):
        for comment in document.comments:
            truth = comment.stances[TOPICS[0]]
            given = [truth if rng.random() < 0.75 else rng.choice([s for s in STANCES if s != truth]) for _ in range(3)]
            result = compute_consensus(given)
            if result.status not in ("unanimous", "majority") or result.stance is None:
                continue
            context = document.comments[comment.parent].body if comment.parent is not None else ""
            own, quotes = split_quotes(comment.body, [])
            found.append(
                Example(
                    ItemText(own, context, quotes),
                    result.stance,
                    agreement_weight(result.status, result.counts, result.stance),
                )
            )
            if len(found) == labels:
                return found
    return found


def measure(labels: int) -> dict[str, Any]:
    data = examples(labels)
    wall, cpu = time.perf_counter(), time.process_time()
    result = train(data)
    return {
        "labels": len(data),
        "wall_seconds": round(time.perf_counter() - wall, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "usable": result.metrics.usable,
        "overall_macro_f1": result.metrics.overall.macro_f1,
        "baseline_macro_f1": result.metrics.overall.baseline_macro_f1,
        "calibration": result.metrics.calibration,
        "folds": result.metrics.folds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labels", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = measure(args.labels)
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"{figures['labels']} consensus labels: trained in {figures['wall_seconds']} s "
            f"({figures['cpu_seconds']} s CPU), macro-F1 {figures['overall_macro_f1']} "
            f"(baseline {figures['baseline_macro_f1']}), {figures['calibration']} calibration"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
