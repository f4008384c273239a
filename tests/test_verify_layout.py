"""Verify's template test lays each document out once per call, with the same decisions."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
from test_evidence import man_page, prose

from dedup import ScanConfig, verify
from dedup.evidence import Layout, OwnText, distinct_pages, own_of, own_text
from dedup.shingle import shingle_batch

CONFIG = ScanConfig()


def corpus() -> list[str]:
    """Pages of one template (told apart), copies of one of them with chrome of their own
    (joined), and an article with a comment thread (joined to its bare copy)."""
    pages = [man_page(c, 480, 1000 + k) for k, c in enumerate(["cp", "mv", "rm", "ln", "ls"])]
    copies = [f"Site {k} home news\n{pages[0]}\nfooter {k} contact about" for k in range(4)]
    article = prose(5, 400)
    thread = article + "\n\nComments\n" + prose(6, 120)
    return [*pages, *copies, article, thread]


def test_one_call_decides_as_pair_by_pair() -> None:
    texts = corpus()
    sh = shingle_batch(texts, CONFIG.shingle_size, CONFIG.char_shingle_size)
    pairs = np.array(list(itertools.combinations(range(len(texts)), 2)), np.int64)
    together = verify.verify(pairs, sh, CONFIG, texts.__getitem__)
    alone = [m for p in pairs for m in verify.verify(p[None, :], sh, CONFIG, texts.__getitem__)]
    assert together == alone
    joined = {(m.a, m.b) for m in together}
    assert not any((a, b) in joined for a, b in itertools.combinations(range(5), 2))  # template pages apart
    assert all((a, b) in joined for a, b in itertools.combinations(range(5, 9), 2))  # copies together
    assert (9, 10) in joined
    # Without the texts the template pages would be one group: the test did decide something.
    assert any((a, b) in {(m.a, m.b) for m in verify.verify(pairs, sh, CONFIG)} for a, b in [(0, 1), (1, 2)])


def test_each_text_is_read_once_per_call() -> None:
    texts = corpus()
    sh = shingle_batch(texts, CONFIG.shingle_size, CONFIG.char_shingle_size)
    pairs = np.array(list(itertools.combinations(range(5), 2)), np.int64)  # ten pairs of five pages
    reads: Counter[int] = Counter()

    def text_of(i: int) -> str:
        reads[i] += 1
        return texts[i]

    verify.verify(pairs, sh, CONFIG, text_of)
    assert set(reads) == set(range(5))
    assert max(reads.values()) == 1


def flat(own: OwnText) -> tuple[int, list[tuple[int, list[int]]]]:
    return own.words, [(r.words, r.shingles.tolist()) for r in own.runs]


def test_layout_gives_own_text() -> None:
    texts = corpus()
    sh = shingle_batch(texts, CONFIG.shingle_size, CONFIG.char_shingle_size)
    for a, b in itertools.permutations(range(len(texts)), 2):
        lay = Layout(texts[a], CONFIG)
        assert flat(own_of(lay, sh.get(b))) == flat(own_text(texts[a], sh.get(b), CONFIG))
    for a, b in itertools.combinations(range(len(texts)), 2):
        inter = verify.overlap(sh.get(a), sh.get(b))
        layouts = {i: Layout(t, CONFIG) for i, t in enumerate(texts)}
        assert distinct_pages(a, b, sh, texts.__getitem__, CONFIG, inter, layouts.__getitem__) == distinct_pages(
            a, b, sh, texts.__getitem__, CONFIG, inter
        )


def test_a_scan_lays_each_text_out_once_across_calls() -> None:
    """The pipeline verifies in slices and again per star centre, with one reader of texts."""
    texts = corpus()
    sh = shingle_batch(texts, CONFIG.shingle_size, CONFIG.char_shingle_size)
    pairs = np.array(list(itertools.combinations(range(len(texts)), 2)), np.int64)
    reads: Counter[int] = Counter()

    def text_of(i: int) -> str:
        reads[i] += 1
        return texts[i]

    kept = verify.Layouts(text_of, CONFIG)
    first = [m for part in np.array_split(pairs, 5) for m in verify.verify(part, sh, CONFIG, kept)]
    assert first == verify.verify(pairs, sh, CONFIG, texts.__getitem__)
    assert reads and max(reads.values()) == 1
