"""Real-page shapes for the cleanest pick, and the development-set builder (benchmarks/realdata.py)."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from dedup.cleanest import rank
from dedup.config import ScanConfig
from dedup.shingle import line_hash

CFG = ScanConfig()

# An article as a plain-text copy hard-wrapped at about 60 columns: wrapping leaves short
# lines ("season.", "and", "home.") and the dateline is its own short line. Such lines recur
# across a crawl (every page has an "and" line or a date), but they are the article.
WRAPPED_ARTICLE = """24 Jul 2012
The city council voted on Tuesday to close the old river bridge
for repairs that engineers say are long overdue after a wet
season.
Traffic will be sent over the northern crossing, and buses will
run every ten minutes between the two banks while the work goes
on. Shop owners on the south bank said they feared the closure
would keep customers away for most of the year, and
many asked the council to phase the work so that one lane stays
open. The mayor said the engineers had advised against it and
that the safest plan was a full closure, after which the bridge
would carry traffic for another forty years. Residents who
walk to work were told a temporary footbridge would open
within a month, and that cyclists could use it as well. For
most people the change means ten more minutes on the way
home.
The council will publish the schedule of the works next week
and hold a public meeting at the town hall on the first Monday
of August, where the engineers will answer questions."""

NAVIGATION = [
    "Home",
    "News",
    "Sport",
    "Business",
    "Weather",
    "Sign in",
    "Subscribe to our newsletter",
    "Most read",
    "Contact us",
    "Privacy policy",
]


def _unwrapped(text: str) -> str:
    """The article as an HTML page's text gives it: one line a paragraph, no dateline wrap."""
    head, *rest = text.split("\n")
    return head + "\n" + " ".join(rest)


def _page_copy() -> str:
    """The page's visible text: navigation, the article, a teaser and the footer."""
    teaser = "Another story: the library reopens after a year of works and a new roof ..."
    return "\n".join([*NAVIGATION[:5], _unwrapped(WRAPPED_ARTICLE), "Most read", teaser, *NAVIGATION[5:]])


def _corpus(texts: list[str], spread: int) -> Callable[[int], int]:
    """How many documents hold each short line: the group's texts, plus ``spread`` other pages of
    the crawl that all hold every short line of both copies (dates, wrapped words, navigation)."""
    counts: dict[int, int] = {}
    for t in texts:
        for h in {line_hash(ln) for ln in t.split("\n")} - {None}:
            assert h is not None
            counts[h] = counts.get(h, 0) + 1 + spread
    return lambda h: counts.get(h, 0)


def test_wrapped_plain_copy_beats_page_with_navigation_and_reasons_name_navigation() -> None:
    page = _page_copy()
    texts = [page, WRAPPED_ARTICLE]
    picks = rank([0, 1], texts, _corpus(texts, spread=40), CFG)
    assert [p.index for p in picks] == [1, 0]  # the plain wrapped copy is the cleanest
    best = " ".join(picks[0].reasons)
    assert "chrome" not in best  # not 'season.', 'and', 'home.' nor '24 Jul 2012'
    loser = next(r for r in picks[1].reasons if r.startswith("chrome: "))
    assert "'Home'" in loser and "'News'" in loser  # the reason names real navigation
    for article_line in ("season.", "and", "home.", "24 Jul 2012"):
        assert f"'{article_line}'" not in loser


def test_article_lines_are_not_chrome_in_a_group_of_extractor_copies() -> None:
    """Six versions of one page, as the development set has them: the short lines of the
    article are in most copies, so they are the article, however often the crawl repeats them."""
    page = _page_copy()
    texts = [page, page, WRAPPED_ARTICLE, _unwrapped(WRAPPED_ARTICLE), WRAPPED_ARTICLE + "\nShare", page]
    picks = rank(list(range(6)), texts, _corpus(texts, spread=40), CFG)
    for p in picks:
        chrome = " ".join(r for r in p.reasons if r.startswith("chrome: "))
        for article_line in ("season.", "home.", "24 Jul 2012"):
            assert f"'{article_line}'" not in chrome
    assert picks[0].index in (2, 3)


def test_copies_ending_together_are_not_truncated() -> None:
    """Extractors that all stop where the article stops are not cut short because the page's
    get_text() glues the last paragraph to what follows it on one line."""
    article = _unwrapped(WRAPPED_ARTICLE)
    glued = article + " Share this story on Facebook and Twitter and read the comments below the article"
    texts = [glued, article, article + "\n", article]
    picks = rank([0, 1, 2, 3], texts, _corpus(texts, spread=0), CFG)
    for p in picks:
        assert not any(r.startswith("truncated") for r in p.reasons), p.reasons
    # A copy cut where the others go on is still truncated.
    cut = article[: len(article) * 2 // 3].rsplit(" ", 1)[0]
    picks = rank([0, 1, 2], [cut, article, article], _corpus([cut, article], spread=0), CFG)
    assert picks[-1].index == 0
    assert any(r.startswith("truncated") for r in picks[-1].reasons)


# --- the development-set builder -------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def realdata() -> object:
    for name in ("trafilatura", "justext", "readability", "bs4", "lxml"):
        pytest.importorskip(name)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import realdata as module
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return module


def _archive(path: Path) -> None:
    """A two-part archive laid out like webpages.tar.xz: one long page, one short one."""
    body = " ".join(f"Sentence {i} of the story says something about item {i}." for i in range(30))
    html = (
        "<html><head><title>Story</title><script>var x = 1;</script></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"<article><h1>Story</h1><p>{body}</p><p>{body}</p></article><footer>Contact us</footer></body></html>"
    )
    files = {
        "dragnet_data/input/1.html": html.encode(),
        "dragnet_data/GoldStandard/1.txt": f"Story\n{body}\n{body}\n".encode(),
        "dragnet_data/input/2.html": b"<html><body><p>Too short.</p></body></html>",
        "dragnet_data/GoldStandard/2.txt": b"Too short.\n",
        "readability/input/a.html": html.encode(),
        "readability/GoldStandard/a.txt": f"{body}\n{body}\n".encode(),
    }
    with tarfile.open(path, "w:xz") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_build_writes_labelled_folders_and_truth(realdata: object, tmp_path: Path) -> None:
    archive = tmp_path / "webpages.tar.xz"
    _archive(archive)
    out = tmp_path / "dev"
    realdata.build(out, archive, jobs=1)  # type: ignore[attr-defined]
    truth = [json.loads(line) for line in (out / "dragnet_data" / "truth.jsonl").read_text().splitlines()]
    assert len(truth) == 1  # page 2's gold is under 80 words: left out
    group = truth[0]
    assert group["cluster"] == "1"
    kinds = group["variants"]
    assert sorted(kinds.values()) == sorted(["html", "gold", "trafilatura", "justext", "readability", "soup"])
    gold = next(i for i, k in kinds.items() if k == "gold")
    assert group["cleanest"] == [gold] and sorted(group["ids"]) == group["ids"] == sorted(kinds)
    html_id = next(i for i, k in kinds.items() if k == "html")
    assert (out / "dragnet_data" / html_id).read_bytes() == _archive_bytes(archive, "dragnet_data/input/1.html")
    assert (out / "dragnet_data" / gold).read_text(encoding="utf-8").startswith("Story\nSentence 0")
    assert not (out / "dragnet_data" / "2").exists()
    assert (out / "readability" / "truth.jsonl").exists()
    # Deterministic: a second build from scratch writes the same bytes.
    again = tmp_path / "again"
    realdata.build(again, archive, jobs=2)  # type: ignore[attr-defined]
    assert _tree(out) == _tree(again)


def _archive_bytes(archive: Path, name: str) -> bytes:
    with tarfile.open(archive, "r:xz") as tar:
        f = tar.extractfile(name)
        assert f is not None
        return f.read()


# --- benchmarks/sweep.py keeps what is outside its section ---------------------------------------


@pytest.fixture()
def sweep() -> object:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import sweep as module
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return module


def test_sweep_rewrites_only_its_section(sweep: object, tmp_path: Path) -> None:
    doc = tmp_path / "evaluation.md"
    sweep.update_section(doc, "# Measured accuracy\n\nold figures\n")  # type: ignore[attr-defined]
    first = doc.read_text(encoding="utf-8")
    assert "old figures" in first
    real = "\n## Real pages with human-cleaned text\n\n| part | F1 |\n|---|---|\n| readability | 0.98 |\n"
    doc.write_text("Intro kept.\n\n" + first + real, encoding="utf-8")
    sweep.update_section(doc, "# Measured accuracy\n\nnew figures\n")  # type: ignore[attr-defined]
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("Intro kept.\n\n")
    assert text.endswith(real)
    assert "new figures" in text and "old figures" not in text
    # The committed document has the markers, and its real-page section lies outside them.
    committed = (ROOT / "docs" / "evaluation.md").read_text(encoding="utf-8")
    end = committed.index(sweep.END)  # type: ignore[attr-defined]
    assert committed.index(sweep.BEGIN) < committed.index("# Measured accuracy") < end  # type: ignore[attr-defined]
    assert committed.index("## Real pages with human-cleaned text") > end


def test_sweep_refuses_a_file_without_markers(sweep: object, tmp_path: Path) -> None:
    doc = tmp_path / "evaluation.md"
    doc.write_text("Hand-written notes.\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"no sweep\.py markers"):
        sweep.update_section(doc, "# Measured accuracy\n")  # type: ignore[attr-defined]
    assert doc.read_text(encoding="utf-8") == "Hand-written notes.\n"


# --- the article's head, datelines, and equally clean copies ---------------------------------------

TITLE = "North Korean tourist stops now serving corn floss tea"
BYLINE = "Posted by Max Fisher on October 31, 2012 at 4:14 pm"


def _extractor_group() -> list[str]:
    """One page as the development set has it: the page's text twice (its HTML and a
    get_text()), the human-cleaned text with the article's head (title, byline), and three
    extractors' copies that dropped the head, one of them keeping a site line after the text."""
    article = _unwrapped(WRAPPED_ARTICLE)
    page = "\n".join([*NAVIGATION[:5], TITLE, BYLINE, article, "Most read", *NAVIGATION[5:]])
    human = f"{TITLE}\n\n{BYLINE}\n\n{article}\n"
    return [page, page, human, article + "\nFollow us on Twitter", article, article + "\n"]


def test_human_copy_with_title_and_byline_is_the_cleanest() -> None:
    """Extractors drop the title and byline that the human-cleaned copy keeps; the byline recurs
    on every post of its author, yet it is the article's head: neither chrome nor extra text,
    and the copy that kept it is the fuller of equally clean copies."""
    texts = _extractor_group()
    picks = rank(list(range(6)), texts, _corpus(texts, spread=40), CFG)
    assert picks[0].index == 2
    assert picks[0].reasons == ("whole shared text, least extra text and noise",)
    loser = " ".join(r for p in picks if p.index == 0 for r in p.reasons)
    assert "'Home'" in loser  # the page's navigation is still named


def test_a_dateline_is_not_chrome_for_recurring() -> None:
    """A date on its own line recurs across a crawl (every post of that day has it); when only
    one copy keeps it, it is still not navigation."""
    article = _unwrapped(WRAPPED_ARTICLE).split("\n", 1)[1]
    dated = f"{article}\nWednesday, October 31, 2012"
    texts = [dated, article, article]
    picks = rank([0, 1, 2], texts, _corpus(texts, spread=40), CFG)
    for p in picks:
        assert not any(r.startswith("chrome") for r in p.reasons), p.reasons


def test_spoilt_characters_lose_a_tie() -> None:
    """Within the tie band the copy with mojibake never wins over the clean one."""
    article = _unwrapped(WRAPPED_ARTICLE)
    spoilt = article.replace("council", "councilâ€™s", 1)
    texts = [spoilt, article, article + "\n"]
    picks = rank([0, 1, 2], texts, _corpus(texts, spread=0), CFG)
    assert picks[0].index != 0


# --- the corrected truth: the article without readers' comments, pages whose human texts are copies ---

GAME = (
    "Justin Feser had three goals and an assist, and Marcus Messier and Brian Williams added two goals "
    "each as Tri-City dumped Vancouver 9-1 in Western Hockey League play. Tri-City won its third game in "
    "three nights, all at home, to move to the top of the U.S. Division with 26 points. Vancouver remains "
    'last in the Western Conference with 10 points. "When you work hard, sooner or later it will go your '
    'way," Tri-City coach Jim Hiller said. "We got great contributions all weekend." The Americans also '
    "got goals from Beau McCue and Michal Plutnar. Tri-City rookie goalie Brenden Fiebelkorn won his first "
    "career start, finishing with 14 saves, and stopped a penalty shot by Trevor Cheek at 13:41 of the "
    "second period. The Americans led 2-0 after the first period, then exploded for five goals in the "
    "second for a 7-0 lead. Cheek had the Giant's lone goal at 4:55 of the third."
)
# The roundup adds one more game: the wire story is about nine tenths of it, as dragnet's R419/R420.
ROUNDUP = (
    "WHL Roundup: Feser leads Tri-City in 9-1 rout\n"
    + GAME
    + ("\nAt Moose Jaw, Jaynen Rissling scored 2:13 into overtime as Calgary slipped past the Warriors.")
)
GUIDELINES = (
    "Guidelines: Fan feedback should be within the guidelines for the NFL community. These guidelines "
    "will be used to identify those comments that will be removed from display on the site. Please keep "
    "your comments relevant to the topic, not abusive or combatant. Comments may be no longer than 2000 "
    "characters and will post to the site shortly after submitting."
)


def _page(text: str) -> bytes:
    paragraphs = "".join(f"<p>{line}</p>" for line in text.split("\n") if line)
    return f"<html><body><nav><a href='/'>Home</a></nav><article>{paragraphs}</article></body></html>".encode()


def _pages_archive(path: Path, golds: dict[str, bytes]) -> None:
    """An archive of dragnet pages (each page's HTML holds its human text) and one readability page."""
    files: dict[str, bytes] = {}
    for name, gold in golds.items():
        files[f"dragnet_data/input/{name}.html"] = _page(gold.decode("utf-8", errors="replace"))
        files[f"dragnet_data/GoldStandard/{name}.txt"] = gold
    files["readability/input/a.html"] = _page(GAME)
    files["readability/GoldStandard/a.txt"] = GAME.encode()
    with tarfile.open(path, "w:xz") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _groups(path: Path) -> dict[str, dict[str, object]]:
    return {g["cluster"]: g for g in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


def test_copies_of_one_human_text_are_one_group_and_raw_truth_keeps_pages(realdata: object, tmp_path: Path) -> None:
    """Two saves of one story (the roundup holds the whole wire story) are one group with both
    human texts acceptable; two articles that share only the site's comment guidelines stay apart."""
    halloween = "NFL players celebrate Halloween. " * 3 + "Here are a few of our favorites in full costume.\n"
    fans = (
        "Fans went out on Halloween showing off their best impressions of NFL players. Who was the most "
        "convincing? A linebacker from Ohio, a quarterback from Texas and a whole family of kickers.\n"
    )
    golds = {
        "R419": ROUNDUP.encode(),
        "R420": GAME.encode(),
        "R513": (fans + GUIDELINES).encode(),
        "R515": (halloween + GUIDELINES).encode(),
    }
    archive = tmp_path / "webpages.tar.xz"
    _pages_archive(archive, golds)
    out = tmp_path / "dev"
    realdata.build(out, archive, jobs=1)  # type: ignore[attr-defined]
    truth = _groups(out / "dragnet_data" / "truth.jsonl")
    assert sorted(truth) == ["R419+R420", "R513", "R515"]
    merged = truth["R419+R420"]
    kinds = merged["variants"]
    assert isinstance(kinds, dict)
    golds_ids = sorted(i for i, k in kinds.items() if k == "gold")
    assert len(golds_ids) == 2 and merged["cleanest"] == golds_ids
    assert merged["ids"] == sorted(kinds) and {i.split("/")[0] for i in kinds} == {"R419", "R420"}
    raw = _groups(out / "truth_raw" / "dragnet_data.jsonl")
    assert sorted(raw) == ["R419", "R420", "R513", "R515"]
    assert set(raw["R419"]["ids"]) | set(raw["R420"]["ids"]) == set(merged["ids"])  # type: ignore[call-overload]
    (pair,) = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["merges"]["dragnet_data"]
    assert pair["pages"] == ["R419", "R420"] and pair["containment"][1] == 1.0 and 0.8 < pair["jaccard"] < 1.0
    # The rule alone: the guidelines are most of neither article.
    texts = {k: realdata.article(v.decode()) for k, v in golds.items()}  # type: ignore[attr-defined]
    assert [p["pages"] for p in realdata.copy_pairs(texts)] == [["R419", "R420"]]  # type: ignore[attr-defined]


def test_human_text_is_cut_at_the_comment_separator(realdata: object, tmp_path: Path) -> None:
    """dragnet's human text runs on past '!@#$%^&*()  COMMENTS' into the readers' comments: the
    article stops there; an article under 80 words once cut is left out; Windows-1252 gold reads
    as Windows-1252. Two pages whose comment blocks are the same are not copies for that."""
    comments = "\n\n\n!@#$%^&*()  COMMENTS\n\n\nDKB @ NYU 07.21.12 at 17:46\n\n" + GUIDELINES * 4 + "\n"
    other = "The library reopens after a year of works with a new roof and a larger reading room. " * 5
    expedition = "A search for the aviator's plane ends without the images the team had hoped to find. " * 5
    short = "Only a short note before the comments start, twenty words or so and no more than that here."
    golds = {
        "248": (GAME + comments).encode(),
        "R136": (other + "\n\n!@#$%^&*()\n\n" + GUIDELINES * 4).encode(),
        "300": (short + comments).encode(),
        "143": ("HONOLULU \u2014 it\u2019s " + expedition).encode("cp1252"),
    }
    archive = tmp_path / "webpages.tar.xz"
    _pages_archive(archive, golds)
    out = tmp_path / "dev"
    realdata.build(out, archive, jobs=1)  # type: ignore[attr-defined]
    truth = _groups(out / "dragnet_data" / "truth.jsonl")
    assert sorted(truth) == ["143", "248", "R136"]  # 300's article is under 80 words
    text = {
        g: (out / "dragnet_data" / str(truth[g]["cleanest"][0])).read_text(encoding="utf-8")  # type: ignore[index]
        for g in truth
    }
    assert text["248"] == GAME + "\n"
    assert text["R136"] == other.strip() + "\n"
    assert text["143"].startswith("HONOLULU \u2014 it\u2019s A search")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["pages"]["dragnet_data"]["comments_cut"] == 3
    # Cut at every spelling of the separator the dataset has, and nowhere else.
    for line in ("!!@#$%^&*()  COMMENTS", "!@#$%^&*()  COMMNENTS", "!@#$%^&*()  CORRECTED", "!@#$%^&**()  COMMENTS"):
        assert realdata.article(f"Article.\n{line}\nA comment.") == "Article.\n"  # type: ignore[attr-defined]
    assert realdata.article("Costs rose 5% (!) this year.\n") == "Costs rose 5% (!) this year.\n"  # type: ignore[attr-defined]
