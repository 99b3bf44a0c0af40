"""The dataset card of a release: README.md in the Hugging Face format (a YAML header with the configs and
features, then prose). Pure: no Django; `annotations.releases` gathers what it says."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

# Features of the files, in the Hugging Face `dataset_info` vocabulary.
ANNOTATION_FEATURES: tuple[tuple[str, str], ...] = (
    ("comment_id", "int64"),
    ("article_id", "int64"),
    ("comment_number", "int64"),
    ("parent_id", "int64"),
    ("depth", "int64"),
    ("author", "string"),
    ("annotator", "string"),
    ("topic", "string"),
    ("stance", "string"),
    ("unsure", "bool"),
    ("confidence", "int64"),
    ("note", "string"),
    ("evidence", "string"),
    ("created_at", "string"),
    ("updated_at", "string"),
    ("gold", "string"),
    ("item_type", "string"),
    ("label_role", "string"),
    ("guideline_version", "int64"),
    ("lead_time_ms", "int64"),
    ("suggestion_shown", "bool"),
    ("suggested_stance", "string"),
    ("suggestion_model_version", "int64"),
    ("stream", "string"),
)
COMMENT_FEATURES: tuple[tuple[str, str], ...] = (
    ("comment_id", "int64"),
    ("article_id", "int64"),
    ("article_source", "string"),
    ("comment_number", "int64"),
    ("author", "string"),
    ("body", "string"),
    ("parent_id", "int64"),
    ("parent_number", "int64"),
    ("depth", "int64"),
    ("thread_order", "int64"),
    ("quotes_article", "bool"),
    ("reply_to", "string"),
    ("annotations", "string"),
    ("consensus", "string"),
    ("gold", "string"),
)

STANCES = (
    ("favor", "the comment (or article) argues for the topic's statement"),
    ("against", "it argues against it"),
    ("neutral", "it discusses the topic without taking a side"),
    ("not_about", "it is not about the topic"),
)

REPLY_METHODS = {
    "mention": "an `@Name:` marker resolved to that author's comment",
    "quote": "a quoted passage matched to the earliest comment containing it",
    "content": "an ambiguous marker resolved by the words the reply shares with one candidate",
    "given": "given by imported thread data (JSONL/CSV)",
    "manual": "set by a curator",
}


def _yaml(value: Any) -> str:
    """A YAML scalar: JSON strings are valid YAML and say exactly what they hold."""
    return json.dumps(value, ensure_ascii=False)


def _size_category(rows: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if rows < limit:
            return name
    return "1M<n<10M"


def _features(features: Sequence[tuple[str, str]]) -> list[str]:
    return [f"  - name: {name}\n    dtype: {dtype}" for name, dtype in features]


def dataset_card(
    *,
    name: str,
    created_at: str,
    app_version: str,
    filters: Mapping[str, Any],
    rows: Mapping[str, int],
    topics: Sequence[Mapping[str, Any]],
    agreement: Mapping[str, Mapping[str, Any]],
    annotators: int,
    link_methods: Mapping[str, int],
    articles: int,
) -> str:
    """The card's text. `rows` by file name; `topics` as guideline_history gives the current versions;
    `agreement` per topic slug: alpha, interval, items, annotators, labels."""
    header = [
        "---",
        f"pretty_name: {_yaml(name)}",
        "language:\n- en",
        "license: other",
        "task_categories:\n- text-classification",
        "tags:\n- stance-detection\n- threaded-discussions\n- argument-mining",
        f"size_categories:\n- {_size_category(rows.get('annotations.jsonl', 0))}",
        "configs:",
        "- config_name: annotations",
        "  default: true",
        "  data_files:",
        "  - split: train",
        "    path: annotations.parquet",
        "- config_name: comments",
        "  data_files:",
        "  - split: train",
        "    path: comments.parquet",
        "dataset_info:",
        "- config_name: annotations",
        "  features:",
        *_features(ANNOTATION_FEATURES),
        "  splits:",
        "  - name: train",
        f"    num_examples: {rows.get('annotations.jsonl', 0)}",
        "- config_name: comments",
        "  features:",
        *_features(COMMENT_FEATURES),
        "  splits:",
        "  - name: train",
        f"    num_examples: {rows.get('comments.jsonl', 0)}",
        "---",
    ]
    body = [
        f"# {name}",
        "",
        f"Stance annotations of threaded online debates, released {created_at} by the debate annotator "
        f"(version {app_version}). A release is immutable: later label changes never change it. `manifest.json` "
        "lists every file with its SHA-256 and row count.",
        "",
        f"Filters: {json.dumps(dict(filters), ensure_ascii=False) if filters else 'none (every label)'}.",
        "",
        "## Files",
        "",
        "| file | rows | |",
        "|---|---|---|",
        f"| `annotations.jsonl`, `annotations.csv`, `annotations.parquet` | {rows.get('annotations.jsonl', 0)} | "
        "one row per label (long format); `evidence` is JSON text in CSV and Parquet |",
        f"| `comments.jsonl`, `comments.parquet` | {rows.get('comments.jsonl', 0)} | one record per comment with its "
        "reply links, labels, consensus and gold label (nested in JSONL, JSON text in Parquet) |",
        "",
        "```python",
        "import pandas as pd",
        'labels = pd.read_parquet("annotations.parquet")  # or read_json("annotations.jsonl", lines=True), read_csv',
        "from datasets import load_dataset",
        'labels = load_dataset("parquet", data_files="annotations.parquet")',
        "```",
        "",
        "## Label scheme",
        "",
        "Each label is one annotator's stance on one item (a comment, or an article itself: `item_type`) and "
        "topic, with `unsure`, `confidence` (1-3), a `note` and `evidence` (spans of the body, in code points). "
        "`gold` is a curator's adjudicated stance; `label_role` tells ordinary labels from attention checks "
        "and qualification answers, which are not annotation data. `suggestion_shown`, `suggested_stance` and "
        "`suggestion_model_version` say whether the annotator saw a model's hint when setting the label (never on "
        "items of the agreement overlap sample), and `stream` whether the item came from the uncertainty-ordered "
        "queue (`uncertain`) or its random share (`random`): keep `random` for an unbiased sample.",
        "",
        *[f"- `{stance}`: {meaning}" for stance, meaning in STANCES],
        "",
        "## Topics and guidelines",
        "",
    ]
    for topic in topics:
        body += [
            f"### {topic['topic']} (guidelines version {topic['version']})",
            "",
            f"Statement: {topic['statement']}",
            "",
            str(topic["guidelines"]).strip() or "(no guidelines)",
            "",
        ]
    body += [
        "## Agreement",
        "",
        f"{annotators} annotator(s) labelled items of {articles} article(s) in this release. Krippendorff's α "
        "(nominal) per topic, with its 95% bootstrap interval over items, over every label of the topic at release "
        "time (the overlap sample, when work is assigned; never attention checks):",
        "",
        "| topic | α | 95% interval | items | annotators | labels |",
        "|---|---|---|---|---|---|",
    ]
    for slug, figures in agreement.items():
        alpha = figures.get("alpha")
        interval = figures.get("interval")
        body.append(
            f"| {slug} | {'n/a' if alpha is None else f'{alpha:.3f}'} | "
            f"{'n/a' if not interval else f'{interval[0]:.3f} to {interval[1]:.3f}'} | {figures.get('items', 0)} | "
            f"{figures.get('annotators', 0)} | {figures.get('labels', 0)} |"
        )
    body += [
        "",
        "## How reply links were made",
        "",
        "`parent_id` and `reply_to` come from the reply reconstruction of the debate annotator: quoted passages, "
        "`@Name:` markers and, where a marker is ambiguous, the words of the reply; curators corrected some by hand.",
        "",
        "| method | links | |",
        "|---|---|---|",
        *[
            f"| {method} | {count} | {REPLY_METHODS.get(method, '')} |"
            for method, count in sorted(link_methods.items(), key=lambda item: -item[1])
        ],
        *(["| (none) | 0 | no reply links among these comments |"] if not link_methods else []),
        "",
        "## Limitations",
        "",
        "- Reconstructed reply links are inferred, not given by the source pages: some are wrong or missing "
        "(the repository's thread report measures precision and recall on hand-checked threads).",
        "- Labels reflect the annotators' reading under the guidelines above; the consensus of few annotators "
        "is weak evidence, and agreement figures rest on the overlap sample only.",
        "- The comments come from a handful of English-language news sites and are not a sample of public "
        "opinion; author names are as printed on the pages.",
        "",
    ]
    return "\n".join(header) + "\n" + "\n".join(body)
