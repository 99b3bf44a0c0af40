"""Synthetic debates in the seed format, for load tests and benchmarks. Pure: no Django, no I/O.

A generated document reads like the seeds to the parser and to the thread reconstruction: a title, a
subtitle, an article body, `FILED UNDER:` tags and the author block, then numbered comments by recurring
commenters (a few prolific, most occasional; names with dots, apostrophes, hyphens, digits and non-Latin
letters), about half of them replies, up to `MAX_DEPTH` deep. A reply shows whom it answers the way the
seeds do, so that `debate.reply_threads` finds the intended parent:

* `@Name:` when the parent is that author's latest comment (the marker alone is then unambiguous);
* `@Name:` followed by a quoted sentence of the parent when the author has commented since (the quote pins
  the marker to the older comment), or the quoted sentence alone;
* some top-level comments quote a sentence of the article, which gives them no parent.

Comment lengths follow the seeds' (a log-normal around 400 characters, 14 to about 3,000). Everything is
drawn from `random.Random` seeded with the corpus seed and the document's number, so a seed always gives
the same bytes, and document n is the same whatever the number of documents.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

__all__ = [
    "MAX_DEPTH",
    "SyntheticComment",
    "SyntheticDocument",
    "commenter_names",
    "generate_corpus",
    "generate_document",
    "source_name",
]

MAX_DEPTH = 8
REPLY_SHARE = 0.5  # the seeds: 24 of 57 comments answer another one
# Of the replies, how many answer the comment just before them: what makes threads deep.
REPLY_TO_PREVIOUS = 0.45
ARTICLE_QUOTE_SHARE = 0.06
LENGTH_MEDIAN = 320  # characters; replies add a marker or a quote on top, and the seeds' median is 408
LENGTH_SIGMA = 0.85
MIN_LENGTH, MAX_LENGTH = 14, 3000

_FIRST = (
    "James", "Andy", "Kathy", "Scott", "Michael", "Steven", "Anna", "Olga", "Marek", "Ingrid", "Tomás", "Chen",
    "Priya", "Kwame", "Fatima", "Lars", "Sofia", "Dmytro", "Hiroshi", "Elena", "Jean-Luc", "Mary Ann", "Seán",
    "Zoë", "Björn", "Aisha", "Pedro", "Nadia", "Oksana", "Rafael", "Grace", "Yusuf", "Helga", "Ivan", "Mei",
)  # fmt: skip
_LAST = (
    "Reynolds", "Joyner", "O'Brien", "Smith-Jones", "Kowalski", "Nguyen", "Haddad", "Müller", "Petrenko",
    "Okafor", "Lindqvist", "García", "St. John", "MacLeod", "Van der Berg", "D'Angelo", "Ivanova", "Tanaka",
)  # fmt: skip
_HANDLE_WORDS = (
    "sleeping", "dog", "modulo", "myself", "dazed", "confused", "charon", "two", "gusto", "pher", "ptfe",
    "john", "sf", "tony", "w", "matt", "bernius", "grumpy", "realist", "old", "soldier", "night", "owl",
    "river", "city", "north", "wind", "iron", "lake", "blue", "fox", "quiet", "reader", "steppe", "harbor",
)  # fmt: skip
_NON_LATIN = ("Володимир", "Олена К.", "Дмитро", "Ярослав", "Αλέξανδρος", "李明", "Ана", "Сергій Б.")

# Sentences are put together from single words, as prose is, so that word trigrams repeat about as
# rarely as in the seeds; fixed phrases would make every comment look like a quote of every other.
_DETERMINERS = ("the", "every", "another", "our", "their", "this", "that", "no", "some", "each", "any", "one more")
_ADJECTIVES = (
    "reckless", "cautious", "inevitable", "costly", "Western", "Russian", "Ukrainian", "allied", "northern",
    "southern", "eastern", "brutal", "limited", "cheap", "expensive", "obsolete", "modern", "legal", "illegal",
    "moral", "cynical", "honest", "desperate", "quiet", "public", "secret", "effective", "useless", "dangerous",
    "predictable", "fragile", "stubborn", "bold", "timid", "massive", "tiny", "defensive", "offensive",
    "humanitarian", "political", "military", "strategic", "tactical", "domestic", "foreign", "temporary",
    "permanent", "credible", "absurd", "unexploded", "precise", "indiscriminate", "long-range", "short-range",
    "civilian", "nuclear", "conventional", "frozen", "endless",
)  # fmt: skip
_NOUNS = (
    "munitions", "shells", "treaty", "border", "front", "logistics", "ammunition", "escalation", "brigades",
    "pipeline", "stockpile", "drones", "trenches", "artillery", "rockets", "bombers", "trainers", "advisers",
    "sanctions", "diplomats", "convention", "ban", "duds", "bomblets", "children", "farmers", "villages", "cities",
    "bridges", "depots", "airfields", "refineries", "convoys", "tanks", "howitzers", "missiles", "interceptors",
    "radars", "satellites", "factories", "budgets", "elections", "senators", "generals", "ministers", "voters",
    "critics", "hawks", "doves", "journalists", "veterans", "lawyers", "economists", "historians", "engineers",
    "surgeons", "volunteers", "partisans", "occupation", "offensive", "counteroffensive", "ceasefire",
    "negotiations", "deterrence", "credibility", "hypocrisy", "precedent", "casualties", "cleanup", "minefields",
    "rubble", "winter", "summer", "harvest", "grain", "gas", "oil", "pipelines", "ports", "shipping",
)  # fmt: skip
_VERBS = (
    "supplies", "delays", "weakens", "undermines", "justifies", "ignores", "rations", "demands", "blocks", "funds",
    "approves", "questions", "protects", "endangers", "outlasts", "outnumbers", "doubles", "halves", "replaces",
    "exhausts", "rebuilds", "shelters", "targets", "mines", "clears", "destroys", "defends", "provokes", "deters",
    "tolerates", "condemns", "excuses", "explains", "exaggerates", "underestimates", "prolongs", "shortens",
    "reshapes", "complicates", "simplifies", "finances", "smuggles", "hoards", "wastes", "stretches",
)  # fmt: skip
_ADVERBS = (
    "quietly", "openly", "badly", "finally", "slowly", "quickly", "rarely", "always", "never", "barely", "clearly",
    "probably", "certainly", "reluctantly", "eagerly", "stubbornly", "predictably", "deliberately",
)  # fmt: skip
_PREPOSITIONS = ("near", "across", "behind", "without", "despite", "beyond", "along", "inside", "against", "after")
_OPENERS = (
    "Frankly,", "Honestly,", "Look,", "To be fair,", "In my experience,", "Historically,", "Of course",
    "Still,", "Then again,", "Realistically,", "Let's be clear:", "As a veteran,", "Put simply,", "Sadly,",
    "Meanwhile,", "Worse,", "Granted,", "In practice,",
)  # fmt: skip
_QUESTIONS = ("Who really believes", "Does anyone think", "Why pretend", "Is it true", "Would we accept")
_TAGS = ("Military Affairs", "World Politics", "Europe", "National Security", "Russia", "Ukraine", "Congress")
_SIGN_OFFS = ("Just a hunch.", "Anyway.", "Time will tell.", "My two cents.", "Sigh.", "We'll see.")


@dataclass(frozen=True)
class SyntheticComment:
    number: int
    author: str
    body: str
    parent: int | None  # index of the comment it answers, as the generator intended
    depth: int
    marker: bool  # the reply names its parent's author with "@Name:"
    quote: bool  # the reply quotes a sentence of its parent
    quotes_article: bool


@dataclass(frozen=True)
class SyntheticDocument:
    source: str  # file name
    text: str  # the document in the seed format
    article_author: str
    comments: tuple[SyntheticComment, ...]

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8")


def source_name(seed: int, number: int, comments: int) -> str:
    """File name of document `number` of a corpus; the size is part of it, so corpora of different shapes
    made with one seed never overwrite each other's documents."""
    return f"synthetic-s{seed}-c{comments}-{number:05d}.txt"


def commenter_names(seed: int, count: int) -> list[str]:
    """`count` distinct display names, no two equal ignoring case and spacing."""
    rng = random.Random(f"names:{seed}")
    names: list[str] = []
    keys: set[str] = set()
    while len(names) < count:
        kind = rng.random()
        if kind < 0.45:
            name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        elif kind < 0.8:
            words = rng.sample(_HANDLE_WORDS, rng.choice((1, 2)))
            name = "".join(words) if rng.random() < 0.6 else " ".join(word.capitalize() for word in words)
            if rng.random() < 0.3:
                name += str(rng.randrange(2, 100))
        elif kind < 0.9:
            name = f"{rng.choice(_FIRST)[0]}. {rng.choice(_LAST)}"
        else:
            name = rng.choice(_NON_LATIN)
        if _name_key(name) in keys:
            name = f"{name} {len(names)}"  # more names wanted than combinations: numbered variants
        if _name_key(name) not in keys:
            keys.add(_name_key(name))
            names.append(name)
    return names


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def _number_phrase(rng: random.Random) -> str:
    number = rng.randrange(2, 2000)
    return rng.choice(
        (
            f"by about {number} percent",
            f"some {number} km from the border",
            f"within {number} days",
            f"at {number} rounds a day",
            f"for the {number} units still waiting",
            f"since report no. {number}",
        )
    )


def _phrase(rng: random.Random) -> str:
    """A noun phrase: determiner, perhaps an adjective, a noun."""
    words = [rng.choice(_DETERMINERS)]
    if rng.random() < 0.6:
        words.append(rng.choice(_ADJECTIVES))
    words.append(rng.choice(_NOUNS))
    return " ".join(words)


def _clause(rng: random.Random) -> str:
    words = [_phrase(rng)]
    if rng.random() < 0.3:
        words.append(rng.choice(_ADVERBS))
    words += [rng.choice(_VERBS), _phrase(rng)]
    for _ in range(rng.choice((0, 1, 1, 2))):
        words += [rng.choice(_PREPOSITIONS), _phrase(rng)]
    return " ".join(words)


def _sentence(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return f"{rng.choice(_QUESTIONS)} that {_clause(rng)} {_number_phrase(rng)}?"
    parts = []
    if rng.random() < 0.3:
        parts.append(rng.choice(_OPENERS))
    parts.append(_clause(rng))
    if rng.random() < 0.35:
        parts.append(f"{rng.choice(('and', 'but', 'while', 'because', 'so'))} {_clause(rng)}")
    # A number makes nearly every sentence unique, as real prose is: a quoted sentence then pins one comment.
    if rng.random() < 0.5:
        parts.append(_number_phrase(rng))
    text = " ".join(parts)
    return text[0].upper() + text[1:] + "."


def _is_quotable(sentence: str) -> bool:
    """Long and numbered: no other sentence of the corpus is likely to match it, even fuzzily."""
    return len(sentence.split()) >= 12 and any(character.isdigit() for character in sentence)


def _paragraphs(rng: random.Random, length: int) -> list[list[str]]:
    """Paragraphs of sentences adding up to about `length` characters."""
    paragraphs: list[list[str]] = [[]]
    size = 0
    while size < length:
        if paragraphs[-1] and rng.random() < 0.3:
            paragraphs.append([])
        sentence = _sentence(rng)
        paragraphs[-1].append(sentence)
        size += len(sentence) + 1
    return paragraphs


def _length(rng: random.Random) -> int:
    return max(MIN_LENGTH, min(MAX_LENGTH, round(rng.lognormvariate(math.log(LENGTH_MEDIAN), LENGTH_SIGMA))))


def _body(rng: random.Random, length: int) -> tuple[str, list[str]]:
    """A body of about `length` characters and its quotable sentences (those long enough to pin a source)."""
    if length < 60:
        text = rng.choice(_SIGN_OFFS) if length < 30 else _sentence(rng)
        return text, []
    paragraphs = _paragraphs(rng, length)
    lines_per_paragraph = [
        [" ".join(paragraph)] if rng.random() < 0.7 else paragraph for paragraph in paragraphs if paragraph
    ]
    text = "\n\n".join("\n".join(lines) for lines in lines_per_paragraph)
    quotable = [sentence for paragraph in paragraphs for sentence in paragraph if _is_quotable(sentence)]
    return text, quotable


def _pick_parent(rng: random.Random, index: int, depths: Sequence[int]) -> int | None:
    if index == 0 or rng.random() >= REPLY_SHARE:
        return None
    for _ in range(8):
        candidate = index - 1 if rng.random() < REPLY_TO_PREVIOUS else max(0, index - 1 - int(rng.expovariate(1 / 12)))
        if depths[candidate] < MAX_DEPTH:
            return candidate
    return None


def generate_document(
    *, seed: int, number: int, comments: int, names: Sequence[str] | None = None
) -> SyntheticDocument:
    """Document `number` of the corpus for `seed`, with `comments` comments."""
    rng = random.Random(f"document:{seed}:{number}:{comments}")
    pool = list(names) if names is not None else commenter_names(seed, 400)
    # Zipf-like weights over a per-article cast: a few regulars write most comments, as in the seeds.
    cast_size = max(2, min(len(pool), round(comments / 4) + 2))
    cast = rng.sample(pool, cast_size)
    weights = [1 / (rank + 1) ** 0.9 for rank in range(cast_size)]
    article_author = rng.choice(("James Joyner", "Steven L. Taylor", "Doug Mataconis", "Eleanor Vance"))

    title = " ".join(word.capitalize() if i == 0 else word for i, word in enumerate(_sentence(rng).split()[:9]))
    title = title.rstrip(".,;:?")
    subtitle = rng.choice(("A bad idea fueled by desperation", "The costs of waiting", "No easy answers here"))
    article_paragraphs = _paragraphs(rng, rng.randrange(1500, 4500))
    article_sentences = [sentence for paragraph in article_paragraphs for sentence in paragraph]
    article_quotable = [sentence for sentence in article_sentences if _is_quotable(sentence)] or article_sentences
    article_body = "\n\n".join(" ".join(paragraph) for paragraph in article_paragraphs if paragraph)
    tags = rng.sample(_TAGS, 2) + [""] * rng.randrange(0, 6)

    generated: list[SyntheticComment] = []
    quotable: list[list[str]] = []
    depths: list[int] = []
    latest_by_author: dict[str, int] = {}
    for index in range(comments):
        parent = _pick_parent(rng, index, depths)
        parent_author = generated[parent].author if parent is not None else None
        author = rng.choices(cast, weights)[0]
        while author == parent_author or (article_author == author):
            author = rng.choices(cast, weights)[0]
        if parent is None and index and rng.random() < 0.04:
            author = article_author  # the article's author answers readers now and then
        text, own_sentences = _body(rng, _length(rng))
        marker = quote = quotes_article = False
        if parent is not None and parent_author is not None:
            parent_sentences = quotable[parent]
            is_latest = latest_by_author[parent_author] == parent
            if is_latest and (not parent_sentences or rng.random() < 0.75):
                marker = True
                lead = f"@{parent_author}:"
                text = f"{lead} {text}" if rng.random() < 0.6 else f"{lead}\n\n{text}"
            elif parent_sentences:
                quote = True
                quoted = rng.choice(parent_sentences)
                marker = rng.random() < 0.7
                lead = f"@{parent_author}:\n\n{quoted}" if marker else quoted
                text = f"{lead}\n\n{text}"
            else:
                parent = None  # nothing could show whom it answers: a careful reader sees a new thread
        elif parent is None and index and rng.random() < ARTICLE_QUOTE_SHARE:
            quotes_article = True
            text = f"{rng.choice(article_quotable)}\n\n{text}"
        depth = 0 if parent is None else depths[parent] + 1
        depths.append(depth)
        quotable.append(own_sentences)
        latest_by_author[author] = index
        generated.append(
            SyntheticComment(
                number=index + 1,
                author=author,
                body=text,
                parent=parent,
                depth=depth,
                marker=marker,
                quote=quote,
                quotes_article=quotes_article,
            )
        )

    lines = [title, "", subtitle, "", article_body, "", f"FILED UNDER: {', '.join(tags)}", article_author]
    lines += [f"About {article_author}", f"{article_author} writes about defence policy and Europe.", "", ""]
    for comment in generated:
        lines.append(f"  {comment.number}. {comment.author} says:")
        lines.append("")
        lines.extend(f"    {line}" if line else "" for line in comment.body.split("\n"))
        lines.append("")
    if rng.random() < 0.5:
        lines += ["Speak Your Mind", ""]
    return SyntheticDocument(
        source=source_name(seed, number, comments),
        text="\n".join(lines),
        article_author=article_author,
        comments=tuple(generated),
    )


def generate_corpus(*, seed: int, articles: int, comments_per_article: int) -> Iterator[SyntheticDocument]:
    """The corpus's documents, one at a time (a hundred thousand comments need not sit in memory at once)."""
    names = commenter_names(seed, max(400, comments_per_article // 2))
    for number in range(articles):
        yield generate_document(seed=seed, number=number, comments=comments_per_article, names=names)
