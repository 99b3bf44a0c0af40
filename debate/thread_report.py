"""How good the reply links are: counts and scores per method, and against a hand-made reference, precision,
recall and primary-parent accuracy per method and overall.

The reference format (JSON, UTF-8): an object mapping a document's name (the file name, as imported) to an
object mapping a comment's number to the numbers of the comments it replies to, the primary parent first::

    {
      "cluster_duds.txt": {"5": [1], "36": [30, 28], "18": []},
      "strikes_kharkiv.txt": {"6": [2]}
    }

A comment that is not listed, or listed with ``[]``, replies to no comment (a top-level comment, one that only
quotes the article, or one answering a deleted comment). Links are compared as (comment, parent) pairs of
printed numbers; a link is right when the reference has the pair, whatever its method.

Pure: no Django, no I/O. `parse_reference` raises `BadReference` with a one-line message for anything that
is not such a reference.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from debate.reply_threads import CommentText, reconstruct_threads
from debate.seed_parser import ParsedDocument

__all__ = [
    "METHODS",
    "BadReference",
    "DocumentLinks",
    "MethodReport",
    "ReportLink",
    "ThreadReport",
    "article_reference",
    "build_report",
    "check_reference",
    "parse_reference",
    "reconstructed_links",
    "reference_from",
    "render_report",
    "report_as_dict",
]

METHODS = ("mention", "quote", "content", "given", "manual")  # in report order; manual only for stored links
MAX_REFERENCE_BYTES = 10_000_000

# document name -> comment number -> parent numbers, the primary first
Reference = dict[str, dict[int, tuple[int, ...]]]


class BadReference(ValueError):
    """The reference file cannot be used; the message says why in one line."""


@dataclass(frozen=True)
class ReportLink:
    child: int  # printed comment numbers
    parent: int
    method: str
    score: float


@dataclass(frozen=True)
class DocumentLinks:
    """One document's reply links as reconstructed (or stored), in printed comment numbers."""

    name: str
    numbers: tuple[int, ...]  # every comment's number, in order
    links: tuple[ReportLink, ...]
    primary: Mapping[int, int | None]  # comment number -> primary parent's number


@dataclass(frozen=True)
class MethodReport:
    method: str
    links: int
    scores: tuple[float, ...]
    correct: int | None = None  # with a reference
    primary: int | None = None  # comments whose primary parent this method's link gave
    primary_correct: int | None = None

    @property
    def wrong(self) -> int | None:
        return None if self.correct is None else self.links - self.correct

    @property
    def precision(self) -> float | None:
        return None if self.correct is None or not self.links else self.correct / self.links

    @property
    def primary_accuracy(self) -> float | None:
        return None if self.primary_correct is None or not self.primary else self.primary_correct / self.primary


@dataclass(frozen=True)
class ThreadReport:
    documents: tuple[str, ...]
    comments: int
    methods: tuple[MethodReport, ...]
    links: int
    with_reference: bool
    reference_links: int = 0
    correct: int = 0
    primary_compared: int = 0  # comments with a parent in the reference or in the links
    primary_correct: int = 0
    wrong_links: tuple[tuple[str, int, int, str], ...] = ()  # document, child, parent, method
    missed_links: tuple[tuple[str, int, int], ...] = ()
    recall_by_method: Mapping[str, float] = field(default_factory=dict)

    @property
    def precision(self) -> float | None:
        return (self.correct / self.links if self.links else 1.0) if self.with_reference else None

    @property
    def recall(self) -> float | None:
        if not self.with_reference:
            return None
        return self.correct / self.reference_links if self.reference_links else 1.0

    @property
    def primary_accuracy(self) -> float | None:
        if not self.with_reference:
            return None
        return self.primary_correct / self.primary_compared if self.primary_compared else 1.0


def reconstructed_links(name: str, document: ParsedDocument) -> DocumentLinks:
    """A parsed document's reply links as `reconstruct_threads` finds them, in printed numbers."""
    numbers = tuple(comment.number for comment in document.comments)
    threads = reconstruct_threads(
        document.body,
        [CommentText(comment.author, comment.body) for comment in document.comments],
        article_author=document.author,
        numbers=numbers,
    )
    return DocumentLinks(
        name=name,
        numbers=numbers,
        links=tuple(
            ReportLink(numbers[position], numbers[link.target], link.method, link.score)
            for position, thread in enumerate(threads)
            for link in thread.links
        ),
        primary={
            numbers[position]: None if thread.parent is None else numbers[thread.parent]
            for position, thread in enumerate(threads)
        },
    )


def parse_reference(data: bytes | str) -> Reference:
    """A reference file's links; raises BadReference saying what is wrong, in one line."""
    if len(data) > MAX_REFERENCE_BYTES:
        raise BadReference(f"reference larger than {MAX_REFERENCE_BYTES} bytes")
    try:
        content = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadReference(f"reference is not JSON: {str(error).splitlines()[0]}") from None
    return reference_from(content)


def reference_from(content: Any) -> Reference:
    """A reference from parsed JSON (the API's request body); raises BadReference like `parse_reference`."""
    if not isinstance(content, dict) or not content:
        raise BadReference("reference must be a JSON object mapping document names to their links")
    return {str(name): _document_reference(str(name), links) for name, links in content.items()}


def article_reference(content: Any, name: str) -> dict[int, tuple[int, ...]]:
    """The links of document `name` from a reference, or from the links alone ({"5": [1], ...})."""
    if isinstance(content, dict) and name in content:
        return reference_from({name: content[name]})[name]
    if isinstance(content, dict) and content and all(isinstance(key, str) and key.isdigit() for key in content):
        return reference_from({name: content})[name]
    raise BadReference(f"the reference has no entry for {name}")


def _document_reference(name: str, links: Any) -> dict[int, tuple[int, ...]]:
    if not isinstance(links, dict):
        raise BadReference(f"{name}: links must be an object mapping comment numbers to lists of numbers")
    parsed: dict[int, tuple[int, ...]] = {}
    for child_text, parents in links.items():
        child = _number(name, child_text)
        if not isinstance(parents, list) or not all(isinstance(parent, int) for parent in parents):
            raise BadReference(f"{name}: comment {child_text}: parents must be a list of comment numbers")
        if any(isinstance(parent, bool) or parent < 1 for parent in parents):
            raise BadReference(f"{name}: comment {child_text}: parents must be positive comment numbers")
        if any(parent >= child for parent in parents):
            raise BadReference(f"{name}: comment {child} cannot reply to a later comment or itself")
        if len(set(parents)) != len(parents):
            raise BadReference(f"{name}: comment {child} lists a parent twice")
        parsed[child] = tuple(parents)
    return parsed


def _number(name: str, text: str) -> int:
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise BadReference(f"{name}: {text!r} is not a comment number")
    return int(text)


def check_reference(reference: Reference, documents: Sequence[DocumentLinks]) -> None:
    """Raises BadReference unless the reference covers every document and names only their comments."""
    for document in documents:
        links = reference.get(document.name)
        if links is None:
            raise BadReference(f"the reference has no entry for {document.name}")
        known = set(document.numbers)
        for child, parents in links.items():
            unknown = [number for number in (child, *parents) if number not in known]
            if unknown:
                raise BadReference(f"{document.name}: the reference names comment {unknown[0]}, which is not there")


def build_report(documents: Sequence[DocumentLinks], reference: Reference | None = None) -> ThreadReport:
    """Counts and scores per method; with a reference, how many links are right and how many are missed."""
    if reference is not None:
        check_reference(reference, documents)
    by_method: dict[str, list[ReportLink]] = defaultdict(list)
    for document in documents:
        for link in document.links:
            by_method[link.method].append(link)
    methods = [method for method in METHODS if method in by_method] + sorted(set(by_method) - set(METHODS))
    names = tuple(document.name for document in documents)
    comments = sum(len(document.numbers) for document in documents)
    total = sum(len(links) for links in by_method.values())
    if reference is None:
        return ThreadReport(
            documents=names,
            comments=comments,
            methods=tuple(
                MethodReport(method, len(by_method[method]), tuple(link.score for link in by_method[method]))
                for method in methods
            ),
            links=total,
            with_reference=False,
        )

    expected = {
        (document.name, child, parent)
        for document in documents
        for child, parents in reference[document.name].items()
        for parent in parents
    }
    correct: dict[str, int] = defaultdict(int)
    primary: dict[str, int] = defaultdict(int)
    primary_correct: dict[str, int] = defaultdict(int)
    wrong: list[tuple[str, int, int, str]] = []
    found: set[tuple[str, int, int]] = set()
    compared = right = 0
    for document in documents:
        wanted = reference[document.name]
        method_of = {(link.child, link.parent): link.method for link in document.links}
        for link in document.links:
            if (document.name, link.child, link.parent) in expected:
                correct[link.method] += 1
                found.add((document.name, link.child, link.parent))
            else:
                wrong.append((document.name, link.child, link.parent, link.method))
        for number in document.numbers:
            ours = document.primary.get(number)
            theirs = wanted.get(number, ())[:1]
            if ours is None and not theirs:
                continue
            compared += 1
            is_right = theirs == (ours,)
            right += is_right
            if ours is not None:
                method = method_of.get((number, ours), "manual")
                primary[method] += 1
                primary_correct[method] += is_right
    missed = sorted(expected - found)
    return ThreadReport(
        documents=names,
        comments=comments,
        methods=tuple(
            MethodReport(
                method,
                len(by_method[method]),
                tuple(link.score for link in by_method[method]),
                correct=correct[method],
                primary=primary[method],
                primary_correct=primary_correct[method],
            )
            for method in methods
        ),
        links=total,
        with_reference=True,
        reference_links=len(expected),
        correct=sum(correct.values()),
        primary_compared=compared,
        primary_correct=right,
        wrong_links=tuple(sorted(wrong)),
        missed_links=tuple(missed),
        recall_by_method={method: correct[method] / len(expected) if expected else 0.0 for method in methods},
    )


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _score_summary(scores: Sequence[float]) -> str:
    if not scores:
        return "-"
    return (
        f"min {min(scores):.2f}  median {statistics.median(scores):.2f}  mean {statistics.fmean(scores):.2f}  "
        f"max {max(scores):.2f}"
    )


def render_report(report: ThreadReport) -> str:
    """The report as text for a terminal: a table per method, totals, then the wrong and missed links."""
    lines = [f"{len(report.documents)} document(s), {report.comments} comments, {report.links} reply links"]
    header = f"{'method':<8} {'links':>5}  scores"
    if report.with_reference:
        header = (
            f"{'method':<8} {'links':>5} {'right':>5} {'wrong':>5} {'precision':>9} {'recall':>6} {'primary':>7}"
            "  scores"
        )
    lines.append(header)
    for method in report.methods:
        if report.with_reference:
            lines.append(
                f"{method.method:<8} {method.links:>5} {method.correct:>5} {method.wrong:>5} "
                f"{_share(method.precision):>9} {_share(report.recall_by_method.get(method.method)):>6} "
                f"{_share(method.primary_accuracy):>7}  {_score_summary(method.scores)}"
            )
        else:
            lines.append(f"{method.method:<8} {method.links:>5}  {_score_summary(method.scores)}")
    if report.with_reference:
        lines.append(
            f"{'overall':<8} {report.links:>5} {report.correct:>5} {report.links - report.correct:>5} "
            f"{_share(report.precision):>9} {_share(report.recall):>6} {_share(report.primary_accuracy):>7}"
        )
        lines.append(
            f"reference: {report.reference_links} links; found {report.correct}, missed {len(report.missed_links)}, "
            f"wrong {len(report.wrong_links)}; primary parent right for {report.primary_correct} of "
            f"{report.primary_compared} comments"
        )
        lines.extend(
            f"  wrong   {name} #{child} -> #{parent} ({method})" for name, child, parent, method in report.wrong_links
        )
        lines.extend(f"  missed  {name} #{child} -> #{parent}" for name, child, parent in report.missed_links)
    return "\n".join(lines)


def report_as_dict(report: ThreadReport) -> dict[str, Any]:
    """The report as JSON-ready data (the API's body and `thread_report --json`)."""
    methods = []
    for method in report.methods:
        entry: dict[str, Any] = {
            "method": method.method,
            "links": method.links,
            "scores": {
                "min": min(method.scores) if method.scores else None,
                "median": statistics.median(method.scores) if method.scores else None,
                "mean": round(statistics.fmean(method.scores), 4) if method.scores else None,
                "max": max(method.scores) if method.scores else None,
            },
        }
        if report.with_reference:
            entry |= {
                "correct": method.correct,
                "wrong": method.wrong,
                "precision": method.precision,
                "recall": report.recall_by_method.get(method.method),
                "primary_parents": method.primary,
                "primary_accuracy": method.primary_accuracy,
            }
        methods.append(entry)
    data: dict[str, Any] = {
        "documents": list(report.documents),
        "comments": report.comments,
        "links": report.links,
        "methods": methods,
    }
    if report.with_reference:
        data["reference"] = {
            "links": report.reference_links,
            "correct": report.correct,
            "wrong": len(report.wrong_links),
            "missed": len(report.missed_links),
            "precision": report.precision,
            "recall": report.recall,
            "primary_compared": report.primary_compared,
            "primary_accuracy": report.primary_accuracy,
            "wrong_links": [
                {"document": name, "comment": child, "parent": parent, "method": method}
                for name, child, parent, method in report.wrong_links
            ],
            "missed_links": [
                {"document": name, "comment": child, "parent": parent} for name, child, parent in report.missed_links
            ],
        }
    return data
