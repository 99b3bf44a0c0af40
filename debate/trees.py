"""Reply trees of any depth, built and written out with loops over explicit stacks. Pure: no Django.

A reply chain can be thousands of comments deep; Python's recursion limit (and the C stack under its json
module) is about a thousand frames. So nothing here recurses: a subtree comes in pre-order (thread order)
with each node's depth, and its nested JSON is written piece by piece.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any


def nested_json(
    records: Iterable[Mapping[str, Any]],
    depths: Iterable[int],
    *,
    children: str = "replies",
    encoder: type[json.JSONEncoder] | None = None,
) -> Iterator[str]:
    """The JSON text of a tree whose nodes come in pre-order with their depths (the root's 0): each record as
    an object with its answers nested under `children`. One root; a depth may grow by one at a time only.

    Each record is encoded flat (it must not hold `children` itself); the nesting is written around them."""
    open_nodes: list[bool] = []  # per open node on the current path: has it a child written already?
    for record, depth in zip(records, depths, strict=True):
        if depth > len(open_nodes) or (depth == 0 and open_nodes) or (depth < 0):
            raise ValueError(f"depth {depth} after a node at depth {len(open_nodes) - 1}: not a pre-order tree")
        while len(open_nodes) > depth:
            open_nodes.pop()
            yield "]}"
        if open_nodes:
            if open_nodes[-1]:
                yield ","
            open_nodes[-1] = True
        if children in record:
            raise ValueError(f"a record holds {children!r} already")
        flat = json.dumps(record, cls=encoder, ensure_ascii=False, separators=(",", ":"))
        yield f"{flat[:-1]}{',' if len(flat) > 2 else ''}{json.dumps(children)}:["
        open_nodes.append(False)
    if not open_nodes:
        raise ValueError("a tree needs a root")
    yield "]}" * len(open_nodes)
