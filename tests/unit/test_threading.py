"""Reply reconstruction: the two seed threads link by link, synthetic threads for every rule, tree layout.

Pure: no database, no Django. Comment numbers in the seed tables are the printed ones; the API speaks in
0-based positions, and `seed_links` translates.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debate.reply_threads import (
    FUZZY_THRESHOLD,
    MAX_FUZZY_CANDIDATES,
    CommentText,
    Link,
    QuotedSpan,
    ThreadedComment,
    reconstruct_threads,
    tree_layout,
)
from debate.seed_parser import decode_document, parse_document

SEEDS = Path(__file__).resolve().parents[2] / "fixtures" / "seeds"

# --- The seed threads, checked by hand -----------------------------------------------------------------------
# number: (targets, parent, quotes_article). Each entry was checked against the text; the reason is noted where
# a reader could hesitate. Comments that plainly answer someone but carry no marker and no quote (000: 17, 27,
# 29, 35; 002: 6, 7, 14) stay top-level by rule: links are never invented.

SEED_000: dict[int, tuple[set[int], int | None, bool]] = {
    1: (set(), None, False),
    2: (set(), None, True),  # opens with a sentence of the article
    3: ({1, 2}, 1, False),  # two "@charontwo:" markers: one answers #1 ("their choice"), one #2 ("lesser problem")
    4: (set(), None, False),
    5: (set(), None, True),  # "It would be foolish to squander those gains..." is the article's
    6: ({5}, 5, False),
    7: (set(), None, False),
    8: (set(), None, False),
    9: ({7}, 7, False),  # "@Tony W:"; the Semafor quote appears nowhere earlier
    10: ({6}, 6, False),  # quotes two passages of #6
    11: ({9}, 9, False),  # "it's to end the conflict more quickly" is #9's
    12: ({6}, 6, False),  # #10 re-quoted this sentence, but #6 wrote it
    13: (set(), None, False),
    14: (set(), None, False),
    15: (set(), None, False),
    16: ({14}, 14, False),  # "@JohnSF:" -> his nearest comment, #14 (WW1 battlefields -> Zone Rouge)
    17: (set(), None, False),
    18: ({13}, 13, False),  # "@Modulo Myself:" and a quote of #13
    19: (set(), None, False),  # the link to the photos was lost: nothing to go on
    20: (set(), None, False),
    21: ({18}, 18, False),
    22: (set(), None, False),
    23: ({21}, 21, False),
    24: ({3}, 3, False),  # "@James Joyner:" but the quote pins #3, not his nearer #18
    25: ({24}, 24, False),
    26: (set(), None, False),
    27: (set(), None, False),
    28: ({25}, 25, False),
    29: (set(), None, False),
    30: ({28}, 28, False),  # "your hunch" (#26) is unmarked; the quote is #28's
    31: (set(), None, False),
    32: ({20}, 20, False),
    33: ({32}, 32, False),  # nothing but a quote
    34: ({30}, 30, False),  # a seven-word quote, matched exactly
    35: (set(), None, False),
    36: (set(), None, False),  # no author, no marker
}

SEED_002: dict[int, tuple[set[int], int | None, bool]] = {
    1: (set(), None, False),
    2: (set(), None, False),  # "What you said." is too short to be anything
    3: (set(), None, True),
    4: (set(), None, False),
    5: (set(), None, False),
    6: (set(), None, False),
    7: (set(), None, False),
    8: ({5}, 5, False),
    9: ({7}, 7, False),  # also echoes "if I were Zelenskyy..." from #7: too short to count, same target anyway
    10: ({9}, 9, False),  # "@Just nutha ignint cracker:" -> his latest, #9
    11: (set(), None, False),
    12: (set(), None, False),
    13: (set(), None, False),
    14: (set(), None, False),
    15: (set(), None, False),
    16: (set(), None, False),
    17: ({15}, 15, False),
    18: ({15}, 15, False),
    19: ({18}, 18, False),  # "@just nutha:" is the exact name of #18's author, not "Just nutha ignint cracker"
    20: ({19}, 19, False),
    21: (set(), None, True),  # a quote of the article, trimmed with ",.."
}


def seed_thread(name: str) -> tuple[list[int], list[ThreadedComment], list[CommentText]]:
    (path,) = SEEDS.glob(f"{name}_*.txt")
    document = parse_document(decode_document(path.read_bytes()))
    comments = [CommentText(comment.author, comment.body) for comment in document.comments]
    return [comment.number for comment in document.comments], reconstruct_threads(document.body, comments), comments


def seed_links(name: str) -> dict[int, tuple[set[int], int | None, bool]]:
    numbers, results, _ = seed_thread(name)
    return {
        numbers[position]: (
            {numbers[link.target] for link in result.links},
            None if result.parent is None else numbers[result.parent],
            result.quotes_article,
        )
        for position, result in enumerate(results)
    }


@pytest.mark.parametrize(("name", "expected"), [("000", SEED_000), ("002", SEED_002)])
def test_seed_thread_links_parents_and_article_quotes_match_the_hand_checked_table(
    name: str, expected: dict[int, tuple[set[int], int | None, bool]]
) -> None:
    actual = seed_links(name)
    assert sorted(actual) == sorted(expected)
    wrong = {number: (actual[number], expected[number]) for number in expected if actual[number] != expected[number]}
    assert wrong == {}, "comment: (actual, expected)"


def test_seed_000_comment_3_answers_both_comments_in_reading_order() -> None:
    _, results, _ = seed_thread("000")
    links = results[2].links
    assert [(link.target, link.method, link.evidence) for link in links] == [
        (0, "mention", "@charontwo:"),
        (1, "mention", "@charontwo:"),
    ]
    assert links[0].position == 0
    assert links[1].position > links[0].position


def test_seed_000_comment_24_marker_is_resolved_by_its_quote() -> None:
    _, results, comments = seed_thread("000")
    (link,) = results[23].links
    assert link.target == 2  # comment 3
    assert link.method == "quote"
    assert link.score == 1.0
    assert link.evidence == "It’s their choice whether to use them, although it’s quite possibly a war crime to do so."
    assert comments[23].body[link.position :].startswith(link.evidence)
    assert results[23].parent == 2
    (span,) = results[23].quoted_spans
    assert comments[23].body[span.start : span.end] == link.evidence
    assert span.source == 2


def test_seed_000_comment_12_links_the_original_not_the_re_quote() -> None:
    _, results, _ = seed_thread("000")
    (link,) = results[11].links
    assert link.target == 5  # comment 6, which comment 10 had quoted before
    assert link.evidence == "The argument that “the other side has been using them!” is facile."


def test_seed_article_quotes_are_spans_without_source() -> None:
    _, results, comments = seed_thread("000")
    (span,) = results[1].quoted_spans
    assert span.source is None
    assert comments[1].body[span.start : span.end].startswith("we came to realize that, because of their high dud")


def test_seed_002_prefix_and_exact_names_resolve_to_the_right_commenter() -> None:
    _, results, _ = seed_thread("002")
    assert [(link.target, link.score) for link in results[9].links] == [(8, 1.0)]  # exact long name
    assert [(link.target, link.score) for link in results[18].links] == [(17, 1.0)]  # exact short name


# --- Synthetic threads ---------------------------------------------------------------------------------------

ARTICLE = (
    "The administration announced it will send cluster munitions to Ukraine despite objections from allies.\n\n"
    "Critics argue the weapons leave unexploded bomblets that maim children for decades after a war ends."
)
PASSAGE = "Lithium batteries are the real bottleneck for drone production this year"
LONG_PASSAGE = "The artillery shells from the old stockpile have a failure rate of about twenty percent in combat"


def run(*comments: tuple[str | None, str], article: str = ARTICLE) -> list[ThreadedComment]:
    return reconstruct_threads(article, [CommentText(author, body) for author, body in comments])


def targets(results: list[ThreadedComment]) -> list[set[int]]:
    return [{link.target for link in result.links} for result in results]


def only_link(result: ThreadedComment) -> Link:
    (link,) = result.links
    return link


# Quotes ------------------------------------------------------------------------------------------------------


def test_exact_quote_on_its_own_line_links_to_its_source() -> None:
    results = run(("Ann", f"{PASSAGE}, I read."), ("Bob", f"{PASSAGE}\n\nI doubt it."))
    link = only_link(results[1])
    assert (link.target, link.method, link.score, link.evidence, link.position) == (0, "quote", 1.0, PASSAGE, 0)
    assert results[1].parent == 0
    assert results[1].quoted_spans == (QuotedSpan(0, len(PASSAGE), 0, 1.0),)


def test_quote_with_typos_matches_fuzzily() -> None:
    typos = LONG_PASSAGE.replace("failure", "failrue").replace("about", "abuot")
    results = run(("Ann", LONG_PASSAGE + "."), ("Bob", f"{typos}\n\nSource?"))
    link = only_link(results[1])
    assert link.target == 0
    assert link.method == "quote"
    assert FUZZY_THRESHOLD <= link.score < 1.0


def test_short_quote_with_a_typo_is_not_matched_fuzzily() -> None:
    results = run(
        ("Ann", "The relevant laws of war say otherwise."), ("Bob", "The relevent laws of war say otherwise.")
    )
    assert results[1].links == ()


def test_curly_and_straight_quotes_and_apostrophes_match() -> None:
    original = "He said \u201cwe\u2019ve seen the reports\u201d and it\u2019s potentially a war crime, she added."
    requoted = "He said \"we've seen the reports\" and it's potentially a war crime, she added."
    assert only_link(run(("Ann", original), ("Bob", requoted))[1]).score == 1.0
    assert only_link(run(("Ann", requoted), ("Bob", original))[1]).score == 1.0


def test_quote_rewrapped_with_different_whitespace_and_dashes_matches() -> None:
    original = (
        "Cluster munitions \u2014 which disperse tiny, deadly bomblets \u2014 are the best way to clear trenches."
    )
    rewrapped = (
        "Cluster  munitions - which disperse tiny,\ndeadly   bomblets -- are the best\nway to clear trenches.\n\nNo."
    )
    link = only_link(run(("Ann", original), ("Bob", rewrapped))[1])
    assert (link.target, link.score) == (0, 1.0)


def test_quote_of_a_re_quote_links_to_the_original() -> None:
    results = run(
        ("Ann", f"My view: {PASSAGE}."),
        ("Bob", f"{PASSAGE}\n\nAgreed, Ann."),
        ("Cat", f"{PASSAGE}\n\nNo way."),
        ("Dan", f"{PASSAGE}\n\nStill no."),
    )
    assert targets(results) == [set(), {0}, {0}, {0}]


def test_fuzzy_quote_of_a_re_quoted_passage_still_links_to_the_original() -> None:
    typo = LONG_PASSAGE.replace("stockpile", "stokpile")
    results = run(("Ann", LONG_PASSAGE), ("Bob", f"{LONG_PASSAGE}\n\nSo?"), ("Cat", f"{typo}\n\nSo what."))
    assert targets(results) == [set(), {0}, {0}]


def test_original_with_a_typo_still_wins_over_a_corrected_re_quote() -> None:
    typo = LONG_PASSAGE.replace("twenty", "twnety")
    results = run(("Ann", typo), ("Bob", f"{LONG_PASSAGE}\n\n(fixed the typo)"), ("Cat", f"{LONG_PASSAGE}\n\nNo."))
    assert targets(results)[2] == {0}


def test_passage_written_independently_twice_links_to_the_earliest() -> None:
    results = run(("Ann", f"{PASSAGE}."), ("Bob", f"Indeed. {PASSAGE}."), ("Cat", f"{PASSAGE}\n\nSays who?"))
    assert targets(results)[2] == {0}


def test_article_quote_marks_the_comment_and_links_nowhere() -> None:
    sentence = "Critics argue the weapons leave unexploded bomblets that maim children for decades after a war ends."
    results = run(("Ann", f"{sentence}\n\nThat is the whole point."))
    assert results[0].quotes_article
    assert results[0].links == ()
    assert results[0].parent is None
    assert results[0].quoted_spans == (QuotedSpan(0, len(sentence), None, 1.0),)


def test_article_wins_over_a_comment_that_quoted_the_article_first() -> None:
    sentence = "Critics argue the weapons leave unexploded bomblets that maim children for decades"
    results = run(("Ann", f"{sentence}\n\nTrue."), ("Bob", f"{sentence}\n\nFalse."))
    assert [result.quotes_article for result in results] == [True, True]
    assert targets(results) == [set(), set()]


def test_fuzzy_article_quote_is_still_the_article() -> None:
    sentence = "Critcs argue the weapons leave unexploded bomblets that maim childern for decades"
    results = run(("Ann", f"{sentence}\n\nTrue."))
    assert results[0].quotes_article
    assert results[0].links == ()


def test_comment_that_quotes_the_article_and_marks_a_commenter_has_both() -> None:
    sentence = "Critics argue the weapons leave unexploded bomblets that maim children for decades"
    results = run(("Ann", "First."), ("Bob", f"@Ann: see the piece:\n\n{sentence}"))
    assert results[1].quotes_article
    assert targets(results)[1] == {0}
    assert results[1].parent == 0


def test_comment_that_is_entirely_a_quote() -> None:
    original = "War is Pandora\u2019s Box: it\u2019s best to leave it unopened.\nA democracy in war mode is dangerous."
    quote = "War is Pandora\u2019s Box: it\u2019s best to leave it unopened.\nA democracy in war mode is dangerous."
    results = run(("Ann", f"Long story.\n\n{original}"), ("Bob", quote))
    assert targets(results)[1] == {0}
    assert results[1].quoted_spans == (QuotedSpan(0, len(quote), 0, 1.0),)


def test_quoted_line_inside_a_paragraph_of_reply_text_is_found_alone() -> None:
    body = f"{LONG_PASSAGE}\nThat figure comes from the manufacturer, who has every reason to lie about it."
    results = run(("Ann", LONG_PASSAGE), ("Bob", body))
    (span,) = results[1].quoted_spans
    assert body[span.start : span.end] == LONG_PASSAGE


def test_reply_that_repeats_a_whole_short_comment_and_adds_to_it_is_not_a_quote_of_it() -> None:
    results = run(
        ("Ann", "Send the shells now, before winter."),
        ("Bob", "Send the shells now, before winter, and the drones, and the tanks, and the jets, and more besides."),
    )
    assert results[1].links == ()


def test_quotation_marks_inside_a_line_quote_an_earlier_comment() -> None:
    body = f"You wrote \u201c{PASSAGE.lower()}\u201d but the factories say otherwise."
    results = run(("Ann", f"{PASSAGE}."), ("Bob", body))
    link = only_link(results[1])
    assert link.target == 0
    assert link.evidence == PASSAGE.lower()


def test_outside_quotation_marks_an_echo_inside_a_longer_line_is_not_a_quote() -> None:
    results = run(("Ann", f"{PASSAGE}."), ("Bob", f"Some say {PASSAGE.lower()} but the factories disagree with that."))
    assert results[1].links == ()


@pytest.mark.parametrize(
    "line",
    [
        "Good to know.",
        "What you said.",
        "I couldn't agree more.",
        "I couldn\u2019t agree more!",
        "I don't know what to say.",
        "It is a tough decision.",
        "It's a distinct possibility.",
        "Thank you for the link, James.",
        "I don't think that is what he was saying at all.",
        "I don't know what you are talking about, to be honest.",
        "Exactly. Well said.",
    ],
)
def test_short_common_lines_are_not_quotes(line: str) -> None:
    results = run(("Ann", line), ("Bob", line), ("Cat", f"{line}\n{line}"))
    assert targets(results) == [set(), set(), set()]
    assert not any(result.quotes_article for result in results)


def test_longer_line_with_two_content_words_is_a_quote() -> None:
    line = "Good point, but the treaty is not the problem."
    assert targets(run(("Ann", line), ("Bob", f"{line}\n\nIt is.")))[1] == {0}


def test_short_but_specific_line_is_a_quote_when_exact() -> None:
    results = run(
        ("Ann", "Honestly.\n\nThe relevant laws of war say otherwise."),
        ("Bob", "The relevant laws of war say otherwise."),
    )
    assert targets(results)[1] == {0}


def test_sign_off_repeated_all_over_a_long_thread_is_not_a_fuzzy_quote() -> None:
    sign_offs = [
        (f"User{k}", f"Cheers from rainy Glasgow, yours truly User{k} at the drone factory") for k in range(130)
    ]
    results = run(*sign_offs, ("Late", "Cheers from rainy Glasgow, yours truly Someone at the drone factory"))
    assert len(sign_offs) > MAX_FUZZY_CANDIDATES
    assert results[-1].links == ()
    exact = run(*sign_offs, ("Late", sign_offs[70][1]))
    assert targets(exact)[-1] == {70}


# Markers -----------------------------------------------------------------------------------------------------


def test_marker_links_to_the_authors_nearest_earlier_comment() -> None:
    results = run(("Ann", "one"), ("Bob", "two"), ("Ann", "three"), ("Cat", "@Ann: you again."))
    link = only_link(results[3])
    assert (link.target, link.method, link.score, link.evidence, link.position) == (2, "mention", 1.0, "@Ann:", 0)


def test_marker_is_overridden_by_a_quote_that_pins_an_older_comment_of_that_author() -> None:
    first = "Sanctions on the central bank will not change anything in the Kremlin this year"
    results = run(
        ("Ann", first), ("Bob", "eh"), ("Ann", "Something else entirely."), ("Cat", f"@Ann:\n\n{first}\n\nWrong.")
    )
    link = only_link(results[3])
    assert (link.target, link.method, link.evidence) == (0, "quote", first)
    assert results[3].parent == 0


def test_marker_with_a_quote_of_someone_else_answers_both() -> None:
    results = run(("Ann", PASSAGE), ("Bob", "other"), ("Cat", f"@Bob: and also\n\n{PASSAGE}\n\nNo."))
    assert targets(results)[2] == {0, 1}
    assert results[2].parent == 1  # the marker comes first


def test_marker_for_an_author_who_only_re_quoted_the_passage_pins_their_re_quote() -> None:
    results = run(
        ("Ann", PASSAGE),
        ("Bob", f"{PASSAGE}\n\nTrue."),
        ("Bob", "Something later."),
        ("Cat", f"@Bob:\n\n{PASSAGE}\n\nFalse."),
    )
    assert targets(results)[3] == {0, 1}  # the original, and Bob's comment that quoted it; not Bob's latest
    assert results[3].parent == 1


def test_marker_followed_by_the_quote_on_the_same_line() -> None:
    body = f"@Ann: {PASSAGE}\n\nNonsense."
    results = run(("Ann", PASSAGE), ("Bob", "x"), ("Ann", "later"), ("Cat", body))
    link = only_link(results[3])
    assert (link.target, link.method) == (0, "quote")
    (span,) = results[3].quoted_spans
    assert body[span.start : span.end] == PASSAGE


def test_marker_inside_a_quoted_passage_belongs_to_the_quoted_comment() -> None:
    quoted = "@Ann: you are wrong about the cluster munitions treaty entirely"
    results = run(("Ann", "A treaty view."), ("Bob", quoted), ("Cat", f"{quoted}\n\nBob, I disagree."))
    assert targets(results) == [set(), {0}, {1}]
    (span,) = results[2].quoted_spans
    assert span.start == 0


def test_marker_in_the_middle_of_a_quoted_passage_is_not_a_link() -> None:
    quoted = "As @Ann keeps saying, the cluster munitions treaty was signed by countries far from danger"
    results = run(("Ann", "x"), ("Bob", quoted), ("Cat", f"{quoted}\n\nSo?"))
    assert targets(results)[2] == {1}


def test_mention_of_an_unknown_name_gives_no_link() -> None:
    results = run(("Ann", "one"), ("Bob", "@Zed: who? @Annabel: nope. @An: no."))
    assert results[1].links == ()


def test_mention_of_the_article_author_before_they_comment_gives_no_link() -> None:
    results = run(
        ("Ann", "one"),
        ("Bob", "@James Joyner: great piece."),
        ("James Joyner", "Thanks."),
        ("Cat", "@James Joyner: hi"),
    )
    assert targets(results) == [set(), set(), set(), {2}]


def test_mention_of_someone_who_only_comments_later_gives_no_link() -> None:
    assert targets(run(("Ann", "@Bob: are you there?"), ("Bob", "Yes.")))[0] == set()


def test_email_addresses_and_handles_glued_to_words_are_not_mentions() -> None:
    results = run(("Ann", "one"), ("b", "two"), ("Cat", "Write to a@b.com or me@Ann.org, or see foo@Ann: nothing."))
    assert results[2].links == ()


def test_anonymous_comments_are_never_mention_targets() -> None:
    results = run((None, "an anonymous comment"), ("Bob", "@None: hello @: hi"))
    assert results[1].links == ()


@pytest.mark.parametrize(("marker", "score"), [("@ann:", 0.95), ("@ANN:", 0.95), ("@Ann:", 1.0), ("@ann", 0.9)])
def test_names_match_case_insensitively(marker: str, score: float) -> None:
    link = only_link(run(("Ann", "one"), ("Bob", f"{marker} hello"))[1])
    assert (link.target, link.score) == (0, score)


def test_exact_case_wins_between_two_commenters_whose_names_differ_only_in_case() -> None:
    results = run(("ann", "lower"), ("Ann", "upper"), ("ann", "lower again"), ("Cat", "@Ann: hi"), ("Dan", "@ANN: hi"))
    assert only_link(results[3]).target == 1
    assert only_link(results[4]).target == 2  # no exact spelling: the most recent of the two


def test_prefix_of_a_longer_display_name_matches_with_or_without_colon() -> None:
    results = run(
        ("Just nutha ignint cracker", "one"),
        ("Bob", "@just nutha: hi"),
        ("Cat", "@just nutha I agree"),
        ("Dan", "@Just: hi"),
        ("Eve", "@Just nutha ign: a cut-off name still starts with whole words of it"),
        ("Fay", "@Justin: a longer word is another name"),
    )
    assert targets(results) == [set(), {0}, {0}, {0}, {0}, set()]
    assert only_link(results[1]).score < 0.9


def test_exact_shorter_name_wins_over_a_longer_name_it_is_the_prefix_of() -> None:
    results = run(
        ("Just nutha ignint cracker", "one"),
        ("just nutha", "two"),
        ("Just nutha ignint cracker", "three"),
        ("Bob", "@just nutha: hi"),
        ("Cat", "@Just nutha: hi"),
        ("Dan", "@just nutha ignint cracker: hi"),
        ("Eve", "@just nutha said it"),
    )
    assert targets(results)[3:] == [{1}, {1}, {2}, {1}]


def test_longest_known_name_wins_without_colon() -> None:
    results = run(("Tony", "one"), ("Tony W", "two"), ("Bob", "@Tony W is right"), ("Cat", "@Tony is right"))
    assert targets(results)[2:] == [{1}, {0}]


@pytest.mark.parametrize(
    ("name", "marker"),
    [
        ("J.R. O'Neil-Smith 2nd", "@J.R. O'Neil-Smith 2nd:"),
        ("J.R. O'Neil-Smith 2nd", "@J.R. O\u2019Neil-Smith 2nd:"),  # curly apostrophe in the marker
        ("O\u2019Brien", "@O'Brien:"),
        ("J.R. O'Neil-Smith 2nd", "@J.R. O'Neil-Smith 2nd thanks"),
        ("J.R. O'Neil-Smith 2nd", "@j.r.:"),
        ("Дмитрий", "@Дмитрий:"),
        ("Дмитрий", "@дмитрий:"),
        ("Дмитрий", "@Дмитрий, спасибо"),
        ("李雷", "@李雷:"),
        ("李雷", "@李雷 谢谢"),
        ("Tony W", "@Tony  W:"),  # spacing differs
        ("Bob", "@Bob's point stands"),
        ("Bob", "@Bob\u2019s point stands"),
        ("Bob", "(@Bob) agreed"),
        ("Bob", "thanks, @Bob."),
    ],
)
def test_names_with_dots_apostrophes_digits_and_other_scripts_resolve(name: str, marker: str) -> None:
    results = run((name, "first"), ("Zed", "other"), ("Cat", f"{marker} more text"))
    assert targets(results)[2] == {0}


def test_marker_without_colon_mid_sentence_links() -> None:
    link = only_link(run(("Ann", "one"), ("Bob", "As @Ann said, we need more shells."))[1])
    assert (link.target, link.method, link.evidence, link.position) == (0, "mention", "@Ann", 3)


def test_two_markers_for_the_same_name_answer_that_authors_two_latest_comments() -> None:
    results = run(("Ann", "a"), ("Ann", "b"), ("Ann", "c"), ("Bob", "@Ann: about b.\n\n@Ann: about c."))
    assert [link.target for link in results[3].links] == [1, 2]
    assert results[3].parent == 1


def test_markers_opening_lines_without_colon_also_answer_separate_comments() -> None:
    results = run(("Ann", "a"), ("Ann", "b"), ("Bob", "@Ann about a.\n  @Ann and about b."))
    assert [link.target for link in results[2].links] == [0, 1]


def test_more_markers_than_comments_reuse_the_latest() -> None:
    results = run(("Ann", "a"), ("Bob", "@Ann: x\n\n@Ann: y\n\n@Ann: z"))
    assert targets(results)[1] == {0}


def test_a_marker_and_a_passing_mention_of_the_same_name_are_one_reply() -> None:
    results = run(("Ann", "a"), ("Ann", "b"), ("Bob", "@Ann: no. As @Ann said herself, it fails."))
    assert targets(results)[2] == {1}


def test_two_markers_each_pinned_by_the_quote_that_follows_it() -> None:
    first = "Sanctions on the central bank will not change anything in the Kremlin this year"
    second = "Air defence interceptors are running low and the factories cannot keep up with demand"
    results = run(
        ("Ann", first), ("Ann", second), ("Ann", "third"), ("Bob", f"@Ann:\n{first}\nNo.\n\n@Ann:\n{second}\nYes.")
    )
    assert targets(results)[3] == {0, 1}


def test_comment_answering_several_commenters() -> None:
    results = run(("Ann", "a"), ("Bob", "b"), ("Cat", "c"), ("Dan", "@Cat: sure.\n\n@Ann: no.\n\n@Bob: maybe."))
    assert [link.target for link in results[3].links] == [2, 0, 1]
    assert results[3].parent == 2


def test_comment_without_marker_or_quote_stays_top_level() -> None:
    results = run(
        ("Ann", "Cluster munitions are a terrible idea."),
        ("Bob", "I disagree, cluster munitions are needed to clear trenches."),
        ("Ann", "Bob, you are wrong, and here is why: duds."),
    )
    assert [result.parent for result in results] == [None, None, None]
    assert targets(results) == [set(), set(), set()]


def test_marker_naming_the_commenter_themself_links_to_their_own_earlier_comment() -> None:
    assert targets(run(("Ann", "a"), ("Ann", "@Ann: correcting myself.")))[1] == {0}


def test_each_link_keeps_its_own_evidence_and_position_while_the_parent_follows_the_first_evidence() -> None:
    first = "Sanctions on the central bank will not change anything in the Kremlin this year"
    body = f"@Ann: agreed with Cat?\n\n@Cat: no.\n\n{first}\n\nAnd as @Ann said, more."
    results = run(("Ann", first), ("Cat", "c"), ("Ann", "later"), ("Dan", body))
    assert [(link.target, link.method, link.evidence) for link in results[3].links] == [
        (1, "mention", "@Cat:"),
        (0, "quote", first),
    ]
    for link in results[3].links:
        assert body[link.position :].startswith(link.evidence)
    assert results[3].parent == 0  # "@Ann:" opens the comment, and the quote says which of Ann's comments


# Properties ---------------------------------------------------------------------------------------------------

NAMES = [
    "Ann",
    "ann",
    "Bob",
    "Just nutha ignint cracker",
    "just nutha",
    "J.R. O'Neil-Smith 2nd",
    "Дмитрий",
    "李雷",
    None,
]
WORDS = ["war", "shells", "drones", "treaty", "children", "duds", "trenches", "allies", "winter", "sanctions"]


@st.composite
def threads(draw: st.DrawFn) -> list[CommentText]:
    comments: list[CommentText] = []
    for _ in range(draw(st.integers(1, 12))):
        parts = []
        for _ in range(draw(st.integers(1, 4))):
            kind = draw(st.sampled_from(["words", "marker", "mention", "quote", "email", "unicode"]))
            if kind == "words":
                parts.append(" ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=15))))
            elif kind == "marker":
                parts.append("@" + str(draw(st.sampled_from(NAMES))) + ":")
            elif kind == "mention":
                parts.append(f"as @{draw(st.sampled_from(NAMES))} said")
            elif kind == "quote" and comments:
                earlier = draw(st.sampled_from(comments)).body
                start = draw(st.integers(0, len(earlier)))
                parts.append(earlier[start : start + draw(st.integers(0, 200))])
            elif kind == "email":
                parts.append("mail a@b.com")
            else:
                parts.append(draw(st.text(max_size=30)))
        separator = draw(st.sampled_from(["\n\n", "\n", " "]))
        comments.append(CommentText(draw(st.sampled_from(NAMES)), separator.join(parts)))
    return comments


@settings(max_examples=200, deadline=None)
@given(threads())
def test_any_thread_gives_consistent_links_spans_and_parents(comments: list[CommentText]) -> None:
    results = reconstruct_threads(ARTICLE, comments)
    assert len(results) == len(comments)
    for position, (comment, result) in enumerate(zip(comments, results, strict=True)):
        assert all(0 <= link.target < position for link in result.links)
        assert len({link.target for link in result.links}) == len(result.links)
        assert [link.position for link in result.links] == sorted(link.position for link in result.links)
        assert (result.parent is None) == (result.links == ())
        assert result.parent is None or result.parent in {link.target for link in result.links}
        for link in result.links:
            assert 0 < link.score <= 1
            assert comment.body[link.position :].startswith(link.evidence)
            assert link.method == "quote" or link.evidence.startswith("@")
            assert (link.method == "content") == bool(link.basis)
        spans = sorted((span.start, span.end) for span in result.quoted_spans)
        assert all(0 <= start < end <= len(comment.body) for start, end in spans)
        assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))
        assert all(span.source is None or 0 <= span.source < position for span in result.quoted_spans)
        assert result.quotes_article == any(span.source is None for span in result.quoted_spans)
    assert reconstruct_threads(ARTICLE, comments) == results  # deterministic


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(NAMES), st.integers(0, 10**9)), min_size=1, max_size=15, unique_by=lambda t: t[1]
    )
)
def test_fresh_text_without_markers_never_links(authors_and_seeds: list[tuple[str | None, int]]) -> None:
    comments = []
    for author, seed in authors_and_seeds:
        rng = random.Random(seed)
        body = " ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7)) for _ in range(30))
        comments.append(CommentText(author, body))
    assert all(result.links == () for result in reconstruct_threads(ARTICLE, comments))


def test_public_result_types_are_unchanged() -> None:
    def names(cls: type) -> list[str]:
        return [field.name for field in dataclasses.fields(cls)]

    assert names(CommentText) == ["author", "body"]
    assert names(Link) == ["target", "method", "score", "evidence", "position", "basis"]
    assert names(QuotedSpan) == ["start", "end", "source", "score"]
    assert names(ThreadedComment) == ["links", "parent", "quotes_article", "quoted_spans"]


def test_empty_thread_and_empty_bodies() -> None:
    assert reconstruct_threads("", []) == []
    assert run(("Ann", ""), ("Bob", ""), article="") == [ThreadedComment((), None, False, ())] * 2


# --- Tree layout --------------------------------------------------------------------------------------------


def test_tree_layout_depths_and_pre_order() -> None:
    #   0          -> (0, 0)
    #   |- 1       -> (1, 1)
    #   |  `- 3    -> (2, 2)
    #   `- 4       -> (1, 3)
    #   2          -> (0, 4)
    #   `- 5       -> (1, 5)
    assert tree_layout([None, 0, None, 1, 0, 2]) == [(0, 0), (1, 1), (0, 4), (2, 2), (1, 3), (1, 5)]


def test_tree_layout_without_replies_keeps_file_order() -> None:
    assert tree_layout([None] * 4) == [(0, 0), (0, 1), (0, 2), (0, 3)]
    assert tree_layout([]) == []


def test_tree_layout_handles_a_very_deep_chain() -> None:
    depth = 20_000
    layout = tree_layout([None, *range(depth - 1)])
    assert layout[-1] == (depth - 1, depth - 1)


@pytest.mark.parametrize("parents", [[0], [None, 1], [None, 2, None], [None, -1], [None, 0, 5]])
def test_tree_layout_rejects_parents_that_do_not_come_earlier(parents: list[int | None]) -> None:
    with pytest.raises(ValueError, match="a parent must come earlier"):
        tree_layout(parents)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10**6), max_size=60).map(lambda draws: draws))
def test_tree_layout_is_a_stable_pre_order(draws: list[int]) -> None:
    # Each draw picks a parent among the earlier comments, or none.
    parents: list[int | None] = [
        None if draw % (index + 1) == index else draw % (index + 1) for index, draw in enumerate(draws)
    ]
    layout = tree_layout(parents)
    orders = [order for _, order in layout]
    assert sorted(orders) == list(range(len(parents)))
    by_order = sorted(range(len(parents)), key=lambda index: orders[index])
    for index, parent in enumerate(parents):
        depth, order = layout[index]
        if parent is None:
            assert depth == 0
        else:
            assert depth == layout[parent][0] + 1
            assert order > layout[parent][1]
    for position, index in enumerate(by_order[1:], start=1):
        previous = by_order[position - 1]
        # In pre-order, a comment follows either its parent or a descendant of an earlier sibling (or root).
        assert parents[index] is None or parents[index] == previous or layout[previous][0] >= layout[index][0]
    roots = [index for index, parent in enumerate(parents) if parent is None]
    assert [orders[root] for root in roots] == sorted(orders[root] for root in roots)
    children: dict[int, list[int]] = {}
    for index, parent in enumerate(parents):
        if parent is not None:
            children.setdefault(parent, []).append(index)
    for siblings in children.values():
        assert [orders[child] for child in siblings] == sorted(orders[child] for child in siblings)


def test_marker_for_a_longer_name_nobody_used_gives_no_link() -> None:
    results = run(
        ("Andy", "Cluster munitions are area weapons with real tradeoffs."),
        ("Bea", "@Andy Smith: you told me this last week, and I still disagree."),
        ("Cy", "@Andy I ask: where are the numbers?"),
    )

    assert targets(results) == [set(), set(), {0}]


def test_marker_for_the_article_author_answered_with_an_article_quote_replies_to_the_article() -> None:
    article = "The weapons would be enormously unpopular among allies and members of the president's own party."
    comments = [
        CommentText("Joyner", "Thanks for the comments, all. I will write more about this on Monday."),
        CommentText(
            "Reader",
            "@Joyner:\n\nThe weapons would be enormously unpopular among allies and members of the president's"
            " own party.\n\nUnpopular is not the same as wrong.",
        ),
        CommentText("Other", "@Joyner: what do you expect to write on Monday, then?"),
    ]

    results = reconstruct_threads(article, comments, article_author="Joyner")
    without_author = reconstruct_threads(article, comments)

    assert results[1].links == ()
    assert results[1].parent is None
    assert results[1].quotes_article
    assert targets(results)[2] == {0}  # a plain marker still answers his latest comment
    assert targets(without_author)[1] == {0}  # not told who wrote the article, the marker falls back
