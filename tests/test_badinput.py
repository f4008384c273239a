"""Bad input while reading and decoding: every case becomes a record, nothing raises.

Real files only: a file removed after the walk, a folder or a FIFO where a file was,
binary data, broken encodings and names, broken markup and JSON. Written against
read.walk and extract.extract directly.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup.config import ScanConfig
from dedup.errors import SkipReason
from dedup.extract import extract, load_text
from dedup.read import walk
from dedup.records import Document, Skipped, SourceFile

CONFIG = ScanConfig()


def run(path: Path, rel: str | None = None, size: int = 0) -> list[Document | Skipped]:
    return list(extract(SourceFile(path=str(path), rel=rel or path.name, size=size), CONFIG))


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# --- unreadable -------------------------------------------------------------------------


def test_file_removed_between_walk_and_extract(tmp_path: Path) -> None:
    write(tmp_path, "gone.txt", "soon gone")
    (source,) = walk([tmp_path], CONFIG)
    assert isinstance(source, SourceFile)
    Path(source.path).unlink()
    assert list(extract(source, CONFIG)) == [Skipped("gone.txt", SkipReason.UNREADABLE, "no such file")]


def test_folder_where_a_file_was(tmp_path: Path) -> None:
    (tmp_path / "x.txt").mkdir()
    assert run(tmp_path / "x.txt") == [Skipped("x.txt", SkipReason.UNREADABLE, "is a folder")]


@pytest.mark.parametrize("name", ["pipe.txt", "pipe.jsonl"])
def test_fifo_where_a_file_was_does_not_hang(tmp_path: Path, name: str) -> None:
    os.mkfifo(tmp_path / name)
    assert run(tmp_path / name) == [Skipped(name, SkipReason.NOT_A_FILE, "FIFO, not a regular file")]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads a file with mode 000")
def test_file_without_read_permission(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.txt", "x")
    path.chmod(0)
    assert run(path) == [Skipped("secret.txt", SkipReason.UNREADABLE, "permission denied")]


def test_unexpected_error_is_one_line_extract_failed() -> None:
    # A NUL in a path is refused by Python itself with ValueError, not OSError: the kind of
    # surprise the per-file boundary exists for.
    items = run(Path("bad\x00name.txt"), rel="bad-name.txt")
    assert items == [Skipped("bad-name.txt", SkipReason.EXTRACT_FAILED, "ValueError: embedded null byte")]


# --- empty ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "detail"),
    [
        ("empty.txt", b"", "no text"),
        ("spaces.txt", b"  \r\n\t\n", "no text"),
        ("bom-only.txt", b"\xef\xbb\xbf", "no text"),
        ("empty.md", b"", "no text"),
        ("empty.html", b"", "no text"),
        ("script-only.html", b"<html><head><title>T</title></head><body><script>x()</script></body></html>", "no text"),
        ("empty.json", b"", "no text"),
        ("empty.jsonl", b"", "no records"),
    ],
)
def test_empty_files(tmp_path: Path, name: str, data: bytes, detail: str) -> None:
    assert run(write(tmp_path, name, data)) == [Skipped(name, SkipReason.EMPTY, detail)]


# --- binary -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "detail"),
    [
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "PNG image"),
        ("photo", b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG image"),
        ("anim.html", b"GIF89a\x01\x00\x01\x00", "GIF image"),
        ("paper.txt", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "PDF document"),
        ("doc.md", b"PK\x03\x04\x14\x00\x06\x00", "ZIP archive"),
        ("data.jsonl", b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip data"),
        ("data.json", b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip data"),
        ("random.bin", bytes((i * 7919 + 13) % 251 for i in range(4096)), "binary data (NUL bytes)"),
        ("nul.txt", b"text with one NUL\x00 inside", "binary data (NUL bytes)"),
        ("nul.jsonl", b'{"text": "a"}\n\x00\x01\x02', "binary data (NUL bytes)"),
    ],
)
def test_binary_files(tmp_path: Path, name: str, data: bytes, detail: str) -> None:
    assert run(write(tmp_path, name, data)) == [Skipped(name, SkipReason.BINARY, detail)]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_are_text_not_binary(tmp_path: Path, encoding: str) -> None:
    (doc,) = run(write(tmp_path, "wide.txt", "Plain English text, wide.\n".encode(encoding)))
    assert isinstance(doc, Document)
    assert doc.text == "Plain English text, wide.\n"


def test_utf16_json_lines_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "wide.jsonl", '{"text": "a"}\n'.encode("utf-16"))
    detail = "JSON Lines must be UTF-8, this file is UTF-16: convert it (iconv -t UTF-8)"
    assert run(path) == [Skipped("wide.jsonl", SkipReason.BAD_RECORD, detail)]


# --- broken encodings, names, markup and JSON -------------------------------------------


def test_utf8_cut_in_the_middle_of_a_character(tmp_path: Path) -> None:
    data = "naïve café résumé ".encode() + "é".encode()[:1]
    (doc,) = run(write(tmp_path, "cut.txt", data))
    assert isinstance(doc, Document)
    assert (doc.text, doc.encoding) == ("naïve café résumé \ufffd", "utf-8")


def test_undecodable_file_name_walks_and_extracts(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/r\xe9sum\xe9.txt"
    fd = os.open(raw, os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, "Curriculum vitae, caf\u00e9.\n".encode("cp1252"))
    os.close(fd)
    (source,) = walk([tmp_path], CONFIG)
    assert isinstance(source, SourceFile)
    (doc,) = extract(source, CONFIG)
    assert isinstance(doc, Document)
    assert (doc.doc_id, doc.rel) == ("r\udce9sum\udce9.txt", "r\udce9sum\udce9.txt")
    assert doc.text == "Curriculum vitae, caf\u00e9.\n"
    assert load_text(doc.locator, doc.kind, CONFIG) == doc.text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        pytest.param("<p>unclosed <b>bold <i>italic</p> after", "unclosed bold italic\nafter", id="unclosed"),
        pytest.param("</div></div><p>stray closers</p></span>", "stray closers", id="stray-closers"),
        pytest.param("<p <b>odd tag</b> text", "odd tag text", id="odd-tag"),
        pytest.param("<table><p>foster parented</p><tr><td>cell", "foster parented\ncell", id="foster-parent"),
        pytest.param(  # NULs past the binary sniff must not pass for our line marks
            "<!--" + "x" * 9000 + "--><p>nul\x00s and \x00h markers</p>", "nuls and h markers", id="nul-in-text"
        ),
        pytest.param("<script>never closed <p>hidden", "", id="unclosed-script"),
        pytest.param("<p>" + "<div>" * 5000 + "deep" + "</div>" * 5000, "deep", id="deep-nesting"),
    ],
)
def test_broken_markup(tmp_path: Path, html: str, text: str) -> None:
    items = run(write(tmp_path, "broken.html", html))
    if text:
        assert [(i.text if isinstance(i, Document) else i) for i in items] == [text]
    else:
        assert items == [Skipped("broken.html", SkipReason.EMPTY, "no text")]


@pytest.mark.parametrize(
    ("line", "detail"),
    [
        pytest.param("[" * 100_000, "line 1: not valid JSON (nested too deeply)", id="deep"),
        pytest.param(
            '{"text": "x", "n": ' + "1" * 5000 + "}",
            "line 1: not valid JSON (Exceeds the limit (4300 digits) for integer string conversion)",
            id="huge-number",
        ),
        pytest.param(
            '{"text": "unterminated', "line 1: not valid JSON (Unterminated string starting at column 10)", id="cut"
        ),
        pytest.param("\x00", None, id="nul"),
    ],
)
def test_json_lines_that_break_the_parser(tmp_path: Path, line: str, detail: str | None) -> None:
    path = write(tmp_path, "d.jsonl", "x" * 9000 + "\n" + line + "\n")  # past the binary sniff
    items = run(path)
    if detail is None:
        assert [i.reason for i in items if isinstance(i, Skipped)] == [SkipReason.BAD_RECORD, SkipReason.BAD_RECORD]
        return
    assert items[1] == Skipped("d.jsonl:2", SkipReason.BAD_RECORD, detail.replace("line 1", "line 2"))


# --- the law: extract never raises, and load_text agrees with it ------------------------

SUFFIXES = [".txt", ".html", ".md", ".jsonl", ".json", ""]


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
        st.text(max_size=100).map(lambda s: ("<p>" + s + "</p><br>").encode("utf-16", "surrogatepass")),
        st.lists(st.text(max_size=20), max_size=5).map(
            lambda xs: "\n".join(json.dumps({"text": x}, ensure_ascii=False) for x in xs).encode(
                "utf-8", "surrogatepass"
            )
        ),
    ),
    suffix=st.sampled_from(SUFFIXES),
)
def test_extract_never_raises_and_load_text_round_trips(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"f{suffix}"
        path.write_bytes(data)
        for item in extract(SourceFile(str(path), path.name, len(data)), CONFIG):
            if isinstance(item, Skipped):
                assert item.reason is not SkipReason.EXTRACT_FAILED, item
                assert "\n" not in item.detail
                continue
            assert item.text and not item.text.isspace()
            assert "\r" not in item.text and "\x85" not in item.text
            item.text.encode("utf-8")  # no lone surrogates reach later stages
            assert load_text(item.locator, item.kind, CONFIG) == item.text
