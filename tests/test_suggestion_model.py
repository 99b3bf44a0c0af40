"""The pure stance model (annotations.suggestions.model): no database, small data."""

from __future__ import annotations

import random
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.suggestions import model
from annotations.suggestions.model import (
    STANCES,
    Example,
    InsufficientData,
    ItemText,
    agreement_weight,
    band_for,
    expected_calibration_error,
    split_quotes,
    train,
)
from debate.synthetic import generate_corpus

TOPIC = "cluster-munitions"
TOPICS = ("cluster-munitions", "strikes-in-russia", "trainers-in-ukraine")


@cache
def synthetic_items(count: int = 420) -> tuple[tuple[ItemText, str], ...]:
    """Comments of a stance-bearing synthetic corpus with their reference stance on TOPIC (parents as context)."""
    items = []
    for document in generate_corpus(seed=7, articles=count // 140, comments_per_article=140, topics=TOPICS):
        for comment in document.comments:
            context = document.comments[comment.parent].body if comment.parent is not None else ""
            items.append((ItemText(comment.body, context), comment.stances[TOPIC]))
    return tuple(items)


@cache
def trained() -> model.TrainResult:
    items = synthetic_items()[:300]
    return train([Example(item, stance) for item, stance in items], folds=3)


def test_learns_the_synthetic_stances_and_beats_the_baseline() -> None:
    result = trained()
    metrics = result.metrics
    assert metrics.usable, metrics.reason
    assert metrics.reason == ""
    assert metrics.calibration == "sigmoid"  # fewer than 1,000 examples
    assert metrics.n == 300
    assert metrics.overall.macro_f1 > metrics.overall.baseline_macro_f1 + 0.3
    assert metrics.stance.accuracy > metrics.stance.baseline_accuracy
    assert 0 <= metrics.overall.ece <= 0.2
    # Unseen comments: right far more often than the majority stance, and probabilities that add up.
    held_out = synthetic_items()[300:]
    predictions = result.model.predict([item for item, _ in held_out])
    truth = [stance for _, stance in held_out]
    accuracy = np.mean([p.stance == t for p, t in zip(predictions, truth, strict=True)])
    majority = max(truth.count(stance) for stance in STANCES) / len(truth)
    assert accuracy > majority + 0.25
    for prediction in predictions:
        assert sum(prediction.probabilities.values()) == pytest.approx(1.0)
        assert prediction.probability == max(prediction.probabilities.values())
        assert prediction.uncertainty == pytest.approx(1 - prediction.probability)


def test_bands_follow_the_thresholds_learned_from_held_out_predictions() -> None:
    result = trained()
    metrics = result.metrics
    assert metrics.medium_threshold is None or metrics.medium_threshold >= 0.5
    for prediction in result.model.predict([item for item, _ in synthetic_items()[300:]]):
        assert prediction.band == band_for(
            prediction.probability, high=metrics.high_threshold, medium=metrics.medium_threshold
        )
    for band, accuracy in metrics.band_accuracy.items():
        if accuracy is not None:
            assert accuracy >= {"high": model.HIGH_PRECISION, "medium": model.MEDIUM_PRECISION}[band]


def test_serialised_model_predicts_the_same() -> None:
    result = trained()
    items = [item for item, _ in synthetic_items()[300:330]]
    restored = model.loads(model.dumps(result.model))
    np.testing.assert_allclose(restored.probabilities(items), result.model.probabilities(items))
    with pytest.raises(TypeError):
        model.loads(__import__("pickle").dumps({"not": "a model"}))


def test_random_labels_make_a_model_that_is_not_used() -> None:
    rng = random.Random(3)
    items = synthetic_items()[:300]
    result = train([Example(item, rng.choice(STANCES)) for item, _ in items], folds=3)
    assert not result.metrics.usable
    assert "baseline" in result.metrics.reason


def test_too_few_labels_or_a_single_stance_refuse_to_train() -> None:
    items = [item for item, _ in synthetic_items()[:40]]
    with pytest.raises(InsufficientData):
        train([Example(item, "favor") for item in items])
    with pytest.raises(InsufficientData):
        train([Example(item, "not_about" if n % 2 else "favor") for n, item in enumerate(items[:15])])
    # Unsure-free, zero-weight examples do not count.
    with pytest.raises(InsufficientData):
        train([Example(item, STANCES[n % 4], weight=0.0) for n, item in enumerate(items)])


def test_context_and_quotes_are_features_of_their_own() -> None:
    words = "cluster munitions leave duds"
    as_text = model._hash([ItemText(words)]).nonzero()[1]
    as_context = model._hash([ItemText("", context=words)]).nonzero()[1]
    as_quote = model._hash([ItemText("", quotes=words)]).nonzero()[1]
    assert as_text.size
    assert as_context.size
    assert as_quote.size
    assert not set(as_text) & set(as_context)
    assert not set(as_text) & set(as_quote)
    assert not set(as_context) & set(as_quote)


def test_agreement_weights() -> None:
    assert agreement_weight("gold", {"favor": 1, "against": 2}, "favor") == 1.0
    assert agreement_weight("unanimous", {"favor": 3}, "favor") == 1.0
    assert agreement_weight("majority", {"favor": 2, "against": 1}, "favor") == pytest.approx(2 / 3)
    assert agreement_weight("single", {"favor": 1}, "favor") == 0.0
    assert agreement_weight("unresolved", {"favor": 1, "against": 1}, "favor") == 0.0


@given(st.text(max_size=60), st.lists(st.integers(0, 60), max_size=6, unique=True), st.booleans())
def test_split_quotes_keeps_every_character_once(body: str, cuts: list[int], shuffle: bool) -> None:
    points = sorted(min(cut, len(body)) for cut in cuts)
    pairs = list(zip(points[::2], points[1::2], strict=False))
    spans = [{"start": start, "end": end} for start, end in (reversed(pairs) if shuffle else pairs)]
    own, quotes = split_quotes(body, spans)
    passages = [body[start:end] for start, end in pairs if end > start]
    assert quotes == "\n".join(passages)
    assert len(own) + sum(len(passage) for passage in passages) == len(body)
    # Out-of-range and overlapping spans are clipped, never an error.
    split_quotes(body, [{"start": -3, "end": 500}, {"start": 2, "end": 4}, "junk"])  # type: ignore[list-item]


def test_split_quotes_takes_out_the_quoted_passages() -> None:
    body = "> they said X\n\nNo, I say Y. Also 'Z'."
    own, quotes = split_quotes(body, [{"start": 0, "end": 13}, {"start": 33, "end": 36}])
    assert quotes == "> they said X\n'Z'"
    assert own == "\n\nNo, I say Y. Also ."


@settings(max_examples=50)
@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), max_size=50))
def test_ece_is_between_zero_and_one(rows: list[tuple[float, bool]]) -> None:
    ece = expected_calibration_error([c for c, _ in rows], [h for _, h in rows])
    assert 0.0 <= ece <= 1.0


def test_ece_of_calibrated_and_overconfident_predictions() -> None:
    assert expected_calibration_error([1.0] * 10, [True] * 10) == 0.0
    assert expected_calibration_error([0.75] * 4, [True, True, True, False]) == pytest.approx(0.0)
    assert expected_calibration_error([0.9] * 10, [True] * 5 + [False] * 5) == pytest.approx(0.4)


@given(st.floats(0, 1), st.floats(0, 1))
def test_band_is_monotone_in_the_probability(low: float, high: float) -> None:
    order = {None: 0, "medium": 1, "high": 2}
    a, b = sorted((low, high))
    assert order[band_for(a, high=0.8, medium=0.6)] <= order[band_for(b, high=0.8, medium=0.6)]
    assert band_for(0.99, high=None, medium=None) is None
