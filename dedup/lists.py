"""Names written so they round-trip, and the keep and drop lists a script can trust.

Keep and drop lists (:func:`write_lists`) hold one document id per line: the drop list the
non-cleanest members in cluster order, the keep list every other document in scan order.
In the lists and in the CSV's text columns every name is escaped by :func:`escape_name`,
so that one line is one name, no byte a terminal acts on is written raw, and the escaping
can be undone exactly (:func:`unescape_name`): ``\\\\`` is a backslash, ``\\n``,
``\\r``, ``\\t`` the controls, ``\\xNN`` the byte NN (another C0 control, DEL, or a byte
that is not valid UTF-8), ``\\uNNNN`` the code point (C1 controls, line and paragraph
separators, bidi controls). With ``null=True`` (``-0``) the lists instead hold each name's
exact bytes (``os.fsencode``), each ended by a NUL byte, for ``xargs -0``. With
``absolute=True`` they hold each document's absolute path instead of its id (records,
whose ids are not paths, keep their ids: a list never names a record as a file).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from .atomic import write_atomic
from .errors import ExportError
from .ray_input import absolute_path
from .records import DocInfo, ScanResult
from .stdinput import STDIN, is_stdin_copy, stdin_copies

__all__ = ["absolute_id", "escape_name", "export_text", "name_bytes", "unescape_name", "write_lists"]

# Surrogates that surrogateescape cannot turn back into a byte (it owns U+DC80..U+DCFF).
_ODD_SURROGATE = re.compile("[\ud800-\udc7f\udd00-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")

# What escape_name escapes: the backslash itself, C0 controls and DEL, C1 controls, the
# Unicode line/paragraph separators, bidi controls (they reorder what a terminal shows)
# and surrogates (undecodable bytes of a name, or lone ones from a JSON id).
_NAME_ESCAPE = re.compile("[\\\\\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
_SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(m: re.Match[str]) -> str:
    ch = m.group()
    short = _SHORT_ESCAPES.get(ch)
    if short is not None:
        return short
    cp = ord(ch)
    if cp < 0x80:
        return f"\\x{cp:02x}"  # the byte, as UTF-8 writes it
    if 0xDC80 <= cp <= 0xDCFF:
        return f"\\x{cp - 0xDC00:02x}"  # surrogateescape's byte that is not valid UTF-8
    return f"\\u{cp:04x}"


def escape_name(s: str) -> str:
    """A name as one printable, unambiguous line: what keep/drop lists and the CSV hold.

    ``\\`` is a backslash, ``\\n``/``\\r``/``\\t`` those controls, ``\\xNN`` the byte NN
    (another C0 control or DEL, or a byte of the name that is not valid UTF-8), and
    ``\\uNNNN`` that code point (C1 controls, U+2028/U+2029, bidi controls, lone
    surrogates). A literal backslash-n in a name and a real line break therefore differ,
    and no escape sequence reaches a terminal raw.

    Example:
        >>> escape_name("a\\nb\\\\n\\udcff\\x1b]52")
        'a\\\\nb\\\\\\\\n\\\\xff\\\\x1b]52'
    """
    if not _NAME_ESCAPE.search(s):
        return s
    return _NAME_ESCAPE.sub(_escape_char, s)


def name_bytes(s: str) -> bytes:
    """A name's exact bytes, as the file system has them (``os.fsencode``): what ``-0``
    lists hold. A lone surrogate that no byte stands for (only a JSON id can hold one) is
    written as its ``\\uNNNN`` escape."""
    try:
        return os.fsencode(s)
    except UnicodeEncodeError:
        return os.fsencode(_ODD_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", s))


def export_text(s: str) -> str:
    """A string that encodes as UTF-8: escaped bytes of undecodable names become ``\\xNN``.

    Example:
        >>> export_text("caf\\udce9.txt")
        'caf\\\\xe9.txt'
    """
    if s.isascii() or not _SURROGATE.search(s):  # isascii: a far cheaper test for most names
        return s
    s = _ODD_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", s)
    return s.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


_UNESCAPE = re.compile(r"\\(?:([\\nrt])|x([0-9a-f]{2})|u([0-9a-f]{4}))")
_SHORT_UNESCAPES = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


def _unescape_one(m: re.Match[str]) -> str:
    short, byte, point = m.groups()
    if short is not None:
        return _SHORT_UNESCAPES[short]
    if byte is not None:
        value = int(byte, 16)
        return chr(value) if value < 0x80 else chr(0xDC00 + value)  # surrogateescape's byte
    return chr(int(point, 16))


def unescape_name(s: str) -> str:
    """The name :func:`escape_name` wrote, back as Python holds it (undecodable bytes as
    surrogateescape's surrogates, so ``os.fsencode`` gives the exact bytes).

    Example:
        >>> unescape_name(escape_name("a\\nb\\udcff")) == "a\\nb\\udcff"
        True
    """
    if "\\" not in s:
        return s
    return _UNESCAPE.sub(_unescape_one, s)


def absolute_id(doc: DocInfo) -> str:
    """A document's id with its file's absolute path for the relative one: the path itself
    for a whole file, ``/abs/file.jsonl:id`` for a record (never a file's name alone)."""
    if is_stdin_copy(doc.locator.path):  # standard input is "-", not its temporary copy
        return doc.doc_id
    path = absolute_path(doc.locator.path)  # an s3:// copy: its URL
    return path if doc.record is None else path + doc.doc_id[len(doc.rel) :]


def _list_line(doc_id: str) -> str:
    """An id as one list line: escaped (escape_name), so one line is never two ids."""
    return escape_name(doc_id) + "\n"


def _list_entry(doc_id: str) -> bytes:
    """An id as one ``-0`` list entry: its exact bytes and a NUL."""
    raw = name_bytes(doc_id)
    if b"\0" in raw:
        raise ValueError(f"the id {escape_name(doc_id)!r} holds a NUL byte, which a NUL-separated list cannot carry")
    return raw + b"\0"


def _piped(result: ScanResult) -> set[tuple[str, str, int | None]]:
    """The keys of standard input's whole text: named ``-``, it is no file, and ``rm -- -``
    in a list's script would remove a file of that name in the working folder."""
    copies = stdin_copies()
    if result.docs:
        if not copies:
            return set()
        return {(d.doc_id, d.rel, d.record) for d in result.docs if d.record is None and d.locator.path in copies}
    if STDIN not in result.roots:  # a result without its documents: standard input is the root "-"
        return set()
    return {(STDIN, STDIN, None)}


def write_lists(
    result: ScanResult, keep: Path | None, drop: Path | None, *, null: bool = False, absolute: bool = False
) -> None:
    """Write the ids to keep and the ids to drop, atomically: one escaped id per line, or
    with ``null`` each id's exact bytes ended by a NUL (for ``xargs -0``).

    The drop list holds every cluster member that is not its cluster's cleanest copy nor a
    superset of it (a member with substantive text of its own, see evidence.py), in
    cluster order; the keep list every other document, in ``result.docs`` order. Standard
    input's text is in neither: a list names files, and ``-`` is none. In lines,
    ids are escaped by :func:`escape_name` (a line break is ``\\n``, a backslash
    ``\\\\``), so a line names exactly one id and writes no control character raw.

    Args:
        result: the scan; the keep list needs ``result.docs``.
        keep: where to write the keep list, or None.
        drop: where to write the drop list, or None.
        null: NUL-separated exact bytes instead of escaped lines.
        absolute: each document's absolute path (:func:`absolute_id`) instead of its id.

    Raises:
        ExportError: a list could not be written, or a keep list was asked of a result that
            holds no document list.
    """
    if (keep is not None or absolute) and not result.docs and result.summary.documents:
        raise ExportError(f"cannot write {keep or drop}: the scan result holds no document list")
    piped = _piped(result)
    dropped = [
        m
        for cluster in result.clusters
        for m in cluster.members
        if m.dropped and (m.doc_id, m.rel, m.record) not in piped
    ]
    gone = {(m.doc_id, m.rel, m.record) for m in dropped} | piped
    if absolute:
        by_key = {(d.doc_id, d.rel, d.record): d for d in result.docs}
        dropped_ids = [absolute_id(by_key[(m.doc_id, m.rel, m.record)]) for m in dropped]
        kept = [absolute_id(d) for d in result.docs if (d.doc_id, d.rel, d.record) not in gone]
    else:
        dropped_ids = [m.doc_id for m in dropped]
        kept = [d.doc_id for d in result.docs if (d.doc_id, d.rel, d.record) not in gone]

    def writer(ids: list[str]) -> Callable[[IO[Any]], None]:
        if null:
            return lambda out: out.writelines(_list_entry(i) for i in ids)
        return lambda out: out.writelines(_list_line(i) for i in ids)

    if keep is not None:
        write_atomic(keep, writer(kept), binary=null)
    if drop is not None:
        write_atomic(drop, writer(dropped_ids), binary=null)
