"""The seed format parser: the five seed files, every rule of the format, and property tests.

Pure: no database, no Django.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from debate.seed_parser import (
    DERIVED_TITLE_CHARS,
    MAX_AUTHOR_LENGTH,
    ParsedDocument,
    SeedFormatError,
    decode_document,
    derive_title,
    parse_document,
)

SEEDS = Path(__file__).resolve().parents[2] / "fixtures" / "seeds"
ARTICLE = "A Title\n\nA short standfirst.\n\nThe article body, one paragraph.\n\n"


def seed(name: str) -> ParsedDocument:
    (path,) = SEEDS.glob(f"{name}_*.txt")
    return parse_document(decode_document(path.read_bytes()))


def parse(text: str) -> ParsedDocument:
    return parse_document(text)


def comments_of(text: str) -> list[tuple[int, str | None, str]]:
    return [(comment.number, comment.author, comment.body) for comment in parse(text).comments]


# --- The seed files ---------------------------------------------------------------------------------------


def test_seed_000_article_parts() -> None:
    document = seed("000")
    assert document.title == "US Considering Sending Banned Weapons to Ukraine"
    assert not document.title_derived
    assert document.subtitle == "A bad idea fueled by desperation."
    assert document.body.startswith("NYT (“Biden Weighs Giving Ukraine Weapons Banned by Many U.S. Allies“):\n\n")
    assert document.body.endswith("It would be foolish to squander those gains for temporary advantage.")
    assert "FILED UNDER" not in document.body
    assert "About James Joyner" not in document.body
    assert document.tags == ("Military Affairs", "World Politics")
    assert document.author == "James Joyner"
    assert document.author_bio.startswith("James Joyner is Professor and Department Head")
    assert document.author_bio.endswith("Follow James on Twitter @DrJJoyner.")
    assert document.ignored_lines == ()


def test_seed_000_comments_numbered_as_printed_with_their_authors() -> None:
    comments = seed("000").comments
    assert [comment.number for comment in comments] == list(range(1, 37))
    assert [comment.author for comment in comments[:4]] == ["charontwo", "charontwo", "James Joyner", "Scott"]
    assert comments[0].line == 39
    assert comments[35].line == 369


def test_seed_000_comment_without_says_has_no_author_and_its_header_is_body_text() -> None:
    last = seed("000").comments[-1]
    assert last.number == 36
    assert last.author is None
    assert last.body.startswith("The big question is what is the alternative?\n\nLots of HE being fired")
    assert last.body.endswith("so does adding DPICM materially change that fact?")


def test_seed_000_comment_bodies_kept_exactly() -> None:
    comments = seed("000").comments
    assert comments[4].body == (
        "They are, apparently, available quickly in vast quantity.\n"
        "Ukraine need shells, quickly, in vast quantity.\n"
        "\n"
        "Russia has been using them since the outset.\n"
        "Indeed, before, IIRC: they were used in some of the numerous Russian bombardments of Ukrainian "
        "positions in Donbas from 2014 to 2022.\n"
        "\n"
        "It would be foolish to squander those gains for temporary advantage.\n"
        "\n"
        "What gains would be squandered?\n"
        "And are those gains worth the Ukrainian lives that might be saved by supplying them?"
    )
    # Comment 11 opens with blank lines where a link was lost: they vanish, the curly apostrophe stays.
    assert comments[10].body.startswith("it’s to end the conflict more quickly\n\nExactly. And exactly why")
    # Comment 33 is nothing but a two-line quote, surrounded by blank lines.
    assert comments[32].body == (
        "War is Pandora’s Box: it’s best to leave it unopened.\n"
        "A democracy in “war mode” is a very dangerous thing indeed; probably far more so than any "
        "autocratic/fascistic regime."
    )


def test_seed_002_page_chrome_after_last_comment_is_ignored() -> None:
    document = seed("002")
    assert len(document.comments) == 21
    assert document.ignored_lines == ((198, "Speak Your Mind"),)
    last = document.comments[-1]
    assert last.author == "Mister Bluster"
    assert last.body.endswith("capable of fighting on the rivers and at sea.\nHampton Roads Naval Museum")
    assert "Speak Your Mind" not in last.body


def test_seed_002_names_differing_in_length_and_case_kept_apart() -> None:
    authors = [comment.author for comment in seed("002").comments]
    assert authors[7] == "Just nutha ignint cracker"
    assert authors[17] == "just nutha"


def test_seed_001_article_without_comments_or_author() -> None:
    document = seed("001")
    assert document.title.startswith("President Biden is reportedly providing banned cluster munitions")
    assert document.subtitle == "Per Excellent reporting of NYT"
    assert document.body.startswith("President Biden and his team have been grappling")
    assert document.comments == ()
    assert document.author is None
    assert document.tags == ()


def test_seed_003_title_with_colon_and_no_subtitle() -> None:
    document = seed("003")
    assert document.title == (
        "When Good Intentions Kill: Why the World Must Abandon Bans on Landmines and Cluster Munitions"
    )
    assert document.subtitle == ""
    assert document.body.startswith("When nations across the globe signed conventions")
    assert document.body.endswith("Today, it could cost lives.")
    assert document.comments == ()


def test_seed_004_without_title_line_derives_a_short_title_from_its_first_sentence() -> None:
    document = seed("004")
    assert document.title_derived
    assert document.title == "US national security adviser Jake Sullivan indicated that the decision to provide…"
    assert len(document.title) <= DERIVED_TITLE_CHARS
    # Nothing was taken out of the body to make the title.
    assert document.body.startswith("US national security adviser Jake Sullivan indicated that the decision")
    assert document.body.endswith("cited in contemporaneous reporting)")


# --- Comment headers and bodies --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "J.R. O'Neil-Smith 2nd",
        "Дмитрий",
        "李雷",
        "O’Brien",
        "mister-x",
        "42",
        "Dr. Jane Q. Public Jr.",
        "Simon says",
        "Zoë Ångström",
    ],
)
def test_header_names_with_dots_apostrophes_hyphens_digits_and_other_scripts(name: str) -> None:
    assert comments_of(ARTICLE + f"  1. {name} says:\n\n    Hello.\n") == [(1, name, "Hello.")]


def test_header_name_spacing_is_collapsed() -> None:
    assert comments_of(ARTICLE + "  1. Tony   W\tsays:\n    Hi.\n")[0][1] == "Tony W"


def test_header_without_says_is_authorless_and_its_text_opens_the_body() -> None:
    text = ARTICLE + "  1. Ann says:\n\n    First.\n\n  2. What is the alternative?\n\n    More text.\n"
    assert comments_of(text) == [(1, "Ann", "First."), (2, None, "What is the alternative?\n\nMore text.")]


def test_first_comment_may_lack_says_when_its_body_is_indented() -> None:
    text = ARTICLE + "  1. Opening line of an anonymous comment\n    continued here.\n"
    assert comments_of(text) == [(1, None, "Opening line of an anonymous comment\ncontinued here.")]


def test_numbers_stored_as_printed_with_gaps_and_any_order() -> None:
    text = ARTICLE + "  3. A says:\n    a\n  17. B says:\n    b\n  5. C says:\n    c\n  123456789. D says:\n    d\n"
    assert [number for number, _, _ in comments_of(text)] == [3, 17, 5, 123456789]


def test_numbered_list_inside_a_comment_body_stays_in_the_body() -> None:
    text = ARTICLE + (
        "  1. Ann says:\n\n    My points:\n    1. First point\n    2. Second point\n\n    Done.\n\n"
        "  2. Bob says:\n\n    ok\n"
    )
    assert comments_of(text) == [
        (1, "Ann", "My points:\n1. First point\n2. Second point\n\nDone."),
        (2, "Bob", "ok"),
    ]


def test_list_item_that_lost_its_indentation_but_does_not_continue_the_numbering_stays_in_the_body() -> None:
    text = ARTICLE + "  4. Ann says:\n    Points:\n  1. not a comment\n  2. nor this\n  5. Bob says:\n    ok\n"
    assert comments_of(text) == [(4, "Ann", "Points:\n1. not a comment\n2. nor this"), (5, "Bob", "ok")]


def test_blank_lines_where_links_were_lost_collapse_to_one_paragraph_break() -> None:
    text = ARTICLE + "  1. Ann says:\n\n\n    \n    First.\n\n\n\n    Second.\n    Same paragraph.\n\n\n"
    assert comments_of(text) == [(1, "Ann", "First.\n\nSecond.\nSame paragraph.")]


def test_body_keeps_extra_indentation_curly_and_straight_quotes() -> None:
    text = ARTICLE + "  1. Ann says:\n    “Curly” and \"straight\" and ‘single’ and 'plain'\n        indented code\n"
    assert comments_of(text) == [(1, "Ann", "“Curly” and \"straight\" and ‘single’ and 'plain'\n    indented code")]


def test_body_text_is_not_unicode_normalised() -> None:
    decomposed = "Cafe\u0301 \u2126hm \ufb01ne"  # e + combining accent, OHM SIGN, the "fi" ligature
    document = parse(f"Title\n\n{decomposed}\n\n  1. Jose\u0301 says:\n    {decomposed}\n")
    assert document.body == decomposed
    assert document.comments[0].author == "Jose\u0301"
    assert document.comments[0].body == decomposed


def test_trailing_whitespace_on_lines_is_dropped() -> None:
    assert comments_of(ARTICLE + "  1. Ann says:   \n    text   \n    \n") == [(1, "Ann", "text")]


def test_empty_comment_body_is_allowed() -> None:
    assert comments_of(ARTICLE + "  1. Ann says:\n  2. Bob says:\n    b\n") == [(1, "Ann", ""), (2, "Bob", "b")]


def test_unindented_lines_after_comments_are_page_chrome_with_line_numbers() -> None:
    text = ARTICLE + "  1. Ann says:\n    a\n\nSpeak Your Mind\nName *\n\nEmail *\n"
    document = parse(text)
    assert [(c.number, c.body) for c in document.comments] == [(1, "a")]
    assert document.ignored_lines == ((10, "Speak Your Mind"), (11, "Name *"), (13, "Email *"))


def test_under_indented_continuation_line_stays_in_the_body() -> None:
    assert comments_of(ARTICLE + "  1. Ann says:\n    first\n  second\n") == [(1, "Ann", "first\nsecond")]


def test_implausibly_long_says_header_is_text_not_an_author() -> None:
    sentence = "word " * (MAX_AUTHOR_LENGTH // 5 + 1) + "says:"
    text = ARTICLE + f"  1. Ann says:\n    a\n  2. {sentence}\n    b\n"
    assert comments_of(text)[1] == (2, None, sentence + "\nb")


def test_indented_numbered_list_in_an_article_without_comments_is_article_text() -> None:
    text = "Title\n\nThree reasons:\n\n  1. Cost\n  2. Speed\n\nThat is all.\n"
    document = parse(text)
    assert document.comments == ()
    assert "  1. Cost\n  2. Speed" in document.body
    assert document.body.endswith("That is all.")


# --- Article parts -----------------------------------------------------------------------------------------


def test_filed_under_drops_empty_tags_and_author_block_is_split_off() -> None:
    text = (
        "Title\n\nBody paragraph.\n\nFILED UNDER: Europe, , World Politics, ,\nJane O'Doe\nAbout Jane O'Doe\n"
        "Jane writes.\nSecond bio line.\n\n  1. Ann says:\n    hi\n"
    )
    document = parse(text)
    assert document.body == "Body paragraph."
    assert document.tags == ("Europe", "World Politics")
    assert document.author == "Jane O'Doe"
    assert document.author_bio == "Jane writes.\nSecond bio line."


def test_body_quoting_another_outlet_keeps_its_paragraphs() -> None:
    text = "Title\n\nSubtitle here\n\nNYT (“Headline”):\n\nQuoted paragraph one.\nLine two.\n\nMy take.\n"
    document = parse(text)
    assert document.subtitle == "Subtitle here"
    assert document.body == "NYT (“Headline”):\n\nQuoted paragraph one.\nLine two.\n\nMy take."


def test_first_line_ending_like_a_sentence_is_not_a_title() -> None:
    document = parse("This opening sentence ends with a full stop.\n\nMore prose.\n")
    assert document.title_derived
    assert document.title == "This opening sentence ends with a full stop"
    assert document.body.startswith("This opening sentence")


def test_derived_title_shortens_at_a_word_boundary_and_skips_abbreviations() -> None:
    assert derive_title("Mr. Smith went to Washington. Then he left.") == "Mr. Smith went to Washington"
    long_title = derive_title("word " * 40)
    assert long_title.endswith("…")
    assert len(long_title) <= DERIVED_TITLE_CHARS
    assert not long_title[:-1].endswith(" ")
    assert derive_title("") == "Untitled"
    assert derive_title("x" * 500) == "x" * (DERIVED_TITLE_CHARS - 1) + "…"


# --- Line ends, byte order mark, decoding -------------------------------------------------------------------


SIMPLE = "Title\n\nBody.\n\n  1. Ann says:\n\n    one\n\n\n    two\n  2. Bob says:\n    three\n"


@pytest.mark.parametrize(
    "variant",
    [
        SIMPLE,
        SIMPLE.replace("\n", "\r\n"),
        SIMPLE.replace("\n", "\r"),
        "\ufeff" + SIMPLE,
        "\ufeff" + SIMPLE.replace("\n", "\r\n"),
    ],
    ids=["lf", "crlf", "cr", "bom", "bom-crlf"],
)
def test_line_end_and_bom_variants_parse_the_same(variant: str) -> None:
    expected = parse(SIMPLE)
    assert parse(variant) == expected
    assert parse_document(decode_document(variant.encode("utf-8"))) == expected
    assert expected.comments[0].body == "one\n\ntwo"


def test_decode_document_strips_the_bom_and_normalises_line_ends() -> None:
    assert decode_document("\ufeffa\r\nb\rc\n".encode()) == "a\nb\nc\n"


# --- Errors: one clear line each ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b" \n\t\r\n", "empty file"),
        (b"\xef\xbb\xbf", "empty file"),
        (b"\xef\xbb\xbf \r\n", "empty file"),
        (b"Title\n\n\xff\xfe bad", "not UTF-8 text (byte 0xff at offset 7"),
        ("Titre en Latin-1: déjà".encode("latin-1"), "not UTF-8 text"),
    ],
)
def test_decode_errors(data: bytes, message: str) -> None:
    with pytest.raises(SeedFormatError) as raised:
        decode_document(data)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("   \n\n  \n", "empty file"),
        ("\ufeff\r\n", "empty file"),
        ("Only a title\n", "no article body and no comments"),
        ("Title\n\nFILED UNDER: a, b\nJane\nAbout Jane\nBio.\n", "no article body and no comments"),
        (ARTICLE + "  3. Ann says:\n    a\n  3. Bob says:\n    b\n", "duplicate comment number 3 (lines 7 and 9)"),
        ("Title\n\nBody with a NUL \x00 byte.\n", "binary data, not text (control character U+0000 on line 3)"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(SeedFormatError) as raised:
        parse(text)
    assert str(raised.value) == message or str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_seed_format_error_is_a_value_error() -> None:
    assert issubclass(SeedFormatError, ValueError)


def test_comments_without_an_article_body_are_a_document() -> None:
    document = parse("  1. Ann says:\n    only comments\n")
    assert document.body == ""
    assert [(c.number, c.author, c.body) for c in document.comments] == [(1, "Ann", "only comments")]


# --- Property tests -----------------------------------------------------------------------------------------

FRAGMENTS = st.sampled_from(
    [
        "\n",
        "\r\n",
        "\r",
        "\ufeff",
        "  1. ",
        "  2. ",
        " 12. ",
        "    ",
        "  ",
        " says:",
        "FILED UNDER:",
        "About ",
        "Speak Your Mind",
        "@",
        ".",
        ",",
        ":",
        "“",
        "’",
        "X",
        "Ann",
        "\t",
        "\x00",
    ]
)
DOCUMENTISH_TEXT = st.one_of(st.text(), st.lists(st.one_of(FRAGMENTS, st.text(max_size=4)), max_size=40).map("".join))


@settings(max_examples=400, deadline=None)
@given(DOCUMENTISH_TEXT)
def test_any_text_parses_or_raises_seed_format_error_with_one_line(text: str) -> None:
    try:
        document = parse_document(text)
    except SeedFormatError as error:
        message = str(error)
    else:
        message = ""
        assert document.body or document.comments
        numbers = [comment.number for comment in document.comments]
        assert len(numbers) == len(set(numbers))
        return
    assert message
    assert "\n" not in message


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(), DOCUMENTISH_TEXT.map(str.encode)))
def test_any_bytes_decode_and_parse_or_raise_seed_format_error(data: bytes) -> None:
    try:
        text = decode_document(data)
        parse_document(text)
    except SeedFormatError as error:
        message = str(error)
    else:
        assert "\r" not in text
        return
    assert message
    assert "\n" not in message


# Characters a seed file may hold inside a line: letters of several scripts (combining marks included), digits,
# punctuation, symbols and spaces; no line or paragraph separators, nothing that is a control character.
LINE_CHARACTERS = st.characters(
    categories=("L", "M", "N", "P", "S", "Zs"),
    exclude_characters="\x85\u2028\u2029",
)


def _tidy(text: str) -> bool:
    return bool(text.strip()) and text == text.rstrip()


def _not_a_says_line(text: str) -> bool:
    return re.search(r"\ssays:$", text) is None


BODY_LINE = st.one_of(
    st.text(LINE_CHARACTERS, min_size=1, max_size=30).filter(_tidy),
    st.sampled_from(["1. First point", "2) second", "“Quoted,” she said.", "@Ann: agreed", "Speak Your Mind"]),
    st.builds(
        lambda pad, text: pad + text, st.sampled_from(["  ", "    "]), st.text(LINE_CHARACTERS, min_size=1)
    ).filter(_tidy),
)
PARAGRAPH = st.lists(BODY_LINE, min_size=1, max_size=3)
NAME_WORD = st.text(
    st.one_of(
        st.characters(categories=("L", "Nd")),
        st.sampled_from(".'’-"),
    ),
    min_size=1,
    max_size=8,
)
NAME = st.lists(NAME_WORD, min_size=1, max_size=3).map(" ".join)


@dataclass(frozen=True)
class GeneratedComment:
    number: int
    author: str | None
    paragraphs: list[list[str]]

    def expected_body(self) -> str:
        return "\n\n".join("\n".join(lines) for lines in self.paragraphs)


@st.composite
def generated_comments(draw: st.DrawFn) -> list[GeneratedComment]:
    numbers = draw(st.lists(st.integers(1, 10**6), unique=True, min_size=1, max_size=8))
    if draw(st.booleans()):
        numbers.sort()  # authorless headers need ascending numbers; mixed order is tested with names only
    comments = []
    for position, number in enumerate(numbers):
        authorless = position > 0 and number > numbers[position - 1] and draw(st.integers(0, 4)) == 0
        paragraphs = draw(st.lists(PARAGRAPH, min_size=1 if authorless else 0, max_size=3))
        if authorless:
            # After "N." spaces only separate, so an opening that starts with spaces cannot round-trip them.
            opening = draw(
                st.text(LINE_CHARACTERS, min_size=1, max_size=30)
                .filter(_tidy)
                .filter(_not_a_says_line)
                .filter(lambda text: text == text.lstrip())
            )
            comments.append(GeneratedComment(number, None, [[opening], *paragraphs]))
        else:
            comments.append(GeneratedComment(number, draw(NAME), paragraphs))
    return comments


def render(comments: list[GeneratedComment], blank_runs: list[int], chrome: bool) -> str:
    lines = [
        "A Title",
        "",
        "The article body.",
        "",
        "FILED UNDER: One, , Two",
        "Jane Doe",
        "About Jane Doe",
        "Bio.",
        "",
    ]
    for comment, blanks in zip(comments, blank_runs, strict=False):
        if comment.author is None:
            opening, *rest = comment.paragraphs
            lines.append(f"  {comment.number}. {opening[0]}")
            paragraphs = rest
        else:
            lines.append(f"  {comment.number}. {comment.author} says:")
            paragraphs = comment.paragraphs
        for paragraph in paragraphs:
            lines.extend([""] * blanks)  # lost links leave several blank lines, sometimes indented ones
            lines.extend("    " + line for line in paragraph)
            lines.append("    " if blanks > 1 else "")
    if chrome:
        lines += ["", "Speak Your Mind", "", "Name *"]
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    generated_comments(),
    st.lists(st.integers(1, 3), min_size=8, max_size=8),
    st.booleans(),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.booleans(),
)
def test_generated_documents_round_trip_numbers_authors_and_bodies(
    comments: list[GeneratedComment], blank_runs: list[int], chrome: bool, line_end: str, bom: bool
) -> None:
    text = render(comments, blank_runs, chrome).replace("\n", line_end)
    data = (("\ufeff" if bom else "") + text).encode("utf-8")
    document = parse_document(decode_document(data))
    assert [(c.number, c.author) for c in document.comments] == [(c.number, c.author) for c in comments]
    assert [c.body for c in document.comments] == [c.expected_body() for c in comments]
    assert document.title == "A Title"
    assert document.body == "The article body."
    assert document.tags == ("One", "Two")
    assert document.author == "Jane Doe"
    assert [line for _, line in document.ignored_lines] == (["Speak Your Mind", "Name *"] if chrome else [])


@settings(max_examples=100, deadline=None)
@given(generated_comments())
def test_generated_documents_report_each_comments_header_line(comments: list[GeneratedComment]) -> None:
    text = render(comments, [1] * 8, chrome=False)
    lines = text.split("\n")
    for parsed in parse(text).comments:
        assert lines[parsed.line - 1].startswith(f"  {parsed.number}. ")


@settings(max_examples=100, deadline=None)
@given(generated_comments(), st.integers(0, 7))
def test_generated_documents_with_a_repeated_number_are_refused(comments: list[GeneratedComment], which: int) -> None:
    duplicate = comments[which % len(comments)]
    twice = [*comments, GeneratedComment(duplicate.number, "Late Comer", [["again"]])]
    with pytest.raises(SeedFormatError, match=rf"^duplicate comment number {duplicate.number} \(lines \d+ and \d+\)$"):
        parse(render(twice, [1] * 9, chrome=False))
