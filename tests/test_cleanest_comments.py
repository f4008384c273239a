"""Readers' comments kept by most copies of a page are not the article the cleanest copy must hold."""

from __future__ import annotations

from dedup.cleanest import rank
from dedup.cleanest_comments import comments_start
from dedup.config import ScanConfig

ARTICLE = (
    "The river council met on Tuesday to decide how the old mill by the north bridge should be repaired.\n"
    "Engineers told the members that the east wall had moved four centimetres since the spring floods.\n"
    "A temporary brace will hold the wall while the stone masons order lime mortar from the quarry upstream.\n"
    "The work is expected to last until the end of October and the footpath will stay closed until then.\n"
    "Residents who use the path to reach the market were asked to cross at the ferry landing instead.\n"
)
THREAD = (
    "3 Comments\n"
    "Martha Quill said the brace looked far too thin for a wall of that size and weight.\n"
    "Tobias Fern replied that the masons had braced the granary the same way last winter.\n"
    "Another reader asked why nobody had checked the foundations before the floods arrived.\n"
)
NAV = "Home\nNews\nSport\nWeather\n"


def test_copies_with_the_comment_thread_lose_to_the_article_alone() -> None:
    texts = [ARTICLE, ARTICLE + THREAD, NAV + ARTICLE + THREAD, ARTICLE + THREAD + "Privacy policy\n"]
    picks = rank([0, 1, 2, 3], texts, lambda h: 0, ScanConfig())
    assert picks[0].index == 0
    assert "whole shared text" in picks[0].reasons[0]
    thread = next(p for p in picks if p.index == 1)
    assert any("words outside the shared text" in r for r in thread.reasons)


def test_a_comments_link_in_the_header_is_not_the_thread() -> None:
    text = "Comments\n" + ARTICLE
    assert comments_start(text, len(text.split())) == -1
    assert comments_start(ARTICLE + THREAD, len((ARTICLE + THREAD).split())) == len(ARTICLE.split())


def test_text_any_copy_has_before_a_heading_stays_the_article() -> None:
    # A copy that has the article *after* a late "Comments" line still shares it with the
    # copies that have it first: nothing of the article leaves the shared text.
    late_head = ARTICLE.replace("A temporary brace", "Comments\nA temporary brace")
    texts = [ARTICLE, ARTICLE, late_head, ARTICLE + "Share\n"]
    picks = rank([0, 1, 2, 3], texts, lambda h: 0, ScanConfig())
    assert all("lacks" not in " ".join(p.reasons) for p in picks if p.index != 2)


def test_a_thread_an_extractor_keeps_without_its_heading_is_still_the_thread() -> None:
    # The HTML and get_text() show the heading; an extractor writes the comments straight
    # after the article. Two copies with the heading say where the thread starts.
    body = THREAD.split("\n", 1)[1]
    texts = [ARTICLE, NAV + ARTICLE + THREAD, ARTICLE + THREAD + "Privacy policy\n", ARTICLE + body]
    picks = rank([0, 1, 2, 3], texts, lambda h: 0, ScanConfig())
    assert picks[0].index == 0
    assert "whole shared text" in picks[0].reasons[0]
    extractor = next(p for p in picks if p.index == 3)
    assert any("words outside the shared text" in r for r in extractor.reasons)


def test_one_copy_with_a_heading_does_not_take_text_out() -> None:
    # A lone heading (a "Discussion" subhead in one copy's article) is not enough.
    texts = [ARTICLE + THREAD, ARTICLE + THREAD.replace("3 Comments\n", ""), ARTICLE + THREAD.replace("3 Comments\n", "")]
    picks = rank([0, 1, 2], texts, lambda h: 0, ScanConfig())
    # The copies without the heading hold the whole shared text, thread included, and nothing else.
    assert {p.index for p in picks if p.penalty == 0.0} == {1, 2}
