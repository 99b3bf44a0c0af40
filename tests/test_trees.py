"""debate.trees: nested JSON of a pre-order tree, written by a loop whatever the depth."""

from __future__ import annotations

import json
import random
import sys
from typing import Any

import pytest

from debate.trees import nested_json


def nested(records: list[dict[str, Any]], depths: list[int]) -> dict[str, Any]:
    """The same tree built the plain way, for comparison (shallow trees only)."""
    path: list[dict[str, Any]] = []
    for record, depth in zip(records, depths, strict=True):
        node = {**record, "replies": []}
        del path[depth:]
        if path:
            path[-1]["replies"].append(node)
        path.append(node)
    return path[0]


@pytest.mark.parametrize("seed", range(20))
def test_random_trees_match_the_plain_nesting(seed: int) -> None:
    rng = random.Random(seed)
    depths = [0]
    for _ in range(rng.randrange(0, 40)):
        depths.append(rng.randrange(1, depths[-1] + 2))
    records = [{"id": n, "text": f'«{n}» "quoted"', "labels": {"t": [n]}} for n in range(len(depths))]

    text = "".join(nested_json(records, depths))

    assert json.loads(text) == nested(records, depths)


def test_a_chain_deeper_than_the_recursion_limit() -> None:
    depth = sys.getrecursionlimit() * 3

    text = "".join(nested_json(({"n": n} for n in range(depth)), range(depth)))

    assert text.startswith('{"n":0,"replies":[{"n":1,"replies":[')
    assert text.endswith("]}" * depth)
    assert text.count("{") == depth


def test_an_empty_record_still_gets_its_replies() -> None:
    assert "".join(nested_json([{}, {}], [0, 1])) == '{"replies":[{"replies":[]}]}'


@pytest.mark.parametrize(
    ("depths", "message"),
    [([0, 2], "not a pre-order tree"), ([0, 1, 0], "not a pre-order tree"), ([1], "not a pre-order tree")],
)
def test_what_is_no_pre_order_tree_is_refused(depths: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        "".join(nested_json([{"n": n} for n in range(len(depths))], depths))


def test_a_record_may_not_hold_replies_itself() -> None:
    with pytest.raises(ValueError, match="holds 'replies'"):
        "".join(nested_json([{"replies": 1}], [0]))
