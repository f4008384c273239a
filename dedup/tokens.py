"""Token and hash definitions: the leaf that shingle.py and the C kernel's switch both read.

What a token is (character classes, the fold that copies agree on) and the constants of the
shingle hash. ``kernel.py`` checks the compiled constants against these, and ``shingle.py``
builds its NumPy path and its plain-Python reference on them. Changing any constant
changes every signature: they are part of the cache key and of the datasketch contract.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

U64 = np.uint64
MASK64 = (1 << 64) - 1

# Constants of the hash construction. Changing any of them changes every signature:
# they are part of the cache key and of the datasketch-compatibility contract.
BASE = 0x100000001B3  # polynomial base over code points (FNV-64 prime, odd so invertible mod 2**64)
BASE_INV = pow(BASE, -1, 1 << 64)
GOLDEN = 0x9E3779B97F4A7C15
# Odd multipliers, one per position in a shingle (splitmix64 outputs of 1..64, forced odd).
POSITION = tuple(
    (((z ^ (z >> 31)) | 1) & MASK64)
    for z in (
        ((y ^ (y >> 27)) * 0x94D049BB133111EB) & MASK64
        for y in (
            ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64 for x in ((i * GOLDEN) & MASK64 for i in range(1, 65))
        )
    )
)
MAX_SHINGLE_SIZE = len(POSITION)
#: Lines with at most this many tokens are hashed for the corpus-wide boilerplate count:
#: navigation, widgets and footers are short lines; article paragraphs are not.
SHORT_LINE_TOKENS = 12

QUOTES = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u00ab": '"', "\u00bb": '"', "\u2013": "-", "\u2014": "-", "\u2212": "-",
    }
)  # fmt: skip

# Character classes: 0 separates tokens, 1 is part of a word, 2 is a token on its own.
SEP, WORD, SOLO = 0, 1, 2
UNKNOWN = 255
SOLO_RANGES = (
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


def classify(cp: int) -> int:
    """The token class of one code point (letters, marks and digits make words)."""
    for lo, hi in SOLO_RANGES:
        if lo <= cp <= hi:
            return SOLO
    if 0xD800 <= cp <= 0xDFFF:
        return SEP
    return WORD if unicodedata.category(chr(cp))[0] in "LMN" else SEP


@lru_cache(maxsize=1)
def class_table() -> NDArray[np.uint8]:
    """A lazily filled class table over all code points (ASCII filled up front)."""
    table = np.full(0x110000, UNKNOWN, dtype=np.uint8)
    for cp in range(128):
        table[cp] = classify(cp)
    return table


def classes(cps: NDArray[np.uint32]) -> NDArray[np.uint8]:
    """Token classes of an array of code points, filling the table where needed."""
    table = class_table()
    cls = table[cps]
    unknown = cls == UNKNOWN
    if unknown.any():
        for cp in set(cps[unknown].tolist()):  # a set, not np.unique: that imports numpy.ma
            table[cp] = classify(cp)
        cls = table[cps]
    return cls



#: Two or three characters that UTF-8 bytes become when decoded as cp1252 or Latin-1
#: ("â€™" for ’, "Ã©" for é, "ä¸­" for 中): a cheap test before asking ftfy to repair.
MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)


#: The first character of every MOJIBAKE pair: a search 15x cheaper that rules out most text.
_MOJIBAKE_LEAD = re.compile("[\u00c2-\u00f4]")


def fold(text: str) -> str:
    """Mojibake repair, NFKC and case folding (the part of `normalize` done on strings)."""
    if text.isascii():
        return text.lower()  # the same as NFKC + casefold for ASCII, and faster
    if _MOJIBAKE_LEAD.search(text) and MOJIBAKE.search(text):
        # A copy saved after a wrong decoding compares as the text it was (ftfy undoes the
        # cp1252/Latin-1 misreading); the cleanest-copy stage still counts the mojibake.
        import ftfy  # here: loading it takes 60 ms, and most text has no mojibake

        text = ftfy.fix_encoding(text)
    return unicodedata.normalize("NFKC", text).casefold()
