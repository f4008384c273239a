"""The --html report: word marking, the page as written, and the page in headless Chromium.

Browser tests drive Debian's ``chromium`` through ``/usr/bin/chromedriver`` with selenium
(the ``browser`` extra); they skip, saying why, only where those are not installed.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import random
import re
import shutil
import tempfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dedup import ScanConfig, scan, shingle
from dedup.cli import main
from dedup.html_report import BOILERPLATE, EDIT, ONLY_KEPT, OWN, SHARED, build_html, mark_pair, token_spans

SAMPLES = Path(__file__).parent.parent / "samples"
KEPT, WRAPPED = "000_8bcd120cc8060ff3.txt", "001_288da1160778f453.txt"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def _spans_hold_tokens(text: str, spans: list[tuple[int, int]]) -> bool:
    """Span j is where the scan's token j comes from: in order, and the token is among the
    tokens of its span (one character may give two: '½' is '1', '2')."""
    toks = shingle.tokens(text)
    return (
        len(spans) == len(toks)
        and all(0 <= a < b <= len(text) for a, b in spans)
        and all(x[0] <= y[0] and x[1] <= y[1] for x, y in itertools.pairwise(spans))
        and all(tok in _span_tokens(text[a:b]) for tok, (a, b) in zip(toks, spans, strict=True))
    )


def _span_tokens(piece: str) -> list[str]:
    """The tokens a span gives alone, or folded a character at a time: a span cut out of its
    text can read as mojibake on its own ('Â²' is repaired to '²' alone, while in '¿Â²' the
    scan reads the token 'â2'), so the span is right when either holds its token."""
    return shingle.tokens(piece) + shingle.tokens("".join(shingle.normalize(c) for c in piece))


@pytest.mark.parametrize(
    "text",
    [
        "Hello, World! 42 times",
        "Grüße aus Köln: café, naïve, Straße",
        "ﬁne ½ day — “quoted” it’s",
        "中文字和English混合 text。日本語のテキスト",
        "emoji 😀 between 𝒜𝒷 words",
        "",
    ],
)
def test_token_spans_cut_the_text_into_the_scans_tokens(text: str) -> None:
    spans = token_spans(text)
    assert spans is not None
    assert _spans_hold_tokens(text, spans)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60))
@example("¿Â²")  # a span that, cut out alone, ftfy repairs as mojibake
def test_token_spans_are_the_tokens_or_none(text: str) -> None:
    spans = token_spans(text)
    if spans is not None:
        assert _spans_hold_tokens(text, spans)


def test_marks_agree_with_the_scans_evidence_on_the_samples() -> None:
    result = scan([SAMPLES], ScanConfig())
    member = next(m for c in result.clusters for m in c.members if m.doc_id == WRAPPED)
    kept_text, text = (SAMPLES / KEPT).read_text("utf-8"), (SAMPLES / WRAPPED).read_text("utf-8")
    ks, ms = token_spans(kept_text), token_spans(text)
    assert ks is not None and ms is not None
    marks = mark_pair(kept_text, text, ScanConfig(), ks, ms)
    assert marks.own_words == member.own_words == 533
    counts = np.bincount(marks.member, minlength=6)
    assert counts[SHARED] == len(ms) - 533
    assert counts[BOILERPLATE] + counts[EDIT] + counts[OWN] == 533
    assert counts[OWN] == marks.prose_words == 0  # all of it boilerplate, as the scan says
    nav = text.index("跳至主要内容")
    assert {int(marks.member[j]) for j, (a, _) in enumerate(ms) if nav <= a < nav + 6} == {BOILERPLATE}
    # The kept copy's comment label is not in the wrapped copy: only in the kept copy.
    label = kept_text.rindex("发表评论")
    assert {int(marks.kept[j]) for j, (a, _) in enumerate(ks) if label <= a < label + 4} == {ONLY_KEPT}


ARTICLE = (
    "The river authority said on Monday that the new flood barrier would be finished by the end of the "
    "summer, two years later than first promised. Engineers had found weak soil under the eastern bank.\n"
    "Residents of the low streets have waited a decade for the work. Many of them still pay for insurance "
    "that covers little, and some have moved away for good after the last two floods.\n"
    "The council will hold a public meeting next week to explain the new timetable and the extra cost, "
    "which the authority puts at forty million pounds over the original budget for the whole project.\n"
)
OWN_PARAGRAPH = (
    "A reporter walked the length of the old wall on Sunday. Moss covers most of it, and in three places "
    "the mortar has washed out completely. Children use the gaps as a shortcut to the playground. "
    "Nobody from the authority has been seen there since the spring inspection, neighbours say.\n"
)


def test_marks_tell_edits_boilerplate_and_own_prose_apart() -> None:
    member = "Home | News | Sport | Weather\n" + ARTICLE.replace("forty million", "fifty million") + OWN_PARAGRAPH
    ks, ms = token_spans(ARTICLE), token_spans(member)
    assert ks is not None and ms is not None
    marks = mark_pair(ARTICLE, member, ScanConfig(), ks, ms)

    def cats(text: str, spans: list[tuple[int, int]], values: Any, word: str) -> set[int]:
        at = text.index(word)
        return {int(values[j]) for j, (a, _) in enumerate(spans) if at <= a < at + len(word)}

    assert cats(member, ms, marks.member, "Home | News | Sport | Weather") == {BOILERPLATE}
    assert cats(member, ms, marks.member, "fifty") == {EDIT}
    assert cats(ARTICLE, ks, marks.kept, "forty") == {EDIT}
    assert cats(member, ms, marks.member, "Children use the gaps") == {OWN}
    assert cats(member, ms, marks.member, "Engineers had found weak soil") == {SHARED}
    assert marks.prose_words == int(np.count_nonzero(marks.member == OWN))


def _unpack(page: str, block: str) -> Any:
    found = re.search(f'<script type="application/octet-stream" id="{block}"[^>]*>([^<]*)</script>', page)
    assert found is not None
    return json.loads(zlib.decompress(base64.b64decode(found.group(1)), 31))


def test_page_is_one_file_with_a_strict_policy_and_the_data(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        main, ["scan", str(SAMPLES), "--no-cache", "-q", "--html", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    page = out.read_text("utf-8")
    assert "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'sha256-" in page
    assert not re.search(r"\s(src|href)=", page)  # nothing loaded from anywhere
    assert not re.search(r"https?:|url\(|@import", page.replace('xmlns="http://www.w3.org/2000/svg"', ""))
    assert page.count("<script>") == 1
    data = _unpack(page, "data-clusters")
    assert data["summary"]["clusters"] == 1 and data["summary"]["matches"] == 1
    assert [m[0] for m in data["clusters"][0][2]] == [KEPT, WRAPPED]
    texts = _unpack(page, "data-texts")
    assert texts["1"]["kept"] == (SAMPLES / KEPT).read_text("utf-8")
    assert texts["1"]["members"][1]["b"]["t"] == (SAMPLES / WRAPPED).read_text("utf-8")
    assert 'id="scatter"' in page and 'id="histogram"' in page
    again = tmp_path / "again.html"
    CliRunner().invoke(main, ["scan", str(SAMPLES), "--no-cache", "-q", "-j", "1", "--html", str(again)])
    assert again.read_bytes() == out.read_bytes()  # same input, same file


def test_html_may_not_overwrite_an_input(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(SAMPLES, folder)
    before = (folder / KEPT).read_bytes()
    result = CliRunner().invoke(main, ["scan", str(folder), "--no-cache", "--html", str(folder / KEPT)])
    assert result.exit_code == 2
    assert "is one of the files this scan reads" in result.stderr
    assert (folder / KEPT).read_bytes() == before


def test_text_budget_bounds_the_embedded_texts(tmp_path: Path) -> None:
    corpus = _clusters_corpus(tmp_path / "c.jsonl", 30)
    result = scan([corpus], ScanConfig())
    assert result.summary.clusters == 30
    page = build_html(result, ScanConfig(), text_budget=5_000)
    texts = _unpack(page, "data-texts")
    found = re.search(r'data-clusters="(\d+)"', page)
    assert found is not None
    embedded = int(found.group(1))
    assert 0 < embedded < 30 and len(texts) == embedded
    order = [c[0] for c in _unpack(page, "data-clusters")["clusters"]]
    assert sorted(texts, key=int) == sorted(map(str, order[:embedded]), key=int)  # the first in report order


# ----------------------------------------------------------------------------------------
# Corpora
# ----------------------------------------------------------------------------------------

WORDS = [
    f"{a}{b}"
    for a in ("ka", "lo", "mi", "ne", "ru", "so", "ta", "vi", "we", "zu")
    for b in ("n", "r", "s", "t", "x", "la", "mo", "pe", "qi", "do")
]


def _clusters_corpus(path: Path, clusters: int, seed: int = 7) -> Path:
    """A JSON Lines file of ``clusters`` pairs of copies: an article and an edited copy, every
    fourth copy wrapped in navigation lines (low Jaccard, high containment)."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        for i in range(clusters):
            words = [rng.choice(WORDS) for _ in range(120 + (i % 7) * 20)]
            lines = [" ".join(words[j : j + 15]) + "." for j in range(0, len(words), 15)]
            copy = list(lines)
            copy[1] = copy[1].replace(words[16], "edited", 1)
            if i % 4 == 0:
                copy = [f"menu home item {k} of site" for k in range(40)] + copy
            f.write(json.dumps({"id": f"a{i}", "text": "\n".join(lines)}) + "\n")
            f.write(json.dumps({"id": f"b{i}", "text": "\n".join(copy)}) + "\n")
    return path


# ----------------------------------------------------------------------------------------
# In the browser
# ----------------------------------------------------------------------------------------


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            return f"no {path}: install Debian's chromium and chromium-driver (see .ci/run)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[browser]'"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _browser_missing()
    if missing:
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1300,1600"):  # fmt: skip
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="dedup-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _open(driver: Any, page: Path, timeout: float = 20) -> float:
    """Load a report and wait until it is drawn; the seconds it took. Fails on console errors."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("browser")  # forget what an earlier page said
    started = time.monotonic()
    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script("return document.body.dataset.ready") == "1")
    took = time.monotonic() - started
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    return took


def _rows(driver: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    return [r.get_attribute("data-cluster") for r in driver.find_elements(By.CSS_SELECTOR, "tr.cluster-row")]


def _scan_html(paths: list[Path], out: Path, *extra: str) -> Path:
    args = ["scan", *map(str, paths), "--no-cache", "-q", "--html", str(out), *extra]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def test_samples_report_in_chromium_search_and_side_by_side(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page = _scan_html([SAMPLES], tmp_path / "samples.html")
    _open(browser, page)
    assert "Verified pairs" in browser.find_element(By.ID, "summary").text
    assert browser.find_element(By.ID, "scatter").is_displayed()
    assert _rows(browser) == ["1"]
    search = browser.find_element(By.ID, "search")
    search.send_keys("no such file")
    assert _rows(browser) == []
    assert "No cluster matches" in browser.find_element(By.ID, "count").text
    search.clear()
    search.send_keys("288DA1")  # a member's name, any case
    assert _rows(browser) == ["1"]
    browser.find_element(By.CSS_SELECTOR, "tr.cluster-row").click()
    kept_note = browser.find_element(By.CSS_SELECTOR, "tr.notes .why").text
    assert kept_note.startswith("Kept because: whole shared text")
    browser.find_element(By.CSS_SELECTOR, "button.compare").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".member-side .text span"))
    member_side = browser.find_element(By.CSS_SELECTOR, ".member-side .text")
    boiler = [s.text for s in member_side.find_elements(By.CSS_SELECTOR, "span.m3")]
    shared = [s.text for s in member_side.find_elements(By.CSS_SELECTOR, "span.m1")]
    assert any("跳至主要内容" in s for s in boiler)
    assert any("Air Force One was still idling" in s for s in shared)
    assert not member_side.find_elements(By.CSS_SELECTOR, "span.m4")  # no own prose: all boilerplate
    kept_side = browser.find_element(By.CSS_SELECTOR, ".kept-side .text")
    assert kept_side.text == (SAMPLES / KEPT).read_text("utf-8").strip()
    assert "533 own words, all boilerplate" in browser.find_element(By.ID, "compare").text
    assert browser.get_log("browser") == []


def test_sorting_and_paging(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    corpus = _clusters_corpus(tmp_path / "c.jsonl", 60)
    page = _scan_html([corpus], tmp_path / "c.html")
    _open(browser, page)
    data = _unpack(page.read_text("utf-8"), "data-clusters")["clusters"]
    by_saving = [str(c[0]) for c in data]
    assert _rows(browser) == by_saving[:50]  # first page, largest saving first
    browser.find_element(By.ID, "next").click()
    assert _rows(browser) == by_saving[50:]
    browser.find_element(By.CSS_SELECTOR, 'button.sort[data-key="id"]').click()
    assert _rows(browser) == [str(i) for i in range(1, 51)]
    browser.find_element(By.CSS_SELECTOR, 'button.sort[data-key="jaccard"]').click()
    lowest = sorted(data, key=lambda c: (-min(m[3] for m in c[2][1:]), c[0]))
    assert _rows(browser) == [str(c[0]) for c in lowest[:50]]
    browser.find_element(By.CSS_SELECTOR, 'button.sort[data-key="jaccard"]').click()  # again: ascending
    assert _rows(browser)[0] == str(sorted(data, key=lambda c: (min(m[3] for m in c[2][1:]), c[0]))[0][0])


def test_markup_in_names_and_texts_runs_nothing(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    folder = tmp_path / "in"
    folder.mkdir()
    article = (SAMPLES / KEPT).read_text("utf-8")
    hostile = "<img src=x onerror=\"window.__pwned=1;document.title='pwned'\">"
    (folder / f"{hostile}.txt").write_text(article, "utf-8")
    script = "<script>window.__pwned=2;document.title='pwned'</script>"
    (folder / "copy.html.txt").write_text(article + "\n" + script + "\n", "utf-8")
    record_id = "</script><script>window.__pwned=3;document.title='pwned'</script>"
    (folder / "records.jsonl").write_text(
        json.dumps({"id": record_id, "text": script + "\n" + article}) + "\n", "utf-8"
    )
    page = _scan_html([folder], tmp_path / "hostile.html")
    _open(browser, page)
    browser.find_element(By.CSS_SELECTOR, "tr.cluster-row").click()
    names = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "tr.member-row .name")]
    assert f"{hostile}.txt" in names
    assert f"records.jsonl:{record_id}" in names
    for button in range(len(browser.find_elements(By.CSS_SELECTOR, "button.compare"))):
        browser.find_elements(By.CSS_SELECTOR, "button.compare")[button].click()
        WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".member-side .text"))
    assert script in browser.find_element(By.CSS_SELECTOR, ".member-side .text").text
    assert browser.execute_script("return window.__pwned") is None
    assert browser.title.startswith("dedup report")
    assert not browser.find_elements(By.CSS_SELECTOR, "#clusters img, #compare img, #compare script")
    assert browser.get_log("browser") == []


@pytest.mark.slow
def test_ten_thousand_clusters_load_in_a_few_seconds(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    corpus = _clusters_corpus(tmp_path / "big.jsonl", 10_000)
    page = _scan_html([corpus], tmp_path / "big.html")
    assert page.stat().st_size < 20_000_000
    took = _open(browser, page, timeout=60)
    assert took < 10, took  # docs/benchmarks.md has the figure on an idle machine
    assert "of 10,000" in browser.find_element(By.ID, "count").text
    assert len(_rows(browser)) == 50
    search = browser.find_element(By.ID, "search")
    search.send_keys("big.jsonl:b9999")
    assert len(_rows(browser)) == 1


def test_a_cluster_of_many_copies_cannot_break_the_text_budget(tmp_path: Path) -> None:
    folder = tmp_path / "copies"
    folder.mkdir()
    for i in range(6):
        (folder / f"copy{i}.txt").write_text(ARTICLE + f"Filed by desk {i}.\n" * i, "utf-8")
    result = scan([folder], ScanConfig())
    assert [len(c.members) for c in result.clusters] == [6]
    page = build_html(result, ScanConfig(), text_budget=1)
    members = _unpack(page, "data-texts")["1"]["members"]
    assert "b" in members[1]  # the kept copy and one member at least
    assert [m.get("note") for m in members[2:]] == ["Not embedded: the page's budget for texts was spent."] * 4
