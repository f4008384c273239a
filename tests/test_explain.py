"""dedup explain: the scan's own measures and decision for one pair, and why, on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from dedup import ScanConfig, scan
from dedup.errors import InputError
from dedup.explain import explain, load_document, passages

SAMPLES = REPO / "samples"
S000 = str(next(SAMPLES.glob("000_*.txt")))
S001 = str(next(SAMPLES.glob("001_*.txt")))
S002 = str(next(SAMPLES.glob("002_*.txt")))
S003 = str(next(SAMPLES.glob("003_*.txt")))


def run(*args: str, width: int = 100) -> tuple[int, str, str]:
    from dedup.cli import main

    result = CliRunner().invoke(main, ["explain", *args], env={"COLUMNS": str(width)})
    return result.exit_code, result.stdout, result.stderr


def flat(text: str) -> str:
    return " ".join(text.split())


def test_summit_pair_is_joined_by_containment() -> None:
    e = explain(S000, S001)
    assert e.copies and e.rule == "containment" and not e.template_pages
    assert e.a_in_b > 0.99 and 0.5 < e.b_in_a < 0.55  # 000 is inside 001, not the other way round
    assert e.jaccard < ScanConfig().jaccard_threshold  # a plain Jaccard threshold misses them
    assert e.anchored and e.candidate  # the anchors found them
    # The same measures and decision as the scan of the folder.
    result = scan(SAMPLES, ScanConfig(jobs=1))
    (match,) = result.matches
    assert (match.jaccard, match.containment, match.rule) == (e.jaccard, e.containment, e.rule)
    # The wrapper's chrome is what B holds alone, the article what they share.
    only_b = " ".join(p.excerpt for p in e.passages if p.where == "b")
    assert "跳至主要内容" in only_b and "此博客中的热门博文" in only_b
    assert sum(p.words for p in e.passages if p.where == "both") > 500
    assert sum(p.words for p in e.passages if p.where == "a") < 10


def test_summit_pair_through_the_cli() -> None:
    code, out, err = run(S000, S001)
    assert code == 0 and err == ""
    text = flat(out)
    assert "Copies: a scan joins them by containment (A inside B)." in text
    assert "99.3% of A (the smaller) is inside B: at or above --containment 0.8, the containment rule" in text
    assert "Jaccard 51.9% is below --jaccard 0.7" in text
    assert "A inside B 99.3%" in text and "B inside A 52.1%" in text
    assert "anchors 34 shared" in text and "a candidate pair" in text
    assert "of 32 bands (4 rows each) agree" in text
    assert "B only" in out and "跳至主要内容" in out


def test_same_story_pair_is_not_copies_and_says_why() -> None:
    e = explain(S002, S003)
    assert not e.copies and e.rule is None
    assert e.jaccard < 0.05 and e.containment < 0.05
    assert not e.lsh and not e.anchored
    assert sum(p.words for p in e.passages if p.where == "both") < 20  # names, not passages
    code, out, _ = run(S002, S003)
    assert code == 0
    text = flat(out)
    assert "Not copies: a scan does not join them directly." in text
    assert f"Jaccard {e.jaccard * 100:.1f}% is below --jaccard 0.7" in text
    assert "(the smaller) is inside" in text and "below --containment 0.8" in text
    assert "not a candidate" in text
    assert "they share 0 shingles: less than half of either is in the other, so they are two different texts" in text


def test_thresholds_are_the_options_given() -> None:
    strict = ScanConfig(containment_threshold=0.995)
    e = explain(S000, S001, strict)
    assert not e.copies and e.rule is None
    assert any("below --containment 0.995" in r for r in e.reasons())
    code, out, _ = run(S000, S001, "--containment", "0.995")
    assert code == 0 and "Not copies" in out


def test_guards_are_named(tmp_path: Path) -> None:
    """A quote inside a long page: contained, but too small beside it (--min-size-ratio)."""
    page = " ".join(f"word{i} filler{i % 13}" for i in range(2000))
    quote = " ".join(page.split()[100:200])
    (tmp_path / "page.txt").write_text(page, encoding="utf-8")
    (tmp_path / "quote.txt").write_text(quote, encoding="utf-8")
    e = explain(str(tmp_path / "quote.txt"), str(tmp_path / "page.txt"))
    assert e.containment == 1.0 and not e.copies
    assert any("under --min-size-ratio 0.15" in r for r in e.reasons())


def test_records_by_id_and_by_line(tmp_path: Path) -> None:
    text = Path(S000).read_text(encoding="utf-8")
    wrapped = Path(S001).read_text(encoding="utf-8")
    data = tmp_path / "data.jsonl"
    rows = [{"id": "plain", "text": text}, {"id": "blog", "text": wrapped}, {"text": "no id here, a short one"}]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    e = explain(f"{data}:plain", f"{data}:blog")
    assert e.copies and e.rule == "containment"
    assert (e.a.doc_id, e.b.doc_id) == (f"{data}:plain", f"{data}:blog")
    assert load_document(f"{data}:3", ScanConfig()).record == 3  # a record without an id: its line
    urls = tmp_path / "urls.jsonl"
    urls.write_text(json.dumps({"url": "https://example.com/a:b", "text": text}) + "\n", encoding="utf-8")
    by_url = load_document(f"{urls}:https://example.com/a:b", ScanConfig(id_field="url"))
    assert by_url.record_id == "https://example.com/a:b"  # an id with colons in it
    # The same record as a file of its own measures the same.
    (tmp_path / "plain.txt").write_text(text, encoding="utf-8")
    assert explain(str(tmp_path / "plain.txt"), f"{data}:blog").containment == e.containment


def test_bad_names_are_one_line_errors(tmp_path: Path) -> None:
    data = tmp_path / "data.jsonl"
    data.write_text('{"id": "x", "text": "one"}\n{"id": "y", "text": "two"}\n', encoding="utf-8")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    cases = {
        str(tmp_path / "missing.txt"): "no such file",
        str(data): "holds 2 records: name one as",
        f"{data}:zzz": "has no record 'zzz'",
        str(tmp_path / "logo.png"): "binary",
    }
    for name, message in cases.items():
        with pytest.raises(InputError, match=message):
            load_document(name, ScanConfig())
        code, out, err = run(name, S000)
        assert code == 2 and out == ""
        assert err.startswith("Error: ") and message in err and len(err.strip().splitlines()) == 1


def test_names_from_disk_are_shown_safely(tmp_path: Path) -> None:
    text = Path(S000).read_text(encoding="utf-8")
    odd = tmp_path / "a\x1b[31m[bold]x.txt"
    odd.write_text(text, encoding="utf-8")
    code, out, _ = run(str(odd), S000)
    assert code == 0 and "\x1b" not in out
    assert "a\\x1b[31m[bold]x.txt" in out


def test_passages_keep_order_and_need_a_run() -> None:
    found = passages("Home | the storm hit the coast at dawn today", "the storm hit the coast at dawn today. Share")
    assert [(p.where, p.words) for p in found] == [("a", 1), ("both", 8), ("b", 1)]
    # Words in common but no run of five: nothing shared.
    apart = passages("the mayor said on monday that", "on tuesday the mayor denied that")
    assert all(p.where != "both" for p in apart)
