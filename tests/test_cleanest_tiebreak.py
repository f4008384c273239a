"""Equally clean copies: the tie-break prefers paragraphs set apart, never a copy with chrome."""

from __future__ import annotations

import pytest
from conftest import PLAIN

from dedup.cleanest import TIE_BAND, rank
from dedup.cleanest_layout import marks_paragraphs
from dedup.config import ScanConfig

CFG = ScanConfig()


def _picks(texts: list[str]) -> list[tuple[int, float]]:
    return [(p.index, p.penalty) for p in rank(list(range(len(texts))), texts, lambda h: 0, CFG)]


def _article(sample_texts: dict[str, str]) -> str:
    """The plain sample's article (its comment widget left off): one paragraph a line, no
    blank lines between them."""
    text = sample_texts[PLAIN].split("\n\n")[0] + "\n"
    assert "\n\n" not in text.strip() and not marks_paragraphs(text)
    return text


def _marked(text: str) -> str:
    return "\n\n".join(line for line in text.split("\n") if line.strip()) + "\n"


@pytest.mark.parametrize("marked_first", [True, False])
def test_paragraphs_set_apart_win_a_tie_in_either_order(sample_texts: dict[str, str], marked_first: bool) -> None:
    # The same words; one copy marks its paragraphs with blank lines, the other only with
    # newlines (Markdown or a reflowing editor would run its paragraphs together).
    article = _article(sample_texts)
    texts = [_marked(article), article] if marked_first else [article, _marked(article)]
    picks = _picks(texts)
    assert picks[0][0] == (0 if marked_first else 1)


@pytest.mark.parametrize("marked_first", [True, False])
def test_a_copy_that_runs_its_paragraphs_together_loses_a_tie(sample_texts: dict[str, str], marked_first: bool) -> None:
    article = _article(sample_texts)
    run_together = " ".join(line.strip() for line in article.split("\n") if line.strip()) + "\n"
    texts = [_marked(article), run_together] if marked_first else [run_together, _marked(article)]
    assert _picks(texts)[0][0] == (0 if marked_first else 1)


@pytest.mark.parametrize("chrome", ["Share\nTweet\n", "Share on Facebook\n", "Print\nEmail\n"])
@pytest.mark.parametrize("article_first", [True, False])
def test_the_article_never_loses_a_tie_to_a_copy_with_chrome(
    sample_texts: dict[str, str], chrome: str, article_first: bool
) -> None:
    # The copy with chrome sets its paragraphs apart, the article does not; they are within
    # the tie band, so the tie-break decides, and known chrome comes before the layout.
    article = _article(sample_texts)
    with_chrome = _marked(article) + chrome
    texts = [article, with_chrome] if article_first else [with_chrome, article]
    picks = _picks(texts)
    assert abs(picks[0][1] - picks[1][1]) <= TIE_BAND  # the case is a tie
    assert picks[0][0] == (0 if article_first else 1)


def test_layout_does_not_outweigh_missing_text(sample_texts: dict[str, str]) -> None:
    # Outside the tie band the penalty decides: a marked copy that lost a paragraph (two
    # copies hold it, so it is shared text) still loses to the whole article laid out one
    # paragraph a line.
    article = _article(sample_texts)
    lines = [line for line in article.split("\n") if line.strip()]
    shorter = _marked("\n".join(lines[:2] + lines[3:]))
    picks = _picks([shorter, article, article])
    assert picks[0][0] in (1, 2)
    assert picks[0][1] + TIE_BAND < dict(picks)[0]


@pytest.mark.parametrize("article_first", [True, False])
def test_the_article_beats_a_copy_with_a_menu_above_it(sample_texts: dict[str, str], article_first: bool) -> None:
    # "News" and "Sport" are not known chrome, so they passed for the article's head and made
    # the copy with the menu the "fuller" one; "Home" is known chrome and now decides the tie.
    article = _article(sample_texts)
    menu = "Home\nNews\nSport\n" + article
    texts = [article, menu] if article_first else [menu, article]
    picks = _picks(texts)
    assert abs(picks[0][1] - picks[1][1]) <= TIE_BAND
    assert picks[0][0] == (0 if article_first else 1)


def test_marks_paragraphs_on_layouts() -> None:
    para = "The council met on Tuesday to decide how the old mill should be repaired. " * 2
    assert marks_paragraphs(f"{para}\n\n{para}\n\n{para}\n")
    assert not marks_paragraphs(f"{para}\n{para}\n{para}\n")
    assert not marks_paragraphs(para)  # one paragraph: nothing to tell apart
    # Wrapped every 60 characters, with blank lines between paragraphs: most breaks between
    # prose lines are inside a paragraph.
    words = para.split()
    wrapped = "\n".join(" ".join(words[i : i + 10]) for i in range(0, len(words), 10))
    assert not marks_paragraphs(f"{wrapped}\n\n{wrapped}\n")
    # Headings and short lines between paragraphs do not count as breaks either way.
    assert marks_paragraphs(f"Title\n{para}\n\n{para}\nShare\n")
    # Text without spaces (Chinese) is measured by its characters.
    zh = "市议会周二开会决定如何修复北桥旁的旧磨坊工程师告诉议员东墙自春季洪水以来已移动四厘米临时支架将撑住墙体"
    assert marks_paragraphs(f"{zh}\n\n{zh}\n") and not marks_paragraphs(f"{zh}\n{zh}\n")
