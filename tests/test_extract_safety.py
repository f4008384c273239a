"""Extraction is bounded and never raises: crafted HTML that stalls the parser is a
`too-complex` skip, ordinary pages are untouched, and random files of every kind give a
Document or a Skipped with a one-line detail (hypothesis, a bounded number of examples)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup.config import ScanConfig
from dedup.errors import SkipReason
from dedup.extract import extract
from dedup.htmltext import html_complexity, html_to_text
from dedup.records import Document, Skipped, SourceFile

CONFIG = ScanConfig()


def run(tmp_path: Path, name: str, data: bytes | str) -> list[Document | Skipped]:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return list(extract(SourceFile(str(path), name, path.stat().st_size), CONFIG))


def well_formed(items: list[Document | Skipped]) -> None:
    """What every extraction must give: documents or skips, each skip one short line."""
    assert items
    for item in items:
        assert isinstance(item, (Document, Skipped))
        if isinstance(item, Skipped):
            assert isinstance(item.reason, SkipReason)
            assert item.detail and "\n" not in item.detail and len(item.detail) <= 200


# --- #6: crafted HTML -------------------------------------------------------------------

ATTRIBUTES = "<html><body><div " + " ".join(f'a{i}="x"' for i in range(100_000)) + ">hello</div></body></html>"
NESTED = "<html><body>" + "<div>" * 100_000 + "x" + "</div>" * 100_000 + "</body></html>"
OPTIONS = "<html><body><select>" + "<option>x</option>" * 60_000 + "</select></body></html>"
# End tags the tree builder ignores (a <table> is a scope boundary): the divs stay open.
MISNESTED = "<html><body>" + "<div><table></div></table>" * 40_000 + "</body></html>"
QUOTED_GT = "<html><body><div " + " ".join(f'a{i}=">"' for i in range(20_000)) + ">x</div></body></html>"


@pytest.mark.parametrize(
    ("page", "detail"),
    [
        (ATTRIBUTES, "a tag with 100,000 attributes"),
        (NESTED, "elements nested 100,000 deep"),
        (OPTIONS, "a <select> with 60,000 options"),
        (MISNESTED, "elements nested 40,001 deep"),
        (QUOTED_GT, "a tag with 20,000 attributes"),
    ],
    ids=["attributes", "nested", "options", "misnested", "quoted-gt"],
)
def test_crafted_html_is_skipped_quickly(tmp_path: Path, page: str, detail: str) -> None:
    started = time.perf_counter()
    items = run(tmp_path, "page.html", page)
    seconds = time.perf_counter() - started
    assert items == [
        Skipped("page.html", SkipReason.TOO_COMPLEX, f"HTML too complex to parse in bounded time: {detail}")
    ]
    assert seconds < 10, f"{seconds:.1f} s"  # the parser alone took 26-60 s on these


def test_crafted_page_with_a_text_ending_is_skipped_too(tmp_path: Path) -> None:
    assert [i.reason for i in run(tmp_path, "page.txt", "<!DOCTYPE html>" + NESTED) if isinstance(i, Skipped)] == [
        SkipReason.TOO_COMPLEX
    ]


# Structures an ordinary page has in bulk: none is near the limit, and the text is the same.
ORDINARY = {
    "many paragraphs": "<html><body>" + "<div class='p'><p>Some <b>bold</b> text here.</p></div>\n" * 20_000,
    "big table": "<table>" + "<tr><td>cell</td><td>more</td></tr>" * 20_000 + "</table>",
    "svg icons": "<body>" + "<svg viewBox='0 0 9 9'><path d='M0 0'/><circle r='1'/></svg><span>a</span>" * 10_000,
    "tags in scripts": "<body><script>" + "var s = '<div><div><div>';" * 20_000 + "</script><p>text</p>",
    "tags in comments": "<body><!--" + "<div>" * 20_000 + "--><p>text</p>",
    "unclosed paragraphs and items": "<body><ul>" + "<li>item<p>para" * 20_000 + "</ul>",
    "sixty attributes": "<body>" + ("<div " + " ".join(f"data-a{i}='v'" for i in range(60)) + ">x</div>") * 2_000,
    "sloppy spans": "<body>" + "<div><span>text</div>" * 20_000,
    "a long select": "<body><select>" + "<option>country</option>" * 300 + "</select>",
}


@pytest.mark.parametrize("page", list(ORDINARY.values()), ids=list(ORDINARY))
def test_ordinary_structures_in_bulk_are_not_too_complex(page: str) -> None:
    assert html_complexity(page) is None
    assert html_to_text(page)


def test_limits_sit_far_above_ordinary_pages() -> None:
    # 2,000 nested divs and a tag of 2,000 attributes parse in milliseconds: not flagged.
    assert html_complexity("<div>" * 2_000 + "x" + "</div>" * 2_000) is None
    assert html_complexity("<div " + " ".join(f"a{i}" for i in range(2_000)) + ">x</div>") is None


# --- fuzzing: random bytes, records and structures --------------------------------------

SUFFIXES = [".txt", ".html", ".md", ".jsonl", ".json", ".csv", ""]
FUZZ = settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_of_any_kind(tmp_path: Path, data: bytes, suffix: str) -> None:
    well_formed(run(tmp_path, "f" + suffix, data))


@FUZZ
@given(
    text=st.text(st.characters(codec="utf-8"), max_size=500),
    suffix=st.sampled_from(SUFFIXES),
    encoding=st.sampled_from(["utf-8", "utf-16", "cp1252", "gb18030", "shift_jis", "utf-32"]),
)
def test_random_text_in_random_encodings(tmp_path: Path, text: str, suffix: str, encoding: str) -> None:
    well_formed(run(tmp_path, "f" + suffix, text.encode(encoding, errors="replace")))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
RECORDS = st.dictionaries(st.sampled_from(["id", "text", "body", "url"]), JSON_VALUES, max_size=4) | JSON_VALUES


@FUZZ
@given(records=st.lists(RECORDS, max_size=8), blank=st.booleans())
def test_random_json_records(tmp_path: Path, records: list[object], blank: bool) -> None:
    lines = [json.dumps(r) for r in records]
    if blank:
        lines.insert(len(lines) // 2, "")
    well_formed(run(tmp_path, "f.jsonl", "\n".join(lines) + "\n"))
    well_formed(run(tmp_path, "f.json", json.dumps(records)))


TAGS = ["div", "p", "span", "table", "tr", "td", "select", "option", "svg", "b", "a", "li", "ul", "script", "pre"]


@st.composite
def html_pages(draw: st.DrawFn) -> str:
    """Random tag soup: start and end tags in any order, attributes, text, comments, quotes."""
    parts = []
    for _ in range(draw(st.integers(0, 60))):
        tag = draw(st.sampled_from(TAGS))
        kind = draw(st.sampled_from(["open", "close", "text", "comment", "attrs", "selfclose"]))
        if kind == "open":
            parts.append(f"<{tag}>")
        elif kind == "close":
            parts.append(f"</{tag}>")
        elif kind == "text":
            parts.append(draw(st.text(max_size=20)))
        elif kind == "comment":
            parts.append(f"<!--{draw(st.text(max_size=10))}")
        elif kind == "attrs":
            value = draw(st.text(max_size=10)).replace('"', "")
            parts.append(f"<{tag} a=\"{value}\" b='<' c=>")
        else:
            parts.append(f"<{tag}/>")
    return "".join(parts)


@FUZZ
@given(page=html_pages())
def test_random_html_structures(tmp_path: Path, page: str) -> None:
    items = run(tmp_path, "f.html", page)
    well_formed(items)
    assert all(i.reason != SkipReason.EXTRACT_FAILED for i in items if isinstance(i, Skipped))
