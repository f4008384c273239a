"""Writing a corpus: the copies of every article, the truth lines, and the counts.

``generate`` draws the articles (text.py), the copies each gets (kinds.py, rendered with
pages.py) and writes them; ``main`` is ``dedup corpus`` / ``python -m dedup.corpus``.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import random
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, DedupError, InputError
from ..wording import count
from .kinds import KINDS, TABLE, draw_kinds, kind, same_text
from .pages import Site, make_sites, teaser, template_page
from .text import (
    Article,
    base_article,
    language,
    sample_article,
    sibling_article,
    site_chrome,
    stream,
    template_article,
)

__all__ = ["SAMPLES_DIR", "CorpusStats", "generate", "main"]

#: The samples/ articles, shipped with the package (a copy of the repository's samples/
#: folder, kept equal to it by a test), so a plain ``pip install .`` can write a corpus.
SAMPLES_DIR = Path(__file__).resolve().parent.parent / "data" / "samples"


@dataclass(frozen=True, slots=True)
class CorpusStats:
    """What ``generate`` wrote: counts for the summary line and for tests."""

    out_dir: Path
    files: int  # files written, records.jsonl included, truth.jsonl not
    records: int  # JSON Lines records (each one document)
    documents: int  # files + records - records.jsonl: every id in truth.jsonl
    bases: int  # distinct articles (bases, siblings, template pages, snippets, samples)
    clusters: int  # truth clusters with 2+ documents
    singletons: int
    duplicate_pairs: int  # pairs of documents that are copies of each other
    bytes: int
    kinds: dict[str, int]  # documents per variant kind
    roles: dict[str, int]  # truth lines per role (article, sibling, template, snippet, sample)
    languages: dict[str, int]  # distinct articles per language
    line_ends: dict[str, int]  # files per line end (lf, crlf, cr, nel)

    def summary(self, shown: Callable[[Path], str] = str) -> str:
        """The line ``dedup corpus`` prints; the counts add up (records.jsonl is a file that
        holds documents, not one). ``shown`` writes a path for the terminal."""
        files = self.documents - self.records
        where = f", {count(self.records, 'record')} in records.jsonl" if self.records else ""
        return (
            f"wrote {count(self.documents, 'document')} ({count(files, 'file')}{where}) from "
            f"{count(self.bases, 'article')} into {shown(self.out_dir)}: {count(self.clusters, 'cluster')} of copies, "
            f"{count(self.singletons, 'singleton')}; truth in {shown(self.out_dir / 'truth.jsonl')}"
        )

    def to_dict(self) -> dict[str, object]:
        out = dataclasses.asdict(self)
        out["out_dir"] = str(self.out_dir)
        return out


@dataclass
class _Truth:
    """One truth line being built."""

    article: Article
    ids: list[str] = field(default_factory=list)
    variants: dict[str, str] = field(default_factory=dict)
    cleanest: list[str] = field(default_factory=list)

    def line(self) -> str:
        ids = sorted(self.ids)
        obj = {
            "cluster": self.article.key,
            "ids": ids,
            "cleanest": sorted(self.cleanest),
            "variants": {i: self.variants[i] for i in ids},
            "role": self.article.role,
            "lang": self.article.lang,
        }
        return json.dumps(obj, ensure_ascii=False)


class _Corpus:
    """Renders copies, writes files and records, and keeps the truth and counts as it goes."""

    def __init__(self, out_dir: Path, seed: int, pool: Sequence[Article]) -> None:
        self.out_dir, self.seed, self.pool = out_dir, seed, pool
        self.sites, self.heavy = make_sites(seed)
        self.news = [s for s in self.sites if not s.blogger]
        self.truth: dict[str, _Truth] = {}
        self.records: list[str] = []
        self.files = 0
        self.bytes = 0
        self.line_ends: Counter[str] = Counter()

    def name(self, key: str, kind: str) -> str:
        """A neutral file name: a hash, so names tell a detector nothing."""
        return hashlib.sha1(f"{self.seed}:{key}:{kind}".encode()).hexdigest()[:12]

    def others(self, article: Article, rng: random.Random, n: int) -> list[Article]:
        """Up to n articles of other stories, in the same language if there are enough."""
        choices = [a for a in self.pool if a.story_key != article.story_key]
        same = [a for a in choices if a.lang == article.lang]
        choices = same if len(same) >= n else choices
        return rng.sample(choices, min(n, len(choices)))

    def add_file(
        self, article: Article, kind: str, rel: str, data: bytes, line_end: str = "lf", *, cleanest: bool | None = None
    ) -> None:
        """Write one document file and put it in its article's truth line."""
        path = self.out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.files += 1
        self.bytes += len(data)
        self.line_ends[line_end] += 1
        self._label(article, rel, kind, same_text(kind) if cleanest is None else cleanest)

    def add_record(self, article: Article, kind: str, text: str, site: Site) -> None:
        """Add one JSON Lines record (written to records.jsonl by ``finish``)."""
        rid = f"r-{self.name(article.key, kind)[:10]}"
        url = f"https://{site.domain}/{article.date.replace('-', '/')}/{rid}"
        record = {"id": rid, "url": url, "title": article.heading(), "text": text}
        self.records.append(json.dumps(record, ensure_ascii=False))
        self._label(article, rid, kind, False)

    def _label(self, article: Article, doc_id: str, kind: str, cleanest: bool) -> None:
        truth = self.truth.setdefault(article.key, _Truth(article))
        truth.ids.append(doc_id)
        truth.variants[doc_id] = kind
        if cleanest:
            truth.cleanest.append(doc_id)

    def copy(self, article: Article, kind_name: str) -> None:
        """Render one copy of ``article`` (see kinds.TABLE) and write it as a file or a record."""
        row = kind(kind_name)
        rng = stream(self.seed, article.key, kind_name, "render")
        name = self.name(article.key, kind_name)
        blogs = [s for s in self.sites if s.blogger]
        if row.blog_sites and blogs and rng.random() < (0.6 if article.lang == "zh" else 0.15):
            site = rng.choice(blogs)  # Blogger's Chinese chrome, as in samples/001
        else:
            site = rng.choice(self.news)
        made = row.render(article, site, rng, self.others)
        if made.record is not None:
            self.add_record(article, kind_name, made.record, site)
        else:
            self.add_file(article, kind_name, f"{site.folder}/{name}.{made.ext}", made.data, made.line_end)

    def finish(self) -> CorpusStats:
        """Write records.jsonl and truth.jsonl; count what was written."""
        if self.records:
            data = "".join(r + "\n" for r in self.records).encode("utf-8")
            (self.out_dir / "records.jsonl").write_bytes(data)
            self.files += 1
            self.bytes += len(data)
            self.line_ends["lf"] += 1
        truth = sorted(self.truth.values(), key=lambda t: t.article.key)
        (self.out_dir / "truth.jsonl").write_text("".join(t.line() + "\n" for t in truth), encoding="utf-8")
        sizes = [len(t.ids) for t in truth]
        kinds = Counter(k for t in truth for k in t.variants.values())
        order = {k: n for n, k in enumerate(KINDS)}
        return CorpusStats(
            out_dir=self.out_dir,
            files=self.files,
            records=len(self.records),
            documents=sum(sizes),
            bases=len(truth),
            clusters=sum(1 for s in sizes if s > 1),
            singletons=sum(1 for s in sizes if s == 1),
            duplicate_pairs=sum(s * (s - 1) // 2 for s in sizes),
            bytes=self.bytes,
            kinds=dict(sorted(kinds.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))),
            roles=dict(sorted(Counter(t.article.role for t in truth).items())),
            languages=dict(sorted(Counter(t.article.lang for t in truth).items())),
            line_ends=dict(sorted(self.line_ends.items())),
        )


def generate(
    out_dir: Path | str,
    *,
    seed: int = 0,
    articles: int = 60,
    samples: Path | str | None = SAMPLES_DIR,
) -> CorpusStats:
    """Write a labelled corpus into a new or empty folder.

    Args:
        out_dir: where to write; created if missing, and must be empty (a corpus is written
            whole, so stale files of an earlier run cannot leak into the truth).
        seed: the same seed writes byte-identical files.
        articles: procedurally generated base articles. Each gets a plain copy and ~4 others,
            a quarter get sibling articles, and one in ten a page in the template site.
        samples: the repository's samples/ folder (000–004 are copied in and 000's article is
            a base); None leaves them out.

    Returns:
        CorpusStats with the counts of what was written.

    Raises:
        ConfigError: ``articles`` is negative, or ``out_dir`` is not empty.
        InputError: ``samples`` is missing or lacks one of 000_*.txt to 004_*.txt.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     stats = generate(Path(tmp) / "corpus", seed=1, articles=3, samples=None)
        >>> stats.documents == sum(stats.kinds.values())
        True
    """
    out_dir = Path(out_dir)
    if articles < 0:
        raise ConfigError(f"articles must be 0 or more, not {articles}")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ConfigError(f"{out_dir} is not an empty folder: the corpus is written into a new or empty one")
    sample_files = _read_samples(Path(samples)) if samples is not None else {}

    bases = [base_article(seed, i) for i in range(articles)]
    siblings: dict[str, list[Article]] = {}
    for base in bases:
        rng = stream(seed, base.key, "siblings")
        if base.lang in {"en", "zh"} and rng.random() < 0.25:
            siblings[base.key] = [sibling_article(seed, base, n + 1) for n in range(rng.randint(1, 2))]
    quotes = _snippets(seed)
    bases = _insert_snippets(seed, bases, quotes)
    real = {
        p: sample_article(f"samples-{p}", text, _sample_title(sample_files) if p == "000" else None)
        for p, (_, text) in sample_files.items()
        if p != "001"
    }
    # Teasers and related links point at the articles a reader could be sent to next.
    pool = [*bases, *(s for group in siblings.values() for s in group), *real.values()]
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus = _Corpus(out_dir, seed, pool)

    # The copies each base gets; a kind nobody drew goes to the first base that can take it.
    copied = [*bases, *([real["000"]] if "000" in real else [])]
    plans = {b.key: draw_kinds(b, stream(seed, b.key, "kinds")) for b in copied}
    for row in TABLE[1:]:
        if not any(row.name in p for p in plans.values()):
            taker = next((b for b in copied if row.eligible(b)), None)
            if taker is not None:
                plans[taker.key].append(row.name)
    for base in copied:
        for name in ([] if base.role == "sample" else ["plain"]) + plans[base.key]:
            corpus.copy(base, name)
        for sibling in siblings.get(base.key, []):
            for name in ["plain", *draw_kinds(sibling, stream(seed, sibling.key, "kinds"), sibling=True)]:
                corpus.copy(sibling, name)

    _write_template_site(corpus, max(4, articles // 10))
    _write_snippets(corpus, quotes)
    if sample_files:
        _write_samples(corpus, sample_files, real)
    return corpus.finish()


def _snippets(seed: int) -> list[Article]:
    """A quote and a slogan (10–25 words) that several articles will carry."""
    chrome = site_chrome()
    rng = stream(seed, "snippets")
    texts = [("snippet-quote", rng.choice(chrome["quotes"])), ("snippet-slogan", rng.choice(chrome["slogans"]))]
    return [Article(key, "en", None, ((text,),), "", "2025-01-01", "snippet") for key, text in texts]


def _insert_snippets(seed: int, bases: list[Article], snippets: Sequence[Article]) -> list[Article]:
    """Quote each snippet, as its own paragraph, in three to five English articles."""
    rng = stream(seed, "snippet-hosts")
    english = [i for i, b in enumerate(bases) if b.lang == "en"]
    out = list(bases)
    for snippet in snippets:
        for i in rng.sample(english, min(len(english), rng.randint(3, 5))):
            base = out[i]
            quoted = snippet.body()
            quoted = f"“{quoted}”" if "“" in base.text() else f'"{quoted}"'
            at = rng.randint(1, len(base.paragraphs))
            paragraphs = (*base.paragraphs[:at], (quoted,), *base.paragraphs[at:])
            out[i] = dataclasses.replace(base, paragraphs=paragraphs)
    return out


def _write_template_site(corpus: _Corpus, pages: int) -> None:
    """Short different articles in one heavy template: the chrome outweighs each article."""
    site = corpus.heavy
    rng = stream(corpus.seed, "template-site")
    city = rng.choice(language("en").vocab["city"])
    about = site_chrome()["about"].format(SITE=site.name, CITY=city, FOUNDED=rng.randint(1990, 2015))
    english = [a for a in corpus.pool if a.lang == "en"] or list(corpus.pool)
    teasers = [teaser(t, rng) for t in rng.sample(english, min(3, len(english)))]
    for n in range(pages):
        article = template_article(corpus.seed, n)
        page = template_page(article, site, about, teasers)
        rel = f"{site.folder}/{corpus.name(article.key, 'template')}.txt"
        corpus.add_file(article, "template", rel, page.encode("utf-8"))


def _write_snippets(corpus: _Corpus, quotes: Sequence[Article]) -> None:
    """The quote and slogan files, and comment widgets alone in a file (en, and zh as in samples/)."""
    widgets = [
        ("snippet-widget-en", "\n".join(site_chrome()["comments"][0])),
        ("snippet-widget-zh", "\n".join(site_chrome()["blogger_zh"]["comments"])),
    ]
    articles = [*quotes, *(Article(k, k[-2:], None, ((t,),), "", "2025-01-01", "snippet") for k, t in widgets)]
    rng = stream(corpus.seed, "snippet-files")
    for article in articles:
        kind = "widget" if "widget" in article.key else "quote"
        rel = f"{rng.choice(corpus.news).folder}/{corpus.name(article.key, kind)}.txt"
        corpus.add_file(article, kind, rel, (article.body() + "\n").encode("utf-8"))


def _read_samples(folder: Path) -> dict[str, tuple[str, str]]:
    """samples/000_*.txt … 004_*.txt: prefix -> (file name, text)."""
    if not folder.is_dir():
        raise InputError(f"samples folder not found: {folder} (give --samples DIR, or --no-samples)")
    out: dict[str, tuple[str, str]] = {}
    for prefix in ("000", "001", "002", "003", "004"):
        found = sorted(folder.glob(f"{prefix}_*.txt"))
        if not found:
            raise InputError(f"samples folder {folder} has no {prefix}_*.txt")
        try:
            out[prefix] = (found[0].name, found[0].read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read sample {found[0]}: {exc}") from exc
    return out


def _sample_title(sample_files: dict[str, tuple[str, str]]) -> str | None:
    """The title 001's blog gave the summit article: the line before 000's first line."""
    first = next((line for line in sample_files["000"][1].splitlines() if line.strip()), "")
    lines = [line.strip() for line in sample_files["001"][1].splitlines() if line.strip()]
    if first.strip() in lines:
        at = lines.index(first.strip())
        return lines[at - 1] if at > 1 else None
    return None


def _write_samples(corpus: _Corpus, files: dict[str, tuple[str, str]], real: dict[str, Article]) -> None:
    """samples/ copied byte for byte: {000, 001} one cluster (000 cleanest), 002–004 singletons."""
    for prefix, (name, text) in files.items():
        article = real["000" if prefix == "001" else prefix]
        kind = "wrapped" if prefix == "001" else "plain"
        corpus.add_file(article, kind, f"samples/{name}", text.encode("utf-8"), cleanest=prefix == "000")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m dedup.corpus OUT [--seed N] [--articles N] [--samples DIR | --no-samples]``."""
    parser = argparse.ArgumentParser(
        prog="python -m dedup.corpus",
        description="Write a labelled near-duplicate corpus (files, records.jsonl, truth.jsonl) into OUT.",
    )
    parser.add_argument("out", type=Path, metavar="OUT", help="a new or empty folder")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same bytes (default 0)")
    parser.add_argument("--articles", type=int, default=60, help="generated base articles (default 60)")
    parser.add_argument(
        "--samples",
        type=Path,
        default=SAMPLES_DIR,
        metavar="DIR",
        help="the repository's samples/ folder (default: next to the package)",
    )
    parser.add_argument("--no-samples", action="store_true", help="leave samples/ out")
    args = parser.parse_args(argv)
    try:
        samples = None if args.no_samples else args.samples
        stats = generate(args.out, seed=args.seed, articles=args.articles, samples=samples)
    except DedupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(stats.summary())
    return 0
