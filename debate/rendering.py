"""How a comment body is laid out on a page. Pure: no Django.

A body is paragraphs separated by blank lines, each of one or more lines. Every line becomes a segment that
knows where it starts in the body, counted in code points as Python counts them, so that the browser can
turn a text selection into body offsets. Lines that quote earlier text (`Comment.quoted_spans`) are grouped
into quote blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Segment:
    start: int  # code-point offset of the line in the body
    text: str


@dataclass
class Block:
    quote: bool
    source: int | None = None  # number of the quoted comment; None for the article or plain text
    quotes_article: bool = False
    lines: list[Segment] = field(default_factory=list)


def body_blocks(body: str, quoted_spans: Iterable[Mapping[str, Any]] = ()) -> list[Block]:
    """Paragraph-sized blocks of lines; consecutive quoted lines of one paragraph form a quote block."""
    spans = [(int(span["start"]), int(span["end"]), span.get("source")) for span in quoted_spans]
    blocks: list[Block] = []
    for paragraph in re.finditer(r"[^\n]+(?:\n[^\n]+)*", body):
        current: Block | None = None
        for line in re.finditer(r"[^\n]+", paragraph.group()):
            start = paragraph.start() + line.start()
            end = paragraph.start() + line.end()
            quoting = next(((s, e, src) for s, e, src in spans if s <= start and end <= e), None)
            quote = quoting is not None
            source = quoting[2] if quoting else None
            if current is None or current.quote != quote or current.source != source:
                current = Block(
                    quote=quote,
                    source=source if isinstance(source, int) else None,
                    quotes_article=quote and source is None,
                )
                blocks.append(current)
            current.lines.append(Segment(start=start, text=line.group()))
    return blocks
