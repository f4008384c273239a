"""ScanResult -> JSON, JSON Lines or CSV, and keep/drop lists; every file written atomically.

A file is written to a temporary file beside the target, flushed, fsynced and then
renamed over the target with ``os.replace``, so the target holds either its old content or
the complete new export, never half of one. On failure the temporary file is removed and
``ExportError("cannot write <path>: <reason>")`` is raised. The path ``-`` means stdout.

Export formats
--------------

``--format json`` (schema ``dedup.scan/1``): one JSON document, UTF-8, indented by 2 (each
cluster and each skipped entry on one line of its own, as compact JSON),
ending with a newline (the ``#`` comments explain fields; they are not in the file)::

    {
      "schema": "dedup.scan/1",        # name/version of this layout; bumped on any breaking change
      "version": "0.1.0",              # the dedup version that wrote the file
      "roots": ["scraped/"],           # the folders scanned, as given
      "params": {...},                 # every parameter that shapes results (ScanConfig.params())
      "summary": {
        "files": 120,                  # files read (not skipped)
        "documents": 131,              # documents: whole files, and each record of JSON Lines/JSON files
        "skipped": 4,                  # files and records left out (listed under "skipped")
        "clusters": 2,                 # groups of near-duplicate documents
        "duplicates": 3,               # cluster members that are not the cleanest copy
        "bytes_saved": 17321,          # bytes of those duplicates: what dropping them saves
        "candidates": 57,              # candidate pairs proposed by LSH and the containment path
        "matches": 4                   # candidate pairs verified as near-duplicates
      },
      "clusters": [
        {
          "cluster": 1,                # cluster number, from 1, in report order
          "size": 2,                   # number of members
          "cleanest": "news/a.html",   # id of the cleanest member (members[0])
          "members": [                 # the cleanest first, then the others
            {
              "id": "news/a.html",     # document id: the relative path, or "path:record id"
              "path": "news/a.html",   # relative path of the source file
              "record": null,          # 1-based line (JSON Lines) or index (JSON array); null for files
              "record_id": null,       # the record's own id (--id-field); null for files and id-less records
              "cleanest": true,
              "jaccard": 1.0,          # exact shingle Jaccard with the cleanest copy (1.0 for itself)
              "containment": 1.0,      # share of the cleanest copy's shingles found in this member
              "words": 612,
              "bytes": 6975,           # bytes of source this document accounts for
              "penalty": 0.12,         # lower is cleaner
              "reasons": ["..."]       # why it won (cleanest) or lost (others)
            }
          ]
        }
      ],
      "skipped": [
        {"path": "img/logo.png", "reason": "binary", "detail": "NUL byte at offset 12"}
      ]
    }

``reason`` is one of: unreadable, binary, empty, too-large, symlink-loop, bad-record,
extract-failed, changed-during-scan. Floats are rounded to 4 decimals.

Each member also has its evidence (see evidence.py): ``in_cleanest`` (share of its shingles
found in the cleanest copy), ``rule`` (``jaccard``, ``contains-cleanest``, ``inside-cleanest``,
``chain``; empty for the cleanest), ``own_words`` (its words outside the cleanest copy),
``boilerplate_words`` (of those, boilerplate or held by another document) and ``decision``
(``keep``, ``drop`` or ``superset``: a superset holds substantive text of its own and is on
no drop list). JSON Lines and CSV carry the same keys, CSV as its last columns.

``--format jsonl``: one JSON object per line per cluster member, clusters in order and the
cleanest member first: ``{"cluster": 1, "id", "path", "record", "record_id", "cleanest", "jaccard",
"containment", "words", "bytes", "penalty", "reasons"}`` with the meanings above.

``--format csv``: a header row, then one row per cluster member in the same order, columns
``cluster,id,path,record,cleanest,jaccard,containment,words,bytes,penalty,reasons,record_id``;
``record`` and ``record_id`` are empty for files, ``cleanest`` is ``true``/``false`` and ``reasons`` are
joined with ``"; "``. Written by Python's csv module (RFC 4180 quoting, CRLF rows). Values
are not altered to defuse spreadsheet formulas: open untrusted names as text.

Names that are not valid UTF-8 (file names Python decoded with surrogateescape) are written
in JSON and JSON Lines with the bad bytes as backslash escapes: the byte 0xff becomes the
four characters ``\\xff``.

Keep and drop lists (:func:`write_lists`) hold one document id per line: the drop list the
non-cleanest members in cluster order, the keep list every other document in scan order.
In the lists and in the CSV's text columns every name is escaped by :func:`escape_name`,
so that one line is one name, no byte a terminal acts on is written raw, and the escaping
can be undone exactly: ``\\\\`` is a backslash, ``\\n``, ``\\r``, ``\\t`` the controls,
``\\xNN`` the byte NN (another C0 control, DEL, or a byte that is not valid UTF-8),
``\\uNNNN`` the code point (C1 controls, line and paragraph separators, bidi controls).
With ``null=True`` (``-0``) the lists instead hold each name's exact bytes
(``os.fsencode``), each ended by a NUL byte, for ``xargs -0``.

Where a file goes: ``-`` is stdout; a path that does not exist yet, or a regular file, is
written atomically as above; anything else that exists (a device such as ``/dev/null``, a
FIFO, ``/dev/stdout``, a shell's ``>(...)``, a symbolic link) is opened and written
through, as the shell's ``>`` would, and never replaced.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from enum import Enum
from pathlib import Path, PurePath
from typing import IO, Any

from .errors import ConfigError, ExportError, InputError
from .records import Cluster, Member, ScanResult

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "escape_name",
    "export_text",
    "format_for",
    "member_rows",
    "name_bytes",
    "process_alive",
    "read_export",
    "to_dict",
    "write_export",
    "write_lists",
    "write_text_atomic",
]

SCHEMA_VERSION = 1
SCHEMA = f"dedup.scan/{SCHEMA_VERSION}"
FORMATS = ("json", "jsonl", "csv")
CSV_COLUMNS = (
    "cluster",
    "id",
    "path",
    "record",
    "cleanest",
    "jaccard",
    "containment",
    "words",
    "bytes",
    "penalty",
    "reasons",
    "record_id",
    "in_cleanest",
    "rule",
    "own_words",
    "boilerplate_words",
    "decision",
)

_SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
_DIGITS = 4  # decimals kept for floats: enough to rank, short enough to read

# Surrogates that surrogateescape cannot turn back into a byte (it owns U+DC80..U+DCFF).
_ODD_SURROGATE = re.compile("[\ud800-\udc7f\udd00-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Characters str.splitlines() breaks on that json.dumps leaves raw: a JSON Lines reader
# using splitlines() would cut a record in two.
_LINE_BREAKS_IN_JSON = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}
_JSON_LINE_BREAK = re.compile("[\u0085\u2028\u2029]")


# One encoder for every line of an export: json.dumps with options builds a new one per call.
_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def _one_line(text: str) -> str:
    """JSON text with the line breaks JSON leaves raw escaped (a search first: translate
    looks every character up in a dict, which a big export pays for on every line; and
    ASCII text, most lines, holds none of them: isascii() is a flag lookup)."""
    if text.isascii() or not _JSON_LINE_BREAK.search(text):
        return text
    return text.translate(_LINE_BREAKS_IN_JSON)


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


def _jsonable(value: object) -> object:
    """Params as plain JSON values; a value JSON cannot hold raises TypeError."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return round(value, _DIGITS)
    if isinstance(value, Enum):
        return _jsonable(value.value)
    if isinstance(value, str):
        return export_text(value)
    if isinstance(value, PurePath):
        return export_text(value.as_posix())
    if isinstance(value, Mapping):
        return {export_text(str(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_jsonable(v) for v in value), key=repr)
    raise TypeError(f"a params value of type {type(value).__name__} cannot be written as JSON")


def _member(member: Member) -> dict[str, object]:
    """One member as exported (without its cluster number)."""
    return {
        "id": export_text(member.doc_id),
        "path": export_text(member.rel),
        "record": member.record,
        "record_id": None if member.record_id is None else export_text(member.record_id),
        "cleanest": member.cleanest,
        "jaccard": round(member.jaccard, _DIGITS),
        "containment": round(member.containment, _DIGITS),
        "words": member.words,
        "bytes": member.size,
        "penalty": round(member.penalty, _DIGITS),
        "reasons": [export_text(r) for r in member.reasons],
        "in_cleanest": round(member.in_cleanest, _DIGITS),
        "rule": member.rule,
        "own_words": member.own_words,
        "boilerplate_words": member.boilerplate_words,
        "decision": member.decision,
    }


_STR = json.encoder.encode_basestring  # what _LINE_ENCODER writes a str with (C where built)


def _float_json(value: float) -> str:
    """A float rounded to ``_DIGITS`` as _LINE_ENCODER writes it (no NaN or infinity)."""
    value = round(value, _DIGITS)
    if value != value or value in (math.inf, -math.inf):
        raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
    return float.__repr__(value)


def _member_json(member: Member) -> str:
    """``_LINE_ENCODER.encode(_member(member))``, written without the dict: a rescan's
    export is most of its time after the walk, and json spent 10 µs a member here on
    building, then walking, a dict of ten keys (a test holds the two equal)."""
    m = member
    record = "null" if m.record is None else int.__repr__(m.record)
    record_id = "null" if m.record_id is None else _STR(export_text(m.record_id))
    reasons = ", ".join([_STR(export_text(r)) for r in m.reasons])
    return (
        f'{{"id": {_STR(export_text(m.doc_id))}, "path": {_STR(export_text(m.rel))}, "record": {record}, '
        f'"record_id": {record_id}, '
        f'"cleanest": {"true" if m.cleanest else "false"}, "jaccard": {_float_json(m.jaccard)}, '
        f'"containment": {_float_json(m.containment)}, "words": {int.__repr__(m.words)}, '
        f'"bytes": {int.__repr__(m.size)}, "penalty": {_float_json(m.penalty)}, "reasons": [{reasons}], '
        f'"in_cleanest": {_float_json(m.in_cleanest)}, "rule": "{m.rule}", "own_words": {int.__repr__(m.own_words)}, '
        f'"boilerplate_words": {int.__repr__(m.boilerplate_words)}, "decision": "{m.decision}"}}'
    )


def _cluster_json(cluster: Cluster) -> str:
    """``_LINE_ENCODER.encode(_cluster(cluster))``, written as ``_member_json`` is."""
    members = cluster.members
    cleanest = _STR(export_text(members[0].doc_id)) if members else "null"
    return (
        f'{{"cluster": {int.__repr__(cluster.cluster_id)}, "size": {len(members)}, "cleanest": {cleanest}, '
        f'"members": [{", ".join([_member_json(m) for m in members])}]}}'
    )


def _cluster(cluster: Cluster) -> dict[str, object]:
    """One cluster as exported."""
    return {
        "cluster": cluster.cluster_id,
        "size": len(cluster.members),
        "cleanest": export_text(cluster.members[0].doc_id) if cluster.members else None,
        "members": [_member(m) for m in cluster.members],
    }


def to_dict(result: ScanResult, version: str) -> dict[str, object]:
    """The JSON export of a scan as a dict (the layout in this module's docstring).

    Args:
        result: the scan.
        version: the dedup version writing the export.

    Returns:
        A dict of JSON values only.

    Raises:
        TypeError: a params value that JSON cannot hold.
    """
    return {**_head(result, version), "clusters": [_cluster(c) for c in result.clusters], "skipped": _skipped(result)}


def _head(result: ScanResult, version: str) -> dict[str, object]:
    """The export's keys before its clusters."""
    s = result.summary
    return {
        "schema": SCHEMA,
        "version": version,
        "roots": [export_text(r) for r in result.roots],
        "params": _jsonable(result.params),
        "summary": {
            "files": s.files,
            "documents": s.documents,
            "skipped": s.skipped,
            "clusters": s.clusters,
            "duplicates": s.duplicates,
            "bytes_saved": s.bytes_saved,
            "candidates": s.candidates,
            "matches": s.matches,
        },
    }


def _skipped(result: ScanResult) -> list[dict[str, str]]:
    return [
        {"path": export_text(k.rel), "reason": str(k.reason), "detail": export_text(k.detail)} for k in result.skipped
    ]


def member_rows(result: ScanResult) -> Iterator[dict[str, object]]:
    """One flat dict per cluster member, clusters in order, the cleanest first (JSONL and CSV)."""
    for cluster in result.clusters:
        for member in cluster.members:
            yield {"cluster": cluster.cluster_id, **_member(member)}


def _write_json(result: ScanResult, version: str, out: IO[str]) -> None:
    """The export, indented, with each cluster and each skipped entry on a line of its own:
    readable, grep-able, and written a line at a time (an indented dump of a million
    members goes through json's pure-Python encoder, minutes instead of seconds)."""
    lines: dict[str, list[str]] = {
        "clusters": [_cluster_json(c) for c in result.clusters],
        "skipped": [_LINE_ENCODER.encode(k) for k in _skipped(result)],
    }
    data: dict[str, object] = {**_head(result, version), **lines}
    out.write("{\n")
    for n, (key, value) in enumerate(data.items()):
        out.write(f"  {json.dumps(key)}: ")
        if key in lines and value:
            last = len(lines[key]) - 1
            out.write("[\n")
            for i, line in enumerate(lines[key]):
                out.write(f"    {_one_line(line)}{',' if i < last else ''}\n")
            out.write("  ]")
        else:
            out.write(json.dumps(value, ensure_ascii=False, indent=2, allow_nan=False).replace("\n", "\n  "))
        out.write(",\n" if n < len(data) - 1 else "\n")
    out.write("}\n")


def _write_jsonl(result: ScanResult, out: IO[str]) -> None:
    for cluster in result.clusters:
        head = f'{{"cluster": {int.__repr__(cluster.cluster_id)}, '
        for member in cluster.members:
            out.write(_one_line(head + _member_json(member)[1:]))  # the member_rows dict, as JSON
            out.write("\n")


def _write_csv(result: ScanResult, out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for cluster in result.clusters:
        for m in cluster.members:
            writer.writerow(
                [
                    cluster.cluster_id,
                    escape_name(m.doc_id),
                    escape_name(m.rel),
                    "" if m.record is None else m.record,
                    "true" if m.cleanest else "false",
                    round(m.jaccard, _DIGITS),
                    round(m.containment, _DIGITS),
                    m.words,
                    m.size,
                    round(m.penalty, _DIGITS),
                    "; ".join(escape_name(r) for r in m.reasons),
                    "" if m.record_id is None else escape_name(m.record_id),
                    round(m.in_cleanest, _DIGITS),
                    m.rule,
                    m.own_words,
                    m.boilerplate_words,
                    m.decision,
                ]
            )


def format_for(path: Path | str, fmt: str | None = None) -> str:
    """The export format: ``fmt`` if given, else the one the file suffix names.

    Raises:
        ConfigError: an unknown ``fmt``, or no ``fmt`` and a suffix that names no format.
    """
    if fmt is not None:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown export format {fmt!r}: use json, jsonl or csv")
        return fmt
    found = _SUFFIXES.get(Path(str(path)).suffix.lower()) if str(path) != "-" else None
    if found is None:
        raise ConfigError(f"cannot tell the export format from '{path}': use --format json|jsonl|csv")
    return found


def _reason(exc: BaseException) -> str:
    """A one-line reason for a failed write."""
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
    return " ".join(text.split())


def _write_atomic(path: Path | str, write: Callable[[IO[Any]], None], *, binary: bool = False) -> None:
    """Write a file where ``path`` says (see "Where a file goes" above): stdout for ``-``;
    a new path or a regular file via a temp file in the same folder, fsync and os.replace;
    anything else that exists (a device, FIFO, ``/dev/stdout``, a symlink) written through.

    ``write`` gets a text file (UTF-8, no newline translation) or, when ``binary``, a
    binary one. A failure removes the temp file and raises ExportError; a regular target
    keeps its old content.
    """
    if str(path) == "-":
        _write_stdout(write, binary)
        return
    target = Path(path)
    try:
        kind = os.lstat(target).st_mode
    except FileNotFoundError:
        kind = None
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc
    if kind is not None and not stat.S_ISREG(kind):
        _write_through(target, write, binary)
        return

    _remove_stale_temps(target)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp")
        with _wrap(os.fdopen(fd, "wb"), binary) as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp creates 0600; give the export the mode a plain open() would have.
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
        tmp = None
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, Exception):
            raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc
        raise


def _wrap(raw: IO[bytes], binary: bool) -> IO[Any]:
    """``raw`` as the file ``write`` expects: itself, or UTF-8 text with "\\n" kept as is
    (csv writes its own CRLF)."""
    return raw if binary else io.TextIOWrapper(raw, encoding="utf-8", newline="")


def _write_stdout(write: Callable[[IO[Any]], None], binary: bool) -> None:
    """Write to stdout; a closed pipe (``| head``) is left for the CLI to handle quietly."""
    out = sys.stdout
    if out is None:  # the program was started with stdout closed (>&-)
        raise ExportError("cannot write to stdout: it is closed")
    try:
        if binary:
            out.flush()
            write(out.buffer)
            out.buffer.flush()
        else:
            write(out)
            out.flush()
    except BrokenPipeError:
        raise  # the reader went away (| head): the CLI decides how quiet to be
    except (OSError, UnicodeError, ValueError, TypeError, AttributeError) as exc:
        raise ExportError(f"cannot write to stdout: {_reason(exc)}") from exc


def _write_through(target: Path, write: Callable[[IO[Any]], None], binary: bool) -> None:
    """Open ``target`` for writing and write into it, as the shell's ``>`` does: for a
    device, a FIFO or a link, which a rename would replace instead of writing to."""
    try:
        with _wrap(open(target, "wb"), binary) as out:
            write(out)
            out.flush()
            if stat.S_ISREG(os.fstat(out.fileno()).st_mode):
                os.fsync(out.fileno())  # a link to a regular file; devices and FIFOs may refuse it
    except Exception as exc:
        raise ExportError(f"cannot write {target}: {_reason(exc)}") from exc


_TEMP_PID = re.compile(r"\.(\d+)\.[^.]*\.tmp\Z")


def _remove_stale_temps(target: Path) -> None:
    """Delete temp files of earlier writes of ``target`` whose process is gone (killed
    with SIGKILL, or the machine stopped): their names carry the writer's pid."""
    prefix = f".{target.name}."
    try:
        names = [n for n in os.listdir(target.parent or ".") if n.startswith(prefix) and n.endswith(".tmp")]
    except OSError:
        return
    for name in names:
        m = _TEMP_PID.search(name[len(prefix) - 1 :])
        if m and not process_alive(int(m.group(1))):
            with contextlib.suppress(OSError):
                os.unlink(target.parent / name)


def process_alive(pid: int) -> bool:
    """True if a process ``pid`` exists (ours or another user's)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # EPERM: it exists, and belongs to someone else
    return True


def write_text_atomic(path: Path | str, text: str) -> None:
    """Write any text (the evaluation's JSON) the same all-or-nothing way; ``-`` is stdout."""

    def write(out: IO[str]) -> None:
        out.write(text)

    _write_atomic(path, write)


def _mode_for(target: Path) -> int:
    """The permission bits for the new file: the old file's, else 0666 less the umask."""
    with contextlib.suppress(OSError):
        return target.stat().st_mode & 0o777
    umask = os.umask(0o077)  # read the umask; the stricter value in between only narrows
    os.umask(umask)
    return 0o666 & ~umask


def write_export(result: ScanResult, path: Path | str, fmt: str | None = None, *, version: str) -> None:
    """Write a scan as JSON, JSON Lines or CSV, atomically.

    Args:
        result: the scan.
        path: the file to write; ``-`` for stdout.
        fmt: ``json``, ``jsonl`` or ``csv``; None to tell it from the suffix of ``path``
            (``.json``, ``.jsonl``/``.ndjson``, ``.csv``).
        version: the dedup version, recorded in the JSON export.

    Raises:
        ConfigError: the format is unknown or cannot be told from the suffix.
        ExportError: the file could not be written; the target is left as it was.

    Example:
        >>> write_export(result, "scan.json", version="0.1.0")  # doctest: +SKIP
    """
    kind = format_for(path, fmt)
    if kind == "json":
        _write_atomic(path, lambda out: _write_json(result, version, out))
    elif kind == "jsonl":
        _write_atomic(path, lambda out: _write_jsonl(result, out))
    else:
        _write_atomic(path, lambda out: _write_csv(result, out))


def _list_line(doc_id: str) -> str:
    """An id as one list line: escaped (escape_name), so one line is never two ids."""
    return escape_name(doc_id) + "\n"


def _list_entry(doc_id: str) -> bytes:
    """An id as one ``-0`` list entry: its exact bytes and a NUL."""
    raw = name_bytes(doc_id)
    if b"\0" in raw:
        raise ValueError(f"the id {escape_name(doc_id)!r} holds a NUL byte, which a NUL-separated list cannot carry")
    return raw + b"\0"


def write_lists(result: ScanResult, keep: Path | None, drop: Path | None, *, null: bool = False) -> None:
    """Write the ids to keep and the ids to drop, atomically: one escaped id per line, or
    with ``null`` each id's exact bytes ended by a NUL (for ``xargs -0``).

    The drop list holds every cluster member that is not its cluster's cleanest copy nor a
    superset of it (a member with substantive text of its own, see evidence.py), in
    cluster order; the keep list every other document, in ``result.docs`` order. In lines,
    ids are escaped by :func:`escape_name` (a line break is ``\\n``, a backslash
    ``\\\\``), so a line names exactly one id and writes no control character raw.

    Args:
        result: the scan; the keep list needs ``result.docs``.
        keep: where to write the keep list, or None.
        drop: where to write the drop list, or None.
        null: NUL-separated exact bytes instead of escaped lines.

    Raises:
        ExportError: a list could not be written, or a keep list was asked of a result that
            holds no document list.
    """
    dropped = [m for cluster in result.clusters for m in cluster.members if m.dropped]

    def writer(ids: list[str]) -> Callable[[IO[Any]], None]:
        if null:
            return lambda out: out.writelines(_list_entry(i) for i in ids)
        return lambda out: out.writelines(_list_line(i) for i in ids)

    if keep is not None:
        if not result.docs and result.summary.documents:
            raise ExportError(f"cannot write {keep}: the scan result holds no document list")
        gone = {(m.doc_id, m.rel, m.record) for m in dropped}
        kept = [d.doc_id for d in result.docs if (d.doc_id, d.rel, d.record) not in gone]
        _write_atomic(keep, writer(kept), binary=null)
    if drop is not None:
        _write_atomic(drop, writer([m.doc_id for m in dropped]), binary=null)


def read_export(path: Path | str) -> dict[str, Any]:
    """Read a JSON export back, checking it is one.

    Raises:
        InputError: the file cannot be read, is not JSON, or is not a ``dedup.scan`` export.
    """
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path}: {_reason(exc)}") from exc
    if not isinstance(data, dict) or not str(data.get("schema", "")).startswith("dedup.scan/"):
        raise InputError(f'{path} is not a dedup scan export (no "schema": "{SCHEMA}")')
    if data["schema"] != SCHEMA:
        raise InputError(f"{path} uses schema {data['schema']}; this dedup reads {SCHEMA}")
    return data
