"""Speed of the compiled kernel against the NumPy path, in one run, on one core.

Measures the whole "text -> sorted unique shingle hashes + words + short-line hashes +
MinHash signature" stage (``shingle_batch`` then ``signatures``) on deterministic ~400-word
documents drawn from a fixed vocabulary, and how much of the kernel path's time is the
Python-side ``fold`` (NFKC + casefold, or ``lower()`` for ASCII) that stays in Python.

Usage:
    python benchmarks/kernel_speed.py [--docs 4096] [--words 400] [--batch 512] [--num-perm 128]
                                      [--accented SHARE] [--repeat 3]

By default two corpora are run: pure ASCII, and one where 30% of the vocabulary is non-ASCII
(accents, some Cyrillic), so every document takes the NFKC + casefold branch of ``fold``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence

import numpy as np

from dedup import kernel
from dedup.shingle import shingle_batch
from dedup.signature import signatures
from dedup.tokens import fold

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_ACCENTED = "éèàçüöäßñøå"  # no œ: "éœ" would look like mojibake to fold (ftfy repair)
_CYRILLIC = "абвгдежзиклмнопрст"


def make_docs(n_docs: int, n_words: int, accented: float, seed: int = 20240) -> list[str]:
    """Deterministic documents: random words of a fixed vocabulary, some punctuation and lines."""
    rng = np.random.default_rng(seed)
    vocab: list[str] = []
    for _ in range(5000):
        length = int(rng.integers(2, 11))
        alphabet = _LETTERS
        if rng.random() < accented:
            alphabet = _CYRILLIC if rng.random() < 0.3 else _LETTERS + _ACCENTED
        word = "".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), length))
        vocab.append(word.capitalize() if rng.random() < 0.1 else word)
    docs: list[str] = []
    for _ in range(n_docs):
        count = int(rng.integers(n_words * 9 // 10, n_words * 11 // 10 + 1))
        words = [vocab[int(i)] for i in rng.integers(0, len(vocab), count)]
        parts: list[str] = []
        for j, w in enumerate(words):
            parts.append(w)
            r = rng.random()
            if j % 40 == 39:
                parts.append(".\n")  # paragraphs
            elif r < 0.06:
                parts.append(", ")
            elif r < 0.08:
                parts.append(". ")
            else:
                parts.append(" ")
        docs.append("Short title line\n" + "".join(parts))
    return docs


def run(texts: Sequence[str], batch: int, num_perm: int) -> None:
    for i in range(0, len(texts), batch):
        signatures(shingle_batch(texts[i : i + batch], 5, 5), num_perm, 1)


def best_of(repeat: int, fn: Callable[[], None]) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def kernel_side_fold(texts: Sequence[str]) -> None:
    """The Python work the kernel path does per text (kernel.shingle_batch's first line)."""
    for t in texts:
        if not t.isascii():
            fold(t)


def full_fold(texts: Sequence[str]) -> None:
    """`fold` of every text, as the NumPy path does it."""
    for t in texts:
        fold(t)


def scenario(name: str, texts: list[str], args: argparse.Namespace) -> None:
    n = len(texts)
    chars = sum(len(t) for t in texts) / n
    ascii_share = sum(t.isascii() for t in texts) / n
    print(f"\n[{name}] {n} docs, {chars:.0f} characters each on average, {ascii_share:.0%} pure ASCII")

    saved = os.environ.get("DEDUP_NO_KERNEL")
    try:
        os.environ["DEDUP_NO_KERNEL"] = "1"
        run(texts[: args.batch], args.batch, args.num_perm)  # warm the lazy tables
        t_numpy = best_of(args.repeat, lambda: run(texts, args.batch, args.num_perm))
    finally:
        if saved is None:
            del os.environ["DEDUP_NO_KERNEL"]
        else:
            os.environ["DEDUP_NO_KERNEL"] = saved
    print(f"  numpy path : {n / t_numpy:10,.0f} docs/s")

    if not kernel.available():
        print("  kernel path: not built (or disabled by DEDUP_NO_KERNEL); build with `pip install -e .`")
        return
    run(texts[: args.batch], args.batch, args.num_perm)
    t_kernel = best_of(args.repeat, lambda: run(texts, args.batch, args.num_perm))
    t_side = best_of(args.repeat, lambda: kernel_side_fold(texts))
    t_full = best_of(args.repeat, lambda: full_fold(texts))
    print(f"  kernel path: {n / t_kernel:10,.0f} docs/s   ({t_numpy / t_kernel:.1f}x the numpy path)")
    print(
        f"  Python-side fold in the kernel path (non-ASCII texts only): {t_side / t_kernel:.0%} of its time; "
        f"fold of every text would be {t_full / t_kernel:.0%} ({t_full / n * 1e6:.1f} us/doc)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=4096)
    parser.add_argument("--words", type=int, default=400)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument(
        "--accented",
        type=float,
        default=None,
        help="share of non-ASCII vocabulary words; default: run 0.0 and 0.3",
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"batch {args.batch}, num_perm {args.num_perm}, best of {args.repeat}, one thread, "
        f"kernel {'built, minhash ' + kernel.minhash_isa() if kernel.built() else 'not built'}"
    )
    shares = [0.0, 0.3] if args.accented is None else [args.accented]
    for share in shares:
        name = "ASCII" if share == 0 else f"{share:.0%} non-ASCII vocabulary"
        scenario(name, make_docs(args.docs, args.words, share), args)


if __name__ == "__main__":
    main()
