"""An article joins its own page when the page is mostly a readers' thread (thread_size.py)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from test_cleanest_comments import ARTICLE

from dedup import ScanConfig, scan
from dedup.evidence import Layout
from dedup.thread_size import article_size, fits_article

CFG = ScanConfig()
NAV = "Home\nNews\nSport\nWeather\n"
_NAMES = ("Martha", "Tobias", "Inge", "Ravi", "Lucia", "Omar", "Greta", "Yusuf", "Nell", "Bram")
_THINGS = ("brace", "mortar", "footpath", "ferry", "market", "quarry", "council", "bridge")
_VERBS = ("doubted", "praised", "questioned", "defended", "mocked", "welcomed")


def thread(comments: int, heading: str = "48 Comments") -> str:
    """A readers' thread of made-up comments, each under its author's line."""
    out = [heading]
    combos = itertools.islice(itertools.product(_NAMES, _THINGS, _VERBS), comments)
    for n, (name, thing, verb) in enumerate(combos):
        out.append(f"{name} {n} says:")
        out.append(
            f"I {verb} the {thing} plan from the start, and comment number {n} is where I say so again. "
            f"The {thing} has cost the town {n + 3} thousand already and nobody at the {thing} office answers."
        )
    return "\n".join(out) + "\n"


def _write(folder: Path, texts: dict[str, str]) -> Path:
    folder.mkdir()
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _sets(text: str) -> tuple[Layout, np.ndarray]:
    layout = Layout(text, CFG)
    return layout, np.unique(layout.windows)


def test_the_article_joins_its_page_whose_thread_is_most_of_it(tmp_path: Path) -> None:
    page = NAV + ARTICLE + thread(60)
    _, article = _sets(ARTICLE)
    _, whole = _sets(page)
    assert len(article) < CFG.min_size_ratio * len(whole)  # the plain size guard turns the pair down
    folder = _write(tmp_path / "c", {"a_article.txt": ARTICLE, "b_page.txt": page, "c_page_copy.txt": page + "\n"})
    result = scan([folder], CFG)
    assert [sorted(m.rel for m in c.members) for c in result.clusters] == [
        ["a_article.txt", "b_page.txt", "c_page_copy.txt"]
    ]
    cluster = result.clusters[0]
    assert cluster.cleanest.rel == "a_article.txt"
    pages = [m for m in cluster.members if not m.cleanest]
    # The thread is found in no copy that is kept: one page stays as a superset, nothing is lost.
    assert sorted(m.decision for m in pages) == ["drop", "superset"]


def test_a_passage_of_the_article_does_not_join_the_page(tmp_path: Path) -> None:
    # A quote of two of a long article's lines is under the guard against the article alone.
    longer = ARTICLE + thread(12, "The mill in the town's history").split("\n", 1)[1].replace("says:", "recalled")
    quote = "".join(ARTICLE.splitlines(keepends=True)[1:3])
    page = NAV + longer + thread(60)
    win, _ = _sets(page)
    _, small = _sets(quote)
    assert article_size(small, win, CFG) > 0  # the thread is found...
    assert not fits_article(small, win, CFG)  # ...and the quote is still too small
    result = scan([_write(tmp_path / "q", {"a_quote.txt": quote, "b_page.txt": page})], CFG)
    assert result.clusters == ()


@pytest.mark.parametrize("heading", ["Discussion", "Related stories"])
def test_no_thread_without_a_comments_heading(heading: str) -> None:
    # "Discussion" may be an article's subhead (the ranking asks two copies for it); a list of
    # related stories is not a thread at all.
    page = NAV + ARTICLE + thread(60, heading)
    win, _ = _sets(page)
    _, small = _sets(ARTICLE)
    assert article_size(small, win, CFG) == 0
    assert not fits_article(small, win, CFG)


def test_text_after_the_heading_that_the_smaller_holds_is_no_thread() -> None:
    # The smaller holds what follows the heading: the heading does not end the shared text.
    page = NAV + ARTICLE + thread(60)
    win, _ = _sets(page)
    _, small = _sets(ARTICLE + thread(60))
    assert article_size(small, win, CFG) == 0


def test_the_guard_counts_prose_before_the_thread() -> None:
    # A long list of links above the article makes it small beside the text before the
    # heading too; in prose (lines of eight words or more) it is all of it.
    combos = itertools.islice(itertools.product(_NAMES, _THINGS, _VERBS), 150)
    links = "".join(f"Story {n}: {name} and the {t} {v}\n" for n, (name, t, v) in enumerate(combos))
    page = NAV + links + ARTICLE + thread(60)
    lay, _ = _sets(page)
    _, small = _sets(ARTICLE)
    assert len(small) < CFG.min_size_ratio * article_size(small, lay, CFG)
    assert fits_article(small, lay, CFG)
