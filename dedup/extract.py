"""Stage 2: ``SourceFile`` -> ``Document | Skipped``: bytes to visible text.

In:  one file found by the walk.
Out: one ``Document`` per file, or one per record of a JSON Lines / JSON file, or a
     ``Skipped`` naming what a user can fix (binary, empty, bad record, unreadable).

Kinds, by file ending: ``.html .htm .xhtml`` are HTML; ``.md .markdown`` Markdown;
``.jsonl .ndjson`` JSON Lines; ``.json`` a JSON array of objects (or one object) with
``config.text_field``. Anything else is sniffed: binary is skipped, a page that starts
with ``<!doctype html`` or ``<html`` is HTML, the rest is plain text.

Bytes become text in ``decode`` (never fails; one line end), HTML becomes its visible
text in ``htmltext`` (chrome kept: the cleanest-copy stage scores it), and JSON Lines and
JSON records become documents in ``jsonrecords``; this module picks the kind and holds the
per-file boundary where anything a file raises becomes its one-line skip.

Re-reading (``load_text``) uses ``Document.locator``:

* ``length >= 0``: a JSON Lines record, the bytes ``[offset, offset + length)`` of its line
  (newline included), or an item of a JSON array in UTF-8, the bytes of the item;
* ``length == -1``: the whole file (for a ``.json`` file: the file holds one object);
* ``length == JSON_ARRAY_ITEM`` (-2): item ``offset`` (0-based) of the JSON array in a file
  in another encoding (the whole file is parsed again).

Records have kind "jsonl"; their ids and numbers are described in ``jsonrecords``.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import sys
from collections.abc import Iterator
from typing import BinaryIO

from .compressed import CorruptInput, open_decompressed, read_limited, verify
from .config import ScanConfig
from .decode import SNIFF_BYTES, binary_kind, decode_bytes, dedup_output, normalize_newlines, unicode_codec
from .errors import MissingExtra, SkipReason, os_detail
from .files import NotRegularFileError, open_regular
from .formats import JSONL_SUFFIXES, PARQUET_SUFFIXES, compression, inner_suffix
from .htmltext import HtmlTooComplex, html_to_text
from .jsonrecords import (
    JSON_ARRAY_ITEM,
    bounded_lines,
    json_documents,
    jsonl_documents,
    jsonl_lines,
    one_line,
    parse_json_file,
    parse_line,
    record_documents,
    record_text,
)
from .parquet_input import PARQUET_ROW, load_row_text, parquet_documents
from .records import DocKind, Document, Locator, Skipped, SourceFile
from .reread import read_span

__all__ = [
    "JSON_ARRAY_ITEM",
    "SPLIT_BYTES",
    "WHOLE_KINDS",
    "extract",
    "extract_bytes",
    "extract_range",
    "jsonl_ranges",
    "load_text",
    "whole_text",
]

_HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
_MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
_FRONT_MATTER = re.compile(r"---[ \t]*\n[A-Za-z_][\w -]*:.*?\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)

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


def extract_bytes(source: SourceFile, data: bytes, config: ScanConfig) -> Iterator[Document | Skipped]:
    """``extract`` of a plain (uncompressed) JSON Lines or JSON file's bytes, already read:
    ``dedup apply --write`` checks the very bytes it writes."""
    suffix = inner_suffix(source.path)
    if suffix in JSONL_SUFFIXES:

        @contextlib.contextmanager
        def opener(_path: str) -> Iterator[tuple[BinaryIO, os.stat_result]]:
            yield io.BytesIO(data), os.stat_result((0,) * 10)

        yield from _guarded(source.rel, jsonl_documents(source, config, opener))
    else:
        yield from _guarded(source.rel, json_documents(source, data, config))


def _guarded(rel: str, items: Iterator[Document | Skipped]) -> Iterator[Document | Skipped]:
    """The per-file boundary: whatever reading a file raises becomes its one-line skip."""
    try:
        yield from items
    except NotRegularFileError as exc:  # a FIFO, socket or device put where a file was
        yield Skipped(rel, SkipReason.NOT_A_FILE, f"{exc.kind}, not a regular file")
    except OSError as exc:
        yield Skipped(rel, SkipReason.UNREADABLE, one_line(os_detail(exc)))
    except HtmlTooComplex as exc:
        yield Skipped(rel, SkipReason.TOO_COMPLEX, exc.detail)
    except CorruptInput as exc:
        yield Skipped(rel, SkipReason.UNREADABLE, one_line(exc.detail))
    except MissingExtra as exc:  # a zstd file without zstandard: the message names the pip command
        yield Skipped(rel, SkipReason.EXTRACT_FAILED, one_line(str(exc)))
    except Exception as exc:  # one bad file must not stop a run
        yield Skipped(rel, SkipReason.EXTRACT_FAILED, one_line(f"{type(exc).__name__}: {exc}"))


def load_text(locator: Locator, kind: DocKind, config: ScanConfig) -> str:
    """Read a document's text again, exactly as ``extract`` gave it.

    The cleanest-copy stage calls this for cluster members, so the corpus text need not
    stay in memory. See the module docstring for how ``locator`` addresses records; in a
    compressed file the offsets are those of the decompressed stream, read through a spool
    (``reread``) so that a file is not decompressed again for each member.

    Raises:
        OSError: the file cannot be read any more.
        ValueError: the file no longer holds a usable document at ``locator``.
    """
    path = locator.path
    if locator.length == PARQUET_ROW:
        return load_row_text(locator, config)
    form = compression(path)
    if kind == "jsonl" and locator.length >= 0:
        raw = _read_span(path, form, locator.offset, locator.length)
        value, _encoding = parse_line(raw, first=locator.offset == 0)
        return record_text(value, config)
    data = _read_whole(path, form, config)
    if kind == "jsonl":
        value, _encoding = parse_json_file(data)
        if locator.length == JSON_ARRAY_ITEM:
            if not isinstance(value, list) or not 0 <= locator.offset < len(value):
                raise ValueError(f"no JSON array item {locator.offset} in {path}")
            value = value[locator.offset]
        return record_text(value, config)
    return _file_text(data, kind)[0]


def _read_span(path: str, form: str | None, offset: int, length: int) -> bytes:
    """Bytes ``[offset, offset + length)`` of a file, or of its decompressed stream."""
    if form is not None:
        return read_span(path, form, offset, length)
    with open_regular(path) as (f, _):
        f.seek(offset)
        return f.read(length)


def _read_whole(path: str, form: str | None, config: ScanConfig) -> bytes:
    """A whole file's bytes, decompressed if it is compressed (up to ``--max-bytes``)."""
    if form is None:
        with open_regular(path) as (f, _):
            return f.read()
    with open_decompressed(path, form) as (f, _):
        data = read_limited(f, config.max_bytes)
    if data is None:
        raise ValueError(f"{path} decompresses to more than {config.max_bytes:,} bytes now")
    return data


def _extract(source: SourceFile, config: ScanConfig) -> Iterator[Document | Skipped]:
    """The work of ``extract``, free to raise."""
    form = compression(source.path)
    suffix = inner_suffix(source.path)
    if suffix in JSONL_SUFFIXES:
        opener = open_regular if form is None else functools.partial(open_decompressed, form=form)
        if form is not None:
            verify(source.path, form)  # damage found before any record is used, not after
        yield from jsonl_documents(source, config, opener)
        return
    if suffix in PARQUET_SUFFIXES and form is None:
        yield from parquet_documents(source, config)
        return
    if form is None:
        with open_regular(source.path) as (f, st):
            size = st.st_size
            if size > config.max_bytes:
                yield _too_large(source.rel, size, config)
                return
            data = f.read()
    else:
        with open_decompressed(source.path, form) as (f, _st):
            limited = read_limited(f, config.max_bytes)
        if limited is None:
            detail = f"decompresses to more than {config.max_bytes:,} bytes (--max-bytes)"
            yield Skipped(source.rel, SkipReason.TOO_LARGE, detail)
            return
        data = limited
    why = binary_kind(data[:SNIFF_BYTES])
    if why is not None:
        yield Skipped(source.rel, SkipReason.BINARY, why)
        return
    why = dedup_output(data[:SNIFF_BYTES])
    if why is not None:
        yield Skipped(source.rel, SkipReason.DEDUP_OUTPUT, why)
        return
    if suffix == ".json":
        yield from json_documents(source, data, config)
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


#: The kinds of a whole file's document (not a record): its text is whole_text of its bytes.
WHOLE_KINDS = ("text", "html", "markdown")


def whole_text(data: bytes, kind: DocKind) -> str:
    """A whole uncompressed file's text from its bytes, as load_text reads it (apply checks the
    bytes it digests and moves, read once)."""
    return _file_text(data, kind)[0]


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
    if _suffix(source.path) not in JSONL_SUFFIXES or source.size <= target:
        return None
    try:
        with open_regular(source.path) as (f, _st):
            head = f.read(SNIFF_BYTES)
    except OSError:
        return None
    if binary_kind(head) is not None or unicode_codec(head) not in (None, "utf-8-sig") or dedup_output(head):
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
        lines = bounded_lines(f, config.max_bytes, stop - start)
        items = jsonl_lines(source.path, lines, config.max_bytes, start, first_line)
        yield from record_documents(source, config, items, "line", empty="")


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
