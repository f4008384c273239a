"""Which hashes are in a sorted set, for the big arrays of a big text.

The ranking and evidence stages ask whether each of a text's shingle windows (in text
order) is in a sorted set. For a few hundred hashes a binary search each is the fastest
way. For a big text, searches in text order send every step to a random place of a big
set, a cache miss a step; asked in sorted order they walk the set once, and the sort costs
less than it saves (docs/benchmarks.md, "Big files").
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: Past this many values, ``member_sorted`` pays (below it, the plain search is as fast).
BIG_QUERY = 1 << 17


def member_sorted(values: NDArray[np.uint64], sorted_set: NDArray[np.uint64]) -> NDArray[np.bool_]:
    """Which ``values`` are in ``sorted_set`` (not empty), searched in sorted order.

    Example:
        >>> member_sorted(np.array([5, 1, 9], np.uint64), np.array([1, 5], np.uint64)).tolist()
        [True, True, False]
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    pos = np.minimum(np.searchsorted(sorted_set, ordered), len(sorted_set) - 1)
    found = np.empty(len(values), bool)
    found[order] = sorted_set[pos] == ordered
    return found
