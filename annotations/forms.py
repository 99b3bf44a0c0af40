"""The workspace pages' requests as typed values, and their filter forms as the shared FilterSets render them.

Query parameters that name a place (`at`, `from`, `after`) are forgiving: a value that is not a number means
"not given", as it always has. Posted label edits become a `labels.LabelEdit`; the rules live there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.text import Truncator

from annotations.filters import (
    ARTICLE_RELATION_CHOICES,
    RELATION_CHOICES,
    THREAD_MIX_CHOICES,
    AdjudicationFilter,
    CommentFilter,
    StrictBooleanWidget,
)
from annotations.labels import LabelEdit
from annotations.models import Topic
from annotations.quality.queries import ITEM_SELECTIONS, ItemSelection
from annotations.vocabulary import STANCE_CHOICES, STATUS_CHOICES
from debate.models import Article


class LenientIntegerField(forms.Field):
    """A whole number, or None for anything else (absent, empty, not a number)."""

    def to_python(self, value: Any) -> int | None:
        try:
            return int(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None


def _int(value: object) -> int | None:
    field = LenientIntegerField(required=False)
    return field.to_python(value)


class _Parsed(forms.Form):
    """A form whose fields never fail: `values()` is its cleaned data."""

    def values(self) -> dict[str, Any]:
        self.is_valid()
        return self.cleaned_data


class ThreadWindowForm(_Parsed):
    """Where a page of a thread starts: at the chunk holding comment `at`, at thread position `from`; a chunk
    request's `from` and `start` (the first comment of the page it extends)."""

    at = LenientIntegerField(required=False)
    start = LenientIntegerField(required=False)

    def __init__(self, data: QueryDict) -> None:
        super().__init__(data)
        self.fields["from"] = LenientIntegerField(required=False)  # a keyword, so not a class attribute


class QueueForm(_Parsed):
    """`after=<comment id>` or `after_article=<article id>`: the item the annotator leaves."""

    after = LenientIntegerField(required=False)
    after_article = LenientIntegerField(required=False)


class LabelEditForm:
    """The annotation panel's post: the pressed button `do` says `topic:action[:argument]`; the action is a
    stance, `unsure`, `note` (with `note-<topic>`), `evidence` (with `start` and `end`), `remove` (with the
    evidence's index) or `clear`; `version-<topic>` is the label's version the page showed."""

    def __init__(self, data: QueryDict) -> None:
        self.data = data
        self.topic_slug, _, rest = data.get("do", "").partition(":")
        self.operation, _, self.argument = rest.partition(":")

    def edit(self) -> LabelEdit:
        return LabelEdit(
            operation=self.operation,
            note=self.data.get(f"note-{self.topic_slug}", ""),
            start=_int(self.data.get("start")),
            end=_int(self.data.get("end")),
            index=_int(self.argument),
        )

    def if_match(self) -> frozenset[int] | None:
        version = _int(self.data.get(f"version-{self.topic_slug}"))
        return frozenset({version}) if version is not None else None


class GoldForm(_Parsed):
    """A curator's gold label (`op=clear` withdraws it); `return` is the adjudication page's query."""

    op = forms.CharField(required=False)
    stance = forms.CharField(required=False)
    note = forms.CharField(required=False, strip=False)

    @property
    def clears(self) -> bool:
        return bool(self.values()["op"] == "clear")


class ParentForm(_Parsed):
    """`parent_number`: the comment number this one replies to (`#12` or `12`), or empty for none."""

    parent_number = forms.CharField(required=False)

    def number(self) -> str:
        return str(self.values()["parent_number"]).strip().lstrip("#")


class DashboardForm(forms.Form):
    """Which items the measures read; the topic and the two annotators of the confusion matrix."""

    items = forms.ChoiceField(
        choices=[(kind, kind) for kind in ITEM_SELECTIONS],
        required=False,
        error_messages={"invalid_choice": f"items must be one of {', '.join(ITEM_SELECTIONS)}"},
    )
    topic = forms.CharField(required=False)
    a = forms.CharField(required=False)
    b = forms.CharField(required=False)

    def selection(self) -> ItemSelection:
        chosen = self.cleaned_data["items"] or "all"
        return next(kind for kind in ITEM_SELECTIONS if kind == chosen)


# --- filter forms, rendered from the FilterSets -----------------------------------------------------------


class TrueCheckbox(forms.CheckboxInput):
    """A checkbox that sends `true` and reads its data as the strict boolean filters do (absent: no filter)."""

    def __init__(self) -> None:
        super().__init__(attrs={"value": "true"}, check_test=lambda value: value in ("true", True))

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return StrictBooleanWidget().value_from_datadict(data, files, name)


def _choices(empty: str, choices: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", empty), *choices]


def _article_choices(articles: Iterable[Article]) -> list[tuple[str, str]]:
    return [(str(article.pk), Truncator(article.title).chars(60)) for article in articles]


def show_filters(
    form: forms.Form,
    names: Iterable[str],
    *,
    labels: Mapping[str, str],
    choices: Mapping[str, list[tuple[str, str]]],
    ids: str = "f-%s",
) -> list[forms.BoundField]:
    """The named fields of a FilterSet's form as a page shows them: its own labels, selects with the page's
    choices (rendering only: validation stays the FilterSet's), ids `f-<name>`."""
    form.auto_id = ids
    for name, options in choices.items():
        form.fields[name].widget = forms.Select(choices=options)
    shown = [form[name] for name in names]
    for field in shown:  # bound fields: validation has made them already, with the filters' own labels
        field.label = labels.get(field.name, field.label)
        field.help_text = ""  # the API documents the filters; the bar shows none
    return shown


BROWSE_LABELS = {
    "topic": "Topic",
    "annotator": "Labelled by",
    "status": "Consensus status",
    "relation": "Reply to parent",
    "relation_to_article": "Answer to the article",
    "thread_mix": "Thread",
    "both_sides": "Author takes both sides",
    "outdated": "Labelled under older guidelines",
    "article": "Article",
    "author": "Author",
    "search": "Text",
}
CONSENSUS_FILTERS = ("annotator", "status", "relation", "relation_to_article", "thread_mix", "both_sides")


def browse_filters(
    filterset: CommentFilter,
    *,
    sees_all: bool,
    topics: list[Topic],
    annotators: list[str],
    articles: Iterable[Article],
) -> list[forms.BoundField]:
    """The browse page's filters: consensus-derived ones only for those who may see consensus; an
    annotator's stance filter means their own labels."""
    form = filterset.form
    for name in ("both_sides", "outdated"):
        form.fields[name].widget = TrueCheckbox()
    form.fields["author"].widget = forms.TextInput(attrs={"placeholder": "exact name"})
    form.fields["search"].widget = forms.SearchInput(attrs={"placeholder": "words to find"})
    names = ["topic", "stance", *(CONSENSUS_FILTERS if sees_all else ()), "outdated", "article", "author", "search"]
    return show_filters(
        form,
        names,
        labels={**BROWSE_LABELS, "stance": "Stance" if sees_all else "Stance (mine)"},
        choices={
            "topic": _choices("any", ((topic.slug, topic.name) for topic in topics)),
            "stance": _choices("any", STANCE_CHOICES),
            "annotator": _choices("consensus", ((name, name) for name in annotators)),
            "status": _choices("any", STATUS_CHOICES),
            "relation": _choices("any", RELATION_CHOICES),
            "relation_to_article": _choices("any", ARTICLE_RELATION_CHOICES),
            "thread_mix": _choices("any", THREAD_MIX_CHOICES),
            "article": _choices("any", _article_choices(articles)),
        },
    )


def adjudication_filters(
    filterset: AdjudicationFilter, *, topics: list[Topic], articles: Iterable[Article]
) -> list[forms.BoundField]:
    return show_filters(
        filterset.form,
        ["status", "topic", "article"],
        labels={"status": "Consensus", "topic": "Topic", "article": "Article"},
        choices={
            "status": [("any", "any"), *STATUS_CHOICES],
            "topic": _choices("any", ((topic.slug, topic.name) for topic in topics)),
            "article": _choices("any", _article_choices(articles)),
        },
        ids="a-%s",
    )
