"""Pages of one site under a long frame of short lines are told apart by their own prose,
while an extractor-like copy that holds one paragraph more stays joined."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from test_evidence import _WORDS, prose

from dedup import ScanConfig, scan, verify
from dedup.evidence import TEMPLATE_SHARE, distinct_pages
from dedup.shingle import shingle_batch

CONFIG = ScanConfig()


def frame(seed: int = 3, words: int = 900) -> tuple[str, str]:
    """A site's header and footer: navigation, section links and labels, lines of 1-6 words."""
    rng = random.Random(seed)
    lines, count = [], 0
    while count < words:
        n = rng.randint(1, 6)
        lines.append(" ".join(rng.choice(_WORDS).capitalize() for _ in range(n)))
        count += n
    half = len(lines) // 2
    return "\n".join(lines[:half]), "\n".join(lines[half:])


def page(article_seed: int) -> str:
    """One page of the site: the frame around an article of about 110 words."""
    head, foot = frame()
    return f"{head}\n\n{prose(article_seed, 110)}\n\n{foot}"


def test_pages_under_a_long_frame_are_told_apart() -> None:
    """The case: the pages pass Jaccard, and each article is under TEMPLATE_SHARE of what
    they share, so the share of all shared shingles alone would call them copies."""
    texts = [page(1), page(2)]
    sh = shingle_batch(texts, CONFIG.shingle_size, CONFIG.char_shingle_size)
    x, y = sh.get(0), sh.get(1)
    inter = verify.overlap(x, y)
    jaccard, _ = verify.similarity(x, y)
    assert jaccard >= CONFIG.jaccard_threshold
    assert TEMPLATE_SHARE * inter > 110
    assert distinct_pages(0, 1, sh, texts.__getitem__, CONFIG, inter)
    assert verify.verify(np.array([[0, 1]], np.int64), sh, CONFIG, texts.__getitem__) == []


def test_pages_of_a_long_frame_are_not_one_cluster(tmp_path: Path) -> None:
    for k in range(6):
        (tmp_path / f"page{k}.txt").write_text(page(100 + k), encoding="utf-8")
    result = scan(tmp_path, ScanConfig(jobs=1))
    assert result.summary.candidates > 0
    assert result.clusters == ()


def test_copy_with_one_more_paragraph_stays_joined(tmp_path: Path) -> None:
    """Two extractions of one article page: one also kept a paragraph the other dropped
    (about 15% of the article), the other the author's note at the end (about 10%): each
    holds prose the other lacks, yet they are copies, not two pages."""
    article = prose(40, 600)
    paragraphs = article.split("\n\n")
    extra = prose(41, 90)
    one = "\n\n".join([*paragraphs[:3], extra, *paragraphs[3:]])
    other = article + "\n\n" + prose(42, 60)
    (tmp_path / "one.txt").write_text(one, encoding="utf-8")
    (tmp_path / "other.txt").write_text(other, encoding="utf-8")
    result = scan(tmp_path, ScanConfig(jobs=1))
    assert [len(c.members) for c in result.clusters] == [2]
