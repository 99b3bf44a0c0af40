"""Golden reply links: what reconstruction made of fixed inputs before the import was sped up, digest by digest.

Performance work on the import (issue 14) must leave every reply link as it was: each comment's links (target,
method, score, evidence, position, basis), primary parent, quotes of the article and quoted spans, for the
seed-format path (`reconstruct_threads`) and the thread-data path (`article_quotes`). The digests below were
recorded with the code as it stood before that work (main at 95a9b32); larger inputs (5,000 and 20,000
comments, several seeds) were compared in full by the same procedure when each change was made, see the
closing note of issue 14. A digest that changes means a link changed: find out why before recording a new one.

Pure: no database, no Django.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from pathlib import Path

import pytest

from debate.reply_threads import (
    ARTICLE,
    CommentText,
    ThreadedComment,
    _find_quotes,
    _QuoteIndex,
    _read,
    article_quotes,
    reconstruct_threads,
)
from debate.seed_parser import decode_document, parse_document
from debate.synthetic import generate_document

ROOT = Path(__file__).resolve().parents[2]
FILES = [
    *sorted((ROOT / "fixtures" / "seeds").glob("*.txt")),
    *sorted((ROOT / "tests" / "fixtures" / "threads").glob("*.txt")),
]
TOPICS = ("cluster-munitions", "f16-training")


def digest(threads: list[ThreadedComment]) -> str:
    rows = [dataclasses.asdict(thread) for thread in threads]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:16]


def digests(data: bytes) -> tuple[str, str]:
    document = parse_document(decode_document(data))
    texts = [CommentText(comment.author, comment.body) for comment in document.comments]
    threads = reconstruct_threads(
        document.body, texts, article_author=document.author, numbers=[c.number for c in document.comments]
    )
    return digest(threads), digest(article_quotes(document.body, texts))


GENERATED = {
    # (seed, document number, comments, with stance words): (reconstruct_threads, article_quotes)
    (5, 1, 300, False): ("c16e22463ecd6c57", "ebb6987ae03fb736"),
    (6, 2, 1000, False): ("b8a3e02217955f31", "25afe9a7be704f73"),
    (9, 4, 2500, False): ("97bc5dda8751c083", "458b7406250af73a"),
    (11, 0, 1000, True): ("90b4383729743e2c", "3906b912bd51ef1e"),
}

FILE_DIGESTS = {
    "000_e41b44eaa1304eb1.txt": ("9e8dd829030549dd", "70b30bfcd809e6a8"),
    "001_eef258f9ba9e91df.txt": ("4f53cda18c2baa0c", "4f53cda18c2baa0c"),
    "002_67ebe6d974f15d13.txt": ("214664fe16fa4fd8", "db112ea2829f2119"),
    "003_fe0cb380292f74eb.txt": ("4f53cda18c2baa0c", "4f53cda18c2baa0c"),
    "004_926dce63dff0079b.txt": ("4f53cda18c2baa0c", "4f53cda18c2baa0c"),
    "airfields_belgorod.txt": ("4d7064db37b7175f", "2ca1f5bb8d391970"),
    "cluster_duds.txt": ("3bb838083124257a", "48753b22bd8e5cca"),
    "strikes_kharkiv.txt": ("c60572fd35bd0d98", "263e652ab725932c"),
    "third_shipment.txt": ("e91e69bdd53f29f4", "c52a48c4262d1b28"),
    "trainers_west.txt": ("752321776c512ea8", "e9acf2d349c367dc"),
}


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_the_links_of_the_seed_and_fixture_threads_are_as_recorded(path: Path) -> None:
    assert digests(path.read_bytes()) == FILE_DIGESTS[path.name]


@pytest.mark.parametrize("case", GENERATED, ids=lambda case: "s{}-n{}-c{}{}".format(*case[:3], "-topics" * case[3]))
def test_the_links_of_generated_threads_are_as_recorded(case: tuple[int, int, int, bool]) -> None:
    seed, number, comments, topics = case
    document = generate_document(seed=seed, number=number, comments=comments, topics=TOPICS if topics else ())
    assert digests(document.data) == GENERATED[case]


def test_a_changed_link_changes_the_digest() -> None:
    """The digest sees every field of a link: a test that cannot fail would guard nothing."""
    document = parse_document(decode_document(FILES[0].read_bytes()))
    texts = [CommentText(comment.author, comment.body) for comment in document.comments]
    threads = reconstruct_threads(document.body, texts, article_author=document.author)
    linked = next(index for index, thread in enumerate(threads) if thread.links)
    link = threads[linked].links[0]
    for changed in (
        dataclasses.replace(link, score=link.score + 0.001),
        dataclasses.replace(link, method="given"),
        dataclasses.replace(link, position=link.position + 1),
    ):
        altered = [*threads[:linked], dataclasses.replace(threads[linked], links=(changed,)), *threads[linked + 1 :]]
        assert digest(altered) != digest(threads)


def random_comment(rng: random.Random, article_words: list[str], vocabulary: list[str]) -> str:
    """A comment of random lines: own words, runs copied from the article (some with a typo, an ellipsis,
    quotation marks, "> " or an "@Name:" marker in front), blank lines between paragraphs."""
    lines = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.random()
        if kind < 0.5:
            start = rng.randrange(len(article_words))
            run = article_words[start : start + rng.randint(2, 16)]
            if rng.random() < 0.3 and run:
                run[rng.randrange(len(run))] = rng.choice(vocabulary)  # a typo or a changed word
            if rng.random() < 0.2 and len(run) > 6:
                run.insert(len(run) // 2, "...")
            text = " ".join(run)
            text = rng.choice(["{}", '"{}"', "> {}", "@Ann Lee: {}", "He said '{}' again", "{} ... right"]).format(text)
        else:
            text = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 14)))
        lines.append(text)
        if rng.random() < 0.3:
            lines.append("")
    return "\n".join(lines)


@pytest.mark.parametrize("seed", range(40))
def test_searching_first_finds_the_same_quotes_as_judging_first(seed: int) -> None:
    """`article_quotes` looks each passage up before judging whether it is worth quoting (cheaper when only
    the article is indexed); on random comments that copy, mistype and mark runs of the article, and with
    other texts indexed too, both orders find the same quotes and the same unmatched marked passages."""
    rng = random.Random(seed)
    vocabulary = ["the", "a", "of", "to", "and", "in", "that", "it", "is", "was", "for", "on", "as", "with", "war"]
    vocabulary += [f"word{number}" for number in range(rng.choice([20, 200, 2000]))]
    article_words = [rng.choice(vocabulary) for _ in range(rng.randint(3, 400))]
    article = "\n".join(" ".join(article_words[start : start + 25]) for start in range(0, len(article_words), 25))
    index = _QuoteIndex()
    read = _read(article)
    index.add(ARTICLE, read.words, read.grams, article)
    for position in range(rng.choice([0, 0, 30])):  # earlier comments too, as in `reconstruct_threads`
        text = random_comment(rng, article_words, vocabulary)
        body = _read(text)
        index.add(position, body.words, body.grams, text)
    quoted = 0
    for _ in range(60):
        body = _read(random_comment(rng, article_words, vocabulary))
        judged_first = _find_quotes(body, index)
        assert _find_quotes(body, index, search_first=True) == judged_first
        quoted += len(judged_first.quotes)
    assert quoted or len(article_words) < 20  # the comments do quote: the comparison is not of empty results
