"""The API's orjson renderer writes the bytes DRF's own JSON renderer writes, for every kind of value a view
hands it, and falls back to DRF's renderer for what orjson cannot write."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from config.renderers import JSONRenderer

UTC = dt.UTC


def both(data: Any, media_type: str = "application/json") -> tuple[bytes, bytes]:
    return JSONRenderer().render(data, media_type, {}), DRFJSONRenderer().render(data, media_type, {})


def test_every_kind_of_value_a_view_returns_renders_as_drf_renders_it() -> None:
    data = {
        "id": 7,
        "text": 'quote \u201cit\u201d \u2028 line\u2029 para \x00 \\ "esc" é 漢字 🙂',
        "when": dt.datetime(2026, 11, 30, 23, 4, 45, 123456, tzinfo=UTC),
        "whole_second": dt.datetime(2026, 11, 30, 23, 4, 45, tzinfo=UTC),
        "naive": dt.datetime(2026, 1, 2, 3, 4, 5, 600000),  # noqa: DTZ001 - a naive value renders as DRF renders it
        "offset": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "day": dt.date(2026, 2, 3),
        "time": dt.time(4, 5, 6, 789000),
        "duration": dt.timedelta(days=1, seconds=5),
        "amount": Decimal("0.125"),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "lazy": gettext_lazy("This field is required."),
        "error": ErrorDetail("bad value", code="invalid"),
        "scores": [0.0, 0.5, 0.333, 1.0, -2.75, 123456.789],
        "flags": [True, False, None],
        "nested": ReturnDict({"a": ReturnList([1, 2, {"b": ()}], serializer=None)}, serializer=None),  # type: ignore[call-overload]
        "tuple": (1, "two"),
        3: "an integer key",
        "empty": {},
    }
    ours, drf = both(data)
    assert ours == drf


def test_a_value_orjson_cannot_write_falls_back_to_drf() -> None:
    huge = {"n": 2**70}
    assert both(huge)[0] == both(huge)[1] == b'{"n":1180591620717411303424}'
    with pytest.raises(TypeError):  # what neither can write fails as it did
        JSONRenderer().render({"x": object()})


def test_an_indent_asked_for_in_the_media_type_is_honoured() -> None:
    ours, drf = both({"a": [1, 2]}, "application/json; indent=2")
    assert ours == drf
    assert b"\n" in ours


def test_nothing_renders_as_nothing() -> None:
    assert JSONRenderer().render(None) == b""


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15).filter(
        lambda number: number == 0 or abs(number) >= 1e-4
    ),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_value_renders_as_drf_renders_it(value: Any) -> None:
    # Within the float range where Python and orjson spell numbers alike (no exponent): see config/renderers.py.
    ours, drf = both(value)
    assert ours == drf
