"""Reply links on documents nobody has seen: one small thread per hard class of issue 12, both ways (what must
link, and the near miss that must not). Pure: no database, no Django."""

from __future__ import annotations

import pytest

from debate.reply_threads import CommentText, ThreadedComment, reconstruct_threads

ARTICLE = (
    "Washington has approved a second shipment of cluster munitions for Ukraine. The Pentagon says the dud rate "
    "is below 2.35 percent, but critics cite tests at the White Sands range where older rounds failed far more "
    "often.\n\nEvery failed bomblet is a small mine waiting in a wheat field."
)


def run(*comments: tuple[str | None, str], numbers: list[int] | None = None) -> list[ThreadedComment]:
    texts = [CommentText(author, body) for author, body in comments]
    return reconstruct_threads(ARTICLE, texts, numbers=numbers)


def targets(result: ThreadedComment) -> set[int]:
    return {link.target for link in result.links}


# Names lacking the display name's punctuation, or with a space after the "@" --------------------------------


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("Tom K.", "@Tom K: the bridge became a road."),
        ("Tom K.", "@tom k: the bridge became a road."),
        ("Tom K.", "I think @Tom K is right about the bridge."),
        ("Maria B.", "@ Maria B.: the bridge became a road."),
        ("Maria B.", "@ Maria B: the bridge became a road."),
        ("Maria B.", "Thanks, @ Maria B. That settles it."),
        ("J.R. Hale!", "@J.R. Hale: agreed on the bridge."),
        ("Briggs (ret.)", "@Briggs: the bridge became a road."),
        ("Halyna 🇺🇦", "@Halyna: the bridge became a road."),
    ],
)
def test_markers_without_the_names_punctuation_or_with_a_space_link(name: str, body: str) -> None:
    results = run((name, "Shell production never caught up."), ("Zed", "Unrelated."), ("Bob", body))
    assert targets(results[2]) == {0}
    link = results[2].links[0]
    assert results[2]
    assert CommentText("Bob", body).body[link.position :].startswith(link.evidence)


def test_a_space_after_the_at_sign_is_kept_in_the_evidence() -> None:
    results = run(("Maria B.", "one"), ("Bob", "@ Maria B.: two"))
    link = results[1].links[0]
    assert (link.evidence, link.position) == ("@ Maria B.:", 0)


@pytest.mark.parametrize(
    "body",
    [
        "Meet me @ 5pm: we can talk about the bridge.",
        "@ the station: nobody is there.",
        "@Tom L: who are you?",  # another initial: someone not seen
        "@Tommy K: a longer first name is another person",
    ],
)
def test_near_misses_of_a_name_link_nothing(body: str) -> None:
    results = run(("Tom K.", "one"), ("Bob", body))
    assert results[1].links == ()


def test_the_exact_spelling_wins_over_an_undecorated_match() -> None:
    results = run(("Tom K.", "dotted"), ("Tom K", "plain"), ("Bob", "@Tom K: hi"), ("Cat", "@Tom K.: hi"))
    assert targets(results[2]) == {1}
    assert targets(results[3]) == {0}


# Decorated and shortened names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "marker"),
    [
        ("🦊RedFox", "@RedFox:"),
        ("RedFox🦊", "@RedFox:"),
        ("🦊RedFox", "@redfox"),
        ("RedFox", "@🦊RedFox:"),
        ("⚓ Harbor Pilot", "@Harbor Pilot:"),
        ("⚓ Harbor Pilot", "As @Harbor Pilot said,"),
        ("Old Gunner ★", "@Old Gunner:"),
        ("★Hal★", "@Hal:"),
        ("~Kat~", "@Kat"),
        ("Ann Kowalski", "@Ann K.:"),
        ("Ann Kowalski", "@Ann K:"),
        ("Ann Kowalski", "@A. Kowalski:"),
        ("Ann Kowalski", "@Kowalski:"),
        ("Oksana Hrytsenko", "@Oksana H.:"),
        ("Dr. Ingrid Solberg", "@Dr. Solberg:"),
        ("Dr. Ingrid Solberg", "As @Dr. Solberg said,"),
        ("Dr. Ingrid Solberg", "@Ingrid Solberg:"),
        ("Dr. Ingrid Solberg", "@Ingrid:"),
        ("Ingrid Solberg", "@Dr. Solberg:"),
        ("Pete1975", "@Pete:"),
        ("Pete1975", "thanks @pete"),
        ("hawkeye_77", "@hawkeye:"),
        ("Pete", "@Pete1975:"),
        ("Tom K.", "@TomK:"),
        ("Red Fox", "@RedFox"),
    ],
)
def test_decorated_and_shortened_names_link(name: str, marker: str) -> None:
    results = run((name, "The farmland of Kherson needs deminers."), ("Zed", "Other."), ("Bob", f"{marker} yes"))
    assert targets(results[2]) == {0}


@pytest.mark.parametrize("marker", ["@Ann K.:", "@Kowalski:", "@A. Kowalski:"])
def test_an_initial_or_surname_that_fits_two_people_links_nobody(marker: str) -> None:
    results = run(
        ("Ann Kowalski", "Izium had mostly ordinary shells."),
        ("Adam Kowalski", "Kherson is worse."),
        ("Ann Kimball", "No idea."),
        ("Bob", f"{marker} thanks."),
    )
    assert results[3].links == ()


@pytest.mark.parametrize("marker", ["@Pet:", "@Tomas:", "@Mr. Solberg:", "@Dr. Kowalski:"])
def test_other_shortenings_link_nobody(marker: str) -> None:
    results = run(("Pete1975", "one"), ("Dr. Ingrid Solberg", "two"), ("Zoe Tom", "three"), ("Bob", f"{marker} hi"))
    assert results[3].links == ()


def test_a_surname_needs_a_colon_and_some_length() -> None:
    results = run(("Ann Ko", "one"), ("Bob", "@Ko: two"), ("Cat", "as @Kowalski said"))
    assert results[1].links == ()
    assert results[2].links == ()


# Quotations in single quotes, short or mistyped when marked, with gaps ----------------------------------------

SAPPER = "The sappers hated the PTM mines far more than any bomblet, and the ratio is the same further south."


@pytest.mark.parametrize(
    "body",
    [
        "Fair. ‘hated the PTM mines far more than any bomblet’ matches what I saw near Izium.",
        "You say ‘the ratio is the same further south’ but Kherson was different.",
        "Hm, 'the ratio is the same further south' is not what the deminers report.",
        '"the PTM mines" is the key phrase there.',
        "“PTM mines far more” — yes.",
        "'sappers hated the PTM' - source?",
        "> the sappers hated the PTM mines\n\nSource?",
        ">the sappers hated\nNo they did not.",
        "&gt; the PTM mines\n\nSure.",
    ],
)
def test_marked_quotations_link_even_when_short(body: str) -> None:
    results = run(("Ann", SAPPER), ("Zed", "Unrelated chatter about trains."), ("Bob", body))
    assert targets(results[2]) == {0}
    assert results[2].links[0].method == "quote"


@pytest.mark.parametrize(
    "body",
    [
        "“the PTM mine far more then any bomblet” — yes.",  # two typos
        "'the sapers hated the PTM mines' - no.",
        "> ratio is teh same further south\n\nReally?",
    ],
)
def test_marked_quotations_with_a_typo_link_with_a_lower_score(body: str) -> None:
    results = run(("Ann", SAPPER), ("Zed", "Other."), ("Bob", body))
    assert targets(results[2]) == {0}
    assert 0.85 < results[2].links[0].score < 1.0


@pytest.mark.parametrize(
    "body",
    [
        "the ratio is the same, I think, further south.",  # unmarked and short: an echo, not a quote
        "the PTM mines are awful.",
        "'PTM mines' - what are those?",  # two words: too short even when marked
        "“I agree completely”",  # nothing but stock words
        "I don't know, it's the sappers' view and they're the ones who'd know.",  # apostrophes, no quotation
        "> rockets over Belgorod every night\n\nNo.",  # marked, but in no earlier text
    ],
)
def test_unmarked_short_echoes_and_stock_phrases_link_nothing(body: str) -> None:
    results = run(("Ann", SAPPER), ("Bob", body))
    assert results[1].links == ()


def test_a_short_marked_phrase_many_comments_share_is_a_set_phrase() -> None:
    phrase = "special military operation"
    results = run(
        ("Ann", f"The {phrase} is a lie."),
        ("Bob", f"Calling it a {phrase} fools nobody."),
        ("Cat", f"Their {phrase} failed in a week."),
        ("Dan", f"The so-called “{phrase}” again."),
    )
    assert results[3].links == ()


def test_a_marked_short_quote_goes_to_the_original_not_the_re_quoter() -> None:
    results = run(
        ("Ann", SAPPER),
        ("Bob", "‘hated the PTM mines’ — me too."),
        ("Cat", "‘hated the PTM mines’ is an understatement."),
    )
    assert targets(results[1]) == {0}
    assert targets(results[2]) == {0}


GAPPED_SOURCE = (
    "The escalation already happened, it is happening every night over my parents' building in Saltivka, "
    "and every morning we read about red lines."
)


@pytest.mark.parametrize(
    "body",
    [
        '"The escalation already happened... every night over my parents\' building" — still true.',
        "“The escalation already happened … my parents' building in Saltivka” I wrote that last week.",
        "> escalation already happened ... we read about red lines\n\nStill.",
        "The escalation already happened ... every night over my parents' building in Saltivka.\n\nSo?",
        "‘happening every night…red lines’, she said.",
    ],
)
def test_a_quotation_with_a_gap_links_when_its_parts_are_in_order_in_one_comment(body: str) -> None:
    results = run(("Oksana", GAPPED_SOURCE), ("Zed", "Other."), ("Bob", body))
    assert targets(results[2]) == {0}


@pytest.mark.parametrize(
    "body",
    [
        '"every night over my parents\' building ... The escalation already happened" — order reversed.',
        '"The escalation already happened ... the trains run on time" - second part from nowhere.',
        '"The escalation already happened ... Kharkiv had no power" - second part from another comment.',
    ],
)
def test_a_gapped_quotation_out_of_order_or_across_comments_links_nothing(body: str) -> None:
    results = run(("Oksana", GAPPED_SOURCE), ("Zed", "Kharkiv had no power for a day."), ("Bob", body))
    assert results[2].links == ()


def test_a_gapped_quotation_of_the_article_marks_an_article_quote() -> None:
    results = run(("Ann", "“Every failed bomblet … in a wheat field.” Exactly my fear."))
    assert results[0].quotes_article
    assert results[0].links == ()


# Replies to deleted comments ----------------------------------------------------------------------------------

LENA = "The Oslo treaty was signed by countries that will never face an invasion."


def test_a_reply_quoting_what_no_remaining_comment_says_answers_a_deleted_comment() -> None:
    thread = (("Lena", LENA), ("Dave", "@Lena: “nobody here has ever seen a bomblet” — speak for yourself."))
    assert run(*thread, numbers=[1, 3])[1].links == ()  # #2 is gone
    assert targets(run(*thread, numbers=[1, 2])[1]) == {0}  # nothing deleted: it answers Lena's comment
    assert targets(run(*thread)[1]) == {0}  # numbers unknown: the marker stands


def test_a_reply_to_a_deleted_comment_still_links_what_it_quotes_from_remaining_ones() -> None:
    results = run(
        ("Lena", LENA),
        ("Ann", "Cluster munitions keep killing farmers for decades after the war ends."),
        ("Dave", "@Lena: 'nobody has seen a bomblet' is wrong, and 'killing farmers for decades' is right."),
        numbers=[1, 2, 4],
    )
    assert targets(results[2]) == {1}


def test_a_loose_quotation_of_the_authors_remaining_comment_is_no_reply_to_a_deleted_one() -> None:
    results = run(
        ("Rene", "Iranian drones, North Korean shells. The only side with self-imposed limits is ours."),
        ("Rene", "Morozovsk and Millerovo are the airfields that matter."),
        ("Nina", "@Rene: “the only side with limits is ours” - and thank god for that."),
        numbers=[1, 2, 4],
    )
    assert targets(results[2]) == {0}


@pytest.mark.parametrize(
    "body",
    [
        "@Lena: as Biden said, “we will not send the troops”, and look at us now.",  # a third party's words
        "@Lena: exactly, the treaty was easy for them to sign.",  # no quotation at all
        "@Lena: 'invasion' is the word.",  # too short to be a quotation
    ],
)
def test_a_gap_in_the_numbers_alone_does_not_unlink_a_marker(body: str) -> None:
    results = run(("Lena", LENA), ("Dave", body), numbers=[1, 5])
    assert targets(results[1]) == {0}


# Choosing among several candidates by what the reply says ------------------------------------------------------

TOM = [
    ("Tom K.", "Second shipment already? The bridge until shell production caught up is now a road."),
    ("Tom K.", "We let the shell lines close in the nineties and now we are surprised."),
    ("Tom K.", "The Pentagon figure came from tests in 2020 on rounds made in the eighties."),
]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("@Tom K.: the closures were not only in the nineties.", 1),
        ("@Tom K.: a bridge that became a road, nice image.", 0),
        ("@Tom: eighties rounds tested in 2020? I didn't know the test was that old.", 2),
        ("Late, but as @Tom K. said, the nineties did this. Everything since is a symptom.", 1),
    ],
)
def test_the_reply_words_choose_among_an_authors_comments(reply: str, expected: int) -> None:
    results = run(*TOM, ("Ann", reply))
    (link,) = results[3].links
    assert link.target == expected
    if expected != 2:
        assert link.method == "content"
        assert link.score >= 0.08
        assert link.basis
        assert "next best" in link.basis


def test_the_deciding_words_are_recorded_on_the_link() -> None:
    results = run(
        ("Ann Kowalski", "I spent two summers with a demining NGO near Izium; cluster remnants were a minority."),
        ("Ann Kowalski", "Radford and Scranton ran on a shoestring until 2022."),
        ("Tom", "@Ann Kowalski: did your NGO publish the Izium numbers?"),
    )
    (link,) = results[2].links
    assert (link.target, link.method, link.evidence, link.position) == (0, "content", "@Ann Kowalski:", 0)
    assert link.basis.startswith(("izium, ngo", "ngo, izium"))


def test_a_shortened_name_several_authors_start_is_told_apart_by_content() -> None:
    results = run(
        ("Maria B.", "The 14 percent figure comes from tests on older lots; the newer lots are better."),
        ("Maria Santos", "I live in Lisbon and we should not decide for Ukrainians."),
        ("Tom", "@Maria: about the older lots: the newer lots argument cuts both ways."),
        ("Dan", "@Maria: thanks."),
    )
    assert targets(results[2]) == {0}
    assert results[2].links[0].method == "content"
    assert targets(results[3]) == {1}  # nothing distinguishes: the latest of them


@pytest.mark.parametrize(
    "reply",
    [
        "@Tom K.: no.",
        "@Tom K.: I agree with you, and I think people know it.",
        "@Tom K.: in 2020 or 2021, who knows.",  # a number alone is not evidence
        "@Tom K.: shells, shells, shells.",  # in two of his comments: nothing to choose between them
    ],
)
def test_without_telling_words_the_marker_answers_the_latest(reply: str) -> None:
    results = run(*TOM, ("Ann", reply))
    (link,) = results[3].links
    assert (link.target, link.method, link.basis) == (2, "mention", "")


def test_content_never_links_a_comment_without_a_marker() -> None:
    results = run(*TOM, ("Ann", "The closures in the nineties were a scandal, bridge or road."))
    assert results[3].links == ()


def test_a_quote_still_pins_the_marker_before_content_is_asked() -> None:
    results = run(*TOM, ("Ann", "@Tom K.: “rounds made in the eighties” — the nineties closures came later."))
    assert targets(results[3]) == {2}
    assert results[3].links[0].method == "quote"


def test_a_long_reply_of_plain_words_does_not_override_the_latest() -> None:
    words = "shipment bridge road production caught surprised lines close figure pentagon tests rounds"
    results = run(*TOM, ("Ann", f"@Tom K.: {words} logistics doctrine budgets factories winter harvest grain"))
    (link,) = results[3].links
    assert link.target == 2


MARGUERITE = [
    ("Marguerite", "A single round carries 88 submunitions. Fire a few thousand and do the arithmetic."),
    ("Pete", "@Marguerite: your arithmetic is correct and it is ugly."),
    ("Marguerite", "Thank you, I was not sure about the M483A1 count."),
    ("Marguerite", "Understandable is not the same as right."),
]


def test_a_word_only_a_comment_and_its_answers_used_tells_that_comment() -> None:
    results = run(*MARGUERITE, ("Pete", "For the record, @Marguerite's arithmetic is the best comment here."))
    (link,) = results[4].links
    assert (link.target, link.method) == (0, "content")
    assert link.basis.startswith("arithmetic")


def test_a_word_the_article_has_too_tells_nothing() -> None:
    results = run(*MARGUERITE, ("Pete", "@Marguerite: you are welcome, the rounds are nasty for one reason."))
    (link,) = results[4].links
    assert (link.target, link.method) == (3, "mention")
