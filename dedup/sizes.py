"""Sizes on the command line (``--max-bytes 10K``, ``cache prune --max-size 500M``): one
syntax and one parser for every option that takes a number of bytes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    _ParamType = click.ParamType[int]  # generic from click 8.3; pyproject allows 8.2
else:
    _ParamType = click.ParamType

__all__ = ["ByteSize", "parse_size", "shown_size"]

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """``500M``, ``8G``, ``10KiB``, ``1000``: a size in bytes (K, M, G, T: powers of 1024).

    Raises:
        ValueError: not a size.

    Example:
        >>> parse_size("10K"), parse_size("2 GiB"), parse_size("1000")
        (10240, 2147483648, 1000)
    """
    number = text.strip().lower()
    if number.endswith("ib"):
        number = number[:-2]
    elif number.endswith("b"):
        number = number[:-1]
    number = number.rstrip()
    unit = ""
    if number[-1:] in _UNITS:
        number, unit = number[:-1].rstrip(), number[-1]
    if not (number.isascii() and number.isdigit()):
        raise ValueError(f"{text!r} is not a size (such as 10K, 500M or 8G)")
    return int(number) * _UNITS[unit]


def shown_size(size: int) -> str:
    """A size as ``parse_size`` reads it, in the largest unit that divides it (``256M``)."""
    for unit in "TGMK":
        factor = _UNITS[unit.lower()]
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


class ByteSize(_ParamType):
    """A click option type for sizes: click's own error then names the option."""

    name = "size"

    def __init__(self, least: int = 0) -> None:
        self.least = least

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            size = value
        else:
            try:
                size = parse_size(str(value))
            except ValueError as exc:
                self.fail(str(exc), param, ctx)
        if size < self.least:
            self.fail(f"{value!r} is less than {self.least} byte{'s' if self.least != 1 else ''}", param, ctx)
        return size
