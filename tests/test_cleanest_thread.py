"""A readers' thread is found when one copy marks it and another copy of the page lacks it;
article text with the same shapes (quotes, interviews, footer links) stays the article."""

from __future__ import annotations

from test_cleanest_comments import ARTICLE  # the same article, one place

from dedup.cleanest import TIE_BAND, rank
from dedup.config import ScanConfig

COMMENTS = (
    "Martha Quill thought the brace looked far too thin for a wall of that size and weight.\n"
    "Tobias Fern answered that the masons had braced the granary the same way last winter.\n"
    "Another reader asked why nobody had checked the foundations before the floods arrived.\n"
)
NAV = "Home\nNews\nSport\nWeather\n"


def _rank(texts: list[str]) -> list[tuple[int, float, tuple[str, ...]]]:
    picks = rank(list(range(len(texts))), texts, lambda h: 0, ScanConfig())
    return [(p.index, p.penalty, p.reasons) for p in picks]


def _penalty(picks: list[tuple[int, float, tuple[str, ...]]], index: int) -> float:
    return next(p for i, p, _ in picks if i == index)


def test_one_copys_heading_vouched_by_the_article_alone() -> None:
    # Only trafilatura's copy carries the "37 comments" heading; jusText writes the thread
    # straight after the article; the HTML has only the form heading below the thread.
    texts = [
        ARTICLE,
        ARTICLE + "37 comments\n" + COMMENTS,
        ARTICLE + COMMENTS,
        NAV + ARTICLE + COMMENTS + "Leave a Reply\n",
    ]
    picks = _rank(texts)
    assert picks[0][0] == 0
    assert "whole shared text" in picks[0][2][0]
    assert any("words outside the shared text" in r for r in next(rs for i, _, rs in picks if i == 2))


def test_a_long_thread_puts_its_heading_in_the_first_third() -> None:
    # A thread three times the article's length: the heading is in the copy's first third.
    thread = "Comments (12)\n" + "".join(COMMENTS.replace("the", w) for w in ("a", "one", "this", "that", "our"))
    texts = [ARTICLE, ARTICLE + thread, NAV + ARTICLE + thread, ARTICLE + thread + "Privacy policy\n"]
    picks = _rank(texts)
    assert picks[0][0] == 0
    assert _penalty(picks, 1) > TIE_BAND


def test_a_reader_quoting_the_article_does_not_make_the_thread_article() -> None:
    # The last comment quotes a sentence of the article: the thread still lies outside it,
    # so the copy with the thread is not "fuller" than the article alone.
    quote = "Residents who use the path to reach the market were asked to cross at the ferry landing instead.\n"
    thread = "3 Comments\n" + COMMENTS + "Quoting the piece: " + quote + "Thanks for the update.\n"
    texts = [ARTICLE, ARTICLE + thread, NAV + ARTICLE + thread, ARTICLE + thread + "Privacy policy\n"]
    picks = _rank(texts)
    assert picks[0][0] == 0
    assert _penalty(picks, 1) > TIE_BAND


BLOGGER = (
    "Anonymous said...\n"
    "Martha Quill thought the brace looked far too thin for a wall of that size and weight.\n"
    "March 3, 2012 at 4:14 PM\n"
    "Tobias Fern said...\n"
    "The masons had braced the granary the same way last winter and it held through the storms.\n"
    "March 3, 2012 at 5:02 PM\n"
    "Anonymous said...\n"
    "Why did nobody check the foundations before the floods arrived in the valley this year?\n"
    "March 4, 2012 at 9:30 AM\n"
)


def test_a_blogger_thread_without_a_heading_is_found_by_its_marks() -> None:
    # No copy has a heading; two copies (the human text, readability) lack the thread.
    texts = [ARTICLE, ARTICLE, ARTICLE + BLOGGER, NAV + ARTICLE + BLOGGER, ARTICLE + BLOGGER + "Newer Post\n"]
    picks = _rank(texts)
    assert picks[0][0] in (0, 1)
    assert "whole shared text" in picks[0][2][0]
    assert _penalty(picks, 2) > TIE_BAND


def test_marks_vouched_by_one_copy_alone_take_nothing_out() -> None:
    # A single copy without the marked lines is not enough: it may be cut short.
    texts = [ARTICLE, ARTICLE + BLOGGER, NAV + ARTICLE + BLOGGER, ARTICLE + BLOGGER + "Newer Post\n"]
    picks = _rank(texts)
    assert picks[0][0] != 0


QUOTES = (
    "At the meeting the mayor stood up and read from a letter.\n"
    "The mayor said:\n"
    "We will rebuild the wall before the winter rains and the path will open again by spring.\n"
    "The chief engineer said:\n"
    "The brace is strong enough to hold the wall for a year while the masons finish the work.\n"
    "A resident said:\n"
    "We only want to know when we can walk to the market again without taking the ferry.\n"
    "Interview, 14:30 on Tuesday\n"
    "Q: How long will the repairs take?\n"
    "A: Until the end of October, if the quarry delivers the lime mortar on time.\n"
    "Q: Will the ferry run more often?\n"
    "A: Twice an hour on market days, the council has agreed to pay for it.\n"
)


def test_an_article_with_quoted_said_lines_and_an_interview_stays_whole() -> None:
    # Two copies cut short before the quotes: the quotes and the interview are still the
    # article (every full copy has them), so the full copy is the cleanest.
    full = ARTICLE + QUOTES
    texts = [ARTICLE, ARTICLE, full, full, full + "Privacy policy\n"]
    picks = _rank(texts)
    assert picks[0][0] in (2, 3)
    assert "whole shared text" in picks[0][2][0]
    assert all(_penalty(picks, i) > TIE_BAND for i in (0, 1))


def test_a_comments_link_in_the_footer_is_not_a_thread() -> None:
    # The article ends; the page footer holds a "Comments" link and the site's lines.
    footer = "Comments\nAbout us\nContact\n"
    texts = [ARTICLE + QUOTES, ARTICLE + QUOTES + footer, NAV + ARTICLE + QUOTES + footer, ARTICLE + QUOTES]
    picks = _rank(texts)
    assert {i for i, p, _ in picks if p == 0.0} >= {0, 3}
    assert not any("lacks" in " ".join(rs) for _, _, rs in picks)
