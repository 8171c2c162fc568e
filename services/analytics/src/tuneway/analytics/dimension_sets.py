"""The dimension sets the rollups are kept for, and which one answers a query.

Rollups are kept per tenant and *dimension set*: the empty set (totals), each of the nine public
dimensions alone and each pair of them (1 + 9 + 36 = 46 sets). A rollup row holds the values of its
set's dimensions in `first_value` and `second_value` ("" where the set has fewer), in DIMENSIONS' order.
A query whose group_by and filters together name at most two public dimensions reads the one set equal
to them; anything wider (three or more, or kind/endpoint, which no set keeps) is answered from the raw
events instead, and only within their retention.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations

from tuneway.analytics.domain import DIMENSIONS

# kind and endpoint are for drill-down and wide queries only: few dashboards split by them.
ROLLUP_DIMENSIONS: tuple[str, ...] = DIMENSIONS[:9]
# A set's id (its index here) is what a rollup row stores; the order is part of the schema.
DIMENSION_SETS: tuple[tuple[str, ...], ...] = (
    (),
    *((name,) for name in ROLLUP_DIMENSIONS),
    *combinations(ROLLUP_DIMENSIONS, 2),
)
SET_IDS: dict[tuple[str, ...], int] = {names: index for index, names in enumerate(DIMENSION_SETS)}
VALUE_COLUMNS = ("first_value", "second_value")
# Where each dimension sits in DIMENSIONS (and in an event's dimension tuple).
_POSITION = {name: index for index, name in enumerate(DIMENSIONS)}
# For each set, the positions of its dimensions in an event's dimension tuple.
SET_POSITIONS: tuple[tuple[int, ...], ...] = tuple(
    tuple(_POSITION[name] for name in names) for names in DIMENSION_SETS
)


def canonical(names: Iterable[str]) -> tuple[str, ...]:
    """The distinct dimension names in DIMENSIONS' order."""
    wanted = set(names)
    return tuple(name for name in DIMENSIONS if name in wanted)


def set_for(names: Iterable[str]) -> int | None:
    """The id of the set equal to `names`, or None when no rollup keeps it (the raw events answer)."""
    return SET_IDS.get(canonical(names))


def value_column(set_id: int, dimension: str) -> str:
    """The rollup column that holds `dimension`'s value in rows of set `set_id`."""
    return VALUE_COLUMNS[DIMENSION_SETS[set_id].index(dimension)]
