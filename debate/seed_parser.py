"""Parse the seed format: a news article or op-ed, optionally followed by a numbered comment section.

The layout, as the seed files show it::

    Title line                       (may be missing: then a title is derived from the first sentence)

    Optional one-line subtitle

    Body paragraphs, possibly quoting another outlet ...

    FILED UNDER: Tag, Other tag, , ,
    Author Name
    About Author Name
    Author bio ...

      1. Commenter says:             (two spaces of indentation)

        Comment body                 (four spaces of indentation)

      2. The header may lack "says:" (no author); its text is then the body's first line.

    Speak Your Mind                  (page chrome: any unindented line in the comment section)

Text is kept as written: bodies lose only their indentation and trailing whitespace, and runs of blank
lines collapse to one paragraph break. No Unicode normalisation is applied, so offsets into a body stay
valid against the file; matching code normalises for itself.

Pure: no Django, no I/O. `parse_document` either returns a `ParsedDocument` or raises `SeedFormatError`
with a one-line message; nothing else escapes it, whatever the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "ParsedComment",
    "ParsedDocument",
    "SeedFormatError",
    "decode_document",
    "derive_title",
    "parse_document",
]

MAX_TITLE_LENGTH = 200
DERIVED_TITLE_WORDS = 12
DERIVED_TITLE_CHARS = 90
# A "says:" header with a longer "name" is a sentence, not a name (and would not fit Author.name).
MAX_AUTHOR_LENGTH = 200

_HEADER = re.compile(r"^ {1,3}(?P<number>[0-9]{1,9})\.(?:[ \t]+(?P<rest>.*?))?[ \t]*$")
_SAYS = re.compile(r"^(?P<name>.*?\S)[ \t]+says:$")
_FILED_UNDER = re.compile(r"^FILED UNDER:(?P<tags>.*)$", re.IGNORECASE)
_ABOUT = re.compile(r"^About (?P<name>\S.*?)$")
_BODY_INDENT = "    "
# Characters other than tab, line feed and form feed that have no business in a text document.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# Abbreviations whose final dot does not end a sentence.
_ABBREVIATION = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Sr|Jr|Gen|Col|Lt|Sgt|Prof|Rep|Sen|Gov|vs|etc|No)|\b\w)\.$")


class SeedFormatError(ValueError):
    """The document cannot be imported; the message says why in one line."""


@dataclass(frozen=True)
class ParsedComment:
    number: int
    author: str | None
    body: str
    line: int  # 1-based line of the comment's header, for messages
    # Thread data (JSONL/CSV, `debate.thread_data`) knows more: the comment's own id, when it was posted and,
    # as an index into the document's comments (always earlier), the comment it answers.
    external_id: str = ""
    posted_at: datetime | None = None
    given_parent: int | None = None


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    title_derived: bool
    subtitle: str
    body: str
    tags: tuple[str, ...]
    author: str | None
    author_bio: str
    comments: tuple[ParsedComment, ...]
    # Lines dropped as page chrome ("Speak Your Mind"), with their 1-based line numbers.
    ignored_lines: tuple[tuple[int, str], ...] = field(default=())
    # True for thread data whose parents are given (`ParsedComment.given_parent`), not to be reconstructed.
    given_structure: bool = False


def decode_document(data: bytes) -> str:
    """Bytes of a seed file as text: UTF-8 (BOM optional), any line ends, as `\\n`-separated lines."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SeedFormatError(
            f"not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start} cannot be decoded)"
        ) from None
    if not text.strip():
        raise SeedFormatError("empty file")
    return _unix_line_ends(text)


def _unix_line_ends(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_document(text: str, progress: Callable[[int, int], None] | None = None) -> ParsedDocument:
    """Parse one document's text; raises SeedFormatError for anything that is not a document.

    `progress(lines_read, lines)` is called every 4,096 lines of the comment section, for long files."""
    text = _unix_line_ends(text.removeprefix("\ufeff"))
    if not text.strip():
        raise SeedFormatError("empty file")
    control = _CONTROL.search(text)
    if control:
        line_number = text.count("\n", 0, control.start()) + 1
        raise SeedFormatError(
            f"binary data, not text (control character U+{ord(control.group()):04X} on line {line_number})"
        )
    lines = [line.rstrip() for line in text.split("\n")]

    start = _comment_section_start(lines)
    article_lines = lines if start is None else lines[:start]
    comments, ignored = ([], []) if start is None else _parse_comments(lines, start, progress)
    title, title_derived, subtitle, body, tags, author, bio = _parse_article(article_lines)

    if not body and not comments:
        raise SeedFormatError("no article body and no comments")
    return ParsedDocument(
        title=title,
        title_derived=title_derived,
        subtitle=subtitle,
        body=body,
        tags=tuple(tags),
        author=author,
        author_bio=bio,
        comments=tuple(comments),
        ignored_lines=tuple(ignored),
    )


def _comment_section_start(lines: list[str]) -> int | None:
    """Index of the first comment header, or None when the document has no comment section.

    A header is a line indented one to three spaces, starting with a number and a dot. To tell it from
    an indented list in the article, it must either end in "says:" or be followed by body text indented
    four spaces.
    """
    # Index of the next non-blank line after each line, built backwards so the scan stays linear even for
    # a long article full of numbered lines.
    next_text = [len(lines)] * (len(lines) + 1)
    for index in range(len(lines) - 1, -1, -1):
        next_text[index] = index + 1 if index + 1 < len(lines) and lines[index + 1].strip() else next_text[index + 1]
    for index, line in enumerate(lines):
        match = _HEADER.match(line)
        if not match:
            continue
        if _author_of(match.group("rest") or "") is not None:
            return index
        following = next_text[index]
        if following < len(lines) and lines[following].startswith(_BODY_INDENT):
            return index
    return None


def _author_of(header_rest: str) -> str | None:
    """The commenter's name when a header's text is "NAME says:", else None."""
    says = _SAYS.match(header_rest)
    if says is None:
        return None
    name = _clean_name(says.group("name"))
    return name if len(name) <= MAX_AUTHOR_LENGTH else None


def _parse_comments(
    lines: list[str], start: int, progress: Callable[[int, int], None] | None = None
) -> tuple[list[ParsedComment], list[tuple[int, str]]]:
    comments: list[ParsedComment] = []
    ignored: list[tuple[int, str]] = []
    seen_on_line: dict[int, int] = {}
    header: tuple[int, str | None, int] | None = None  # number, author, line
    body_lines: list[str] = []

    def flush() -> None:
        if header is not None:
            number, author, line_number = header
            comments.append(ParsedComment(number=number, author=author, body=_join_body(body_lines), line=line_number))

    for index in range(start, len(lines)):
        line = lines[index]
        line_number = index + 1
        if progress is not None and index % 4096 == 0:
            progress(index, len(lines))
        match = _HEADER.match(line)
        if match and not line.startswith(_BODY_INDENT):
            rest = match.group("rest") or ""
            author = _author_of(rest)
            number = int(match.group("number"))
            # Without "says:", a numbered line is a header only if it continues the numbering; otherwise it
            # is an item of a list that lost its indentation, and belongs to the current body.
            if author is not None or header is None or number > header[0]:
                flush()
                if number in seen_on_line:
                    raise SeedFormatError(
                        f"duplicate comment number {number} (lines {seen_on_line[number]} and {line_number})"
                    )
                seen_on_line[number] = line_number
                header = (number, author, line_number)
                body_lines = [] if author is not None else [rest]
                continue
        if not line.strip():
            body_lines.append("")
        elif line.startswith(_BODY_INDENT):
            body_lines.append(line[len(_BODY_INDENT) :])
        elif line.startswith(" ") and header is not None:
            # Under-indented continuation of a body: keep the text, drop the stray indentation.
            body_lines.append(line.lstrip(" "))
        else:
            ignored.append((line_number, line))
    flush()
    return comments, ignored


def _join_body(body_lines: list[str]) -> str:
    """Paragraphs separated by one blank line; runs of blank lines (lost links, images) collapse."""
    paragraphs: list[list[str]] = [[]]
    for line in body_lines:
        if line.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return "\n\n".join("\n".join(paragraph) for paragraph in paragraphs if paragraph)


def _clean_name(name: str) -> str:
    return " ".join(name.split())


def _parse_article(
    lines: list[str],
) -> tuple[str, bool, str, str, list[str], str | None, str]:
    lines = _strip_blank_edges(lines)
    tags: list[str] = []
    author: str | None = None
    bio = ""

    filed_under = next((i for i, line in enumerate(lines) if _FILED_UNDER.match(line)), None)
    author_at = _author_block(lines, after=filed_under)
    end = len(lines)
    if filed_under is not None:
        match = _FILED_UNDER.match(lines[filed_under])
        tags = [tag.strip() for tag in match.group("tags").split(",") if tag.strip()] if match else []
        end = filed_under
    if author_at is not None:
        author = _clean_name(lines[author_at])
        bio_lines = _strip_blank_edges(lines[author_at + 2 :])
        bio = "\n".join(bio_lines)
        end = min(end, author_at)
    content = _strip_blank_edges(lines[:end])

    title, title_derived, subtitle = "", False, ""
    if content and _is_title(content):
        title = content[0].strip()
        content = _strip_blank_edges(content[1:])
        if _is_subtitle(content):
            subtitle = content[0].strip()
            content = _strip_blank_edges(content[1:])
    body = "\n".join(content)
    if not title:
        title_derived = True
        title = derive_title(body)
    return title, title_derived, subtitle, body, tags, author, bio


def _author_block(lines: list[str], after: int | None) -> int | None:
    """Index of the author's name line: a line followed by "About <that name>"."""
    first = 0 if after is None else after + 1
    for index in range(max(first, 1), len(lines)):
        match = _ABOUT.match(lines[index])
        if match and _clean_name(match.group("name")) == _clean_name(lines[index - 1]) and lines[index - 1].strip():
            return index - 1
    return None


def _is_title(content: list[str]) -> bool:
    """A headline: a short first line, standing alone, not ending like a sentence of prose."""
    first = content[0].strip()
    stands_alone = len(content) == 1 or not content[1].strip()
    return stands_alone and len(first) <= MAX_TITLE_LENGTH and not first.endswith((".", ",", ";", ":"))


def _is_subtitle(content: list[str]) -> bool:
    """A one-line standfirst directly under the title, with more text after it."""
    if len(content) < 3 or content[1].strip():
        return False
    first = content[0].strip()
    return len(first) <= 160 and len(first.split()) <= 25 and not first.endswith(":")


def derive_title(body: str) -> str:
    """A short title from the body's first sentence, shortened at a word boundary."""
    text = " ".join(body.split())
    if not text:
        return "Untitled"
    sentence = _first_sentence(text)
    words = sentence.split()
    if len(words) <= DERIVED_TITLE_WORDS and len(sentence) <= DERIVED_TITLE_CHARS:
        return sentence.rstrip(".")
    shortened: list[str] = []
    for word in words[:DERIVED_TITLE_WORDS]:
        if len(" ".join([*shortened, word])) > DERIVED_TITLE_CHARS - 1:
            break
        shortened.append(word)
    if not shortened:  # one enormous word
        return sentence[: DERIVED_TITLE_CHARS - 1] + "…"
    return " ".join(shortened).rstrip(",;:.-–—") + "…"


def _first_sentence(text: str) -> str:
    for match in re.finditer(r"[.!?](?=\s+[\"“‘'(\[]?[A-Z0-9])", text):
        candidate = text[: match.end()]
        if match.group() == "." and _ABBREVIATION.search(candidate):
            continue
        return candidate
    return text


def _strip_blank_edges(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]
