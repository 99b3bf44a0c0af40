"""A topic's stance model: two calibrated stages, "about the topic?" then "which stance?". Pure: no Django.

Features (scikit-learn, nothing downloaded): the item's own words (TF-IDF over word uni- and bigrams) and
character 4-grams (within words), and, as separate blocks, the words of the parent comment and of the
passages the item quotes, so that a reply quoting the other side is not read as taking that side. Texts are
hashed (no vocabulary to fit or store); the TF-IDF weights are fitted on the training rows only, so the
cross-validated figures see nothing of their test folds.

Training data are consensus labels people agree on (gold, unanimous, majority; never `unsure`), each weighted
by its agreement. Stage 1 (about / not about) and stage 2 (favor / against / neutral, on the items about the
topic) are logistic regressions with calibrated probabilities: sigmoid below `ISOTONIC_FROM` examples,
isotonic above. A suggestion's probability is the product of the stages: P(favor) = P(about) * P(favor | about).

`train` measures before it fits: k-fold cross-validated macro-F1 and accuracy per stage against the majority
class of each training fold, and the expected calibration error of the suggested stance. A model whose stages
do not beat their baselines by `MARGIN` is returned with `usable = False`, and the caller must not show it.
The cross-validated predictions also set the probability thresholds of the bands: `high` where held-out
suggestions were right at least `HIGH_PRECISION` of the time, `medium` where at least `MEDIUM_PRECISION`.
"""

from __future__ import annotations

import io
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import KFold, StratifiedKFold

from annotations.suggestions.examples import (
    ABOUT_STANCES,
    CONSENSUS_STATUSES,
    NOT_ABOUT,
    STANCES,
    Example,
    ItemText,
    agreement_weight,
    split_quotes,
)

__all__ = [
    "ABOUT_STANCES",
    "CONSENSUS_STATUSES",
    "NOT_ABOUT",
    "STANCES",
    "Example",
    "InsufficientData",
    "ItemText",
    "Metrics",
    "Prediction",
    "StageMetrics",
    "StanceModel",
    "TrainResult",
    "agreement_weight",
    "band_for",
    "dumps",
    "expected_calibration_error",
    "loads",
    "split_quotes",
    "train",
]


ISOTONIC_FROM = 1000  # examples; below, isotonic calibration overfits and sigmoid is the safer choice
MIN_PER_CLASS = 10  # a stage class with fewer training examples is left out (stage 2) or stops training (stage 1)
MARGIN = 0.05  # macro-F1 points a stage must gain over the majority-class baseline to count as better
HIGH_PRECISION = 0.9  # held-out accuracy of the suggestions in the high band (the target shown is 85%)
MEDIUM_PRECISION = 0.65
MIN_BAND_SUPPORT = 10  # held-out suggestions a band threshold must rest on
ECE_BINS = 10
EPOCHS = 15
ALPHA = 1e-4  # L2 regularisation of the linear stages
MIN_DF = 2  # a hashed feature must occur in this many training rows to be used
SEED = 0

_WORDS = {"analyzer": "word", "ngram_range": (1, 2), "token_pattern": r"(?u)\b\w[\w'-]*\b"}


class InsufficientData(ValueError):
    """Too few consensus labels (or too few of a stage's classes) to train and measure a model."""


@dataclass(frozen=True)
class Prediction:
    stance: str
    probability: float  # of `stance`, calibrated
    band: str | None  # high / medium, or None: no hint
    probabilities: dict[str, float]

    @property
    def uncertainty(self) -> float:
        """1 - the top probability: 0 when the model is sure, 0.75 when it has no idea among four stances."""
        return 1.0 - self.probability


@dataclass(frozen=True)
class StageMetrics:
    """Cross-validated quality of one stage, and of the majority class of each training fold."""

    n: int
    classes: list[str]
    macro_f1: float
    accuracy: float
    baseline_macro_f1: float
    baseline_accuracy: float
    ece: float

    @property
    def chance_macro_f1(self) -> float:
        """Macro-F1 of guessing each class as often as it occurs: 1 / classes. A classifier that learned nothing
        but guesses evenly beats the majority class's macro-F1; it must beat this too."""
        return round(1 / len(self.classes), 4) if self.classes else 0.0

    @property
    def beats_baseline(self) -> bool:
        # Macro-F1, not accuracy: on a lopsided stage (most comments about the topic) the majority class is
        # accurate and useless, and macro-F1 says so.
        return self.macro_f1 >= max(self.baseline_macro_f1, self.chance_macro_f1) + MARGIN


@dataclass(frozen=True)
class Metrics:
    n: int  # training examples
    weight: float  # their summed agreement weights
    counts: dict[str, int]
    folds: int
    calibration: str  # sigmoid / isotonic
    about: StageMetrics
    stance: StageMetrics
    overall: StageMetrics  # the suggested stance among all four, as annotators see it
    high_threshold: float | None  # probabilities at or above: band `high`; None: no band is that reliable
    medium_threshold: float | None
    band_accuracy: dict[str, float | None]  # held-out accuracy of each band's suggestions
    band_share: dict[str, float]  # held-out share of items in each band
    seconds: float = 0.0

    @property
    def usable(self) -> bool:
        return self.about.beats_baseline and self.stance.beats_baseline and self.overall.beats_baseline

    @property
    def reason(self) -> str:
        """Why a model is not used, in a sentence; empty when it is."""
        failing = [
            name
            for name, stage in (
                ("about the topic", self.about),
                ("which stance", self.stance),
                ("overall", self.overall),
            )
            if not stage.beats_baseline
        ]
        if not failing:
            return ""
        return (
            f"cross-validated quality does not beat the majority-class baseline (nor chance) by {MARGIN:.2f} macro-F1 "
            f"({', '.join(failing)})"
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("about", "stance", "overall"):
            data[name]["beats_baseline"] = getattr(self, name).beats_baseline
            data[name]["chance_macro_f1"] = getattr(self, name).chance_macro_f1
        data["usable"] = self.usable
        data["reason"] = self.reason
        return data


@dataclass
class _Calibrator:
    """Scores to probabilities, one-vs-rest per class then normalised (as scikit-learn's CalibratedClassifierCV
    does): Platt's sigmoid or isotonic regression, fitted on held-out scores."""

    method: str
    classes: list[str]
    per_class: list[Any]

    @classmethod
    def fit(
        cls, method: str, classes: list[str], scores: np.ndarray, labels: np.ndarray, weights: np.ndarray
    ) -> _Calibrator:
        fitted = []
        for column in _score_columns(classes):
            target = (labels == classes[column]).astype(float)
            x = scores[:, column if scores.shape[1] > 1 else 0]
            if method == "isotonic":
                fitted.append(IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(x, target, weights))
            else:
                fitted.append(LogisticRegression(C=1e4).fit(x.reshape(-1, 1), target, sample_weight=weights))
        return cls(method=method, classes=classes, per_class=fitted)

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        columns = []
        for column, fitted in zip(_score_columns(self.classes), self.per_class, strict=True):
            x = scores[:, column if scores.shape[1] > 1 else 0]
            if self.method == "isotonic":
                columns.append(np.asarray(fitted.predict(x)))
            else:
                columns.append(fitted.predict_proba(x.reshape(-1, 1))[:, 1])
        if len(self.classes) == 2:
            positive = np.clip(columns[0], 0.0, 1.0)
            return np.column_stack([1.0 - positive, positive])
        found = np.clip(np.column_stack(columns), 0.0, 1.0)
        totals = found.sum(axis=1, keepdims=True)
        uniform = np.full_like(found, 1.0 / found.shape[1])
        normalised: np.ndarray = np.where(totals > 0, found / np.maximum(totals, 1e-12), uniform)
        return normalised


def _score_columns(classes: list[str]) -> list[int]:
    """Binary classifiers score the second class only; others score each class."""
    return [1] if len(classes) == 2 else list(range(len(classes)))


@dataclass
class _Stage:
    classes: list[str]
    columns: np.ndarray  # the hashed columns seen in at least MIN_DF training rows: the stage's vocabulary
    tfidf: TfidfTransformer
    estimator: SGDClassifier
    calibrator: _Calibrator | None = None

    def features(self, hashed: sp.csr_matrix) -> sp.csr_matrix:
        return self.tfidf.transform(hashed[:, self.columns])

    def scores(self, hashed: sp.csr_matrix) -> np.ndarray:
        """Raw decision scores, one column per class (one column for two classes), in the order of `classes`."""
        found = self.estimator.decision_function(self.features(hashed))
        return np.asarray(found).reshape(hashed.shape[0], -1)

    def probabilities(self, hashed: sp.csr_matrix) -> np.ndarray:
        """Calibrated, columns in the order of `classes`."""
        if self.calibrator is None:
            raise ValueError("the stage has no calibrator yet")
        return self.calibrator.probabilities(self.scores(hashed))


@dataclass
class StanceModel:
    """A trained two-stage model. `predict` needs no training data; `dumps`/`loads` store it as bytes."""

    about: _Stage
    stance: _Stage
    high_threshold: float | None
    medium_threshold: float | None
    sklearn_version: str = field(default="")

    def probabilities(self, items: Sequence[ItemText]) -> np.ndarray:
        """One row per item, columns in the order of STANCES, each row summing to 1."""
        if not items:
            return np.zeros((0, len(STANCES)))
        return _probabilities_from_hashed(self, _hash(items))

    def predict(self, items: Sequence[ItemText]) -> list[Prediction]:
        return [_prediction(row, self.high_threshold, self.medium_threshold) for row in self.probabilities(items)]


@dataclass(frozen=True)
class TrainResult:
    model: StanceModel
    metrics: Metrics
    # The cross-validated prediction of every keyed training example: what a model that never saw the item
    # suggests. For labelled items, this (not the final model's, which learned their labels) is the honest one.
    held_out: dict[int, Prediction] = field(default_factory=dict)


def band_for(probability: float, *, high: float | None, medium: float | None) -> str | None:
    if high is not None and probability >= high:
        return "high"
    if medium is not None and probability >= medium:
        return "medium"
    return None


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = ECE_BINS) -> float:
    """Top-label ECE: the size-weighted mean gap between confidence and accuracy over equal-width bins."""
    confidence = np.asarray(confidences, dtype=float)
    hits = np.asarray(correct, dtype=float)
    if confidence.size == 0:
        return 0.0
    index = np.minimum((confidence * bins).astype(int), bins - 1)
    total = 0.0
    for bin_number in range(bins):
        mask = index == bin_number
        if mask.any():
            total += mask.sum() * abs(confidence[mask].mean() - hits[mask].mean())
    return float(total / confidence.size)


# --- features -----------------------------------------------------------------------------------------------

_VECTORIZERS = (
    ("text", HashingVectorizer(n_features=2**16, alternate_sign=False, norm=None, lowercase=True, **_WORDS)),
    (
        "text",
        HashingVectorizer(
            n_features=2**17, alternate_sign=False, norm=None, lowercase=True, analyzer="char_wb", ngram_range=(4, 4)
        ),
    ),
    ("context", HashingVectorizer(n_features=2**15, alternate_sign=False, norm=None, lowercase=True, **_WORDS)),
    ("quotes", HashingVectorizer(n_features=2**15, alternate_sign=False, norm=None, lowercase=True, **_WORDS)),
)


def _hash(items: Sequence[ItemText]) -> sp.csr_matrix:
    """Raw counts of every block side by side (stateless: hashing needs no fitting)."""
    blocks = [vectorizer.transform([getattr(item, part) for item in items]) for part, vectorizer in _VECTORIZERS]
    return sp.hstack(blocks, format="csr")


def _new_tfidf() -> TfidfTransformer:
    return TfidfTransformer(sublinear_tf=True)


# --- training -----------------------------------------------------------------------------------------------


def _fit_stage(hashed: sp.csr_matrix, labels: np.ndarray, weights: np.ndarray) -> _Stage:
    """The stage's linear model, uncalibrated: its calibrator is fitted on held-out scores (see `train`)."""
    classes = sorted(set(labels.tolist()))
    document_frequency = np.asarray((hashed > 0).sum(axis=0)).ravel()
    columns = np.flatnonzero(document_frequency >= MIN_DF)
    tfidf = _new_tfidf().fit(hashed[:, columns])
    # A linear model by stochastic gradient descent: each pass costs the non-zero features, whatever the width
    # of the hashed space.
    estimator = SGDClassifier(
        loss="log_loss", alpha=ALPHA, max_iter=EPOCHS, tol=1e-3, class_weight="balanced", random_state=SEED
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a few passes are enough on sparse text
        estimator.fit(tfidf.transform(hashed[:, columns]), labels, sample_weight=weights)
    if [str(name) for name in estimator.classes_] != classes:
        raise AssertionError("classes out of order")
    return _Stage(classes=classes, columns=columns, tfidf=tfidf, estimator=estimator)


def _stage_labels(stances: np.ndarray, stage: str) -> tuple[np.ndarray, np.ndarray]:
    """Row indices and labels of a stage: every row, about / not_about; or the rows about the topic, stance."""
    if stage == "about":
        return np.arange(len(stances)), np.where(stances == NOT_ABOUT, NOT_ABOUT, "about")
    rows = np.flatnonzero(stances != NOT_ABOUT)
    return rows, stances[rows]


def _usable_examples(examples: Sequence[Example]) -> list[Example]:
    """Examples with a known stance and a positive weight; stage-2 stances too rare to learn are left out."""
    kept = [example for example in examples if example.stance in STANCES and example.weight > 0]
    counts = Counter(example.stance for example in kept)
    rare = {stance for stance in ABOUT_STANCES if counts[stance] < MIN_PER_CLASS}
    kept = [example for example in kept if example.stance not in rare]
    about = sum(1 for example in kept if example.stance != NOT_ABOUT)
    if counts[NOT_ABOUT] < MIN_PER_CLASS or about < MIN_PER_CLASS:
        raise InsufficientData(
            f"needs at least {MIN_PER_CLASS} consensus labels about the topic and {MIN_PER_CLASS} not about it "
            f"(has {about} and {counts[NOT_ABOUT]})"
        )
    if len({example.stance for example in kept} - {NOT_ABOUT}) < 2:
        raise InsufficientData(f"needs at least {MIN_PER_CLASS} consensus labels of two stances about the topic")
    return kept


def _stage_metrics(
    truth: Sequence[str], predicted: Sequence[str], baseline: Sequence[str], confidence: Sequence[float]
) -> StageMetrics:
    classes = sorted(set(truth))
    return StageMetrics(
        n=len(truth),
        classes=classes,
        macro_f1=round(float(f1_score(truth, predicted, average="macro", labels=classes, zero_division=0)), 4),
        accuracy=round(float(accuracy_score(truth, predicted)), 4),
        baseline_macro_f1=round(float(f1_score(truth, baseline, average="macro", labels=classes, zero_division=0)), 4),
        baseline_accuracy=round(float(accuracy_score(truth, baseline)), 4),
        ece=round(expected_calibration_error(confidence, [t == p for t, p in zip(truth, predicted, strict=True)]), 4),
    )


def _threshold(probabilities: np.ndarray, correct: np.ndarray, precision: float) -> float | None:
    """The lowest probability p (on a 0.01 grid) such that the held-out suggestions at or above p were right at
    least `precision` of the time and are at least MIN_BAND_SUPPORT."""
    for candidate in np.arange(0.5, 1.0001, 0.01):
        mask = probabilities >= candidate - 1e-12
        if mask.sum() < MIN_BAND_SUPPORT:
            return None
        if correct[mask].mean() >= precision:
            return round(float(candidate), 2)
    return None


def train(examples: Sequence[Example], *, folds: int | None = None) -> TrainResult:
    """Measure by cross-validation, then fit on every example. Raises InsufficientData."""
    started = time.perf_counter()
    kept = _usable_examples(examples)
    stances = [example.stance for example in kept]
    weights = np.asarray([example.weight for example in kept], dtype=float)
    calibration = "isotonic" if len(kept) >= ISOTONIC_FROM else "sigmoid"
    hashed = _hash([example.item for example in kept])
    counts = Counter(stances)
    smallest = min(counts.values())
    folds = folds or (5 if len(kept) < 2000 else 3)
    splitter: Any = (
        StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
        if smallest >= folds
        else KFold(n_splits=folds, shuffle=True, random_state=SEED)
    )
    labels = np.asarray(stances)
    splits = list(splitter.split(np.zeros(len(kept)), stances))
    # Every stage is fitted once per fold (scores on the fold's rows), and once on everything. Its calibrator
    # is fitted on the held-out scores: for the figures, fold by fold on the other folds' scores (so that no
    # figure sees its own rows); for the model, on all of them.
    stages: dict[str, _Stage] = {}
    calibrated: dict[str, np.ndarray] = {}
    for name in ("about", "stance"):
        rows, stage_labels = _stage_labels(labels, name)
        classes = sorted(set(stage_labels.tolist()))
        width = 1 if len(classes) == 2 else len(classes)
        scores = np.zeros((len(kept), width))
        in_stage = np.zeros(len(kept), dtype=bool)
        in_stage[rows] = True
        full_labels = np.full(len(kept), "", dtype=object)
        full_labels[rows] = stage_labels
        for train_rows, test_rows in splits:
            fitted_rows = train_rows[in_stage[train_rows]]
            fold_stage = _fit_stage(hashed[fitted_rows], full_labels[fitted_rows].astype(str), weights[fitted_rows])
            scores[test_rows] = fold_stage.scores(hashed[test_rows])
        probabilities = np.zeros((len(kept), len(classes)))
        for train_rows, test_rows in splits:
            fitted_rows = train_rows[in_stage[train_rows]]
            calibrator = _Calibrator.fit(
                calibration, classes, scores[fitted_rows], full_labels[fitted_rows].astype(str), weights[fitted_rows]
            )
            probabilities[test_rows] = calibrator.probabilities(scores[test_rows])
        calibrated[name] = probabilities
        stage = _fit_stage(hashed[rows], stage_labels.astype(str), weights[rows])
        stage.calibrator = _Calibrator.fit(calibration, classes, scores[rows], stage_labels.astype(str), weights[rows])
        stages[name] = stage
    held_out = _combine(calibrated["about"], stages["about"].classes, calibrated["stance"], stages["stance"].classes)
    baseline = ["" for _ in kept]
    about_baseline = ["" for _ in kept]
    stance_baseline = ["" for _ in kept]
    for train_rows, test_rows in splits:
        train_stances = [stances[row] for row in train_rows]
        majority = Counter(train_stances).most_common(1)[0][0]
        about_majority = Counter(s == NOT_ABOUT for s in train_stances).most_common(1)[0][0]
        stance_majority = Counter(s for s in train_stances if s != NOT_ABOUT).most_common(1)[0][0]
        for row in test_rows:
            baseline[row] = majority
            about_baseline[row] = NOT_ABOUT if about_majority else "about"
            stance_baseline[row] = stance_majority

    predicted = [STANCES[int(index)] for index in held_out.argmax(axis=1)]
    top = held_out.max(axis=1)
    overall = _stage_metrics(stances, predicted, baseline, top.tolist())
    p_not_about = held_out[:, STANCES.index(NOT_ABOUT)]
    about_truth = [NOT_ABOUT if s == NOT_ABOUT else "about" for s in stances]
    about_predicted = [NOT_ABOUT if p >= 0.5 else "about" for p in p_not_about]
    about_metrics = _stage_metrics(
        about_truth, about_predicted, about_baseline, np.maximum(p_not_about, 1 - p_not_about).tolist()
    )
    about_rows = [row for row, s in enumerate(stances) if s != NOT_ABOUT]
    within = held_out[about_rows][:, [STANCES.index(s) for s in ABOUT_STANCES]]
    within = within / np.maximum(within.sum(axis=1, keepdims=True), 1e-12)
    stance_metrics = _stage_metrics(
        [stances[row] for row in about_rows],
        [ABOUT_STANCES[int(index)] for index in within.argmax(axis=1)],
        [stance_baseline[row] for row in about_rows],
        within.max(axis=1).tolist(),
    )
    correct = np.asarray([t == p for t, p in zip(stances, predicted, strict=True)])
    high = _threshold(top, correct, HIGH_PRECISION)
    medium = _threshold(top, correct, MEDIUM_PRECISION)
    if medium is not None and high is not None and medium >= high:
        medium = None
    in_high = top >= high if high is not None else np.zeros(len(top), dtype=bool)
    in_medium = (top >= medium) & ~in_high if medium is not None else np.zeros(len(top), dtype=bool)

    model = StanceModel(
        about=stages["about"],
        stance=stages["stance"],
        high_threshold=high,
        medium_threshold=medium,
        sklearn_version=sklearn.__version__,
    )
    metrics = Metrics(
        n=len(kept),
        weight=round(float(weights.sum()), 3),
        counts=dict(sorted(counts.items())),
        folds=folds,
        calibration=calibration,
        about=about_metrics,
        stance=stance_metrics,
        overall=overall,
        high_threshold=high,
        medium_threshold=medium,
        band_accuracy={
            "high": _mean_or_none(correct[in_high]),
            "medium": _mean_or_none(correct[in_medium]),
        },
        band_share={"high": round(float(in_high.mean()), 4), "medium": round(float(in_medium.mean()), 4)},
        seconds=round(time.perf_counter() - started, 3),
    )
    return TrainResult(model=model, metrics=metrics, held_out=_keyed(kept, held_out, high, medium))


def _keyed(
    examples: Sequence[Example], probabilities: np.ndarray, high: float | None, medium: float | None
) -> dict[int, Prediction]:
    return {
        example.key: _prediction(row, high, medium)
        for example, row in zip(examples, probabilities, strict=True)
        if example.key is not None
    }


def _prediction(row: np.ndarray, high: float | None, medium: float | None) -> Prediction:
    best = int(np.argmax(row))
    probability = float(row[best])
    return Prediction(
        stance=STANCES[best],
        probability=probability,
        band=band_for(probability, high=high, medium=medium),
        probabilities={name: float(value) for name, value in zip(STANCES, row, strict=True)},
    )


def _mean_or_none(values: np.ndarray) -> float | None:
    return round(float(values.mean()), 4) if values.size else None


def _combine(about: np.ndarray, about_classes: list[str], within: np.ndarray, stance_classes: list[str]) -> np.ndarray:
    """Four-stance probabilities from the stages': P(favor) = P(about) * P(favor | about)."""
    p_about = about[:, about_classes.index("about")]
    result = np.zeros((about.shape[0], len(STANCES)))
    for column, name in enumerate(stance_classes):
        result[:, STANCES.index(name)] = p_about * within[:, column]
    result[:, STANCES.index(NOT_ABOUT)] = 1.0 - p_about
    return result


def _probabilities_from_hashed(model: StanceModel, hashed: sp.csr_matrix) -> np.ndarray:
    return _combine(
        model.about.probabilities(hashed), model.about.classes, model.stance.probabilities(hashed), model.stance.classes
    )


# --- storage ------------------------------------------------------------------------------------------------


def dumps(model: StanceModel) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    return buffer.getvalue()


def loads(data: bytes) -> StanceModel:
    """Only for bytes this application wrote itself (pickle runs code): models are stored in our database."""
    loaded = joblib.load(io.BytesIO(data))
    if not isinstance(loaded, StanceModel):
        raise TypeError(f"not a stance model: {type(loaded).__name__}")
    return loaded
