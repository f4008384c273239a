"""Pages and copies of an article: sites with their chrome, and the renderings a copy kind uses.

A wrapped copy puts the article in a page's text with a site's navigation, share bar, comment
widget, teasers of other articles and footer (like samples/001); an HTML copy is a whole page
with head, style and scripts; the others damage the text as scrapers and scanners do.
"""

from __future__ import annotations

import hashlib
import html
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .text import CJK, STRAIGHT, Article, site_chrome, stream

__all__ = [
    "Site",
    "edited",
    "html_page",
    "make_sites",
    "markdown",
    "mojibake",
    "ocr",
    "teaser",
    "template_page",
    "truncated",
    "wrapped_page",
]

_NEWS_SITES, _BLOG_SITES = 8, 2


@dataclass(frozen=True, slots=True)
class Site:
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


def make_sites(seed: int) -> tuple[list[Site], Site]:
    """The news and blog sites copies are wrapped in, and the one heavy-template site."""
    c = site_chrome()
    rng = stream(seed, "sites")
    news: list[Site] = []
    for k, name in enumerate(rng.sample(c["sites"], _NEWS_SITES + 1)):
        heavy = k == _NEWS_SITES  # the last one: every nav item, every footer line
        nav = tuple(c["nav"]) if heavy else tuple(rng.sample(c["nav"][:16], rng.randint(5, 8)))
        footer = tuple(f.format(YEAR=2025, SITE=name) for f in c["footer"][: 4 if heavy else rng.randint(2, 3)])
        news.append(
            Site(
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
        Site(
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


def teaser(article: Article, rng: random.Random) -> str:
    """Title and the first 40–60 words (80–120 characters of Chinese) of another article."""
    body = article.body()
    if article.lang == "zh":
        opening = body.replace("\n", "")[: rng.randint(80, 120)]
    else:
        opening = " ".join(body.split()[: rng.randint(40, 60)])
    return f"{article.heading()}\n{opening}..."


def wrapped_page(article: Article, site: Site, teasers: Sequence[str], rng: random.Random) -> str:
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


def template_page(article: Article, site: Site, about: str, teasers: Sequence[str]) -> str:
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


def html_page(article: Article, site: Site, related: Sequence[Article], rng: random.Random, *, charset: str) -> str:
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


def markdown(article: Article, rng: random.Random) -> str:
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


def truncated(article: Article, rng: random.Random) -> str:
    """The first 25–60% of the article, cut mid-sentence, then an ellipsis or a paywall line."""
    body = article.body()
    cut = int(len(body) * rng.uniform(0.25, 0.6))
    if article.lang == "zh":
        while cut < len(body) - 1 and not CJK.match(body[cut - 1]):
            cut += 1
        markers: list[str] = site_chrome()["truncation_zh"]
    else:
        cut = body.find(" ", cut)
        while cut > 0 and body[cut - 1] in '.!?”"':
            cut = body.find(" ", cut + 1)
        markers = site_chrome()["truncation"]
    head = body[: cut if cut > 0 else len(body) // 2].rstrip(",;: ")
    marker = rng.choice(markers)
    ending = marker if marker in {"…", "……"} else f"\n\n{marker}"
    title = f"{article.title}\n\n" if article.title else ""
    return f"{title}{head}{ending}\n"


def edited(article: Article, rng: random.Random) -> str:
    """Light edits: one sentence dropped, a few typos, quotes flipped, one figure updated."""
    paras = [list(p) for p in article.paragraphs]
    long = [i for i, p in enumerate(paras) if len(p) > 1]
    if long:
        i = rng.choice(long)
        del paras[i][rng.randrange(1, len(paras[i]))]
    body = "\n\n".join(article.joiner.join(p) for p in paras)
    if article.lang == "zh":
        chars = list(body)
        spots = [k for k in range(len(chars) - 1) if CJK.match(chars[k]) and CJK.match(chars[k + 1])]
        for k in rng.sample(spots, max(1, len(spots) // 100)):
            chars[k], chars[k + 1] = chars[k + 1], chars[k]
        body = "".join(chars)
    else:
        words = body.split(" ")
        for k in rng.sample(range(len(words)), max(1, round(len(words) * rng.uniform(0.01, 0.02)))):
            words[k] = _typo(words[k], rng)
        body = " ".join(words)
        if "“" in body or "’" in body:
            body = body.translate(STRAIGHT)
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


def ocr(article: Article, rng: random.Random) -> str:
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


def mojibake(text: str) -> str:
    """UTF-8 bytes read as cp1252: “ becomes â€œ, é becomes Ã©."""
    return "".join(_MOJIBAKE[b] for b in text.encode("utf-8"))
