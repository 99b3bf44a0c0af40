"""What the workspace pages show, as typed values: a view asks a query or an action, then builds these.

Templates read a card as they would its comment or article (`comment.body`, `comment.pk`): a card answers
for its item what it does not hold itself. Nothing is attached to model instances.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db.models import prefetch_related_objects
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from annotations.models import Annotation, Consensus, GoldLabel, Topic
from annotations.page_queries import ItemKey
from annotations.permissions import sees_all_labels
from annotations.quality import queries
from annotations.querysets import label_prefetches
from annotations.suggestions.queries import HintState, suggestions_for
from annotations.vocabulary import STANCE_CHOICES, Stance
from debate.models import Article, Comment

STANCE_KEYS: dict[str, str] = {stance.value: str(number) for number, stance in enumerate(Stance, start=1)}

Hint = dict[str, Any]  # a model's suggestion for one topic, as `suggestions_for` gives it
ButtonCache = dict[tuple[int, str | None], SafeString]


def stance_buttons(topic: Topic, pressed: str | None) -> SafeString:
    """A topic row's four stance buttons with `pressed` marked. The same for every comment, so rendered once
    per request and state: one at a time, they were most of a long thread's rendering time."""
    buttons = [
        {"value": value, "label": label, "key": STANCE_KEYS[value], "pressed": str(value == pressed).lower()}
        for value, label in STANCE_CHOICES
    ]
    html = render_to_string("annotations/_stance_buttons.html", {"buttons": buttons, "slug": topic.slug})
    return mark_safe(html)  # noqa: S308 - the template engine escaped it


@dataclass(frozen=True)
class PanelRow:
    """One topic of an item's annotation panel."""

    topic: Topic
    label: Annotation | None
    buttons: SafeString
    consensus: Consensus | None
    outdated: bool
    error: str | None
    # A model's suggestion, as a marker beside the option: never pressed, never saved (issue 16). Curators and
    # researchers get every suggestion (browse lists them); the panel marks banded ones (`hint`).
    suggestion: Hint | None

    @property
    def hint(self) -> Hint | None:
        return self.suggestion if self.suggestion and self.suggestion.get("band") else None


@dataclass(frozen=True)
class ItemCard:
    """A comment, or the article's own item, with what its panel and header show."""

    item: Comment | Article
    panel_rows: list[PanelRow]
    label_url: str
    is_complete: bool
    panel_key: str | None = None  # DOM ids: an article's apart from its comments'
    is_article_item: bool = False
    both_sides: list[str] = field(default_factory=list)  # topics on which the author takes both sides
    parent_href: str = ""
    also_answers: list[tuple[int, str]] = field(default_factory=list)  # (number, href) of the other targets

    def __getattr__(self, name: str) -> object:
        """The item's own fields, for templates (`comment.body`, `comment.number`)."""
        if name == "item":  # not yet set (copying, unpickling)
            raise AttributeError(name)
        return getattr(self.item, name)


def panel_rows(
    item: Comment | Article,
    topics: list[Topic],
    *,
    errors: Mapping[str, str] | None = None,
    buttons: ButtonCache | None = None,
    hints: Mapping[str, Hint] | None = None,
) -> list[PanelRow]:
    """One row per topic: the user's label (from the `my_labels` prefetch), consensus if visible, any error.
    `buttons` caches the rendered stance buttons across the items of a page."""
    mine: dict[int, Annotation] = {label.topic_id: label for label in getattr(item, "my_labels", [])}
    consensus: dict[int, Consensus] = {row.topic_id: row for row in getattr(item, "consensus_rows", [])}
    buttons = {} if buttons is None else buttons
    errors, hints = errors or {}, hints or {}
    rows = []
    for topic in topics:
        label = mine.get(topic.pk)
        pressed = label.stance if label else None
        if (topic.pk, pressed) not in buttons:
            buttons[(topic.pk, pressed)] = stance_buttons(topic, pressed)
        rows.append(
            PanelRow(
                topic=topic,
                label=label,
                buttons=buttons[(topic.pk, pressed)],
                consensus=consensus.get(topic.pk),
                outdated=label is not None and label.guideline_version < topic.guideline_version,
                error=errors.get(topic.slug),
                suggestion=hints.get(topic.slug),
            )
        )
    return rows


def is_complete(item: Comment | Article, topics: Iterable[Topic]) -> bool:
    """The user labelled the item on every active topic (from the `my_labels` prefetch)."""
    active = sum(1 for topic in topics if topic.is_active)
    done = sum(1 for label in getattr(item, "my_labels", []) if label.topic.is_active)
    return active > 0 and done >= active


def comment_cards(
    comments: list[Comment],
    topics: list[Topic],
    user: User,
    *,
    window_start: int | None = None,
    hints: bool | HintState = False,
    errors: Mapping[str, str] | None = None,
) -> list[ItemCard]:
    """The cards of comments loaded `with_labels_for` the user, so that rendering runs no query (one for the
    page to flag authors who take both sides, for those who may see consensus; one for the suggestions).

    `window_start` is the thread order of the first comment on the page: links to comments from there on stay
    in the page; links to earlier ones (or all, without a window) open the thread at them."""
    names = {topic.slug: topic.name for topic in topics}
    flags = queries.authors_taking_both_sides(comments) if sees_all_labels(user) else {}
    state = hints if isinstance(hints, HintState) else None
    suggested = suggestions_for(user, comments, state) if hints else {}
    threads: dict[int, str] = {}
    buttons: ButtonCache = {}

    def href(target: Comment) -> str:
        if window_start is not None and target.thread_order >= window_start:
            return f"#c{target.pk}"
        if target.article_id not in threads:
            threads[target.article_id] = reverse("workspace:thread", args=[target.article_id])
        return f"{threads[target.article_id]}?at={target.pk}#c{target.pk}"

    return [
        ItemCard(
            item=comment,
            panel_rows=panel_rows(comment, topics, errors=errors, buttons=buttons, hints=suggested.get(comment.pk)),
            label_url=reverse("workspace:label-write", args=[comment.pk]),
            is_complete=is_complete(comment, topics),
            both_sides=[names.get(slug, slug) for slug in flags.get((comment.article_id, comment.author_id or 0), [])],
            parent_href=href(comment.parent) if comment.parent else "",
            also_answers=[
                (link.target.number, href(link.target))
                for link in comment.reply_links.all()
                if link.target_id != comment.parent_id
            ],
        )
        for comment in comments
    ]


def article_card(
    article: Article, topics: list[Topic], user: User, errors: Mapping[str, str] | None = None
) -> ItemCard:
    """The article's own item, as `comment_cards` shows a comment: the user's labels on it (and its consensus
    for those who may see it), loaded here in up to three queries."""
    prefetch_related_objects([article], *label_prefetches(Article, user, gold=False))
    return ItemCard(
        item=article,
        panel_rows=panel_rows(article, topics, errors=errors),
        label_url=reverse("workspace:article-label-write", args=[article.pk]),
        is_complete=is_complete(article, topics),
        panel_key=f"a{article.pk}",
        is_article_item=True,
    )


# --- the article list ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleTopicRow:
    topic: Topic
    own_stance: str | None  # the consensus for those who may see it, else (blind annotation) the user's own label
    mix: list[tuple[str, int]]  # the comments' stances: (stance, count) in the vocabulary's order
    labelled: int
    mine: int  # the items of the article the user labelled on the topic: its comments and itself


@dataclass(frozen=True)
class ArticleSummary:
    article: Article
    topic_rows: list[ArticleTopicRow]

    @property
    def item_count(self) -> int:
        return int(getattr(self.article, "comment_count", 0)) + 1  # the article is one too

    def __getattr__(self, name: str) -> object:
        if name == "article":
            raise AttributeError(name)
        return getattr(self.article, name)


Distribution = Mapping[str, Mapping[str, Mapping[str, int]]]  # article id -> topic slug -> stance -> count


def article_summaries(
    articles: list[Article], topics: list[Topic], *, sees_all: bool, mix: Distribution, mine: Distribution
) -> list[ArticleSummary]:
    """Per article and topic: its own stance, its comments' stance mix (`mix`, from `stance_distribution`) and
    how many of its items the user labelled (`mine`, their own distribution)."""
    summaries = []
    for article in articles:
        own = {row.topic_id: row.stance for row in getattr(article, "consensus_rows" if sees_all else "my_labels", [])}
        labelled_by_me = {label.topic_id for label in getattr(article, "my_labels", [])}
        rows = []
        for topic in topics:
            counts = mix.get(str(article.pk), {}).get(topic.slug, {})
            rows.append(
                ArticleTopicRow(
                    topic=topic,
                    own_stance=own.get(topic.pk),
                    mix=[(stance.value, counts.get(stance.value, 0)) for stance in Stance],
                    labelled=sum(counts.get(stance.value, 0) for stance in Stance),
                    mine=sum(mine.get(str(article.pk), {}).get(topic.slug, {}).values()) + (topic.pk in labelled_by_me),
                )
            )
        summaries.append(ArticleSummary(article=article, topic_rows=rows))
    return summaries


# --- adjudication --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdjudicationItem:
    """One (item, topic) to adjudicate: every annotator's label and the gold label. The item is a comment, or
    the article itself (`comment` None)."""

    consensus: Consensus
    comment: Comment | None
    article: Article
    topic: Topic
    labels: list[Annotation]
    gold: GoldLabel | None
    dom_id: str
    thread_href: str
    gold_url: str


def adjudication_items(
    rows: list[Consensus], labels: Mapping[ItemKey, list[Annotation]], gold: Mapping[ItemKey, GoldLabel]
) -> list[AdjudicationItem]:
    items = []
    for row in rows:
        key = (row.article_id, row.comment_id, row.topic_id)
        thread = reverse("workspace:thread", args=[row.article_id])
        if row.comment_id is None:
            anchor, thread_href = f"a{row.article_id}", thread
            gold_url = reverse("workspace:article-gold-write", args=[row.article_id, row.topic.slug])
        else:
            anchor, thread_href = str(row.comment_id), f"{thread}?at={row.comment_id}#c{row.comment_id}"
            gold_url = reverse("workspace:gold-write", args=[row.comment_id, row.topic.slug])
        items.append(
            AdjudicationItem(
                consensus=row,
                comment=row.comment,
                article=row.article,
                topic=row.topic,
                labels=list(labels.get(key, [])),
                gold=gold.get(key),
                dom_id=f"item-{anchor}-{row.topic.slug}",
                thread_href=thread_href,
                gold_url=gold_url,
            )
        )
    return items
