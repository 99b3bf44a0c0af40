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

Comment lengths follow the seeds' (a log-normal around 400 characters, 14 to about 3,000).

With `topics` (slugs), every comment (and the article) also takes a reference stance on each topic and carries
it in its words (`SyntheticComment.stances`), so that a model can learn it and it is not trivial to: sentences
per topic and stance (`favor`, `against`, `neutral`; none for `not_about`), distractors that share the topic's
vocabulary (the other topics' sentences, and the filler's munitions, trainers and duds), concessions that
repeat the other side's argument before answering it, sarcasm-like reversals (favour in bitter words, and the
reverse), and replies that quote their parent's stance sentence, often to oppose it. Stance sentences are
drawn from their own random stream and always share their line with a sentence of filler, so that no two
comments share a line and reply links stay what the generator meant; without `topics` a seed gives the same
bytes as before. Everything is
drawn from `random.Random` seeded with the corpus seed and the document's number, so a seed always gives
the same bytes, and document n is the same whatever the number of documents.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

__all__ = [
    "MAX_DEPTH",
    "SyntheticComment",
    "SyntheticDocument",
    "commenter_names",
    "generate_corpus",
    "generate_document",
    "source_name",
    "stance_weights",
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


# --- stance-bearing text (only with `topics`) -----------------------------------------------------------------

STANCE_WEIGHTS = {"favor": 0.3, "against": 0.3, "neutral": 0.15, "not_about": 0.25}
REPLY_OPPOSES = 0.45  # a reply about a topic its parent took a side on takes the other side this often
REPLY_AGREES = 0.2
REVERSAL_SHARE = 0.15  # favour in bitter words, or the reverse
CONCESSION_SHARE = 0.25  # the other side's argument first, then the answer
SECOND_SENTENCE_SHARE = 0.35


@dataclass(frozen=True)
class _Lexicon:
    subjects: tuple[str, ...]
    favor: tuple[str, ...]
    against: tuple[str, ...]
    neutral: tuple[str, ...]
    favor_reversed: tuple[str, ...]  # reads bitter, means favour
    against_reversed: tuple[str, ...]  # reads approving, means against


_GENERIC = _Lexicon(
    subjects=("{topic}",),
    favor=(
        "I fully support {subject}, and the sooner the better",
        "{Subject} is the right call and long overdue",
        "Anyone serious about helping Ukraine should back {subject}",
    ),
    against=(
        "I oppose {subject}; it is a mistake we will regret",
        "{Subject} is the wrong call and should be stopped",
        "Nobody thinking clearly would sign off on {subject}",
    ),
    neutral=(
        "I honestly cannot decide where I stand on {subject}",
        "The debate over {subject} is more complicated than either side admits",
        "Has anyone seen real numbers on {subject}",
    ),
    favor_reversed=("Sure, let's keep dithering on {subject} until there is nothing left to defend",),
    against_reversed=("Oh wonderful, {subject}, what could possibly go wrong",),
)

_LEXICONS: dict[str, _Lexicon] = {
    "cluster-munitions": _Lexicon(
        subjects=("cluster munitions", "cluster bombs", "DPICM shells", "the cluster rounds"),
        favor=(
            "{Subject} would give Ukraine the shells it is desperately short of",
            "Sending {subject} is the right call while the artillery gap lasts",
            "Ukraine is already mined by Russia, so {subject} change little and save soldiers",
            "I support sending {subject}; Kyiv asked for them and knows the risks",
            "{Subject} break up trench lines far better than unitary rounds",
        ),
        against=(
            "{Subject} leave duds that will maim children for decades",
            "Sending {subject} throws away the moral high ground and the Oslo convention",
            "The dud rate of {subject} makes them a gift to future farmers' graves",
            "I oppose sending {subject}; no shortage justifies scattering bomblets over fields",
            "Our allies banned {subject} for good reasons and we should respect that",
        ),
        neutral=(
            "The dud rate quoted for {subject} varies wildly between sources",
            "I cannot make up my mind about {subject}",
            "Whether {subject} are legal depends on which treaty you signed",
            "Congress will debate {subject} again next week, apparently",
        ),
        favor_reversed=(
            "Right, keep Ukraine out of shells so we can feel clean about banning {subject}",
            "Lovely principle: let the trenches hold out with no {subject} and fewer soldiers",
        ),
        against_reversed=(
            "Oh great, {subject}, the gift that keeps on giving to children for forty years",
            "What a humanitarian idea, {subject} for every farmer's field",
        ),
    ),
    "strikes-in-russia": _Lexicon(
        subjects=(
            "strikes inside Russia",
            "hitting targets in Russia",
            "deep strikes",
            "long-range strikes on Russian soil",
        ),
        favor=(
            "Ukraine must be free to use {subject} against the airfields that launch the bombers",
            "Forbidding {subject} lets Moscow shell Kharkiv from a sanctuary",
            "I back {subject}; a country defending itself may hit the depots that supply the attack",
            "{Subject} are legitimate self-defence under any reading of the law",
        ),
        against=(
            "{Subject} with our weapons risk dragging NATO into the war",
            "Allowing {subject} is exactly the escalation Putin wants as a pretext",
            "I am against {subject}; the red lines exist for a reason",
            "{Subject} will not change the front and will cost us the alliance",
        ),
        neutral=(
            "Nobody outside the Pentagon knows how many {subject} have already happened",
            "The legal question of {subject} is separate from the wisdom of it",
            "I keep going back and forth on {subject}",
        ),
        favor_reversed=(
            "Brilliant plan: let them fire from across the border and ban {subject} so nobody is upset",
            "Sure, keep the rules against {subject} and watch Kharkiv burn politely",
        ),
        against_reversed=(
            "Splendid, {subject}, because nothing could ever escalate from that",
            "What a clever idea, {subject}, let's test those nuclear red lines",
        ),
    ),
    "trainers-in-ukraine": _Lexicon(
        subjects=(
            "trainers in Ukraine",
            "Western instructors in Ukraine",
            "NATO trainers on the ground",
            "sending trainers",
        ),
        favor=(
            "{Subject} would cut the time brigades spend travelling to Poland",
            "Having {subject} is a sensible step that frees Ukraine's own instructors for the front",
            "I support {subject}; training near the front is simply more efficient",
            "France is right to push for {subject}",
        ),
        against=(
            "{Subject} are a tripwire waiting for the first Russian missile",
            "Putting {subject} means our soldiers in the line of fire",
            "I oppose {subject}; training can continue safely in Germany",
            "{Subject} is mission creep, and we know how that ends",
        ),
        neutral=(
            "Reports disagree on whether {subject} are already there",
            "How many people {subject} would even involve is unclear",
            "I have no settled view on {subject}",
        ),
        favor_reversed=(
            "Yes, let's fly every recruit to Germany and back rather than risk {subject}",
            "Wonderful logic: keep {subject} out and let the brigades train for half as long",
        ),
        against_reversed=(
            "Great idea, {subject}, what could one missile on a barracks possibly start",
            "How reassuring, {subject}, just a few hundred of our people within range",
        ),
    ),
}

_CONCESSIONS = ("Yes, I hear that", "Granted, some say", "People keep telling me that", "I know the argument that")
_ANSWERS = ("but", "and yet", "but frankly", "still,")


def stance_weights() -> dict[str, float]:
    """The mix of reference stances: the seeds' labels, roughly."""
    return dict(STANCE_WEIGHTS)


def _lexicon(topic: str) -> _Lexicon:
    if topic in _LEXICONS:
        return _LEXICONS[topic]
    words = topic.replace("-", " ").replace("_", " ")
    return _Lexicon(
        subjects=(words,),
        favor=_GENERIC.favor,
        against=_GENERIC.against,
        neutral=_GENERIC.neutral,
        favor_reversed=_GENERIC.favor_reversed,
        against_reversed=_GENERIC.against_reversed,
    )


def _fill(template: str, subject: str) -> str:
    text = template.replace("{subject}", subject).replace("{Subject}", subject[0].upper() + subject[1:])
    return text[0].upper() + text[1:]


def _stance_clause(rng: random.Random, topic: str, stance: str) -> str:
    lexicon = _lexicon(topic)
    subject = rng.choice(lexicon.subjects)
    if stance in ("favor", "against") and rng.random() < REVERSAL_SHARE:
        templates = lexicon.favor_reversed if stance == "favor" else lexicon.against_reversed
        return _fill(rng.choice(templates), subject)
    clause = _fill(rng.choice(getattr(lexicon, stance)), subject)
    if stance in ("favor", "against") and rng.random() < CONCESSION_SHARE:
        other = "against" if stance == "favor" else "favor"
        conceded = _fill(rng.choice(getattr(lexicon, other)), rng.choice(lexicon.subjects))
        answer = f"{rng.choice(_ANSWERS)} {_decapitalised(clause)}"
        clause = f"{rng.choice(_CONCESSIONS)} {_decapitalised(conceded)}, {answer}"
    return clause


def _decapitalised(text: str) -> str:
    """The sentence continued mid-sentence: "Sending ..." becomes "sending ...", "NATO ..." stays."""
    return text[0].lower() + text[1:] if len(text) > 1 and text[1].islower() else text


def _stance_units(rng: random.Random, stances: dict[str, str]) -> list[str]:
    """One line-sharing unit per stance-bearing topic (sometimes two): the stance sentence and a filler one."""
    units = []
    for topic, stance in stances.items():
        if stance == "not_about":
            continue
        for _ in range(2 if rng.random() < SECOND_SENTENCE_SHARE else 1):
            units.append(f"{_stance_clause(rng, topic, stance)}. {_sentence(rng)}")
    rng.shuffle(units)
    return units


def _reference_stances(rng: random.Random, topics: Sequence[str], parent: dict[str, str] | None) -> dict[str, str]:
    stances = list(STANCE_WEIGHTS)
    weights = list(STANCE_WEIGHTS.values())
    chosen = {}
    for topic in topics:
        drawn = rng.choices(stances, weights)[0]
        roll = rng.random()
        if parent is not None and parent.get(topic) in ("favor", "against"):
            if roll < REPLY_OPPOSES:
                drawn = "against" if parent[topic] == "favor" else "favor"
            elif roll < REPLY_OPPOSES + REPLY_AGREES:
                drawn = parent[topic]
        chosen[topic] = drawn
    return chosen


def _with_stances(rng: random.Random, text: str, units: list[str]) -> str:
    """The body with the stance units put in as paragraphs of their own, in random places."""
    if not units:
        return text
    paragraphs = text.split("\n\n") if len(text) >= 60 else [text]
    for unit in units:
        paragraphs.insert(rng.randrange(0, len(paragraphs) + 1), unit)
    return "\n\n".join(paragraphs)


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
    stances: dict[str, str] = field(default_factory=dict)  # topic slug -> reference stance, with `topics`


@dataclass(frozen=True)
class SyntheticDocument:
    source: str  # file name
    text: str  # the document in the seed format
    article_author: str
    comments: tuple[SyntheticComment, ...]

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8")


def source_name(seed: int, number: int, comments: int, topics: Sequence[str] = ()) -> str:
    """File name of document `number` of a corpus; the size (and the stance topics) are part of it, so corpora
    of different shapes made with one seed never overwrite each other's documents."""
    if topics:
        digest = zlib.crc32(",".join(topics).encode()) & 0xFFFF
        return f"synthetic-s{seed}-c{comments}-t{digest:04x}-{number:05d}.txt"
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
    *, seed: int, number: int, comments: int, names: Sequence[str] | None = None, topics: Sequence[str] = ()
) -> SyntheticDocument:
    """Document `number` of the corpus for `seed`, with `comments` comments; with `topics`, comments whose
    words carry a reference stance on each (see the module's docstring)."""
    rng = random.Random(f"document:{seed}:{number}:{comments}")
    stance_rng = random.Random(f"stances:{seed}:{number}:{comments}:{','.join(topics)}")
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
    quoted_stances: list[list[str]] = []
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
        stances: dict[str, str] = {}
        stance_sentences: list[str] = []
        if topics:
            stances = _reference_stances(stance_rng, topics, generated[parent].stances if parent is not None else None)
            stance_sentences = _stance_units(stance_rng, stances)
            text = _with_stances(stance_rng, text, stance_sentences)
            own_sentences = own_sentences + [unit for unit in stance_sentences if _is_quotable(unit)]
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
                if topics and quoted_stances[parent] and stance_rng.random() < 0.7:
                    quoted = stance_rng.choice(quoted_stances[parent])  # the other side's words, quoted
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
        quoted_stances.append([unit for unit in stance_sentences if _is_quotable(unit)])
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
                stances=stances,
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
        source=source_name(seed, number, comments, topics),
        text="\n".join(lines),
        article_author=article_author,
        comments=tuple(generated),
    )


def generate_corpus(
    *, seed: int, articles: int, comments_per_article: int, topics: Sequence[str] = ()
) -> Iterator[SyntheticDocument]:
    """The corpus's documents, one at a time (a hundred thousand comments need not sit in memory at once)."""
    names = commenter_names(seed, max(400, comments_per_article // 2))
    for number in range(articles):
        yield generate_document(seed=seed, number=number, comments=comments_per_article, names=names, topics=topics)
