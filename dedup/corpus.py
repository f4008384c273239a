"""A deterministic generator of labelled corpora for measuring a near-duplicate detector.

``generate(out_dir, seed=0, articles=60)`` writes a folder of files, one ``records.jsonl`` and
``truth.jsonl`` (the format ``evaluate.read_truth`` reads), and returns ``CorpusStats``.
``python -m dedup.corpus OUT --seed 0 --articles 60`` does the same from the shell.

Why generate: real scraped folders have no labels, and the five ``samples/`` articles are too
few to choose thresholds with. So the corpus mixes

* real text: ``samples/`` copied verbatim (000 and its blog copy 001 are one cluster; 002–004
  are other articles on the same story, left as singletons), and 000's article as a base;
* procedural news prose from a seeded grammar (``data/newsgen.json``, written for this
  project): English, Chinese (no spaces), German, French and Spanish, each article built from
  its own story (people, organisations, places, topic) so that two articles share almost no
  word 5-grams;
* copies of each base: plain, wrapped in site chrome, HTML, Markdown, truncated, lightly edited,
  OCR-damaged, mojibake, cp1252 / UTF-16 / GBK / latin-1 bytes, CRLF / CR / NEL line ends, and
  JSON Lines records;
* hard negatives that must stay apart: sibling articles on the same story, short articles in one
  heavy site template, and a quote, a slogan and comment widgets that appear inside many pages.

File names are hashes (``site3/5f1c0e9a2b7d.html``), so nothing but the text tells a detector
what belongs together; the variant kinds live only in ``truth.jsonl``. Its lines also carry
``role`` (article, sibling, template, snippet, sample) and ``lang``, which ``read_truth``
ignores. Scan the folder with ``truth.jsonl`` excluded (it is JSON Lines without a text field). Every random choice
comes from ``random.Random`` seeded with a string (stable across runs and platforms), one
stream per article and purpose, so the same seed writes byte-identical files.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import html
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError, DedupError, InputError

__all__ = ["KINDS", "SAMPLES_DIR", "CorpusStats", "generate", "main"]

#: The repository's samples folder, next to the package.
SAMPLES_DIR = Path(__file__).parent.parent / "samples"

#: Every variant kind a truth line can name (``variants``), in the order they are drawn.
KINDS = (
    "plain",
    "wrapped",
    "html",
    "html-cp1252",
    "markdown",
    "truncated",
    "edited",
    "ocr",
    "mojibake",
    "cp1252",
    "utf16",
    "gbk",
    "latin1-nel",
    "jsonl",
)

# Chance that a base article gets each copy (plain is always written). With 60 bases this
# makes ~5 files per base; a final pass adds any kind no base drew, so all kinds appear.
_KIND_P = {
    "wrapped": 0.6,
    "html": 0.5,
    "html-cp1252": 0.15,
    "markdown": 0.35,
    "truncated": 0.45,
    "edited": 0.45,
    "ocr": 0.3,
    "mojibake": 0.2,
    "cp1252": 0.2,
    "utf16": 0.2,
    "gbk": 0.5,
    "latin1-nel": 0.3,
    "jsonl": 0.2,
}
# Copies of a sibling article: fewer, so siblings are mostly singletons and small clusters.
_SIBLING_P = {"wrapped": 0.35, "html": 0.25, "truncated": 0.2}
# Line ends of text copies that keep UTF-8 or cp1252 bytes: CRLF, CR, else LF.
_CRLF_P, _CR_P = 0.2, 0.08
_NEWS_SITES, _BLOG_SITES = 8, 2
_LANG_CYCLE = ("en", "en", "zh", "en", "de", "en", "en", "fr", "en", "en", "es", "en", "zh", "en", "en", "de", "en",
               "fr", "en", "es")  # fmt: skip

_SLOT = re.compile(r"\{([A-Z0-9]+)\}")
_STRAIGHT = {ord("“"): '"', ord("”"): '"', ord("’"): "'", ord("‘"): "'"}
_CJK = re.compile(r"[\u3400-\u9fff]")


# --- public results --------------------------------------------------------------------------


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

    def to_dict(self) -> dict[str, object]:
        out = dataclasses.asdict(self)
        out["out_dir"] = str(self.out_dir)
        return out


# --- vocabulary and grammar ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Lang:
    code: str
    vocab: dict[str, list[str]]
    grammar: dict[str, list[str]]
    topics: dict[str, list[str]]
    orgword: dict[str, str]


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    """The word lists and templates (loaded once; they are package data, not user input)."""
    text = resources.files("dedup").joinpath("data/newsgen.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@lru_cache(maxsize=8)
def _lang(code: str) -> _Lang:
    d = _data()[code]
    return _Lang(code, d["vocab"], d["grammar"], d["topics"], d.get("orgword", {}))


def _chrome() -> dict[str, Any]:
    chrome: dict[str, Any] = _data()["chrome"]
    return chrome


def _rng(seed: int, *parts: object) -> random.Random:
    """An independent stream per purpose: str seeds hash with SHA-512, stable everywhere."""
    return random.Random(":".join(map(str, (seed, *parts))))


class _Writer:
    """Expands one language's grammar for one story: story slots, then rules, then words."""

    def __init__(self, lang: _Lang, slots: dict[str, list[str]], rng: random.Random) -> None:
        self.lang, self.slots, self.rng = lang, slots, rng

    def expand(self, template: str, depth: int = 0) -> str:
        if depth > 8:  # a rule that refers to itself cannot run away
            return ""
        return _SLOT.sub(lambda m: self.symbol(m.group(1), depth), template)

    def symbol(self, name: str, depth: int) -> str:
        rng = self.rng
        if name in self.slots:
            return self.expand(rng.choice(self.slots[name]), depth + 1)
        if name in self.lang.grammar:
            return self.expand(rng.choice(self.lang.grammar[name]), depth + 1)
        words = self.lang.vocab.get(name.lower())
        if words is not None:
            return self.expand(rng.choice(words), depth + 1)
        return self.number(name)

    def number(self, name: str) -> str:
        """Numbers, money and dates, written the way the language writes them."""
        rng, code = self.rng, self.lang.code
        if name == "NUM":
            return str(rng.randint(2, 95))
        if name == "YEAR":
            return str(rng.randint(2012, 2026))
        if name == "DAYNUM":
            return str(rng.randint(1, 28))
        if name == "PCT":
            value = str(rng.randint(2, 60)) if rng.random() < 0.5 else f"{rng.randint(1, 40)}.{rng.randint(1, 9)}"
            if code == "en":
                return f"{value} percent" if rng.random() < 0.6 else f"{value}%"
            if code == "zh":
                return f"{value}%"
            value = value.replace(".", ",")
            return {"de": f"{value} Prozent", "fr": f"{value} %", "es": f"{value} %"}[code]
        if name == "MONEY":
            amount = rng.choice([str(rng.randint(2, 950)), f"{rng.randint(1, 20)}.{rng.randint(1, 9)}"])
            if code == "en":
                unit = rng.choice(["million", "million", "billion"])
                return f"{rng.choice(['$', '£', '€'])}{amount} {unit}"
            if code == "zh":
                return f"{amount}{rng.choice(['亿元', '万元'])}"
            amount = amount.replace(".", ",")
            unit = {"de": "Millionen Euro", "fr": "millions d’euros", "es": "millones de euros"}[code]
            return f"{amount} {unit}"
        raise KeyError(f"no rule, word list or number named {name!r}")


def _capitalise(text: str) -> str:
    """Upper-case the first letter, after any opening quote ("59 percent" stays as it is)."""
    i = len(text) - len(text.lstrip("“\"‘'«„¿¡ "))
    return text[:i] + text[i : i + 1].upper() + text[i + 1 :]


_AN = re.compile(r"\b([Aa]) (?=[aeioAEIO]|u[^n]|un[^i]|Ö|Ó)")


def _tidy(sentence: str, code: str) -> str:
    """Spacing, 'a'/'an' and the capital letter a template expansion leaves to fix."""
    if code == "zh":
        return sentence.replace(" ", "")
    sentence = re.sub(r"\s+", " ", sentence).strip()
    sentence = re.sub(r" ([,.;:])", r"\1", sentence)
    if code == "en":
        sentence = _AN.sub(r"\1n ", sentence)
    return _capitalise(sentence)


# --- articles --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Article:
    key: str  # the truth cluster label
    lang: str
    title: str | None
    paragraphs: tuple[tuple[str, ...], ...]  # sentences per paragraph
    byline: str
    date: str
    role: str
    story: dict[str, list[str]] = field(default_factory=dict, compare=False)

    @property
    def story_key(self) -> str:
        """Siblings share their base's story: a0007-s1 is about what a0007 is about."""
        return self.key.split("-s")[0]

    @property
    def joiner(self) -> str:
        return "" if self.lang == "zh" else " "

    def body(self) -> str:
        return "\n\n".join(self.joiner.join(p) for p in self.paragraphs)

    def text(self) -> str:
        """The plain copy: title, a blank line, the paragraphs."""
        return f"{self.title}\n\n{self.body()}" if self.title else self.body()

    def heading(self) -> str:
        """The title, or the opening words for an article that has none."""
        if self.title:
            return self.title
        first = self.paragraphs[0][0]
        return first[:30] if self.lang == "zh" else " ".join(first.split()[:9]).rstrip(",;:")


def _story(lang: _Lang, rng: random.Random) -> dict[str, list[str]]:
    """The people, organisations, places and topic one article (and its siblings) is about."""
    v = lang.vocab
    topic = rng.choice(sorted(lang.topics))
    slots: dict[str, list[str]] = {"T": list(lang.topics[topic])}
    if lang.code == "zh":
        city = rng.choice(v["city"])
        orgs = [f"{city}{'' if k.startswith('市') else '市'}{k}" for k in rng.sample(v["orgkind"], 2)]
        orgs.append(f"{city}{rng.choice(v['surname'])}氏{rng.choice(v['company'])}")
        officials = [(rng.choice(v["surname"]), rng.choice(v["given"]), rng.choice(v["role"])) for _ in range(3)]
        slots |= {
            "CITY": [city],
            "ORG": orgs,
            "ORG2": orgs[::-1],
            "PERSON": [s + g for s, g, _ in officials],
            "PL": [s for s, _, _ in officials],
            "PERSONROLE": [f"{rng.choice(orgs)}{r}{s}{g}" for s, g, r in officials],
        }
        return slots
    city = rng.choice(v["city"])
    if lang.code == "en":
        word = lang.orgword[topic]
        orgs = [
            f"the {rng.choice(v['orgprefix'])} {word} {rng.choice(v['orgkind'])}",
            f"{rng.choice(v['last'])} {rng.choice(v['company'])}",
            f"the {city} {word} {rng.choice(v['orgkind'])}",
        ]
    else:
        orgs = rng.sample(v["org"], 3)
    people = [(f"{rng.choice(v['first'])} {rng.choice(v['last'])}", rng.choice(v["role"])) for _ in range(3)]
    if lang.code == "en":
        roles = [
            rng.choice([f"the {r} of {rng.choice(orgs)}", f"a {r} at {rng.choice(orgs)}", f"{city}’s {r}"])
            for _, r in people
        ]
        person_roles = [f"{n}, {r}" for (n, _), r in zip(people, roles, strict=True)]
        slots["COUNTRY"] = [rng.choice(v["country"])]
    elif lang.code == "de":
        person_roles = [f"{r} {n}" for n, r in people]
    else:
        person_roles = [f"{n}, {r}" for n, r in people]
    slots |= {
        "CITY": [city],
        "ORG": orgs,
        "PERSON": [n for n, _ in people],
        "PL": [n.split()[-1] for n, _ in people],
        "PERSONROLE": person_roles,
    }
    return slots


def _compose(
    key: str,
    code: str,
    story: dict[str, list[str]],
    rng: random.Random,
    *,
    role: str,
    paragraphs: tuple[int, int],
    sentences: tuple[int, int],
    curly: bool,
) -> _Article:
    """Write one article for ``story`` with ``rng``: a title and paragraphs of sentences."""
    lang = _lang(code)
    writer = _Writer(lang, story, rng)
    title = _tidy(writer.expand("{TITLE}"), code).rstrip(".")
    used: set[str] = set()

    def sentence() -> str:
        """A sentence not yet in the article (small grammars repeat themselves otherwise)."""
        for _ in range(5):
            text = _tidy(writer.expand("{S}"), code)
            if text not in used:
                break
        used.add(text)
        return text

    paras = tuple(tuple(sentence() for _ in range(rng.randint(*sentences))) for _ in range(rng.randint(*paragraphs)))
    names = lang.vocab
    if code == "zh":
        byline = rng.choice(names["surname"]) + rng.choice(names["given"])
    else:
        byline = f"{rng.choice(names['first'])} {rng.choice(names['last'])}"
    date = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    article = _Article(key, code, title, paras, byline, date, role, story)
    return article if curly or code != "en" else _straighten(article)


def _straighten(article: _Article) -> _Article:
    """The same article with straight quotes and apostrophes (some sites never curl them)."""
    return dataclasses.replace(
        article,
        title=article.title.translate(_STRAIGHT) if article.title else None,
        paragraphs=tuple(tuple(s.translate(_STRAIGHT) for s in p) for p in article.paragraphs),
        byline=article.byline.translate(_STRAIGHT),
    )


def _generated(seed: int, index: int) -> _Article:
    """Base article number ``index``: its language from a fixed cycle, its story from the seed."""
    code = _LANG_CYCLE[index % len(_LANG_CYCLE)]
    key = f"a{index:04d}"
    story = _story(_lang(code), _rng(seed, key, "story"))
    rng = _rng(seed, key, "text")
    if code == "zh":
        return _compose(key, code, story, rng, role="article", paragraphs=(5, 7), sentences=(3, 5), curly=True)
    curly = rng.random() < 0.5
    return _compose(key, code, story, rng, role="article", paragraphs=(6, 9), sentences=(2, 4), curly=curly)


def _sibling(seed: int, base: _Article, n: int) -> _Article:
    """Another article on the base's story: same people, places and topic, new sentences."""
    key = f"{base.key}-s{n}"
    rng = _rng(seed, key, "text")
    curly = "“" in base.text() or base.lang != "en"
    shape = ((5, 7), (3, 5)) if base.lang == "zh" else ((5, 8), (2, 4))
    return _compose(
        key, base.lang, base.story, rng, role="sibling", paragraphs=shape[0], sentences=shape[1], curly=curly
    )


def _template_article(seed: int, n: int) -> _Article:
    """A short (80–150 word) English article for the heavy-template site."""
    key = f"t{n:02d}"
    story = _story(_lang("en"), _rng(seed, key, "story"))
    rng = _rng(seed, key, "text")
    article = _compose(key, "en", story, rng, role="template", paragraphs=(3, 4), sentences=(2, 3), curly=True)
    budget = rng.randint(80, 150)
    kept: list[tuple[str, ...]] = []
    words = 0
    for para in article.paragraphs:
        fits = []
        for sentence in para:
            if words >= budget or words + len(sentence.split()) > 150:
                break
            fits.append(sentence)
            words += len(sentence.split())
        if fits:
            kept.append(tuple(fits))
    return dataclasses.replace(article, paragraphs=tuple(kept))


def _split_sentences(paragraph: str) -> tuple[str, ...]:
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z“\"])", paragraph.strip())
    return tuple(p for p in parts if p)


def _sample_article(key: str, text: str, title: str | None) -> _Article:
    """An article from a sample file, without the trailing comment widget lines."""
    lines = text.splitlines()
    while lines and lines[-1].strip() in {"", "评论", "发表评论"}:
        lines.pop()
    paras = tuple(_split_sentences(line) for line in lines if line.strip())
    return _Article(key, "en", title, paras, "Staff", "2025-08-16", "sample")


# --- sites and chrome ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Site:
    folder: str
    name: str
    skip: str
    nav: tuple[str, ...]
    share: tuple[str, ...]
    comments: tuple[str, ...]
    teaser_head: str
    newsletter: str
    footer: tuple[str, ...]
    blogger: bool = False
    domain: str = "example.com"


def _sites(seed: int) -> tuple[list[_Site], _Site]:
    """The news and blog sites copies are wrapped in, and the one heavy-template site."""
    c = _chrome()
    rng = _rng(seed, "sites")
    news: list[_Site] = []
    for k, name in enumerate(rng.sample(c["sites"], _NEWS_SITES + 1)):
        heavy = k == _NEWS_SITES  # the last one: every nav item, every footer line
        nav = tuple(c["nav"]) if heavy else tuple(rng.sample(c["nav"][:16], rng.randint(5, 8)))
        footer = tuple(f.format(YEAR=2025, SITE=name) for f in c["footer"][: 4 if heavy else rng.randint(2, 3)])
        news.append(
            _Site(
                folder=f"site{k + 1}",
                name=name,
                skip=rng.choice(c["skip"]),
                nav=nav,
                share=tuple(rng.sample(c["share"], rng.randint(2, 4))),
                comments=tuple(rng.choice(c["comments"])),
                teaser_head=rng.choice(c["teaser_heads"]).format(SITE=name),
                newsletter=rng.choice(c["newsletter"]),
                footer=footer,
                domain=re.sub(r"[^a-z]+", "", name.lower().removeprefix("the ")) + rng.choice([".com", ".net"]),
            )
        )
    zh = c["blogger_zh"]
    blogs = [
        _Site(
            folder=f"blog{k}",
            name="",
            skip=zh["skip"],
            nav=(),
            share=(),
            comments=tuple(zh["comments"][:k]),
            teaser_head=zh["popular"],
            newsletter="",
            footer=(),
            blogger=True,
            domain=f"blog{k}.example.net",
        )
        for k in range(1, _BLOG_SITES + 1)
    ]
    return [*news[:-1], *blogs], news[-1]


def _teaser(article: _Article, rng: random.Random) -> str:
    """Title and the first 40–60 words (80–120 characters of Chinese) of another article."""
    body = article.body()
    if article.lang == "zh":
        opening = body.replace("\n", "")[: rng.randint(80, 120)]
    else:
        opening = " ".join(body.split()[: rng.randint(40, 60)])
    return f"{article.heading()}\n{opening}..."


def _wrapped(article: _Article, site: _Site, teasers: Sequence[str], rng: random.Random) -> str:
    """The article in a page's text with site chrome, like samples/001."""
    if site.blogger:
        lines = [site.skip, "", article.heading(), "", article.body(), "", *site.comments, "", site.teaser_head, ""]
        for t in teasers:
            lines += [t, ""]
        return "\n".join(lines)
    share = list(site.share)
    lines = [site.skip, site.name, " | ".join(site.nav), "", article.heading(), f"By {article.byline} | {article.date}"]
    lines += share if rng.random() < 0.5 else [" | ".join(share)]
    lines += ["", article.body(), "", " | ".join(share), site.newsletter, "", *site.comments, ""]
    if teasers:
        lines += [site.teaser_head, ""]
        for t in teasers:
            lines += [t, ""]
    lines += list(site.footer)
    return "\n".join(lines) + "\n"


def _template_page(article: _Article, site: _Site, about: str, teasers: Sequence[str]) -> str:
    """A short article in the heavy template: long nav, an about block and the same teasers."""
    nav = site.nav
    lines = [site.skip, site.name, *(" | ".join(nav[i : i + 8]) for i in range(0, len(nav), 8)), ""]
    lines += [article.heading(), f"By {article.byline} | {article.date}", " | ".join(site.share), ""]
    lines += [article.body(), "", " | ".join(site.share), *site.comments, "", about, "", site.teaser_head, ""]
    for t in teasers:
        lines += [t, ""]
    lines += [site.newsletter, *site.footer]
    return "\n".join(lines) + "\n"


_CSS = """
body {{ font-family: Georgia, "Times New Roman", serif; margin: 0 auto; max-width: 46em; color: #{color}; }}
header nav ul {{ list-style: none; display: flex; gap: 1rem; padding: 0; }}
.share button {{ background: #{accent}; border: 0; border-radius: 3px; color: white; padding: .4em .8em; }}
article p {{ line-height: 1.6; margin: 0 0 1em; }}
@media (max-width: 600px) {{ header nav ul {{ flex-direction: column; }} }}
"""
_JS_HEAD = """
window.dataLayer = window.dataLayer || [];
function gtag() {{ dataLayer.push(arguments); }}
gtag('js', new Date());
gtag('config', 'G-{tag}', {{ anonymize_ip: true, page_path: location.pathname }});
"""
_JS_FOOT = """
document.querySelectorAll('.share button').forEach(function (button) {{
  button.addEventListener('click', function () {{
    var url = encodeURIComponent(window.location.href);
    window.open('https://{domain}/share?u=' + url + '&via=' + button.dataset.network, '_blank');
  }});
}});
"""


def _html(article: _Article, site: _Site, related: Sequence[_Article], rng: random.Random, *, charset: str) -> str:
    """A full page: head with style and script, nav, header, the article, share, footer."""

    def esc(text: str) -> str:
        return html.escape(text, quote=False)

    tag = hashlib.sha1(f"{site.domain}{article.key}".encode()).hexdigest()[:8].upper()
    lang = {"zh": "zh-CN"}.get(article.lang, article.lang)
    nav = "".join(f'<li><a href="/{n.lower().replace(" ", "-")}/">{esc(n)}</a></li>' for n in site.nav or ("Home",))
    paras = "\n".join(f"<p>{esc(article.joiner.join(p))}</p>" for p in article.paragraphs)
    share = "".join(f'<button data-network="{k}">{esc(s)}</button>' for k, s in enumerate(site.share))
    links = "".join(f'<li><a href="/story/{r.key}">{esc(r.heading())}</a></li>' for r in related)
    color, accent = rng.choice(["222", "1a1a1a", "333"]), rng.choice(["c0392b", "2c3e50", "16a085", "8e44ad"])
    footer = "".join(f"<p>{esc(f)}</p>" for f in site.footer)
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="{charset}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(article.heading())} | {esc(site.name or site.domain)}</title>
<style>{_CSS.format(color=color, accent=accent)}</style>
<script>{_JS_HEAD.format(tag=tag)}</script>
</head>
<body>
<a class="skip-link" href="#main">{esc(site.skip)}</a>
<header><div class="logo"><a href="/">{esc(site.name or site.domain)}</a></div>
<nav><ul>{nav}</ul></nav></header>
<main id="main">
<article>
<h1>{esc(article.heading())}</h1>
<p class="byline">By {esc(article.byline)} <time datetime="{article.date}">{article.date}</time></p>
{paras}
</article>
<div class="share">{share}</div>
<section class="comments"><h2>{esc(site.comments[0] if site.comments else "Comments")}</h2></section>
<aside class="related"><h2>{esc(site.teaser_head)}</h2><ul>{links}</ul></aside>
</main>
<footer>{footer}</footer>
<script>{_JS_FOOT.format(domain=site.domain)}</script>
</body>
</html>
"""


def _markdown(article: _Article, rng: random.Random) -> str:
    """A Markdown copy: a heading, an italic byline, one bold phrase and a link or two."""
    paras = [list(p) for p in article.paragraphs]
    spots = [(i, j) for i, p in enumerate(paras) for j in range(len(p))]
    for n, (i, j) in enumerate(rng.sample(spots, min(3, len(spots)))):
        words = paras[i][j].split(" ")
        if len(words) < 6 or article.lang == "zh":
            continue
        k = rng.randint(1, len(words) - 4)
        phrase = " ".join(words[k : k + 3])
        if not re.fullmatch(r"[\w’' -]+", phrase):
            continue
        slug = re.sub(r"\W+", "-", phrase.lower()).strip("-")
        marked = f"**{phrase}**" if n == 0 else f"[{phrase}](https://www.example.org/{slug})"
        paras[i][j] = " ".join([*words[:k], marked, *words[k + 3 :]])
    body = "\n\n".join(article.joiner.join(p) for p in paras)
    return f"# {article.heading()}\n\n*{article.byline}, {article.date}*\n\n{body}\n"


def _truncated(article: _Article, rng: random.Random) -> str:
    """The first 25–60% of the article, cut mid-sentence, then an ellipsis or a paywall line."""
    body = article.body()
    cut = int(len(body) * rng.uniform(0.25, 0.6))
    if article.lang == "zh":
        while cut < len(body) - 1 and not _CJK.match(body[cut - 1]):
            cut += 1
        markers: list[str] = _chrome()["truncation_zh"]
    else:
        cut = body.find(" ", cut)
        while cut > 0 and body[cut - 1] in '.!?”"':
            cut = body.find(" ", cut + 1)
        markers = _chrome()["truncation"]
    head = body[: cut if cut > 0 else len(body) // 2].rstrip(",;: ")
    marker = rng.choice(markers)
    ending = marker if marker in {"…", "……"} else f"\n\n{marker}"
    title = f"{article.title}\n\n" if article.title else ""
    return f"{title}{head}{ending}\n"


def _edited(article: _Article, rng: random.Random) -> str:
    """Light edits: one sentence dropped, a few typos, quotes flipped, one figure updated."""
    paras = [list(p) for p in article.paragraphs]
    long = [i for i, p in enumerate(paras) if len(p) > 1]
    if long:
        i = rng.choice(long)
        del paras[i][rng.randrange(1, len(paras[i]))]
    body = "\n\n".join(article.joiner.join(p) for p in paras)
    if article.lang == "zh":
        chars = list(body)
        spots = [k for k in range(len(chars) - 1) if _CJK.match(chars[k]) and _CJK.match(chars[k + 1])]
        for k in rng.sample(spots, max(1, len(spots) // 100)):
            chars[k], chars[k + 1] = chars[k + 1], chars[k]
        body = "".join(chars)
    else:
        words = body.split(" ")
        for k in rng.sample(range(len(words)), max(1, round(len(words) * rng.uniform(0.01, 0.02)))):
            words[k] = _typo(words[k], rng)
        body = " ".join(words)
        if "“" in body or "’" in body:
            body = body.translate(_STRAIGHT)
        else:
            body = re.sub(r'"([^"\n]*)"', r"“\1”", body).replace("'", "’")
    numbers = list(re.finditer(r"(?<![\d.,])\d+(?![\d.,]\d)", body))
    if numbers:
        m = rng.choice(numbers)
        body = body[: m.start()] + str(int(m.group()) + rng.randint(1, 5)) + body[m.end() :]
    title = f"{article.title}\n\n" if article.title else ""
    return f"{title}{body}\n"


def _typo(word: str, rng: random.Random) -> str:
    """Swap two inner letters or drop one, in words long enough to stay recognisable."""
    letters = [k for k in range(1, len(word) - 1) if word[k].isalpha() and word[k + 1].isalpha()]
    if len(word) < 4 or not letters:
        return word
    k = rng.choice(letters)
    if rng.random() < 0.5:
        return word[:k] + word[k + 1] + word[k] + word[k + 2 :]
    return word[:k] + word[k + 1 :]


_OCR_SWAPS = (("rn", "m"), ("m", "rn"), ("l", "1"), ("I", "l"), ("O", "0"), ("o", "0"), ("e", "c"), ("cl", "d"),
              ("li", "h"), ("h", "li"), ("S", "5"), ("t", "f"))  # fmt: skip


def _ocr(article: _Article, rng: random.Random) -> str:
    """OCR damage in 2–4% of words, lines hard-wrapped, long words hyphenated across lines."""
    rate = rng.uniform(0.02, 0.04)
    width = rng.randint(58, 76)
    out: list[str] = []
    for block in article.text().split("\n\n"):
        words = [_ocr_word(w, rng) if rng.random() < rate else w for w in block.split()]
        line = ""
        for w in words:
            if line and len(line) + 1 + len(w) > width:
                if len(w) >= 8 and w.isalpha() and rng.random() < 0.4:
                    k = rng.randint(3, len(w) - 3)
                    out.append(f"{line} {w[:k]}-")
                    line = w[k:]
                    continue
                out.append(line)
                line = w
            else:
                line = f"{line} {w}" if line else w
        out += [line, ""]
    return "\n".join(out)


def _ocr_word(word: str, rng: random.Random) -> str:
    options = [(a, b) for a, b in _OCR_SWAPS if a in word]
    if not options:
        return word
    a, b = rng.choice(options)
    return word.replace(a, b, 1)


def _sloppy_cp1252() -> list[str]:
    """Byte -> character of Windows-1252, with its five holes read as latin-1 (as browsers do)."""
    table = []
    for b in range(256):
        try:
            table.append(bytes([b]).decode("cp1252"))
        except UnicodeDecodeError:
            table.append(chr(b))
    return table


_MOJIBAKE = _sloppy_cp1252()


def _mojibake(text: str) -> str:
    """UTF-8 bytes read as cp1252: “ becomes â€œ, é becomes Ã©."""
    return "".join(_MOJIBAKE[b] for b in text.encode("utf-8"))


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _eligible(kind: str, article: _Article) -> bool:
    """Whether a copy of this kind can be made of the article and differs from plain bytes."""
    text = article.text()
    zh = article.lang == "zh"
    non_ascii = not text.isascii()
    if kind in {"ocr", "mojibake"}:
        return not zh and (kind == "ocr" or non_ascii)
    if kind in {"cp1252", "html-cp1252"}:
        return not zh and non_ascii and _encodable(text, "cp1252")
    if kind == "latin1-nel":
        return not zh and non_ascii and _encodable(text, "latin-1")
    if kind == "gbk":
        return zh and _encodable(text, "gbk")
    return True


# --- the corpus ------------------------------------------------------------------------------


#: Copies whose decoded text is the plain copy's, byte for byte: as clean as it, so a pick of
#: any of them is right.
_SAME_TEXT = frozenset({"plain", "utf16", "latin1-nel", "cp1252", "gbk"})


@dataclass
class _Truth:
    """One truth line being built."""

    article: _Article
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

    def __init__(self, out_dir: Path, seed: int, pool: Sequence[_Article]) -> None:
        self.out_dir, self.seed, self.pool = out_dir, seed, pool
        self.sites, self.heavy = _sites(seed)
        self.news = [s for s in self.sites if not s.blogger]
        self.truth: dict[str, _Truth] = {}
        self.records: list[str] = []
        self.files = 0
        self.bytes = 0
        self.line_ends: Counter[str] = Counter()

    def name(self, key: str, kind: str) -> str:
        """A neutral file name: a hash, so names tell a detector nothing."""
        return hashlib.sha1(f"{self.seed}:{key}:{kind}".encode()).hexdigest()[:12]

    def others(self, article: _Article, rng: random.Random, n: int) -> list[_Article]:
        """Up to n articles of other stories, in the same language if there are enough."""
        choices = [a for a in self.pool if a.story_key != article.story_key]
        same = [a for a in choices if a.lang == article.lang]
        choices = same if len(same) >= n else choices
        return rng.sample(choices, min(n, len(choices)))

    def add_file(
        self, article: _Article, kind: str, rel: str, data: bytes, line_end: str = "lf", *, cleanest: bool | None = None
    ) -> None:
        """Write one document file and put it in its article's truth line."""
        path = self.out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.files += 1
        self.bytes += len(data)
        self.line_ends[line_end] += 1
        self._label(article, rel, kind, kind in _SAME_TEXT if cleanest is None else cleanest)

    def add_record(self, article: _Article, kind: str, text: str, site: _Site) -> None:
        """Add one JSON Lines record (written to records.jsonl by ``finish``)."""
        rid = f"r-{self.name(article.key, kind)[:10]}"
        url = f"https://{site.domain}/{article.date.replace('-', '/')}/{rid}"
        record = {"id": rid, "url": url, "title": article.heading(), "text": text}
        self.records.append(json.dumps(record, ensure_ascii=False))
        self._label(article, rid, kind, False)

    def _label(self, article: _Article, doc_id: str, kind: str, cleanest: bool) -> None:
        truth = self.truth.setdefault(article.key, _Truth(article))
        truth.ids.append(doc_id)
        truth.variants[doc_id] = kind
        if cleanest:
            truth.cleanest.append(doc_id)

    def copy(self, article: _Article, kind: str) -> None:
        """Render one copy of ``article`` and write it as a file or a record."""
        rng = _rng(self.seed, article.key, kind, "render")
        name = self.name(article.key, kind)
        blogs = [s for s in self.sites if s.blogger]
        if kind == "wrapped" and blogs and rng.random() < (0.6 if article.lang == "zh" else 0.15):
            site = rng.choice(blogs)  # Blogger's Chinese chrome, as in samples/001
        else:
            site = rng.choice(self.news)
        folder = site.folder
        text = article.text() + "\n"
        if kind == "plain":
            self.add_file(article, kind, f"{folder}/{name}.txt", text.encode("utf-8"))
        elif kind == "wrapped":
            teasers = [_teaser(t, rng) for t in self.others(article, rng, rng.randint(1, 3))]
            page, end = _line_end(_wrapped(article, site, teasers, rng), rng)
            self.add_file(article, kind, f"{folder}/{name}.txt", page.encode("utf-8"), end)
        elif kind in {"html", "html-cp1252"}:
            self._html(article, kind, site, rng, f"{folder}/{name}")
        elif kind == "jsonl":
            self.add_record(article, kind, article.body(), site)
        elif kind == "utf16":
            self.add_file(article, kind, f"{folder}/{name}.txt", b"\xff\xfe" + text.encode("utf-16-le"))
        elif kind == "latin1-nel":
            data = text.replace("\n", "\x85").encode("latin-1")
            self.add_file(article, kind, f"{folder}/{name}.txt", data, "nel")
        elif kind in {"cp1252", "gbk"}:
            self.add_file(article, kind, f"{folder}/{name}.txt", text.encode(kind))
        else:
            body = _mojibake(text) if kind == "mojibake" else _RENDER[kind](article, rng)
            body, end = _line_end(body, rng)
            ext = "md" if kind == "markdown" else "txt"
            self.add_file(article, kind, f"{folder}/{name}.{ext}", body.encode("utf-8"), end)

    def _html(self, article: _Article, kind: str, site: _Site, rng: random.Random, stem: str) -> None:
        cp1252 = kind == "html-cp1252"
        page = _html(
            article,
            site,
            self.others(article, rng, rng.randint(2, 4)),
            rng,
            charset="windows-1252" if cp1252 else "utf-8",
        )
        if cp1252:  # characters outside the code page become references, as browsers send them
            data = page.encode("cp1252", errors="xmlcharrefreplace")
        elif rng.random() < 0.3:  # many pages spell every non-ASCII letter as a reference
            data = page.encode("ascii", errors="xmlcharrefreplace")
        else:
            data = page.encode("utf-8")
        end = "crlf" if rng.random() < _CRLF_P else "lf"
        if end == "crlf":
            data = data.replace(b"\n", b"\r\n")
        self.add_file(article, kind, f"{stem}.{rng.choice(['html', 'html', 'htm'])}", data, end)

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


_RENDER = {"markdown": _markdown, "truncated": _truncated, "edited": _edited, "ocr": _ocr}


def _line_end(text: str, rng: random.Random) -> tuple[str, str]:
    """The text with LF kept, or turned into CRLF or CR; and which."""
    roll = rng.random()
    if roll < _CRLF_P:
        return text.replace("\n", "\r\n"), "crlf"
    if roll < _CRLF_P + _CR_P:
        return text.replace("\n", "\r"), "cr"
    return text, "lf"


def _draw_kinds(article: _Article, rng: random.Random, chances: dict[str, float]) -> list[str]:
    return [k for k in KINDS if k in chances and _eligible(k, article) and rng.random() < chances[k]]


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

    bases = [_generated(seed, i) for i in range(articles)]
    siblings: dict[str, list[_Article]] = {}
    for base in bases:
        rng = _rng(seed, base.key, "siblings")
        if base.lang in {"en", "zh"} and rng.random() < 0.25:
            siblings[base.key] = [_sibling(seed, base, n + 1) for n in range(rng.randint(1, 2))]
    quotes = _snippets(seed)
    bases = _insert_snippets(seed, bases, quotes)
    real = {
        p: _sample_article(f"samples-{p}", text, _sample_title(sample_files) if p == "000" else None)
        for p, (_, text) in sample_files.items()
        if p != "001"
    }
    # Teasers and related links point at the articles a reader could be sent to next.
    pool = [*bases, *(s for group in siblings.values() for s in group), *real.values()]
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus = _Corpus(out_dir, seed, pool)

    # The copies each base gets; a kind nobody drew goes to the first base that can take it.
    copied = [*bases, *([real["000"]] if "000" in real else [])]
    plans = {b.key: _draw_kinds(b, _rng(seed, b.key, "kinds"), _KIND_P) for b in copied}
    for kind in KINDS[1:]:
        if not any(kind in p for p in plans.values()):
            taker = next((b for b in copied if _eligible(kind, b)), None)
            if taker is not None:
                plans[taker.key].append(kind)
    for base in copied:
        for kind in ([] if base.role == "sample" else ["plain"]) + plans[base.key]:
            corpus.copy(base, kind)
        for sibling in siblings.get(base.key, []):
            for kind in ["plain", *_draw_kinds(sibling, _rng(seed, sibling.key, "kinds"), _SIBLING_P)]:
                corpus.copy(sibling, kind)

    _write_template_site(corpus, max(4, articles // 10))
    _write_snippets(corpus, quotes)
    if sample_files:
        _write_samples(corpus, sample_files, real)
    return corpus.finish()


def _snippets(seed: int) -> list[_Article]:
    """A quote and a slogan (10–25 words) that several articles will carry."""
    chrome = _chrome()
    rng = _rng(seed, "snippets")
    texts = [("snippet-quote", rng.choice(chrome["quotes"])), ("snippet-slogan", rng.choice(chrome["slogans"]))]
    return [_Article(key, "en", None, ((text,),), "", "2025-01-01", "snippet") for key, text in texts]


def _insert_snippets(seed: int, bases: list[_Article], snippets: Sequence[_Article]) -> list[_Article]:
    """Quote each snippet, as its own paragraph, in three to five English articles."""
    rng = _rng(seed, "snippet-hosts")
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
    rng = _rng(corpus.seed, "template-site")
    city = rng.choice(_lang("en").vocab["city"])
    about = _chrome()["about"].format(SITE=site.name, CITY=city, FOUNDED=rng.randint(1990, 2015))
    english = [a for a in corpus.pool if a.lang == "en"] or list(corpus.pool)
    teasers = [_teaser(t, rng) for t in rng.sample(english, min(3, len(english)))]
    for n in range(pages):
        article = _template_article(corpus.seed, n)
        page = _template_page(article, site, about, teasers)
        rel = f"{site.folder}/{corpus.name(article.key, 'template')}.txt"
        corpus.add_file(article, "template", rel, page.encode("utf-8"))


def _write_snippets(corpus: _Corpus, quotes: Sequence[_Article]) -> None:
    """The quote and slogan files, and comment widgets alone in a file (en, and zh as in samples/)."""
    widgets = [
        ("snippet-widget-en", "\n".join(_chrome()["comments"][0])),
        ("snippet-widget-zh", "\n".join(_chrome()["blogger_zh"]["comments"])),
    ]
    articles = [*quotes, *(_Article(k, k[-2:], None, ((t,),), "", "2025-01-01", "snippet") for k, t in widgets)]
    rng = _rng(corpus.seed, "snippet-files")
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


def _write_samples(corpus: _Corpus, files: dict[str, tuple[str, str]], real: dict[str, _Article]) -> None:
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
    print(
        f"wrote {stats.documents} documents ({stats.files} files, {stats.records} records) from {stats.bases} "
        f"articles into {stats.out_dir}: {stats.clusters} clusters of copies, {stats.singletons} singletons; "
        f"truth in {stats.out_dir / 'truth.jsonl'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
