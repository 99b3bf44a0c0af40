"""Long threads render in chunks: the first chunk with the page, the next ones as the reader reaches them."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from annotations.views import THREAD_CHUNK
from debate.actions import import_document
from debate.models import Article, Comment

pytestmark = pytest.mark.django_db

COMMENTS = 2 * THREAD_CHUNK + 20


def long_thread() -> Article:
    """A chain: every comment answers the one before it, so parents sit just across chunk boundaries."""
    lines = ["A long debate", "", "Whether the allies should send more shells this winter.", ""]
    for number in range(1, COMMENTS + 1):
        reply = f"@Reader {number - 1}: " if number > 1 else ""
        lines += [f"  {number}. Reader {number} says:", "", f"    {reply}Point number {number} on shells.", ""]
    result = import_document(source="long.txt", data="\n".join(lines).encode())
    return Article.objects.get(pk=result.article_id)


def rendered_numbers(html: str) -> list[int]:
    return [int(number) for number in re.findall(r'<a class="number" href="[^"]*">#(\d+)</a>', html)]


@pytest.fixture
def reader(make_user) -> Client:
    client = Client()
    client.force_login(make_user("annotator"))
    return client


def test_the_page_renders_the_first_chunk_and_points_at_the_next(reader: Client, topics) -> None:
    article = long_thread()

    html = reader.get(f"/articles/{article.pk}/").content.decode()

    assert rendered_numbers(html) == list(range(1, THREAD_CHUNK + 1))
    assert f'hx-get="/articles/{article.pk}/comments/?from={THREAD_CHUNK}&amp;start=0"' in html
    assert f'href="/articles/{article.pk}/?from={THREAD_CHUNK}">Show more comments' in html  # without JavaScript
    assert f"{COMMENTS} comments" in html


def test_chunks_follow_one_another_to_the_end(reader: Client, topics) -> None:
    article = long_thread()
    headers = {"HX-Request": "true"}

    second = reader.get(f"/articles/{article.pk}/comments/", {"from": THREAD_CHUNK, "start": 0}, headers=headers)
    last = reader.get(f"/articles/{article.pk}/comments/", {"from": 2 * THREAD_CHUNK, "start": 0}, headers=headers)

    assert rendered_numbers(second.content.decode()) == list(range(THREAD_CHUNK + 1, 2 * THREAD_CHUNK + 1))
    assert f"from={2 * THREAD_CHUNK}" in second.content.decode()
    assert "<html" not in second.content.decode()
    assert rendered_numbers(last.content.decode()) == list(range(2 * THREAD_CHUNK + 1, COMMENTS + 1))
    assert "Show more comments" not in last.content.decode()
    # In the page that started at 0, a parent in an earlier chunk is already there: a plain anchor.
    first_of_second = Comment.objects.get(article=article, number=THREAD_CHUNK + 1)
    assert f'href="#c{first_of_second.parent_id}">replying to #{THREAD_CHUNK}' in second.content.decode()


def test_a_link_to_a_comment_opens_its_chunk_with_a_way_back(reader: Client, topics) -> None:
    article = long_thread()
    target = Comment.objects.get(article=article, number=THREAD_CHUNK + 5)

    html = reader.get(f"/articles/{article.pk}/", {"at": target.pk}).content.decode()

    assert rendered_numbers(html) == list(range(THREAD_CHUNK + 1, 2 * THREAD_CHUNK + 1))
    assert f'id="c{target.pk}"' in html
    assert f'href="/articles/{article.pk}/?from=0">Show earlier comments (1–{THREAD_CHUNK})' in html
    # The first comment's parent is not on this page: its link reopens the thread there.
    first = Comment.objects.get(article=article, number=THREAD_CHUNK + 1)
    assert f'href="/articles/{article.pk}/?at={first.parent_id}#c{first.parent_id}">replying to' in html


def test_a_long_thread_page_runs_as_many_queries_as_a_short_one(
    reader: Client, topics, cluster_article: Article, django_assert_max_num_queries
) -> None:
    article = long_thread()
    counts = []
    for page in (f"/articles/{article.pk}/", f"/articles/{cluster_article.pk}/"):
        with django_assert_max_num_queries(12) as context:
            assert reader.get(page).status_code == 200
        counts.append(len(context.captured_queries))

    assert counts[0] == counts[1]
