"""Inter-annotator agreement on the stance labels of one topic.

Pure: numpy only, no Django, no I/O. The API layer calls :func:`topic_report` once per topic with that
topic's labels; the single measures are public too.

Input
=====
Every function takes ``ratings``: either an iterable of ``(item, annotator, label)`` triples (a
:class:`Rating`, or the rows of ``topic.annotations.values_list("comment_id", "annotator_id", "stance")``),
or a :class:`RatingTable` built once with :meth:`RatingTable.from_ratings`, :meth:`RatingTable.from_arrays`
(columnar, the fast path for a million rows) or :meth:`RatingTable.from_matrix` (an annotators × items
reliability matrix). Build the table once when several measures are wanted from the same labels.

* Items and annotators are any hashable keys. A label of ``None`` (or a float NaN) means "no label":
  the row is dropped, as is an item or annotator left with no label.
* Labels must come from the label set, :data:`STANCES` unless ``labels=`` says otherwise (order matters
  only for the layout of confusion matrices); anything else raises ``ValueError`` naming the values, so a
  typo cannot silently shrink the data.
* One label per item and annotator: a repeated pair raises ``ValueError`` rather than double-counting.

Definitions
===========
*Pairable* items are those with at least two labels; an item with a single label cannot be compared
with anything and is left out of every agreement measure (it still counts in ``items``).

Krippendorff's α (nominal)
    ``α = 1 − (n − 1) · Σ_u D_u / (n² − Σ_c n_c²)`` with, over pairable items u with m_u labels of which
    n_uc are category c, ``D_u = (m_u² − Σ_c n_uc²) / (m_u − 1)`` (the item's off-diagonal coincidences),
    n_c the pairable labels of category c and n their total: Krippendorff (2011), "Computing
    Krippendorff's Alpha-Reliability", written without the coincidence matrix's diagonal. Undefined
    (``None``) when no item is pairable or every pairable label is the same category, since the expected
    disagreement is then zero.
Bootstrap interval for α
    Nonparametric bootstrap over items: each of ``resamples`` (default 1000) replicates draws as many
    items as there are pairable items, uniformly with replacement, keeping each item's labels together
    (the item is the sampling unit; labels within an item are not independent), and recomputes α. The
    interval is the percentile interval, the ``(1 − confidence)/2`` and ``(1 + confidence)/2`` quantiles
    (numpy's default linear interpolation) of the replicate αs; replicates where α is undefined (all
    drawn labels one category) are dropped, and ``None`` is returned if α itself is undefined or no
    replicate is defined. The generator is ``numpy.random.default_rng(seed)`` with ``seed=0`` by default,
    so the same labels give the same interval. This is *not* Hayes & Krippendorff's (2007) procedure,
    which resamples pairable values via the coincidence matrix rather than whole items.

    How it is cheap: α depends on an item only through its vector of category counts, so items are
    grouped by that vector ("patterns"; a few hundred for ten annotators and four labels however many
    items there are). Drawing U items with replacement is the same as drawing pattern multiplicities
    from ``Multinomial(U, pattern sizes / U)``, so each replicate is one multinomial draw over the
    patterns and one matrix product of those weights with the patterns' contributions (m_u, D_u, n_uc),
    done in chunks of replicates. The distribution is exactly that of the item-level bootstrap; the cost
    grows with ``resamples × patterns``, not with the number of labels.
Cohen's κ
    For two annotators on the items both labelled: ``(p_o − p_e) / (1 − p_e)`` with p_e from the two
    annotators' own marginals, as scikit-learn's ``cohen_kappa_score``; ``None`` without overlap or
    when p_e = 1 (both used one and the same category throughout). :func:`pairwise_cohen` lists only the
    pairs that share at least one item.
Fleiss' κ
    On the items labelled by *every* annotator of the topic (Fleiss, 1971, needs the same number of
    labels per item), as statsmodels' ``fleiss_kappa(method="fleiss")``. ``None`` with fewer than two
    annotators, no such item, or a single category throughout.
Percent agreement
    A proportion in [0, 1], despite the name: the mean, over pairable items, of the share of that item's
    pairs of annotators who gave the same label, ``Σ_c n_uc (n_uc − 1) / (m_u (m_u − 1))``. Every item
    weighs the same however many annotators it had. ``None`` without pairable items.

The two stages of :func:`topic_report` are both α with their own bootstrap interval: "about" recodes every
label to ``about`` / ``not_about`` and uses all items; "stance" keeps only the items none of whose
annotators said ``not_about`` and the stance categories (``favor``, ``against``, ``neutral``).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

from annotations.vocabulary import STANCE_VALUES, Stance

__all__ = [
    "ABOUT",
    "DEFAULT_CONFIDENCE",
    "DEFAULT_RESAMPLES",
    "DEFAULT_SEED",
    "NOT_ABOUT",
    "STANCES",
    "AlphaSummary",
    "FleissResult",
    "GroupAgreement",
    "PairAgreement",
    "Rating",
    "RatingTable",
    "Ratings",
    "StageReport",
    "TopicReport",
    "bootstrap_alpha_interval",
    "cohen_kappa",
    "confusion_matrix",
    "depth_bucket",
    "fleiss_kappa",
    "krippendorff_alpha",
    "pairwise_cohen",
    "percent_agreement",
    "topic_report",
    "topic_report_from_arrays",
]

STANCES: tuple[str, ...] = STANCE_VALUES
NOT_ABOUT: str = Stance.NOT_ABOUT
ABOUT = "about"
DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0
DEFAULT_CONFIDENCE = 0.95
DEFAULT_BREAKDOWNS: tuple[str, ...] = ("article", "depth_bucket")

IntArray: TypeAlias = npt.NDArray[np.int64]
FloatArray: TypeAlias = npt.NDArray[np.float64]
JSONScalar: TypeAlias = str | int | float | bool | None

# Keeps one chunk of bootstrap weights (replicates × patterns) near 16 MB whatever the pattern count.
_BOOTSTRAP_CHUNK_CELLS = 2_000_000
# Above this many bins the pair × label × label tally is counted sparsely (np.unique) instead of by bincount.
_DENSE_PAIR_BINS = 1 << 22


class Rating(NamedTuple):
    """One annotator's label for one item. A tuple, so database rows and Ratings mix freely."""

    item: Hashable
    annotator: Hashable
    label: Hashable | None


# --------------------------------------------------------------------------------------------------
# Input: encoding to integer codes


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _as_1d(values: Iterable[Any], name: str) -> npt.NDArray[Any]:
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {values.shape}")
        return values
    sequence = values if isinstance(values, Sequence) else list(values)
    # fromiter keeps tuple keys as single objects where np.asarray would make a 2-D array of them.
    return np.fromiter(sequence, dtype=object, count=len(sequence))


def _factorize(values: npt.NDArray[Any]) -> tuple[IntArray, list[Any]]:
    """Integer codes and the distinct values, sorted when they can be, else in order of appearance."""
    if values.dtype.kind in "biufUS":
        uniques, inverse = np.unique(values, return_inverse=True)
        return inverse.reshape(-1).astype(np.int64), uniques.tolist()
    # dict.fromkeys and map run in C: three times faster than a generator of setdefault calls, same codes.
    column = values.tolist()
    keys = list(dict.fromkeys(column))
    index = {key: code for code, key in enumerate(keys)}
    codes = np.fromiter(map(index.__getitem__, column), dtype=np.int64, count=len(column))
    try:
        order = sorted(range(len(keys)), key=keys.__getitem__)
    except TypeError:  # mixed key types: appearance order is still deterministic
        return codes, keys
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    return rank[codes], [keys[i] for i in order]


def _check_label_set(labels: Sequence[Hashable]) -> tuple[Hashable, ...]:
    domain = tuple(labels)
    if len(set(domain)) != len(domain):
        raise ValueError(f"labels must be distinct, got {domain!r}")
    if any(_is_missing(label) for label in domain):
        raise ValueError("labels must not contain None or NaN, which mean 'no label'")
    return domain


def _encode_labels(values: npt.NDArray[Any], domain: tuple[Hashable, ...]) -> IntArray:
    codes, uniques = _factorize(values)
    position = {label: i for i, label in enumerate(domain)}
    lookup = np.empty(len(uniques), dtype=np.int64)
    unknown = []
    for i, value in enumerate(uniques):
        if _is_missing(value):
            lookup[i] = -1
        elif value in position:
            lookup[i] = position[value]
        else:
            unknown.append(value)
    if unknown:
        raise ValueError(f"unknown label(s) {unknown!r}; expected one of {list(domain)!r}")
    return lookup[codes]


def _compact(codes: IntArray, keys: Sequence[Any]) -> tuple[IntArray, tuple[Any, ...]]:
    present = np.zeros(len(keys), dtype=bool)
    present[codes] = True
    if present.all():
        return codes, tuple(keys)
    kept = np.flatnonzero(present)
    remap = np.full(len(keys), -1, dtype=np.int64)
    remap[kept] = np.arange(len(kept))
    return remap[codes], tuple(keys[i] for i in kept.tolist())


def _readonly(array: IntArray) -> IntArray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class RatingTable:
    """Labels of one topic encoded as integer codes; build it with one of the ``from_*`` constructors.

    ``items``, ``annotators`` and ``labels`` hold the keys behind the codes (items and annotators sorted
    when their keys can be compared, ``labels`` the label set in the order given). The three code arrays
    have one entry per label given, sorted by item and then annotator, and are read-only.
    """

    items: tuple[Hashable, ...]
    annotators: tuple[Hashable, ...]
    labels: tuple[Hashable, ...]
    item_codes: IntArray
    annotator_codes: IntArray
    label_codes: IntArray

    @classmethod
    def from_ratings(
        cls,
        ratings: Iterable[Rating | tuple[Hashable, Hashable, Hashable | None]],
        *,
        labels: Sequence[Hashable] = STANCES,
    ) -> RatingTable:
        """From ``(item, annotator, label)`` triples."""
        rows = ratings if isinstance(ratings, Sequence) else list(ratings)
        if not rows:
            return cls.from_arrays([], [], [], labels=labels)
        columns = list(zip(*rows, strict=True))
        if len(columns) != 3:
            raise ValueError(f"each rating must be (item, annotator, label), got {len(columns)} fields")
        return cls.from_arrays(columns[0], columns[1], columns[2], labels=labels)

    @classmethod
    def from_arrays(
        cls,
        items: Iterable[Hashable],
        annotators: Iterable[Hashable],
        label_values: Iterable[Hashable | None],
        *,
        labels: Sequence[Hashable] = STANCES,
    ) -> RatingTable:
        """From three parallel columns; numpy integer or string arrays are encoded fastest."""
        domain = _check_label_set(labels)
        item_array = _as_1d(items, "items")
        annotator_array = _as_1d(annotators, "annotators")
        label_array = _as_1d(label_values, "label_values")
        if not len(item_array) == len(annotator_array) == len(label_array):
            raise ValueError(
                f"columns differ in length: {len(item_array)} items, {len(annotator_array)} annotators, "
                f"{len(label_array)} labels"
            )
        item_codes, item_keys = _factorize(item_array)
        annotator_codes, annotator_keys = _factorize(annotator_array)
        label_codes = _encode_labels(label_array, domain)
        return cls._build(item_codes, item_keys, annotator_codes, annotator_keys, label_codes, domain)

    @classmethod
    def from_matrix(
        cls,
        matrix: Sequence[Sequence[Hashable | None]] | npt.NDArray[Any],
        *,
        labels: Sequence[Hashable] = STANCES,
        annotators: Sequence[Hashable] | None = None,
        items: Sequence[Hashable] | None = None,
    ) -> RatingTable:
        """From a reliability matrix: one row per annotator, one column per item, None or NaN if missing.

        Rows and columns are keyed by their position unless ``annotators`` / ``items`` name them. This is
        the layout of the ``krippendorff`` package's ``reliability_data``.
        """
        array = np.asarray(matrix) if isinstance(matrix, np.ndarray) else np.array(matrix, dtype=object)
        if array.ndim != 2:
            raise ValueError(f"matrix must be two-dimensional (annotators × items), got shape {array.shape}")
        n_annotators, n_items = array.shape
        annotator_keys: list[Hashable] = list(range(n_annotators)) if annotators is None else list(annotators)
        item_keys: list[Hashable] = list(range(n_items)) if items is None else list(items)
        if len(annotator_keys) != n_annotators or len(item_keys) != n_items:
            raise ValueError("annotators and items must match the matrix's rows and columns")
        rows, columns = np.indices(array.shape).reshape(2, -1).astype(np.int64)
        return cls.from_arrays(
            columns if items is None else _as_1d(item_keys, "items")[columns],
            rows if annotators is None else _as_1d(annotator_keys, "annotators")[rows],
            array.reshape(-1),
            labels=labels,
        )

    @classmethod
    def _build(
        cls,
        item_codes: IntArray,
        item_keys: Sequence[Any],
        annotator_codes: IntArray,
        annotator_keys: Sequence[Any],
        label_codes: IntArray,
        domain: tuple[Hashable, ...],
    ) -> RatingTable:
        labelled = label_codes >= 0
        if not labelled.all():
            item_codes, annotator_codes, label_codes = (
                item_codes[labelled],
                annotator_codes[labelled],
                label_codes[labelled],
            )
        item_codes, items = _compact(item_codes, item_keys)
        annotator_codes, annotators = _compact(annotator_codes, annotator_keys)
        key = item_codes * max(len(annotators), 1) + annotator_codes
        # Stable, so rows already sorted by item and annotator (the usual ORDER BY) sort in linear time.
        order = np.argsort(key, kind="stable")
        key = key[order]
        repeated = np.flatnonzero(key[1:] == key[:-1])
        if len(repeated):
            first = order[repeated[0]]
            raise ValueError(
                f"{len(repeated)} repeated (item, annotator) pair(s), e.g. item {items[item_codes[first]]!r} "
                f"by annotator {annotators[annotator_codes[first]]!r}; keep one label per pair"
            )
        return cls(
            items=items,
            annotators=annotators,
            labels=domain,
            item_codes=_readonly(item_codes[order]),
            annotator_codes=_readonly(annotator_codes[order]),
            label_codes=_readonly(label_codes[order]),
        )

    def __len__(self) -> int:
        return len(self.label_codes)

    def value_counts(self) -> IntArray:
        """Items × labels matrix: how many annotators gave each label to each item."""
        n_labels = len(self.labels)
        flat = np.bincount(self.item_codes * n_labels + self.label_codes, minlength=len(self.items) * n_labels)
        return flat.reshape(len(self.items), n_labels).astype(np.int64)


Ratings: TypeAlias = RatingTable | Iterable[Rating | tuple[Hashable, Hashable, Hashable | None]]


def _table(ratings: Ratings, labels: Sequence[Hashable] | None) -> RatingTable:
    if isinstance(ratings, RatingTable):
        if labels is not None and tuple(labels) != ratings.labels:
            raise ValueError(f"labels {tuple(labels)!r} differ from the table's {ratings.labels!r}")
        return ratings
    return RatingTable.from_ratings(ratings, labels=STANCES if labels is None else labels)


# --------------------------------------------------------------------------------------------------
# Krippendorff's α from value counts


def _pairable(counts: IntArray) -> IntArray:
    pairable: IntArray = counts[counts.sum(axis=1) >= 2]
    return pairable


def _unit_disagreement(counts: IntArray) -> FloatArray:
    """D_u for pairable rows: the item's off-diagonal coincidences (disagreeing ordered pairs / (m − 1))."""
    m = counts.sum(axis=1)
    disagreement: FloatArray = (m * m - (counts * counts).sum(axis=1)) / (m - 1)
    return disagreement


def _alphas(n: FloatArray, disagreement: FloatArray, category_totals: FloatArray) -> FloatArray:
    """α for each row of totals; NaN where undefined. Shared by the point estimate and the bootstrap."""
    expected = n * n - (category_totals * category_totals).sum(axis=-1)
    ratio = np.divide((n - 1) * disagreement, expected, out=np.full(n.shape, np.nan), where=expected > 0)
    alphas: FloatArray = 1.0 - ratio
    return alphas


def _alpha_from_counts(counts: IntArray) -> float | None:
    pairable = _pairable(counts)
    if len(pairable) == 0:
        return None
    n = np.array([pairable.sum()], dtype=np.float64)
    disagreement = np.array([_unit_disagreement(pairable).sum()])
    value = _alphas(n, disagreement, pairable.sum(axis=0, dtype=np.float64)[np.newaxis, :])[0]
    return None if np.isnan(value) else float(value)


def _patterns(counts: IntArray) -> tuple[IntArray, IntArray]:
    """Distinct rows of a counts matrix and how many rows share each."""
    base = int(counts.max()) + 1 if counts.size else 1
    if base ** counts.shape[1] < 2**62:
        # One int64 key per row is an order of magnitude faster than np.unique(axis=0).
        key = counts @ (base ** np.arange(counts.shape[1], dtype=np.int64))
        _, first, sizes = np.unique(key, return_index=True, return_counts=True)
        return counts[first], sizes.astype(np.int64)
    patterns, sizes = np.unique(counts, axis=0, return_counts=True)
    return patterns.astype(np.int64), sizes.astype(np.int64)


def _bootstrap_alphas(counts: IntArray, resamples: int, seed: int) -> FloatArray:
    """Defined α of each bootstrap replicate (items resampled with replacement); see the module docstring."""
    pairable = _pairable(counts)
    n_items = len(pairable)
    patterns, sizes = _patterns(pairable)
    contributions = np.column_stack([patterns.sum(axis=1), _unit_disagreement(patterns), patterns]).astype(np.float64)
    probabilities = sizes / n_items
    rng = np.random.default_rng(seed)
    chunk = max(1, _BOOTSTRAP_CHUNK_CELLS // len(patterns))
    replicates = []
    for start in range(0, resamples, chunk):
        weights = rng.multinomial(n_items, probabilities, size=min(chunk, resamples - start))
        totals = weights.astype(np.float64) @ contributions
        replicates.append(_alphas(totals[:, 0], totals[:, 1], totals[:, 2:]))
    alphas = np.concatenate(replicates) if replicates else np.empty(0)
    return alphas[~np.isnan(alphas)]


def _check_bootstrap_settings(resamples: int, confidence: float) -> None:
    if resamples < 0:
        raise ValueError(f"resamples must be at least 0, got {resamples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")


def _interval_from_counts(counts: IntArray, resamples: int, seed: int, confidence: float) -> tuple[float, float] | None:
    _check_bootstrap_settings(resamples, confidence)
    if resamples == 0 or _alpha_from_counts(counts) is None:
        return None
    alphas = _bootstrap_alphas(counts, resamples, seed)
    if len(alphas) == 0:
        return None
    low, high = np.quantile(alphas, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


@dataclass(frozen=True)
class AlphaSummary:
    """α with its bootstrap interval. ``items`` and ``values`` are the pairable items and their labels."""

    alpha: float | None
    interval: tuple[float, float] | None
    items: int
    values: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "interval": None if self.interval is None else list(self.interval),
            "items": self.items,
            "values": self.values,
        }


def _alpha_summary(counts: IntArray, resamples: int, seed: int, confidence: float) -> AlphaSummary:
    pairable = _pairable(counts)
    return AlphaSummary(
        alpha=_alpha_from_counts(counts),
        interval=_interval_from_counts(counts, resamples, seed, confidence),
        items=len(pairable),
        values=int(pairable.sum()),
    )


def krippendorff_alpha(ratings: Ratings, *, labels: Sequence[Hashable] | None = None) -> float | None:
    """Krippendorff's α for nominal labels, missing labels allowed; ``None`` where undefined.

    ``labels`` is the label set for raw ratings (default :data:`STANCES`); a :class:`RatingTable` carries
    its own.
    """
    return _alpha_from_counts(_table(ratings, labels).value_counts())


def bootstrap_alpha_interval(
    ratings: Ratings,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
    labels: Sequence[Hashable] | None = None,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval ``(low, high)`` for α, resampling items; see the module docstring.

    ``resamples=0`` skips the bootstrap and returns ``None``.
    """
    return _interval_from_counts(_table(ratings, labels).value_counts(), resamples, seed, confidence)


# --------------------------------------------------------------------------------------------------
# Pairs of annotators


def _pair_confusions(table: RatingTable, dense_bins: int = _DENSE_PAIR_BINS) -> tuple[IntArray, IntArray]:
    """Every pair of annotators sharing an item, ``(a, b)`` with a < b, and their labels × labels tallies.

    Rows are sorted by item then annotator, so the d-th neighbour of a row within its item is a later
    annotator; walking d = 1, 2, ... visits every co-labelled pair once at O(labels) per step.
    """
    n_annotators, n_labels = len(table.annotators), len(table.labels)
    items, annotators, labels = table.item_codes, table.annotator_codes, table.label_codes
    n_rows = len(items)
    bins = n_annotators * n_annotators * n_labels * n_labels
    dense = bins <= dense_bins
    tally = np.zeros(bins if dense else 0, dtype=np.int64)
    sparse_codes: list[IntArray] = []
    if n_rows:
        starts = np.flatnonzero(np.concatenate([[True], items[1:] != items[:-1]]))
        sizes = np.diff(np.append(starts, n_rows))
        room = np.repeat(sizes, sizes) - (np.arange(n_rows) - np.repeat(starts, sizes)) - 1
        candidates = np.flatnonzero(room >= 1)
        step = 1
        while len(candidates):
            first, second = candidates, candidates + step
            code = ((annotators[first] * n_annotators + annotators[second]) * n_labels + labels[first]) * n_labels
            code += labels[second]
            if dense:
                tally += np.bincount(code, minlength=bins)
            else:
                sparse_codes.append(code)
            step += 1
            candidates = candidates[room[candidates] >= step]
    per_pair = n_labels * n_labels
    if dense:
        by_pair = tally.reshape(-1, per_pair)
        present = np.flatnonzero(by_pair.sum(axis=1))
        confusions = by_pair[present]
    else:
        codes, counts = np.unique(
            np.concatenate(sparse_codes) if sparse_codes else np.empty(0, np.int64), return_counts=True
        )
        present, slot = np.unique(codes // per_pair, return_inverse=True)
        confusions = np.zeros((len(present), per_pair), dtype=np.int64)
        np.add.at(confusions, (slot.reshape(-1), codes % per_pair), counts)
    pairs = np.column_stack([present // n_annotators, present % n_annotators]).astype(np.int64)
    return pairs, confusions.reshape(-1, n_labels, n_labels).astype(np.int64)


def _kappas(confusions: IntArray) -> FloatArray:
    """Cohen's κ of each labels × labels tally, in integers until the last division; NaN where undefined."""
    total = confusions.sum(axis=(1, 2))
    agreeing = np.trace(confusions, axis1=1, axis2=2)
    chance = (confusions.sum(axis=2) * confusions.sum(axis=1)).sum(axis=1)
    denominator = total * total - chance
    kappas: FloatArray = np.divide(
        total * agreeing - chance,
        denominator,
        out=np.full(len(confusions), np.nan),
        where=denominator != 0,
    )
    return kappas


def _nullable(value: float | np.floating[Any]) -> float | None:
    return None if np.isnan(value) else float(value)


@dataclass(frozen=True)
class PairAgreement:
    """Two annotators on the items both labelled.

    ``agreement`` is the share of those items given the same label; ``confusion[i][j]`` counts items
    ``annotator_a`` labelled ``labels[i]`` and ``annotator_b`` labelled ``labels[j]``.
    """

    annotator_a: Hashable
    annotator_b: Hashable
    kappa: float | None
    overlap: int
    agreement: float | None
    confusion: tuple[tuple[int, ...], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "annotator_a": _json_scalar(self.annotator_a),
            "annotator_b": _json_scalar(self.annotator_b),
            "kappa": self.kappa,
            "overlap": self.overlap,
            "agreement": self.agreement,
            "confusion": [list(row) for row in self.confusion],
        }


def _pair_agreements(table: RatingTable) -> tuple[PairAgreement, ...]:
    pairs, confusions = _pair_confusions(table)
    kappas = _kappas(confusions)
    result = []
    for (a, b), confusion, kappa in zip(pairs.tolist(), confusions, kappas, strict=True):
        overlap = int(confusion.sum())
        result.append(
            PairAgreement(
                annotator_a=table.annotators[a],
                annotator_b=table.annotators[b],
                kappa=_nullable(kappa),
                overlap=overlap,
                agreement=int(np.trace(confusion)) / overlap,
                confusion=tuple(tuple(row) for row in confusion.tolist()),
            )
        )
    return tuple(result)


def pairwise_cohen(ratings: Ratings, *, labels: Sequence[Hashable] | None = None) -> list[PairAgreement]:
    """Cohen's κ and overlap for every pair of annotators who share at least one item.

    Pairs are ordered as the annotators are (sorted keys when comparable), ``annotator_a`` first.
    """
    return list(_pair_agreements(_table(ratings, labels)))


def _confusion(table: RatingTable, annotator_a: Hashable, annotator_b: Hashable) -> IntArray:
    n_labels = len(table.labels)
    position = {key: code for code, key in enumerate(table.annotators)}
    if annotator_a not in position or annotator_b not in position:
        return np.zeros((n_labels, n_labels), dtype=np.int64)
    label_of = []
    for annotator in (annotator_a, annotator_b):
        row = np.full(len(table.items), -1, dtype=np.int64)
        mine = table.annotator_codes == position[annotator]
        row[table.item_codes[mine]] = table.label_codes[mine]
        label_of.append(row)
    both = (label_of[0] >= 0) & (label_of[1] >= 0)
    flat = np.bincount(label_of[0][both] * n_labels + label_of[1][both], minlength=n_labels * n_labels)
    return flat.reshape(n_labels, n_labels).astype(np.int64)


def confusion_matrix(
    ratings: Ratings, annotator_a: Hashable, annotator_b: Hashable, *, labels: Sequence[Hashable] | None = None
) -> list[list[int]]:
    """Labels × labels counts over the items both annotators labelled: row = a's label, column = b's.

    Rows and columns follow the label set (:data:`STANCES` by default). An annotator without labels in
    ``ratings`` simply shares no item, so the matrix is all zeros.
    """
    matrix: list[list[int]] = _confusion(_table(ratings, labels), annotator_a, annotator_b).tolist()
    return matrix


def cohen_kappa(
    ratings: Ratings, annotator_a: Hashable, annotator_b: Hashable, *, labels: Sequence[Hashable] | None = None
) -> float | None:
    """Cohen's κ of two annotators over the items both labelled; ``None`` without overlap or when undefined."""
    confusion = _confusion(_table(ratings, labels), annotator_a, annotator_b)
    return _nullable(_kappas(confusion[np.newaxis])[0])


# --------------------------------------------------------------------------------------------------
# Fleiss' κ and percent agreement


@dataclass(frozen=True)
class FleissResult:
    """Fleiss' κ over the ``items`` labelled by all ``annotators``."""

    kappa: float | None
    items: int
    annotators: int

    def as_dict(self) -> dict[str, Any]:
        return {"kappa": self.kappa, "items": self.items, "annotators": self.annotators}


def _fleiss_from_counts(counts: IntArray, n_annotators: int) -> FleissResult:
    complete = counts[counts.sum(axis=1) == n_annotators] if n_annotators else counts[:0]
    n_items, m = len(complete), n_annotators
    if n_items == 0 or m < 2:
        return FleissResult(kappa=None, items=n_items, annotators=m)
    # (P̄ − P_e) / (1 − P_e) multiplied through by (N m)² (m − 1): exact in Python integers.
    squares = int((complete * complete).sum())
    totals = complete.sum(axis=0)
    chance = int((totals * totals).sum())
    numerator = n_items * m * (squares - n_items * m) - (m - 1) * chance
    denominator = (m - 1) * ((n_items * m) ** 2 - chance)
    return FleissResult(kappa=numerator / denominator if denominator else None, items=n_items, annotators=m)


def fleiss_kappa(ratings: Ratings, *, labels: Sequence[Hashable] | None = None) -> FleissResult:
    """Fleiss' κ on the items that every annotator in ``ratings`` labelled (other items are ignored)."""
    table = _table(ratings, labels)
    return _fleiss_from_counts(table.value_counts(), len(table.annotators))


def _unit_agreement(pairable: IntArray) -> FloatArray:
    m = pairable.sum(axis=1)
    agreeing: FloatArray = ((pairable * (pairable - 1)).sum(axis=1) / (m * (m - 1))).astype(np.float64)
    return agreeing


def _percent_agreement_from_counts(counts: IntArray) -> float | None:
    pairable = _pairable(counts)
    return float(_unit_agreement(pairable).mean()) if len(pairable) else None


def percent_agreement(ratings: Ratings, *, labels: Sequence[Hashable] | None = None) -> float | None:
    """Mean over pairable items of the share of agreeing annotator pairs, in [0, 1] (module docstring)."""
    return _percent_agreement_from_counts(_table(ratings, labels).value_counts())


# --------------------------------------------------------------------------------------------------
# The per-topic report


def depth_bucket(depth: int) -> Literal["top-level", "reply"]:
    """The reply-depth group of a comment for :func:`topic_report`'s breakdown (``Comment.depth``)."""
    return "top-level" if depth == 0 else "reply"


def _json_scalar(value: object) -> JSONScalar:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, np.generic):
        return _json_scalar(value.item())
    return str(value)


@dataclass(frozen=True)
class StageReport:
    """One stage of the two-stage analysis.

    ``items`` are the items that enter the stage (with at least one label); ``alpha.items`` those of them
    that are pairable.
    """

    name: str
    labels: tuple[Hashable, ...]
    items: int
    alpha: AlphaSummary
    percent_agreement: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "labels": [_json_scalar(label) for label in self.labels],
            "items": self.items,
            "alpha": self.alpha.as_dict(),
            "percent_agreement": self.percent_agreement,
        }


@dataclass(frozen=True)
class GroupAgreement:
    """α within one group of items (an article, a depth bucket); ``group`` is ``None`` for unknown items."""

    group: Hashable
    items: int
    alpha: AlphaSummary
    percent_agreement: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": _json_scalar(self.group),
            "items": self.items,
            "alpha": self.alpha.as_dict(),
            "percent_agreement": self.percent_agreement,
        }


@dataclass(frozen=True)
class TopicReport:
    """Everything :func:`topic_report` computes for one topic.

    ``items`` counts items with at least one label, ``annotators`` annotators with at least one label,
    ``labels`` the labels given (one per item and annotator) and ``label_counts`` them by category.
    ``breakdowns`` maps each breakdown key (``"article"``, ``"depth_bucket"``) to its groups.

    :meth:`as_dict` gives plain JSON types: floats unrounded (rounding is for display), ``None`` for
    undefined measures, intervals as ``[low, high]``, keys that are not JSON scalars as ``str(key)``.
    """

    categories: tuple[Hashable, ...]
    items: int
    annotators: int
    labels: int
    label_counts: Mapping[Hashable, int]
    pairable_items: int
    percent_agreement: float | None
    alpha: AlphaSummary
    fleiss: FleissResult
    pairwise: tuple[PairAgreement, ...]
    about_stage: StageReport
    stance_stage: StageReport
    breakdowns: Mapping[str, tuple[GroupAgreement, ...]]
    resamples: int
    seed: int
    confidence: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "categories": [_json_scalar(label) for label in self.categories],
            "items": self.items,
            "annotators": self.annotators,
            "labels": self.labels,
            "label_counts": {str(_json_scalar(label)): count for label, count in self.label_counts.items()},
            "pairable_items": self.pairable_items,
            "percent_agreement": self.percent_agreement,
            "alpha": self.alpha.as_dict(),
            "fleiss": self.fleiss.as_dict(),
            "pairwise": [pair.as_dict() for pair in self.pairwise],
            "stages": {"about": self.about_stage.as_dict(), "stance": self.stance_stage.as_dict()},
            "breakdowns": {key: [group.as_dict() for group in groups] for key, groups in self.breakdowns.items()},
            "bootstrap": {
                "method": "percentile interval, items resampled with replacement",
                "resamples": self.resamples,
                "seed": self.seed,
                "confidence": self.confidence,
            },
        }


def _stage(name: str, labels: tuple[Hashable, ...], counts: IntArray, settings: tuple[int, int, float]) -> StageReport:
    return StageReport(
        name=name,
        labels=labels,
        items=int((counts.sum(axis=1) > 0).sum()),
        alpha=_alpha_summary(counts, *settings),
        percent_agreement=_percent_agreement_from_counts(counts),
    )


def _group_order(keys: list[Any]) -> list[int]:
    known = [i for i, key in enumerate(keys) if key is not None]
    with contextlib.suppress(TypeError):  # incomparable group keys keep their order of appearance
        known.sort(key=keys.__getitem__)
    return known + [i for i, key in enumerate(keys) if key is None]


def _breakdown(
    table: RatingTable,
    counts: IntArray,
    item_groups: Mapping[Hashable, Mapping[str, Hashable]],
    key: str,
    settings: tuple[int, int, float] | None,
) -> tuple[GroupAgreement, ...]:
    empty: Mapping[str, Hashable] = {}
    group_of_item = [item_groups.get(item, empty).get(key) for item in table.items]
    codes, keys = _factorize(_as_1d(group_of_item, key))
    n_groups = len(keys)
    pairable = counts.sum(axis=1) >= 2
    rows, pairable_codes = counts[pairable], codes[pairable]

    def by_group(weights: npt.NDArray[Any]) -> FloatArray:
        return np.bincount(pairable_codes, weights=weights, minlength=n_groups).astype(np.float64)

    # Sums of the per-item α contributions by group give every group's α in one pass.
    n = by_group(rows.sum(axis=1))
    totals = np.column_stack([by_group(rows[:, c]) for c in range(counts.shape[1])]).reshape(n_groups, counts.shape[1])
    alphas = _alphas(n, by_group(_unit_disagreement(rows)), totals)
    shares = by_group(_unit_agreement(rows))
    pairable_items = np.bincount(pairable_codes, minlength=n_groups)
    items = np.bincount(codes, minlength=n_groups)
    groups = []
    for g in _group_order(keys):
        interval = None
        if settings is not None and not np.isnan(alphas[g]):
            interval = _interval_from_counts(counts[codes == g], *settings)
        groups.append(
            GroupAgreement(
                group=keys[g],
                items=int(items[g]),
                alpha=AlphaSummary(
                    alpha=_nullable(alphas[g]),
                    interval=interval,
                    items=int(pairable_items[g]),
                    values=round(n[g]),
                ),
                percent_agreement=float(shares[g] / pairable_items[g]) if pairable_items[g] else None,
            )
        )
    return tuple(groups)


def topic_report(
    ratings: Ratings,
    item_groups: Mapping[Hashable, Mapping[str, Hashable]] | None = None,
    *,
    labels: Sequence[Hashable] | None = None,
    breakdown_by: Sequence[str] = DEFAULT_BREAKDOWNS,
    not_about: Hashable = NOT_ABOUT,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
    group_intervals: bool = False,
) -> TopicReport:
    """All agreement measures for the labels of one topic.

    ``item_groups`` maps an item to its groups, e.g. ``{comment_id: {"article": article_id,
    "depth_bucket": depth_bucket(depth)}}``; one breakdown of α is computed per key in ``breakdown_by``,
    and items missing from the mapping (or lacking the key) fall in group ``None``, listed last.
    Without ``item_groups`` there are no breakdowns. Group intervals are bootstrapped only with
    ``group_intervals=True``, since a topic may span hundreds of articles.

    ``not_about`` names the label that splits the two stages; it must be in the label set. The same
    ``seed`` drives every interval, so the report is reproducible.
    """
    table = _table(ratings, labels)
    _check_bootstrap_settings(resamples, confidence)
    if not_about not in table.labels:
        raise ValueError(f"the label set {table.labels!r} lacks the not-about label {not_about!r}")
    settings = (resamples, seed, confidence)
    counts = table.value_counts()
    total_by_label = counts.sum(axis=0)

    outside = table.labels.index(not_about)
    inside = [c for c in range(len(table.labels)) if c != outside]
    about_counts = np.column_stack([counts[:, inside].sum(axis=1), counts[:, outside]]).astype(np.int64)
    stance_counts = counts[counts[:, outside] == 0][:, inside]

    breakdowns: dict[str, tuple[GroupAgreement, ...]] = {}
    if item_groups is not None:
        for key in breakdown_by:
            breakdowns[key] = _breakdown(table, counts, item_groups, key, settings if group_intervals else None)

    return TopicReport(
        categories=table.labels,
        items=len(table.items),
        annotators=len(table.annotators),
        labels=len(table),
        label_counts={label: int(total) for label, total in zip(table.labels, total_by_label, strict=True)},
        pairable_items=len(_pairable(counts)),
        percent_agreement=_percent_agreement_from_counts(counts),
        alpha=_alpha_summary(counts, *settings),
        fleiss=_fleiss_from_counts(counts, len(table.annotators)),
        pairwise=_pair_agreements(table),
        about_stage=_stage("about", (ABOUT, not_about), about_counts, settings),
        stance_stage=_stage("stance", tuple(table.labels[c] for c in inside), stance_counts, settings),
        breakdowns=breakdowns,
        resamples=resamples,
        seed=seed,
        confidence=confidence,
    )


def topic_report_from_arrays(
    items: Iterable[Hashable],
    annotators: Iterable[Hashable],
    label_values: Iterable[Hashable | None],
    item_groups: Mapping[Hashable, Mapping[str, Hashable]] | None = None,
    *,
    labels: Sequence[Hashable] = STANCES,
    **options: Any,
) -> TopicReport:
    """:func:`topic_report` from three parallel columns (see :meth:`RatingTable.from_arrays`)."""
    table = RatingTable.from_arrays(items, annotators, label_values, labels=labels)
    return topic_report(table, item_groups, **options)
