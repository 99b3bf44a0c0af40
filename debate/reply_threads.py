"""Rebuild who replies to whom in a comment section, as a careful reader would.

Two kinds of evidence, both recorded with the passage that gave them away:

* A quoted passage: a paragraph or line of a comment, or a run of text in quotation marks inside a line,
  that reproduces text of an earlier comment (after normalising quotes, dashes, case and whitespace; fuzzy
  for small differences) links to the earliest comment containing it: the original, not someone who
  re-quoted it. A passage from the article marks the comment as quoting the article and links nowhere.
  Passages must carry some content words (three when short, and then they must match exactly), so stock
  phrases ("I couldn't agree more.", "I don't know what you are talking about.") never count as quotes.
* An ``@Name:`` marker links to that author's nearest earlier comment, unless the same comment quotes a
  passage found in one of that author's comments, which pins it (even when the author was only
  re-quoting someone else). Names match ignoring case, quote style and spacing, exactly or as the start
  (whole words) of a longer display name, with or without the colon; the exact name is preferred. When
  one comment has several markers for the same name (``@Name:``, or ``@Name`` opening a line), they answer
  that author's latest comments in reading order, while passing mentions ("as @Name said") refer to the
  latest one. A marker inside a quoted passage belongs to the quoted comment and links nowhere.

A name that never appears earlier gives no link, and a comment without marker or quote stays top-level:
links are never invented. A target gets one link, carrying its strongest evidence; a link's position is
where that evidence starts. The primary parent for the tree is the comment whose evidence comes first (a
marker that a quote further down resolved counts from the marker).

Pure: no Django. Matching uses an inverted index of word trigrams, probed only with the rarest trigrams a
match must contain, so the cost grows with the size of the thread, not with its square.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import repeat
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
# Words outside _FUNCTION_WORDS a passage needs: "I don't know what to say." is long enough, but says nothing.
MIN_QUOTE_CONTENT_WORDS = 2
MIN_SHORT_QUOTE_CONTENT_WORDS = 3  # below MIN_FUZZY_TOKENS: "It is a tough decision." is still a stock line
MIN_FUZZY_TOKENS = 8  # below this a quote must match exactly
FUZZY_THRESHOLD = 0.88
MIN_FUZZY_COVERAGE = 0.5  # share of a passage's trigrams a source must contain before fuzzy scoring
# A passage whose rarest trigrams lead to more earlier texts than this is made of stock phrases (a sign-off
# repeated all over a long thread): only an exact copy can pin its source.
MAX_FUZZY_CANDIDATES = 100
NEAR_BEST = 0.05  # among fuzzy matches this close to the best, the earliest source wins
MAX_NAME_LENGTH = 80

MENTION_EXACT = 1.0
MENTION_CASE_INSENSITIVE = 0.95
MENTION_WITHOUT_COLON = 0.9
MENTION_PREFIX = 0.8

_PLAIN_MARKS = tuple(
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
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
    }.items()
)
# Contractions stay one word, so "couldn't" counts once and can be recognised as a function word.
_WORD = re.compile(r"\w+(?:'\w+)*")
_MENTION = re.compile(r"(?<![\w@])@(?=\S)")
_LEADING_MENTION = re.compile(r"@[^:\n]{1,80}:\s*")  # used with match(), anchored at a line start
# A run of text between double quotation marks of any style (sources mix “…“, "…" and «…»).
_DOUBLE_QUOTES = '"\u201c\u201d\u201e\u201f\u00ab\u00bb'
_QUOTATION = re.compile(f"[{_DOUBLE_QUOTES}](?P<text>[^{_DOUBLE_QUOTES}\\n]+)[{_DOUBLE_QUOTES}]")
# Words that make up stock replies; a passage needs other words as well before it can pin a source.
_FUNCTION_WORDS_TEXT = """
    a about above after again against all also am an and any are aren't as at be because been before being
    below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
    during each either else ever every few for from further had hadn't has hasn't have haven't having he
    he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is
    isn't it it's its itself just let's like me might more most much must mustn't my myself neither no nor
    not now of off on once one only or other ought our ours ourselves out over own quite rather really same
    shan't she she'd she'll she's should shouldn't so some such than that that's the their theirs them
    themselves then there there's these they they'd they'll they're they've this those though through to
    too under until up upon us very was wasn't we we'd we'll we're we've were weren't what what's when
    when's where where's whether which while who who's whom why why's will with won't would wouldn't yes
    yet you you'd you'll you're you've your yours yourself yourselves
    agree agreed exactly good great know knew say said says see seems sure thank thanks think thought
    true well right point lol yeah ok okay talking saying honest honestly mean meant
"""
_FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split())

Method = Literal["mention", "quote"]
Trigram = str  # three tokens joined by spaces: strings cache their hash, tuples do not


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
class _Quote:
    start: int  # span of the quoted text in the replying comment's body
    end: int
    source: int  # the original: ARTICLE, or the earliest comment containing the passage
    score: float
    words: tuple[str, ...]  # the passage's tokens, to test which other comments contain it


@dataclass(frozen=True)
class _Mention:
    position: int
    written: str  # what follows the "@", as written (with its colon, if any)
    names: tuple[str, ...]  # candidate display names, the preferred one first
    score: float
    addressed: bool  # "@Name:", or a marker opening a line: the start of an answer to one comment

    @property
    def marker(self) -> str:
        return "@" + self.written


def normalise(text: str) -> str:
    """Text for comparison: compatibility forms, straight quotes and hyphens, case folded."""
    text = unicodedata.normalize("NFKC", text)
    # str.translate looks every character up in a dict; replacing just the marks present is 20 times faster.
    for mark, plain in _PLAIN_MARKS:
        if mark in text:
            text = text.replace(mark, plain)
    return text.casefold()


def _name_key(name: str) -> str:
    """A display name as markers are compared with it: normalised, spacing collapsed."""
    return " ".join(normalise(name).split())


def tokens(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


def _trigrams(words: Sequence[str]) -> list[Trigram]:
    return list(map(" ".join, zip(words, words[1:], words[2:], strict=False)))  # shifted copies are shorter


class _QuoteIndex:
    """Earlier texts (the article, then comments in order), searchable by word trigrams."""

    def __init__(self) -> None:
        # Where each trigram occurs: its first text, then the others in order. Most trigrams of a thread occur
        # once, so keeping the first apart lets `add` register them in bulk instead of one list each.
        self.first: dict[Trigram, int] = {}
        self.more: dict[Trigram, list[int]] = defaultdict(list)
        self.trigram_sets: dict[int, frozenset[Trigram]] = {}
        self.joined: dict[int, str] = {}

    def add(self, key: int, words: Sequence[str], trigrams: Sequence[Trigram]) -> None:
        grams = frozenset(trigrams)
        seen = self.first.keys() & grams
        # Appends `key` to the list of every trigram seen before, without a Python-level loop.
        deque(map(list.append, map(self.more.__getitem__, seen), repeat(key)), maxlen=0)
        self.first.update(dict.fromkeys(grams - seen, key))
        self.trigram_sets[key] = grams
        self.joined[key] = _joined(words)

    def _postings(self, gram: Trigram) -> list[int]:
        return [self.first[gram], *self.more.get(gram, ())]

    def _frequency(self, gram: Trigram) -> int:
        return 1 + len(self.more.get(gram, ()))

    def holders(self, words: Sequence[str], wanted: Callable[[int], bool]) -> Iterator[int]:
        """Wanted texts containing the passage (exactly, or closely enough if it is long), earliest first."""
        grams = set(_trigrams(words))
        need = _needed(grams, words)
        present = sorted(filter(self.first.__contains__, grams), key=self._frequency)
        if not grams or len(present) < need:
            return
        # Same reasoning as in `find`: a holder has one of the rarest trigrams, so only those are looked at.
        possible = sorted({key for gram in present[: len(present) - need + 1] for key in self._postings(gram)})
        needle = _joined(words)
        for key in filter(wanted, possible):
            if needle in self.joined[key] or (
                len(words) >= MIN_FUZZY_TOKENS
                and len(grams & self.trigram_sets[key]) >= need
                and _closeness(needle, self.joined[key]) >= FUZZY_THRESHOLD
            ):
                yield key

    def find(self, words: Sequence[str], trigrams: Sequence[Trigram]) -> tuple[int, float] | None:
        """The original source of a passage and how closely it matches; None if it quotes nothing indexed."""
        grams = set(trigrams)
        if not grams:
            return None
        fuzzy_allowed = len(words) >= MIN_FUZZY_TOKENS
        need = _needed(grams, words)
        present = list(filter(self.first.__contains__, grams))
        if len(present) < need:
            return None  # most passages are not quotes: this rejects them without touching any source
        # A source sharing `need` of the trigrams lacks at most len(present) - need of the present ones, so
        # it holds one of the rarest len(present) - need + 1: probing just those finds every candidate.
        probes = len(present) - need + 1
        present.sort(key=self._frequency)
        if probes == 1:
            candidates = self._postings(present[0])  # already in order
        else:
            many = self._frequency(present[probes - 1]) > MAX_FUZZY_CANDIDATES
            candidates = [] if many else sorted({key for gram in present[:probes] for key in self._postings(gram)})
            if many or len(candidates) > MAX_FUZZY_CANDIDATES:
                if len(present) < len(grams):
                    return None  # stock phrases, and no text has them all: not even an exact copy exists
                fuzzy_allowed = False
                candidates = self._postings(present[0])  # an exact copy contains the rarest trigram too
        needle = _joined(words)
        scored: list[tuple[int, float]] = []
        for key in candidates:
            if needle in self.joined[key]:
                scored.append((key, 1.0))
                break  # nothing later can beat an exact match, nor come before it
            if fuzzy_allowed and len(grams & self.trigram_sets[key]) >= need:
                closeness = _closeness(needle, self.joined[key])
                if closeness >= FUZZY_THRESHOLD:
                    scored.append((key, closeness))
        if not scored:
            return None
        best = max(score for _, score in scored)
        # The article is the original of anything it contains; otherwise the earliest close match wins, so a
        # re-quote (or a re-quote with a typo fixed) never takes the link from the comment it copied.
        return next((key, score) for key, score in scored if score >= best - NEAR_BEST)


def _needed(grams: set[Trigram], words: Sequence[str]) -> int:
    """How many of a passage's trigrams a source must share: all of them, unless fuzzy matching applies."""
    if len(words) < MIN_FUZZY_TOKENS:
        return len(grams)
    return math.ceil(MIN_FUZZY_COVERAGE * len(grams))


def _closeness(needle: str, text: str) -> float:
    """How nearly `text` contains the passage `needle` (0 to 1), both as `_joined` strings."""
    if len(needle) > len(text):
        # partial_ratio would look for the shorter text inside the passage: a reply that repeats a whole short
        # comment and adds its own words is not a quote of it.
        return fuzz.ratio(needle, text, score_cutoff=FUZZY_THRESHOLD * 100) / 100
    return fuzz.partial_ratio(needle.strip(), text, score_cutoff=FUZZY_THRESHOLD * 100) / 100


def _joined(words: Sequence[str]) -> str:
    return " " + " ".join(words) + " "


@dataclass(frozen=True)
class _Line:
    start: int  # span in the body
    end: int
    first_word: int  # index of the line's first token among the body's tokens
    word_count: int


@dataclass(frozen=True)
class _Body:
    """A comment body read once: its non-blank lines, tokens and trigrams, which passages slice."""

    text: str
    lines: list[_Line]
    words: list[str]
    grams: list[Trigram]  # grams[k] starts at words[k]


def _read(text: str) -> _Body:
    raw = text.split("\n")
    folded = normalise(text).split("\n")
    if len(folded) != len(raw):  # normalisation never adds or drops a line break; this is only a safeguard
        folded = [normalise(line) for line in raw]
    lines: list[_Line] = []
    words: list[str] = []
    start = 0
    for line, folded_line in zip(raw, folded, strict=True):
        if line:
            line_words = _WORD.findall(folded_line)  # tokens never span a line break
            lines.append(_Line(start, start + len(line), len(words), len(line_words)))
            words.extend(line_words)
        start += len(line) + 1
    return _Body(text, lines, words, _trigrams(words))


def _find_quotes(body: _Body, index: _QuoteIndex) -> list[_Quote]:
    """Quoted passages of a body: whole paragraphs, else single lines, else quotation-marked runs in a line."""
    found: list[_Quote] = []
    for paragraph in _paragraphs(body.lines):
        whole = _quote(body, paragraph, index)
        if whole:
            found.append(whole)
            continue
        for line in paragraph:
            line_quote = _quote(body, [line], index) if len(paragraph) > 1 else None
            if line_quote:
                found.append(line_quote)
                continue
            for run in _QUOTATION.finditer(body.text, line.start, line.end):
                run_quote = _quoted_run(run.start("text"), run.end("text"), run.group("text"), index)
                if run_quote:
                    found.append(run_quote)
    return found


def _paragraphs(lines: list[_Line]) -> list[list[_Line]]:
    paragraphs: list[list[_Line]] = []
    for line in lines:
        if paragraphs and paragraphs[-1][-1].end + 1 == line.start:
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
    return paragraphs


def _quote(body: _Body, passage: list[_Line], index: _QuoteIndex) -> _Quote | None:
    start, end = passage[0].start, passage[-1].end
    first, last = passage[0].first_word, passage[-1].first_word + passage[-1].word_count
    quoted_from, skip = start, 0
    marker = _LEADING_MENTION.match(body.text, start, passage[0].end)
    if marker:  # "@Name: quoted text" quotes the text...
        quoted_from, skip = marker.end(), min(len(tokens(marker.group())), passage[0].word_count)
        if quoted_from == passage[0].end and len(passage) > 1:
            quoted_from = passage[1].start  # the marker had a line of its own
    words = body.words[first + skip : last]
    if not _is_quotable(words, body.text[quoted_from:end]):
        return None
    match = index.find(words, body.grams[first + skip : last - 2])
    if match is None:
        return None
    source, score = match
    if skip and _joined(body.words[first:last]) in index.joined[source]:
        quoted_from = start  # ...unless the source has the marker too: then the marker is quoted as well
    return _Quote(quoted_from, end, source, score, tuple(words))


def _quoted_run(start: int, end: int, text: str, index: _QuoteIndex) -> _Quote | None:
    words = tokens(text)
    match = index.find(words, _trigrams(words)) if _is_quotable(words, text) else None
    return _Quote(start, end, *match, tuple(words)) if match else None


def _is_quotable(words: Sequence[str], text: str) -> bool:
    if len(words) < MIN_QUOTE_TOKENS or len(text.strip()) < MIN_QUOTE_CHARS:
        return False
    needed = MIN_SHORT_QUOTE_CONTENT_WORDS if len(words) < MIN_FUZZY_TOKENS else MIN_QUOTE_CONTENT_WORDS
    return len({word for word in words if word not in _FUNCTION_WORDS}) >= needed


class _Names:
    """Display names of earlier commenters, for resolving @-markers."""

    def __init__(self) -> None:
        self.latest: dict[str, int] = {}  # display name -> index of their latest comment so far
        self.author_of: dict[int, str] = {}
        self.comments: dict[str, list[int]] = defaultdict(list)
        self.by_key: dict[str, list[str]] = defaultdict(list)  # normalised name -> display names
        self.by_prefix: dict[str, list[str]] = defaultdict(list)  # leading whole words -> longer names

    def add(self, name: str | None, index: int) -> None:
        key = _name_key(name or "")
        if not name or not key:
            return
        if name not in self.latest:
            self.by_key[key].append(name)
            words = key.split(" ")
            for count in range(1, len(words)):
                self.by_prefix[" ".join(words[:count])].append(name)
        self.latest[name] = index
        self.comments[name].append(index)
        self.author_of[index] = name

    def resolve(self, text_after_at: str, position: int) -> _Mention | None:
        """The name an @-marker addresses, if any earlier commenter has it."""
        line = text_after_at.split("\n", 1)[0][: MAX_NAME_LENGTH + 1]
        colon = line.find(":")
        if 0 < colon <= MAX_NAME_LENGTH:
            written = " ".join(line[:colon].split())
            key = _name_key(written)
            if key in self.by_key:
                preferred = sorted(self.by_key[key], key=lambda name: (name != written, -self.latest[name]))
                score = MENTION_EXACT if preferred[0] == written else MENTION_CASE_INSENSITIVE
                return _Mention(position, line[: colon + 1], tuple(preferred), score, addressed=True)
            if key in self.by_prefix:
                names = self._recent_first(self.by_prefix[key])
                return _Mention(position, line[: colon + 1], names, MENTION_PREFIX, addressed=True)
        # No colon, or the colon ends more than a name: the longest name (else leading words of a name) that
        # the text starts with, ending at a word boundary.
        exact_end = prefix_end = 0
        for end in range(1, len(line) + 1):
            if line[end - 1].isspace() or (end < len(line) and line[end].isalnum()):
                continue
            key = _name_key(line[:end])
            if key in self.by_key:
                exact_end = end
            elif key in self.by_prefix:
                prefix_end = end
        if colon > 0 and _extends_name(line[max(exact_end, prefix_end) : colon]):
            return None  # "@Andy Smith:" when only "Andy" has commented: someone not seen, not Andy
        if exact_end:
            names = self._recent_first(self.by_key[_name_key(line[:exact_end])])
            return _Mention(position, line[:exact_end], names, MENTION_WITHOUT_COLON, addressed=False)
        if prefix_end:
            names = self._recent_first(self.by_prefix[_name_key(line[:prefix_end])])
            return _Mention(position, line[:prefix_end], names, MENTION_PREFIX, addressed=False)
        return None

    def _recent_first(self, names: Sequence[str]) -> tuple[str, ...]:
        return tuple(sorted(names, key=lambda name: -self.latest[name]))


def _extends_name(rest: str) -> bool:
    """Whether the words between a known name and a marker's colon continue the name: capitalised words
    or numbers ("Smith", "2nd"), not a sentence ("I ask")."""
    words = rest.split()
    return 0 < len(words) <= 3 and all(word[:1].isupper() or word[:1].isdigit() for word in words)


def _find_mentions(body: str, names: _Names, quoted: list[tuple[int, int]]) -> list[_Mention]:
    mentions: list[_Mention] = []
    if "@" not in body:
        return mentions
    for match in _MENTION.finditer(body):
        at = match.start()
        if any(start <= at < end for start, end in quoted):
            continue  # a marker inside a quoted passage belongs to the quoted comment
        mention = names.resolve(body[match.end() : match.end() + MAX_NAME_LENGTH + 1], at)
        if mention:
            opens_line = not body[body.rfind("\n", 0, at) + 1 : at].strip()
            mentions.append(mention if mention.addressed or not opens_line else replace(mention, addressed=True))
    return mentions


def reconstruct_threads(
    article_body: str, comments: Sequence[CommentText], article_author: str | None = None
) -> list[ThreadedComment]:
    """Reply links, primary parent and quoted passages of every comment, in the order given.

    With `article_author`, a marker for the article's author that is answered by a quote of the article
    replies to the article, not to that author's latest comment.
    """
    index = _QuoteIndex()
    article = _read(article_body)
    index.add(ARTICLE, article.words, article.grams)
    names = _Names()
    results: list[ThreadedComment] = []
    for position, comment in enumerate(comments):
        body = _read(comment.body)
        quotes = _find_quotes(body, index)
        spans = tuple(
            QuotedSpan(quote.start, quote.end, None if quote.source == ARTICLE else quote.source, round(quote.score, 3))
            for quote in quotes
        )
        mentions = _find_mentions(comment.body, names, [(quote.start, quote.end) for quote in quotes])
        links, first_evidence = _combine(comment.body, quotes, mentions, names, index, article_author)
        results.append(
            ThreadedComment(
                links=tuple(sorted(links, key=lambda link: link.position)),
                parent=min(first_evidence, key=first_evidence.__getitem__) if first_evidence else None,
                quotes_article=any(quote.source == ARTICLE for quote in quotes),
                quoted_spans=spans,
            )
        )
        index.add(position, body.words, body.grams)
        names.add(comment.author, position)
    return results


def _combine(
    body: str,
    quotes: list[_Quote],
    mentions: list[_Mention],
    names: _Names,
    index: _QuoteIndex,
    article_author: str | None = None,
) -> tuple[list[Link], dict[int, int]]:
    """One link per target (the strongest evidence), and where the earliest evidence for each target starts.

    A link's position stays that of its own evidence; the earliest evidence of any kind (a marker that a quote
    further down resolved, say) is what decides the primary parent.
    """
    links: dict[int, Link] = {}
    first_evidence: dict[int, int] = {}
    if not quotes and not mentions:
        return [], first_evidence

    def add(link: Link) -> None:
        known = links.get(link.target)
        if known is None or (link.method == "quote", link.score) > (known.method == "quote", known.score):
            links[link.target] = link
        seen(link.target, link.position)

    def seen(target: int, position: int) -> None:
        first_evidence[target] = min(position, first_evidence.get(target, position))

    for quote in quotes:
        if quote.source != ARTICLE:
            add(Link(quote.source, "quote", round(quote.score, 3), body[quote.start : quote.end], quote.start))
    article_author_key = _name_key(article_author) if article_author else None

    addressed_per_name: dict[str, int] = defaultdict(int)
    for mention in mentions:
        addressed_per_name[mention.names[0]] += mention.addressed
    unresolved: dict[str, list[_Mention]] = defaultdict(list)
    pinned_targets: set[int] = set()
    for number, mention in enumerate(mentions):
        segment_end = mentions[number + 1].position if number + 1 < len(mentions) else len(body)
        pins = [
            (quote, target)
            for quote in quotes
            if (target := _pin(quote, mention, names, index, article_author_key)) is not None
        ]
        in_segment = [target for quote, target in pins if mention.position <= quote.start < segment_end]
        pinned = in_segment[0] if in_segment else None
        if pinned is None and pins and addressed_per_name[mention.names[0]] <= 1:
            pinned = pins[0][1]  # one reply to this name: a quote anywhere in the comment pins it
        if pinned is None:
            unresolved[mention.names[0]].append(mention)
            continue
        if pinned == ARTICLE:
            continue  # the marker answers the article, which the quote already records
        pinned_targets.add(pinned)
        if pinned in links:
            seen(pinned, mention.position)
        else:  # the author only re-quoted the passage; the quote itself links to the original
            add(Link(pinned, "mention", mention.score, mention.marker, mention.position))

    for name, group in unresolved.items():
        addressed = [mention for mention in group if mention.addressed]
        # Only the author's latest few comments can be answered; a prolific author has thousands.
        wanted = max(len(addressed), 1)
        earlier: list[int] = []
        for target in reversed(names.comments[name]):
            if target not in pinned_targets:
                earlier.insert(0, target)
                if len(earlier) == wanted:
                    break
        if not earlier:
            continue
        if len(addressed) >= 2:
            # Several "@Name:" replies in one comment answer that author's latest comments, in reading order.
            chosen = earlier[-len(addressed) :]
            for offset, mention in enumerate(addressed):
                target = chosen[min(offset, len(chosen) - 1)]
                add(Link(target, "mention", mention.score, mention.marker, mention.position))
            group = [mention for mention in group if not mention.addressed]
        for mention in group:  # passing mentions ("as @Name said") refer to the latest comment
            add(Link(earlier[-1], "mention", mention.score, mention.marker, mention.position))
    return list(links.values()), first_evidence


def _pin(
    quote: _Quote, mention: _Mention, names: _Names, index: _QuoteIndex, article_author_key: str | None = None
) -> int | None:
    """The mentioned author's earliest comment that contains the quoted passage, if any; ARTICLE when the
    mentioned author wrote the article and the passage is the article's."""
    wanted = set(mention.names)
    if quote.source == ARTICLE:
        return ARTICLE if article_author_key in {_name_key(name) for name in wanted} else None
    if names.author_of.get(quote.source) in wanted:
        return quote.source
    return next(index.holders(quote.words, lambda key: key > quote.source and names.author_of.get(key) in wanted), None)


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
