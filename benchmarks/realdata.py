"""A labelled development set from real web pages with human-cleaned text, and its scores.

    python benchmarks/realdata.py build OUT            # unpack, extract, write labelled folders
    python benchmarks/realdata.py eval OUT             # build if needed, run dedup eval, print a table
    python benchmarks/realdata.py eval OUT --part readability -- --cluster components
    python benchmarks/realdata.py eval OUT --raw-truth  # the dataset's own labels, one group a page

Source: ``../shared/data/webpages/webpages.tar.xz`` (its README says what it holds; the pages
are for development and evaluation only and are never committed). For every page whose
human-cleaned gold text has at least 80 words, ``OUT/<part>/<page>/`` holds these versions:

* ``html``: the page as fetched, byte for byte (``.html``);
* ``gold``: the human-cleaned main text (the labelled cleanest copy);
* ``trafilatura``, ``justext``, ``readability``, ``soup``: what four maintained extractors
  make of the page (trafilatura; jusText with the English stop list; readability-lxml's
  article HTML turned into text, one line a block; BeautifulSoup's ``get_text()`` of the page
  without scripts and styles). An extractor that returns nothing for a page, or fails on it,
  contributes no file.

Each version's file is named by a hash of the page and the version (``3f0c9a1e.txt``), so the
order of a page's files, which breaks ties between equally clean copies, favours no version;
the truth's ``variants`` say which file is which.

``OUT/<part>/truth.jsonl`` is the truth ``dedup eval --truth`` reads: one group per page (all its
versions), the gold as the cleanest, each file's version as its variant kind. Pages of one site
(dragnet has many) are the hard negatives: same template, different articles.

Two corrections to the dataset's labels, by rules that use the human texts only (nothing of
dedup's scan):

* The human text is the article: dragnet labels article and readers' comments together, after
  its separator line ``!@#$%^&*()  COMMENTS`` (and typos of it); the text is cut there, and the
  80-word floor applies to what is left. A gold file that is not UTF-8 (43 dragnet ones are
  Windows-1252) is read as Windows-1252 instead of with U+FFFD for every curly quote.
* Pages whose human texts are copies of each other are one group: two pages are copies when
  the character 12-grams (``dedup.measures.char_ngrams``: case, spacing and punctuation
  ignored) of the smaller human text are at least ``COPY_CONTAINMENT`` (0.8) inside the
  other's (Jaccard 0.8 implies it). Copies of copies join too. Both human texts are then
  acceptable cleanest copies. Every merge is listed in ``OUT/manifest.json`` (``merges``).

``OUT/truth_raw/<part>.jsonl`` keeps the dataset's own grouping (one group per page) over the
same files, so both figures can be printed (``eval --raw-truth``). The two parts,
``dragnet_data`` (settings are chosen on it) and ``readability`` (reported, never tuned on), are
kept apart. The build is deterministic: pages in sorted order, fixed extractor options, and
``OUT/manifest.json`` records the extractor versions (a build with other versions starts over).

Needs the ``bench`` extra: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import TypedDict

from dedup.measures import char_ngrams

ARCHIVE = Path(__file__).resolve().parents[2] / "shared" / "data" / "webpages" / "webpages.tar.xz"
PARTS = ("dragnet_data", "readability")
MIN_GOLD_WORDS = 80
EXTRACTORS = ("trafilatura", "justext", "readability", "soup")
COPY_CONTAINMENT = 0.8  # pages whose human texts share this much of the smaller one's 12-grams are one group
# dragnet's line between the article and the readers' comments, typos included
# ('!@#$%^&*()  COMMENTS', '!!@#$%^&*()  COMMENTS', '!@#$%^&*()  COMMNENTS', a bare '!@#$%^&*()')
COMMENTS = re.compile(r"^[ \t]*!+@#\$%.*$", re.MULTILINE)
DISTRIBUTIONS = ("trafilatura", "jusText", "readability-lxml", "beautifulsoup4", "lxml")
_BLOCK_TAGS = frozenset(
    ("address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure", "footer",
     "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table",
     "td", "th", "tr", "ul")
)  # fmt: skip


# --- extractors: bytes of a page -> text, or "" -------------------------------------------------


def _trafilatura(html: bytes) -> str:
    import trafilatura

    return trafilatura.extract(html, url=None, favor_precision=False, deduplicate=False) or ""


def _justext(html: bytes) -> str:
    import justext

    paragraphs = justext.justext(html, justext.get_stoplist("English"))
    return "\n\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def _readability(html: bytes) -> str:
    import lxml.html
    from readability import Document

    summary = Document(html).summary(html_partial=True)
    if not summary.strip():
        return ""
    return _block_text(lxml.html.fragment_fromstring(summary, create_parent="div"))


def _soup(html: bytes) -> str:
    import warnings

    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

    with warnings.catch_warnings():  # an XHTML page is parsed as HTML on purpose, as a scraper would
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "lxml")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    return re.sub(r"\n\s*\n\s*\n+", "\n\n", soup.get_text())


def _block_text(root: object) -> str:
    """Text of an lxml tree, one line per block element (p, h1, li, ...), inline runs joined."""
    parts: list[str] = []

    def walk(el: object) -> None:
        tag = getattr(el, "tag", None)
        if not isinstance(tag, str):  # comments, processing instructions
            parts.append(getattr(el, "tail", None) or "")
            return
        block = tag.lower() in _BLOCK_TAGS
        if block:
            parts.append("\n")
        parts.append(getattr(el, "text", None) or "")
        for child in el:  # type: ignore[attr-defined]
            walk(child)
        if block:
            parts.append("\n")
        parts.append(getattr(el, "tail", None) or "")

    walk(root)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


_RUN: dict[str, Callable[[bytes], str]] = {
    "trafilatura": _trafilatura,
    "justext": _justext,
    "readability": _readability,
    "soup": _soup,
}


def _extract_page(job: tuple[str, str, str]) -> tuple[str, dict[str, str], dict[str, str]]:
    """(page folder, {extractor: text}, {extractor: why it gave nothing}) for one page."""
    html_path, out_dir, _name = job
    html = Path(html_path).read_bytes()
    texts: dict[str, str] = {}
    failed: dict[str, str] = {}
    for name in EXTRACTORS:
        try:
            text = _RUN[name](html)
        except Exception as exc:  # one extractor failing on one page: that copy is left out
            failed[name] = f"{type(exc).__name__}: {exc}"[:200]
            continue
        if text.strip():
            texts[name] = text.strip() + "\n"
        else:
            failed[name] = "empty"
    return out_dir, texts, failed


# --- build ---------------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    """Installed versions of the extractors: part of what the build's output depends on."""
    out: dict[str, str] = {}
    for dist in DISTRIBUTIONS:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            raise SystemExit(
                f"Error: {dist} is not installed; install the extractors with pip install -e '.[bench]'"
            ) from None
    return out


HAVE = ("html", "gold")  # the versions every page has


def file_name(page: str, version: str) -> str:
    """A version's file name: a hash of page and version, so that name order favours none."""
    digest = hashlib.sha256(f"{page}/{version}".encode()).hexdigest()[:8]
    return f"{digest}.html" if version == "html" else f"{digest}.txt"


def _words(text: str) -> int:
    return len(text.split())


def read_gold(path: Path) -> str:
    """A human text as written: UTF-8, or Windows-1252 where it is not UTF-8 (dragnet's 2012 files)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def article(gold: str) -> str:
    """The human text without the readers' comments dragnet appends after its separator line."""
    cut = COMMENTS.search(gold)
    return gold[: cut.start()] if cut else gold


class CopyPair(TypedDict):
    """Two pages whose human texts are copies, with the measures that say so."""

    pages: list[str]
    jaccard: float
    containment: list[float]  # the first page's 12-grams inside the second's, and back


def copy_pairs(texts: Mapping[str, str]) -> list[CopyPair]:
    """Pairs of pages whose human texts are copies: the smaller one's character 12-grams at least
    ``COPY_CONTAINMENT`` inside the other's. Exact (every pair sharing a 12-gram is counted)."""
    names = sorted(texts)
    grams = [char_ngrams(texts[n]) for n in names]
    holders: dict[str, list[int]] = {}
    for i, g in enumerate(grams):
        for gram in g:
            holders.setdefault(gram, []).append(i)
    shared: dict[tuple[int, int], int] = {}
    for pages in holders.values():
        for x, i in enumerate(pages):
            for j in pages[x + 1 :]:
                shared[i, j] = shared.get((i, j), 0) + 1
    pairs: list[CopyPair] = []
    for (i, j), both in sorted(shared.items()):
        a, b = len(grams[i]), len(grams[j])
        if both >= COPY_CONTAINMENT * min(a, b):
            pairs.append({
                "pages": [names[i], names[j]], "jaccard": round(both / (a + b - both), 3),
                "containment": [round(both / a, 3), round(both / b, 3)],
            })  # fmt: skip
    return pairs


def copy_groups(names: Sequence[str], pairs: Sequence[CopyPair]) -> list[list[str]]:
    """The pages as groups: each page alone, but pages joined by a copy pair (or a chain of them)
    together; groups in order of their first page, pages sorted."""
    root = {n: n for n in names}

    def find(n: str) -> str:
        while root[n] != n:
            root[n] = root[root[n]]
            n = root[n]
        return n

    for pair in pairs:
        a, b = pair["pages"]
        ra, rb = find(a), find(b)
        if ra != rb:
            root[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for n in sorted(names):
        groups.setdefault(find(n), []).append(n)
    return list(groups.values())


def build(out: Path, archive: Path = ARCHIVE, jobs: int = 2) -> None:
    """Write ``OUT/<part>/<page>/`` folders and ``OUT/<part>/truth.jsonl`` (see the module docstring)."""
    settings = {
        "archive": archive.name, "min_gold_words": MIN_GOLD_WORDS, "names": "sha256", "extractors": versions(),
        "gold": "utf-8 else cp1252, cut at the comment separator", "copies": f"char 12-gram containment {COPY_CONTAINMENT}",
    }  # fmt: skip
    if (out / "manifest.json").exists():
        if json.loads((out / "manifest.json").read_text(encoding="utf-8")).get("settings") == settings:
            print(f"{out}: already built", file=sys.stderr)
            return
        for part in PARTS:  # another build (other versions): start over, only our own folders
            shutil.rmtree(out / part, ignore_errors=True)
        shutil.rmtree(out / "truth_raw", ignore_errors=True)
        (out / "manifest.json").unlink()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dedup-webpages-") as tmp:
        with tarfile.open(archive, "r:xz") as tar:
            tar.extractall(tmp, filter="data")
        stats: dict[str, dict[str, int]] = {}
        merges: dict[str, list[CopyPair]] = {}
        (out / "truth_raw").mkdir(exist_ok=True)
        for part in PARTS:
            stats[part], merges[part] = _build_part(
                Path(tmp) / part, out / part, out / "truth_raw" / f"{part}.jsonl", jobs
            )
            for pair in merges[part]:
                print(f"{part}: one group, human texts are copies: {json.dumps(pair)}", file=sys.stderr)
    manifest = {"settings": settings, "pages": stats, "merges": merges}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"built {out} in {time.perf_counter() - started:.0f} s: {json.dumps(stats)}", file=sys.stderr)


def _build_part(src: Path, dst: Path, raw_truth: Path, jobs: int) -> tuple[dict[str, int], list[CopyPair]]:
    """One part: the labelled page folders, truth.jsonl and the raw truth; returns counts and
    the copy pairs merged, for the manifest."""
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    counts = {"pages": 0, "short_gold": 0, "files": 0, "comments_cut": 0, **{f"no_{name}": 0 for name in EXTRACTORS}}
    pages: list[tuple[str, str, str]] = []
    golds: dict[str, str] = {}
    for html in sorted((src / "input").glob("*.html")):
        gold_path = src / "GoldStandard" / f"{html.stem}.txt"
        whole = read_gold(gold_path) if gold_path.exists() else ""
        gold = article(whole)
        counts["pages"] += 1
        counts["comments_cut"] += gold != whole
        if _words(gold) < MIN_GOLD_WORDS:
            counts["short_gold"] += 1
            continue
        folder = dst / html.stem
        folder.mkdir()
        shutil.copyfile(html, folder / file_name(html.stem, "html"))
        (folder / file_name(html.stem, "gold")).write_text(gold.strip() + "\n", encoding="utf-8")
        pages.append((str(html), str(folder), html.stem))
        golds[html.stem] = gold
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(_extract_page, pages, chunksize=8))
    kinds_of: dict[str, dict[str, str]] = {}
    for (_, where, name), (_, texts, _failed) in zip(pages, results, strict=True):
        for extractor in EXTRACTORS:
            if extractor in texts:
                (Path(where) / file_name(name, extractor)).write_text(texts[extractor], encoding="utf-8")
            else:
                counts[f"no_{extractor}"] += 1
        kinds_of[name] = {
            f"{name}/{file_name(name, v)}": v for v in ("html", "gold", *EXTRACTORS) if v in texts or v in HAVE
        }
        counts["files"] += len(kinds_of[name])
    pairs = copy_pairs(golds)
    raw = _truth_lines([[name] for name in sorted(kinds_of)], kinds_of)
    lines = _truth_lines(copy_groups(sorted(kinds_of), pairs), kinds_of)
    raw_truth.write_text("".join(line + "\n" for line in raw), encoding="utf-8")
    (dst / "truth.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    counts["groups"] = len(lines)
    counts["raw_groups"] = len(raw)
    return counts, pairs


def _truth_lines(groups: Sequence[Sequence[str]], kinds_of: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Truth lines, one a group of pages: all their versions, every page's human text acceptable."""
    lines = []
    for group in groups:
        kinds = {i: k for name in group for i, k in kinds_of[name].items()}
        cleanest = sorted(f"{name}/{file_name(name, 'gold')}" for name in group)
        lines.append(
            json.dumps({"cluster": "+".join(group), "ids": sorted(kinds), "cleanest": cleanest, "variants": kinds})
        )
    return lines


# --- eval ----------------------------------------------------------------------------------------


def commit() -> str:
    """The checkout's commit, "+dirty" when files under dedup/ differ from it (or, when
    ``python -m dedup`` runs another copy, e.g. an exported commit on PYTHONPATH, its path)."""
    root = Path(__file__).resolve().parents[1]
    where = subprocess.run(
        [sys.executable, "-c", "import dedup; print(dedup.__file__)"], capture_output=True, text=True
    )
    if not Path(where.stdout.strip()).resolve().is_relative_to(root):
        return f"{where.stdout.strip()} (not this checkout)"
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "dedup"], cwd=root, capture_output=True, text=True)
    return (head.stdout.strip() or "unknown") + ("+dirty" if dirty.stdout.strip() else "")


def truth_path(out: Path, part: str, raw: bool = False) -> Path:
    """A part's truth: the corrected one (in the part's folder) or the dataset's own grouping."""
    return out / "truth_raw" / f"{part}.jsonl" if raw else out / part / "truth.jsonl"


def eval_part(out: Path, part: str, options: Sequence[str], raw: bool = False) -> tuple[dict[str, object], float]:
    """Run ``dedup eval`` on one part; its JSON scores and the seconds it took."""
    folder = out / part
    with tempfile.TemporaryDirectory() as tmp:
        scores = Path(tmp) / "scores.json"
        cmd = [sys.executable, "-m", "dedup", "eval", str(folder), "--truth", str(truth_path(out, part, raw))]
        cmd += ["--json", str(scores), "--top", "10", *options]
        started = time.perf_counter()
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "120"})
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"Error: dedup eval exited {done.returncode} on {folder}")
        payload: dict[str, object] = json.loads(scores.read_text(encoding="utf-8"))
    return payload, seconds


def table(rows: Sequence[tuple[str, dict[str, object], float]]) -> str:
    """The markdown table of the scores (the one docs/evaluation.md shows)."""
    head = (
        "| part | documents | groups | precision | recall | F1 | cleanest | pick vs gold, char 12-gram |"
        " pick vs gold, word 5-gram | gold picked | seconds |\n|---|---|---|---|---|---|---|---|---|---|---|"
    )
    out = [head]
    for part, s, seconds in rows:
        c = s["cleanest"]
        assert isinstance(c, dict)

        def f(v: object, digits: int = 4) -> str:
            return "—" if v is None else f"{float(v):.{digits}f}"  # type: ignore[arg-type]

        out.append(
            f"| {part} | {s['documents']:,} | {s['truth_clusters']:,} | {f(s['precision'])} | {f(s['recall'])} "
            f"| {f(s['f1'])} | {f(c['accuracy'], 3)} | {f(c['char_similarity'])} | {f(c['similarity'])} "
            f"| {f(c['labelled_picked'], 3)} | {seconds:.0f} |"
        )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    options: list[str] = []
    if "--" in argv:  # what follows goes to dedup eval as scan options
        cut = argv.index("--")
        argv, options = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="unpack the archive and write the labelled folders")
    b.add_argument("out", type=Path)
    b.add_argument("--archive", type=Path, default=ARCHIVE)
    b.add_argument("-j", "--jobs", type=int, default=2)
    e = sub.add_parser("eval", help="build if needed, run dedup eval on each part, print a table")
    e.add_argument("out", type=Path)
    e.add_argument("--archive", type=Path, default=ARCHIVE)
    e.add_argument("-j", "--jobs", type=int, default=2, help="extractor processes while building")
    e.add_argument("--part", choices=PARTS, action="append", help="only this part (repeatable)")
    e.add_argument("--json", type=Path, help="also write every part's full scores here")
    e.add_argument(
        "--raw-truth", action="store_true", help="score against the dataset's own grouping (one group a page)"
    )
    args = parser.parse_args(argv)
    build(args.out, args.archive, args.jobs)
    if args.command == "build":
        return 0
    rows = []
    for part in args.part or PARTS:
        scores, seconds = eval_part(args.out, part, options, args.raw_truth)
        rows.append((part, scores, seconds))
    if args.json:
        args.json.write_text(json.dumps({p: s for p, s, _ in rows}, indent=2) + "\n", encoding="utf-8")
    truth = "raw (one group a page)" if args.raw_truth else "corrected (copies merged, comments cut)"
    print(f"dedup at {commit()}, options: {' '.join(options) or '(defaults)'}, truth: {truth}\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
