"""Stage 2: ``SourceFile`` -> ``Document | Skipped``: bytes to visible text.

In:  one file found by the walk.
Out: one ``Document`` per file, or one per record of a JSON Lines / JSON file, or a
     ``Skipped`` naming what a user can fix (binary, empty, bad record, unreadable).

Kinds, by file ending: ``.html .htm .xhtml`` are HTML; ``.md .markdown`` Markdown;
``.jsonl .ndjson`` JSON Lines; ``.json`` a JSON array of objects (or one object) with
``config.text_field``. Anything else is sniffed: binary is skipped, a page that starts
with ``<!doctype html`` or ``<html`` is HTML, the rest is plain text.

Decoding never fails (trafilatura's way): a BOM, then BOM-less UTF-16 spotted by its NUL
pattern, then strict UTF-8, then an HTML page's declared charset, then UTF-8 with a few
broken bytes, then charset-normalizer's guess (cp1252 preferred for Western-looking bytes,
which it mislabels), then cp1252 with replacement characters. ``Document.encoding`` is
the Python codec name used. Line ends (CRLF, CR, NEL, U+2028, U+2029) become ``\\n`` in
every kind.

HTML keeps all visible text, page chrome included (navigation, footers, comment sections):
the cleanest-copy stage needs the chrome to score a copy, so nothing is cut as
boilerplate here. Block elements become line breaks, so paragraphs stay lines.

Re-reading (``load_text``) uses ``Document.locator``:

* ``length >= 0``: a JSON Lines record, the bytes ``[offset, offset + length)`` of its line
  (newline included), or an item of a JSON array in UTF-8, the bytes of the item;
* ``length == -1``: the whole file (for a ``.json`` file: the file holds one object);
* ``length == JSON_ARRAY_ITEM`` (-2): item ``offset`` (0-based) of the JSON array in a file
  in another encoding (the whole file is parsed again).

Records (JSON Lines lines, JSON array items, a lone JSON object) all have kind "jsonl".
``Document.record`` is the 1-based line or item number, ``size`` the line's bytes (an
array item: its compact UTF-8 JSON), ``record_id`` the ``id_field`` value (numbers as
written) or None, and ``doc_id`` that id qualified by the file, "rel:id", or "rel:number"
without one (a lone object is a whole file: its ``doc_id`` is "rel"). A record id never
names a file, and records that share an id are all documents; the pipeline, which sees
every file, makes the rare qualified id that is taken unique.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from .config import ScanConfig
from .errors import SkipReason, os_detail
from .files import NotRegularFileError, open_regular
from .records import DocKind, Document, Locator, Skipped, SourceFile, document_id

__all__ = [
    "HTML_WORK_LIMIT",
    "JSON_ARRAY_ITEM",
    "HtmlTooComplex",
    "binary_kind",
    "decode_bytes",
    "dedup_output",
    "extract",
    "html_complexity",
    "html_to_text",
    "load_text",
    "normalize_newlines",
]

#: ``Locator.length`` of a JSON array item; its ``offset`` is then the item's 0-based index.
JSON_ARRAY_ITEM = -2

_HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
_MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
_JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})

#: Bytes looked at for binary signatures and NULs: what git and ripgrep look at (8 KiB).
SNIFF_BYTES = 8192
#: Bytes given to charset-normalizer: it samples anyway, this bounds its cost on huge files.
_GUESS_BYTES = 1 << 20
#: Bytes searched for ``<meta charset>``: the HTML standard's prescan reads 1024; pages
#: with long heads put it later, so look a little further.
_PRESCAN_BYTES = 4096
#: Longest detail kept in a Skipped record (a one-line message, not a dump).
_DETAIL_CHARS = 200

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
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
# How dedup's exports start (see export.py and dedup_output).
_EXPORT_JSON = re.compile(rb'[ \t\r\n]*\{[ \t\r\n]*"schema"[ \t\r\n]*:[ \t\r\n]*"dedup\.scan/')
_EXPORT_JSONL = re.compile(rb'\{"cluster": [0-9]+, "id": ')
_EXPORT_CSV_COLUMNS = frozenset({b"path", b"cleanest", b"jaccard", b"containment"})
_FRONT_MATTER = re.compile(r"---[ \t]*\n[A-Za-z_][\w -]*:.*?\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)

# --- HTML -------------------------------------------------------------------------------
# Subtrees that are never shown as text. <head> goes whole (title included): the title is
# metadata, and copies of one article often differ only there.
_DROP_TAGS = [
    "head", "script", "style", "noscript", "template", "svg", "iframe", "object", "embed",
    "canvas", "audio", "video",
]  # fmt: skip
# Elements a browser lays out as blocks (or table cells): each starts and ends a line.
_BLOCK_TAGS = (
    "address", "article", "aside", "blockquote", "caption", "center", "dd", "details", "dialog",
    "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
    "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "legend", "li", "listing", "main", "menu",
    "nav", "ol", "optgroup", "option", "p", "pre", "section", "summary", "table", "tbody", "td",
    "textarea", "tfoot", "th", "thead", "tr", "ul", "xmp",
)  # fmt: skip
_BLOCK_SELECTOR = ",".join(_BLOCK_TAGS)
# Line marks put into the tree as text: the HTML parser drops NUL from text, so a NUL in the
# extracted text can only be ours. A soft break ends a line if it has text (blocks); a hard
# break always does (<br>, newlines in <pre>), so <br><br> leaves a blank line.
_SOFT = "\x00s"
_HARD = "\x00h"
_MARK = re.compile("\x00([sh])")
_LINE_SEPARATORS = ("\x85", "\u2028", "\u2029")  # NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR


class _BadRecord(ValueError):
    """A record (or a whole JSON file) that cannot become a document; the message says why."""

    def __init__(self, detail: str, reason: SkipReason = SkipReason.BAD_RECORD) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reason = reason


# --- the stage --------------------------------------------------------------------------


def extract(source: SourceFile, config: ScanConfig) -> Iterator[Document | Skipped]:
    """Turn one file into documents, or say why it cannot be read.

    Never raises for a bad file: a FIFO, socket or device where the file was becomes
    ``NOT_A_FILE`` (it is never read: that could block), other OS errors ``UNREADABLE``,
    HTML too complex to parse in bounded time ``TOO_COMPLEX``, and anything unexpected
    ``EXTRACT_FAILED`` (this is the project's one broad ``except``, at the file boundary).
    A JSON Lines file that fails midway keeps the documents already yielded.

    Args:
        source: a file from ``read.walk``.
        config: ``text_field``, ``id_field`` and ``max_bytes`` are used.

    Returns:
        An iterator of ``Document`` and ``Skipped`` records, in record order.

    Example:
        >>> next(extract(SourceFile("a.txt", "a.txt", 5), ScanConfig())).text  # doctest: +SKIP
        'hello'
    """
    yield from _guarded(source.rel, _extract(source, config))


def _guarded(rel: str, items: Iterator[Document | Skipped]) -> Iterator[Document | Skipped]:
    """The per-file boundary: whatever reading a file raises becomes its one-line skip."""
    try:
        yield from items
    except NotRegularFileError as exc:  # a FIFO, socket or device put where a file was
        yield Skipped(rel, SkipReason.NOT_A_FILE, f"{exc.kind}, not a regular file")
    except OSError as exc:
        yield Skipped(rel, SkipReason.UNREADABLE, _one_line(os_detail(exc)))
    except HtmlTooComplex as exc:
        yield Skipped(rel, SkipReason.TOO_COMPLEX, exc.detail)
    except Exception as exc:  # one bad file must not stop a run
        yield Skipped(rel, SkipReason.EXTRACT_FAILED, _one_line(f"{type(exc).__name__}: {exc}"))


def load_text(locator: Locator, kind: DocKind, config: ScanConfig) -> str:
    """Read a document's text again, exactly as ``extract`` gave it.

    The cleanest-copy stage calls this for cluster members, so the corpus text need not
    stay in memory. See the module docstring for how ``locator`` addresses records.

    Raises:
        OSError: the file cannot be read any more.
        ValueError: the file no longer holds a usable document at ``locator``.
    """
    path = locator.path
    if kind == "jsonl" and locator.length >= 0:
        with open_regular(path) as (f, _):
            f.seek(locator.offset)
            raw = f.read(locator.length)
        value, _encoding = _parse_line(raw, first=locator.offset == 0)
        return _record_text(value, config)
    with open_regular(path) as (f, _):
        data = f.read()
    if kind == "jsonl":
        value, _encoding = _parse_json_file(data)
        if locator.length == JSON_ARRAY_ITEM:
            if not isinstance(value, list) or not 0 <= locator.offset < len(value):
                raise ValueError(f"no JSON array item {locator.offset} in {path}")
            value = value[locator.offset]
        return _record_text(value, config)
    return _file_text(data, kind)[0]


def _extract(source: SourceFile, config: ScanConfig) -> Iterator[Document | Skipped]:
    """The work of ``extract``, free to raise."""
    suffix = _suffix(source.path)
    if suffix in _JSONL_SUFFIXES:
        yield from _jsonl_documents(source, config)
        return
    with open_regular(source.path) as (f, st):
        size = st.st_size
        if size > config.max_bytes:
            yield _too_large(source.rel, size, config)
            return
        data = f.read()
    why = binary_kind(data[:SNIFF_BYTES])
    if why is not None:
        yield Skipped(source.rel, SkipReason.BINARY, why)
        return
    why = dedup_output(data[:SNIFF_BYTES])
    if why is not None:
        yield Skipped(source.rel, SkipReason.DEDUP_OUTPUT, why)
        return
    if suffix == ".json":
        yield from _json_documents(source, data, config)
        return
    kind: DocKind
    if suffix in _HTML_SUFFIXES:
        kind = "html"
    elif suffix in _MARKDOWN_SUFFIXES:
        kind = "markdown"
    else:
        kind = "text"
    text, encoding = _file_text(data, kind)
    if kind == "text" and _looks_like_html(text):
        kind = "html"
        text, encoding = _file_text(data, kind)
    if not text or text.isspace():
        yield Skipped(source.rel, SkipReason.EMPTY, "no text")
        return
    yield Document(source.rel, source.rel, text, encoding, kind, len(data), Locator(source.path))


def _file_text(data: bytes, kind: DocKind) -> tuple[str, str]:
    """A whole file's text and encoding for a kind: shared by extract and load_text."""
    text, encoding = decode_bytes(data, html=kind == "html")
    if kind == "html":
        return html_to_text(text), encoding
    text = normalize_newlines(text)
    if kind == "markdown":
        text = _strip_front_matter(text)
    return text, encoding


def _looks_like_html(text: str) -> bool:
    """A page saved with a text ending: it starts with a doctype or an <html> tag."""
    head = text[:256].lstrip(" \t\r\n\f\ufeff")[:14].lower()
    return head.startswith(("<!doctype html", "<html"))


def _strip_front_matter(text: str) -> str:
    """Drop a ``---`` YAML block at the top: metadata, not the document's prose."""
    if not text.startswith("---"):
        return text
    found = _FRONT_MATTER.match(text)
    return text[found.end() :] if found else text


# --- binary sniffing and decoding -------------------------------------------------------


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
    if b"\x00" in head and _unicode_codec(head) is None:
        return "binary data (NUL bytes)"
    return None


def dedup_output(head: bytes) -> str | None:
    """Which of dedup's own exports a file is, from its first bytes, or None.

    A folder scanned again often holds the last scan's export: read as a document it would
    be compared with the files it lists. Matched on what ``export`` writes first: the JSON
    export's ``"schema": "dedup.scan/``, the JSON Lines export's first member line, the CSV
    export's header row (its leading columns, so a column added at the end still matches).
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
    unicode_codec = _unicode_codec(data[:SNIFF_BYTES])
    if unicode_codec is not None:
        return data.decode(unicode_codec, errors="replace"), unicode_codec
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


def _unicode_codec(head: bytes) -> str | None:
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
    for separator in _LINE_SEPARATORS:
        if separator in text:
            text = text.replace(separator, "\n")
    return text


# --- HTML -------------------------------------------------------------------------------


class HtmlTooComplex(ValueError):
    """A page whose structure would cost the HTML parser time out of all proportion to its
    size (see ``html_complexity``); ``detail`` says what, in one line."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


#: Parser steps a page may cost beyond a linear share per tag, as ``html_complexity``
#: estimates them. Lexbor walks the stack of open elements for many start tags, a tag's
#: attributes for each new one and a <select>'s options for each new option, so crafted
#: pages cost it quadratic time (100,000 nested divs: 26 s). A step costs it 2-20 ns as
#: measured on crafted pages: this bounds the quadratic part to 0.1-1 s a page.
HTML_WORK_LIMIT = 50_000_000
#: Steps allowed per start tag on top: an ordinary page nests 10-30 deep.
_WORK_PER_TAG = 64
#: Pages with at most this many "<" and no long tag need no scan: each start tag adds at
#: most one step per tag before it for depth and one for options, tags^2 <= HTML_WORK_LIMIT.
_FEW_TAGS = 7000
#: Attributes below which a tag's quadratic cost is too small to count (64^2 steps).
_FEW_ATTRIBUTES = 64
#: How far down the stack an end tag looks for its element; past that it is taken as a
#: stray (the estimate only grows: it never misses depth, a page would need rare misnesting
#: to be over-counted).
_CLOSE_REACH = 64

# The tokens of a page as the HTML tokenizer reads them, in one pass: a comment; a raw-text
# element's start tag and its text (tags in a <script> are not tags); any other start or end
# tag with its attributes (a quote opens a value only after "="). Atomic groups and
# possessive repeats keep it linear on any input.
_ATTRS = r"""(?>[^>="']++|=[\t\n\f\r ]*+"[^"]*+"|=[\t\n\f\r ]*+'[^']*+'|[="'])*+"""
_RAW_TEXT = "script|style|textarea|title|xmp|iframe|noembed|noframes"
_HTML_TOKENS = re.compile(
    rf"<!--.*?(?:-->|\Z)"
    rf"|<((?i:{_RAW_TEXT}))(?=[\t\n\f\r />])({_ATTRS})>.*?(?=</(?i:{_RAW_TEXT})|\Z)"
    rf"|<(/?)([A-Za-z][^\t\n\f\r />]*+)({_ATTRS})",
    re.DOTALL,
)
# A start tag with 64 separated names or values: one that may hold 64 attributes.
_LONG_TAG = re.compile(
    r"""<[A-Za-z][^\t\n\f\r />]*+"""
    r"""(?>[\t\n\f\r /]++[^\t\n\f\r />="']*+|=[\t\n\f\r ]*+"[^"]*+"|=[\t\n\f\r ]*+'[^']*+'|[="']|[^\t\n\f\r />="']++)"""
    rf"{{{_FEW_ATTRIBUTES}}}"
)
_ATTR_VALUE = re.compile(r"""=[\t\n\f\r ]*(?:"[^"]*"|'[^']*'|[^\t\n\f\r >]*)""")
_ATTR_NAME = re.compile(r"[^\t\n\f\r /]+")
# Elements that never hold others (void), or that the next of their kind closes: they do
# not deepen the stack of open elements.
_FLAT_TAGS = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
    "wbr", "keygen", "frame", "basefont", "bgsound", "image", "menuitem", "p", "li", "dd", "dt", "option",
    "optgroup", "rb", "rp", "rt", "rtc", "tr", "td", "th", "tbody", "thead", "tfoot", "colgroup", "caption",
    "html", "head", "body",
})  # fmt: skip
# Elements an end tag does not close past ("has an element in scope" stops at them).
_SCOPE_TAGS = frozenset({
    "applet", "caption", "html", "table", "td", "th", "marquee", "object", "template", "mi", "mo", "mn", "ms",
    "mtext", "annotation-xml", "foreignobject", "desc",
})  # fmt: skip


def html_complexity(html: str) -> str | None:
    """Why parsing ``html`` would take far longer than its size says, or None.

    One linear pass over the tags (none for a page with few tags and no long tag)
    estimates the parser's steps: for each start tag, the depth of open elements; for a
    tag with many attributes, their number squared; for each option of a <select>, the
    options before it. Over ``HTML_WORK_LIMIT`` plus 64 steps a tag, the page is too
    complex: the answer names its worst feature. The depth is an estimate of the tree
    builder's (end tags close as far as the next scope boundary; the adoption agency's
    moves are not followed).

    Example:
        >>> html_complexity("<div>" * 100_000)
        'HTML too complex to parse in bounded time: elements nested 100,000 deep'
    """
    if html.count("<") <= _FEW_TAGS and _LONG_TAG.search(html) is None:
        return None
    stack: list[str] = []
    tags = depth_work = attr_work = option_work = 0
    deepest = most_attributes = options = most_options = 0
    for raw, raw_attrs, close, name, attrs in _HTML_TOKENS.findall(html):
        if raw:  # a raw-text element, its text skipped; its end tag comes next
            name, attrs = raw, raw_attrs
        elif not name:
            continue  # a comment
        name = name.lower()
        if close:
            if stack and stack[-1] == name:
                stack.pop()
            else:
                _close(stack, name)
            if name == "select":
                options = 0
            continue
        tags += 1
        depth_work += len(stack)
        if len(attrs) > 2 * _FEW_ATTRIBUTES:
            count = len(_ATTR_NAME.findall(_ATTR_VALUE.sub(" ", attrs)))
            if count > _FEW_ATTRIBUTES:
                attr_work += count * count
                most_attributes = max(most_attributes, count)
        if name == "option" or name == "optgroup":
            option_work += options
            options += 1
            most_options = max(most_options, options)
        elif name == "select":
            options = 0
        if name in _FLAT_TAGS or (attrs.endswith("/") and _self_closing(stack, name)):
            continue
        stack.append(name)
        if len(stack) > deepest:
            deepest = len(stack)
    if depth_work + attr_work + option_work <= HTML_WORK_LIMIT + _WORK_PER_TAG * tags:
        return None
    worst = max(
        (depth_work, f"elements nested {deepest:,} deep"),
        (attr_work, f"a tag with {most_attributes:,} attributes"),
        (option_work, f"a <select> with {most_options:,} options"),
    )
    return f"HTML too complex to parse in bounded time: {worst[1]}"


def _close(stack: list[str], name: str) -> None:
    """An end tag that is not the current element's: close down to its element, unless a
    scope boundary or ``_CLOSE_REACH`` comes first (then, as the parser does, ignore it)."""
    for i in range(len(stack) - 1, max(len(stack) - _CLOSE_REACH, 0) - 1, -1):
        if stack[i] == name:
            del stack[i:]
            return
        if stack[i] in _SCOPE_TAGS:
            return


def _self_closing(stack: list[str], name: str) -> bool:
    """Whether "/>" ends this element: only in SVG and MathML (in HTML, <div/> opens a div)."""
    near = stack[-_CLOSE_REACH:]  # an SVG's elements nest a few deep within it
    return name == "svg" or name == "math" or "svg" in near or "math" in near


def html_to_text(html: str) -> str:
    """The visible text of a page, one block per line.

    Lexbor parses (entities decoded, broken markup repaired as browsers do); hidden
    subtrees are dropped; block elements end lines, ``<br>`` and newlines in ``<pre>``
    force them; spaces collapse within a line and blank lines to one. About 2 ms for a
    50 KB page: the tree is marked up in C and read back as one string.

    Raises:
        HtmlTooComplex: the page's structure would stall the parser (``html_complexity``),
            checked first: a C parser cannot be interrupted, not even by Ctrl-C.

    Example:
        >>> html_to_text("<p>Fish &amp; chips</p><script>x()</script><p>two <b>words</b></p>")
        'Fish & chips\\ntwo words'
    """
    from selectolax.lexbor import LexborHTMLParser  # here, as charset_normalizer above

    why = html_complexity(html)
    if why is not None:
        raise HtmlTooComplex(why)
    tree = LexborHTMLParser(html)
    tree.strip_tags(_DROP_TAGS)
    root = tree.body or tree.root
    if root is None:
        return ""
    for node in tree.css(_BLOCK_SELECTOR):
        node.insert_before(_SOFT)
        node.insert_after(_SOFT)
    for node in tree.css("br"):
        node.insert_after(_HARD)
    # Innermost first, so an outer <pre> reads the marks its inner one left.
    for node in reversed(tree.css("pre, listing, xmp, textarea")):
        node.replace_with(node.text().replace("\n", _HARD))
    return _marked_to_lines(root.text())


def _marked_to_lines(marked: str) -> str:
    """Text with line marks -> lines: collapse spaces, at most one blank line in a row."""
    for separator in _LINE_SEPARATORS:
        if separator in marked:
            marked = marked.replace(separator, _HARD)
    parts = _MARK.split(marked)
    lines: list[str] = []
    line = " ".join(parts[0].split())
    for i in range(1, len(parts), 2):
        if line or parts[i] == "h":
            lines.append(line)
        line = " ".join(parts[i + 1].split())
    lines.append(line)
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


# --- JSON Lines and JSON records --------------------------------------------------------


def _jsonl_documents(source: SourceFile, config: ScanConfig) -> Iterator[Document | Skipped]:
    """One document per line, read a line at a time: a 2 GB file never sits in memory."""
    with open_regular(source.path) as (f, _st):
        head = f.read(SNIFF_BYTES)
        why = binary_kind(head)
        if why is not None:
            yield Skipped(source.rel, SkipReason.BINARY, why)
            return
        codec = _unicode_codec(head)
        if codec is not None and codec != "utf-8-sig":
            detail = f"JSON Lines must be UTF-8, this file is {codec.upper()}: convert it (iconv -t UTF-8)"
            yield Skipped(source.rel, SkipReason.BAD_RECORD, detail)
            return
        why = dedup_output(head)
        if why is not None:
            yield Skipped(source.rel, SkipReason.DEDUP_OUTPUT, why)
            return
        f.seek(0)
        lines = _bounded_lines(f, config.max_bytes)
        items = _jsonl_lines(source.path, lines, config.max_bytes)
        yield from _records(source, config, items, "line", empty="no records")


#: Bytes read at a time past the --max-bytes of an oversized JSON Lines line: what the line
#: costs in memory beyond the limit itself.
_SKIP_BLOCK = 1 << 16


def _bounded_lines(f: BinaryIO, max_bytes: int, limit: int = sys.maxsize) -> Iterator[bytes | int]:
    """The lines of ``f`` (newline kept) in its next ``limit`` bytes. A line longer than
    ``max_bytes`` comes as its length alone, read past in blocks: a 2 GB line is skipped
    at the cost of ``max_bytes``, not read whole."""
    left = limit
    while left > 0:
        raw = f.readline(min(max_bytes + 1, left))
        if not raw:
            return
        left -= len(raw)
        if len(raw) <= max_bytes:
            yield raw
            continue
        size = len(raw)
        while left > 0 and not raw.endswith(b"\n"):
            raw = f.readline(min(_SKIP_BLOCK, left))
            if not raw:
                break
            size += len(raw)
            left -= len(raw)
        yield size


def _jsonl_lines(
    path: str, lines: Iterable[bytes | int], max_bytes: int, offset: int = 0, first_line: int = 1
) -> Iterator[tuple[int, object, str, int, Locator]]:
    """(line number, parsed value or _BadRecord, encoding, size, locator) of non-blank lines;
    ``lines`` gives an oversized line as its length (see ``_bounded_lines``)."""
    for lineno, raw in enumerate(lines, start=first_line):
        if isinstance(raw, int):
            offset += raw
            too_large = _BadRecord(f"{raw:,} bytes > {max_bytes:,} byte limit (--max-bytes)", SkipReason.TOO_LARGE)
            yield lineno, too_large, "", raw, Locator(path)
            continue
        start, offset = offset, offset + len(raw)
        if not raw.strip():
            continue
        try:
            value, encoding = _parse_line(raw, first=start == 0)
        except _BadRecord as bad:
            yield lineno, bad, "", len(raw), Locator(path)
            continue
        yield lineno, value, encoding, len(raw), Locator(path, start, len(raw))


#: JSON Lines files bigger than this are cut into line-aligned ranges hashed in parallel
#: (small enough that the few ranges in flight between workers and the run stay small).
SPLIT_BYTES = 16 * 1024 * 1024


def jsonl_ranges(
    source: SourceFile, config: ScanConfig, target: int = SPLIT_BYTES
) -> Iterator[tuple[int, int, int]] | None:
    """Cut a big JSON Lines file into (start, stop, first line) ranges on line boundaries,
    found as the file is read (the run hashes the first ranges while the rest are found).

    None when the file is not one to cut: not JSON Lines, small, binary or not UTF-8
    (``extract`` then reads it whole and says what is wrong with it). A file that turns out
    to be one line gives a single range; reading stops quietly if the file cannot be read
    any more (extracting the ranges found so far says why).
    """
    if _suffix(source.path) not in _JSONL_SUFFIXES or source.size <= target:
        return None
    try:
        with open_regular(source.path) as (f, _st):
            head = f.read(SNIFF_BYTES)
    except OSError:
        return None
    if binary_kind(head) is not None or _unicode_codec(head) not in (None, "utf-8-sig") or dedup_output(head):
        return None
    return _ranges(source.path, target)


def _ranges(path: str, target: int) -> Iterator[tuple[int, int, int]]:
    start, line, base, carried = 0, 1, 0, 0  # carried: newlines in [start, base)
    try:
        with open_regular(path) as (f, _st):
            for block in iter(lambda: f.read(min(target, 1 << 24)), b""):
                while True:
                    # Cut at the first newline once the range has reached `target` bytes.
                    nl = block.find(b"\n", max(start + target - base - 1, 0))
                    if start + target - base - 1 >= len(block) or nl < 0:
                        break
                    stop = base + nl + 1
                    yield (start, stop, line)
                    line += carried + block.count(b"\n", max(start - base, 0), nl + 1)
                    start, carried = stop, 0
                carried += block.count(b"\n", max(start - base, 0))
                base += len(block)
    except OSError:
        # Unreadable now (gone, or a FIFO put in its place): the rest is one more range,
        # to the end of the file, so that extracting it says why.
        yield (start, sys.maxsize, line)
        return
    if start < base:
        yield (start, base, line)


def extract_range(
    source: SourceFile, config: ScanConfig, start: int, stop: int, first_line: int
) -> Iterator[Document | Skipped]:
    """The records of bytes [start, stop) of a JSON Lines file, numbered from `first_line`.

    The same records, ids and locators as ``extract`` gives for those lines (the pipeline
    makes ids unique across the whole run). ``stop`` may be past
    the end of the file (``sys.maxsize``: to its end).
    """
    yield from _guarded(source.rel, _range_documents(source, config, start, stop, first_line))


def _range_documents(
    source: SourceFile, config: ScanConfig, start: int, stop: int, first_line: int
) -> Iterator[Document | Skipped]:
    with open_regular(source.path) as (f, _st):
        f.seek(start)
        lines = _bounded_lines(f, config.max_bytes, stop - start)
        items = _jsonl_lines(source.path, lines, config.max_bytes, start, first_line)
        yield from _records(source, config, items, "line", empty="")


def _parse_line(raw: bytes, *, first: bool) -> tuple[object, str]:
    """One JSON Lines line -> its value and encoding (UTF-8, else cp1252 as scraped files
    mislabelled as UTF-8 usually are; guessing per line would cost a detector call each)."""
    if first and raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        line, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        line, encoding = raw.decode("cp1252", errors="replace"), "cp1252"
    try:
        return json.loads(line.rstrip("\r\n")), encoding
    except json.JSONDecodeError as exc:
        raise _BadRecord(f"not valid JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:
        raise _BadRecord(f"not valid JSON ({_json_limit(exc)})") from None


def _json_documents(source: SourceFile, data: bytes, config: ScanConfig) -> Iterator[Document | Skipped]:
    """A .json file: an array of record objects, or a single object with the text field."""
    try:
        value, encoding, spans = _parse_json_records(data)
    except _BadRecord as bad:
        yield Skipped(source.rel, bad.reason, bad.detail)
        return
    field = config.text_field
    expected = f"expected an array of objects or an object with a {field!r} field"
    if isinstance(value, dict):
        if field not in value:
            detail = f"not records: an object with {_fields(value)}; {expected}"
            yield Skipped(source.rel, SkipReason.BAD_RECORD, detail)
            return
        try:
            text = _record_text(value, config)
        except _BadRecord as bad:
            yield Skipped(source.rel, bad.reason, bad.detail)
            return
        # A whole file: its id is its path (the record's own id is kept beside it).
        record_id = _record_id(value, config)
        yield Document(source.rel, source.rel, text, encoding, "jsonl", len(data), Locator(source.path), None, record_id)
        return
    if not isinstance(value, list):
        yield Skipped(source.rel, SkipReason.BAD_RECORD, f"not records: the JSON is {_json_type(value)}; {expected}")
        return
    if not value:
        yield Skipped(source.rel, SkipReason.EMPTY, "no records (an empty array)")
        return
    if not any(isinstance(item, dict) for item in value):
        detail = f"not records: an array of {_json_type(value[0])} and no objects; {expected}"
        yield Skipped(source.rel, SkipReason.BAD_RECORD, detail)
        return
    items = (
        (
            i,
            item,
            encoding,
            _json_size(item),
            Locator(source.path, i - 1, JSON_ARRAY_ITEM) if spans is None else Locator(source.path, *spans[i - 1]),
        )
        for i, item in enumerate(value, start=1)
    )
    yield from _records(source, config, items, "record", empty="no records")


def _parse_json_records(data: bytes) -> tuple[object, str, list[tuple[int, int]] | None]:
    """``_parse_json_file``, and for an array in valid UTF-8 the (byte offset, byte length)
    of each item: ``load_text`` then re-reads an item alone, as a JSON Lines line, instead
    of parsing the whole file for each member it ranks."""
    bom = data.startswith(codecs.BOM_UTF8)
    if _unicode_codec(data[:SNIFF_BYTES]) in (None, "utf-8-sig"):
        try:
            text = data[len(codecs.BOM_UTF8) if bom else 0 :].decode("utf-8")  # what decode_bytes gives
        except UnicodeDecodeError:
            text = None
        found = None if text is None else _array_items(text)
        if text is not None and found is not None:
            values, spans = found
            return values, "utf-8-sig" if bom else "utf-8", _byte_spans(text, spans, len(codecs.BOM_UTF8) if bom else 0)
    value, encoding = _parse_json_file(data)  # not an array, not UTF-8, or not valid: the one parse says why
    return value, encoding, None


_JSON_SPACE = re.compile(r"[ \t\n\r]*")  # what json.loads skips around values
_JSON_DECODER = json.JSONDecoder()


def _array_items(text: str) -> tuple[list[object], list[tuple[int, int]]] | None:
    """The items of a JSON array, as ``json.loads(text)`` gives them, with the [start, end)
    of each in ``text``; None if the text is not exactly one valid JSON array."""
    pos = _space_end(text, 0)
    if not text.startswith("[", pos):
        return None
    pos = _space_end(text, pos + 1)
    values: list[object] = []
    spans: list[tuple[int, int]] = []
    if text.startswith("]", pos):
        return (values, spans) if _space_end(text, pos + 1) == len(text) else None
    try:
        while True:
            value, end = _JSON_DECODER.raw_decode(text, pos)
            values.append(value)
            spans.append((pos, end))
            pos = _space_end(text, end)
            if text.startswith(",", pos):
                pos = _space_end(text, pos + 1)
            elif text.startswith("]", pos) and _space_end(text, pos + 1) == len(text):
                return values, spans
            else:
                return None
    except (ValueError, RecursionError):
        return None


def _space_end(text: str, pos: int) -> int:
    found = _JSON_SPACE.match(text, pos)
    return pos if found is None else found.end()


def _byte_spans(text: str, spans: list[tuple[int, int]], base: int) -> list[tuple[int, int]]:
    """Character spans of ``text`` as (byte offset, byte length) in its UTF-8 file."""
    if text.isascii():
        return [(base + a, b - a) for a, b in spans]
    out = []
    char, byte = 0, base
    for a, b in spans:
        byte += len(text[char:a].encode("utf-8"))
        length = len(text[a:b].encode("utf-8"))
        out.append((byte, length))
        byte, char = byte + length, b
    return out


def _parse_json_file(data: bytes) -> tuple[object, str]:
    """A whole .json file -> its value and encoding."""
    text, encoding = decode_bytes(data)
    if not text or text.isspace():
        raise _BadRecord("no text", SkipReason.EMPTY)
    try:
        return json.loads(text), encoding
    except json.JSONDecodeError as exc:
        where = f"at line {exc.lineno} column {exc.colno}"
        raise _BadRecord(f"not valid JSON ({exc.msg.removesuffix(' at')} {where})") from None
    except (ValueError, RecursionError) as exc:
        raise _BadRecord(f"not valid JSON ({_json_limit(exc)})") from None


def _json_limit(exc: ValueError | RecursionError) -> str:
    """The parser's limits, said short: nesting depth, or digits in a number (Python 3.11+)."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return _one_line(str(exc).split(":")[0])


def _records(
    source: SourceFile,
    config: ScanConfig,
    items: Iterable[tuple[int, object, str, int, Locator]],
    unit: str,
    *,
    empty: str,
) -> Iterator[Document | Skipped]:
    """Records -> documents, with the file's rel and number for every skipped one.

    A record's id is qualified by its file (``records.document_id``); records that share an
    id are documents like any others (the pipeline keeps document ids unique).
    """
    any_record = False
    for number, value, encoding, size, locator in items:
        any_record = True
        where = f"{source.rel}:{number}"
        try:
            text = _record_text(value, config)
        except _BadRecord as bad:
            yield Skipped(where, bad.reason, f"{unit} {number}: {bad.detail}")
            continue
        record_id = _record_id(value, config)
        doc_id = document_id(source.rel, number, record_id)
        yield Document(doc_id, source.rel, text, encoding, "jsonl", size, locator, number, record_id)
    if not any_record and empty:
        yield Skipped(source.rel, SkipReason.EMPTY, empty)


def _record_text(value: object, config: ScanConfig) -> str:
    """The text of one record object, or _BadRecord naming what is wrong."""
    field = config.text_field
    if isinstance(value, _BadRecord):
        raise value  # a line that did not parse
    if not isinstance(value, dict):
        raise _BadRecord(f"not a JSON object ({_json_type(value)})")
    if field not in value:
        raise _BadRecord(f"no {field!r} field ({_fields(value)})")
    text = value[field]
    if not isinstance(text, str):
        raise _BadRecord(f"{field!r} is {_json_type(text)}, not a string")
    text = normalize_newlines(_clean_surrogates(text))
    if not text or text.isspace():
        raise _BadRecord("no text", SkipReason.EMPTY)
    return text


def _record_id(value: object, config: ScanConfig) -> str | None:
    """The record's own id as a string (numbers as written in JSON), if it has one."""
    if not isinstance(value, dict):
        return None
    raw = value.get(config.id_field)
    if raw is None or raw == "":
        return None
    text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, sort_keys=True)
    return _clean_surrogates(text)


def _json_size(value: object) -> int:
    """A JSON array item's size: its bytes as compact UTF-8 JSON (the parser keeps no spans)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))


def _fields(record: dict[object, object]) -> str:
    """'fields: id, body, url' so the user can pick --text-field; the first ten only."""
    if not record:
        return "no fields"
    names = [_short(str(k), 40) if str(k).isprintable() else repr(k) for k in record]
    shown = ", ".join(names[:10])
    return f"fields: {shown}" if len(names) <= 10 else f"fields: {shown}, … ({len(names)} in all)"


def _json_type(value: object) -> str:
    """A value's JSON type, with an article, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _clean_surrogates(text: str) -> str:
    """JSON may escape lone surrogates ("\\ud800"); they cannot be written as UTF-8 later."""
    if text.isascii() or _LONE_SURROGATE.search(text) is None:  # isascii: 700x cheaper than the search
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


# --- files and messages -----------------------------------------------------------------


def _suffix(path: str) -> str:
    """The extension, lower case, with its dot ("" for none), as ``Path.suffix`` gives it."""
    name = os.path.basename(path)
    dot = name.rfind(".")
    return name[dot:].lower() if 0 < dot < len(name) - 1 else ""


def _too_large(rel: str, size: int, config: ScanConfig) -> Skipped:
    """A file that grew past the limit after the walk measured it."""
    detail = f"{size:,} bytes > {config.max_bytes:,} byte limit (--max-bytes)"
    return Skipped(rel, SkipReason.TOO_LARGE, detail)


def _one_line(text: str) -> str:
    """A message on one line and of bounded length, whatever an exception put in it."""
    return _short(" ".join(text.split()), _DETAIL_CHARS)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
