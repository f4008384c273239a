"""Pair recall where the shingle sets alone mislead: the containment rule measured on the texts.

* An OCR'd copy (one wrong character in a word here and there, words split at line ends)
  loses five shingles per error but one word: measured in words it is inside its clean copy.
* An article inside its page's chrome (navigation lists, link rows, teasers) can be under
  ``min_size_ratio`` of the page's shingles but is most of the page's prose.

And what must stay apart however the rule is measured: articles on one story that share
sentences, an article quoted in a roundup of other prose, a cut copy of an article that
another page carries as a teaser.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from dedup import ScanConfig, scan
from dedup.evidence import Layout
from dedup.shingle import shingle_batch
from dedup.verify import judge, prose_share, similarity, word_share

_NOUN_LIST = (
    "council budget river school library harbour bridge festival market teacher farmer engineer nurse museum "
    "railway station garden orchard village county mayor report plan study water energy housing road traffic "
    "storm flood harvest price wage fund grant court judge debate season team coach player crowd stadium "
    "doctor patient hospital clinic vaccine trial company worker factory owner customer contract export trade "
    "family student lesson history author artist gallery ferry tunnel reservoir pension tariff quarry"
)
_NOUNS = _NOUN_LIST.split()
_VERB_LIST = (
    "approved rejected discussed announced delayed reviewed praised questioned opened closed funded built "
    "expanded postponed criticised defended measured"
)
_VERBS = _VERB_LIST.split()
_JOIN_LIST = "and but while because after before although since when as"
_JOIN = _JOIN_LIST.split()
_NAME_LIST = "Larsen Okafor Mendes Novak Haddad Lindqvist Moreau Tanaka Brennan Volkov"
_NAMES = _NAME_LIST.split()


def sentence(rng: random.Random) -> str:
    """One made-up but sentence-shaped sentence of 10 to 20 words."""
    body = [rng.choice(_NOUNS) for _ in range(rng.randint(6, 14))]
    return (
        f"{rng.choice(_NAMES)} said the {body[0]} {rng.choice(_VERBS)} the {' '.join(body[1:3])} "
        f"{rng.choice(_JOIN)} the {' '.join(body[3:])}."
    )


def article(seed: int, words: int) -> str:
    """A title and paragraphs of about ``words`` words."""
    rng = random.Random(seed)
    paragraphs, para, count = [], [], 0
    while count < words:
        para.append(sentence(rng))
        count += len(para[-1].split())
        if len(para) == 4:
            paragraphs.append(" ".join(para))
            para = []
    if para:
        paragraphs.append(" ".join(para))
    return f"The {rng.choice(_NOUNS)} {rng.choice(_VERBS)} in {rng.choice(_NAMES)} county\n\n" + "\n\n".join(paragraphs)


_CONFUSED = {"m": "rn", "l": "1", "e": "c", "o": "0", "t": "f", "i": "l", "a": "o"}


def ocr(text: str, every: int = 20, width: int = 60) -> str:
    """What a scanner makes of ``text``: one character misread in every ``every``-th word that
    has a confusable letter, lines wrapped at ``width`` with a word split by a hyphen now and then."""
    words = text.replace("\n\n", " \u2029 ").split()
    out = []
    for k, word in enumerate(words):
        spots = [i for i, ch in enumerate(word) if ch in _CONFUSED]
        if k % every == every // 2 and spots:
            i = spots[len(spots) // 2]
            word = word[:i] + _CONFUSED[word[i]] + word[i + 1 :]
        out.append(word)
    lines, line, splits = [], "", 0
    for word in out:
        if word == "\u2029":
            lines.extend([line, ""])
            line = ""
        elif len(line) + 1 + len(word) <= width:
            line = f"{line} {word}".strip()
        elif len(word) >= 8 and splits % 5 == 0:  # hyphenated across the line end
            splits += 1
            lines.append(f"{line} {word[:4]}-".strip())
            line = word[4:]
        else:
            splits += 1
            lines.append(line)
            line = word
    lines.append(line)
    return "\n".join(lines)


def shingles(*texts: str) -> list[np.ndarray]:
    config = ScanConfig()
    sets = shingle_batch(list(texts), config.shingle_size, config.char_shingle_size)
    return [sets.get(i) for i in range(len(texts))]


def groups(folder: Path, config: ScanConfig | None = None) -> set[frozenset[str]]:
    result = scan(folder, config or ScanConfig(jobs=1))
    return {frozenset(m.doc_id for m in c.members) for c in result.clusters}


def test_an_ocr_copy_is_inside_its_clean_copy_in_words_not_in_shingles(tmp_path: Path) -> None:
    clean = article(7, 420)
    scanned = ocr(clean)
    x, y = shingles(clean, scanned)
    jaccard, containment = similarity(x, y)
    config = ScanConfig()
    # The sets alone turn the pair down: every misread word breaks the five shingles over it.
    assert judge(jaccard, containment, len(x), len(y), config) is None
    assert containment < config.containment_threshold and jaccard < config.jaccard_threshold
    assert word_share(Layout(scanned, config), x) >= 0.9
    (tmp_path / "article.txt").write_text(clean, encoding="utf-8")
    (tmp_path / "scanned.txt").write_text(scanned, encoding="utf-8")
    for k in range(3):
        (tmp_path / f"other{k}.txt").write_text(article(100 + k, 400), encoding="utf-8")
    assert groups(tmp_path) == {frozenset({"article.txt", "scanned.txt"})}


def test_raising_containment_raises_the_word_rule_too(tmp_path: Path) -> None:
    """A user who asks for containment 0.99 gets it in words as well: the OCR copy stays apart."""
    clean = article(7, 420)
    (tmp_path / "article.txt").write_text(clean, encoding="utf-8")
    (tmp_path / "scanned.txt").write_text(ocr(clean), encoding="utf-8")
    assert groups(tmp_path, ScanConfig(jobs=1, containment_threshold=0.99)) == set()


def test_articles_on_one_story_that_share_sentences_stay_apart(tmp_path: Path) -> None:
    """Two reports of one event share most of one's sentences (a wire story rewritten around its
    quotes): close enough for verify to look at the texts, far from 90% of the words."""
    rng = random.Random(3)
    shared = [sentence(rng) for _ in range(8)]
    one = " ".join(shared[:4] + [sentence(rng) for _ in range(3)] + shared[4:])
    two = " ".join([sentence(rng) for _ in range(3)] + shared + [sentence(rng) for _ in range(3)])
    x, y = shingles(one, two)
    config = ScanConfig()
    assert config.look_containment <= similarity(x, y)[1] < config.containment_threshold
    assert word_share(Layout(one, config), y) < config.word_containment_threshold
    (tmp_path / "one.txt").write_text(one, encoding="utf-8")
    (tmp_path / "two.txt").write_text(two, encoding="utf-8")
    assert groups(tmp_path) == set()


def chrome(seed: int, lines: int) -> list[str]:
    """Navigation and link rows: short lines, as a page's menus, tag lists and footers are."""
    rng = random.Random(seed)
    return [
        " | ".join(f"{rng.choice(_NOUNS).title()} {rng.randint(1, 99)}" for _ in range(rng.randint(2, 3)))
        for _ in range(lines)
    ]


def test_an_article_inside_long_page_chrome_joins_its_page(tmp_path: Path) -> None:
    """An extractor's output of a page whose menus, link lists and footer dwarf the article:
    under min_size_ratio of the page's shingles, but nearly all of the page's prose."""
    text = article(11, 160)
    page = "\n".join([*chrome(1, 200), text, *chrome(2, 120), "© 2024 The County Courier. All rights reserved."])
    x, y = shingles(text, page)
    config = ScanConfig()
    assert len(x) < config.min_size_ratio * len(y)  # the raw size guard alone turns it down
    assert prose_share(Layout(page, config), x) >= config.min_prose_ratio
    (tmp_path / "article.txt").write_text(text, encoding="utf-8")
    (tmp_path / "page.txt").write_text(page, encoding="utf-8")
    for k in range(2):
        (tmp_path / f"other{k}.txt").write_text(article(200 + k, 400), encoding="utf-8")
    assert groups(tmp_path) == {frozenset({"article.txt", "page.txt"})}


def test_an_article_quoted_in_a_long_roundup_stays_apart(tmp_path: Path) -> None:
    """The same article inside a page of much prose of its own: a quote, not a copy."""
    text = article(11, 160)
    roundup = "\n\n".join([article(300, 500), text, article(301, 500), *chrome(3, 40)])
    x, y = shingles(text, roundup)
    config = ScanConfig()
    assert len(x) < config.min_size_ratio * len(y)
    assert prose_share(Layout(roundup, config), x) < config.min_prose_ratio
    (tmp_path / "article.txt").write_text(text, encoding="utf-8")
    (tmp_path / "roundup.txt").write_text(roundup, encoding="utf-8")
    assert groups(tmp_path) == set()


def test_a_cut_copy_that_another_page_carries_as_a_teaser_stays_apart(tmp_path: Path) -> None:
    """Page B ends with teasers of other posts, one the opening of article A (ending in an
    ellipsis); a copy of A cut behind a paywall is mostly that teaser, yet no copy of B."""
    a = article(21, 400)
    opening = " ".join(a.split()[:70])
    cut = opening + "\n\nSubscribe to read the full story"
    teasers = [article(400 + k, 60).replace("\n\n", " ") + "..." for k in range(3)]
    page_b = "\n".join(
        [*chrome(4, 12), article(22, 300), "More from the Courier", teasers[0], opening + "...", *teasers[1:]]
    )
    (tmp_path / "cut.txt").write_text(cut, encoding="utf-8")
    (tmp_path / "page_b.txt").write_text(page_b, encoding="utf-8")
    assert groups(tmp_path) == set()


def test_explain_says_the_texts_join_an_ocr_copy(tmp_path: Path) -> None:
    """``dedup explain`` judges as the scan does: copies, and the line that says why."""
    from dedup.explain import explain

    clean = article(7, 420)
    (tmp_path / "article.txt").write_text(clean, encoding="utf-8")
    (tmp_path / "scanned.txt").write_text(ocr(clean), encoding="utf-8")
    e = explain(str(tmp_path / "article.txt"), str(tmp_path / "scanned.txt"))
    assert e.copies and e.rule == "containment"
    assert e.words_inside is not None and e.words_inside >= 0.9
    assert any("words lie in shingles" in r and r.endswith("the containment rule") for r in e.reasons())
