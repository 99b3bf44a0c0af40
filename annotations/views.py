"""The browser workspace: articles, threads with annotation panels, the queue and browse pages.

Each view parses its request (`annotations.forms`, the shared FilterSets), asks one query module or action
(`annotations.page_queries`, the QuerySets, `annotations.actions`: the same functions the API uses) and
presents the answer (`annotations.presenters`). Pages render whole; htmx requests get the named partial alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from annotations import actions, page_queries, presenters
from annotations.assignment.queries import (
    next_unfinished,
    qualification_feedback,
    queue_for,
    queue_position,
    serves_everything,
)
from annotations.filters import AdjudicationFilter, CommentFilter
from annotations.forms import (
    GoldForm,
    LabelEditForm,
    ParentForm,
    QueueForm,
    ThreadWindowForm,
    adjudication_filters,
    browse_filters,
)
from annotations.guidelines import acknowledge_guidelines, changes_for
from annotations.htmx import HtmxHttpRequest, refusal, vary_on_htmx
from annotations.models import Topic
from annotations.permissions import ONLY_CURATORS_ADJUDICATE, can_curate, role_flags, sees_all_labels
from annotations.quality import queries
from annotations.suggestions.queries import hint_state
from annotations.vocabulary import STANCE_CHOICES, STANCE_VALUES
from debate.errors import message_for, status_for
from debate.models import Article, Comment
from debate.roles import authenticated_user

BROWSE_PAGE_SIZE = 25
ADJUDICATION_PAGE_SIZE = 20
THREAD_CHUNK = 50  # comments rendered per request; the rest of a long thread loads as the reader scrolls


def attempt(write: Callable[[], object]) -> tuple[str | None, int]:
    """Run a write; a refusal becomes a one-line message and the status the API would answer with."""
    try:
        write()
    except Exception as refused:
        status = status_for(refused)
        if status is None:
            raise
        return message_for(refused), status
    return None, 200


def workspace_context(request: HtmxHttpRequest) -> dict[str, Any]:
    """Topics and stance buttons, plus the role flags the views decide with (templates get them too, from
    the `roles` context processor)."""
    return {
        "topics": list(Topic.objects.active()),
        "stance_choices": [(value, label, presenters.STANCE_KEYS[value]) for value, label in STANCE_CHOICES],
        **role_flags(authenticated_user(request)),
    }


# --- articles ----------------------------------------------------------------------------------------


@login_required
@require_GET
def article_list(request: HtmxHttpRequest) -> HttpResponse:
    """Articles with comment counts and, per topic, the article's own stance, its comments' stance mix and the
    user's progress over the article's items (the article itself and its comments)."""
    user = authenticated_user(request)
    context = workspace_context(request)
    mine = queries.stance_distribution(by_article=True, items="comments", annotator=user)
    # Blind annotation: an annotator's bars show their own labels only.
    mix = queries.stance_distribution(by_article=True, items="comments") if context["sees_all"] else mine
    articles = presenters.article_summaries(
        page_queries.article_listing(user), context["topics"], sees_all=context["sees_all"], mix=mix, mine=mine
    )
    return render(request, "annotations/article_list.html", {**context, "articles": articles})


def _chunk(request: HtmxHttpRequest, article: Article, start: int, window_start: int) -> dict[str, Any]:
    """The comments of one chunk of a thread, in thread order, and where the next chunk starts."""
    user = authenticated_user(request)
    context = workspace_context(request)
    comments = page_queries.thread_comments(user, article, start, THREAD_CHUNK)
    following = start + THREAD_CHUNK
    # Thread orders run from 0 to the number of comments - 1, so the count says whether a chunk follows.
    more = following < getattr(article, "comment_count", 0)
    return {
        **context,
        "article": presenters.article_card(article, context["topics"], user),
        "comments": presenters.comment_cards(comments, context["topics"], user, window_start=window_start, hints=True),
        "window_start": window_start,
        "next_start": following if more else None,
    }


def _window_start(request: HtmxHttpRequest, article: Article) -> int:
    """Where a page of the thread starts: at the chunk holding comment `at`, at thread position `from`, or at
    the beginning."""
    window = ThreadWindowForm(request.GET).values()
    if window["at"] is not None:
        order = Comment.objects.thread_order_of(window["at"], article)
        if order is not None:
            return order // THREAD_CHUNK * THREAD_CHUNK
    return max(window["from"] or 0, 0) // THREAD_CHUNK * THREAD_CHUNK


@login_required
@require_GET
def thread(request: HtmxHttpRequest, article_id: int) -> HttpResponse:
    """An article and its comments as a reply tree, each with its annotation panel. Long threads come in
    chunks: the next one loads when the reader reaches it (or follows a link, without JavaScript)."""
    article = get_object_or_404(page_queries.threads(), pk=article_id)
    start = _window_start(request, article)
    context = _chunk(request, article, start, window_start=start)
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
def thread_chunk(request: HtmxHttpRequest, article_id: int) -> HttpResponse:
    """The next comments of a thread, for the page to append."""
    article = get_object_or_404(page_queries.threads(), pk=article_id)
    window = ThreadWindowForm(request.GET).values()
    start, window_start = max(window["from"] or 0, 0), max(window["start"] or 0, 0)
    return render(request, "annotations/thread.html#chunk", _chunk(request, article, start, window_start))


# --- writes --------------------------------------------------------------------------------------------


@login_required
@require_POST
@vary_on_htmx
def label_write(request: HtmxHttpRequest, comment_id: int | None = None, article_id: int | None = None) -> HttpResponse:
    """Change the user's label on one topic of a comment (or, with `article_id`, of the article itself); answers
    with the item's re-rendered panel. The panel is one form; the button pressed says what to do
    (`annotations.forms.LabelEditForm`)."""
    user = authenticated_user(request)
    form = LabelEditForm(request.POST)
    target = page_queries.label_target(form.topic_slug, comment_id=comment_id, article_id=article_id)
    topic, item = target.topic, target.item
    error, status = attempt(
        lambda: actions.edit_stance(
            actor=user,
            topic=topic,
            comment=target.comment,
            article=target.article,
            edit=form.edit(),
            if_match=form.if_match(),
        )
    )
    errors = {topic.slug: error} if error else None
    thread_url = reverse("workspace:thread", args=[item.article_id])
    if item.comment is None:
        if not request.htmx:
            if error:
                messages.error(request, f"The article, {topic.name}: {error}")
            return HttpResponseRedirect(f"{thread_url}#a{item.article_id}")
        return render_article_panel(request, item.article_id, errors, status=status)
    if not request.htmx:
        if error:
            messages.error(request, f"#{item.comment.number}, {topic.name}: {error}")
        return HttpResponseRedirect(f"{thread_url}?at={item.comment.pk}#c{item.comment.pk}")
    return render_panel(request, item.comment.pk, errors, status=status)


def render_article_panel(
    request: HtmxHttpRequest, article_id: int, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    """The article's own panel, as `render_panel` answers for a comment's."""
    context = workspace_context(request)
    article = get_object_or_404(Article, pk=article_id)
    card = presenters.article_card(article, context["topics"], authenticated_user(request), errors)
    return render(request, "annotations/_comment.html#panel", {**context, "comment": card}, status=status)


def render_panel(
    request: HtmxHttpRequest, comment_id: int, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    user = authenticated_user(request)
    context = workspace_context(request)
    comment = page_queries.comment_for(user, comment_id)
    (card,) = presenters.comment_cards([comment], context["topics"], user, hints=True, errors=errors)
    return render(request, "annotations/_comment.html#panel", {**context, "comment": card}, status=status)


@login_required
@require_POST
def parent_write(request: HtmxHttpRequest, comment_id: int) -> HttpResponse:
    """A curator answers "this replies to #N" (or to nothing) for a comment. A refusal, for htmx, is a fragment
    shown at the comment's form (where the curator is looking); otherwise a message at the top."""
    user = authenticated_user(request)
    comment = get_object_or_404(Comment, pk=comment_id)
    number = ParentForm(request.POST).number()
    written: list[actions.ParentWrite] = []
    error, status = attempt(
        lambda: written.append(actions.set_parent_number(actor=user, comment=comment, number=number))
    )
    if error and request.htmx:
        return render(request, "_refusal.html", {"message": error}, status=status)
    if error:
        messages.error(request, error)
    else:
        parent = written[0].comment.parent
        messages.success(request, f"#{comment.number} now replies to {f'#{parent.number}' if parent else 'nothing'}.")
    target = f"{reverse('workspace:thread', args=[comment.article_id])}?at={comment.pk}#c{comment.pk}"
    if request.htmx:
        return HttpResponseClientRedirect(target)
    return HttpResponseRedirect(target)


# --- queue ---------------------------------------------------------------------------------------------


@login_required
@require_GET
def queue(request: HtmxHttpRequest) -> HttpResponse:
    """The next item the user has not labelled on every active topic, with its context and progress. Items come
    article by article: the article itself first, then its comments in thread order. `after=<comment id>` or
    `after_article=<article id>` skips to the next unfinished item after that one, wrapping around."""
    user = authenticated_user(request)
    context = workspace_context(request)
    if not context["can_annotate"]:
        raise PermissionDenied("your role does not annotate")
    after = QueueForm(request.GET).values()
    # What the queue holds: every item, articles first (the default), or, for an annotator while work is
    # assigned, their assignments or their qualification items (`annotations.assignment.queries`).
    everything, assignment_settings = serves_everything(user)
    hints = hint_state(user, assignment_settings)  # the suggestion settings, for annotators only
    article_id, comment_id = None, None
    if everything:
        queue_state, queue_message = "all", ""
        position = queue_position(comment_id=after["after"], article_id=after["after_article"])
        open_queue = next_unfinished(user, after=position)
        article_id, comment_id = open_queue.article_id, open_queue.comment_id
        total, remaining = open_queue.total, open_queue.remaining
    else:
        state = queue_for(user, after=after["after"], settings=assignment_settings, steering=hints.settings)
        queue_state, queue_message = state.selection.state, state.selection.message
        comment_id, total, remaining = state.next_id, state.total, state.remaining
    card = article = None
    ancestors: list[Comment] = []
    if comment_id is not None:
        comment = page_queries.comment_for(user, comment_id)
        (card,) = presenters.comment_cards([comment], context["topics"], user, hints=hints if hints.on else False)
        ancestors = list(Comment.objects.ancestors_of(comment))
    elif article_id is not None:
        article = presenters.article_card(
            get_object_or_404(page_queries.threads(), pk=article_id), context["topics"], user
        )
    return render(
        request,
        "annotations/queue.html",
        {
            **context,
            "comment": card,
            "article": article,
            "ancestors": ancestors,
            "total": total,
            "done": total - remaining,
            "percent": round(100 * (total - remaining) / total) if total else 100,
            "queue_state": queue_state,
            "queue_message": queue_message,
            "feedback": qualification_feedback(user, after["after"]) if after["after"] is not None else None,
            "guideline_changes": changes_for(user, context["topics"]),
            "hints": hints,
        },
    )


@login_required
@require_POST
def guidelines_seen(request: HtmxHttpRequest) -> HttpResponse:
    """The annotator has read what changed in the guidelines of the active topics."""
    acknowledge_guidelines(annotator=authenticated_user(request), topics=list(Topic.objects.active()))
    return HttpResponseRedirect(reverse("workspace:queue"))


# --- browse --------------------------------------------------------------------------------------------


def browse_params(request: HtmxHttpRequest) -> QueryDict:
    """The filters as the shared FilterSet reads them. An annotator's stance filter means their own labels:
    blind annotation forbids them the consensus."""
    params = request.GET.copy()
    user = authenticated_user(request)
    if not sees_all_labels(user) and (params.get("stance") or params.get("topic")):
        params["annotator"] = user.get_username()
        params.pop("status", None)
    return params


def _query_without_page(request: HtmxHttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
@require_GET
@vary_on_htmx
def browse(request: HtmxHttpRequest) -> HttpResponse:
    """Comments filtered by labels, article, author, status and text; each shown with its parent."""
    user = authenticated_user(request)
    context = workspace_context(request)
    queryset = page_queries.browse_rows(user)
    filterset = CommentFilter(browse_params(request), queryset=queryset, request=request)
    page, cards = None, []
    if filterset.is_valid():
        page = Paginator(filterset.qs, BROWSE_PAGE_SIZE).get_page(request.GET.get("page"))
        cards = presenters.comment_cards(list(page.object_list), context["topics"], user, hints=True)
    fields = browse_filters(
        filterset,
        sees_all=context["sees_all"],
        topics=context["topics"],
        annotators=page_queries.annotator_names() if context["sees_all"] else [],
        articles=page_queries.article_choices(),
    )
    template = "annotations/browse.html#results" if request.htmx else "annotations/browse.html"
    return render(
        request,
        template,
        {
            **context,
            "filterset": filterset,
            "fields": fields,
            "page": page,
            "cards": cards,
            "query": _query_without_page(request),
        },
        status=200 if filterset.is_valid() else 400,
    )


# --- adjudication ------------------------------------------------------------------------------------


def _adjudication_items(rows: list[Any]) -> list[presenters.AdjudicationItem]:
    labels, gold = page_queries.labels_and_gold(rows)
    return presenters.adjudication_items(rows, labels, gold)


@login_required
@require_GET
@vary_on_htmx
def adjudicate(request: HtmxHttpRequest) -> HttpResponse:
    """The disagreement queue: every annotator's label, note and evidence side by side, and the gold form."""
    user = authenticated_user(request)
    if not can_curate(user):
        raise PermissionDenied(ONLY_CURATORS_ADJUDICATE)
    context = workspace_context(request)
    filterset = AdjudicationFilter(request.GET, request=request)
    if not filterset.is_valid():
        problems = " ".join(" ".join(errors) for errors in filterset.errors.values())
        return HttpResponse(problems, status=400, content_type="text/plain; charset=utf-8")
    page = Paginator(filterset.qs, ADJUDICATION_PAGE_SIZE).get_page(request.GET.get("page"))
    fields = adjudication_filters(filterset, topics=context["topics"], articles=page_queries.article_choices())
    return render(
        request,
        "annotations/adjudicate.html",
        {
            **context,
            "page": page,
            "items": _adjudication_items(list(page.object_list)),
            "fields": fields,
            "query": _query_without_page(request),
        },
    )


@login_required
@require_POST
@vary_on_htmx
def gold_write(
    request: HtmxHttpRequest, topic_slug: str, comment_id: int | None = None, article_id: int | None = None
) -> HttpResponse:
    """Set or withdraw the gold label of one item (a comment, or with `article_id` the article itself);
    answers with the item re-rendered.

    The role is checked before anything is read: the item shows every annotator's label, and even whether it
    exists tells whether anyone labelled the item (blind annotation)."""
    user = authenticated_user(request)
    if not can_curate(user):
        return refusal(request, ONLY_CURATORS_ADJUDICATE, status=403)
    target = page_queries.label_target(topic_slug, comment_id=comment_id, article_id=article_id)
    form = GoldForm(request.POST)
    comment, article, topic = target.comment, target.article, target.topic

    def change() -> object:
        if form.clears:
            return actions.clear_gold(actor=user, comment=comment, article=article, topic=topic)
        values = form.values()
        return actions.set_gold(
            actor=user, comment=comment, article=article, topic=topic, stance=values["stance"], note=values["note"]
        )

    error, status = attempt(change)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return HttpResponseRedirect(f"{reverse('workspace:adjudicate')}?{request.POST.get('return', '')}")
    row = page_queries.adjudication_row(target)
    if row is None:  # nobody labelled it yet: a gold label still makes an item
        raise Http404("nothing to adjudicate here")
    (adjudication_item,) = _adjudication_items([row])
    return render(
        request,
        "annotations/adjudicate.html#item",
        {**workspace_context(request), "item": adjudication_item, "error": error},
        status=status,
    )
