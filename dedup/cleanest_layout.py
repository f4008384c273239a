"""How a copy lays out its paragraphs: a tie-break between equally clean copies (cleanest.py).

Copies of one article often hold the same words and differ only in layout: one sets its
paragraphs apart with blank lines, another writes one paragraph a line with nothing between
them, a third runs them together or wraps every line. In plain text the blank line is the
paragraph mark that every convention keeps (Markdown, reflowing editors and ``fmt`` join
lines that only a newline separates), so a copy that marks its paragraphs keeps them
wherever it is read; one that does not may lose them.
"""

from __future__ import annotations

#: A line of at least this many characters (spaces around it left out) is prose: a
#: paragraph or a part of one. Counted in characters, not words, so that Chinese or
#: Japanese text without spaces is measured alike.
PROSE_CHARS = 40


def marks_paragraphs(text: str) -> bool:
    """Whether the text sets its paragraphs apart with blank lines: at least half of the
    breaks between two prose lines that follow each other hold a blank line.

    A text with no two prose lines in a row (one paragraph, or prose between headings and
    short lines only) does not count as marked: there is nothing to tell apart.

    >>> one, two = "The first paragraph, long enough to be prose.", "The second one, just as long as the first."
    >>> marks_paragraphs(one + "\\n\\n" + two), marks_paragraphs(one + "\\n" + two)
    (True, False)
    """
    gaps = blanks = 0
    after_prose = blank = False
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            blank = True
            continue
        prose = len(stripped) >= PROSE_CHARS
        if prose and after_prose:
            gaps += 1
            blanks += blank
        after_prose, blank = prose, False
    return gaps > 0 and 2 * blanks >= gaps
