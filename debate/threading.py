"""Rebuild who replies to whom in a comment section, as a careful reader would.

Two kinds of evidence, both recorded with the passage that gave them away:

* A quoted passage: a paragraph or line of a comment that reproduces text of an earlier comment (after
  normalising quotes, dashes, case and whitespace; fuzzy for small differences) links to the earliest
  comment containing it: the original, not someone who re-quoted it. A passage from the article marks the
  comment as quoting the article and links nowhere.
* An ``@Name:`` marker links to that author's nearest earlier comment, unless the same comment quotes a
  passage that pins one of that author's comments. Names match case-insensitively, exactly or as the
  start of a longer display name (exact preferred). When one comment addresses the same name several
  times, the markers answer that author's latest comments in reading order.

A name that never appears earlier gives no link, and a comment without marker or quote stays top-level:
links are never invented. The primary parent for the tree is the link whose evidence comes first.

Pure: no Django. Matching uses an inverted index of word trigrams, so the cost grows with the size of the
thread, not with its square.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from rapidfuzz import fuzz

__all__ = [
    "ARTICLE",
    "CommentText",
    "Link",
    "QuotedSpan",
    "ThreadedComment",
    "reconstruct_threads",
    "tree_layout",
]

ARTICLE = -1  # source key of the article in the quote index

MIN_QUOTE_TOKENS = 5  # shorter lines ("Good to know.") are too common to pin anything
MIN_QUOTE_CHARS = 20
MIN_FUZZY_TOKENS = 8  # below this a quote must match exactly
FUZZY_THRESHOLD = 0.88
NEAR_BEST = 0.05  # among fuzzy matches this close to the best, the earliest source wins
CANDIDATE_SHINGLES = 4  # rarest trigrams of a passage used to find candidate sources
MAX_NAME_LENGTH = 80

MENTION_EXACT = 1.0
MENTION_CASE_INSENSITIVE = 0.95
MENTION_WITHOUT_COLON = 0.9
MENTION_PREFIX = 0.8

_QUOTE_CHARS = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
    }
)
_WORD = re.compile(r"\w+")
_MENTION = re.compile(r"(?<![\w@])@(?=\S)")
_LEADING_MENTION = re.compile(r"^@[^:\n]{1,80}:\s*")

Method = Literal["mention", "quote"]
Trigram = tuple[str, str, str]


@dataclass(frozen=True)
class CommentText:
    author: str | None
    body: str


@dataclass(frozen=True)
class Link:
    target: int  # index of the earlier comment
    method: Method
    score: float
    evidence: str
    position: int  # where the evidence starts in the body


@dataclass(frozen=True)
class QuotedSpan:
    start: int
    end: int
    source: int | None  # index of the quoted comment, or None for the article
    score: float


@dataclass(frozen=True)
class ThreadedComment:
    links: tuple[Link, ...]
    parent: int | None
    quotes_article: bool
    quoted_spans: tuple[QuotedSpan, ...]


@dataclass(frozen=True)
class _Passage:
    start: int
    end: int
    tokens: list[str]


@dataclass(frozen=True)
class _Mention:
    position: int
    written: str  # what follows the "@", as written
    names: tuple[str, ...]  # candidate display names, the preferred one first
    score: float

    @property
    def marker(self) -> str:
        return "@" + self.written


def normalise(text: str) -> str:
    """Text for comparison: compatibility forms, straight quotes, case folded."""
    return unicodedata.normalize("NFKC", text).translate(_QUOTE_CHARS).casefold()


def tokens(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


def _trigrams(words: Sequence[str]) -> list[Trigram]:
    return [(words[k], words[k + 1], words[k + 2]) for k in range(len(words) - 2)]


class _QuoteIndex:
    """Earlier texts (the article, then comments in order), searchable by word trigrams."""

    def __init__(self) -> None:
        self.postings: dict[Trigram, list[int]] = defaultdict(list)
        self.trigram_sets: dict[int, frozenset[Trigram]] = {}
        self.joined: dict[int, str] = {}

    def add(self, key: int, text: str) -> None:
        words = tokens(text)
        grams = frozenset(_trigrams(words))
        for gram in grams:
            self.postings[gram].append(key)
        self.trigram_sets[key] = grams
        self.joined[key] = " " + " ".join(words) + " "

    def best_source(self, passage: _Passage) -> tuple[int, float] | None:
        """The source a passage quotes, and how closely; None if it quotes nothing indexed."""
        grams = set(_trigrams(passage.tokens))
        if not grams:
            return None
        present = [gram for gram in grams if gram in self.postings]
        if not present:
            return None
        rarest = sorted(present, key=lambda gram: len(self.postings[gram]))[:CANDIDATE_SHINGLES]
        candidates = sorted({key for gram in rarest for key in self.postings[gram]})
        needle = " " + " ".join(passage.tokens) + " "
        fuzzy_allowed = len(passage.tokens) >= MIN_FUZZY_TOKENS
        scored: list[tuple[int, float]] = []
        for key in candidates:
            coverage = len(grams & self.trigram_sets[key]) / len(grams)
            if coverage == 1.0 and needle in self.joined[key]:
                scored.append((key, 1.0))
            elif fuzzy_allowed and coverage >= 0.5:
                ratio = fuzz.partial_ratio(needle.strip(), self.joined[key], score_cutoff=FUZZY_THRESHOLD * 100)
                if ratio:
                    scored.append((key, ratio / 100))
        if not scored:
            return None
        best = max(score for _, score in scored)
        # The article is the original of anything it contains; otherwise the earliest close match wins.
        for key, score in scored:  # candidates are sorted, so the article (-1) comes first
            if score >= best - NEAR_BEST:
                return key, score
        raise AssertionError("unreachable: the best score is always within reach of itself")


def _passages(body: str) -> list[tuple[_Passage, list[_Passage]]]:
    """Each paragraph of a body, with its lines when it has several (quotes are often one line)."""
    result: list[tuple[_Passage, list[_Passage]]] = []
    for paragraph in re.finditer(r"[^\n]+(?:\n[^\n]+)*", body):
        lines = [
            _passage(body, line.start() + paragraph.start(), line.end() + paragraph.start())
            for line in re.finditer(r"[^\n]+", paragraph.group())
        ]
        whole = _passage(body, paragraph.start(), paragraph.end())
        result.append((whole, lines if len(lines) > 1 else []))
    return result


def _passage(body: str, start: int, end: int) -> _Passage:
    text = body[start:end]
    marker = _LEADING_MENTION.match(text)
    if marker:  # "@Name: quoted text" quotes the text, not the marker
        start += marker.end()
        text = text[marker.end() :]
    return _Passage(start=start, end=end, tokens=tokens(text))


def _is_quotable(passage: _Passage, body: str) -> bool:
    return len(passage.tokens) >= MIN_QUOTE_TOKENS and len(body[passage.start : passage.end].strip()) >= MIN_QUOTE_CHARS


def _find_quotes(body: str, index: _QuoteIndex) -> list[tuple[_Passage, int, float]]:
    found: list[tuple[_Passage, int, float]] = []
    for paragraph, lines in _passages(body):
        match = index.best_source(paragraph) if _is_quotable(paragraph, body) else None
        if match:
            found.append((paragraph, *match))
            continue
        for line in lines:
            line_match = index.best_source(line) if _is_quotable(line, body) else None
            if line_match:
                found.append((line, *line_match))
    return found


class _Names:
    """Display names of earlier commenters, for resolving @-markers."""

    def __init__(self) -> None:
        self.latest: dict[str, int] = {}  # display name -> index of their latest comment so far
        self.comments: dict[str, list[int]] = defaultdict(list)
        self.by_folded: dict[str, list[str]] = defaultdict(list)

    def add(self, name: str | None, index: int) -> None:
        if not name:
            return
        if name not in self.latest:
            self.by_folded[name.casefold()].append(name)
        self.latest[name] = index
        self.comments[name].append(index)

    def resolve(self, text_after_at: str, position: int) -> _Mention | None:
        """The name an @-marker addresses, if any earlier commenter has it."""
        line = text_after_at.split("\n", 1)[0][: MAX_NAME_LENGTH + 1]
        colon = line.find(":")
        if 0 < colon <= MAX_NAME_LENGTH:
            written = " ".join(line[:colon].split())
            folded = written.casefold()
            exact = self.by_folded.get(folded, [])
            if exact:
                preferred = sorted(exact, key=lambda name: (name != written, -self.latest[name]))
                score = MENTION_EXACT if preferred[0] == written else MENTION_CASE_INSENSITIVE
                return _Mention(position, line[: colon + 1], tuple(preferred), score)
            longer = [name for key, names in self.by_folded.items() if key.startswith(folded + " ") for name in names]
            if folded and longer:
                return _Mention(position, line[: colon + 1], tuple(self._recent_first(longer)), MENTION_PREFIX)
        # Without a colon: the longest known name the text starts with, ending at a word boundary.
        folded_line = line.casefold()
        starts = [
            key
            for key in self.by_folded
            if folded_line.startswith(key) and (len(line) == len(key) or not line[len(key)].isalnum())
        ]
        if not starts:
            return None
        best = max(starts, key=len)
        return _Mention(
            position, line[: len(best)], tuple(self._recent_first(self.by_folded[best])), MENTION_WITHOUT_COLON
        )

    def _recent_first(self, names: Sequence[str]) -> list[str]:
        return sorted(names, key=lambda name: -self.latest[name])


def _find_mentions(body: str, names: _Names, quoted: list[tuple[int, int]]) -> list[_Mention]:
    mentions = []
    for match in _MENTION.finditer(body):
        at = match.start()
        if any(start <= at < end for start, end in quoted):
            continue  # a marker inside a quoted passage belongs to the quoted comment
        mention = names.resolve(body[match.end() :], at)
        if mention:
            mentions.append(mention)
    return mentions


def reconstruct_threads(article_body: str, comments: Sequence[CommentText]) -> list[ThreadedComment]:
    """Reply links, primary parent and quoted passages of every comment, in the order given."""
    index = _QuoteIndex()
    index.add(ARTICLE, article_body)
    names = _Names()
    authors = [comment.author for comment in comments]
    results: list[ThreadedComment] = []
    for position, comment in enumerate(comments):
        quotes = _find_quotes(comment.body, index)
        spans = tuple(
            QuotedSpan(passage.start, passage.end, None if source == ARTICLE else source, round(score, 3))
            for passage, source, score in quotes
        )
        mentions = _find_mentions(comment.body, names, [(span.start, span.end) for span in spans])
        links = _combine(comment.body, quotes, mentions, names, authors)
        parent = min(links, key=lambda link: link.position).target if links else None
        results.append(
            ThreadedComment(
                links=tuple(sorted(links, key=lambda link: link.position)),
                parent=parent,
                quotes_article=any(source == ARTICLE for _, source, _ in quotes),
                quoted_spans=spans,
            )
        )
        index.add(position, comment.body)
        names.add(comment.author, position)
    return results


def _combine(
    body: str,
    quotes: list[tuple[_Passage, int, float]],
    mentions: list[_Mention],
    names: _Names,
    authors: Sequence[str | None],
) -> list[Link]:
    links: dict[int, Link] = {}

    def add(link: Link) -> None:
        known = links.get(link.target)
        if known is None:
            links[link.target] = link
        else:
            stronger = link if (link.method == "quote", link.score) > (known.method == "quote", known.score) else known
            links[link.target] = replace(stronger, position=min(link.position, known.position))

    comment_quotes = [(passage, source, score) for passage, source, score in quotes if source != ARTICLE]
    for passage, source, score in comment_quotes:
        add(Link(source, "quote", round(score, 3), body[passage.start : passage.end], passage.start))

    unresolved: dict[str, list[_Mention]] = defaultdict(list)
    pinned_targets: set[int] = set()
    markers_per_name: dict[str, int] = defaultdict(int)
    for mention in mentions:
        markers_per_name[mention.names[0]] += 1
    for number, mention in enumerate(mentions):
        segment_end = mentions[number + 1].position if number + 1 < len(mentions) else len(body)
        pins = [(passage, source) for passage, source, _ in comment_quotes if authors[source] in mention.names]
        in_segment = [source for passage, source in pins if mention.position <= passage.start < segment_end]
        pinned = in_segment[0] if in_segment else None
        if pinned is None and pins and markers_per_name[mention.names[0]] == 1:
            pinned = pins[0][1]  # the only marker for this name: the quote anywhere in the comment pins it
        if pinned is not None:
            pinned_targets.add(pinned)
            links[pinned] = replace(links[pinned], position=min(links[pinned].position, mention.position))
        else:
            unresolved[mention.names[0]].append(mention)

    for name, group in unresolved.items():
        earlier = [target for target in names.comments[name] if target not in pinned_targets]
        if not earlier:
            continue
        # Several markers for one name answer that author's latest comments, in reading order.
        chosen = earlier[-len(group) :]
        for offset, mention in enumerate(group):
            target = chosen[offset] if offset < len(chosen) else chosen[-1]
            add(Link(target, "mention", mention.score, mention.marker, mention.position))
    return list(links.values())


def tree_layout(parents: Sequence[int | None]) -> list[tuple[int, int]]:
    """(depth, pre-order position) of each comment, given parents that always come earlier."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for child, parent in enumerate(parents):
        if parent is not None and not 0 <= parent < child:
            raise ValueError(f"comment {child} cannot reply to comment {parent}: a parent must come earlier")
        children[parent].append(child)
    layout = [(0, 0)] * len(parents)
    order = 0
    stack = [(root, 0) for root in reversed(children[None])]
    while stack:
        node, depth = stack.pop()
        layout[node] = (depth, order)
        order += 1
        stack.extend((child, depth + 1) for child in reversed(children[node]))
    return layout
