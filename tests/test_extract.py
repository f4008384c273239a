"""extract / load_text: real bytes in real encodings, real HTML, JSON Lines and JSON files."""

from __future__ import annotations

import codecs
import json
import time
from pathlib import Path

import pytest

from dedup.config import ScanConfig
from dedup.decode import decode_bytes
from dedup.errors import SkipReason
from dedup.extract import JSON_ARRAY_ITEM, extract, load_text
from dedup.htmltext import html_to_text
from dedup.records import Document, Locator, Skipped, SourceFile

CONFIG = ScanConfig()


def source(path: Path, rel: str | None = None) -> SourceFile:
    return SourceFile(path=str(path), rel=rel or path.name, size=path.stat().st_size)


def run(path: Path, config: ScanConfig = CONFIG) -> list[Document | Skipped]:
    return list(extract(source(path), config))


def one_doc(path: Path, config: ScanConfig = CONFIG) -> Document:
    (item,) = run(path, config)
    assert isinstance(item, Document), item
    return item


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# --- decoding ---------------------------------------------------------------------------

CP1252_TEXT = "It\u2019s a \u201cquoted\u201d price \u2013 only \u20ac5 today\u2026\n"
LATIN1_TEXT = "Caf\u00e9 cr\u00e8me, na\u00efve fa\u00e7ade, \u00e0 la carte, se\u00f1or.\n"
GERMAN_TEXT = "Gr\u00fc\u00dfe aus M\u00fcnchen, sch\u00f6ne Gr\u00f6\u00dfe.\n"
POLISH_TEXT = "Wszystkie zmiany s\u0105 zapisane w pami\u0119ci, a \u0142\u00f3d\u017a p\u0142ynie dalej.\n"
GBK_TEXT = (
    "我们今天讨论一下文本去重的方法。这个工具可以找到相似的网页，并保留最干净的一份。数据清洗是机器学习的重要步骤。\n"
)
SJIS_TEXT = "今日はとても良い天気です。私は公園で本を読みました。明日も晴れるといいですね。\n"
RUSSIAN_TEXT = "Привет, мир! Это простой текст на русском языке.\n"


@pytest.mark.parametrize(
    ("data", "text", "encodings"),
    [
        pytest.param(b"plain ASCII\n", "plain ASCII\n", {"utf-8"}, id="ascii"),
        pytest.param("naïve — “ok”\n".encode(), "naïve — “ok”\n", {"utf-8"}, id="utf-8"),
        pytest.param(codecs.BOM_UTF8 + "naïve\n".encode(), "naïve\n", {"utf-8-sig"}, id="utf-8-bom"),
        pytest.param("naïve 日本\n".encode("utf-16"), "naïve 日本\n", {"utf-16"}, id="utf-16-bom"),
        pytest.param("naïve 日本\n".encode("utf-32"), "naïve 日本\n", {"utf-32"}, id="utf-32-bom"),
        pytest.param(
            "plain words in UTF-16\n".encode("utf-16-le"), "plain words in UTF-16\n", {"utf-16-le"}, id="utf-16-le"
        ),
        pytest.param(
            "plain words in UTF-16\n".encode("utf-16-be"), "plain words in UTF-16\n", {"utf-16-be"}, id="utf-16-be"
        ),
        pytest.param(CP1252_TEXT.encode("cp1252"), CP1252_TEXT, {"cp1252"}, id="cp1252"),
        pytest.param(LATIN1_TEXT.encode("latin-1"), LATIN1_TEXT, {"cp1252", "iso8859-1"}, id="iso-8859-1"),
        pytest.param("na\u00efve\n".encode("latin-1"), "na\u00efve\n", {"cp1252"}, id="latin-1-one-word"),
        pytest.param(GERMAN_TEXT.encode("cp1252"), GERMAN_TEXT, {"cp1252"}, id="german-cp1252"),
        pytest.param(POLISH_TEXT.encode("cp1250"), POLISH_TEXT, {"cp1250", "iso8859-2"}, id="polish-cp1250"),
        pytest.param(GBK_TEXT.encode("gbk"), GBK_TEXT, {"gbk", "gb18030", "gb2312"}, id="gbk"),
        pytest.param(SJIS_TEXT.encode("shift_jis"), SJIS_TEXT, {"shift_jis", "cp932"}, id="shift-jis"),
        pytest.param(RUSSIAN_TEXT.encode("cp1251"), RUSSIAN_TEXT, {"cp1251"}, id="russian-cp1251"),
        pytest.param(
            "UTF-8 naïve café, then a stray byte ".encode() + b"\xff here.\n",
            "UTF-8 naïve café, then a stray byte \ufffd here.\n",
            {"utf-8"},
            id="utf-8-with-a-broken-byte",
        ),
        pytest.param(b"Invalid \xff\xfe UTF-8\n", "Invalid \u00ff\u00fe UTF-8\n", {"cp1252"}, id="invalid-utf-8"),
        pytest.param(b"undefined in cp1252: \x81\x8d\n", None, None, id="never-fails"),
    ],
)
def test_decoding(tmp_path: Path, data: bytes, text: str | None, encodings: set[str] | None) -> None:
    doc = one_doc(write(tmp_path, "f.txt", data))
    assert doc.kind == "text"
    assert doc.size == len(data)
    if text is None:
        assert doc.text.startswith("undefined in cp1252: ")
        return
    assert doc.text == text
    assert encodings is not None and doc.encoding in encodings


def test_decode_bytes_is_exposed_for_other_readers() -> None:
    assert decode_bytes(CP1252_TEXT.encode("cp1252")) == (CP1252_TEXT, "cp1252")
    assert decode_bytes(b"") == ("", "utf-8")


# --- line ends, text kinds --------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "text"),
    [
        pytest.param(b"one\r\ntwo\r\n", "one\ntwo\n", id="crlf"),
        pytest.param(b"one\rtwo\r", "one\ntwo\n", id="cr"),
        pytest.param("one\x85two\u2028three\u2029four".encode(), "one\ntwo\nthree\nfour", id="nel-ls-ps"),
        pytest.param(b"a\r\nb\rc\nd", "a\nb\nc\nd", id="mixed"),
        pytest.param("one\r\ntwo\r".encode("utf-16"), "one\ntwo\n", id="utf-16-crlf"),
    ],
)
def test_line_ends_become_newlines(tmp_path: Path, data: bytes, text: str) -> None:
    assert one_doc(write(tmp_path, "f.txt", data)).text == text


def test_markdown_keeps_text_and_drops_front_matter(tmp_path: Path) -> None:
    data = "---\ntitle: Hello\ntags: [a, b]\n---\n# Heading\r\n\r\nSome *markdown* text.\n"
    doc = one_doc(write(tmp_path, "post.md", data))
    assert doc.kind == "markdown"
    assert doc.text == "# Heading\n\nSome *markdown* text.\n"


def test_markdown_rule_at_the_top_is_not_front_matter(tmp_path: Path) -> None:
    data = "---\nNot yaml here, just a rule.\n---\nMore.\n"
    assert one_doc(write(tmp_path, "post.markdown", data)).text == data


def test_whole_file_document_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "x.txt", "hello\n")
    doc = one_doc(path)
    assert doc == Document("x.txt", "x.txt", "hello\n", "utf-8", "text", 6, Locator(str(path)))


def test_unknown_endings_are_sniffed_as_text(tmp_path: Path) -> None:
    doc = one_doc(write(tmp_path, "README", "no ending at all\n"))
    assert (doc.kind, doc.text) == ("text", "no ending at all\n")


# --- HTML -------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="en"><head><title>Page title</title><meta charset="utf-8">
<style>body { color: red }</style><script>var tracking = "secret";</script></head>
<body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li></ul></nav></header>
<main><article>
<h1>Fish &amp; chips   in&nbsp;Brighton</h1>
<p>The <b>best</b> fish shop on the
   sea front, says &ldquo;everyone&rdquo;. It&#8217;s open daily.</p>
<p>Second paragraph<br>with a line break.</p>
<!-- an HTML comment that nobody sees -->
<noscript>Please enable JavaScript</noscript>
<template><p>template text</p></template>
<svg><text>svg label</text></svg>
<iframe>iframe fallback</iframe>
<object>object fallback</object>
<table><tr><td>cell one</td><td>cell two</td></tr></table>
<pre>line one
  line two</pre>
</article>
<aside>Related: <a href="/x">Chips elsewhere</a></aside>
<section class="comments"><div class="comment">Great chips! &mdash; Sam</div></section>
</main>
<footer><p>&copy; 2009 Seaside News</p></footer>
<script>document.write("late script")</script>
</body></html>"""

PAGE_TEXT = """Home
News
Fish & chips in Brighton
The best fish shop on the sea front, says “everyone”. It’s open daily.
Second paragraph
with a line break.
cell one
cell two
line one
line two
Related: Chips elsewhere
Great chips! — Sam
© 2009 Seaside News"""


def test_html_visible_text_exactly(tmp_path: Path) -> None:
    doc = one_doc(write(tmp_path, "page.html", PAGE))
    assert (doc.kind, doc.encoding) == ("html", "utf-8")
    assert doc.text == PAGE_TEXT


@pytest.mark.parametrize(
    "absent",
    ["Page title", "color: red", "secret", "late script", "nobody sees", "enable JavaScript", "template text",
     "svg label", "iframe fallback", "object fallback", "<", "&amp;", "&nbsp;", "\u00a0"],
)  # fmt: skip
def test_html_must_not_contain(absent: str) -> None:
    assert absent not in html_to_text(PAGE)


@pytest.mark.parametrize(
    "line",
    [
        "Home",
        "News",
        "Fish & chips in Brighton",
        "Related: Chips elsewhere",
        "Great chips! — Sam",
        "© 2009 Seaside News",
    ],
)
def test_html_keeps_chrome_and_paragraphs_on_their_own_lines(line: str) -> None:
    assert line in html_to_text(PAGE).split("\n")


@pytest.mark.parametrize(
    ("html", "text"),
    [
        pytest.param("<p>a <b>b</b><i>c</i> d</p>", "a bc d", id="inline-does-not-break"),
        pytest.param("<div>a<div>b</div>c</div>", "a\nb\nc", id="nested-blocks"),
        pytest.param("<p>a</p>\n\n\n<p>b</p>", "a\nb", id="blocks-one-line-each"),
        pytest.param("a<br><br><br><br>b", "a\n\nb", id="blank-lines-squeezed"),
        pytest.param("<p>  lots   of \t spaces  </p>", "lots of spaces", id="spaces-collapse"),
        pytest.param("<ul><li>one<li>two</ul>", "one\ntwo", id="unclosed-li"),
        pytest.param("text\u2028more\x85end", "text\nmore\nend", id="ls-and-nel"),
        pytest.param("<p>x &lt;b&gt; &#x41; &eacute;</p>", "x <b> A é", id="entities"),
        pytest.param("<html><head><title>t</title></head><body></body></html>", "", id="empty-body"),
        pytest.param("<pre>a\n\n\nb</pre>", "a\n\nb", id="pre-keeps-lines"),
    ],
)
def test_html_to_text_cases(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_html_meta_charset_cp1252(tmp_path: Path) -> None:
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"></head>'
        "<body><p>It\u2019s \u201cdone\u201d \u2013 \u20ac5.</p></body></html>"
    )
    doc = one_doc(write(tmp_path, "p.htm", page.encode("cp1252")))
    assert (doc.text, doc.encoding) == ("It\u2019s \u201cdone\u201d \u2013 \u20ac5.", "cp1252")


def test_html_meta_charset_is_honoured_before_guessing(tmp_path: Path) -> None:
    czech = "P\u0159\u00edli\u0161 \u017elu\u0165ou\u010dk\u00fd k\u016f\u0148 \u00fap\u011bl \u010f\u00e1belsk\u00e9 \u00f3dy."
    page = f'<html><head><meta charset="windows-1250"></head><body><p>{czech}</p></body></html>'
    doc = one_doc(write(tmp_path, "p.html", page.encode("cp1250")))
    assert (doc.text, doc.encoding) == (czech, "cp1250")


def test_html_in_utf16_with_bom(tmp_path: Path) -> None:
    doc = one_doc(write(tmp_path, "p.html", "<p>naïve</p><p>second</p>".encode("utf-16")))
    assert (doc.text, doc.encoding) == ("naïve\nsecond", "utf-16")


@pytest.mark.parametrize("prefix", ["<!DOCTYPE html>", "\n  <html>", "\ufeff<!doctype HTML>"])
def test_text_file_holding_a_page_is_html(tmp_path: Path, prefix: str) -> None:
    doc = one_doc(write(tmp_path, "saved.txt", prefix + "<body><p>a</p><script>x</script><p>b</p></body>"))
    assert (doc.kind, doc.text) == ("html", "a\nb")


def test_html_50kb_page_extracts_in_a_few_ms() -> None:
    para = "<div class='c'><p>" + "word " * 60 + "<b>bold</b> &amp; <a href='#'>link</a>.<br>x</p></div>\n"
    page = "<html><head><script>x()</script></head><body><nav>" + "<li><a>nav</a></li>" * 60
    page += para * ((50_000 - len(page)) // len(para)) + "</body></html>"
    assert 45_000 < len(page) < 55_000
    html_to_text(page)
    start = time.perf_counter()
    for _ in range(10):
        html_to_text(page)
    assert (time.perf_counter() - start) / 10 < 0.05  # measured about 2 ms; generous for slow CI


# --- JSON Lines -------------------------------------------------------------------------


def jsonl(tmp_path: Path, lines: list[str], name: str = "data.jsonl", newline: str = "\n") -> Path:
    return write(tmp_path, name, "".join(line + newline for line in lines))


def test_jsonl_good_records(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a1", "text": "first record"}),
        "",
        "   ",
        json.dumps({"id": 7, "text": "second\r\nrecord", "url": "x"}),
        json.dumps({"text": "no id here"}),
    ]
    path = jsonl(tmp_path, lines)
    items = run(path)
    assert all(isinstance(i, Document) for i in items)
    docs = [i for i in items if isinstance(i, Document)]
    assert [(d.doc_id, d.record_id, d.text, d.record) for d in docs] == [
        ("data.jsonl:a1", "a1", "first record", 1),
        ("data.jsonl:7", "7", "second\nrecord", 4),
        ("data.jsonl:5", None, "no id here", 5),
    ]
    raw = path.read_bytes().split(b"\n")
    assert docs[1].size == len(raw[3]) + 1
    assert docs[1].locator == Locator(str(path), sum(len(r) + 1 for r in raw[:3]), len(raw[3]) + 1)
    assert {d.kind for d in docs} == {"jsonl"}
    assert {d.rel for d in docs} == {"data.jsonl"}
    assert {d.encoding for d in docs} == {"utf-8"}


def test_jsonl_bad_lines_name_the_fix(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": 1, "text": "fine"}),
        "not json at all",
        json.dumps(["an", "array"]),
        json.dumps({"id": 4, "body": "x", "url": "u"}),
        json.dumps({"id": 5, "text": 42}),
        json.dumps({"id": 6, "text": "   "}),
        json.dumps({"id": 1, "text": "same id as line 1"}),
        json.dumps({}),
        json.dumps({"id": 9, "text": None}),
    ]
    items = run(jsonl(tmp_path, lines, newline="\r\n"))
    assert [i for i in items if isinstance(i, Skipped)] == [
        Skipped("data.jsonl:2", SkipReason.BAD_RECORD, "line 2: not valid JSON (Expecting value at column 1)"),
        Skipped("data.jsonl:3", SkipReason.BAD_RECORD, "line 3: not a JSON object (an array)"),
        Skipped("data.jsonl:4", SkipReason.BAD_RECORD, "line 4: no 'text' field (fields: id, body, url)"),
        Skipped("data.jsonl:5", SkipReason.BAD_RECORD, "line 5: 'text' is a number, not a string"),
        Skipped("data.jsonl:6", SkipReason.EMPTY, "line 6: no text"),
        Skipped("data.jsonl:8", SkipReason.BAD_RECORD, "line 8: no 'text' field (no fields)"),
        Skipped("data.jsonl:9", SkipReason.BAD_RECORD, "line 9: 'text' is null, not a string"),
    ]
    # A repeated id is a document like any other (the pipeline keeps ids unique).
    assert [i.doc_id for i in items if isinstance(i, Document)] == ["data.jsonl:1", "data.jsonl:1"]


def test_jsonl_text_and_id_fields(tmp_path: Path) -> None:
    path = jsonl(tmp_path, [json.dumps({"uid": "u-1", "body": "from body", "text": "not this"})])
    doc = one_doc(path, ScanConfig(text_field="body", id_field="uid"))
    assert (doc.doc_id, doc.record_id, doc.text) == ("data.jsonl:u-1", "u-1", "from body")


def test_jsonl_given_ids_are_qualified_by_the_file(tmp_path: Path) -> None:
    path = jsonl(tmp_path, [json.dumps({"id": "data.jsonl:2", "text": "a"}), json.dumps({"text": "b"})])
    assert [(d.doc_id, d.record_id) for d in run(path) if isinstance(d, Document)] == [
        ("data.jsonl:data.jsonl:2", "data.jsonl:2"),
        ("data.jsonl:2", None),
    ]


def test_jsonl_bom_and_ndjson_ending(tmp_path: Path) -> None:
    path = write(tmp_path, "d.ndjson", codecs.BOM_UTF8 + b'{"text": "bom first"}\n{"text": "second"}')
    assert [d.text for d in run(path) if isinstance(d, Document)] == ["bom first", "second"]


def test_jsonl_line_in_cp1252_falls_back(tmp_path: Path) -> None:
    path = write(tmp_path, "d.jsonl", '{"text": "caf\u00e9 \u20ac5"}\n'.encode("cp1252"))
    doc = one_doc(path)
    assert (doc.text, doc.encoding) == ("caf\u00e9 \u20ac5", "cp1252")


def test_jsonl_with_only_blank_lines_is_empty(tmp_path: Path) -> None:
    assert run(write(tmp_path, "d.jsonl", "\n\n  \n")) == [Skipped("d.jsonl", SkipReason.EMPTY, "no records")]


def test_jsonl_lone_surrogates_are_replaced(tmp_path: Path) -> None:
    doc = one_doc(write(tmp_path, "d.jsonl", '{"id": "x\\ud800", "text": "a\\udc00b"}\n'))
    assert (doc.record_id, doc.text) == ("x\ufffd", "a\ufffdb")


# --- JSON -------------------------------------------------------------------------------


def test_json_array_of_records(tmp_path: Path) -> None:
    records = [
        {"id": "r1", "text": "one"},
        {"text": "two"},
        {"title": "no text"},
        "not an object",
        {"id": "r1", "text": "dup"},
    ]
    path = write(tmp_path, "all.json", json.dumps(records, indent=2))
    items = run(path)
    assert items == [
        Document(
            "all.json:r1",
            "all.json",
            "one",
            "utf-8",
            "jsonl",
            len('{"id":"r1","text":"one"}'),
            span(path, '{\n    "id": "r1",\n    "text": "one"\n  }'),
            1,
            "r1",
        ),
        Document(
            "all.json:2",
            "all.json",
            "two",
            "utf-8",
            "jsonl",
            len('{"text":"two"}'),
            span(path, '{\n    "text": "two"\n  }'),
            2,
        ),
        Skipped("all.json:3", SkipReason.BAD_RECORD, "record 3: no 'text' field (fields: title)"),
        Skipped("all.json:4", SkipReason.BAD_RECORD, "record 4: not a JSON object (a string)"),
        Document(
            "all.json:r1",
            "all.json",
            "dup",
            "utf-8",
            "jsonl",
            len('{"id":"r1","text":"dup"}'),
            span(path, '{\n    "id": "r1",\n    "text": "dup"\n  }'),
            5,
            "r1",
        ),
    ]
    for doc in items:
        if isinstance(doc, Document):  # each item is re-read alone, as the bytes of its span
            assert load_text(doc.locator, doc.kind, ScanConfig()) == doc.text


def span(path: Path, item: str) -> Locator:
    """Where ``item`` (unique in the file) is in it: an array item's locator."""
    data = path.read_bytes()
    return Locator(str(path), data.index(item.encode()), len(item.encode()))


def test_json_single_object(tmp_path: Path) -> None:
    path = write(tmp_path, "one.json", json.dumps({"text": "the text", "lang": "en"}))
    assert one_doc(path) == Document(
        "one.json", "one.json", "the text", "utf-8", "jsonl", path.stat().st_size, Locator(str(path))
    )


EXPECTED = "expected an array of objects or an object with a 'text' field"


@pytest.mark.parametrize(
    ("content", "reason", "detail"),
    [
        (
            '{"data": [1], "meta": {}}',
            SkipReason.BAD_RECORD,
            f"not records: an object with fields: data, meta; {EXPECTED}",
        ),
        ('"just a string"', SkipReason.BAD_RECORD, f"not records: the JSON is a string; {EXPECTED}"),
        ("[1, 2, 3]", SkipReason.BAD_RECORD, f"not records: an array of a number and no objects; {EXPECTED}"),
        ("[]", SkipReason.EMPTY, "no records (an empty array)"),
        ('{"text": ', SkipReason.BAD_RECORD, "not valid JSON (Expecting value at line 1 column 10)"),
        ('{"text": ""}', SkipReason.EMPTY, "no text"),
    ],
)
def test_json_not_records_shaped(tmp_path: Path, content: str, reason: SkipReason, detail: str) -> None:
    assert run(write(tmp_path, "x.json", content)) == [Skipped("x.json", reason, detail)]


# --- load_text round trip ---------------------------------------------------------------


def test_load_text_gives_back_exactly_what_extract_gave(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "one\r\ntwo\x85three")
    write(tmp_path, "b.md", "---\ntitle: x\n---\n# T\n")
    write(tmp_path, "c.html", PAGE)
    write(tmp_path, "d.htm", "<meta charset='windows-1252'><p>\u201cq\u201d</p>".encode("cp1252"))
    write(tmp_path, "e.txt", "<!doctype html><p>sniffed</p>")
    write(tmp_path, "f.txt", CP1252_TEXT.encode("cp1252"))
    write(tmp_path, "g.txt", GBK_TEXT.encode("gbk"))
    write(tmp_path, "h.txt", "utf16\r\n".encode("utf-16"))
    write(tmp_path, "i.jsonl", codecs.BOM_UTF8 + b'{"text": "r1"}\n\n{"text": "r2\\r\\n"}\r\n{"text": "caf\xe9"}')
    write(tmp_path, "j.json", json.dumps([{"text": "j1"}, {"x": 1}, {"text": "j3"}]))
    write(tmp_path, "k.json", json.dumps({"text": "k"}))
    docs = [d for p in sorted(tmp_path.iterdir()) for d in run(p) if isinstance(d, Document)]
    assert len(docs) == 14
    for doc in docs:
        assert load_text(doc.locator, doc.kind, CONFIG) == doc.text, doc.doc_id


def test_load_text_of_a_changed_file_raises_value_error(tmp_path: Path) -> None:
    path = write(tmp_path, "j.json", json.dumps([{"text": "a"}, {"text": "b"}]))
    second = run(path)[1]
    assert isinstance(second, Document)
    path.write_text("[]")
    with pytest.raises(ValueError, match="not valid JSON"):  # the item's bytes are gone
        load_text(second.locator, second.kind, CONFIG)
    # A JSON file in another encoding than UTF-8: its items are found by index.
    utf16 = tmp_path / "u.json"
    utf16.write_bytes(json.dumps([{"text": "a"}, {"text": "b"}]).encode("utf-16"))
    second = run(utf16)[1]
    assert isinstance(second, Document) and second.locator.length == JSON_ARRAY_ITEM
    assert load_text(second.locator, second.kind, CONFIG) == "b"
    utf16.write_bytes("[]".encode("utf-16"))
    with pytest.raises(ValueError, match="no JSON array item 1"):
        load_text(second.locator, second.kind, CONFIG)


# --- sizes ------------------------------------------------------------------------------


def test_50_mb_single_line_file(tmp_path: Path) -> None:
    path = write(tmp_path, "huge.txt", b"word " * (10 * 1024 * 1024))
    start = time.perf_counter()
    doc = one_doc(path)
    elapsed = time.perf_counter() - start
    assert doc.size == 50 * 1024 * 1024
    assert len(doc.text) == doc.size
    assert doc.text.startswith("word word")
    assert "\n" not in doc.text
    assert elapsed < 5  # measured about 0.1 s


def test_file_grown_past_the_limit_after_the_walk(tmp_path: Path) -> None:
    path = write(tmp_path, "x.txt", "x" * 100)
    item = next(extract(SourceFile(str(path), "x.txt", 10), ScanConfig(max_bytes=50)))
    assert item == Skipped("x.txt", SkipReason.TOO_LARGE, "100 bytes > 50 byte limit (--max-bytes)")
