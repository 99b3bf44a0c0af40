"""Rebuild who replies to whom in a comment section, as a careful reader would.

Three kinds of evidence, each recorded on the link with the passage or marker that gave it away:

* A quoted passage (method ``quote``): a paragraph or line of a comment, or a run of text in quotation marks
  inside a line, that reproduces text of an earlier comment (after normalising quotes, dashes, case and
  whitespace; fuzzy for small differences) links to the earliest comment containing it: the original, not
  someone who re-quoted it. A passage from the article marks the comment as quoting the article and links
  nowhere. Unmarked passages must carry some content words (three when short, and then they must match
  exactly), so stock phrases ("I couldn't agree more.") never count as quotes. A passage the writer marked as
  a quotation -- a line opening with ``>``, or a run in double or single quotation marks, straight, curly or
  angled -- counts from three words and two content words, and may carry a typo; a marked passage or a
  quoted line with a gap (``...`` or ``…``) matches when its parts appear in that order in one earlier text.
* An ``@Name:`` marker (method ``mention``) links to that author's nearest earlier comment, unless the same
  comment quotes a passage found in one of that author's comments, which pins it (even when the author was
  only re-quoting someone else). Names match ignoring case, quote style and spacing (a space after the ``@``
  too), exactly, then ignoring decoration (emoji, symbols and punctuation around words: ``@Tom K:`` for
  ``Tom K.``, ``@RedFox`` for ``🦊RedFox``), then as the start (whole words) of a longer display name, then
  with initials standing for words (``@Ann K.:`` for ``Ann Kowalski``) or a surname alone, when that picks
  out one person. The exact name is preferred. When one comment has several markers for the same name, they
  answer that author's latest comments in reading order. A marker inside a quoted passage belongs to the
  quoted comment and links nowhere.
* What the reply says (method ``content``): when a marker could mean several earlier comments (an author's
  older ones, or the authors a shortened name starts), the reply's own words choose among them -- the
  candidate whose rare words (place names, weapon systems, numbers, repeated phrasing) the reply shares,
  clearly ahead of the others. The link records the similarity as its score and the deciding words and the
  runner-up's score as its ``basis``. Without such a margin the marker falls back to the latest candidate.

A name that never appears earlier gives no link, and a comment without marker or quote stays top-level:
links are never invented. When comment numbers show deleted comments and a marker's reply quotes, in
quotation marks, words found in no remaining comment, it answers a deleted comment and links nowhere rather
than to the author's other comment. A target gets one link, carrying its strongest evidence; a link's
position is where that evidence starts. The primary parent for the tree is the comment whose evidence comes
first (a marker that a quote further down resolved counts from the marker).

Pure: no Django. Matching uses an inverted index of word trigrams, probed only with the rarest trigrams a
match must contain, and one of content words for marked passages and for content choice, which looks at a
bounded number of candidates; the cost grows with the size of the thread, not with its square.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
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
MIN_FUZZY_TOKENS = 8  # below this an unmarked quote must match exactly
FUZZY_THRESHOLD = 0.88
MIN_FUZZY_COVERAGE = 0.5  # share of a passage's trigrams a source must contain before fuzzy scoring
# A passage whose rarest trigrams lead to more earlier texts than this is made of stock phrases (a sign-off
# repeated all over a long thread): only an exact copy can pin its source.
MAX_FUZZY_CANDIDATES = 100
NEAR_BEST = 0.05  # among fuzzy matches this close to the best, the earliest source wins
MAX_NAME_LENGTH = 80

# A passage marked as a quotation by its writer: shorter ones count, and may carry a typo.
MIN_MARKED_TOKENS = 3
MIN_MARKED_CONTENT_WORDS = 2
MIN_MARKED_CHARS = 10
MARKED_FUZZY_THRESHOLD = 0.88
# A short marked passage found in more earlier texts than this is a set phrase, not a quotation of one.
MAX_MARKED_HOLDERS = 2

MENTION_EXACT = 1.0
MENTION_CASE_INSENSITIVE = 0.95
MENTION_UNDECORATED = 0.9
MENTION_WITHOUT_COLON = 0.9
MENTION_PREFIX = 0.8
MENTION_INITIALS = 0.75
MENTION_SURNAME = 0.7
MIN_COMPACT_NAME = 4  # "@TomK" for "Tom K.", but no name of fewer letters run together

# Content choice among a marker's candidates.
MAX_CONTENT_CANDIDATES = 12  # an author's latest comments; a prolific one has thousands
MIN_CONTENT_SCORE = 0.08  # cosine similarity of the reply with the chosen comment
CONTENT_RATIO = 2.5  # ...and this many times the runner-up's
CONTENT_MARGIN = 0.06  # ...and at least this much above it
MAX_FOCUSED_TERMS = 14  # a reply with more telling words needs a name or code to be told by plain words
MIN_DECIDING_SHARE = 0.25  # plain deciding words must be this share of a short reply's telling words
MIN_TELLING_LENGTH = 5  # a single deciding word must have this many characters
RARE_SHARE = 50  # a word in at most 1/RARE_SHARE of the texts so far (and at least 3) is rare

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
# "@Name", and "@ Name" with one space; a marker glued to a word (an e-mail address) is none.
_MENTION = re.compile(r"(?<![\w@])@(?P<gap> ?)(?=\S)")
_LEADING_MENTION = re.compile(r"@ ?[^:\n]{1,80}:\s*")  # used with match(), anchored at a line start
# A run of text between double quotation marks of any style (sources mix “…“, "…" and «…»).
_DOUBLE_QUOTES = '"\u201c\u201d\u201e\u201f\u00ab\u00bb'
_QUOTATION = re.compile(f"[{_DOUBLE_QUOTES}](?P<text>[^{_DOUBLE_QUOTES}\\n]+)[{_DOUBLE_QUOTES}]")
# Single quotation marks: curly ‘…’ (the closing mark doubles as the apostrophe, so it must not be followed
# by a letter), or straight '…' opening after no letter (not "don't") and closing before none.
_SINGLE_QUOTATION = re.compile(
    r"\u2018(?P<curly>[^\u2018\n]+?)\u2019(?!\w)|(?<![\w'])'(?P<straight>[^'\n\s](?:[^\n]*?[^\s'])?)'(?!\w)"
)
_BLOCK_QUOTE = re.compile(r"[ \t]*(?:>|&gt;)[ \t]*")  # used with match(), at a line start
_MAY_QUOTE = re.compile(f"[>&'{_DOUBLE_QUOTES}\u2018\u2019]")
_ELLIPSIS = re.compile(r"\.\s*\.\s*\.+|\u2026")
# A quotation put in someone else's mouth ("Biden said", "according to the Times") is no reply to a marker.
_ATTRIBUTION = re.compile(r"\b(?:says|said|wrote|writes|according to|calls|called|put it)\b", re.IGNORECASE)
_YOU = re.compile(r"\byou(?:r)?\b", re.IGNORECASE)
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
# Words too common in any reply to tell one earlier comment from another.
_UNTELLING_WORDS_TEXT = """
    fair sorry people thing things way lot get got make made want wanted need needs going go come came
    also still even already never always again back one two first last time times year years day days
    war russia russian russians ukraine ukrainian ukrainians west western put simply
"""
_UNTELLING_WORDS = _FUNCTION_WORDS | frozenset(_UNTELLING_WORDS_TEXT.split())

Method = Literal["mention", "quote", "content", "given"]
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
    # For a link chosen by content: the words that decided it and the runner-up's similarity.
    basis: str = ""


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
class _Passage:
    """A passage its writer marked as a quotation that matches no earlier text."""

    start: int
    attributed: bool  # put in a third party's mouth ("as Biden said, ..."): not the addressee's words
    terms: frozenset[str]  # its telling words, to see whether it loosely quotes a remaining comment


@dataclass(frozen=True)
class _Mention:
    position: int
    written: str  # what follows the "@", as written (with its colon, if any)
    names: tuple[str, ...]  # candidate display names, the preferred one first
    score: float
    addressed: bool  # "@Name:", or a marker opening a line: the start of an answer to one comment
    gap: str = ""  # the space between "@" and the name, if any
    # Whether all of `names` are meant (a shortened name that several authors' names start with), or only the
    # first (an exact name; the others are spelling variants of it).
    several: bool = False

    @property
    def marker(self) -> str:
        return "@" + self.gap + self.written

    @property
    def end(self) -> int:
        return self.position + len(self.marker)


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


def _bare_words(name: str) -> list[str]:
    """A name's words without decoration: emoji, symbols and punctuation around each word dropped."""
    words = []
    for word in normalise(name).split():
        start, end = 0, len(word)
        while start < end and not word[start].isalnum():
            start += 1
        while end > start and not word[end - 1].isalnum():
            end -= 1
        if start < end:
            words.append(word[start:end])
    return words


def tokens(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


def _trigrams(words: Sequence[str]) -> list[Trigram]:
    return list(map(" ".join, zip(words, words[1:], words[2:], strict=False)))  # shifted copies are shorter


def _term(word: str) -> str:
    """A word as content comparison sees it: without a possessive or plural ending."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return word


class _Stems(dict[str, str]):
    """Memo of `_term` for the words of one thread (one-letter words map to "", which `_terms` drops)."""

    def __missing__(self, word: str) -> str:
        stem = self[word] = _term(word) if len(word) > 1 else ""
        return stem


def _terms(words: Iterable[str], stems: _Stems | None = None) -> frozenset[str]:
    """The telling words of a text, for content similarity: no function words, no one-letter words."""
    unique = set(words)
    unique -= _UNTELLING_WORDS
    found = set(map((stems if stems is not None else _Stems()).__getitem__, unique))
    found.discard("")
    return frozenset(found)


_WORD_AS_WRITTEN = re.compile(r"\w+(?:['\u2019]\w+)*")


def _specific_terms(text: str) -> frozenset[str]:
    """Proper names, acronyms and codes of a text as terms: a word capitalised inside a sentence or with
    more capitals than its first ("ATACMS", "NGO"), or one mixing letters and digits ("M483A1", "2000s"):
    a place, a weapon system, a name, which picks out what a reply answers."""
    found = set()
    for match in _WORD_AS_WRITTEN.finditer(text):
        word = match.group()
        letters = any(character.isalpha() for character in word)
        digits = any(character.isdigit() for character in word)
        if (letters and digits) or (
            letters
            and word[0].isupper()
            and (sum(character.isupper() for character in word) >= 2 or _inside_sentence(text, match.start()))
        ):
            found.add(_term(normalise(word)))
    return frozenset(found) - _UNTELLING_WORDS


def _inside_sentence(text: str, start: int) -> bool:
    """Whether a word at `start` follows other words of its sentence (a capital there is a name's)."""
    before = text[max(0, start - 8) : start].rstrip(" \t\"'\u201c\u2018([*_")
    return bool(before) and before[-1] not in ".!?:;\n>" and not before.endswith(("\u2014", "--", "-"))


def _content_words(words: Iterable[str]) -> set[str]:
    return {word for word in words if word not in _FUNCTION_WORDS}


class _QuoteIndex:
    """Earlier texts (the article, then comments in order), searchable by word trigrams and by words."""

    def __init__(self) -> None:
        # Where each trigram occurs: its first text, then the others in order. Most trigrams of a thread occur
        # once, so keeping the first apart lets `add` register them in bulk instead of one list each.
        self.first: dict[Trigram, int] = {}
        self.more: dict[Trigram, list[int]] = defaultdict(list)
        self.trigram_sets: dict[int, frozenset[Trigram]] = {}
        self.joined: dict[int, str] = {}
        self.texts: dict[int, str] = {}  # as written, for `names_of`
        self.stems = _Stems()
        self.answers: dict[int, frozenset[int]] = {}  # comment -> the comments it links to
        self.terms: dict[int, frozenset[str]] = {}
        self.texts_with: dict[str, list[int]] = defaultdict(list)  # term -> texts containing it, in order
        self.names_in: dict[int, frozenset[str]] = {}  # proper names, acronyms and codes a text has

    def add(self, key: int, words: Sequence[str], trigrams: Sequence[Trigram], text: str = "") -> None:
        grams = frozenset(trigrams)
        seen = self.first.keys() & grams
        # Appends `key` to the list of every trigram seen before, without a Python-level loop.
        deque(map(list.append, map(self.more.__getitem__, seen), repeat(key)), maxlen=0)
        self.first.update(dict.fromkeys(grams - seen, key))
        self.trigram_sets[key] = grams
        self.joined[key] = _joined(words)
        self.texts[key] = text
        terms = _terms(words, self.stems)
        self.terms[key] = terms
        deque(map(list.append, map(self.texts_with.__getitem__, terms), repeat(key)), maxlen=0)

    def words_of(self, key: int) -> frozenset[str]:
        return frozenset(self.joined[key].split())

    def names_of(self, key: int) -> frozenset[str]:
        """Proper names, acronyms and codes of an earlier text, read when content choice first asks."""
        if key not in self.names_in:
            self.names_in[key] = _specific_terms(self.texts[key])
        return self.names_in[key]

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
        return _original(scored)

    def find_marked(self, words: Sequence[str]) -> tuple[int, float] | None:
        """The source of a short or mistyped passage its writer marked as a quotation.

        Exact copies first; else texts holding all its words but a typo or two (one in four), scored by
        character similarity. A short passage many texts hold is a set phrase: no source."""
        exact = list(self.holders(words, lambda key: True)) if len(words) >= MIN_MARKED_TOKENS else []
        if exact:
            if len(words) < MIN_FUZZY_TOKENS and len(exact) > MAX_MARKED_HOLDERS and exact[0] != ARTICLE:
                return None
            return exact[0], 1.0
        content = _content_words(words)
        terms = _terms(content, self.stems)
        counts: dict[int, int] = defaultdict(int)
        for term in terms:
            postings = self.texts_with.get(term, ())
            if len(postings) > MAX_FUZZY_CANDIDATES:
                continue  # a word all over the thread finds nothing in particular
            for key in postings:
                counts[key] += 1
        need = len(terms) - max(1, len(terms) // 4)
        needle = _joined(words).strip()
        scored = []
        for key in sorted(key for key, count in counts.items() if count >= need):
            held = self.words_of(key)
            if sum(word not in held for word in words) > max(1, len(words) // 4):
                continue  # a typo or two, not other words
            if sum(word not in held for word in content) > max(1, len(content) // 4):
                continue
            closeness = _window_closeness(needle, len(words), self.joined[key].split())
            if closeness >= MARKED_FUZZY_THRESHOLD:
                scored.append((key, closeness))
        if len(words) < MIN_FUZZY_TOKENS and len(scored) > MAX_MARKED_HOLDERS:
            return None
        return _original(scored)

    def find_gapped(self, parts: Sequence[Sequence[str]]) -> tuple[int, float] | None:
        """The earliest text holding every part of a passage cut with "..." in that order, and how closely."""
        longest = max(parts, key=len)
        scored = []
        for key in self.holders(longest, lambda key: True):
            closeness = _in_order(parts, self.joined[key])
            if closeness is not None:
                scored.append((key, closeness))
        return _original(scored)

    def similarity(self, reply: frozenset[str], key: int, weights: dict[str, float]) -> float:
        """Cosine similarity of a reply's telling words with an earlier text's, weighted by rarity."""
        terms = self.terms[key]
        shared = reply & terms
        if not shared:
            return 0.0
        total = len(self.joined) + 1
        norm = math.sqrt(sum(self._weight(term, total) ** 2 for term in terms))
        reply_norm = math.sqrt(sum(weights[term] ** 2 for term in reply))
        return sum(weights[term] ** 2 for term in shared) / (norm * reply_norm) if norm and reply_norm else 0.0

    def weights(self, terms: Iterable[str]) -> dict[str, float]:
        total = len(self.joined) + 1
        return {term: self._weight(term, total) for term in terms}

    def _weight(self, term: str, total: int) -> float:
        return math.log(total / (1 + len(self.texts_with.get(term, ())))) + 1.0

    def owned_by(self, term: str, key: int) -> bool:
        """Whether a word is that text's: no earlier text but it, and comments answering it, has the word."""
        answers = self.answers
        return all(holder == key or key in answers.get(holder, ()) for holder in self.texts_with.get(term, ()))

    def is_rare(self, term: str) -> bool:
        return len(self.texts_with.get(term, ())) <= max(3, len(self.joined) // RARE_SHARE)


def _original(scored: list[tuple[int, float]]) -> tuple[int, float] | None:
    """The article is the original of anything it contains; otherwise the earliest close match wins, so a
    re-quote (or a re-quote with a typo fixed) never takes the link from the comment it copied."""
    if not scored:
        return None
    best = max(score for _, score in scored)
    return next((key, score) for key, score in scored if score >= best - NEAR_BEST)


def _window_closeness(needle: str, length: int, source: list[str]) -> float:
    """How closely some run of `source` words spells the passage (0 to 1): runs of one word fewer to two
    more than the passage, so that a dropped or added word ("the") costs no more than a typo."""
    best = 0.0
    cutoff = MARKED_FUZZY_THRESHOLD * 100
    for start in range(len(source)):
        for size in range(max(1, length - 1), length + 3):
            if start + size > len(source):
                break
            best = max(best, fuzz.ratio(needle, " ".join(source[start : start + size]), score_cutoff=cutoff) / 100)
    return best


def _in_order(parts: Sequence[Sequence[str]], text: str) -> float | None:
    """How closely `text` holds the parts one after another (1.0 verbatim), or None if it does not."""
    position, worst = 0, 1.0
    for part in parts:
        needle = _joined(part)
        found = text.find(needle, position)
        if found >= 0:
            position = found + len(needle) - 1
            continue
        if len(part) < 4:
            return None  # a few words must be verbatim
        alignment = fuzz.partial_ratio_alignment(needle.strip(), text[position:], score_cutoff=FUZZY_THRESHOLD * 100)
        if alignment is None:
            return None
        worst = min(worst, alignment.score / 100)
        position += alignment.dest_end
    return worst


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


@dataclass
class _Found:
    quotes: list[_Quote] = field(default_factory=list)
    unmatched: list[_Passage] = field(default_factory=list)  # marked passages that quote nothing indexed


def _find_quotes(body: _Body, index: _QuoteIndex, search_first: bool = False) -> _Found:
    """Quoted passages of a body: whole paragraphs, else single lines, else marked passages in a line.

    `search_first`: look a passage up before judging whether it is worth quoting (`_quote`); the same result,
    cheaper where the index is small (the article alone) and rejects nearly every passage at once."""
    found = _Found()
    for paragraph in _paragraphs(body.lines):
        whole = _quote(body, paragraph, index, search_first)
        if whole:
            found.quotes.append(whole)
            continue
        for line in paragraph:
            line_quote = _quote(body, [line], index, search_first) if len(paragraph) > 1 else None
            if line_quote:
                found.quotes.append(line_quote)
                continue
            _find_marked(body, line, index, found)
    return found


def _find_marked(body: _Body, line: _Line, index: _QuoteIndex, found: _Found) -> None:
    """Passages of one line marked as quotations: the whole line after ">", else runs in quotation marks
    (double ones first, then single ones outside them)."""
    if not _MAY_QUOTE.search(body.text, line.start, line.end):
        return
    block = _BLOCK_QUOTE.match(body.text, line.start, line.end)
    if block and block.end() < line.end:
        quote = _marked_quote(body, block.end(), line.end, index, found)
        if quote:
            found.quotes.append(quote)
            return
    taken: list[tuple[int, int]] = []
    for pattern in (_QUOTATION, _SINGLE_QUOTATION):
        for run in pattern.finditer(body.text, line.start, line.end):
            group = next(name for name in ("text", "curly", "straight") if name in run.re.groupindex and run[name])
            start, end = run.span(group)
            if any(start < taken_end and taken_start < end for taken_start, taken_end in taken):
                continue
            taken.append(run.span())
            quote = _marked_quote(body, start, end, index, found)
            if quote:
                found.quotes.append(quote)


def _marked_quote(body: _Body, start: int, end: int, index: _QuoteIndex, found: _Found) -> _Quote | None:
    text = body.text[start:end]
    parts = [words for words in map(tokens, _ELLIPSIS.split(text)) if words]
    words = [word for part in parts for word in part]
    if len(words) < MIN_MARKED_TOKENS or len(text.strip()) < MIN_MARKED_CHARS:
        return None
    if len(_content_words(words)) < MIN_MARKED_CONTENT_WORDS:
        return None
    if len(parts) > 1 and max(map(len, parts)) >= 3:
        match = index.find_gapped(parts)
    else:
        match = index.find(words, _trigrams(words)) if _is_quotable(words, text) else None
        match = match or index.find_marked(words)
    if match is None:
        sentence_start = max(body.text.rfind(mark, 0, start) for mark in (".", "!", "?", "\n")) + 1
        lead = body.text[sentence_start:start]
        attributed = bool(_ATTRIBUTION.search(lead)) and not _YOU.search(lead)
        found.unmatched.append(_Passage(start, attributed, _terms(words, index.stems)))
        return None
    return _Quote(start, end, match[0], match[1], tuple(words))


def _paragraphs(lines: list[_Line]) -> list[list[_Line]]:
    paragraphs: list[list[_Line]] = []
    for line in lines:
        if paragraphs and paragraphs[-1][-1].end + 1 == line.start:
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
    return paragraphs


def _quote(body: _Body, passage: list[_Line], index: _QuoteIndex, search_first: bool = False) -> _Quote | None:
    start, end = passage[0].start, passage[-1].end
    first, last = passage[0].first_word, passage[-1].first_word + passage[-1].word_count
    quoted_from, skip = start, 0
    marker = _LEADING_MENTION.match(body.text, start, passage[0].end)
    if marker:  # "@Name: quoted text" quotes the text...
        quoted_from, skip = marker.end(), min(len(tokens(marker.group())), passage[0].word_count)
        if quoted_from == passage[0].end and len(passage) > 1:
            quoted_from = passage[1].start  # the marker had a line of its own
    words = body.words[first + skip : last]
    grams = body.grams[first + skip : last - 2]
    # The lookup and the judgement are both pure: which comes first changes the cost, never the result.
    if search_first:
        match = index.find(words, grams)
        if match is None and not _ELLIPSIS.search(body.text, quoted_from, end):
            return None
        if not _is_quotable(words, body.text[quoted_from:end]):
            return None
    else:
        if not _is_quotable(words, body.text[quoted_from:end]):
            return None
        match = index.find(words, grams)
    if match is None and _ELLIPSIS.search(body.text, quoted_from, end):
        parts = [part for part in map(tokens, _ELLIPSIS.split(body.text[quoted_from:end])) if part]
        if len(parts) > 1 and max(map(len, parts)) >= 3:
            match = index.find_gapped(parts)
    if match is None:
        return None
    source, score = match
    if skip and _joined(body.words[first:last]) in index.joined[source]:
        quoted_from = start  # ...unless the source has the marker too: then the marker is quoted as well
    return _Quote(quoted_from, end, source, score, tuple(words))


def _is_quotable(words: Sequence[str], text: str) -> bool:
    if len(words) < MIN_QUOTE_TOKENS or len(text.strip()) < MIN_QUOTE_CHARS:
        return False
    needed = MIN_SHORT_QUOTE_CONTENT_WORDS if len(words) < MIN_FUZZY_TOKENS else MIN_QUOTE_CONTENT_WORDS
    return len(_content_words(words)) >= needed


class _Names:
    """Display names of earlier commenters, for resolving @-markers."""

    def __init__(self) -> None:
        self.latest: dict[str, int] = {}  # display name -> index of their latest comment so far
        self.author_of: dict[int, str] = {}
        self.comments: dict[str, list[int]] = defaultdict(list)
        self.by_key: dict[str, list[str]] = defaultdict(list)  # normalised name -> display names
        self.by_prefix: dict[str, list[str]] = defaultdict(list)  # leading whole words -> longer names
        self.by_bare: dict[str, list[str]] = defaultdict(list)  # undecorated name -> display names
        self.by_bare_prefix: dict[str, list[str]] = defaultdict(list)
        self.by_first: dict[str, list[str]] = defaultdict(list)  # first undecorated word, or its initial
        self.by_last: dict[str, list[str]] = defaultdict(list)  # last undecorated word of a longer name
        self.by_compact: dict[str, list[str]] = defaultdict(list)  # undecorated words run together ("tomk")

    def add(self, name: str | None, index: int) -> None:
        key = _name_key(name or "")
        if not name or not key:
            return
        if name not in self.latest:
            self.by_key[key].append(name)
            words = key.split(" ")
            for count in range(1, len(words)):
                self.by_prefix[" ".join(words[:count])].append(name)
            for bare in _forms(_bare_words(name)):
                self.by_bare[" ".join(bare)].append(name)
                if len("".join(bare)) >= MIN_COMPACT_NAME:
                    self.by_compact["".join(bare)].append(name)
                for count in range(1, len(bare)):
                    self.by_bare_prefix[" ".join(bare[:count])].append(name)
                self.by_first[bare[0]].append(name)
                self.by_first[bare[0][0]].append(name)
                if len(bare) > 1:
                    self.by_last[bare[-1]].append(name)
        self.latest[name] = index
        self.comments[name].append(index)
        self.author_of[index] = name

    def resolve(self, text_after_at: str, position: int, gap: str = "") -> _Mention | None:
        """The name an @-marker addresses, if any earlier commenter has it."""
        line = text_after_at.split("\n", 1)[0][: MAX_NAME_LENGTH + 1]
        colon = line.find(":")
        if 0 < colon <= MAX_NAME_LENGTH:
            written = " ".join(line[:colon].split())
            key = _name_key(written)
            if key in self.by_key:
                preferred = sorted(self.by_key[key], key=lambda name: (name != written, -self.latest[name]))
                score = MENTION_EXACT if preferred[0] == written else MENTION_CASE_INSENSITIVE
                return _Mention(position, line[: colon + 1], tuple(preferred), score, addressed=True, gap=gap)
            found = self._loosely(written, with_surname=True)
            if found:
                names, score = found
                return _Mention(
                    position, line[: colon + 1], names, score, addressed=True, gap=gap, several=len(names) > 1
                )
        # No colon, or the colon ends more than a name: the longest name (else leading words of a name) that
        # the text starts with, ending at a word boundary.
        exact_end = loose_end = prefix_end = 0
        loose: tuple[tuple[str, ...], float] | None = None
        for end in range(1, len(line) + 1):
            if line[end - 1].isspace() or (end < len(line) and line[end].isalnum()):
                continue
            key = _name_key(line[:end])
            if key in self.by_key:
                exact_end = end
            elif key in self.by_prefix:
                prefix_end = end
            elif not exact_end and (found := self._loosely(line[:end], with_surname=False)):
                loose_end, loose = end, found
        if colon > 0 and _extends_name(line[max(exact_end, prefix_end, loose_end) : colon]):
            return None  # "@Andy Smith:" when only "Andy" has commented: someone not seen, not Andy
        if exact_end:
            names = self._recent_first(self.by_key[_name_key(line[:exact_end])])
            return _Mention(position, line[:exact_end], names, MENTION_WITHOUT_COLON, addressed=False, gap=gap)
        if loose is not None and loose_end >= prefix_end:
            return _Mention(
                position, line[:loose_end], loose[0], loose[1], addressed=False, gap=gap, several=len(loose[0]) > 1
            )
        if prefix_end:
            names = self._recent_first(self.by_prefix[_name_key(line[:prefix_end])])
            return _Mention(
                position, line[:prefix_end], names, MENTION_PREFIX, addressed=False, gap=gap, several=len(names) > 1
            )
        return None

    def _loosely(self, written: str, *, with_surname: bool) -> tuple[tuple[str, ...], float] | None:
        """Names a marker means other than by their exact spelling: undecorated (emoji, symbols, punctuation,
        a title or trailing digits left out, or spaces), a prefix, with initials for words (only when one
        person has such a name), or a surname alone (likewise; after a title, "@Dr. Solberg", even without
        a colon)."""
        key = _name_key(written)
        written_bare = _bare_words(written)
        if not written_bare:
            return None
        forms = _forms(written_bare)
        for bare in forms:
            if " ".join(bare) in self.by_bare:
                return self._recent_first(self.by_bare[" ".join(bare)]), MENTION_UNDECORATED
        for bare in forms:
            if len("".join(bare)) >= MIN_COMPACT_NAME and "".join(bare) in self.by_compact:
                return self._recent_first(self.by_compact["".join(bare)]), MENTION_UNDECORATED
        if key in self.by_prefix:
            return self._recent_first(self.by_prefix[key]), MENTION_PREFIX
        for bare in forms:
            if " ".join(bare) in self.by_bare_prefix:
                return self._recent_first(self.by_bare_prefix[" ".join(bare)]), MENTION_PREFIX
        for bare in forms:
            if len(bare) > 1 and any(len(word) == 1 for word in bare) and any(len(word) > 1 for word in bare):
                initialled = {
                    name
                    for name in self.by_first.get(bare[0], ())
                    if any(_initials_match(bare, form) for form in _forms(_bare_words(name)))
                }
                if len(initialled) == 1:
                    return tuple(initialled), MENTION_INITIALS
        titled = len(written_bare) == 2 and written_bare[0] in _TITLES
        surname = written_bare[-1]
        if (with_surname or titled) and len(forms[-1]) == 1 and len(surname) > 2:
            holders = set(self.by_last.get(surname, ()))
            if len(holders) == 1:
                holder = holders.pop()
                title = _bare_words(holder)[0]
                if not titled or title not in _TITLES or title == written_bare[0]:  # not "@Mr." for "Dr. X"
                    return (holder,), MENTION_SURNAME
        return None

    def _recent_first(self, names: Sequence[str]) -> tuple[str, ...]:
        return tuple(sorted(names, key=lambda name: -self.latest[name]))


_TITLES_TEXT = "dr prof mr mrs ms mx sir dame col gen maj capt cpt lt sgt cpl rev fr"
_TITLES = frozenset(_TITLES_TEXT.split())
_TRAILING_DIGITS = re.compile(r"(?P<letters>[^\W\d_]{2,})[_-]?[0-9]{2,}")


def _forms(bare: list[str]) -> list[list[str]]:
    """A name's undecorated words, then the same without a leading title ("Dr.") or trailing digits
    ("Pete1975"), as people shorten them when they address someone."""
    forms = [bare]
    if len(bare) > 1 and bare[0] in _TITLES:
        forms.append(bare[1:])
    digits = _TRAILING_DIGITS.fullmatch(forms[-1][-1])
    if digits:
        forms.append([*forms[-1][:-1], digits["letters"]])
    return forms


def _initials_match(written: list[str], name: list[str]) -> bool:
    """Whether a marker's words spell the start of a name, a one-letter word standing for a word it starts."""
    if len(written) > len(name):
        return False
    pairs = zip(written, name, strict=False)
    return all(mark == word or (len(mark) == 1 and word.startswith(mark)) for mark, word in pairs)


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
        mention = names.resolve(body[match.end() : match.end() + MAX_NAME_LENGTH + 1], at, match["gap"])
        if mention:
            opens_line = not body[body.rfind("\n", 0, at) + 1 : at].strip()
            mentions.append(mention if mention.addressed or not opens_line else replace(mention, addressed=True))
    return mentions


def reconstruct_threads(
    article_body: str,
    comments: Sequence[CommentText],
    article_author: str | None = None,
    numbers: Sequence[int] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[ThreadedComment]:
    """Reply links, primary parent and quoted passages of every comment, in the order given.

    With `article_author`, a marker for the article's author that is answered by a quote of the article
    replies to the article, not to that author's latest comment. With `numbers` (the comments' printed
    numbers, increasing), a gap before a comment means deleted comments it may answer. `progress(done)` is
    called every 64 comments, for long threads.
    """
    index = _QuoteIndex()
    article = _read(article_body)
    index.add(ARTICLE, article.words, article.grams, article_body)
    names = _Names()
    results: list[ThreadedComment] = []
    for position, comment in enumerate(comments):
        body = _read(comment.body)
        found = _find_quotes(body, index)
        quotes = found.quotes
        spans = tuple(
            QuotedSpan(quote.start, quote.end, None if quote.source == ARTICLE else quote.source, round(quote.score, 3))
            for quote in quotes
        )
        mentions = _find_mentions(comment.body, names, [(quote.start, quote.end) for quote in quotes])
        # Numbers are increasing: a jump means comments were deleted before this one.
        deleted_before = numbers is not None and (numbers[0] > 1 or numbers[position] - numbers[0] > position)
        links, first_evidence = _Combiner(
            comment.body, body.words, found, mentions, names, index, article_author, deleted_before
        ).links()
        results.append(
            ThreadedComment(
                links=tuple(sorted(links, key=lambda link: link.position)),
                parent=min(first_evidence, key=first_evidence.__getitem__) if first_evidence else None,
                quotes_article=any(quote.source == ARTICLE for quote in quotes),
                quoted_spans=spans,
            )
        )
        index.add(position, body.words, body.grams, comment.body)
        if links:
            index.answers[position] = frozenset(link.target for link in links)
        names.add(comment.author, position)
        if progress is not None and position % 64 == 63:
            progress(position + 1)
    return results


def article_quotes(
    article_body: str, comments: Sequence[CommentText], progress: Callable[[int], None] | None = None
) -> list[ThreadedComment]:
    """For thread data whose parents are given: which comments quote the article, and where; no links. Each
    comment is searched against the article alone, so the time grows with the number of comments, not faster."""
    article = _read(article_body)
    if len(article.words) < 3:  # nothing to quote (a link post, say): no search at all
        return [ThreadedComment(links=(), parent=None, quotes_article=False, quoted_spans=()) for _ in comments]
    index = _QuoteIndex()
    index.add(ARTICLE, article.words, article.grams, article_body)
    results: list[ThreadedComment] = []
    for position, comment in enumerate(comments):
        found = _find_quotes(_read(comment.body), index, search_first=True)
        spans = tuple(
            QuotedSpan(quote.start, quote.end, None, round(quote.score, 3))
            for quote in found.quotes
            if quote.source == ARTICLE
        )
        results.append(ThreadedComment(links=(), parent=None, quotes_article=bool(spans), quoted_spans=spans))
        if progress is not None and position % 64 == 63:
            progress(position + 1)
    return results


class _Combiner:
    """One comment's evidence made into links: one per target (the strongest evidence), and where the
    earliest evidence for each target starts.

    A link's position stays that of its own evidence; the earliest evidence of any kind (a marker that a quote
    further down resolved, say) is what decides the primary parent.
    """

    def __init__(
        self,
        body: str,
        words: list[str],
        found: _Found,
        mentions: list[_Mention],
        names: _Names,
        index: _QuoteIndex,
        article_author: str | None,
        deleted_before: bool,
    ) -> None:
        self.body = body
        self.words = words
        self.quotes = found.quotes
        self.unmatched = found.unmatched
        self.mentions = mentions
        self.names = names
        self.index = index
        self.article_author_key = _name_key(article_author) if article_author else None
        self.deleted_before = deleted_before
        self.by_target: dict[int, Link] = {}
        self.first_evidence: dict[int, int] = {}

    def links(self) -> tuple[list[Link], dict[int, int]]:
        if not self.quotes and not self.mentions:
            return [], self.first_evidence
        for quote in self.quotes:
            if quote.source != ARTICLE:
                evidence = self.body[quote.start : quote.end]
                self._add(Link(quote.source, "quote", round(quote.score, 3), evidence, quote.start))
        unresolved = self._pin_mentions()
        for group in unresolved.values():
            self._resolve_group(group)
        return list(self.by_target.values()), self.first_evidence

    def _add(self, link: Link) -> None:
        known = self.by_target.get(link.target)
        if known is None or (link.method == "quote", link.score) > (known.method == "quote", known.score):
            self.by_target[link.target] = link
        self._seen(link.target, link.position)

    def _seen(self, target: int, position: int) -> None:
        self.first_evidence[target] = min(position, self.first_evidence.get(target, position))

    def _segment_end(self, number: int) -> int:
        return self.mentions[number + 1].position if number + 1 < len(self.mentions) else len(self.body)

    def _pin_mentions(self) -> dict[tuple[str, ...], list[tuple[int, _Mention]]]:
        """Markers a quote of the named author's comment resolves; the others, grouped by whom they name."""
        addressed_per_name: dict[tuple[str, ...], int] = defaultdict(int)
        for mention in self.mentions:
            addressed_per_name[_group_key(mention)] += mention.addressed
        unresolved: dict[tuple[str, ...], list[tuple[int, _Mention]]] = defaultdict(list)
        self.pinned_targets: set[int] = set()
        for number, mention in enumerate(self.mentions):
            segment_end = self._segment_end(number)
            pins = [(quote, target) for quote in self.quotes if (target := self._pin(quote, mention)) is not None]
            in_segment = [target for quote, target in pins if mention.position <= quote.start < segment_end]
            pinned = in_segment[0] if in_segment else None
            if pinned is None and pins and addressed_per_name[_group_key(mention)] <= 1:
                pinned = pins[0][1]  # one reply to this name: a quote anywhere in the comment pins it
            if pinned is None:
                unresolved[_group_key(mention)].append((number, mention))
                continue
            if pinned == ARTICLE:
                continue  # the marker answers the article, which the quote already records
            self.pinned_targets.add(pinned)
            if pinned in self.by_target:
                self._seen(pinned, mention.position)
            else:  # the author only re-quoted the passage; the quote itself links to the original
                self._add(Link(pinned, "mention", mention.score, mention.marker, mention.position))
        return unresolved

    def _pin(self, quote: _Quote, mention: _Mention) -> int | None:
        """The mentioned author's earliest comment that contains the quoted passage, if any; ARTICLE when the
        mentioned author wrote the article and the passage is the article's."""
        wanted = set(mention.names)
        if quote.source == ARTICLE:
            return ARTICLE if self.article_author_key in {_name_key(name) for name in wanted} else None
        author_of = self.names.author_of
        if author_of.get(quote.source) in wanted:
            return quote.source
        return next(
            self.index.holders(quote.words, lambda key: key > quote.source and author_of.get(key) in wanted), None
        )

    def _answers_deleted(self, number: int, mention: _Mention) -> bool:
        """Whether the marker's reply quotes, in quotation marks, words no remaining text holds, nor loosely
        any remaining comment of the named author (most of its telling words), while comments are missing:
        it answers one of those, not the author's other comments."""
        if not self.deleted_before:
            return False
        end = self._segment_end(number)
        passages = [
            passage
            for passage in self.unmatched
            if mention.position <= passage.start < end and not passage.attributed and passage.terms
        ]
        if not passages:
            return False
        candidates = [self.index.terms[candidate] for candidate in self._candidates(mention, 1)]
        return any(
            all(len(passage.terms & terms) * 2 < len(passage.terms) for terms in candidates) for passage in passages
        )

    def _candidates(self, mention: _Mention, wanted: int) -> list[int]:
        """The comments a marker may answer, earliest first: the named author's latest, or for a shortened
        name several authors start with, theirs; none already pinned by a quote."""
        limit = max(wanted, MAX_CONTENT_CANDIDATES)
        chosen: list[int] = []
        for name in mention.names if mention.several else mention.names[:1]:  # latest commenter first
            if len(chosen) >= limit and self.names.latest[name] < chosen[-limit]:
                break  # this name's comments, and those of the names after it, are all older
            kept = 0
            for target in reversed(self.names.comments[name]):
                if target not in self.pinned_targets:
                    chosen.append(target)
                    kept += 1
                    if kept == limit:
                        break
            chosen.sort()
        return chosen[-limit:]

    def _resolve_group(self, group: list[tuple[int, _Mention]]) -> None:
        live = [(number, mention) for number, mention in group if not self._answers_deleted(number, mention)]
        if not live:
            return
        addressed = [mention for _, mention in live if mention.addressed]
        candidates = self._candidates(live[0][1], len(addressed))
        if not candidates:
            return
        if len(addressed) >= 2:
            # Several "@Name:" replies in one comment answer that author's latest comments, in reading order.
            chosen = candidates[-len(addressed) :]
            for offset, mention in enumerate(addressed):
                target = chosen[min(offset, len(chosen) - 1)]
                self._add(Link(target, "mention", mention.score, mention.marker, mention.position))
            live = [(number, mention) for number, mention in live if not mention.addressed]
        for number, mention in live:
            self._add(self._choose(number, mention, candidates))

    def _choose(self, number: int, mention: _Mention, candidates: list[int]) -> Link:
        """The candidate the reply's words point to, clearly ahead of the others; else the latest."""
        latest = Link(candidates[-1], "mention", mention.score, mention.marker, mention.position)
        if len(candidates) < 2:
            return latest
        start = self.mentions[number - 1].end if number else 0
        segment = self.body[start : mention.position] + " " + self.body[mention.end : self._segment_end(number)]
        reply = _terms(tokens(segment), self.index.stems) - _terms(tokens(mention.marker), self.index.stems)
        if not reply:
            return latest
        shared = reply.intersection(*(self.index.terms[candidate] for candidate in candidates[:1])).union(
            *(reply & self.index.terms[candidate] for candidate in candidates[1:])
        )
        rare = set(filter(self.index.is_rare, shared))
        if not rare:
            return latest  # the reply shares nothing specific with any of them
        weights = self.index.weights(reply)
        scored = sorted(
            ((self.index.similarity(reply, candidate, weights), candidate) for candidate in candidates),
            key=lambda pair: (-pair[0], -pair[1]),
        )
        (best, target), (runner_up, other) = scored[0], scored[1]
        deciding = sorted(
            (rare & self.index.terms[target]) - self.index.terms[other], key=lambda term: (-weights[term], term)
        )
        if (
            best < MIN_CONTENT_SCORE
            or best < runner_up * CONTENT_RATIO
            or best - runner_up < CONTENT_MARGIN
            or not self._telling(deciding, target, reply, segment)
        ):
            return latest
        if target == latest.target:
            return latest
        basis = ", ".join(deciding[:6]) + f" (similarity {best:.2f}; next best {runner_up:.2f})"
        return Link(target, "content", round(best, 3), mention.marker, mention.position, basis)

    def _telling(self, deciding: list[str], target: int, reply: frozenset[str], segment: str) -> bool:
        """Whether the deciding words are evidence: a name, place, weapon system or code among them, or for a
        short reply, plain words that `_decisive` accepts (a long reply shares plain words with anything)."""
        if set(deciding) & (self.index.names_of(target) | _specific_terms(segment)):
            return True
        return len(reply) <= MAX_FOCUSED_TERMS and self._decisive(deciding, len(reply), target)

    def _decisive(self, deciding: list[str], reply_terms: int, target: int) -> bool:
        """Whether plain rare words the reply shares with the chosen comment and not with the runner-up tell
        them apart: a quarter of what the reply says, or one word of some length that only that comment (and
        comments answering it) used before ("nineties" picked up from it; not "safe", nor a number, which a
        long thread repeats by chance, nor a word the article has too)."""
        if len(deciding) >= 2 and len(deciding) >= MIN_DECIDING_SHARE * reply_terms:
            return True
        return len(deciding) == 1 and any(
            len(term) >= MIN_TELLING_LENGTH and not term.isdigit() and self.index.owned_by(term, target)
            for term in deciding
        )


def _group_key(mention: _Mention) -> tuple[str, ...]:
    return mention.names if mention.several else mention.names[:1]


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
