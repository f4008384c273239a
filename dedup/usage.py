"""Click command and group classes for dedup's usage errors (one ``Error:`` line, exit 2).

Click lets an option given twice keep its last value: ``-o a.json -o b.json`` would write
only b.json and exit 0, so the user never learns a.json was not written. Every command of
the program refuses a single-value option given more than once instead.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import click


def usage_line(exc: click.UsageError) -> str:
    """The one line a usage error prints: no "Usage:" and "Try --help" block around it."""
    return f"Error: {exc.format_message()}"


class Command(click.Command):
    """A command whose single-value options may be given once only."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not ctx.resilient_parsing:
            _, _, order = self.make_parser(ctx).parse_args(args=list(args))
            counts = Counter(p for p in order if isinstance(p, click.Option))
            for param, count in counts.items():
                if count > 1 and not (param.multiple or param.count or param.is_flag):
                    names = "/".join(param.opts)
                    raise click.UsageError(f"{names} given more than once: give it once", ctx=ctx)
        return super().parse_args(ctx, args)


class Group(click.Group):
    """A subcommand group (``dedup cache``) whose commands are ``Command``."""

    command_class = Command
    group_class: Any = type
