"""Bytes to text: binary sniffing, decoding that never fails, one line end.

Decoding never fails (trafilatura's way): a BOM, then BOM-less UTF-16 spotted by its NUL
pattern, then strict UTF-8, then an HTML page's declared charset, then UTF-8 with a few
broken bytes, then charset-normalizer's guess (cp1252 preferred for Western-looking bytes,
which it mislabels), then cp1252 with replacement characters. ``Document.encoding`` is
the Python codec name used. Line ends (CRLF, CR, NEL, U+2028, U+2029) become ``\\n`` in
every kind.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import Counter

__all__ = [
    "LINE_SEPARATORS",
    "SNIFF_BYTES",
    "binary_kind",
    "decode_bytes",
    "dedup_output",
    "normalize_newlines",
    "unicode_codec",
]

#: Bytes looked at for binary signatures and NULs: what git and ripgrep look at (8 KiB).
SNIFF_BYTES = 8192
#: Bytes given to charset-normalizer: it samples anyway, this bounds its cost on huge files.
_GUESS_BYTES = 1 << 20
#: Bytes searched for ``<meta charset>``: the HTML standard's prescan reads 1024; pages
#: with long heads put it later, so look a little further.
_PRESCAN_BYTES = 4096

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"PK\x05\x06", "ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"\xfd7zXZ\x00", "xz data"),
    (b"\x28\xb5\x2f\xfd", "zstd data"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"\x7fELF", "ELF executable"),
)

# Longest first: the UTF-32 LE BOM starts with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Charset labels as browsers read them (WHATWG Encoding): Latin-1 and ASCII labels mean
# windows-1252, GB2312 means GBK (decoded with its superset gb18030), Shift_JIS means cp932.
_CHARSET_LABELS = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "windows-1252": "cp1252",
    "iso-8859-9": "cp1254",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "tis-620": "cp874",
}
# Codecs a page may not choose: not charsets (escape codecs), or ones a declaration in the
# page's own bytes cannot mean (UTF-16/32 have no ASCII bytes to declare them with).
_NOT_CHARSETS = frozenset(
    {"unicode_escape", "raw_unicode_escape", "idna", "punycode", "undefined", "utf-7", "mbcs"}
    | {"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}
)
# Decodings of single-byte Latin text that mean the same as cp1252 for real text.
_CP1252_LIKE = frozenset({"cp1252", "iso8859-1", "iso8859-15"})
# Character categories that real text rarely puts next to letters: what a wrong single-byte
# code page produces (cp1252 reads Polish "ą ł" as "¹ ³").
_ODD_CATEGORIES = frozenset({"Cc", "Cf", "Cn", "Co", "Cs", "Lm", "Sk", "Sm", "So", "No"})

_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""<\?xml\b[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HIGH_RUN = re.compile(rb"[\x80-\xff]{3,}")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# How dedup's exports start (see export.py and dedup_output).
_EXPORT_JSON = re.compile(rb'[ \t\r\n]*\{[ \t\r\n]*"schema"[ \t\r\n]*:[ \t\r\n]*"dedup\.scan/')
_EXPORT_JSONL = re.compile(rb'\{"cluster": [0-9]+, "id": ')
_EXPORT_CSV_COLUMNS = frozenset({b"path", b"cleanest", b"jaccard", b"containment"})
_DECISIONS_JSON = re.compile(rb'[ \t\r\n]*\{[ \t\r\n]*"schema"[ \t\r\n]*:[ \t\r\n]*"dedup\.decisions/')
_DECISIONS_JSONL = re.compile(rb'\{"id": .*"decision": .*"absolute_escaped": ')
_DECISIONS_CSV = [b"id", b"path", b"record", b"record_id", b"kind", b"cluster", b"decision"]
# The truth file ``dedup corpus`` writes: its line's keys, in its order (corpus/build.py).
_CORPUS_TRUTH = re.compile(rb'\{"cluster": "[^"]*", "ids": \[.*\], "cleanest": \[.*\], "variants": \{.*\}, "role": "[a-z]+", "lang": ')
_HTML_REPORT = re.compile(rb'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n<meta name="generator" content="dedup')
LINE_SEPARATORS = ("\x85", "\u2028", "\u2029")  # NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR


def binary_kind(head: bytes) -> str | None:
    """Why the first bytes of a file say it is not text, or None if they may be text.

    A known signature names the type; otherwise a NUL byte means binary, unless the bytes
    are UTF-16 or UTF-32 (a BOM, or the every-other-byte NULs of BOM-less UTF-16).

    Example:
        >>> binary_kind(b"\\x89PNG\\r\\n\\x1a\\n...")
        'PNG image'
    """
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if b"\x00" in head and unicode_codec(head) is None:
        return "binary data (NUL bytes)"
    return None


def dedup_output(head: bytes) -> str | None:
    r"""Which of dedup's own exports a file is, from its first bytes, or None.

    A folder scanned again often holds the last scan's export: read as a document it would
    be compared with the files it lists. Matched on what ``export`` writes first: the JSON
    export's ``"schema": "dedup.scan/``, the JSON Lines export's first member line, the CSV
    export's header row (its leading columns, so a column added at the end still matches);
    the decision table's schema, first row or header; the HTML report's generator tag; the
    truth file ``dedup corpus`` writes beside its documents (its first line's keys).
    Keep and drop lists are plain lists of names: nothing tells them from a user's text.

    Example:
        >>> dedup_output(b"cluster,id,path,record,cleanest,jaccard,containment\r\n")
        'a dedup CSV export'
    """
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    if _EXPORT_JSON.match(head):
        return "a dedup JSON export (schema dedup.scan)"
    first = head.split(b"\n", 1)[0]
    if _EXPORT_JSONL.match(first) and b'"cleanest": ' in first:
        return "a dedup JSON Lines export"
    columns = first.rstrip(b"\r").split(b",")
    if columns[:2] == [b"cluster", b"id"] and set(columns) >= _EXPORT_CSV_COLUMNS:
        return "a dedup CSV export"
    if _DECISIONS_JSON.match(head):
        return "a dedup decision table (schema dedup.decisions)"
    if _DECISIONS_JSONL.match(first) or columns[: len(_DECISIONS_CSV)] == _DECISIONS_CSV:
        return "a dedup decision table"
    if _HTML_REPORT.match(head):
        return "a dedup HTML report"
    if _CORPUS_TRUTH.match(first):
        return "the truth file of dedup corpus (give it to dedup eval --truth)"
    return None


def decode_bytes(data: bytes, *, html: bool = False) -> tuple[str, str]:
    """Decode bytes to text without ever failing; return the text and the codec used.

    Order: BOM; BOM-less UTF-16; strict UTF-8; for HTML the declared ``<meta charset>``
    (or XML ``encoding``); UTF-8 with U+FFFD if the bytes are UTF-8 but for a few stray
    bytes; charset-normalizer's guess, checked against a cp1252 reading (see ``_guess``);
    cp1252 with U+FFFD for its five undefined bytes.

    Example:
        >>> decode_bytes("caf\\u00e9 \\u20ac5".encode("cp1252"))
        ('café €5', 'cp1252')
    """
    codec = unicode_codec(data[:SNIFF_BYTES])
    if codec is not None:
        return data.decode(codec, errors="replace"), codec
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if html:
        declared = _declared_charset(data[:_PRESCAN_BYTES])
        if declared is not None:
            text = _try_decode(data, declared)
            if text is not None:
                return text, declared
    if _mostly_utf8(_sample(data)):
        return data.decode("utf-8", errors="replace"), "utf-8"
    guessed = _guess(data)
    if guessed is not None:
        return guessed
    return data.decode("cp1252", errors="replace"), "cp1252"


def unicode_codec(head: bytes) -> str | None:
    """The UTF-8/16/32 codec a BOM or the NUL pattern of BOM-less UTF-16 announces."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec
    pairs = len(head) // 2
    if pairs < 2 or b"\x00" not in head:
        return None
    even_nuls = head[0 : pairs * 2 : 2].count(0)
    odd_nuls = head[1 : pairs * 2 : 2].count(0)
    # ASCII-range UTF-16 has a NUL in every other byte; a few zero bytes elsewhere come from
    # characters such as U+0100 or U+4E00.
    if odd_nuls >= 0.4 * pairs and even_nuls <= 0.05 * pairs:
        return "utf-16-le"
    if even_nuls >= 0.4 * pairs and odd_nuls <= 0.05 * pairs:
        return "utf-16-be"
    return None


def _declared_charset(head: bytes) -> str | None:
    """The codec a page names in ``<meta charset>``, http-equiv or ``<?xml encoding>``."""
    found = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    if found is None:
        return None
    label = found.group(1).decode("ascii").strip().lower()
    name = _codec_name(_CHARSET_LABELS.get(label, label))
    return None if name is None or name in _NOT_CHARSETS else name


def _codec_name(label: str) -> str | None:
    """Python's own name for a codec label ('latin_1' -> 'iso8859-1'), None if unknown."""
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _try_decode(data: bytes, codec: str) -> str | None:
    """The strict decoding, or None if the bytes are not in this codec."""
    try:
        return data.decode(codec)
    except (UnicodeError, LookupError):
        return None


def _guess(data: bytes) -> tuple[str, str] | None:
    """charset-normalizer's guess, unless cp1252 reads the bytes at least as plausibly.

    charset-normalizer mislabels short Latin text: measured, it read a cp1252 sentence with
    curly quotes and a euro sign as cp852, "Café crème" as cp1250 and "naïve" as cp1006.
    So bytes that look Western (valid cp1252, high bytes mostly alone between ASCII, unlike
    CJK or Cyrillic where they come in runs) are read as cp1252 unless the guess gives fewer
    odd characters (Polish in cp1250: cp1252 shows "¹" and "³" for "ą" and "ł").
    """
    sample = _sample(data)
    import charset_normalizer  # here: most corpora are UTF-8, and a rescan reads nothing

    best = charset_normalizer.from_bytes(sample).best()
    guess: tuple[str, str] | None = None
    if best is not None:
        name = _codec_name(best.encoding)
        text = None if name is None or name in _NOT_CHARSETS else _try_decode(data, name)
        if name is not None and text is not None:
            guess = (text, name)
    western = _try_decode(data, "cp1252") if _looks_western(sample) else None
    if western is None:
        return guess
    if guess is None or guess[1] in _CP1252_LIKE:
        return western, "cp1252"
    window = slice(0, _GUESS_BYTES)
    if _odd_characters(guess[0][window]) < _odd_characters(western[window]):
        return guess
    return western, "cp1252"


def _sample(data: bytes) -> bytes:
    """At most ``_GUESS_BYTES``, cut after a byte below 0x40, which no multi-byte code page
    uses inside a character (GBK, Shift-JIS, Big5 and EUC trail bytes are 0x40 or more)."""
    if len(data) <= _GUESS_BYTES:
        return data
    cut = max(data.rfind(bytes([b]), _GUESS_BYTES - 4096, _GUESS_BYTES) for b in b"\n ,.")
    return data[: cut + 1] if cut > 0 else data[:_GUESS_BYTES]


def _mostly_utf8(sample: bytes) -> bool:
    """UTF-8 with a few broken bytes (a truncated or spliced scrape), not another charset.

    Measured on real sentences, other charsets read as UTF-8 give two to nine broken
    sequences per valid one (GBK 119:30, Shift-JIS 69:21, EUC-KR 66:10, cp1251 90:0), so
    twice as many valid characters as broken ones is UTF-8.
    """
    text = sample.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = len(_NON_ASCII.findall(text)) - bad
    return good >= 2 * bad


def _looks_western(data: bytes) -> bool:
    """High bytes stand alone or in pairs among ASCII (accented letters, quotes, "üß"),
    not in the long runs of CJK, Cyrillic or Greek text."""
    high = len(data) - len(data.translate(None, bytes(range(0x80, 0x100))))
    if high == 0:
        return False
    in_runs = sum(len(run) for run in _HIGH_RUN.findall(data))
    return in_runs <= 0.5 * high


def _odd_characters(text: str) -> int:
    """How many non-ASCII characters are of a kind real prose rarely holds."""
    counts = Counter(_NON_ASCII.findall(text))
    return sum(n for ch, n in counts.items() if unicodedata.category(ch) in _ODD_CATEGORIES)


def normalize_newlines(text: str) -> str:
    """CRLF, CR, NEL, U+2028 and U+2029 to ``\\n``: one line end for every later stage.

    Example:
        >>> normalize_newlines("a\\r\\nb\\rc\\x85d")
        'a\\nb\\nc\\nd'
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    for separator in LINE_SEPARATORS:
        if separator in text:
            text = text.replace(separator, "\n")
    return text
