"""Template helpers for the workspace pages."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe

from annotations import vocabulary
from debate.rendering import Block, body_blocks

register = template.Library()


def _same_site_sources_only(tag: str, attribute: str, value: str) -> str | None:
    """Images may come from this site only: a source with a scheme or a host of its own is dropped, so that
    reading the guidelines tells no other server who read them, and when (the CSP refuses such loads too).
    Read as a browser would: tabs and line breaks removed, backslashes as slashes, each srcset candidate."""
    if attribute not in {"src", "srcset"}:
        return value
    cleaned = re.sub(r"[\t\n\r]", "", value).replace("\\", "/")
    candidates = cleaned.split(",") if attribute == "srcset" else [cleaned]
    for candidate in candidates:
        url = (candidate.split() or [""])[0]
        if url.startswith("//") or urlsplit(url).scheme:
            return None
    return value


@register.filter
def markdown(text: str) -> SafeString:
    """Guidelines are written by admins in Markdown; the HTML is still sanitised before it reaches a page."""
    html = markdown_lib.markdown(text or "", extensions=["extra", "sane_lists"])
    return mark_safe(nh3.clean(html, attribute_filter=_same_site_sources_only))  # noqa: S308 - sanitised by nh3


@register.filter
def blocks(comment: Any) -> list[Block]:
    """The body of a comment, or of an article (which quotes nothing), as blocks of segments."""
    return body_blocks(comment.body, getattr(comment, "quoted_spans", ()))


@register.filter
def stance_label(value: str | None) -> str:
    """`not_about` -> `not about`; the display names of the stances, lower-cased."""
    return vocabulary.stance_label(value)


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


@register.filter
def label_state(label: Any) -> str:
    """A label as the workspace script keeps it (`data-label`): the values a PUT sends back, and the version
    its If-Match names. Autoescaped in the attribute, read with JSON.parse."""
    if label is None:
        return ""
    return json.dumps(
        {
            "stance": label.stance,
            "unsure": label.unsure,
            "confidence": label.confidence,
            "note": label.note,
            "evidence": list(label.evidence or []),
            "version": label.version,
        },
        ensure_ascii=False,
    )
