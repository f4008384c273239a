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
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

U64 = np.uint64
_MASK64 = (1 << 64) - 1

# Constants of the hash construction. Changing any of them changes every signature:
# they are part of the cache key and of the datasketch-compatibility contract.
_BASE = 0x100000001B3  # polynomial base over code points (FNV-64 prime, odd so invertible mod 2**64)
_BASE_INV = pow(_BASE, -1, 1 << 64)
_GOLDEN = 0x9E3779B97F4A7C15
# Odd multipliers, one per position in a shingle (splitmix64 outputs of 1..64, forced odd).
_POSITION = tuple(
    (((z ^ (z >> 31)) | 1) & _MASK64)
    for z in (
        ((y ^ (y >> 27)) * 0x94D049BB133111EB) & _MASK64
        for y in (
            ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64 for x in ((i * _GOLDEN) & _MASK64 for i in range(1, 65))
        )
    )
)
MAX_SHINGLE_SIZE = len(_POSITION)
#: Lines with at most this many tokens are hashed for the corpus-wide boilerplate count:
#: navigation, widgets and footers are short lines; article paragraphs are not.
SHORT_LINE_TOKENS = 12

_QUOTES = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u00ab": '"', "\u00bb": '"', "\u2013": "-", "\u2014": "-", "\u2212": "-",
    }
)  # fmt: skip

# Character classes: 0 separates tokens, 1 is part of a word, 2 is a token on its own.
_SEP, _WORD, _SOLO = 0, 1, 2
_UNKNOWN = 255
_SOLO_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


def _classify(cp: int) -> int:
    """The token class of one code point (letters, marks and digits make words)."""
    for lo, hi in _SOLO_RANGES:
        if lo <= cp <= hi:
            return _SOLO
    if 0xD800 <= cp <= 0xDFFF:
        return _SEP
    return _WORD if unicodedata.category(chr(cp))[0] in "LMN" else _SEP


@lru_cache(maxsize=1)
def _class_table() -> NDArray[np.uint8]:
    """A lazily filled class table over all code points (ASCII filled up front)."""
    table = np.full(0x110000, _UNKNOWN, dtype=np.uint8)
    for cp in range(128):
        table[cp] = _classify(cp)
    return table


def _classes(cps: NDArray[np.uint32]) -> NDArray[np.uint8]:
    """Token classes of an array of code points, filling the table where needed."""
    table = _class_table()
    cls = table[cps]
    unknown = cls == _UNKNOWN
    if unknown.any():
        for cp in set(cps[unknown].tolist()):  # a set, not np.unique: that imports numpy.ma
            table[cp] = _classify(cp)
        cls = table[cps]
    return cls


def normalize(text: str) -> str:
    """Mojibake repaired, NFKC, case folding, plain quotes and dashes: what copies agree on."""
    return _fold(text).translate(_QUOTES)


#: Two or three characters that UTF-8 bytes become when decoded as cp1252 or Latin-1
#: ("â€™" for ’, "Ã©" for é, "ä¸­" for 中): a cheap test before asking ftfy to repair.
MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)


#: The first character of every MOJIBAKE pair: a search 15x cheaper that rules out most text.
_MOJIBAKE_LEAD = re.compile("[\u00c2-\u00f4]")


def _fold(text: str) -> str:
    """Mojibake repair, NFKC and case folding (the part of `normalize` done on strings)."""
    if text.isascii():
        return text.lower()  # the same as NFKC + casefold for ASCII, and faster
    if _MOJIBAKE_LEAD.search(text) and MOJIBAKE.search(text):
        # A copy saved after a wrong decoding compares as the text it was (ftfy undoes the
        # cp1252/Latin-1 misreading); the cleanest-copy stage still counts the mojibake.
        import ftfy  # here: loading it takes 60 ms, and most text has no mojibake

        text = ftfy.fix_encoding(text)
    return unicodedata.normalize("NFKC", text).casefold()


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
    to ``_tokens_by_char``, the plain definition, as a test checks)."""
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


def _tokens_by_char(text: str) -> list[str]:
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


@dataclass(frozen=True, slots=True)
class Shingles:
    """Hashed shingle sets of a batch, in CSR layout.

    ``hashes[offsets[i]:offsets[i+1]]`` is document i's set: sorted, unique uint64.
    ``words[i]`` counts its tokens. ``line_hashes``/``line_docs`` hold one entry per
    distinct short line of each document (for the corpus-wide boilerplate count).
    """

    offsets: NDArray[np.int64]
    hashes: NDArray[np.uint64]
    words: NDArray[np.int64]
    line_hashes: NDArray[np.uint64]
    line_docs: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def get(self, i: int) -> NDArray[np.uint64]:
        """Document i's sorted, unique shingle hashes."""
        return self.hashes[self.offsets[i] : self.offsets[i + 1]]

    def sizes(self) -> NDArray[np.int64]:
        """Number of distinct shingles per document."""
        return np.diff(self.offsets)


def _fmix64_array(h: NDArray[np.uint64]) -> NDArray[np.uint64]:
    h = h ^ (h >> U64(33))
    h = h * U64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> U64(33))
    h = h * U64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> U64(33))


_CHUNK = 1 << 20  # code points hashed at once; bounds memory on very large documents


@lru_cache(maxsize=1)
def _powers(length: int = _CHUNK) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """_BASE**j and _BASE**-j mod 2**64 for every position of a chunk (cached for _CHUNK)."""
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
        end = min(n, begin + _CHUNK)
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
    powers, inv_powers = _powers() if n <= _CHUNK else _powers.__wrapped__(n)
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
    from . import kernel  # the compiled path when built; imported here as it imports this module

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
