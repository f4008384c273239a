"""Stage 3: texts -> hashed shingle sets, a batch at a time.

In:  document texts (already decoded and reduced to visible text).
Out: ``Shingles``: per document a sorted array of unique 64-bit shingle hashes (CSR layout:
     one flat array and offsets), plus token counts and hashes of short lines.

Normalisation: Unicode NFKC, case folding, curly quotes and dashes made plain. Tokens are
maximal runs of letters, marks and digits; everything else separates them, so punctuation
and markup characters do not count. Scripts written without spaces (Han, kana, Thai, Lao,
Khmer, Myanmar) are tokenised one character per token, which makes their shingles
character n-grams (``char_shingle_size``) and keeps them comparable inside mixed text.

Hashing is vectorised over the whole batch with NumPy: no Python work per token or shingle.
``shingle_strings`` and ``hash_shingle`` are the slow, plain-Python definition of the same
hashes; the fast path is tested against them, and ``hash_shingle32`` is the hash function to
give ``datasketch.MinHash`` for signatures equal to ours (see signature.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from . import kernel
from .sets import Shingles as Shingles
from .tokens import BASE as _BASE
from .tokens import BASE_INV as _BASE_INV
from .tokens import GOLDEN as _GOLDEN
from .tokens import MASK64 as _MASK64
from .tokens import MAX_SHINGLE_SIZE as MAX_SHINGLE_SIZE
from .tokens import MOJIBAKE as MOJIBAKE
from .tokens import POSITION as _POSITION
from .tokens import QUOTES as _QUOTES
from .tokens import SEP as _SEP
from .tokens import SHORT_LINE_TOKENS as SHORT_LINE_TOKENS
from .tokens import SOLO as _SOLO
from .tokens import U64
from .tokens import WORD as _WORD
from .tokens import classes as _classes
from .tokens import classify as _classify
from .tokens import fold as _fold


def normalize(text: str) -> str:
    """Mojibake repaired, NFKC, case folding, plain quotes and dashes: what copies agree on."""
    return _fold(text).translate(_QUOTES)


@lru_cache(maxsize=1)
def _quote_table() -> NDArray[np.uint32]:
    """Code point -> code point map doing `_QUOTES` on arrays (every entry is one to one)."""
    table = np.arange(0x110000, dtype=np.uint32)
    for src, dst in _QUOTES.items():
        table[src] = ord(str(dst))
    return table


# --------------------------------------------------------------------------------------
# The plain-Python definition (reference, and the hash function datasketch is given)
# --------------------------------------------------------------------------------------


def _fmix64(h: int) -> int:
    """MurmurHash3's 64-bit finaliser: a bijection that spreads every input bit."""
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _MASK64
    return h ^ (h >> 33)


def tokens(text: str) -> list[str]:
    """The tokens of a text after normalisation: runs of word characters, and each
    character of an unspaced script alone (found with the vectorised class table; equal
    to ``tokens_by_char``, the plain definition, as a test checks)."""
    # Quotes and dashes are separators before and after `_QUOTES`, and tokens never hold a
    # separator: cutting the folded text gives the tokens of the normalised one.
    norm = _fold(text)
    if norm.isascii():
        return _ASCII_TOKEN.findall(norm)  # ASCII letters and digits: the whole rule
    cls = _classes(_encode(norm))
    word = cls == _WORD
    solo = cls == _SOLO
    edge = np.diff(word.view(np.int8), prepend=0, append=0)
    starts = np.flatnonzero(edge == 1)
    ends = np.flatnonzero(edge == -1)
    if solo.any():
        singles = np.flatnonzero(solo)
        starts = np.concatenate((starts, singles))
        ends = np.concatenate((ends, singles + 1))
        order = np.argsort(starts, kind="stable")
        starts, ends = starts[order], ends[order]
    return [norm[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]


_ASCII_TOKEN = re.compile("[a-z0-9]+")


def tokens_by_char(text: str) -> list[str]:
    """The tokens of a text after normalisation, one character at a time (the definition)."""
    out: list[str] = []
    word: list[str] = []
    for ch in normalize(text):
        cls = _classify(ord(ch))
        if cls == _WORD:
            word.append(ch)
            continue
        if word:
            out.append("".join(word))
            word = []
        if cls == _SOLO:
            out.append(ch)
    if word:
        out.append("".join(word))
    return out


def hash_token(token: str) -> int:
    """64-bit hash of one token: a polynomial over its code points, then fmix64."""
    poly = 0
    power = 1
    for ch in token:
        poly = (poly + (ord(ch) + 1) * power) & _MASK64
        power = (power * _BASE) & _MASK64
    return _fmix64((poly + len(token) * _GOLDEN) & _MASK64)


#: ``hash_token`` for the cleanest-copy stage, which hashes the words of short lines one by
#: one: words recur, and a lookup is 20 times cheaper than the hash in Python.
_cached_hash_token = lru_cache(maxsize=1 << 16)(hash_token)


def _combine(token_hashes: Sequence[int]) -> int:
    acc = (len(token_hashes) * _GOLDEN) & _MASK64
    for position, th in enumerate(token_hashes):
        acc = (acc + th * _POSITION[position]) & _MASK64
    return _fmix64(acc)


def shingle_strings(text: str, k: int = 5, char_k: int | None = None) -> list[str]:
    """The shingles of a text as strings of tokens joined by one space (reference).

    A text with fewer tokens than k has one shingle holding all of them, so short texts
    still have a set to compare.
    """
    toks = tokens(text)
    size = _shingle_size(toks, k, k if char_k is None else char_k)
    if not toks:
        return []
    if len(toks) <= size:
        return [" ".join(toks)]
    return [" ".join(toks[i : i + size]) for i in range(len(toks) - size + 1)]


def _shingle_size(toks: Sequence[str], k: int, char_k: int) -> int:
    """Character n-grams for text that is mostly unspaced script, word k-grams otherwise."""
    if k == char_k or not toks:
        return k
    solo = sum(1 for t in toks if len(t) == 1 and _classify(ord(t)) == _SOLO)
    return char_k if 2 * solo > len(toks) else k


def hash_shingle(shingle: bytes | str) -> int:
    """64-bit hash of one shingle given as its tokens joined by single spaces."""
    text = shingle.decode("utf-8") if isinstance(shingle, bytes) else shingle
    return _combine([hash_token(t) for t in text.split(" ")])


def hash_shingle32(shingle: bytes | str) -> int:
    """The 32-bit shingle hash signatures are built from: give it to datasketch.MinHash.

    Example:
        >>> from datasketch import MinHash
        >>> m = MinHash(num_perm=128, seed=1, hashfunc=hash_shingle32)
        >>> m.update_batch(s.encode() for s in shingle_strings("a b c d e f"))
    """
    return hash_shingle(shingle) & 0xFFFFFFFF


# --------------------------------------------------------------------------------------
# The vectorised path
# --------------------------------------------------------------------------------------


def _fmix64_array(h: NDArray[np.uint64]) -> NDArray[np.uint64]:
    h = h ^ (h >> U64(33))
    h = h * U64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> U64(33))
    h = h * U64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> U64(33))


#: Code points hashed at once: bounds memory on very large documents.
CHUNK = 1 << 20


@lru_cache(maxsize=1)
def _powers(length: int = CHUNK) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """_BASE**j and _BASE**-j mod 2**64 for every position of a chunk (cached for CHUNK)."""
    with np.errstate(over="ignore"):
        powers = np.full(length, _BASE, dtype=U64)
        powers[0] = 1
        inv = np.full(length, _BASE_INV, dtype=U64)
        inv[0] = 1
        return np.cumprod(powers, dtype=U64), np.cumprod(inv, dtype=U64)


def _token_hashes(cps: NDArray[np.uint32], cls: NDArray[np.uint8]) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    """Hash every token of a code-point array; return (hashes, start positions)."""
    out_h: list[NDArray[np.uint64]] = []
    out_s: list[NDArray[np.int64]] = []
    n = len(cps)
    begin = 0
    while begin < n:
        end = min(n, begin + CHUNK)
        if end < n:  # cut at a separator so no token spans two chunks
            seps = np.flatnonzero(cls[begin:end] == _SEP)
            if len(seps):
                end = begin + int(seps[-1]) + 1
            else:  # one token longer than a chunk: take it whole, up to the next separator
                after = np.flatnonzero(cls[end:] == _SEP)
                end = end + int(after[0]) + 1 if len(after) else n
        h, s = _token_hashes_chunk(cps[begin:end], cls[begin:end])
        out_h.append(h)
        out_s.append(s + begin)
        begin = end
    if not out_h:
        return np.zeros(0, U64), np.zeros(0, np.int64)
    return np.concatenate(out_h), np.concatenate(out_s)


def _token_hashes_chunk(
    cps: NDArray[np.uint32], cls: NDArray[np.uint8]
) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    n = len(cps)
    word = cls == _WORD
    solo = cls == _SOLO
    prev_word = np.empty(n, bool)
    prev_word[0] = False
    prev_word[1:] = word[:-1]
    next_word = np.empty(n, bool)
    next_word[-1] = False
    next_word[:-1] = word[1:]
    starts = np.flatnonzero((word & ~prev_word) | solo)
    ends = np.flatnonzero((word & ~next_word) | solo) + 1
    if len(starts) == 0:
        return np.zeros(0, U64), np.zeros(0, np.int64)
    powers, inv_powers = _powers() if n <= CHUNK else _powers.__wrapped__(n)
    with np.errstate(over="ignore"):
        prefix = np.zeros(n + 1, dtype=U64)
        np.cumsum((cps.astype(U64) + U64(1)) * powers[:n], dtype=U64, out=prefix[1:])
        poly = (prefix[ends] - prefix[starts]) * inv_powers[starts]
        lengths = (ends - starts).astype(U64)
        return _fmix64_array(poly + lengths * U64(_GOLDEN)), starts.astype(np.int64)


def _window_hashes(tok: NDArray[np.uint64], size: int) -> NDArray[np.uint64]:
    """Hash of every window of `size` consecutive token hashes (no boundary check)."""
    m = len(tok) - size + 1
    with np.errstate(over="ignore"):
        acc = np.full(m, (size * _GOLDEN) & _MASK64, dtype=U64)
        for position in range(size):
            acc += tok[position : position + m] * U64(_POSITION[position])
    return _fmix64_array(acc)


def _encode(text: str) -> NDArray[np.uint32]:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def shingle_batch(texts: Sequence[str], k: int = 5, char_k: int | None = None) -> Shingles:
    """Hash the shingle sets of a batch of texts at once.

    Args:
        texts: the documents' visible text.
        k: tokens per shingle (word k-grams).
        char_k: characters per shingle for text that is mostly unspaced script; k if None.

    Returns:
        Shingles whose per-document hashes equal ``hash_shingle`` of ``shingle_strings``.
    """
    char_k = k if char_k is None else char_k
    if not (1 <= k <= MAX_SHINGLE_SIZE and 1 <= char_k <= MAX_SHINGLE_SIZE):
        raise ValueError(f"shingle sizes must be between 1 and {MAX_SHINGLE_SIZE}")

    if kernel.available():
        return kernel.shingle_batch(texts, k, char_k)
    n_docs = len(texts)
    normalized = [_fold(t) for t in texts]
    # One code-point array for the batch; "\n" between documents is a separator.
    cps = _quote_table()[_encode("\n".join(normalized))]
    doc_starts = np.zeros(n_docs + 1, dtype=np.int64)
    if n_docs:
        np.cumsum([len(t) + 1 for t in normalized], out=doc_starts[1:])
    cls = _classes(cps) if len(cps) else np.zeros(0, np.uint8)
    tok, tok_pos = _token_hashes(cps, cls)
    tok_doc = np.searchsorted(doc_starts, tok_pos, side="right") - 1
    tok_offsets = np.searchsorted(tok_doc, np.arange(n_docs + 1), side="left").astype(np.int64)
    words = np.diff(tok_offsets)

    sizes = np.full(n_docs, k, dtype=np.int64)
    if char_k != k and len(tok):
        solo_tok = cls[tok_pos] == _SOLO
        # A solo token is one code point long: its start is a solo character.
        solo_count = np.bincount(tok_doc[solo_tok], minlength=n_docs)
        sizes[2 * solo_count > words] = char_k

    hashes_parts: list[NDArray[np.uint64]] = []
    doc_parts: list[NDArray[np.int64]] = []
    for size in np.unique(sizes).tolist():
        if len(tok) >= size:
            win = _window_hashes(tok, size)
            first = np.arange(len(win))
            win_doc = tok_doc[: len(win)]
            ok = (sizes[win_doc] == size) & (first + size <= tok_offsets[win_doc + 1])
            hashes_parts.append(win[ok])
            doc_parts.append(win_doc[ok])
        # Documents shorter than their shingle size get one shingle of all their tokens.
        short = np.flatnonzero((sizes == size) & (words < size) & (words > 0))
        for d in short.tolist():
            span = tok[tok_offsets[d] : tok_offsets[d + 1]].tolist()
            hashes_parts.append(np.array([_combine(span)], dtype=U64))
            doc_parts.append(np.array([d], dtype=np.int64))
    hashes, offsets = _sorted_unique_per_doc(hashes_parts, doc_parts, n_docs)
    line_hashes, line_docs = _short_lines(cps, tok, tok_pos, tok_doc, n_docs)
    return Shingles(offsets, hashes, words.astype(np.int64), line_hashes, line_docs)


def _sorted_unique_per_doc(
    hashes_parts: list[NDArray[np.uint64]], doc_parts: list[NDArray[np.int64]], n_docs: int
) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    if hashes_parts:
        h = np.concatenate(hashes_parts)
        d = np.concatenate(doc_parts)
    else:
        h, d = np.zeros(0, U64), np.zeros(0, np.int64)
    return _sort_per_doc(h, d, n_docs)


def _sort_per_doc(
    h: NDArray[np.uint64], d: NDArray[np.int64], n_docs: int
) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    """Group values by document, then sort and deduplicate within each document."""
    if len(d) > 1 and bool((d[1:] < d[:-1]).any()):
        order = np.argsort(d, kind="stable")
        h, d = h[order], d[order]
    else:
        h = h.copy()
    offsets = np.searchsorted(d, np.arange(n_docs + 1), side="left")
    for i in range(n_docs):  # one small in-place sort per document beats a global lexsort
        h[offsets[i] : offsets[i + 1]].sort()
    keep = np.ones(len(h), bool)
    keep[1:] = (h[1:] != h[:-1]) | (d[1:] != d[:-1])
    h, d = h[keep], d[keep]
    return h, np.searchsorted(d, np.arange(n_docs + 1), side="left").astype(np.int64)


def _short_lines(
    cps: NDArray[np.uint32],
    tok: NDArray[np.uint64],
    tok_pos: NDArray[np.int64],
    tok_doc: NDArray[np.int64],
    n_docs: int,
) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    """One hash per distinct short line per document (order-aware over its tokens)."""
    if len(tok) == 0:
        return np.zeros(0, U64), np.zeros(0, np.int64)
    newlines = np.flatnonzero(cps == 10)
    tok_line = np.searchsorted(newlines, tok_pos, side="left")  # line number across the batch
    first = np.ones(len(tok), bool)
    first[1:] = tok_line[1:] != tok_line[:-1]
    with np.errstate(over="ignore"):
        prev = np.zeros(len(tok), U64)
        prev[1:] = tok[:-1]
        prev[first] = 0
        mixed = _fmix64_array(tok ^ (prev * U64(_POSITION[1])))
        starts = np.flatnonzero(first)
        sums = np.add.reduceat(mixed, starts)
        counts = np.diff(np.append(starts, len(tok)))
        line_h = _fmix64_array(sums + counts.astype(U64) * U64(_GOLDEN))
    line_doc = tok_doc[starts]
    short = counts <= SHORT_LINE_TOKENS
    line_h, offsets = _sort_per_doc(line_h[short], line_doc[short], n_docs)
    return line_h, np.repeat(np.arange(n_docs, dtype=np.int64), np.diff(offsets))


def line_hash(line: str) -> int | None:
    """Hash of one line as ``Shingles.line_hashes`` holds it; None if not a short line."""
    return line_hash_of(tokens(line))


def line_hash_of(line_tokens: Sequence[str]) -> int | None:
    """``line_hash`` of a line already cut into tokens."""
    toks = [_cached_hash_token(t) for t in line_tokens]
    if not toks or len(toks) > SHORT_LINE_TOKENS:
        return None
    acc = 0
    prev = 0
    for th in toks:
        acc = (acc + _fmix64(th ^ ((prev * _POSITION[1]) & _MASK64))) & _MASK64
        prev = th
    return _fmix64((acc + len(toks) * _GOLDEN) & _MASK64)


def sequence(text: str, k: int = 5, char_k: int | None = None) -> tuple[NDArray[np.uint64], NDArray[np.uint64], int]:
    """Token hashes and shingle hashes of one text in text order, and the shingle size used.

    Shingle j covers tokens j .. j+size-1 (a text shorter than size has one shingle
    covering all its tokens). The cleanest-copy stage uses this to tell which words of a
    copy lie outside the text it shares with the others.
    """
    return sequences([text], k, char_k)[0]


def sequences(
    texts: Sequence[str], k: int = 5, char_k: int | None = None
) -> list[tuple[NDArray[np.uint64], NDArray[np.uint64], int]]:
    """``sequence`` of each text, computed for all of them at once.

    The texts are joined with newlines (a separator: no token crosses it) and hashed in one
    pass; windows that would cross from one text into the next are dropped. Ranking many
    small groups calls this once per batch of groups instead of a dozen NumPy calls per text.
    """
    char_k = k if char_k is None else char_k
    folded = [_fold(t) for t in texts]
    lengths = np.array([len(f) for f in folded], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1])).astype(np.int64)  # +1: the newline
    cps = _quote_table()[_encode("\n".join(folded))]
    cls = _classes(cps) if len(cps) else np.zeros(0, np.uint8)
    tok, tok_pos = _token_hashes(cps, cls) if len(cps) else (np.zeros(0, U64), np.zeros(0, np.int64))
    bounds = np.searchsorted(tok_pos, np.append(starts, len(cps) + 1))
    solo = (cls[tok_pos] == _SOLO).astype(np.int64) if len(tok) else np.zeros(0, np.int64)
    solo_sums = np.concatenate(([0], np.cumsum(solo)))
    windows: dict[int, NDArray[np.uint64]] = {}  # size -> window hashes over all tokens
    out: list[tuple[NDArray[np.uint64], NDArray[np.uint64], int]] = []
    for d in range(len(texts)):
        a, b = int(bounds[d]), int(bounds[d + 1])
        t = tok[a:b]
        size = k
        if char_k != k and b > a and 2 * int(solo_sums[b] - solo_sums[a]) > b - a:
            size = char_k
        if b == a:
            out.append((t, np.zeros(0, U64), size))
        elif b - a < size:
            out.append((t, np.array([_combine(t.tolist())], dtype=U64), size))
        else:
            if size not in windows:
                windows[size] = _window_hashes(tok, size) if len(tok) >= size else np.zeros(0, U64)
            out.append((t, windows[size][a : b - size + 1], size))
    return out
