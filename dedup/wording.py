"""Counts in words for what dedup prints: "1 file", "2 files", "1 own word".

Every message with a count goes through :func:`count`, so no output reads "1 files".
"""

from __future__ import annotations

__all__ = ["count"]


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``n`` and the noun that fits it, ``n`` with thousands separators.

    Args:
        n: how many.
        singular: the noun phrase for one ("dropped file", "own word").
        plural: the phrase for any other number; default: ``singular`` + "s".

    Example:
        >>> count(1, "file"), count(4211, "cluster"), count(2, "copy", "copies")
        ('1 file', '4,211 clusters', '2 copies')
    """
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"
