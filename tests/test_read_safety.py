"""Reading never hangs and leaves nothing out unsaid: special files, FIFOs put in a file's
place after the walk, oversized JSON Lines records, and dedup's own exports.

Real files, real FIFOs, sockets and device nodes; every test that could hang on a FIFO
runs under a deadline, so a regression fails instead of stopping the suite.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import pytest

from dedup import ScanConfig, scan
from dedup.errors import SkipReason
from dedup.export import write_export
from dedup.extract import extract, extract_range, jsonl_ranges, load_text
from dedup.read import walk
from dedup.records import Document, Skipped, SourceFile

TEXT = "The quick brown fox jumps over the lazy dog near the quiet river bank today."


class Hung(BaseException):
    """A read that should have returned at once was still blocked (a BaseException, so
    that no per-file ``except Exception`` turns it into a skip and blocks again)."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise Hung in this (the main) thread after ``seconds``: a blocking open() of a FIFO
    is interrupted by the signal, and Python raises from the handler instead of retrying."""

    def hung(signum: int, frame: FrameType | None) -> None:
        raise Hung(f"still blocked after {seconds} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def sources(root: Path, config: ScanConfig | None = None) -> list[SourceFile]:
    return [s for s in walk([root], config or ScanConfig()) if isinstance(s, SourceFile)]


def replace_by_fifo(path: str) -> None:
    os.unlink(path)
    os.mkfifo(path)


def jsonl_lines(n: int, start: int = 0) -> str:
    return "".join(json.dumps({"id": f"r{i}", "text": f"{TEXT} {i}"}) + "\n" for i in range(start, start + n))


# --- #18: FIFOs, sockets and devices in a folder are listed ------------------------------


def test_special_files_are_listed_as_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(TEXT)
    os.mkfifo(tmp_path / "pipe.txt")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock"))
        items = list(walk([tmp_path], ScanConfig()))
    assert [i.rel for i in items if isinstance(i, SourceFile)] == ["a.txt"]
    assert [i for i in items if isinstance(i, Skipped)] == [
        Skipped("pipe.txt", SkipReason.NOT_A_FILE, "FIFO"),
        Skipped("sock", SkipReason.NOT_A_FILE, "socket"),
    ]


def test_device_node_is_listed_as_not_a_file(tmp_path: Path) -> None:
    try:  # the same device as /dev/null; never opened by the walk
        os.mknod(tmp_path / "null", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs root")
    assert list(walk([tmp_path], ScanConfig())) == [Skipped("null", SkipReason.NOT_A_FILE, "character device")]


def test_hidden_and_excluded_special_files_stay_silent(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / ".hidden-pipe")
    os.mkfifo(tmp_path / "skip.fifo")
    (tmp_path / "keep").mkdir()
    os.mkfifo(tmp_path / "keep" / "pipe")
    assert list(walk([tmp_path], ScanConfig(exclude=("*.fifo",)))) == [
        Skipped("keep/pipe", SkipReason.NOT_A_FILE, "FIFO")
    ]
    assert list(walk([tmp_path], ScanConfig(include=("*.txt",)))) == []


def test_scan_reports_a_fifo_in_the_folder(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(TEXT)
    os.mkfifo(tmp_path / "pipe.txt")
    with deadline(60):
        result = scan([tmp_path], ScanConfig(jobs=1), cache=None)
    assert [(k.rel, k.reason, k.detail) for k in result.skipped] == [("pipe.txt", SkipReason.NOT_A_FILE, "FIFO")]


# --- #5: a FIFO put in a file's place after the walk ------------------------------------


@pytest.mark.parametrize("name", ["a.txt", "a.html", "a.json", "a.jsonl"])
def test_fifo_after_the_walk_is_a_skip_not_a_hang(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(jsonl_lines(3) if name.endswith(".jsonl") else TEXT)
    (source,) = sources(tmp_path)
    replace_by_fifo(source.path)
    with deadline(10):
        items = list(extract(source, ScanConfig()))
    assert items == [Skipped(name, SkipReason.NOT_A_FILE, "FIFO, not a regular file")]


def test_fifo_after_the_walk_in_a_big_jsonl_is_a_skip_not_a_hang(tmp_path: Path) -> None:
    # Bigger than the split size given, so the run cuts it into ranges as it hashes it.
    (tmp_path / "big.jsonl").write_text(jsonl_lines(200))
    (source,) = sources(tmp_path)
    replace_by_fifo(source.path)
    config = ScanConfig()
    with deadline(10):
        ranges = jsonl_ranges(source, config, target=1000)
        items = list(extract(source, config)) if ranges is None else []
        for start, stop, line in ranges or ():
            items.extend(extract_range(source, config, start, stop, line))
    assert items == [Skipped("big.jsonl", SkipReason.NOT_A_FILE, "FIFO, not a regular file")]


def test_fifo_between_cutting_and_reading_a_range_is_a_skip(tmp_path: Path) -> None:
    (tmp_path / "big.jsonl").write_text(jsonl_lines(200))
    (source,) = sources(tmp_path)
    config = ScanConfig()
    ranges = jsonl_ranges(source, config, target=1000)
    assert ranges is not None
    first = next(ranges)
    replace_by_fifo(source.path)
    with deadline(10):
        rest = list(ranges)  # the file is read as ranges are handed out: it is a FIFO now
        items = [i for start, stop, line in (first, *rest) for i in extract_range(source, config, start, stop, line)]
    assert items
    assert all(i == Skipped("big.jsonl", SkipReason.NOT_A_FILE, "FIFO, not a regular file") for i in items)


def test_fifo_where_a_member_was_is_not_reread(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(TEXT)
    (source,) = sources(tmp_path)
    (doc,) = extract(source, ScanConfig())
    assert isinstance(doc, Document)
    replace_by_fifo(source.path)
    with deadline(10), pytest.raises(OSError, match="not a regular file"):
        load_text(doc.locator, doc.kind, ScanConfig())


# --- #7: an oversized JSON Lines record costs a block, not its size ----------------------


def big_line(size: int) -> str:
    """One JSON record of about ``size`` bytes, newline included."""
    return json.dumps({"id": "big", "text": "x" * (size - 30)}) + "\n"


def test_oversized_line_is_skipped_and_the_rest_keeps_its_lines(tmp_path: Path) -> None:
    before, huge, after = jsonl_lines(2), big_line(3_000_000), jsonl_lines(2, start=2)
    path = tmp_path / "data.jsonl"
    path.write_text(before + "\n" + huge + after)  # a blank line 3: still counted
    config = ScanConfig(max_bytes=10_000)
    items = list(extract(SourceFile(str(path), "data.jsonl", path.stat().st_size), config))
    size = len(huge.encode())
    assert [i for i in items if isinstance(i, Skipped)] == [
        Skipped("data.jsonl:4", SkipReason.TOO_LARGE, f"line 4: {size:,} bytes > 10,000 byte limit (--max-bytes)")
    ]
    docs = [i for i in items if isinstance(i, Document)]
    assert [(d.record, d.text) for d in docs] == [
        (1, f"{TEXT} 0"),
        (2, f"{TEXT} 1"),
        (5, f"{TEXT} 2"),
        (6, f"{TEXT} 3"),
    ]
    data, lines = path.read_bytes(), path.read_bytes().splitlines(keepends=True)
    for d in docs:  # offsets count the skipped line's bytes too
        assert d.record is not None
        assert data[d.locator.offset : d.locator.offset + d.locator.length] == lines[d.record - 1]
        assert load_text(d.locator, d.kind, config) == d.text


def test_oversized_line_at_the_end_without_newline(tmp_path: Path) -> None:
    last = big_line(50_000).rstrip("\n")
    path = tmp_path / "data.jsonl"
    path.write_text(jsonl_lines(1) + last)
    items = list(extract(SourceFile(str(path), "data.jsonl", 0), ScanConfig(max_bytes=1000)))
    assert [type(i).__name__ for i in items] == ["Document", "Skipped"]
    detail = f"line 2: {len(last):,} bytes > 1,000 byte limit (--max-bytes)"
    assert items[1] == Skipped("data.jsonl:2", SkipReason.TOO_LARGE, detail)


def test_line_of_exactly_max_bytes_is_read(tmp_path: Path) -> None:
    line = big_line(2000)
    path = tmp_path / "data.jsonl"
    path.write_text(line + jsonl_lines(1))
    config = ScanConfig(max_bytes=len(line))
    items = list(extract(SourceFile(str(path), "data.jsonl", 0), config))
    assert [i.record for i in items if isinstance(i, Document)] == [1, 2]
    smaller = list(extract(SourceFile(str(path), "data.jsonl", 0), ScanConfig(max_bytes=len(line) - 1)))
    assert [type(i).__name__ for i in smaller] == ["Skipped", "Document"]


def peak_while(run: Callable[[], object]) -> int:
    """Peak bytes Python allocated while ``run()`` ran."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_oversized_line_memory_is_bounded_by_max_bytes_not_the_line(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text(jsonl_lines(1) + big_line(40_000_000) + jsonl_lines(1, start=1))
    source = SourceFile(str(path), "data.jsonl", path.stat().st_size)
    config = ScanConfig(max_bytes=100_000)
    items: list[Document | Skipped] = []
    peak = peak_while(lambda: items.extend(extract(source, config)))
    assert [i.record if isinstance(i, Document) else i.reason for i in items] == [1, SkipReason.TOO_LARGE, 3]
    assert peak < 2_000_000, f"{peak:,} bytes to skip a 40 MB line with --max-bytes 100,000"


def test_oversized_line_in_a_range_is_bounded_too(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text(jsonl_lines(50) + big_line(20_000_000) + jsonl_lines(50, start=50))
    source = SourceFile(str(path), "data.jsonl", path.stat().st_size)
    config = ScanConfig(max_bytes=100_000)
    ranges = jsonl_ranges(source, config, target=2000)
    assert ranges is not None
    items: list[Document | Skipped] = []

    def run() -> None:
        for start, stop, line in ranges:
            items.extend(extract_range(source, config, start, stop, line))

    peak = peak_while(run)
    assert [i.record for i in items if isinstance(i, Document)] == [*range(1, 51), *range(52, 102)]
    assert [(i.rel, i.reason) for i in items if isinstance(i, Skipped)] == [("data.jsonl:51", SkipReason.TOO_LARGE)]
    assert peak < 2_000_000, f"{peak:,} bytes for ranges holding a 20 MB line"


# --- #18: dedup's own exports in the scanned folder -------------------------------------


def test_exports_in_the_scanned_folder_are_not_documents(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (corpus / name).write_text(f"{TEXT}\n" * 20)
    (corpus / "records.jsonl").write_text(jsonl_lines(3))
    config = ScanConfig(jobs=1)
    first = scan([corpus], config, cache=None)
    assert first.clusters
    names = {"out.json": "json", "out.jsonl": "jsonl", "out.csv": "csv", "out.txt": "csv", "list.ndjson": "jsonl"}
    for name, fmt in names.items():
        write_export(first, corpus / name, fmt, version="test")
    again = scan([corpus], config, cache=None)
    dedup_skips = {k.rel: k.detail for k in again.skipped if k.reason == SkipReason.DEDUP_OUTPUT}
    assert dedup_skips == {
        "list.ndjson": "a dedup JSON Lines export",
        "out.csv": "a dedup CSV export",
        "out.json": "a dedup JSON export (schema dedup.scan)",
        "out.jsonl": "a dedup JSON Lines export",
        "out.txt": "a dedup CSV export",
    }
    assert [k for k in again.skipped if k.reason != SkipReason.DEDUP_OUTPUT] == list(first.skipped)
    assert [[m.doc_id for m in c.members] for c in again.clusters] == [
        [m.doc_id for m in c.members] for c in first.clusters
    ]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("notes.csv", "cluster,id,name\n1,2,three\n"),  # a user's CSV with two of the same column names
        ("schema.json", '{"schema": "my.app/1", "text": "the schema of my app"}'),
        ("clusters.jsonl", '{"cluster": 1, "id": "a", "text": "a record of my own"}\n'),
    ],
)
def test_lookalikes_of_exports_are_still_read(tmp_path: Path, name: str, data: str) -> None:
    path = tmp_path / name
    path.write_text(data)
    items = list(extract(SourceFile(str(path), name, len(data)), ScanConfig()))
    assert items and all(isinstance(i, Document) for i in items)
