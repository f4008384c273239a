"""The ranking and evidence stages' shortcuts give what the plain definitions give.

Line token counts in one pass (``linecounts``), the corpus count of passages behind a
low-bits table (``evidence.holders``) and own texts measured with the ranking where the
texts are at hand (``evidence.owned``) must not change a count, a ranking or a decision.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import ScanConfig, scan
from dedup.evidence import holders, measure, own_text, owned
from dedup.linecounts import line_counts
from dedup.options import RunOptions
from dedup.sets import Shingles
from dedup.shingle import sequence, sequences, shingle_batch, tokens
from dedup.spill import ShingleStore, SpilledShingles

LINES = st.lists(
    st.text(alphabet=st.characters(codec="ascii"), max_size=40)
    | st.text(alphabet="abcXYZ019 _-'\".,!?…é中文\u3000\t\r", max_size=30),
    max_size=8,
)


@given(LINES)
@settings(max_examples=300, deadline=None)
def test_line_counts_are_the_tokens_of_each_line(lines: list[str]) -> None:
    text = "\n".join(lines)
    expected = [len(tokens(line)) if line.strip() else 0 for line in text.split("\n")]
    assert line_counts(text) == expected
    if text.isascii():  # the evidence stage counted them with the shingler: the same counts
        assert line_counts(text) == [len(tok) for tok, _, _ in sequences(text.split("\n"))]


def test_holders_counts_the_documents_holding_each_hash() -> None:
    rng = np.random.default_rng(7)
    pool = rng.integers(0, 2**63, 5000, dtype=np.uint64)
    # Hashes that agree on their low bits with a query hash but differ above them.
    near = pool[:200] ^ np.uint64(1 << 40)
    docs = [np.unique(np.concatenate([rng.choice(pool, 300), rng.choice(near, 20)])) for _ in range(300)]
    offsets = np.concatenate(([0], np.cumsum([len(d) for d in docs]))).astype(np.int64)
    sets = Shingles(offsets, np.concatenate(docs), np.zeros(len(docs), np.int64), np.zeros(0, np.uint64),
                    np.zeros(0, np.int64))  # fmt: skip
    query = np.unique(rng.choice(pool, 1500))
    held = Counter(h for d in docs for h in d.tolist())
    assert holders(query, sets, step=64).tolist() == [held[q] for q in query.tolist()]
    assert holders(np.zeros(0, np.uint64), sets).tolist() == []


def _article(rng: random.Random, words: int) -> str:
    vocab = [f"w{i}" for i in range(400)]
    paras = []
    for _ in range(words // 60):
        sentences = [" ".join(rng.choice(vocab) for _ in range(12)).capitalize() + "." for _ in range(5)]
        paras.append(" ".join(sentences))
    return "\n\n".join(paras)


def test_owned_is_own_text_against_the_kept_copy() -> None:
    rng = random.Random(3)
    config = ScanConfig()
    body = _article(rng, 600)
    texts = [
        body,
        "Home | News | Sport\n\n" + body + "\n\nShare this",
        body + "\n\n" + _article(rng, 180),  # a paragraph of its own: prose runs
        body.replace(" w1 ", " w2 ", 3),
        body,
    ]
    group = (4, 9, 11, 20, 31)
    seqs = sequences(texts, config.shingle_size, config.char_shingle_size)
    for first in range(len(texts)):
        got = owned(group, texts, seqs, config, first)
        kept = np.unique(sequence(texts[first])[1])
        assert got.kept == group[first] and got.size == len(kept)
        for pos, index in enumerate(group):
            if pos == first or np.isin(np.unique(seqs[pos][1]), kept).all():
                assert index not in got.own
                continue
            want = own_text(texts[pos], kept, config)
            have = got.own[index]
            assert (have.words, have.shared_prose, len(have.runs)) == (want.words, want.shared_prose, len(want.runs))
            for a, b in zip(have.runs, want.runs, strict=True):
                assert a.words == b.words and a.shingles.tolist() == b.shingles.tolist()
    assert any(o.runs for o in owned(group, texts, seqs, config, 0).own.values())


@pytest.mark.parametrize("jobs", [1, 2])
def test_evidence_is_the_same_with_own_texts_from_the_ranking(tmp_path: Path, jobs: int) -> None:
    """The scan's evidence (own texts from its ranking, in this process or the workers)
    equals the evidence measured from the texts alone, member by member."""
    rng = random.Random(5)
    folder = tmp_path / "docs"
    folder.mkdir()
    texts: dict[str, str] = {}
    for g in range(12):
        body = _article(rng, 400)
        texts[f"{g}a.txt"] = body
        texts[f"{g}b.txt"] = "Menu\nHome\n\n" + body + "\n\nLeave a comment"
        texts[f"{g}c.txt"] = body + "\n\n" + _article(rng, 120)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    config = ScanConfig(jobs=jobs)
    result = scan(folder, config, options=RunOptions(parallel_rank_groups=1))  # with workers: ranked in them
    assert len(result.clusters) == 12
    by_id = {d.doc_id: i for i, d in enumerate(result.docs)}
    names = [d.rel.split("/")[-1] for d in result.docs]
    batch = shingle_batch([texts[n] for n in names])
    clusters = [[by_id[m.doc_id] for m in c.members] for c in result.clusters]
    plain = measure(clusters, batch, lambda i: texts[names[i]], config)
    for cluster, evidence in zip(result.clusters, plain, strict=True):
        assert [(m.own_words, m.boilerplate_words, m.decision) for m in cluster.members] == [
            (e.own_words, e.boilerplate_words, e.decision) for e in evidence
        ]
    assert any(m.decision == "superset" for c in result.clusters for m in c.members)



def test_spilled_sets_read_in_runs_equal_the_sets_one_by_one(tmp_path: Path) -> None:
    """``hashes_of`` reads sets lying one after another in one file at once: the same hashes
    as reading every set alone, across files and the run's own spill file."""
    texts = [" ".join(f"w{(i * 5 + j) % 89}" for j in range(40 + 3 * i)) for i in range(12)]
    parts = [shingle_batch(texts[a:b], 5, 5) for a, b in ((0, 3), (3, 6), (6, 8), (8, 12))]
    whole = shingle_batch(texts, 5, 5)
    one, two = tmp_path / "w1.bin", tmp_path / "w2.bin"
    one.write_bytes(b"x" * 16 + parts[1].hashes.tobytes())
    two.write_bytes(b"y" * 8 + parts[3].hashes.tobytes() + b"z" * 8 + parts[2].hashes.tobytes())
    store = ShingleStore(spill_hashes=1 << 20)
    store.add(parts[0])  # in memory, then in the run's spill file
    store.add(parts[1].without_hashes(), (str(one), 16))
    store.add(parts[2].without_hashes(), (str(two), 16 + 8 * len(parts[3].hashes)))  # after the later part
    store.add(parts[3].without_hashes(), (str(two), 8))
    sets = store.finish()
    assert isinstance(sets, SpilledShingles)
    for lo in range(len(texts) + 1):
        for hi in range(lo, len(texts) + 1):
            alone = [sets.get(i) for i in range(lo, hi)]
            assert sets.hashes_of(lo, hi).tolist() == (np.concatenate(alone).tolist() if alone else [])
            assert sets.hashes_of(lo, hi).tolist() == whole.hashes_of(lo, hi).tolist()


@pytest.mark.parametrize("seed", range(6))
def test_odd_words_are_the_short_gaps_only_one_copy_has(seed: int) -> None:
    """``cleanest.features`` counts as odd words the gaps of one or two words inside the
    shared text that no other copy has (found with byte searches, looked up together): a
    longer gap is an edit, a gap at either end is extra text, a word another copy has is
    not odd."""
    from dedup.cleanest import features

    rng = random.Random(seed)
    base = [f"w{rng.randrange(300)}" for _ in range(400)]
    copy = list(base)
    odd = 0
    at = 20
    while at < 360:
        size = rng.choice((1, 2, 3, 4))
        for k in range(size):
            copy[at + k] = f"zz{seed}x{at}x{k}"  # words no other copy has
        odd += size if size <= 2 else 0
        at += size + rng.randrange(8, 20)  # covered words between gaps (5-word shingles)
    copy[at + 2] = base[at - 100]  # a word the other copy has elsewhere: not odd
    lines = [" ".join(copy[i : i + 12]) for i in range(0, len(copy), 12)]
    texts = [" ".join(base), "\n".join(lines), " ".join(base[:-3])]
    got = features(texts, lambda h: 0, ScanConfig())
    assert got[1].novel_words == odd and odd > 0
    assert got[0].novel_words == 0
    # Gaps at the ends are extra text, not odd words.
    ends = features([" ".join(base), " ".join(["zzq", *base[2:-1], "zzr"])], lambda h: 0, ScanConfig())
    assert ends[1].novel_words == 0 and ends[1].extra_words == 2


@pytest.mark.parametrize("ascii_only", [True, False])
def test_a_cut_is_found_whatever_the_case_of_its_lines(ascii_only: bool) -> None:
    """The truncation test compares normalised lines (an ASCII text is lower-cased whole,
    others line by line): a copy cut part-way through a line is cut, in upper or lower case."""
    from dedup.cleanest import features

    word = "word" if ascii_only else "wörd"
    body = [f"Paragraph {i} has some {word}s in it, and then a few more {word}s to end." for i in range(6)]
    last = "The Quick Brown Fox Jumps Over The Lazy Dog, and then it runs away into the woods again."
    whole = "\n\n".join([*body, last])
    cut = "\n\n".join([*(line.upper() for line in body), last[:45].upper()])
    got = features([whole, cut, whole], lambda h: 0, ScanConfig())
    assert [f.truncated for f in got] == [None, "mid-sentence", None]


def test_a_copy_cut_between_lines_with_a_marker_is_cut() -> None:
    """A copy that ends on a whole line of the others and then "Read more" is cut between
    lines (the other copies have that line before their last)."""
    from dedup.cleanest import features

    body = [f"Paragraph {i} has some words in it, and then a few more words to end it." for i in range(8)]
    whole = "\n\n".join(body)
    cut = "\n\n".join([*body[:5], "Read more"])
    got = features([whole, cut, whole], lambda h: 0, ScanConfig())
    assert [f.truncated for f in got] == [None, "read more", None]
    alone = features([whole, "\n\n".join(body[:5])], lambda h: 0, ScanConfig())
    assert alone[1].truncated is None  # no marker: ending on a whole line is no cut


@given(st.lists(st.booleans(), max_size=60), st.integers(1, 9), st.integers(-3, 12))
@settings(max_examples=400, deadline=None)
def test_covered_tokens_are_the_tokens_of_shared_shingles(flags: list[bool], size: int, extra: int) -> None:
    """``cleanest.covered_tokens`` (a windowed sum) marks token t when a shared shingle
    j <= t < j + size covers it: n - size + 1 shingles of n tokens, one shingle of a text
    shorter than size (or none of no text), and tokens past the last shingle's reach."""
    from dedup.cleanest import covered_tokens

    if len(flags) == 1 and extra < 0:
        n_tokens = max(1, size + extra)  # a text shorter than a shingle: one shingle of all its tokens
    else:
        n_tokens = len(flags) + size - 1 + max(extra, 0) if flags else 0
    got = covered_tokens(np.array(flags, bool), n_tokens, size).tolist()
    want = [any(flags[j] for j in range(max(0, t - size + 1), min(t + 1, len(flags)))) for t in range(n_tokens)]
    assert got == want
