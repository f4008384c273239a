"""End-to-end and signature-stage benchmark of dedup, against references measured in the same run.

Prints figures and ratios; never asserts a timing. One run does, in order:

1. corpus     a deterministic synthetic corpus per ``--docs`` N (~400 Zipf-distributed pseudo-words
              per document, ~10% near-duplicates: word edits, copies wrapped in page boilerplate,
              truncated copies), written as a folder of N ``.txt`` files (1,000 per subfolder) and as
              one JSON Lines file ``{"id", "text"}``. Cached in ``--workdir`` by (N, seed, generator
              version); generation time is shown apart and is not part of any figure.
2. signature  the signature stage (text -> MinHash, 128 permutations) on ``--sample`` documents, one
              core, the same texts for every contender, shingle strings built inside each timed
              region with ``dedup.shingle.shingle_strings`` (so every contender hashes the same
              shingles): datasketch ``update()`` loops (hash_shingle32, sha1), ``MinHash.bulk`` (sha1,
              xxhash), rensa (if installed), and dedup's ``shingle_batch`` + ``signatures``.
3. processes  dedup's signature stage in a ``multiprocessing.Pool(2)`` against one process.
4. e2e        ``python -m dedup scan`` as a child process on the folder and on the JSON Lines file:
              wall time, peak memory, docs/s, MB/s; per-stage times from ``scan().timings`` in a
              separate child; a rescan of the unchanged folder if ``dedup scan`` has a cache option.
5. linearity  end-to-end docs/s per N when several ``--docs`` are given.

Usage:
    python benchmarks/bench.py                                  # N=10,000, about 2 minutes on 2 cores
    python benchmarks/bench.py --docs 10000 --docs 100000 --json bench.json
    python benchmarks/bench.py --docs 1000000 --inputs jsonl --sections e2e --keep

See benchmarks/README.md for every option and docs/benchmarks.md for measured results.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import gc
import importlib.metadata
import json
import multiprocessing
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

# rensa parallelises with rayon; the signature section is single-core, so pin it before any import.
os.environ.setdefault("RAYON_NUM_THREADS", "1")

from dedup.shingle import hash_shingle32, shingle_batch, shingle_strings
from dedup.signature import signatures

GENERATOR_VERSION = 1  # bump when the corpus generator changes: it is part of the cache key
VOCAB_SIZE = 20_000
MEAN_WORDS = 400
DUP_SHARE = 0.10
FILES_PER_DIR = 1_000
NUM_PERM = 128
SEED_MINHASH = 1
SHINGLE_K = 5
BATCH = 512
MB = 1_000_000
SECTIONS = ("signature", "processes", "e2e")


# ======================================================================================
# Output helpers
# ======================================================================================


def heading(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 86 - len(title)), flush=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))
    sys.stdout.flush()


def _cell(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if value < 1:
            return f"{value:.3f}"
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "n/a"
    return f"{a / b:,.1f}x" if a / b >= 10 else f"{a / b:.2f}x"


def mib(kib: float | None) -> float | None:
    return None if kib is None else kib / 1024


# ======================================================================================
# 1. Corpus
# ======================================================================================


class Generator:
    """Deterministic documents: block b of BLOCK documents is a pure function of (seed, b).

    So a corpus of N documents is a prefix of one of M > N. Originals are ~400 words drawn from a
    Zipf-Mandelbrot distribution over a pseudo-word vocabulary, in capitalised sentences with commas
    and paragraphs. About DUP_SHARE of the documents are near-duplicates of an earlier original of
    their block: a few word edits, a copy wrapped in site boilerplate (the same for every copy from
    that site), or a truncated copy (35-80% of the words).
    """

    KINDS = ("edit", "wrap", "truncate")
    BLOCK = 1_000
    TABLE_BITS = 20  # Zipf sampling by table lookup: 2**20 slots, the rarest words still get one

    def __init__(self, seed: int) -> None:
        self.seed = seed
        rng = np.random.default_rng([seed, 0x70CAB])
        letters = np.array(list("etaoinshrdlcumwfgypbvkjxqz"))
        weights = 1.0 / np.arange(1, 27) ** 0.9  # English-like letter skew
        words: list[str] = []
        seen: set[str] = set()
        while len(words) < VOCAB_SIZE:
            # Frequent words are short, as in text.
            lengths = np.where(
                np.arange(len(words), len(words) + 4096) < 200, rng.integers(1, 5, 4096), rng.integers(3, 12, 4096)
            )
            chars = "".join(rng.choice(letters, size=int(lengths.sum()), p=weights / weights.sum()).tolist())
            pos = 0
            for length in lengths.tolist():
                word = chars[pos : pos + length]
                pos += length
                if word not in seen and len(words) < VOCAB_SIZE:
                    seen.add(word)
                    words.append(word)
        self.vocab = np.array(words, dtype=object)
        p = 1.0 / (np.arange(VOCAB_SIZE) + 2.7) ** 1.07
        cdf = np.cumsum(p / p.sum())
        slots = (np.arange(1 << self.TABLE_BITS) + 0.5) / (1 << self.TABLE_BITS)
        self.table = np.minimum(np.searchsorted(cdf, slots), VOCAB_SIZE - 1)
        self.sites = [self._site(rng, s) for s in range(12)]

    def _site(self, rng: np.random.Generator, s: int) -> tuple[str, str]:
        name = " ".join(self._words(rng, 2)).title()
        nav = " | ".join(w.title() for w in self._words(rng, 7))
        header = f"{name} | Home | {nav}\nSubscribe to our newsletter | Sign in\n\n"
        footer = (
            "\n\nShare this article: Facebook | Twitter | Email\n"
            f"Copyright {2000 + s} {name}. All rights reserved. Terms of use | Privacy policy | Cookie settings\n"
            f"We use cookies to improve your experience on {name.lower().replace(' ', '')}.example.\n"
        )
        return header, footer

    def _words(self, rng: np.random.Generator, n: int) -> list[str]:
        words: list[str] = self.vocab[self.table[rng.integers(0, 1 << self.TABLE_BITS, n)]].tolist()
        return words

    def block(self, b: int) -> list[tuple[str, int, str]]:
        """The (text, source index, kind) of documents b*BLOCK .. (b+1)*BLOCK-1; kind "original" or a copy kind."""
        rng = np.random.default_rng([self.seed, b])
        base = b * self.BLOCK
        counts = np.clip(rng.normal(MEAN_WORDS, MEAN_WORDS * 0.15, self.BLOCK), 100, 3 * MEAN_WORDS).astype(np.int64)
        bounds = np.concatenate([[0], np.cumsum(counts)]).tolist()
        words = self._words(rng, bounds[-1])
        # After each word: 0 a space, 1 a comma, 2 a full stop, 3 a full stop and a paragraph break.
        u = rng.random(bounds[-1])
        codes = np.where(u < 1 / 15, np.where(u < 1 / 75, 3, 2), np.where(u < 1 / 15 + 0.04, 1, 0))
        marks = np.flatnonzero(codes).tolist()
        mark_codes = codes[marks].tolist()
        dup = rng.random(self.BLOCK) < DUP_SHARE
        dup[0] = False  # the first document of a block has no earlier original to copy
        originals: dict[int, str] = {}
        out: list[tuple[str, int, str]] = []
        m = 0
        for d in range(self.BLOCK):
            a, z = bounds[d], bounds[d + 1]
            m0 = m
            while m < len(marks) and marks[m] < z:
                m += 1
            if dup[d]:
                earlier = [j for j in range(max(0, d - 200), d) if not dup[j]] or [0]
                source = earlier[int(rng.integers(0, len(earlier)))]
                kind = self.KINDS[int(rng.integers(0, len(self.KINDS)))]
                out.append((self._copy(rng, originals[source], kind), base + source, kind))
                continue
            w = words[a:z]
            w[0] = w[0].capitalize()
            paragraphs: list[str] = []
            start = 0
            for pos, code in zip(marks[m0:m], mark_codes[m0:m], strict=True):
                e = pos - a
                if e == z - a - 1:
                    break
                if code == 1:
                    w[e] += ","
                    continue
                w[e] += "."
                w[e + 1] = w[e + 1].capitalize()
                if code == 3:
                    paragraphs.append(" ".join(w[start : e + 1]))
                    start = e + 1
            w[-1] += "."
            paragraphs.append(" ".join(w[start:]))
            text = "\n\n".join(paragraphs) + "\n"
            originals[d] = text
            out.append((text, base + d, "original"))
        return out

    def _copy(self, rng: np.random.Generator, text: str, kind: str) -> str:
        pieces = text.split(" ")
        if kind == "edit":
            new_words = iter(self._words(rng, 16))
            for op, where in zip(rng.random(int(rng.integers(2, 9))).tolist(), rng.random(8).tolist(), strict=False):
                at = int(where * len(pieces))
                if op < 0.5:
                    pieces[at] = next(new_words)
                elif op < 0.75:
                    pieces.insert(at, next(new_words))
                elif len(pieces) > 10:
                    del pieces[at]
            return " ".join(pieces)
        if kind == "wrap":
            header, footer = self.sites[int(rng.integers(0, len(self.sites)))]
            related = "\n".join(
                " ".join(self._words(rng, int(rng.integers(6, 12)))).capitalize()
                for _ in range(int(rng.integers(3, 9)))
            )
            return f"{header}{text}\nRelated articles:\n{related}{footer}"
        keep = max(10, int(len(pieces) * rng.uniform(0.35, 0.8)))
        return " ".join(pieces[:keep]) + "\n"

    def documents(self, n: int) -> Iterator[tuple[str, int, str]]:
        """The first n documents as (text, source index, kind)."""
        for b in range((n + self.BLOCK - 1) // self.BLOCK):
            yield from self.block(b)[: n - b * self.BLOCK]

    def texts(self, n: int) -> Iterator[str]:
        for text, _source, _kind in self.documents(n):
            yield text


@dataclass
class Corpus:
    docs: int
    seed: int
    root: Path
    folder: Path
    jsonl: Path
    folder_bytes: int = 0
    jsonl_bytes: int = 0
    text_bytes: int = 0
    planted: int = 0  # near-duplicate documents
    kinds: dict[str, int] = field(default_factory=dict)
    generated_seconds: float | None = None  # None: reused from the cache
    created: bool = False  # this run created the directory (removed at the end unless --keep)


def corpus_paths(workdir: Path, docs: int, seed: int) -> Corpus:
    root = workdir / f"corpus-v{GENERATOR_VERSION}-n{docs}-seed{seed}"
    return Corpus(docs, seed, root, root / "docs", root / "corpus.jsonl")


def file_name(i: int) -> str:
    return f"{i // FILES_PER_DIR:05d}/{i:07d}.txt"


def ensure_corpus(gen: Generator, corpus: Corpus, inputs: Sequence[str]) -> Corpus:
    """Load the cached corpus, generating whichever of its folder and JSON Lines file is missing."""
    meta_path = corpus.root / "meta.json"
    meta: dict[str, Any] = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    want_folder = "folder" in inputs and "folder_bytes" not in meta
    want_jsonl = "jsonl" in inputs and "jsonl_bytes" not in meta
    if want_folder or want_jsonl:
        corpus.created = not corpus.root.exists()
        corpus.root.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        folder_bytes = jsonl_bytes = text_bytes = planted = 0
        kinds: dict[str, int] = {}
        if want_folder and corpus.folder.exists():
            shutil.rmtree(corpus.folder)  # a half-written folder from an interrupted run
        tmp_jsonl = corpus.jsonl.with_suffix(".jsonl.part")
        with open(tmp_jsonl if want_jsonl else os.devnull, "w", encoding="utf-8") as out:
            for i, (text, _source, kind) in enumerate(gen.documents(corpus.docs)):
                raw = text.encode("utf-8")
                text_bytes += len(raw)
                kinds[kind] = kinds.get(kind, 0) + 1
                planted += kind != "original"
                if want_folder:
                    path = corpus.folder / file_name(i)
                    if i % FILES_PER_DIR == 0:
                        path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(raw)
                    folder_bytes += len(raw)
                if want_jsonl:
                    out.write(json.dumps({"id": f"doc{i:07d}", "text": text}, ensure_ascii=False))
                    out.write("\n")
                if (i + 1) % 100_000 == 0:
                    print(f"  generated {i + 1:,} / {corpus.docs:,} documents", flush=True)
        if want_jsonl:
            tmp_jsonl.replace(corpus.jsonl)
            jsonl_bytes = corpus.jsonl.stat().st_size
        meta.update(
            {"docs": corpus.docs, "seed": corpus.seed, "text_bytes": text_bytes, "planted": planted, "kinds": kinds}
        )
        if want_folder:
            meta["folder_bytes"] = folder_bytes
        if want_jsonl:
            meta["jsonl_bytes"] = jsonl_bytes
        meta_path.write_text(json.dumps(meta, indent=2))
        corpus.generated_seconds = time.perf_counter() - start
    corpus.folder_bytes = int(meta.get("folder_bytes", 0))
    corpus.jsonl_bytes = int(meta.get("jsonl_bytes", 0))
    corpus.text_bytes = int(meta["text_bytes"])
    corpus.planted = int(meta["planted"])
    corpus.kinds = dict(meta["kinds"])
    return corpus


# ======================================================================================
# 2. Signature stage, one core
# ======================================================================================


@dataclass
class Measured:
    """One contender's best run: wall and CPU seconds, and where the time went."""

    name: str
    docs: int
    text_bytes: int
    wall: float
    cpu: float
    shingling: float
    minhash: float
    runs: int
    note: str = ""

    @property
    def docs_per_s(self) -> float:
        return self.docs / self.wall

    @property
    def mb_per_s(self) -> float:
        return self.text_bytes / MB / self.wall


#: A contender takes the texts and returns (seconds shingling, seconds MinHashing) it spent.
Contender = Callable[[Sequence[str]], tuple[float, float]]


def measure(name: str, fn: Contender, texts: Sequence[str], *, min_seconds: float = 1.0, max_runs: int = 3) -> Measured:
    """Best of up to max_runs runs (repeats only while the total is under min_seconds)."""
    text_bytes = sum(len(t.encode("utf-8")) for t in texts)
    best: Measured | None = None
    total = 0.0
    runs = 0
    while runs < max_runs and (runs == 0 or total < min_seconds):
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        sh, mh = fn(texts)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        runs += 1
        total += wall
        if best is None or wall < best.wall:
            best = Measured(name, len(texts), text_bytes, wall, cpu, sh, mh, runs)
    assert best is not None
    best.runs = runs
    return best


def _encoded_shingles(text: str) -> list[bytes]:
    return [s.encode("utf-8") for s in shingle_strings(text, SHINGLE_K)]


def datasketch_update(hashfunc: Callable[[bytes], int] | None) -> Contender:
    """The reference update loop: one MinHash per document, ``update()`` per shingle."""
    from datasketch import MinHash

    kwargs: dict[str, Any] = {} if hashfunc is None else {"hashfunc": hashfunc}

    def run(texts: Sequence[str]) -> tuple[float, float]:
        sh = mh = 0.0
        for text in texts:
            t0 = time.perf_counter()
            shingles = _encoded_shingles(text)
            t1 = time.perf_counter()
            m = MinHash(num_perm=NUM_PERM, seed=SEED_MINHASH, **kwargs)
            for s in shingles:
                m.update(s)
            sh += t1 - t0
            mh += time.perf_counter() - t1
        return sh, mh

    return run


def datasketch_bulk(hashfunc: Callable[[bytes], int] | None) -> Contender:
    """``MinHash.bulk`` over a generator of shingle lists (shingling timed inside the generator)."""
    from datasketch import MinHash

    kwargs: dict[str, Any] = {} if hashfunc is None else {"hashfunc": hashfunc}

    def run(texts: Sequence[str]) -> tuple[float, float]:
        sh = 0.0

        def shingle_lists() -> Iterator[list[bytes]]:
            nonlocal sh
            for text in texts:
                t0 = time.perf_counter()
                out = _encoded_shingles(text)
                sh += time.perf_counter() - t0
                yield out

        t0 = time.perf_counter()
        MinHash.bulk(shingle_lists(), num_perm=NUM_PERM, seed=SEED_MINHASH, **kwargs)
        return sh, time.perf_counter() - t0 - sh

    return run


def rensa_matrix(split_words: bool = False) -> Contender:
    """rensa's fastest API here: ``RMinHash.digest_matrix_from_token_sets`` (one call per batch)."""
    rensa = optional_module("rensa")

    def shingles(text: str) -> list[str]:
        if not split_words:
            return shingle_strings(text, SHINGLE_K)
        words = text.lower().split()
        return [" ".join(words[i : i + SHINGLE_K]) for i in range(max(1, len(words) - SHINGLE_K + 1))]

    def run(texts: Sequence[str]) -> tuple[float, float]:
        sh = mh = 0.0
        for i in range(0, len(texts), BATCH):
            t0 = time.perf_counter()
            sets = [shingles(t) for t in texts[i : i + BATCH]]
            t1 = time.perf_counter()
            rensa.RMinHash.digest_matrix_from_token_sets(sets, NUM_PERM, SEED_MINHASH)
            sh += t1 - t0
            mh += time.perf_counter() - t1
        return sh, mh

    return run


def dedup_stage(texts: Sequence[str]) -> tuple[float, float]:
    """dedup's signature stage: ``shingle_batch`` then ``signatures``, 512 documents at a time."""
    sh = mh = 0.0
    for i in range(0, len(texts), BATCH):
        t0 = time.perf_counter()
        shingles = shingle_batch(texts[i : i + BATCH], SHINGLE_K, SHINGLE_K)
        t1 = time.perf_counter()
        signatures(shingles, NUM_PERM, SEED_MINHASH)
        sh += t1 - t0
        mh += time.perf_counter() - t1
    return sh, mh


def signatures_equal(texts: Sequence[str]) -> bool:
    """datasketch's update loop with hash_shingle32 gives exactly dedup's signature rows."""
    from datasketch import MinHash

    rows = signatures(shingle_batch(texts, SHINGLE_K, SHINGLE_K), NUM_PERM, SEED_MINHASH).matrix
    for text, row in zip(texts, rows, strict=True):
        m = MinHash(num_perm=NUM_PERM, seed=SEED_MINHASH, hashfunc=hash_shingle32, scheme="affine32")
        for s in _encoded_shingles(text):
            m.update(s)
        if not np.array_equal(np.asarray(m.hashvalues, dtype=np.uint64), row.astype(np.uint64)):
            return False
    return True


def optional_module(name: str) -> Any:
    try:
        return __import__(name)
    except ImportError:
        return None


def signature_section(gen: Generator, sample: int, loop_sample: int) -> dict[str, Any]:
    heading(f"2. Signature stage, one core: {sample:,} documents, {NUM_PERM} permutations, word {SHINGLE_K}-grams")
    texts = list(gen.texts(sample))
    mb = sum(len(t.encode()) for t in texts) / MB
    print(f"sample: the first {sample:,} corpus documents, {mb:.2f} MB of text; shingle strings for datasketch")
    print("and rensa come from dedup.shingle.shingle_strings (identical shingles), built inside the timed region.")
    equal = signatures_equal(texts[:5])
    print(
        f"signatures equal: {'yes' if equal else 'NO'}  (datasketch update() with hash_shingle32 vs dedup rows, 5 docs)"
    )

    # Warm up lazily built tables and imports so no contender pays them.
    dedup_stage(texts[:8])
    notes: list[str] = []
    contenders: list[tuple[str, Contender]] = [
        ("datasketch update() loop, hash_shingle32", datasketch_update(hash_shingle32)),
        ("datasketch update() loop, sha1 (default)", datasketch_update(None)),
        ("datasketch MinHash.bulk, sha1 (default)", datasketch_bulk(None)),
    ]
    xxhash = optional_module("xxhash")
    if xxhash is not None:
        contenders.append(("datasketch MinHash.bulk, xxh32", datasketch_bulk(xxhash.xxh32_intdigest)))
    else:
        notes.append("xxhash not importable: MinHash.bulk with xxhash skipped (pip install xxhash)")
    rensa = optional_module("rensa")
    if rensa is not None:
        contenders.append(("rensa RMinHash.digest_matrix_from_token_sets", rensa_matrix()))
    else:
        notes.append("rensa not installed: skipped (pip install rensa to measure it; the script never installs it)")
    loops = min(loop_sample, sample) if loop_sample > 0 else sample
    results: list[Measured] = []
    for name, fn in contenders:
        few = "update() loop" in name and loops < sample
        label = f"{name} (first {loops:,} docs)" if few else name
        print(f"  running {label} ...", flush=True)
        results.append(measure(label, fn, texts[:loops] if few else texts))
    dedup = measure("dedup shingle_batch + signatures", dedup_stage, texts)
    results.append(dedup)
    extra: list[Measured] = []
    if rensa is not None:
        extra.append(measure("rensa, str.split() 5-grams (other shingles)", rensa_matrix(split_words=True), texts))

    rows = [
        (
            m.name,
            m.docs_per_s,
            m.mb_per_s,
            m.shingling,
            m.minhash,
            m.wall,
            m.cpu / m.wall,
            "-" if m is dedup else ratio(dedup.docs_per_s, m.docs_per_s),
            "-" if m is dedup else ratio(m.minhash, dedup.minhash),
        )
        for m in [*results, *extra]
    ]
    print()
    table(
        [
            "contender",
            "docs/s",
            "MB/s",
            "shingle s",
            "minhash s",
            "total s",
            "cpu/wall",
            "dedup faster",
            "minhash-only",
        ],
        rows,
    )
    print("'dedup faster': dedup docs/s / contender docs/s (whole stage); 'minhash-only': contender minhash s /")
    print("dedup signatures() s. cpu/wall ~1.0 means one core was used. Best of up to 3 runs while under 1 s.")
    if extra:
        print("The last row is not a like-for-like contender: rensa fed with a plain str.split() shingler, shown to")
        print("separate the cost of dedup's reference shingle_strings (pure Python) from the MinHash itself.")
    for n in notes:
        print(f"note: {n}")
    return {
        "sample": sample,
        "text_mb": mb,
        "signatures_equal": equal,
        "results": [asdict(m) | {"docs_per_s": m.docs_per_s, "mb_per_s": m.mb_per_s} for m in [*results, *extra]],
        "notes": notes,
    }


# ======================================================================================
# 3. Two processes
# ======================================================================================


def _sign_batch(texts: Sequence[str]) -> tuple[NDArray[np.uint32], NDArray[np.uint64], NDArray[np.int64]]:
    """What a pipeline worker sends back for a batch: signatures and the shingle hashes (CSR)."""
    sh = shingle_batch(texts, SHINGLE_K, SHINGLE_K)
    return signatures(sh, NUM_PERM, SEED_MINHASH).matrix, sh.hashes, sh.offsets


def _sign_batch_only(texts: Sequence[str]) -> NDArray[np.uint32]:
    """The same work, sending back the signatures alone (to show what shipping shingles costs)."""
    return signatures(shingle_batch(texts, SHINGLE_K, SHINGLE_K), NUM_PERM, SEED_MINHASH).matrix


def _best_of(runs: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def processes_section(gen: Generator, docs: int) -> dict[str, Any]:
    heading(f"3. Signature stage, 1 process vs multiprocessing.Pool(2): {docs:,} documents")
    texts = list(gen.texts(docs))
    batches = [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]
    _sign_batch(batches[0][:8])  # warm the lazily built tables before forking
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else methods[0])

    def pooled(fn: Callable[[Sequence[str]], object]) -> Callable[[], object]:
        def run() -> None:
            with ctx.Pool(2) as pool:
                for _ in pool.imap(fn, batches):
                    pass

        return run

    one = _best_of(3, lambda: [_sign_batch(b) for b in batches])
    two = _best_of(3, pooled(_sign_batch))
    two_sigs = _best_of(3, pooled(_sign_batch_only))
    pipe = _pipeline_workers(texts)
    pipe_one, pipe_two, pipe_bare = pipe["one_s"], pipe["two_s"], pipe["bare_s"]
    mb = sum(len(t.encode()) for t in texts) / MB
    table(
        ["run (best of 3; pipeline rows: best of 7 interleaved rounds)", "docs/s", "MB/s", "seconds", "speedup"],
        [
            ("1 process, texts in memory", docs / one, mb / one, one, "1.00x"),
            ("Pool(2): texts sent, signatures + shingle hashes back", docs / two, mb / two, two, ratio(one, two)),
            (
                "Pool(2): texts sent, signatures only back",
                docs / two_sigs,
                mb / two_sigs,
                two_sigs,
                ratio(one, two_sigs),
            ),
            ("pipeline, 1 process: files read, hashed, anchors", docs / pipe_one, mb / pipe_one, pipe_one, "1.00x"),
            (
                "pipeline, 2 workers: the same, hashes to a file, the rest sent back",
                docs / pipe_two,
                mb / pipe_two,
                pipe_two,
                f"{pipe['speedup']:.2f}x",
            ),
            (
                "(ceiling) the same 2 workers, results discarded, nothing sent back",
                docs / pipe_bare,
                mb / pipe_bare,
                pipe_bare,
                f"{pipe['speedup_ceiling']:.2f}x",
            ),
        ],
    )
    rounds = ", ".join(f"{x:.2f}x" for x in pipe["speedup_per_round"])
    print(f"speedup with 2 processes as the pipeline runs them: {pipe['speedup']:.2f}x on {os.cpu_count()} cores")
    print(f"(pipeline rows: the best of {pipe['rounds']} rounds, each timing one process, the 2 workers and the")
    print(f"ceiling one after the other; each round's own speedup: {rounds}, median")
    print(f"{pipe['speedup_median_of_rounds']:.2f}x. Both sides read and")
    print("extract the files, shingle, sign and select the anchors; the workers, in the scan's own pool")
    print("started beforehand, also write their shingle hashes to a file and send back signatures, anchors")
    print("and records. The first rows pickle texts to a")
    print(f"{ctx.get_start_method()}-started Pool(2) in batches of 512, pool start and stop included)")
    return {
        "docs": docs,
        "one_process_s": one,
        "two_processes_s": two,
        "two_processes_signatures_only_s": two_sigs,
        "speedup_texts_sent_hashes_back": one / two,
        "speedup_signatures_only": one / two_sigs,
        "pipeline_one_process_s": pipe_one,
        "pipeline_two_workers_s": pipe_two,
        "speedup": pipe["speedup"],
        "speedup_per_round": pipe["speedup_per_round"],
        "speedup_median_of_rounds": pipe["speedup_median_of_rounds"],
        "pipeline_two_workers_nothing_back_s": pipe_bare,
        "speedup_ceiling": pipe["speedup_ceiling"],
        "start_method": ctx.get_start_method(),
    }


PIPELINE_ROUNDS = 7  # interleaved rounds of the pipeline rows: the best of each run, and each round's ratios


def _pipeline_workers(texts: Sequence[str]) -> dict[str, Any]:
    """The signature stage as scan() runs it: tasks of files, in one process and in 2 workers.

    Both sides do the same work per task: read and extract the files, shingle, sign, and
    select the anchors (scan() does that last step in the run's process when it has no
    workers, in the worker when it has). The workers also write their shingle hashes to a
    file and send the rest back. The three runs are interleaved in rounds, so that each
    meets the machine's slow spells (a shared VM slows down for seconds at a time) as
    often as the others; the speedup is the ratio of their best times (noise only adds
    time), and each round's own ratio is kept to show the spread."""
    from dedup import hashing
    from dedup.engine import LocalEngine
    from dedup.spill import SpillFolder

    with tempfile.TemporaryDirectory(prefix="dedup-bench-proc-") as tmp:
        config, tasks = pipeline_tasks(texts, Path(tmp))

        def one_process() -> None:
            run_in_one_process(tasks, config)

        engine, spill = LocalEngine(2), SpillFolder()
        try:
            engine.start()  # scan() starts its pool before hashing, too

            def two_workers() -> None:
                for _ in hashing.run_tasks(tasks, config, engine, spill):
                    pass

            def ceiling() -> None:
                work = functools.partial(_process_discarded, config=config)
                for _ in engine.map(work, [hashing.pack(t.items) for t in tasks]):
                    pass

            rounds = [(_best_of(1, one_process), _best_of(1, two_workers), _best_of(1, ceiling))
                      for _ in range(PIPELINE_ROUNDS)]  # fmt: skip
        finally:
            engine.close()
            spill.close()
    one, two, bare = (min(r[k] for r in rounds) for k in range(3))
    return {
        "rounds": PIPELINE_ROUNDS,
        "one_s": one,
        "two_s": two,
        "bare_s": bare,
        "speedup_per_round": [r[0] / r[1] for r in rounds],
        "ceiling_per_round": [r[0] / r[2] for r in rounds],
        "speedup": one / two,
        "speedup_ceiling": one / bare,
        "speedup_median_of_rounds": statistics.median(r[0] / r[1] for r in rounds),
    }


def pipeline_tasks(texts: Iterable[str], tmp: Path) -> tuple[Any, list[Any]]:
    """The texts as one file each in ``tmp/docs``, walked and cut into scan()'s hashing
    tasks for 2 jobs: (config, tasks), what the pipeline rows time."""
    from dedup import hashing
    from dedup.config import ScanConfig
    from dedup.options import RunOptions
    from dedup.read import walk
    from dedup.records import SourceFile

    folder = tmp / "docs"
    folder.mkdir()
    for i, text in enumerate(texts):
        (folder / f"{i:07d}.txt").write_text(text, encoding="utf-8")
    config = ScanConfig(jobs=2)
    sources = [s for s in walk([folder], config) if isinstance(s, SourceFile)]
    return config, list(hashing.tasks(sources, config, RunOptions()))


def run_in_one_process(tasks: Sequence[Any], config: Any) -> None:
    """The tasks hashed here, anchors selected, as scan() does without workers."""
    from dedup import candidates, hashing

    for t in tasks:
        chunk = hashing.hash_files(t.items, config)
        candidates.select_anchors(chunk.shingles, config.anchor_bits)


def _process_discarded(items: Any, config: Any) -> None:
    """A worker's hashing and anchors with nothing sent back: the most two processes can gain here."""
    from dedup import candidates, hashing

    chunk = hashing.hash_files(hashing.unpack(items), config)
    candidates.select_anchors(chunk.shingles, config.anchor_bits)


# ======================================================================================
# 4. End to end (child processes)
# ======================================================================================


@dataclass
class ChildRun:
    command: list[str]
    returncode: int
    wall: float
    max_rss_kib: int | None  # largest single process of the tree
    peak_tree_rss_kib: int | None  # largest sampled sum of RSS over the process tree
    stdout: str
    stderr: str


def _children_of(pid: int) -> list[int]:
    """Direct children of pid, via /proc/<pid>/task/*/children, or a scan of /proc/*/stat."""
    try:
        files = list(Path(f"/proc/{pid}/task").glob("*/children"))
        if files:
            return [int(c) for f in files for c in f.read_text().split()]
    except OSError:
        return []
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _tree_memory_kib(pid: int) -> tuple[int, int]:
    """(sum of VmRSS, largest VmHWM) over pid and its descendants, in KiB."""
    total = hwm = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = max(hwm, int(line.split()[1]))
        except OSError:
            continue
        stack.extend(_children_of(p))
    return total, hwm


GNU_TIME = Path("/usr/bin/time")


def run_child(command: list[str], env: dict[str, str] | None = None, interval: float = 0.05) -> ChildRun:
    """Run a command, timing it and tracking its process tree's memory; stdout/stderr go to files.

    The largest single process comes from GNU time (``%M``: the wait4 rusage of the command, which
    covers the worker processes it reaped) when /usr/bin/time exists, else from the largest VmHWM
    seen while polling /proc. Not the wait4 rusage of our own child: Linux carries the forking
    process's high-water mark into it across exec, so it would report this script's size.
    """
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "maxrss"
        full = [str(GNU_TIME), "-o", str(rss_file), "-f", "%M", *command] if GNU_TIME.exists() else command
        with open(Path(tmp) / "out", "w+") as out, open(Path(tmp) / "err", "w+") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(full, stdout=out, stderr=err, env=env)
            peak = hwm = 0
            while True:
                pid, status, _usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                total, high = _tree_memory_kib(proc.pid)
                peak, hwm = max(peak, total), max(hwm, high)
                time.sleep(interval)
            wall = time.perf_counter() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
        max_rss = hwm
        if GNU_TIME.exists():
            with contextlib.suppress(OSError, ValueError, IndexError):
                max_rss = int(rss_file.read_text().split()[-1])
        # The sum over the tree is never below its largest process: polling may miss a short peak.
        peak = max(peak, max_rss)
        return ChildRun(command, proc.returncode, wall, max_rss or None, peak or None, stdout, stderr)


#: Runs dedup.scan() and prints its timings; argv: path, jobs, [cache file].
STAGES_CODE = """
import json, sys, time
from pathlib import Path
import dedup
kwargs = {"cache": Path(sys.argv[3])} if len(sys.argv) > 3 else {}
t = time.perf_counter()
r = dedup.scan([sys.argv[1]], dedup.ScanConfig(jobs=int(sys.argv[2])), **kwargs)
wall = time.perf_counter() - t
print(json.dumps({"timings": dict(r.timings), "scan_s": wall, "documents": r.summary.documents,
                  "duplicates": r.summary.duplicates, "clusters": r.summary.clusters,
                  "candidates": r.summary.candidates, "matches": r.summary.matches}))
"""


@dataclass
class CacheSupport:
    """What `dedup scan` offers for caching (read from its --help)."""

    dir_option: str | None  # an option taking the cache folder, e.g. --cache-dir
    off_flag: str | None  # a flag turning the cache off, e.g. --no-cache
    api_file: str | None  # name of the cache file in that folder, for scan(cache=...)


def cache_support() -> CacheSupport | None:
    res = subprocess.run([sys.executable, "-m", "dedup", "scan", "--help"], capture_output=True, text=True, check=False)
    text = res.stdout
    with_value = re.search(r"(--cache(?:-dir)?)\s+(?:PATH|DIR|DIRECTORY|FOLDER|FILE|TEXT)\b", text)
    off = re.search(r"--no-cache\b", text)
    if not with_value and not off:
        return None
    api_file = None
    try:
        from dedup import cache as dedup_cache  # the module behind --cache-dir, when there is one

        api_file = dedup_cache.default_path().name
    except (ImportError, AttributeError):
        pass
    return CacheSupport(with_value.group(1) if with_value else None, off.group(0) if off else None, api_file)


def dedup_cli(path: Path, out: Path, jobs: int, extra: Sequence[str] = ()) -> list[str]:
    return [sys.executable, "-m", "dedup", "scan", str(path), "-q", "--output", str(out), "--jobs", str(jobs), *extra]


@dataclass
class E2EContext:
    jobs: list[int]  # each value is a separate set of runs
    repeat: int  # CLI runs per (input, jobs): the best wall time is reported
    workdir: Path
    stages: bool
    cache: CacheSupport | None
    env: dict[str, str]  # children's environment: a default cache folder inside the workdir


def e2e_section(corpus: Corpus, inputs: Sequence[str], ctx: E2EContext) -> list[dict[str, Any]]:
    no_cache = [ctx.cache.off_flag] if ctx.cache and ctx.cache.off_flag else []
    jobs_text = ",".join(str(j) for j in ctx.jobs)
    heading(
        f"4. End to end, N = {corpus.docs:,}: python -m dedup scan -q --output FILE --jobs {jobs_text} {' '.join(no_cache)}"
    )
    results: list[dict[str, Any]] = []
    rows = []
    stage_rows: list[tuple[str, dict[str, Any]]] = []
    notes: list[str] = []
    rescans: list[str] = []
    for kind in inputs:
        path = corpus.folder if kind == "folder" else corpus.jsonl
        size = corpus.folder_bytes if kind == "folder" else corpus.jsonl_bytes
        out = ctx.workdir / f"out-n{corpus.docs}-{kind}.json"
        for jobs in ctx.jobs:
            print(f"  scanning {kind} ({size / MB:,.0f} MB), --jobs {jobs}, {ctx.repeat} run(s) ...", flush=True)
            runs = [run_child(dedup_cli(path, out, jobs, no_cache), ctx.env) for _ in range(ctx.repeat)]
            run = min(runs, key=lambda r: r.wall if r.returncode == 0 else float("inf"))
            peak = max((r.peak_tree_rss_kib or 0 for r in runs), default=0) or None
            max_rss = max((r.max_rss_kib or 0 for r in runs), default=0) or None
            found = None
            if run.returncode == 0:
                found = json.loads(out.read_text())["summary"]
            else:
                notes.append(f"{kind}: dedup exited {run.returncode}: {run.stderr.strip()[-300:]}")
            entry: dict[str, Any] = {
                "docs": corpus.docs,
                "input": kind,
                "bytes": size,
                "jobs": jobs,
                "command": " ".join(run.command),
                "returncode": run.returncode,
                "wall_s": run.wall,
                "all_wall_s": [r.wall for r in runs],
                "docs_per_s": corpus.docs / run.wall,
                "mb_per_s": size / MB / run.wall,
                "max_rss_mib": mib(max_rss),
                "peak_tree_rss_mib": mib(peak),
                "planted_duplicates": corpus.planted,
                "summary": found,
            }
            rows.append(
                (
                    kind,
                    jobs,
                    corpus.docs / run.wall,
                    size / MB / run.wall,
                    run.wall,
                    mib(peak),
                    mib(max_rss),
                    f"{found['duplicates']:,} / {corpus.planted:,}" if found else "n/a",
                )
            )
            if ctx.stages:
                print(f"  per-stage run on {kind}, jobs {jobs} (dedup.scan() in a child, no cache) ...", flush=True)
                info = stage_run(path, jobs, ctx, None, notes)
                if info is not None:
                    entry["stages"] = info
                    stage_rows.append((f"{kind}, jobs {jobs}", info))
            rescan_here = kind == "folder" and jobs == ctx.jobs[0] and run.returncode == 0
            if rescan_here and ctx.cache is not None and ctx.cache.dir_option:
                r = rescan(path, out, jobs, ctx, corpus.docs, run.wall)
                entry["rescan"] = r
                rescans.append(
                    f"rescan of the unchanged folder, --jobs {jobs}, {ctx.cache.dir_option} emptied first: first run"
                    f" {r['first_s']:.2f} s, second {r['second_s']:.2f} s (median of {', '.join(f'{w:.2f}' for w in r['second_runs_s'])}): first/second {ratio(r['first_s'], r['second_s'])},"
                    f" no-cache run/second {ratio(run.wall, r['second_s'])}"
                )
                if ctx.stages and ctx.cache.api_file:
                    print("  per-stage run on folder with the warm cache ...", flush=True)
                    info = stage_run(path, jobs, ctx, ctx.workdir / f"cache-n{corpus.docs}" / ctx.cache.api_file, notes)
                    if info is not None:
                        r["stages"] = info
                        stage_rows.append((f"folder, jobs {jobs}, rescan (warm cache)", info))
            results.append(entry)
    table(
        [
            "input",
            "jobs",
            "docs/s",
            "MB/s",
            "wall s",
            "peak RSS MiB (tree)",
            "max RSS MiB (1 proc)",
            "dups found / planted",
        ],
        rows,
    )
    best = f"best of {ctx.repeat} runs; " if ctx.repeat > 1 else ""
    print(f"wall ({best}interpreter start, imports and writing the JSON export included). peak RSS (tree): the")
    print("largest sampled sum of RSS over the CLI process and its workers (pages shared after fork counted in")
    print("each); max RSS: the largest single process. 'planted' counts generated near-duplicate documents.")
    if "folder" in inputs and (ctx.cache is None or not ctx.cache.dir_option):
        print("rescan: no cache option yet")
    for line in rescans:
        print(line)
    if stage_rows:
        print_stages(stage_rows, notes)
    for n in notes:
        print(f"note: {n}")
    return results


def _compile_bytecode() -> str:
    """Compile the dedup package the children run to bytecode, as ``pip install .`` does.

    An editable install with PYTHONDONTWRITEBYTECODE set (as on some CI machines) would
    otherwise compile every module from source at each start, about 0.1 s that an installed
    dedup does not pay: a rescan, 2 s in all, would carry it in its figure."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("dedup")
    folders = list(spec.submodule_search_locations or []) if spec else []
    ok = all(compileall.compile_dir(f, quiet=1, maxlevels=0) for f in folders)
    where = ", ".join(folders) or "dedup not found"
    env = os.environ.get("PYTHONDONTWRITEBYTECODE")
    return f"bytecode: dedup's modules compiled first, as pip install does ({where}; {'ok' if ok else 'FAILED'}; PYTHONDONTWRITEBYTECODE={env or 'unset'})"


def stage_run(
    path: Path, jobs: int, ctx: E2EContext, cache_file: Path | None, notes: list[str]
) -> dict[str, Any] | None:
    args = [sys.executable, "-c", STAGES_CODE, str(path), str(jobs)] + ([str(cache_file)] if cache_file else [])
    st = run_child(args, ctx.env)
    if st.returncode != 0:
        notes.append(f"per-stage run on {path.name} failed: {st.stderr.strip()[-300:]}")
        return None
    info: dict[str, Any] = json.loads(st.stdout.strip().splitlines()[-1])
    info |= {"wall_s": st.wall, "peak_tree_rss_mib": mib(st.peak_tree_rss_kib), "max_rss_mib": mib(st.max_rss_kib)}
    return info


def print_stages(stage_rows: Sequence[tuple[str, dict[str, Any]]], notes: list[str]) -> None:
    print("\nper-stage seconds (ScanResult.timings of dedup.scan() run once in a separate child, same corpus):")
    names: list[str] = []
    for _, info in stage_rows:
        names.extend(k for k in info["timings"] if k not in names)
    if not names:
        print("per-stage times: n/a (ScanResult.timings is empty in this version of dedup)")
        notes.append("ScanResult.timings was empty: per-stage times n/a")
    headers = ["run", *names, "scan() s", "peak RSS MiB (tree)", "max RSS MiB (1 proc)"]
    table(
        headers,
        [
            (
                kind,
                *(info["timings"].get(n) for n in names),
                info["scan_s"],
                info["peak_tree_rss_mib"],
                info["max_rss_mib"],
            )
            for kind, info in stage_rows
        ],
    )


RESCANS = 3  # warm runs; their median is the figure (single runs on a shared VM vary by 15%)


def rescan(path: Path, out: Path, jobs: int, ctx: E2EContext, docs: int, no_cache_s: float) -> dict[str, Any]:
    assert ctx.cache is not None and ctx.cache.dir_option
    cache_dir = ctx.workdir / f"cache-n{docs}"
    shutil.rmtree(cache_dir, ignore_errors=True)
    extra = [ctx.cache.dir_option, str(cache_dir)]
    print(f"  rescan: one run with {' '.join(extra)} emptied, then {RESCANS} with it warm ...", flush=True)
    first = run_child(dedup_cli(path, out, jobs, extra), ctx.env)
    warm = [run_child(dedup_cli(path, out, jobs, extra), ctx.env) for _ in range(RESCANS)]
    second = statistics.median(w.wall for w in warm)
    return {
        "option": " ".join(extra),
        "jobs": jobs,
        "no_cache_s": no_cache_s,
        "first_s": first.wall,
        "second_s": second,
        "second_runs_s": [w.wall for w in warm],
        "first_over_second": first.wall / second,
        "second_peak_tree_rss_mib": max((m for w in warm if (m := mib(w.peak_tree_rss_kib)) is not None), default=None),
        "returncodes": [first.returncode, *(w.returncode for w in warm)],
    }


# ======================================================================================
# Driver
# ======================================================================================


def linearity(e2e: Sequence[dict[str, Any]], first: int) -> None:
    base = {(e["input"], e["jobs"]): e["docs_per_s"] for e in e2e if e["docs"] == first}
    table(
        ["input", "jobs", "N", "docs/s", "MB/s", "wall s", "peak RSS MiB (tree)", f"docs/s vs N={first:,}"],
        [
            (
                e["input"],
                e["jobs"],
                e["docs"],
                e["docs_per_s"],
                e["mb_per_s"],
                e["wall_s"],
                e["peak_tree_rss_mib"],
                ratio(e["docs_per_s"], base.get((e["input"], e["jobs"]))),
            )
            for e in sorted(e2e, key=lambda e: (e["input"], e["jobs"], e["docs"]))
        ],
    )


def _kernel_state() -> str:
    """Whether dedup's compiled shingle/MinHash kernel is in use (versions without one: "none")."""
    try:
        from dedup import kernel
    except ImportError:
        return "none"
    available = getattr(kernel, "available", None)
    return "compiled" if callable(available) and available() else "numpy"


def _load() -> str:
    """1, 5 and 15 minute load averages: other work on the machine makes every figure noisier."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in ("dedup", "numpy", "datasketch", "xxhash", "rensa"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return rev + ("+uncommitted changes" if dirty else "")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--docs",
        type=int,
        action="append",
        metavar="N",
        help="corpus size; repeat for a linearity table (default 10000)",
    )
    p.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "dedup-bench",
        help="corpora and outputs (default: %(default)s)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        action="append",
        help="--jobs for dedup scan; repeat to compare (default 0 = all cores)",
    )
    p.add_argument("--repeat", type=int, default=1, help="CLI runs per input and jobs; the best is shown (default 1)")
    p.add_argument("--sample", type=int, default=2000, help="documents in the signature section (default %(default)s)")
    p.add_argument(
        "--loop-sample",
        type=int,
        default=500,
        help="documents for the slow datasketch update() loops: the first of --sample; 0 = all (default %(default)s)",
    )
    p.add_argument("--pool-docs", type=int, help="documents in the two-process section (default 10 x --sample)")
    p.add_argument("--seed", type=int, default=0, help="corpus seed (default %(default)s)")
    p.add_argument(
        "--inputs", default="folder,jsonl", help="end-to-end inputs: folder, jsonl or both (default %(default)s)"
    )
    p.add_argument(
        "--sections", default=",".join(SECTIONS), help=f"sections to run, of {', '.join(SECTIONS)} (default all)"
    )
    p.add_argument("--no-stages", action="store_true", help="skip the per-stage scan() runs of the end-to-end section")
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep corpora generated by this run in --workdir (cached corpora are always kept)",
    )
    p.add_argument("--json", type=Path, metavar="FILE", help="also save every figure as JSON")
    args = p.parse_args(argv)
    args.docs = args.docs or [10_000]
    args.jobs = [j if j > 0 else (os.cpu_count() or 1) for j in (args.jobs or [0])]
    args.inputs = [s.strip() for s in args.inputs.split(",") if s.strip()]
    args.sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    for bad in set(args.inputs) - {"folder", "jsonl"}:
        p.error(f"unknown input {bad!r}")
    for bad in set(args.sections) - set(SECTIONS):
        p.error(f"unknown section {bad!r}")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    machine: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(["python", *sys.argv]),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "versions": versions(),
        "git": git_commit(),
        "dedup_kernel": _kernel_state(),
        "rayon_num_threads": os.environ.get("RAYON_NUM_THREADS"),
        "load_average_start": _load(),
    }
    print(
        f"dedup benchmark {machine['date']}  |  {machine['cores']} cores, Python {machine['python']}, {machine['platform']}"
    )
    print(
        "versions: "
        + ", ".join(f"{k} {v or 'not installed'}" for k, v in machine["versions"].items())
        + f"  |  dedup kernel: {machine['dedup_kernel']}  |  git {machine['git']}"
    )
    print(f"command: {machine['command']}  |  load average {_load()}")
    report: dict[str, Any] = {"machine": machine, "args": {k: str(v) for k, v in vars(args).items()}}

    heading("1. Corpus (generation is not part of any figure)")
    gen = Generator(args.seed)
    args.workdir.mkdir(parents=True, exist_ok=True)
    corpora = []
    rows = []
    for n in args.docs if "e2e" in args.sections else []:
        corpus = ensure_corpus(gen, corpus_paths(args.workdir, n, args.seed), args.inputs)
        corpora.append(corpus)
        took = "cached" if corpus.generated_seconds is None else f"{corpus.generated_seconds:.1f} s"
        kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(corpus.kinds.items()) if k != "original")
        rows.append(
            (
                f"{n:,}",
                corpus.text_bytes / MB,
                corpus.folder_bytes / MB or None,
                corpus.jsonl_bytes / MB or None,
                f"{corpus.planted:,} ({kinds})",
                took,
                str(corpus.root),
            )
        )
    if rows:
        table(["N", "text MB", "folder MB", "JSONL MB", "near-duplicates planted", "generation", "where"], rows)
    else:
        print("no end-to-end section: no corpus written (the other sections generate their texts in memory)")
    report["corpora"] = [{k: str(v) if isinstance(v, Path) else v for k, v in asdict(c).items()} for c in corpora]

    try:
        if "signature" in args.sections:
            report["signature"] = signature_section(gen, args.sample, args.loop_sample)
        if "processes" in args.sections:
            report["processes"] = processes_section(gen, args.pool_docs or 10 * args.sample)
        if "e2e" in args.sections:
            cache = cache_support()
            report["cache_support"] = None if cache is None else asdict(cache)
            env = dict(os.environ, DEDUP_CACHE_DIR=str(args.workdir / "cache-default"))
            ctx = E2EContext(args.jobs, max(1, args.repeat), args.workdir, not args.no_stages, cache, env)
            print(_compile_bytecode())
            startup = run_child([sys.executable, "-m", "dedup", "--version"], env)
            report["cli_startup_s"] = startup.wall
            e2e: list[dict[str, Any]] = []
            for corpus in corpora:
                e2e.extend(e2e_section(corpus, args.inputs, ctx))
            report["end_to_end"] = e2e
            print(f"\nCLI start-up alone (python -m dedup --version): {startup.wall:.2f} s")
            if len(corpora) > 1:
                heading("5. Linearity: end-to-end docs/s per N")
                linearity(e2e, corpora[0].docs)
    finally:
        for corpus in corpora:
            if corpus.created and not args.keep:
                shutil.rmtree(corpus.root, ignore_errors=True)
        for out in args.workdir.glob("out-n*.json"):
            out.unlink()
        for cache_dir in args.workdir.glob("cache-*"):
            shutil.rmtree(cache_dir, ignore_errors=True)
    report["total_s"] = time.perf_counter() - started
    report["load_average_end"] = _load()
    print(f"\nbenchmark took {report['total_s']:.0f} s (generation included); load average now {_load()}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
        print(f"figures saved to {args.json}")


if __name__ == "__main__":
    main()
