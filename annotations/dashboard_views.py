"""The quality dashboard: agreement, stance distributions, progress and a confusion matrix."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from annotations import page_queries
from annotations.assignment.actions import ensure_plan
from annotations.assignment.queries import agreement_sample, assignment_summary
from annotations.forms import DashboardForm
from annotations.guidelines import outdated_counts
from annotations.htmx import HtmxHttpRequest
from annotations.models import Annotation, Topic
from annotations.quality import charts, queries
from annotations.suggestions.queries import hint_usage, learning_curve
from annotations.views import workspace_context
from debate.roles import authenticated_user


@login_required
@require_GET
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    """Agreement, stance distributions, progress and a confusion matrix, over every item or (`items=comments`,
    `items=articles`) one kind; an annotator sees their progress."""
    user = authenticated_user(request)
    context = workspace_context(request)
    if not context["sees_all"]:
        mine = page_queries.only(user)
        return render(
            request,
            "annotations/dashboard.html",
            {**context, "progress": queries.progress(mine), "lead_times": queries.lead_times(mine)},
        )
    form = DashboardForm(request.GET)
    if not form.is_valid():
        return HttpResponse(
            " ".join(map(str, form.errors["items"])), status=400, content_type="text/plain; charset=utf-8"
        )
    items = form.selection()
    topics: list[Topic] = context["topics"]
    reports = [(topic, queries.agreement(topic, items=items)) for topic in topics]
    assignment_settings = ensure_plan()
    to_review = outdated_counts()
    distribution = queries.stance_distribution(items=items).get("all", {})
    by_article = queries.stance_distribution(by_article=True, items=items)
    articles = {article.pk: article for article in page_queries.article_choices()}
    progress_rows = queries.progress()

    annotators = [row.username for row in sorted(progress_rows, key=lambda row: -row.labels)]
    chosen = form.cleaned_data
    pair_topic = next((t for t in topics if t.slug == chosen["topic"]), topics[0] if topics else None)
    first = chosen["a"] or (annotators[0] if annotators else "")
    second = chosen["b"] or (annotators[1] if len(annotators) > 1 else "")
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
