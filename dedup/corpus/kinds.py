"""The copy kinds: one row of ``TABLE`` per kind says everything about it.

A row holds the chance that a base article (and a sibling article) gets such a copy, whether
its decoded text is the plain copy's byte for byte (then it is labelled as clean as the plain
copy), which articles it can be made of, and how it is rendered. Adding a kind is adding a
row; the generator reads nothing about kinds from anywhere else.

Rendering draws from the copy's own random stream in a fixed order, so the same seed writes
the same bytes: every render function takes the stream after the site was drawn from it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from .pages import Site, edited, html_page, markdown, mojibake, ocr, teaser, truncated, wrapped_page
from .text import Article

__all__ = ["KINDS", "TABLE", "Copy", "CopyKind", "Others", "draw_kinds", "kind", "same_text", "with_line_end"]

# Line ends of text copies that keep UTF-8 or cp1252 bytes: CRLF, CR, else LF.
_CRLF_P, _CR_P = 0.2, 0.08

#: ``others(article, rng, n)``: up to n articles of other stories (for teasers and links).
Others = Callable[[Article, random.Random, int], list[Article]]


@dataclass(frozen=True, slots=True)
class Copy:
    """A rendered copy: a file (its extension, bytes and line end) or, with ``record``, a
    JSON Lines record holding ``record`` as its text."""

    ext: str = "txt"
    data: bytes = b""
    line_end: str = "lf"
    record: str | None = None


Render = Callable[[Article, Site, random.Random, Others], Copy]
Eligible = Callable[[Article], bool]


@dataclass(frozen=True, slots=True)
class CopyKind:
    """One kind of copy (see the module docstring)."""

    name: str
    render: Render
    chance: float | None = None  # a base article gets one; None: never drawn (plain is always written)
    sibling_chance: float | None = None  # the same for a sibling article
    same_text: bool = False  # decoded, the plain copy's text exactly: as clean as it
    eligible: Eligible = lambda article: True
    blog_sites: bool = False  # may go to a Blogger-style site (Chinese chrome, as samples/001)


def with_line_end(text: str, rng: random.Random) -> tuple[str, str]:
    """The text with LF kept, or turned into CRLF or CR; and which."""
    roll = rng.random()
    if roll < _CRLF_P:
        return text.replace("\n", "\r\n"), "crlf"
    if roll < _CRLF_P + _CR_P:
        return text.replace("\n", "\r"), "cr"
    return text, "lf"


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _western(encoding: str) -> Eligible:
    """Articles not in Chinese, with a non-ASCII letter (else the copy equals the plain bytes)
    that ``encoding`` can write."""

    def ok(article: Article) -> bool:
        text = article.text()
        return article.lang != "zh" and not text.isascii() and _encodable(text, encoding)

    return ok


def _plain_text(article: Article) -> str:
    return article.text() + "\n"


def _plain(article: Article, site: Site, rng: random.Random, others: Others) -> Copy:
    return Copy("txt", _plain_text(article).encode("utf-8"))


def _wrapped(article: Article, site: Site, rng: random.Random, others: Others) -> Copy:
    teasers = [teaser(t, rng) for t in others(article, rng, rng.randint(1, 3))]
    page, end = with_line_end(wrapped_page(article, site, teasers, rng), rng)
    return Copy("txt", page.encode("utf-8"), end)


def _html(cp1252: bool) -> Render:
    def render(article: Article, site: Site, rng: random.Random, others: Others) -> Copy:
        related = others(article, rng, rng.randint(2, 4))
        page = html_page(article, site, related, rng, charset="windows-1252" if cp1252 else "utf-8")
        if cp1252:  # characters outside the code page become references, as browsers send them
            data = page.encode("cp1252", errors="xmlcharrefreplace")
        elif rng.random() < 0.3:  # many pages spell every non-ASCII letter as a reference
            data = page.encode("ascii", errors="xmlcharrefreplace")
        else:
            data = page.encode("utf-8")
        end = "crlf" if rng.random() < _CRLF_P else "lf"
        if end == "crlf":
            data = data.replace(b"\n", b"\r\n")
        return Copy(rng.choice(["html", "html", "htm"]), data, end)

    return render


def _damaged(ext: str, damage: Callable[[Article, random.Random], str]) -> Render:
    """A text copy that ``damage`` rewrites, then given a line end."""

    def render(article: Article, site: Site, rng: random.Random, others: Others) -> Copy:
        body, end = with_line_end(damage(article, rng), rng)
        return Copy(ext, body.encode("utf-8"), end)

    return render


def _encoded(encoding: str) -> Render:
    def render(article: Article, site: Site, rng: random.Random, others: Others) -> Copy:
        return Copy("txt", _plain_text(article).encode(encoding))

    return render


def _utf16(article: Article, site: Site, rng: random.Random, others: Others) -> Copy:
    return Copy("txt", b"\xff\xfe" + _plain_text(article).encode("utf-16-le"))


def _latin1_nel(article: Article, site: Site, rng: random.Random, others: Others) -> Copy:
    return Copy("txt", _plain_text(article).replace("\n", "\x85").encode("latin-1"), "nel")


def _jsonl(article: Article, site: Site, rng: random.Random, others: Others) -> Copy:
    return Copy(record=article.body())


#: Every copy kind, in the order they are drawn. The chances make ~5 files per base article
#: with 60 bases; a final pass gives any kind no base drew to the first base that can take
#: it, so all kinds appear. Siblings get fewer copies: mostly singletons and small clusters.
TABLE: tuple[CopyKind, ...] = (
    CopyKind("plain", _plain, same_text=True),
    CopyKind("wrapped", _wrapped, chance=0.6, sibling_chance=0.35, blog_sites=True),
    CopyKind("html", _html(cp1252=False), chance=0.5, sibling_chance=0.25),
    CopyKind("html-cp1252", _html(cp1252=True), chance=0.15, eligible=_western("cp1252")),
    CopyKind("markdown", _damaged("md", markdown), chance=0.35),
    CopyKind("truncated", _damaged("txt", truncated), chance=0.45, sibling_chance=0.2),
    CopyKind("edited", _damaged("txt", edited), chance=0.45),
    CopyKind("ocr", _damaged("txt", ocr), chance=0.3, eligible=lambda a: a.lang != "zh"),
    CopyKind(
        "mojibake",
        _damaged("txt", lambda a, rng: mojibake(_plain_text(a))),
        chance=0.2,
        eligible=lambda a: a.lang != "zh" and not a.text().isascii(),
    ),
    CopyKind("cp1252", _encoded("cp1252"), chance=0.2, same_text=True, eligible=_western("cp1252")),
    CopyKind("utf16", _utf16, chance=0.2, same_text=True),
    CopyKind(
        "gbk",
        _encoded("gbk"),
        chance=0.5,
        same_text=True,
        eligible=lambda a: a.lang == "zh" and _encodable(a.text(), "gbk"),
    ),
    CopyKind("latin1-nel", _latin1_nel, chance=0.3, same_text=True, eligible=_western("latin-1")),
    CopyKind("jsonl", _jsonl, chance=0.2),
)

#: Every variant kind a truth line can name (``variants``), in the order they are drawn.
KINDS = tuple(k.name for k in TABLE)

_BY_NAME = {k.name: k for k in TABLE}


def kind(name: str) -> CopyKind:
    """The row of a copy kind."""
    return _BY_NAME[name]


def same_text(name: str) -> bool:
    """Whether documents of this kind are labelled as clean as the plain copy (the template
    pages, quotes and widgets are not copy kinds: they are not)."""
    row = _BY_NAME.get(name)
    return row is not None and row.same_text


def draw_kinds(article: Article, rng: random.Random, *, sibling: bool = False) -> list[str]:
    """The kinds of copy an article gets (plain aside), each drawn with its chance."""
    out = []
    for row in TABLE:
        chance = row.sibling_chance if sibling else row.chance
        if chance is not None and row.eligible(article) and rng.random() < chance:
            out.append(row.name)
    return out
