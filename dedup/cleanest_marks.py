"""Lines that mark a reader's comment, for a thread that has no heading (cleanest_comments.py).

Blogger writes "Anonymous said..." and a timestamp under each comment, WordPress "Joe says:"
and "October 30, 2012 at 11:02 am", other themes "[Reply]" after each: a run of such lines
in a comment's pattern is a thread a person would recognise. An article's quoted "The mayor
said:" lines or a live blog's times are not in that pattern.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .shingle import tokens


def line_starts(lines: Sequence[str]) -> list[int]:
    """The token where each line begins (tokenised only for a text that has a mark or heading)."""
    out: list[int] = []
    pos = 0
    for line in lines:
        out.append(pos)
        if line.strip():
            pos += len(tokens(line))
    return out


#: Lines that mark one reader's comment: its author ("Joe says:", "Anonymous said...",
#: "09. Jul, 2012 / Lynda says:"), a reply or permalink line, or a short line with a clock
#: time ("October 12, 2012 at 12:50 PM", "Posted by: Mila | November 13, 2012 at 10:11 AM").
_AUTHOR = re.compile(r"^.{1,60}\b(says|said|wrote)\s*(:|\.\.\.|…|,)?$", re.IGNORECASE)
_REPLY = re.compile(
    r"^\W*(reply|reply to this comment|link to this comment|permalink|report abuse|report comment)\W*$", re.IGNORECASE
)
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}\s*([ap]\.?m\.?)?(\W|$)", re.IGNORECASE)
_MARK_STEMS = ("said", "says", "wrote", "reply", "permalink", "report")
_MARK_CHARS = 120
_MARK_WORDS = 14
#: A thread without a heading is a run of at least this many marks, in a comment's pattern
#: (see is_thread_shaped).
MIN_MARKS = 3


def comment_marks(text: str) -> list[tuple[int, str]]:
    """(token, kind) of the lines that mark a reader's comment, first to last, when they are
    shaped like a thread (is_thread_shaped), else []; the kinds are "author", "reply", "clock"."""
    low = text.lower()
    if not any(w in low for w in _MARK_STEMS) and not (":" in text and _CLOCK.search(text)):
        return []
    lines = text.split("\n")
    found: list[tuple[int, str]] = []  # (line, kind)
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or len(stripped) > _MARK_CHARS:
            continue
        if _AUTHOR.match(stripped):
            found.append((i, "author"))
        elif _REPLY.match(stripped):
            found.append((i, "reply"))
        elif len(stripped.split()) <= _MARK_WORDS and _CLOCK.search(stripped):
            found.append((i, "clock"))
    if not is_thread_shaped([k for _, k in found]):
        return []
    starts = line_starts(lines)
    return [(starts[i], kind) for i, kind in found]


def is_thread_shaped(kinds: Sequence[str]) -> bool:
    """Marks a person would call a comment thread: "Reply" lines again and again, or author
    or reply lines with timestamps. An article's quotes ("The mayor said:") or a live blog's
    times alone are not."""
    counts = {k: kinds.count(k) for k in ("author", "reply", "clock")}
    return len(kinds) >= MIN_MARKS and (
        counts["reply"] >= 2 or (counts["clock"] >= 2 and counts["author"] + counts["reply"] >= 2)
    )
