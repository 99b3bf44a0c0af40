"""Synthetic corpora: the pure generator's shape, and `generate_corpus` writing documents and labels."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import transaction

from annotations.management.commands.generate_corpus import annotator_name
from annotations.models import Annotation, ChangeEvent, Consensus, Topic
from annotations.quality.agreement import percent_agreement
from debate.models import Article, Comment, ReplyLink
from debate.reply_threads import CommentText, reconstruct_threads
from debate.seed_parser import decode_document, parse_document
from debate.synthetic import MAX_DEPTH, generate_corpus, generate_document

SEEDS_MEDIAN_LENGTH = 408  # characters, over the 57 comments of the seed corpus


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    first = generate_document(seed=3, number=0, comments=80)
    assert generate_document(seed=3, number=0, comments=80).text == first.text
    assert generate_document(seed=4, number=0, comments=80).text != first.text
    assert generate_document(seed=3, number=1, comments=80).text != first.text
    # Document n does not depend on how many documents the corpus has.
    assert next(doc.text for doc in generate_corpus(seed=3, articles=2, comments_per_article=80)) == (
        next(generate_corpus(seed=3, articles=5, comments_per_article=80)).text
    )


def test_documents_parse_as_the_seed_format_with_every_comment_intact() -> None:
    document = generate_document(seed=1, number=0, comments=300)
    parsed = parse_document(decode_document(document.data))
    assert document.source.endswith(".txt")
    assert parsed.title
    assert parsed.body
    assert parsed.author == document.article_author
    assert parsed.tags
    assert "" not in parsed.tags
    assert [(c.number, c.author, c.body) for c in parsed.comments] == [
        (c.number, c.author, c.body) for c in document.comments
    ]


def test_shape_authors_recur_replies_mention_and_quote_lengths_like_the_seeds() -> None:
    document = generate_document(seed=2, number=0, comments=2_000)
    comments = document.comments
    per_author = Counter(comment.author for comment in comments)
    assert per_author.most_common(1)[0][1] >= 40  # regulars
    assert sum(1 for count in per_author.values() if count > 1) >= len(per_author) / 3
    assert any(not name.isascii() for name in per_author)  # non-Latin names too
    assert any(ch in name for name in per_author for ch in ".'-")
    assert any(ch.isdigit() for n in per_author for ch in n)

    replies = [comment for comment in comments if comment.parent is not None]
    assert 0.35 <= len(replies) / len(comments) <= 0.6
    markers = [c for c in replies if c.marker]
    quotes = [c for c in replies if c.quote]
    assert len(markers) > len(replies) / 2
    assert len(quotes) > len(replies) / 10
    for comment in markers:
        assert f"@{comments[comment.parent].author}:" in comment.body  # type: ignore[index]
    assert any(comment.quotes_article for comment in comments)

    depths = [comment.depth for comment in comments]
    assert max(depths) == MAX_DEPTH
    for comment in replies:
        assert comment.depth == comments[comment.parent].depth + 1  # type: ignore[index]

    median = statistics.median(len(comment.body) for comment in comments)
    assert SEEDS_MEDIAN_LENGTH * 0.7 <= median <= SEEDS_MEDIAN_LENGTH * 1.4
    assert min(len(c.body) for c in comments) < 60
    assert max(len(c.body) for c in comments) > 2_000


def test_thread_reconstruction_finds_every_intended_parent() -> None:
    """Markers and quotes are written so that a careful reader (debate.reply_threads) recovers the tree."""
    for document in generate_corpus(seed=11, articles=3, comments_per_article=400):
        parsed = parse_document(decode_document(document.data))
        threads = reconstruct_threads(
            parsed.body, [CommentText(c.author, c.body) for c in parsed.comments], article_author=parsed.author
        )
        assert [thread.parent for thread in threads] == [comment.parent for comment in document.comments]
        assert [thread.quotes_article for thread in threads] == [c.quotes_article for c in document.comments]
        for thread, comment in zip(threads, document.comments, strict=True):
            methods = {link.method for link in thread.links if link.target == comment.parent}
            if comment.quote:
                assert "quote" in methods
            elif comment.marker:
                assert methods == {"mention"}


def generate(*arguments: str) -> str:
    out = StringIO()
    call_command("generate_corpus", *arguments, stdout=out)
    return out.getvalue()


def stored_labels() -> set[tuple[str, int, str, str, str]]:
    return set(
        Annotation.objects.values_list(
            "comment__article__source", "comment__number", "topic__slug", "annotator__username", "stance"
        )
    )


@pytest.mark.django_db
def test_command_imports_threads_and_labels_from_k_annotators(topics: dict[str, Topic]) -> None:
    output = generate("--articles=2", "--comments-per-article=60", "--annotators=3", "--seed=5")
    assert "Generated 2 article(s), 120 comments, 1080 new labels from 3 annotator(s)" in output
    documents = list(generate_corpus(seed=5, articles=2, comments_per_article=60))
    for document in documents:
        article = Article.objects.get(source=document.source)
        stored = {c.number: c for c in Comment.objects.filter(article=article).select_related("parent", "author")}
        assert len(stored) == 60
        for comment in document.comments:
            parent = stored[comment.number].parent
            expected = None if comment.parent is None else document.comments[comment.parent].number
            assert (parent.number if parent else None) == expected
            assert stored[comment.number].depth == comment.depth
        quote_links = ReplyLink.objects.filter(source__article=article, method="quote")
        assert quote_links.exists()
    annotators = [annotator_name(number) for number in range(3)]
    counts = Counter(Annotation.objects.values_list("annotator__username", flat=True))
    assert counts == dict.fromkeys(annotators, 120 * len(topics))
    assert set(User.objects.filter(groups__name="annotator").values_list("username", flat=True)) == set(annotators)
    assert ChangeEvent.objects.filter(kind="annotation", action="create").count() == 1080
    assert Consensus.objects.exclude(status=None).count() == 120 * len(topics)


@pytest.mark.django_db
def test_same_seed_same_labels_and_running_again_adds_nothing(topics: dict[str, Topic]) -> None:
    arguments = ("--articles=1", "--comments-per-article=40", "--annotators=2", "--seed=9", "--coverage=0.6")
    with transaction.atomic():
        generate(*arguments)
        first = stored_labels()
        transaction.set_rollback(True)
    assert not Annotation.objects.exists()
    generate(*arguments)
    assert stored_labels() == first
    assert 0.4 * 40 * 3 * 2 < len(first) < 0.8 * 40 * 3 * 2  # coverage 0.6
    assert "0 new labels" in generate(*arguments)
    assert stored_labels() == first
    with transaction.atomic():
        generate("--articles=1", "--comments-per-article=40", "--annotators=2", "--seed=10")
        assert stored_labels() - first
        transaction.set_rollback(True)


@pytest.mark.django_db
@pytest.mark.parametrize("agreement", [0.9, 0.5, 0.2])
def test_agreement_level_is_roughly_what_was_asked(topics: dict[str, Topic], agreement: float) -> None:
    generate("--articles=1", "--comments-per-article=150", "--annotators=4", "--seed=2", f"--agreement={agreement}")
    ratings = list(Annotation.objects.values_list("comment_id", "annotator_id", "stance"))
    items = {(comment, topic) for comment, topic in Annotation.objects.values_list("comment_id", "topic_id")}
    assert len(ratings) == len(items) * 4
    # Each label is the reference with probability p, else one of the three others: pairs agree on
    # p² + (1 − p)²/3 of the items. 450 items × 6 pairs keep the estimate within a few points.
    expected = agreement**2 + (1 - agreement) ** 2 / 3
    by_topic = [
        percent_agreement(
            list(Annotation.objects.filter(topic=topic).values_list("comment_id", "annotator_id", "stance"))
        )
        for topic in topics.values()
    ]
    observed = statistics.mean(value for value in by_topic if value is not None)
    assert abs(observed - expected) < 0.05, (observed, expected)


@pytest.mark.django_db
def test_topics_option_and_unknown_topic(topics: dict[str, Topic]) -> None:
    generate("--articles=1", "--comments-per-article=20", "--annotators=2", "--topics=strikes-in-russia")
    assert set(Annotation.objects.values_list("topic__slug", flat=True)) == {"strikes-in-russia"}
    with pytest.raises(CommandError, match="unknown topic"):
        generate("--articles=1", "--comments-per-article=20", "--topics=no-such-topic")
    with pytest.raises(CommandError, match="between 0 and 1"):
        generate("--articles=1", "--comments-per-article=20", "--agreement=1.5")


@pytest.mark.django_db
def test_out_writes_the_documents_for_import_debate(tmp_path: Path) -> None:
    output = generate("--articles=2", "--comments-per-article=30", "--seed=4", f"--out={tmp_path}")
    assert "Wrote 2 document(s)" in output
    expected = {doc.source: doc.data for doc in generate_corpus(seed=4, articles=2, comments_per_article=30)}
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == expected
    assert not Article.objects.exists()
    call_command("import_debate", "--jobs=1", str(tmp_path), stdout=StringIO())
    assert Comment.objects.count() == 60
    # The generated labels then go on the imported documents, which are unchanged.
    generate("--articles=2", "--comments-per-article=30", "--seed=4", "--annotators=1", "--topics=cluster-munitions")
    assert Annotation.objects.count() == 60


@pytest.mark.django_db(transaction=True)
def test_import_debate_with_several_jobs_imports_every_file_in_order(tmp_path: Path) -> None:
    """In a process of its own, as from the shell: the test process runs threads, where the command would
    not fork."""
    generate("--articles=3", "--comments-per-article=25", "--seed=6", f"--out={tmp_path}")
    (tmp_path / "broken.txt").write_bytes(b"\xff\xfe not text")
    database = settings.DATABASES["default"]
    url = (
        f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    )
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run(
        [sys.executable, "manage.py", "import_debate", "--jobs=2", str(tmp_path)],
        cwd=settings.BASE_DIR,
        env={**environment, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert "broken.txt: not UTF-8 text" in result.stderr
    assert "1 path(s) failed; 3 created" in result.stderr
    names = sorted(path.name for path in tmp_path.iterdir() if path.name != "broken.txt")
    assert [line.split()[1].rstrip(":") for line in result.stdout.splitlines()] == names
    assert Comment.objects.count() == 75
    assert set(Article.objects.values_list("source", flat=True)) == set(names)


STANCE_TOPICS = ("cluster-munitions", "strikes-in-russia", "trainers-in-ukraine")


def test_stance_text_carries_each_comments_reference_stance_and_keeps_the_threads() -> None:
    """With topics, the words say the stance (not trivially), and reply links stay what was meant."""
    documents = list(generate_corpus(seed=11, articles=2, comments_per_article=300, topics=STANCE_TOPICS))
    plain = next(generate_corpus(seed=11, articles=1, comments_per_article=300))
    assert documents[0].source != plain.source  # another corpus, another file name
    assert generate_document(seed=11, number=0, comments=300).text == plain.text  # no topics: bytes as before
    stances = Counter(stance for d in documents for c in d.comments for stance in c.stances.values())
    assert set(stances) == {"favor", "against", "neutral", "not_about"}
    for document in documents:
        parsed = parse_document(decode_document(document.data))
        threads = reconstruct_threads(
            parsed.body, [CommentText(c.author, c.body) for c in parsed.comments], article_author=parsed.author
        )
        assert [thread.parent for thread in threads] == [comment.parent for comment in document.comments]
    comments = [c for d in documents for c in d.comments]
    # Not trivial: the topic's words are in comments that are not about it, and replies quote the other side.
    not_about = [c for c in comments if c.stances["cluster-munitions"] == "not_about"]
    assert sum("munitions" in c.body.casefold() for c in not_about) > len(not_about) / 10
    assert any(
        c.quote and c.parent is not None and {c.stances[t], comments[c.parent].stances[t]} == {"favor", "against"}
        for c in comments
        for t in STANCE_TOPICS
    )
    # Replies oppose their parents more often than chance.
    pairs = [
        (c.stances[t], documents[0].comments[c.parent].stances[t])
        for c in documents[0].comments
        if c.parent is not None
        for t in STANCE_TOPICS
        if documents[0].comments[c.parent].stances[t] in ("favor", "against")
    ]
    assert sum({a, b} == {"favor", "against"} for a, b in pairs) > len(pairs) * 0.4


@pytest.mark.django_db
def test_stance_text_labels_start_from_the_words_stance(topics: dict[str, Topic]) -> None:
    generate(
        "--articles=1", "--comments-per-article=40", "--annotators=3", "--seed=2", "--stance-text", "--agreement=1"
    )
    document = next(generate_corpus(seed=2, articles=1, comments_per_article=40, topics=sorted(topics)))
    expected = {(c.number, slug): stance for c in document.comments for slug, stance in c.stances.items()}
    stored = Consensus.objects.filter(article__source=document.source).values_list(
        "comment__number", "topic__slug", "stance", "status"
    )
    assert {(number, slug): stance for number, slug, stance, _ in stored} == expected
    assert {status for *_, status in stored} == {"unanimous"}
