"""The browser workspace: articles, threads with annotation panels, the queue and browse pages.

Every write goes through `annotations.actions`, every comment filter through `annotations.filters.CommentFilter`:
the same functions the API uses. Pages render whole; htmx requests get the named partial alone.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Max, Q, QuerySet, Subquery, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from annotations import actions
from annotations.assignment.actions import ensure_plan
from annotations.assignment.queries import (
    agreement_sample,
    assignment_summary,
    qualification_feedback,
    queue_for,
    serves_everything,
)
from annotations.filters import (
    ARTICLE_RELATION_CHOICES,
    RELATION_CHOICES,
    THREAD_MIX_CHOICES,
    CommentFilter,
    unfinished_by,
)
from annotations.guidelines import acknowledge_guidelines, changes_for, outdated_counts
from annotations.items import LabelItem
from annotations.labels import EvidenceSpan, LabelValues
from annotations.models import Annotation, Consensus, GoldLabel, Topic
from annotations.permissions import ONLY_CURATORS_ADJUDICATE, can_curate, role_flags, sees_all_labels
from annotations.quality import charts, queries
from annotations.querysets import label_prefetches, with_labels_for
from annotations.suggestions.queries import HintState, hint_state, hint_usage, learning_curve, suggestions_for
from annotations.vocabulary import (
    STANCE_CHOICES,
    STANCE_LIST,
    STANCE_VALUES,
    STATUS_CHOICES,
    STATUS_VALUES,
    ConsensusStatus,
    Stance,
)
from debate.errors import DomainError
from debate.models import Article, Comment
from debate.roles import authenticated_user

STANCE_KEYS: dict[str, str] = {stance.value: str(number) for number, stance in enumerate(Stance, start=1)}
BROWSE_PAGE_SIZE = 25
THREAD_CHUNK = 50  # comments rendered per request; the rest of a long thread loads as the reader scrolls


def _stance_buttons(topic: Topic, pressed: str | None) -> SafeString:
    """A topic row's four stance buttons with `pressed` marked. The same for every comment, so rendered once
    per request and state: one at a time, they were most of a long thread's rendering time."""
    buttons = [
        {"value": value, "label": label, "key": STANCE_KEYS[value], "pressed": str(value == pressed).lower()}
        for value, label in STANCE_CHOICES
    ]
    html = render_to_string("annotations/_stance_buttons.html", {"buttons": buttons, "slug": topic.slug})
    return mark_safe(html)  # noqa: S308 - the template engine escaped it


def vary_on_htmx(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Pages and their partials share URLs; caches must keep them apart."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        patch_vary_headers(response, ("HX-Request",))
        return response

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def refusal(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    """A refused request: for htmx, a fragment holding the one-line error and nothing else; otherwise the
    error page for the status."""
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "_refusal.html", {"message": message}, status=status)
    if status == 403:
        raise PermissionDenied(message)
    raise Http404(message)


# --- panels ------------------------------------------------------------------------------------------


def panel_rows(
    comment: Comment | Article,
    topics: list[Topic],
    user: User,
    error: dict[str, str] | None = None,
    buttons: dict[tuple[int, str | None], SafeString] | None = None,
    hints: dict[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """One row per topic: the user's label (from the `my_labels` prefetch), consensus if visible, any error.

    `buttons` caches the rendered stance buttons across the comments of a page."""
    mine = {label.topic_id: label for label in getattr(comment, "my_labels", [])}
    consensus = {row.topic_id: row for row in getattr(comment, "consensus_rows", [])}
    buttons = {} if buttons is None else buttons
    rows = []
    for topic in topics:
        label = mine.get(topic.pk)
        pressed = label.stance if label else None
        if (topic.pk, pressed) not in buttons:
            buttons[(topic.pk, pressed)] = _stance_buttons(topic, pressed)
        rows.append(
            {
                "topic": topic,
                "label": label,
                "buttons": buttons[(topic.pk, pressed)],
                "consensus": consensus.get(topic.pk),
                "outdated": label is not None and label.guideline_version < topic.guideline_version,
                "error": (error or {}).get(topic.slug),
                # A model's suggestion, as a marker beside the option: never pressed, never saved (issue 16).
                # Curators and researchers get every suggestion (browse lists them); the panel marks banded ones.
                "suggestion": (hints or {}).get(topic.slug),
                "hint": (hints or {}).get(topic.slug) if (hints or {}).get(topic.slug, {}).get("band") else None,
            }
        )
    return rows


def decorate(
    comments: list[Comment],
    topics: list[Topic],
    user: User,
    *,
    window_start: int | None = None,
    hints: bool | HintState = False,
) -> None:
    """Attach what the comment template needs, so that rendering runs no query (one for the whole page to
    flag authors who take both sides, for those who may see consensus).

    `window_start` is the thread order of the first comment on the page: links to comments from there on stay
    in the page; links to earlier ones (or all, without a window) open the thread at them."""
    active = sum(1 for topic in topics if topic.is_active)
    names = {topic.slug: topic.name for topic in topics}
    flags = queries.authors_taking_both_sides(comments) if sees_all_labels(user) else {}
    # The model's suggestions (one query; on the queue and in browse, not on the thread page's budget).
    state = hints if isinstance(hints, HintState) else None
    suggested = suggestions_for(user, comments, state) if hints else {}
    threads: dict[int, str] = {}
    buttons: dict[tuple[int, str | None], SafeString] = {}

    def href(target: Comment) -> str:
        if window_start is not None and target.thread_order >= window_start:
            return f"#c{target.pk}"
        if target.article_id not in threads:
            threads[target.article_id] = reverse("workspace:thread", args=[target.article_id])
        return f"{threads[target.article_id]}?at={target.pk}#c{target.pk}"

    for comment in comments:
        comment.both_sides = [  # type: ignore[attr-defined]
            names.get(slug, slug) for slug in flags.get((comment.article_id, comment.author_id or 0), [])
        ]
        comment.panel_rows = panel_rows(  # type: ignore[attr-defined]
            comment, topics, user, buttons=buttons, hints=suggested.get(comment.pk)
        )
        comment.label_url = reverse("workspace:label-write", args=[comment.pk])  # type: ignore[attr-defined]
        comment.parent_href = href(comment.parent) if comment.parent else ""  # type: ignore[attr-defined]
        comment.also_answers = [  # type: ignore[attr-defined]
            (link.target.number, href(link.target))
            for link in comment.reply_links.all()
            if link.target_id != comment.parent_id
        ]
        comment.is_complete = _is_complete(comment, active)  # type: ignore[attr-defined]


def _is_complete(item: Comment | Article, active: int) -> bool:
    """The user labelled the item on every active topic (from the `my_labels` prefetch)."""
    done = sum(1 for label in getattr(item, "my_labels", []) if label.topic.is_active)
    return active > 0 and done >= active


def decorate_article(article: Article, topics: list[Topic], user: User, error: dict[str, str] | None = None) -> None:
    """Attach what the panel partial needs to show the article's own item, as `decorate` does for comments:
    the user's labels on it (and its consensus for those who may see it), loaded here in up to three queries."""
    prefetch_related_objects([article], *label_prefetches(Article, user, gold=False))
    article.panel_rows = panel_rows(article, topics, user, error)  # type: ignore[attr-defined]
    article.label_url = reverse("workspace:article-label-write", args=[article.pk])  # type: ignore[attr-defined]
    article.panel_key = f"a{article.pk}"  # type: ignore[attr-defined]  # DOM ids apart from comments'
    article.is_article_item = True  # type: ignore[attr-defined]
    article.is_complete = _is_complete(article, sum(1 for topic in topics if topic.is_active))  # type: ignore[attr-defined]


def workspace_context(request: HttpRequest) -> dict[str, Any]:
    """Topics and stance buttons, plus the role flags the views decide with (templates get them too, from
    the `roles` context processor)."""
    user = authenticated_user(request)
    return {
        "topics": list(Topic.objects.active()),
        "stance_choices": [(value, label, STANCE_KEYS[value]) for value, label in STANCE_CHOICES],
        **role_flags(user),
    }


# --- articles ----------------------------------------------------------------------------------------


@login_required
@require_GET
def article_list(request: HttpRequest) -> HttpResponse:
    """Articles with comment counts and, per topic, the article's own stance, its comments' stance mix and the
    user's progress over the article's items (the article itself and its comments)."""
    user = authenticated_user(request)
    context = workspace_context(request)
    topics: list[Topic] = context["topics"]
    articles = list(
        with_labels_for(Article.objects.with_listing().defer("body", "author_bio").order_by("source"), user)
    )
    mix_rows: QuerySet[Any, tuple[int, int, str, int]]
    if context["sees_all"]:
        mix_rows = (
            Consensus.objects.of_item_type("comment")
            .exclude(stance=None)
            .values_list("article_id", "topic_id", "stance")
            .annotate(n=Count("pk"))
        )
    else:  # blind annotation: an annotator's bar shows their own labels only
        mix_rows = (
            Annotation.objects.filter(annotator=user)
            .of_item_type("comment")
            .values_list("article_id", "topic_id", "stance")
            .annotate(n=Count("pk"))
        )
    mix: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    for article_id, topic_id, stance, n in mix_rows:
        mix[(article_id, topic_id)][stance] += n
    mine = {
        (article_id, topic_id): n
        for article_id, topic_id, n in Annotation.objects.filter(annotator=user)
        .of_item_type("comment")
        .values_list("article_id", "topic_id")
        .annotate(n=Count("pk"))
    }
    for article in articles:
        # Its own stance: the consensus for those who may see it, else (blind annotation) the user's own label.
        own = {
            row.topic_id: row.stance
            for row in getattr(article, "consensus_rows" if context["sees_all"] else "my_labels", [])
        }
        labelled_by_me = {label.topic_id for label in getattr(article, "my_labels", [])}
        article.topic_rows = [  # type: ignore[attr-defined]
            {
                "topic": topic,
                "own_stance": own.get(topic.pk),
                "mix": [(stance, mix[(article.pk, topic.pk)][stance]) for stance in Stance],
                "labelled": sum(mix[(article.pk, topic.pk)].values()),
                "mine": mine.get((article.pk, topic.pk), 0) + (topic.pk in labelled_by_me),
            }
            for topic in topics
        ]
        article.item_count = article.comment_count + 1  # type: ignore[attr-defined]  # the article is one too
    return render(request, "annotations/article_list.html", {**context, "articles": articles})


def _chunk(request: HttpRequest, article: Article, start: int, window_start: int) -> dict[str, Any]:
    """The comments of one chunk of a thread, in thread order, and where the next chunk starts."""
    user = authenticated_user(request)
    context = workspace_context(request)
    comments = list(
        with_labels_for(
            Comment.objects.filter(
                article=article, thread_order__gte=start, thread_order__lt=start + THREAD_CHUNK
            ).with_thread(),
            user,
        ).order_by("thread_order")
    )
    decorate(comments, context["topics"], user, window_start=window_start)
    following = start + THREAD_CHUNK
    # Thread orders run from 0 to the number of comments - 1, so the count says whether a chunk follows.
    more = following < getattr(article, "comment_count", 0)
    return {
        **context,
        "article": article,
        "comments": comments,
        "window_start": window_start,
        "next_start": following if more else None,
    }


def _threads() -> QuerySet[Article]:
    return Article.objects.select_related("author").annotate(comment_count=Count("comments"))


def _window_start(request: HttpRequest, article: Article) -> int:
    """Where a page of the thread starts: at the chunk holding comment `at`, at thread position `from`, or at
    the beginning."""
    at = _int_or_none(request.GET.get("at"))
    if at is not None:
        order = Comment.objects.filter(pk=at, article=article).values_list("thread_order", flat=True).first()
        if order is not None:
            return order // THREAD_CHUNK * THREAD_CHUNK
    start = _int_or_none(request.GET.get("from")) or 0
    return max(start, 0) // THREAD_CHUNK * THREAD_CHUNK


@login_required
@require_GET
def thread(request: HttpRequest, article_id: int) -> HttpResponse:
    """An article and its comments as a reply tree, each with its annotation panel. Long threads come in
    chunks: the next one loads when the reader reaches it (or follows a link, without JavaScript)."""
    article = get_object_or_404(_threads(), pk=article_id)
    start = _window_start(request, article)
    context = _chunk(request, article, start, window_start=start)
    decorate_article(article, context["topics"], authenticated_user(request))
    summary = None
    if context["sees_all"]:
        flows = queries.flow_summary(article, context["topics"])
        summary = [(topic, flows.get(topic.slug)) for topic in context["topics"]]
    return render(
        request,
        "annotations/thread.html",
        {
            **context,
            "summary": summary,
            "stance_values": STANCE_VALUES,
            "previous_start": max(start - THREAD_CHUNK, 0) if start else None,
        },
    )


@login_required
@require_GET
@vary_on_htmx
def thread_chunk(request: HttpRequest, article_id: int) -> HttpResponse:
    """The next comments of a thread, for the page to append."""
    article = get_object_or_404(_threads(), pk=article_id)
    start = max(_int_or_none(request.GET.get("from")) or 0, 0)
    window_start = max(_int_or_none(request.GET.get("start")) or 0, 0)
    return render(request, "annotations/thread.html#chunk", _chunk(request, article, start, window_start))


# --- writes --------------------------------------------------------------------------------------------


def _label_target(
    topic_slug: str, *, comment_id: int | None = None, article_id: int | None = None
) -> tuple[dict[str, Any], Topic]:
    """The item a URL names, as the actions' keyword (`{"comment": ...}` or `{"article": ...}`), and the topic."""
    target: dict[str, Any]
    if comment_id is not None:
        target = {"comment": get_object_or_404(Comment.objects.select_related("article"), pk=comment_id)}
    else:
        target = {"article": get_object_or_404(Article, pk=article_id)}
    topic = Topic.objects.filter(slug=topic_slug).first()
    if topic is None:
        raise Http404(f"unknown topic {topic_slug!r}")
    return target, topic


def item_keys(target: dict[str, Any]) -> dict[str, Any]:
    """The lookup of the rows of an item named as the actions' keyword."""
    return LabelItem.of(*target.values()).keys


def _int_or_none(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _label_change(
    operation: str, argument: str, post: QueryDict, topic: Topic, item: LabelItem, current: Annotation | None
) -> LabelValues | None:
    """The label after the requested change, or None to remove it. Values come from the current label."""
    stance = current.stance if current else None
    unsure = current.unsure if current else False
    note = current.note if current else ""
    evidence = list(actions.evidence_of(current.evidence)) if current else []
    if operation == "clear":
        return None
    if operation in STANCE_VALUES:
        stance = operation
    elif operation == "unsure":
        unsure = not unsure
    elif operation == "note":
        note = post.get(f"note-{topic.slug}", "")
    elif operation == "evidence":
        start, end = _int_or_none(post.get("start")), _int_or_none(post.get("end"))
        if start is None or end is None:
            raise ValidationError({"evidence": f"select some text of the {item.item_type.value} first"})
        # The browser sends offsets only; the span's text is the body's own, by construction.
        evidence.append(EvidenceSpan(start, end, item.body[start:end]))
    elif operation == "remove":
        index = _int_or_none(argument)
        if index is not None and 0 <= index < len(evidence):
            del evidence[index]
    else:
        known = "a stance, unsure, note, evidence, remove or clear"
        raise ValidationError({"do": f"unknown action {operation!r}; expected {known}"})
    if stance is None:
        raise ValidationError({"stance": f"choose a stance first; one of {STANCE_LIST}"})
    confidence = current.confidence if current else None
    return LabelValues(stance, unsure, confidence, note, tuple(evidence))


@login_required
@require_POST
@vary_on_htmx
def label_write(request: HttpRequest, comment_id: int | None = None, article_id: int | None = None) -> HttpResponse:
    """Change the user's label on one topic of a comment (or, with `article_id`, of the article itself); answers
    with the item's re-rendered panel.

    The panel is one form; the button pressed says what to do as `topic:action[:argument]`, where the action
    is a stance, `unsure`, `note`, `evidence`, `remove` (with the evidence's index) or `clear`."""
    user = authenticated_user(request)
    slug, _, rest = request.POST.get("do", "").partition(":")
    operation, _, argument = rest.partition(":")
    target, topic = _label_target(slug, comment_id=comment_id, article_id=article_id)
    item = LabelItem.of(*target.values())
    current = Annotation.objects.filter(**item.keys, topic=topic, annotator=user).first()
    version = _int_or_none(request.POST.get(f"version-{topic.slug}"))
    if_match = frozenset({version}) if version is not None else None

    def change() -> None:
        values = _label_change(operation, argument, request.POST, topic, item, current)
        if values is None:
            actions.clear_stance(actor=user, **target, topic=topic, if_match=if_match, missing_ok=True)
        else:
            actions.set_stance(actor=user, **target, topic=topic, if_match=if_match, values=values)

    error, status = _attempt(change)
    errors = {topic.slug: error} if error else None
    thread_url = reverse("workspace:thread", args=[item.article_id])
    if item.comment is None:
        if not request.htmx:  # type: ignore[attr-defined]
            if error:
                messages.error(request, f"The article, {topic.name}: {error}")
            return HttpResponseRedirect(f"{thread_url}#a{item.article_id}")
        return render_article_panel(request, item.article_id, errors, status=status)
    if not request.htmx:  # type: ignore[attr-defined]
        if error:
            messages.error(request, f"#{item.comment.number}, {topic.name}: {error}")
        return HttpResponseRedirect(f"{thread_url}?at={item.comment.pk}#c{item.comment.pk}")
    return render_panel(request, item.comment.pk, errors, status=status)


def _attempt(write: Callable[[], object]) -> tuple[str | None, int]:
    """Run a write; a refusal becomes a one-line message and the status the API would answer with."""
    try:
        write()
    except ValidationError as invalid:
        fields = getattr(invalid, "error_dict", None)
        if fields is None:
            return " ".join(invalid.messages), 400
        return "; ".join(f"{field}: {' '.join(invalid.message_dict[field])}" for field in fields), 400
    except DomainError as refused:
        return str(refused), refused.status_code
    except ObjectDoesNotExist as missing:
        return str(missing), 404
    except PermissionDenied as denied:
        return str(denied) or "your role cannot do this", 403
    return None, 200


def render_article_panel(
    request: HttpRequest, article_id: int, error: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    """The article's own panel, as `render_panel` answers for a comment's."""
    context = workspace_context(request)
    article = get_object_or_404(Article, pk=article_id)
    decorate_article(article, context["topics"], authenticated_user(request), error)
    return render(request, "annotations/_comment.html#panel", {**context, "comment": article}, status=status)


def render_panel(
    request: HttpRequest, comment_id: int, error: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    user = authenticated_user(request)
    context = workspace_context(request)
    comment = with_labels_for(Comment.objects.with_thread(), user).get(pk=comment_id)
    decorate([comment], context["topics"], user)
    comment.panel_rows = panel_rows(  # type: ignore[attr-defined]
        comment, context["topics"], user, error, hints=suggestions_for(user, [comment]).get(comment.pk)
    )
    return render(request, "annotations/_comment.html#panel", {**context, "comment": comment}, status=status)


@login_required
@require_POST
def parent_write(request: HttpRequest, comment_id: int) -> HttpResponse:
    """A curator answers "this replies to #N" (or to nothing) for a comment. A refusal, for htmx, is a fragment
    shown at the comment's form (where the curator is looking); otherwise a message at the top."""
    user = authenticated_user(request)
    comment = get_object_or_404(Comment, pk=comment_id)
    number = request.POST.get("parent_number", "").strip().lstrip("#")
    error, status = _attempt(lambda: _set_parent_number(user, comment, number))
    if error and request.htmx:  # type: ignore[attr-defined]
        return render(request, "_refusal.html", {"message": error}, status=status)
    if error:
        messages.error(request, error)
    else:
        comment.refresh_from_db(fields=["parent"])
        parent_number = (
            Comment.objects.filter(pk=comment.parent_id).values_list("number", flat=True).first()
            if comment.parent_id is not None
            else None
        )
        messages.success(
            request, f"#{comment.number} now replies to {f'#{parent_number}' if parent_number else 'nothing'}."
        )
    target = f"{reverse('workspace:thread', args=[comment.article_id])}?at={comment.pk}#c{comment.pk}"
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponseClientRedirect(target)
    return HttpResponseRedirect(target)


def _set_parent_number(user: User, comment: Comment, number: str) -> None:
    parent = None
    if number:
        parent = Comment.objects.filter(article_id=comment.article_id, number=_int_or_none(number) or -1).first()
        if parent is None:
            raise ValidationError(f"this article has no comment #{number}")
    actions.set_parent(actor=user, comment=comment, parent=parent)


# --- queue ---------------------------------------------------------------------------------------------


def _ancestors(comment: Comment) -> list[Comment]:
    """The comment's parent chain, root first: at each shallower depth, the last comment before it in tree
    order. Two queries whatever the depth."""
    if comment.depth == 0:
        return []
    orders = (
        Comment.objects.filter(
            article_id=comment.article_id, thread_order__lt=comment.thread_order, depth__lt=comment.depth
        )
        .values("depth")
        .annotate(last=Max("thread_order"))
        .values("last")
    )
    return list(
        Comment.objects.filter(article_id=comment.article_id, thread_order__in=Subquery(orders))
        .select_related("author")
        .order_by("thread_order")
    )


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The next item the user has not labelled on every active topic, with its context and progress. Items come
    article by article: the article itself first, then its comments in thread order. `after=<comment id>` or
    `after_article=<article id>` skips to the next unfinished item after that one, wrapping around."""
    user = authenticated_user(request)
    context = workspace_context(request)
    if not context["can_annotate"]:
        raise PermissionDenied("your role does not annotate")
    after_comment = _int_or_none(request.GET.get("after"))
    comment: Comment | None = None
    article: Article | None = None
    ancestors: list[Comment] = []
    # What the queue holds: every item, articles first (the default), or, for an annotator while work is
    # assigned, their assignments or their qualification items (`annotations.assignment.queries`).
    everything, assignment_settings = serves_everything(user)
    hints = hint_state(user, assignment_settings)  # reads the suggestion settings for annotators only
    if everything:
        queue_state, queue_message = "all", ""
        pending_comments = unfinished_by(Comment.objects.all(), user).order_by("article_id", "thread_order")
        pending_articles = unfinished_by(Article.objects.all(), user).order_by("pk")
        after = _queue_position(request)
        candidate = _next_item(pending_articles, pending_comments, after) if after else None
        candidate = candidate or _next_item(pending_articles, pending_comments, None)
        if candidate is not None and candidate[1] is None:
            article = get_object_or_404(_threads(), pk=candidate[0])
            decorate_article(article, context["topics"], user)
        elif candidate is not None and (comment_id := candidate[1]) is not None:
            comment = with_labels_for(Comment.objects.with_thread().select_related("article"), user).get(pk=comment_id)
            decorate([comment], context["topics"], user, hints=hints if hints.on else False)
            ancestors = _ancestors(comment)
        total = Comment.objects.count() + Article.objects.count()
        remaining = pending_comments.count() + pending_articles.count()
    else:
        state = queue_for(user, after=after_comment, settings=assignment_settings, steering=hints.settings)
        queue_state, queue_message = state.selection.state, state.selection.message
        if state.next_id is not None:
            comment = with_labels_for(Comment.objects.with_thread().select_related("article"), user).get(
                pk=state.next_id
            )
            decorate([comment], context["topics"], user, hints=hints if hints.on else False)
            ancestors = _ancestors(comment)
        total, remaining = state.total, state.remaining
    return render(
        request,
        "annotations/queue.html",
        {
            **context,
            "comment": comment,
            "article": article,
            "ancestors": ancestors,
            "total": total,
            "done": total - remaining,
            "percent": round(100 * (total - remaining) / total) if total else 100,
            "queue_state": queue_state,
            "queue_message": queue_message,
            "feedback": qualification_feedback(user, after_comment) if after_comment is not None else None,
            "guideline_changes": changes_for(user, context["topics"]),
            "hints": hints,
        },
    )


# A place in the queue: (article id, thread order), the article itself at thread order -1, before its comments.
QueuePosition = tuple[int, int]


def _queue_position(request: HttpRequest) -> QueuePosition | None:
    article_id = _int_or_none(request.GET.get("after_article"))
    if article_id is not None:
        return (article_id, -1)
    row = Comment.objects.filter(pk=_int_or_none(request.GET.get("after")) or 0).values_list(
        "article_id", "thread_order"
    )
    return row.first()


def _next_item(
    articles: QuerySet[Article], comments: QuerySet[Comment], after: QueuePosition | None
) -> tuple[int, int | None] | None:
    """(article id, comment id or None for the article itself) of the first pending item after `after`."""
    if after is not None:
        article_id, order = after
        articles = articles.filter(pk__gt=article_id)
        comments = comments.filter(Q(article_id__gt=article_id) | Q(article_id=article_id, thread_order__gt=order))
    first_article = articles.values_list("pk", flat=True).first()
    first_comment = comments.values_list("article_id", "thread_order", "pk").first()
    if first_comment is not None and (first_article is None or first_comment[0] < first_article):
        return (first_comment[0], first_comment[2])
    return None if first_article is None else (first_article, None)


@login_required
@require_POST
def guidelines_seen(request: HttpRequest) -> HttpResponse:
    """The annotator has read what changed in the guidelines of the active topics."""
    acknowledge_guidelines(annotator=authenticated_user(request), topics=list(Topic.objects.active()))
    return HttpResponseRedirect(reverse("workspace:queue"))


# --- browse --------------------------------------------------------------------------------------------


def browse_params(request: HttpRequest, user: User) -> QueryDict:
    """The filters as the shared FilterSet reads them. An annotator's stance filter means their own labels:
    blind annotation forbids them the consensus."""
    params = request.GET.copy()
    if not sees_all_labels(user) and (params.get("stance") or params.get("topic")):
        params["annotator"] = user.get_username()
        params.pop("status", None)
    return params


@login_required
@require_GET
@vary_on_htmx
def browse(request: HttpRequest) -> HttpResponse:
    """Comments filtered by labels, article, author, status and text; each shown with its parent."""
    user = authenticated_user(request)
    context = workspace_context(request)
    filterset = CommentFilter(
        browse_params(request, user),
        queryset=with_labels_for(Comment.objects.with_thread().select_related("article"), user).order_by(
            "article_id", "number"
        ),
        request=request,
    )
    page = None
    if filterset.is_valid():
        page = Paginator(filterset.qs, BROWSE_PAGE_SIZE).get_page(request.GET.get("page"))
        decorate(list(page.object_list), context["topics"], user, hints=True)
    query = request.GET.copy()
    query.pop("page", None)
    annotators = (
        list(
            User.objects.filter(annotations__isnull=False)
            .distinct()
            .order_by("username")
            .values_list("username", flat=True)
        )
        if context["sees_all"]
        else []
    )
    template = "annotations/browse.html#results" if request.htmx else "annotations/browse.html"  # type: ignore[attr-defined]
    return render(
        request,
        template,
        {
            **context,
            "filterset": filterset,
            "page": page,
            "query": query.urlencode(),
            "articles": Article.objects.order_by("source").only("id", "title"),
            "annotators": annotators,
            "statuses": STATUS_CHOICES,
            "stances": STANCE_CHOICES,
            "relations": RELATION_CHOICES,
            "article_relations": ARTICLE_RELATION_CHOICES,
            "thread_mixes": THREAD_MIX_CHOICES,
        },
        status=200 if filterset.is_valid() else 400,
    )


# --- adjudication ------------------------------------------------------------------------------------

ADJUDICATION_PAGE_SIZE = 20


def _adjudication_items(consensus_rows: list[Consensus]) -> list[dict[str, Any]]:
    """Each (item, topic) with every annotator's label and the gold label: two queries for the page. An item is
    a comment, or the article itself (`comment` None)."""
    article_ids = {row.article_id for row in consensus_rows}
    topic_ids = {row.topic_id for row in consensus_rows}
    wanted = {(row.article_id, row.comment_id, row.topic_id) for row in consensus_rows}
    labels: dict[tuple[int, int | None, int], list[Annotation]] = defaultdict(list)
    # By article (indexed), then only the page's items: the article's own item and its comments' alike.
    for label in (
        Annotation.objects.filter(article_id__in=article_ids, topic_id__in=topic_ids)
        .select_related("annotator")
        .order_by("annotator__username")
    ):
        key = (label.article_id, label.comment_id, label.topic_id)
        if key in wanted:
            labels[key].append(label)
    gold = {
        (row.article_id, row.comment_id, row.topic_id): row
        for row in GoldLabel.objects.filter(article_id__in=article_ids, topic_id__in=topic_ids).select_related("set_by")
    }
    items = []
    for row in consensus_rows:
        key = (row.article_id, row.comment_id, row.topic_id)
        if row.comment_id is None:
            anchor, thread_href = f"a{row.article_id}", reverse("workspace:thread", args=[row.article_id])
            gold_url = reverse("workspace:article-gold-write", args=[row.article_id, row.topic.slug])
        else:
            anchor = str(row.comment_id)
            thread_href = f"{reverse('workspace:thread', args=[row.article_id])}?at={row.comment_id}#c{row.comment_id}"
            gold_url = reverse("workspace:gold-write", args=[row.comment_id, row.topic.slug])
        items.append(
            {
                "consensus": row,
                "comment": row.comment,
                "article": row.article,
                "topic": row.topic,
                "labels": labels[key],
                "gold": gold.get(key),
                "dom_id": f"item-{anchor}-{row.topic.slug}",
                "thread_href": thread_href,
                "gold_url": gold_url,
            }
        )
    return items


ADJUDICATION_RELATED = ("topic", "article__author", "comment__author", "comment__parent__author")


def _adjudication_queryset(params: QueryDict) -> tuple[QuerySet[Consensus], dict[str, str]]:
    """Items to adjudicate: unresolved by default, or any status; optionally one topic and one article."""
    chosen = {
        "status": params.get("status", ConsensusStatus.UNRESOLVED.value),
        "topic": params.get("topic", ""),
        "article": params.get("article", ""),
    }
    rows = Consensus.objects.exclude(status=None).select_related(*ADJUDICATION_RELATED)
    if chosen["status"] != "any":
        if chosen["status"] not in STATUS_VALUES:
            raise ValidationError({"status": f"unknown status {chosen['status']!r}"})
        rows = rows.filter(status=chosen["status"])
    if chosen["topic"]:
        rows = rows.filter(topic__slug=chosen["topic"])
    if chosen["article"]:
        rows = rows.filter(article_id=_int_or_none(chosen["article"]) or 0)
    # Each article's own items first, then its comments' in thread order.
    in_order = rows.order_by(
        "article_id", F("comment__thread_order").asc(nulls_first=True), "topic__ordering", "topic__slug"
    )
    return in_order, chosen


@login_required
@require_GET
@vary_on_htmx
def adjudicate(request: HttpRequest) -> HttpResponse:
    """The disagreement queue: every annotator's label, note and evidence side by side, and the gold form."""
    user = authenticated_user(request)
    if not can_curate(user):
        raise PermissionDenied(ONLY_CURATORS_ADJUDICATE)
    try:
        rows, chosen = _adjudication_queryset(request.GET)
    except ValidationError as invalid:
        return HttpResponse(" ".join(invalid.messages), status=400, content_type="text/plain; charset=utf-8")
    page = Paginator(rows, ADJUDICATION_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "annotations/adjudicate.html",
        {
            **workspace_context(request),
            "page": page,
            "items": _adjudication_items(list(page.object_list)),
            "chosen": chosen,
            "query": query.urlencode(),
            "statuses": STATUS_CHOICES,
            "articles": Article.objects.order_by("source").only("id", "title"),
        },
    )


@login_required
@require_POST
@vary_on_htmx
def gold_write(
    request: HttpRequest, topic_slug: str, comment_id: int | None = None, article_id: int | None = None
) -> HttpResponse:
    """Set or withdraw the gold label of one item (a comment, or with `article_id` the article itself);
    answers with the item re-rendered.

    The role is checked before anything is read: the item shows every annotator's label, and even whether it
    exists tells whether anyone labelled the item (blind annotation)."""
    user = authenticated_user(request)
    if not can_curate(user):
        return refusal(request, ONLY_CURATORS_ADJUDICATE, status=403)
    target, topic = _label_target(topic_slug, comment_id=comment_id, article_id=article_id)

    def change() -> None:
        if request.POST.get("op") == "clear":
            actions.clear_gold(actor=user, **target, topic=topic)
        else:
            stance, note = request.POST.get("stance") or "", request.POST.get("note", "")
            actions.set_gold(actor=user, **target, topic=topic, stance=stance, note=note)

    error, status = _attempt(change)
    if not request.htmx:  # type: ignore[attr-defined]
        if error:
            messages.error(request, error)
        return HttpResponseRedirect(f"{reverse('workspace:adjudicate')}?{request.POST.get('return', '')}")
    row = Consensus.objects.select_related(*ADJUDICATION_RELATED).filter(**item_keys(target), topic=topic).first()
    if row is None:  # nobody labelled it yet: a gold label still makes an item
        raise Http404("nothing to adjudicate here")
    (item,) = _adjudication_items([row])
    return render(
        request,
        "annotations/adjudicate.html#item",
        {**workspace_context(request), "item": item, "error": error},
        status=status,
    )


# --- dashboard ---------------------------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Agreement, stance distributions, progress and a confusion matrix, over every item or (`items=comments`,
    `items=articles`) one kind; an annotator sees their progress."""
    user = authenticated_user(request)
    context = workspace_context(request)
    if not context["sees_all"]:
        return render(
            request,
            "annotations/dashboard.html",
            {
                **context,
                "progress": queries.progress(User.objects.filter(pk=user.pk)),
                "lead_times": queries.lead_times(User.objects.filter(pk=user.pk)),
            },
        )
    items = next((kind for kind in queries.ITEM_SELECTIONS if kind == request.GET.get("items", "all")), None)
    if items is None:
        choices = ", ".join(queries.ITEM_SELECTIONS)
        return HttpResponse(f"items must be one of {choices}", status=400, content_type="text/plain; charset=utf-8")
    topics: list[Topic] = context["topics"]
    reports = [(topic, queries.agreement(topic, items=items)) for topic in topics]
    assignment_settings = ensure_plan()
    to_review = outdated_counts()
    distribution = queries.stance_distribution(items=items).get("all", {})
    by_article = queries.stance_distribution(by_article=True, items=items)
    articles = {article.pk: article for article in Article.objects.only("id", "title").order_by("source")}
    progress_rows = queries.progress()

    annotators = [row.username for row in sorted(progress_rows, key=lambda row: -row.labels)]
    pair_topic = next((t for t in topics if t.slug == request.GET.get("topic")), topics[0] if topics else None)
    first = request.GET.get("a") or (annotators[0] if annotators else "")
    second = request.GET.get("b") or (annotators[1] if len(annotators) > 1 else "")
    confusion = (
        queries.pair_confusion(pair_topic, first, second, items=items) if pair_topic and first and second else None
    )

    return render(
        request,
        "annotations/dashboard.html",
        {
            **context,
            "reports": reports,
            "suggestions": [
                {"topic": topic, "curve": learning_curve(topic), "hints": hint_usage(topic)} for topic in topics
            ],
            "agreement_sample": agreement_sample(Annotation.objects.none(), assignment_settings)[1],
            "summary": assignment_summary(assignment_settings),
            "outdated": [(topic, to_review.get(topic.slug, 0)) for topic in topics],
            "items": items,
            "item_selections": [
                ("all", "every item"),
                ("comments", "comments only"),
                ("articles", "the articles themselves only"),
            ],
            "alpha_chart": charts.interval_chart(
                [
                    (f"{topic.name}{suffix}", summary.alpha, summary.interval)
                    for topic, report in reports
                    for suffix, summary in (
                        ("", report.alpha),
                        (" · about?", report.about_stage.alpha),
                        (" · which stance?", report.stance_stage.alpha),
                    )
                ]
            ),
            "distribution_chart": charts.stacked_bars(
                [(topic.name, distribution.get(topic.slug, {})) for topic in topics], queries.CATEGORIES
            ),
            "distribution": distribution,
            "article_rows": [
                (articles[int(article_id)], counts)
                for article_id, counts in sorted(by_article.items(), key=lambda item: int(item[0]))
                if int(article_id) in articles
            ],
            "categories": queries.CATEGORIES,
            "progress": progress_rows,
            "lead_times": queries.lead_times(),
            "progress_chart": charts.stacked_bars(
                [(row.username, {"done": row.items_done}) for row in progress_rows],
                ["done"],
                scale=progress_rows[0].items if progress_rows else None,
            ),
            "annotators": annotators,
            "pair": {"topic": pair_topic, "a": first, "b": second},
            "confusion": confusion,
            "heatmap": charts.heatmap(confusion["matrix"]) if confusion else None,
        },
    )
