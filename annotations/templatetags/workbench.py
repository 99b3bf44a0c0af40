"""Template helpers for the workspace pages."""

from __future__ import annotations

from typing import Any

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe

from debate.rendering import Block, body_blocks

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    """Guidelines are written by admins in Markdown; the HTML is still sanitised before it reaches a page."""
    html = markdown_lib.markdown(text or "", extensions=["extra", "sane_lists"])
    return mark_safe(nh3.clean(html))


@register.filter
def blocks(comment: Any) -> list[Block]:
    """The body of a comment, or of an article (which quotes nothing), as blocks of segments."""
    return body_blocks(comment.body, getattr(comment, "quoted_spans", ()))


@register.filter
def stance_label(value: str | None) -> str:
    """`not_about` -> `not about`; the display names of the Stance choices, lower-cased."""
    from annotations.models import Stance

    return str(Stance(value).label).lower() if value in Stance.values else (value or "")


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """`mapping[key]` for dicts and sequences; None when absent."""
    try:
        return mapping[key]
    except (KeyError, IndexError, TypeError):
        return None


@register.filter
def percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0
