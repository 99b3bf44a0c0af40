"""Agreement measures: checked against the reference libraries, published examples and edge cases."""

from __future__ import annotations

import json
import math
import random
import uuid
import warnings
from fractions import Fraction

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from annotations.quality.agreement import (
    STANCES,
    Rating,
    RatingTable,
    _alphas,
    _pair_confusions,
    _unit_disagreement,
    bootstrap_alpha_interval,
    cohen_kappa,
    confusion_matrix,
    depth_bucket,
    fleiss_kappa,
    krippendorff_alpha,
    pairwise_cohen,
    percent_agreement,
    topic_report,
    topic_report_from_arrays,
)

TOLERANCE = 1e-9
NAN = math.nan

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C: nominal data, four
# observers, twelve units, missing values. Published α = 0.743; by hand 1 − 39 · 8 / (40² − 384) = 113/152.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]

# Wikipedia, "Fleiss' kappa", worked example: 14 raters, 10 subjects, 5 categories, κ = 0.210.
WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


# ------------------------------------------------------------------------------------------------
# Helpers


def random_matrix(rng: np.random.Generator, *, complete: bool = False) -> tuple[np.ndarray, int]:
    """Annotators × items float matrix of category codes, NaN where missing, with its number of categories."""
    n_annotators = int(rng.integers(1, 9))
    n_items = int(rng.integers(1, 40))
    n_categories = int(rng.integers(2, 6))
    # Skewed category probabilities and a shared "true" label make agreement range from chance to perfect.
    truth = rng.integers(0, n_categories, n_items)
    noise = rng.random()
    matrix = np.where(
        rng.random((n_annotators, n_items)) < noise,
        rng.choice(n_categories, (n_annotators, n_items), p=rng.dirichlet(np.ones(n_categories))),
        truth,
    ).astype(float)
    if not complete:
        matrix[rng.random(matrix.shape) < rng.uniform(0, 0.7)] = NAN
    return matrix, n_categories


def reference_alpha(matrix: np.ndarray) -> float | None:
    """The krippendorff package's nominal α, with its errors and NaNs for undefined read as None."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            value = float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))
    except ValueError:
        return None
    return None if math.isnan(value) else value


def reference_kappa(first: np.ndarray, second: np.ndarray) -> float | None:
    if len(first) == 0:
        return None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        value = float(cohen_kappa_score(first, second))
    return None if math.isnan(value) else value


def reference_fleiss(counts: np.ndarray) -> float | None:
    if len(counts) == 0:
        return None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        value = float(statsmodels_fleiss_kappa(counts, method="fleiss"))
    return None if not math.isfinite(value) else value


def table_of(matrix: np.ndarray, n_categories: int) -> RatingTable:
    return RatingTable.from_matrix(matrix, labels=range(n_categories))


def assert_close(actual: float | None, expected: float | None) -> None:
    if expected is None:
        assert actual is None
    else:
        assert actual is not None
        assert actual == pytest.approx(expected, abs=TOLERANCE, rel=0)


def stance_rows(rows: dict[str, list[str | None]]) -> list[tuple[str, str, str | None]]:
    """Ratings from {annotator: labels by item position}; None leaves the item unlabelled."""
    return [
        (f"c{position}", annotator, label)
        for annotator, labels in rows.items()
        for position, label in enumerate(labels)
        if label is not None
    ]


# ------------------------------------------------------------------------------------------------
# Krippendorff's α


def test_alpha_reproduces_krippendorff_2011_nominal_example_with_missing_data() -> None:
    alpha = krippendorff_alpha(RatingTable.from_matrix(np.array(KRIPPENDORFF_2011), labels=[1, 2, 3, 4, 5]))

    assert alpha is not None
    assert round(alpha, 3) == 0.743
    assert alpha == pytest.approx(float(Fraction(113, 152)), abs=1e-12)


def test_alpha_reproduces_wikipedia_three_coder_nominal_example() -> None:
    # The krippendorff package's doctest (after Krippendorff's own 3-coder, 15-unit example): 0.691358.
    data = [
        [NAN, NAN, NAN, NAN, NAN, 3, 4, 1, 2, 1, 1, 3, 3, NAN, 3],
        [1, NAN, 2, 1, 3, 3, 4, 3, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
        [NAN, NAN, 2, 1, 3, 4, 4, NAN, 2, 1, 1, 3, 3, NAN, 4],
    ]
    alpha = krippendorff_alpha(RatingTable.from_matrix(np.array(data), labels=[1, 2, 3, 4]))

    assert alpha == pytest.approx(0.691358, abs=5e-7)


@pytest.mark.parametrize("seed", range(20))
def test_alpha_equals_krippendorff_package_on_random_matrices_with_missing_labels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(25):
        matrix, n_categories = random_matrix(rng)

        assert_close(krippendorff_alpha(table_of(matrix, n_categories)), reference_alpha(matrix))


def test_alpha_from_triples_equals_alpha_from_matrix_with_string_labels() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        matrix, _ = random_matrix(rng)
        names = [*STANCES, "off_topic"]
        triples = [
            (f"item-{item}", f"annotator-{annotator}", names[int(value)])
            for (annotator, item), value in np.ndenumerate(matrix)
            if not math.isnan(value)
        ]

        assert_close(krippendorff_alpha(triples, labels=names), reference_alpha(matrix))


def test_alpha_is_none_without_items() -> None:
    assert krippendorff_alpha([]) is None
    assert bootstrap_alpha_interval([]) is None


def test_alpha_is_none_with_a_single_annotator() -> None:
    ratings = [("c1", "ann", "favor"), ("c2", "ann", "against"), ("c3", "ann", "neutral")]

    assert krippendorff_alpha(ratings) is None
    assert bootstrap_alpha_interval(ratings) is None


def test_alpha_is_none_not_nan_when_every_label_is_identical() -> None:
    ratings = stance_rows({"a": ["favor"] * 5, "b": ["favor"] * 5, "c": ["favor", None, "favor", "favor", None]})

    assert krippendorff_alpha(ratings) is None
    assert bootstrap_alpha_interval(ratings) is None


def test_alpha_is_none_when_only_unpairable_items_carry_a_second_category() -> None:
    # The lone "against" sits on an item nobody else labelled, so every pairable value is "favor".
    ratings = [*stance_rows({"a": ["favor", "favor"], "b": ["favor", "favor"]}), ("c9", "a", "against")]

    assert krippendorff_alpha(ratings) is None


def test_single_label_items_are_excluded_from_alpha_and_percent_agreement() -> None:
    base = stance_rows({"a": ["favor", "against", "neutral", "favor"], "b": ["favor", "neutral", "neutral", "against"]})
    padded = [*base, ("x1", "a", "not_about"), ("x2", "b", "favor"), ("x3", "c", "against")]

    assert krippendorff_alpha(padded) == krippendorff_alpha(base)
    assert bootstrap_alpha_interval(padded) == bootstrap_alpha_interval(base)
    assert percent_agreement(padded) == percent_agreement(base)
    report = topic_report(padded, resamples=50)
    assert (report.items, report.pairable_items, report.alpha.items) == (7, 4, 4)


def test_perfect_agreement_gives_alpha_one() -> None:
    ratings = stance_rows({"a": list(STANCES), "b": list(STANCES), "c": [*STANCES[:3], None]})

    assert krippendorff_alpha(ratings) == 1.0
    assert bootstrap_alpha_interval(ratings) == (1.0, 1.0)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.sampled_from(STANCES)), min_size=2, max_size=5),
        min_size=1,
        max_size=15,
    ),
    st.permutations(STANCES),
    st.randoms(use_true_random=False),
)
def test_alpha_ignores_category_names_and_row_order(
    items: list[list[str | None]], renaming: list[str], shuffler: random.Random
) -> None:
    ratings = [(i, a, label) for i, labels in enumerate(items) for a, label in enumerate(labels) if label is not None]
    rename = dict(zip(STANCES, renaming, strict=True))
    renamed = [(i, a, rename[label]) for i, a, label in ratings]
    shuffled = list(renamed)
    shuffler.shuffle(shuffled)

    alpha, renamed_alpha = krippendorff_alpha(ratings), krippendorff_alpha(shuffled)

    assert_close(renamed_alpha, alpha)
    if alpha is not None:
        assert alpha <= 1.0


# ------------------------------------------------------------------------------------------------
# Bootstrap interval


def random_stance_table(seed: int, n_items: int = 300, n_annotators: int = 5, noise: float = 0.35) -> RatingTable:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 4, n_items)
    matrix = np.where(rng.random((n_annotators, n_items)) < noise, rng.integers(0, 4, (n_annotators, n_items)), truth)
    labels = np.array(STANCES, dtype=object)[matrix]
    labels[rng.random(labels.shape) < 0.2] = None
    return RatingTable.from_matrix(labels)


def test_bootstrap_interval_is_reproducible_with_the_same_seed_and_varies_with_another() -> None:
    table = random_stance_table(1)

    first = bootstrap_alpha_interval(table, seed=3)

    assert first == bootstrap_alpha_interval(table, seed=3)
    assert first != bootstrap_alpha_interval(table, seed=4)


def test_bootstrap_interval_brackets_alpha_and_narrows_with_lower_confidence() -> None:
    table = random_stance_table(2)
    alpha = krippendorff_alpha(table)

    wide = bootstrap_alpha_interval(table, confidence=0.95)
    narrow = bootstrap_alpha_interval(table, confidence=0.5)

    assert alpha is not None
    assert wide is not None
    assert narrow is not None
    assert wide[0] < narrow[0] < alpha < narrow[1] < wide[1]


def test_bootstrap_replicate_formula_equals_alpha_of_the_resampled_items() -> None:
    # The bootstrap sums per-item contributions weighted by multiplicities; that must be α of the data
    # with each item repeated that many times.
    rng = np.random.default_rng(5)
    counts = random_stance_table(5, n_items=60).value_counts()
    counts = counts[counts.sum(axis=1) >= 2]
    contributions = np.column_stack([counts.sum(axis=1), _unit_disagreement(counts), counts]).astype(float)
    for _ in range(30):
        weights = rng.multinomial(len(counts), np.full(len(counts), 1 / len(counts)))
        totals = weights.astype(float) @ contributions
        replicate = _alphas(totals[np.newaxis, 0], totals[np.newaxis, 1], totals[np.newaxis, 2:])[0]

        expected = krippendorff.alpha(value_counts=np.repeat(counts, weights, axis=0), level_of_measurement="nominal")

        assert replicate == pytest.approx(expected, abs=TOLERANCE)


def test_bootstrap_interval_agrees_with_a_naive_item_bootstrap() -> None:
    table = random_stance_table(6, n_items=80, n_annotators=3)
    counts = table.value_counts()
    counts = counts[counts.sum(axis=1) >= 2]
    rng = np.random.default_rng(99)
    naive = [
        krippendorff.alpha(
            value_counts=counts[rng.integers(0, len(counts), len(counts))], level_of_measurement="nominal"
        )
        for _ in range(3000)
    ]

    interval = bootstrap_alpha_interval(table, resamples=3000)

    assert interval is not None
    assert interval == pytest.approx(tuple(np.quantile(naive, [0.025, 0.975])), abs=0.03)


def test_bootstrap_with_zero_resamples_gives_no_interval() -> None:
    assert bootstrap_alpha_interval(random_stance_table(1), resamples=0) is None


@pytest.mark.parametrize(("resamples", "confidence"), [(-1, 0.95), (10, 0.0), (10, 1.0), (10, 1.5)])
def test_bootstrap_rejects_invalid_settings(resamples: int, confidence: float) -> None:
    with pytest.raises(ValueError, match=r"resamples|confidence"):
        bootstrap_alpha_interval(random_stance_table(1), resamples=resamples, confidence=confidence)


# ------------------------------------------------------------------------------------------------
# Cohen's κ and confusion matrices


def test_cohen_kappa_reproduces_wikipedia_worked_example() -> None:
    # Wikipedia, "Cohen's kappa": 50 grant proposals, yes/yes 20, yes/no 5, no/yes 10, no/no 15 → κ = 0.4.
    pairs = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    ratings = [(i, who, label) for i, pair in enumerate(pairs) for who, label in zip("AB", pair, strict=True)]

    kappa = cohen_kappa(ratings, "A", "B", labels=["yes", "no"])

    assert kappa == pytest.approx(0.4, abs=1e-12)
    assert confusion_matrix(ratings, "A", "B", labels=["yes", "no"]) == [[20, 5], [10, 15]]


@pytest.mark.parametrize("seed", range(10))
def test_pairwise_cohen_equals_sklearn_for_every_pair_on_random_matrices(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    for _ in range(15):
        matrix, n_categories = random_matrix(rng)
        table = table_of(matrix, n_categories)
        listed = {(pair.annotator_a, pair.annotator_b): pair for pair in pairwise_cohen(table)}

        for a in range(matrix.shape[0]):
            for b in range(a + 1, matrix.shape[0]):
                both = ~np.isnan(matrix[a]) & ~np.isnan(matrix[b])
                expected = reference_kappa(matrix[a, both], matrix[b, both])
                assert_close(cohen_kappa(table, a, b), expected)
                if not both.any():
                    assert (a, b) not in listed
                    continue
                pair = listed[(a, b)]
                assert pair.overlap == both.sum()
                assert_close(pair.kappa, expected)
                assert pair.agreement == pytest.approx(np.mean(matrix[a, both] == matrix[b, both]), abs=TOLERANCE)


@pytest.mark.parametrize("seed", range(5))
def test_confusion_matrix_equals_sklearn_and_matches_the_pairwise_listing(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    table = random_stance_table(300 + seed, n_items=50, n_annotators=4)
    rows = {(a, b): pair.confusion for pair in pairwise_cohen(table) for a, b in [(pair.annotator_a, pair.annotator_b)]}
    a, b = (int(x) for x in rng.choice(4, 2, replace=False))
    labels_of = {}
    for who in (a, b):
        mine = table.annotator_codes == who
        labels_of[who] = dict(zip(table.item_codes[mine].tolist(), table.label_codes[mine].tolist(), strict=True))
    shared = sorted(labels_of[a].keys() & labels_of[b].keys())

    matrix = confusion_matrix(table, a, b)

    expected = sklearn_confusion_matrix(
        [labels_of[a][i] for i in shared], [labels_of[b][i] for i in shared], labels=range(4)
    ).tolist()
    assert matrix == expected
    listed = rows[(min(a, b), max(a, b))]
    assert [list(row) for row in listed] == (expected if a < b else np.array(expected).T.tolist())


def test_confusion_matrix_rows_are_the_first_annotators_labels_in_label_set_order() -> None:
    ratings = stance_rows(
        {"ann": ["favor", "favor", "against", "not_about"], "bob": ["against", "favor", "against", None]}
    )

    assert confusion_matrix(ratings, "ann", "bob") == [[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]


def test_confusion_matrix_and_kappa_for_an_annotator_without_labels() -> None:
    ratings = stance_rows({"ann": ["favor", "against"], "bob": ["favor", "against"]})

    assert confusion_matrix(ratings, "ann", "nobody") == [[0] * 4 for _ in range(4)]
    assert cohen_kappa(ratings, "ann", "nobody") is None


def test_cohen_kappa_is_none_when_both_annotators_use_one_category() -> None:
    ratings = stance_rows({"ann": ["neutral"] * 3, "bob": ["neutral"] * 3})

    assert cohen_kappa(ratings, "ann", "bob") is None
    assert [pair.kappa for pair in pairwise_cohen(ratings)] == [None]


def test_sparse_pair_tally_equals_dense_pair_tally() -> None:
    # Many annotators switch the pair tally to np.unique; both ways must count the same.
    for seed in range(5):
        matrix, n_categories = random_matrix(np.random.default_rng(400 + seed))
        table = table_of(matrix, n_categories)

        dense_pairs, dense = _pair_confusions(table)
        sparse_pairs, sparse = _pair_confusions(table, dense_bins=0)

        np.testing.assert_array_equal(sparse_pairs, dense_pairs)
        np.testing.assert_array_equal(sparse, dense)


# ------------------------------------------------------------------------------------------------
# Fleiss' κ


def test_fleiss_kappa_reproduces_wikipedia_table() -> None:
    ratings = [
        (subject, rater, category)
        for subject, row in enumerate(WIKIPEDIA_FLEISS)
        for rater, category in enumerate(c for c, count in enumerate(row) for _ in range(count))
    ]

    result = fleiss_kappa(ratings, labels=range(5))

    assert result.kappa is not None
    assert round(result.kappa, 3) == 0.210
    assert result.kappa == pytest.approx(statsmodels_fleiss_kappa(np.array(WIKIPEDIA_FLEISS)), abs=TOLERANCE)
    assert (result.items, result.annotators) == (10, 14)


@pytest.mark.parametrize("seed", range(10))
def test_fleiss_kappa_equals_statsmodels_on_items_every_annotator_labelled(seed: int) -> None:
    rng = np.random.default_rng(500 + seed)
    for _ in range(20):
        matrix, n_categories = random_matrix(rng, complete=bool(rng.integers(0, 2)))
        # Drop annotators who labelled nothing: they are not annotators of the topic.
        matrix = matrix[~np.isnan(matrix).all(axis=1)]
        complete = matrix[:, ~np.isnan(matrix).any(axis=0)].astype(int)
        counts = np.stack([(complete == c).sum(axis=0) for c in range(n_categories)], axis=1)
        expected = reference_fleiss(counts) if len(matrix) >= 2 else None

        result = fleiss_kappa(table_of(matrix, n_categories))

        assert_close(result.kappa, expected)
        assert result.items == (complete.shape[1] if len(matrix) else 0)


def test_fleiss_kappa_is_none_without_an_item_labelled_by_everyone() -> None:
    ratings = stance_rows({"a": ["favor", None], "b": [None, "against"]})

    assert fleiss_kappa(ratings).kappa is None
    assert fleiss_kappa(ratings).items == 0


# ------------------------------------------------------------------------------------------------
# Percent agreement


def test_percent_agreement_is_the_mean_share_of_agreeing_pairs_per_pairable_item() -> None:
    # Item 0: 1 of 3 pairs agree; item 1: the single pair agrees; item 2 is unpairable.
    ratings = stance_rows(
        {"a": ["favor", "neutral", "favor"], "b": ["favor", "neutral", None], "c": ["against"] + [None] * 2}
    )

    assert percent_agreement(ratings) == pytest.approx((1 / 3 + 1) / 2, abs=1e-15)


def test_percent_agreement_is_none_without_pairable_items_and_one_when_all_agree() -> None:
    assert percent_agreement([("c1", "a", "favor")]) is None
    assert percent_agreement(stance_rows({"a": ["favor"] * 3, "b": ["favor"] * 3})) == 1.0


# ------------------------------------------------------------------------------------------------
# Input handling


def test_unknown_labels_are_rejected_with_their_values() -> None:
    with pytest.raises(ValueError, match=r"unknown label\(s\) \['Favor'\]"):
        krippendorff_alpha([("c1", "a", "favor"), ("c1", "b", "Favor")])


def test_none_and_nan_labels_count_as_missing() -> None:
    ratings = [("c1", "a", "favor"), ("c1", "b", "favor"), ("c2", "a", "against"), ("c2", "b", "neutral")]
    padded = [*ratings, Rating("c3", "a", None), Rating("c1", "c", None), ("c2", "d", NAN)]

    table = RatingTable.from_ratings(padded)

    assert (len(table.items), len(table.annotators), len(table)) == (2, 2, 4)
    assert krippendorff_alpha(table) == krippendorff_alpha(ratings)


def test_repeated_item_annotator_pair_is_rejected() -> None:
    with pytest.raises(ValueError, match="repeated"):
        RatingTable.from_ratings([("c1", "a", "favor"), ("c1", "a", "against")])


def test_labels_argument_must_match_a_prebuilt_table() -> None:
    table = RatingTable.from_ratings([("c1", "a", "favor")])

    with pytest.raises(ValueError, match="differ"):
        krippendorff_alpha(table, labels=["favor", "against"])


def test_tuple_item_keys_and_mixed_key_types_are_accepted() -> None:
    ratings = [
        ((1, "x"), 7, "favor"),
        ((1, "x"), "seven", "favor"),
        ((2, "y"), 7, "against"),
        ((2, "y"), "seven", "neutral"),
    ]

    table = RatingTable.from_ratings(ratings)

    assert table.items == ((1, "x"), (2, "y"))
    assert set(table.annotators) == {7, "seven"}
    assert confusion_matrix(table, 7, "seven")[1] == [0, 0, 1, 0]


def test_columnar_and_row_input_give_the_same_report() -> None:
    table = random_stance_table(8, n_items=40)
    rows = [
        Rating(table.items[i], table.annotators[a], table.labels[label])
        for i, a, label in zip(table.item_codes, table.annotator_codes, table.label_codes, strict=True)
    ]
    items, annotators, labels = (np.array(column) for column in zip(*rows, strict=True))

    from_rows = topic_report(rows[::-1], resamples=100)
    from_arrays = topic_report_from_arrays(items, annotators, labels, resamples=100)

    assert from_rows == from_arrays


# ------------------------------------------------------------------------------------------------
# The topic report


def test_topic_report_counts_and_stage_split_on_a_hand_made_topic() -> None:
    ratings = stance_rows(
        {
            "ann": ["favor", "against", "not_about", "neutral", "favor", "favor"],
            "bob": ["favor", "against", "not_about", "favor", "not_about", None],
            "cat": ["favor", "neutral", "not_about", "neutral", None, None],
        }
    )

    report = topic_report(ratings, resamples=200)

    assert (report.items, report.annotators, report.labels) == (6, 3, 15)
    assert report.label_counts == {"favor": 6, "against": 2, "neutral": 3, "not_about": 4}
    assert report.pairable_items == 5
    # Stage 1 sees every item as about/not_about; items c4 and c5 carry a not_about so stage 2 drops them.
    about = [(r[0], r[1], "not_about" if r[2] == "not_about" else "about") for r in ratings]
    assert_close(report.about_stage.alpha.alpha, krippendorff_alpha(about, labels=["about", "not_about"]))
    assert report.about_stage.labels == ("about", "not_about")
    assert report.about_stage.items == 6
    stance = [r for r in ratings if r[0] in {"c0", "c1", "c3", "c5"}]
    assert_close(report.stance_stage.alpha.alpha, krippendorff_alpha(stance))
    assert report.stance_stage.labels == ("favor", "against", "neutral")
    assert (report.stance_stage.items, report.stance_stage.alpha.items) == (4, 3)
    assert report.fleiss.items == 4
    assert [(p.annotator_a, p.annotator_b, p.overlap) for p in report.pairwise] == [
        ("ann", "bob", 5),
        ("ann", "cat", 4),
        ("bob", "cat", 4),
    ]


@pytest.mark.parametrize("seed", range(5))
def test_topic_report_stage_alphas_equal_krippendorff_on_recoded_matrices(seed: int) -> None:
    table = random_stance_table(600 + seed, n_items=60, n_annotators=4, noise=0.5)
    matrix = np.full((4, 60), NAN)
    matrix[table.annotator_codes, table.item_codes] = table.label_codes
    not_about = STANCES.index("not_about")

    report = topic_report(table, resamples=0)

    binary = np.where(np.isnan(matrix), NAN, matrix == not_about)
    assert_close(report.about_stage.alpha.alpha, reference_alpha(binary))
    stance_items = matrix[:, ~(matrix == not_about).any(axis=0)]
    assert_close(report.stance_stage.alpha.alpha, reference_alpha(stance_items))
    assert_close(report.alpha.alpha, reference_alpha(matrix))


def test_breakdowns_equal_alpha_of_each_group_and_put_unknown_items_last() -> None:
    table = random_stance_table(9, n_items=120, n_annotators=4)
    groups = {
        item: {"article": f"article-{i % 3}", "depth_bucket": depth_bucket(i % 4)}
        for i, item in enumerate(table.items)
        if i < 110
    }

    report = topic_report(table, groups, resamples=100, group_intervals=True)

    articles = report.breakdowns["article"]
    assert [g.group for g in articles] == ["article-0", "article-1", "article-2", None]
    assert [g.group for g in report.breakdowns["depth_bucket"]] == ["reply", "top-level", None]
    for key, summary in report.breakdowns.items():
        assert sum(g.items for g in summary) == len(table.items)
        for group in summary:
            members = [i for i in table.items if groups.get(i, {}).get(key) == group.group]
            subset = [(i, a, label) for i, a, label in rows_of(table) if i in set(members)]
            assert group.items == len(members)
            assert_close(group.alpha.alpha, krippendorff_alpha(subset))
            assert_close(group.percent_agreement, percent_agreement(subset))
            assert group.alpha.interval == bootstrap_alpha_interval(subset, resamples=100)


def rows_of(table: RatingTable) -> list[tuple[object, object, object]]:
    return [
        (table.items[i], table.annotators[a], table.labels[label])
        for i, a, label in zip(
            table.item_codes.tolist(), table.annotator_codes.tolist(), table.label_codes.tolist(), strict=True
        )
    ]


def test_breakdowns_skip_intervals_unless_asked() -> None:
    table = random_stance_table(10, n_items=30)

    report = topic_report(table, {item: {"article": 1} for item in table.items}, resamples=50)

    (only,) = report.breakdowns["article"]
    assert only.alpha.interval is None
    assert only.alpha.alpha == report.alpha.alpha
    assert topic_report(table, resamples=50).breakdowns == {}


def test_depth_bucket_separates_top_level_comments_from_replies() -> None:
    assert [depth_bucket(d) for d in (0, 1, 5)] == ["top-level", "reply", "reply"]


def test_topic_report_as_dict_is_strict_json_even_when_measures_are_undefined() -> None:
    annotator = uuid.UUID(int=1)
    ratings = [("c1", annotator, "favor"), ("c1", "b", "favor"), ("c2", annotator, "favor")]

    report = topic_report(ratings, {"c1": {"article": np.int64(3), "depth_bucket": "reply"}})
    payload = json.loads(json.dumps(report.as_dict(), allow_nan=False))

    assert payload["alpha"] == {"alpha": None, "interval": None, "items": 1, "values": 2}
    assert payload["pairwise"][0]["kappa"] is None
    assert {payload["pairwise"][0]["annotator_a"], payload["pairwise"][0]["annotator_b"]} == {str(annotator), "b"}
    assert [g["group"] for g in payload["breakdowns"]["article"]] == [3, None]
    assert payload["bootstrap"]["resamples"] == 1000


def test_topic_report_without_items() -> None:
    report = topic_report([])

    assert (report.items, report.annotators, report.labels, report.pairable_items) == (0, 0, 0, 0)
    assert report.alpha.alpha is None
    assert report.alpha.interval is None
    assert report.fleiss.kappa is None
    assert report.pairwise == ()
    assert report.percent_agreement is None
    assert report.about_stage.alpha.alpha is None
    assert report.stance_stage.alpha.alpha is None
    assert json.dumps(report.as_dict(), allow_nan=False)


def test_topic_report_with_one_annotator() -> None:
    report = topic_report([("c1", "a", "favor"), ("c2", "a", "not_about")], {"c1": {"article": 1}})

    assert report.annotators == 1
    assert report.alpha.alpha is None
    assert report.fleiss.kappa is None
    assert report.pairwise == ()
    assert report.breakdowns["article"][0].alpha.alpha is None


def test_topic_report_needs_the_not_about_label() -> None:
    with pytest.raises(ValueError, match="not-about"):
        topic_report([("c1", "a", "yes")], labels=["yes", "no"])
