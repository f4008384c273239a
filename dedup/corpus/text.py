"""Articles for the corpus: procedural news prose from a seeded grammar, and the samples' text.

Each article is written from its own story (people, organisations, places, topic) with one
language's grammar and word lists (``data/newsgen.json``), so two articles share almost no
word 5-grams; a sibling shares its base's story and none of its sentences.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = [
    "CJK",
    "STRAIGHT",
    "Article",
    "Lang",
    "base_article",
    "language",
    "sample_article",
    "sibling_article",
    "site_chrome",
    "stream",
    "template_article",
]

_LANG_CYCLE = ("en", "en", "zh", "en", "de", "en", "en", "fr", "en", "en", "es", "en", "zh", "en", "en", "de", "en",
               "fr", "en", "es")  # fmt: skip

_SLOT = re.compile(r"\{([A-Z0-9]+)\}")
STRAIGHT = {ord("“"): '"', ord("”"): '"', ord("’"): "'", ord("‘"): "'"}
CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True, slots=True)
class Lang:
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
def language(code: str) -> Lang:
    d = _data()[code]
    return Lang(code, d["vocab"], d["grammar"], d["topics"], d.get("orgword", {}))


def site_chrome() -> dict[str, Any]:
    chrome: dict[str, Any] = _data()["chrome"]
    return chrome


def stream(seed: int, *parts: object) -> random.Random:
    """An independent stream per purpose: str seeds hash with SHA-512, stable everywhere."""
    return random.Random(":".join(map(str, (seed, *parts))))


class _Writer:
    """Expands one language's grammar for one story: story slots, then rules, then words."""

    def __init__(self, lang: Lang, slots: dict[str, list[str]], rng: random.Random) -> None:
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
class Article:
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


def _story(lang: Lang, rng: random.Random) -> dict[str, list[str]]:
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
) -> Article:
    """Write one article for ``story`` with ``rng``: a title and paragraphs of sentences."""
    lang = language(code)
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
    article = Article(key, code, title, paras, byline, date, role, story)
    return article if curly or code != "en" else _straighten(article)


def _straighten(article: Article) -> Article:
    """The same article with straight quotes and apostrophes (some sites never curl them)."""
    return dataclasses.replace(
        article,
        title=article.title.translate(STRAIGHT) if article.title else None,
        paragraphs=tuple(tuple(s.translate(STRAIGHT) for s in p) for p in article.paragraphs),
        byline=article.byline.translate(STRAIGHT),
    )


def base_article(seed: int, index: int) -> Article:
    """Base article number ``index``: its language from a fixed cycle, its story from the seed."""
    code = _LANG_CYCLE[index % len(_LANG_CYCLE)]
    key = f"a{index:04d}"
    story = _story(language(code), stream(seed, key, "story"))
    rng = stream(seed, key, "text")
    if code == "zh":
        return _compose(key, code, story, rng, role="article", paragraphs=(5, 7), sentences=(3, 5), curly=True)
    curly = rng.random() < 0.5
    return _compose(key, code, story, rng, role="article", paragraphs=(6, 9), sentences=(2, 4), curly=curly)


def sibling_article(seed: int, base: Article, n: int) -> Article:
    """Another article on the base's story: same people, places and topic, new sentences."""
    key = f"{base.key}-s{n}"
    rng = stream(seed, key, "text")
    curly = "“" in base.text() or base.lang != "en"
    shape = ((5, 7), (3, 5)) if base.lang == "zh" else ((5, 8), (2, 4))
    return _compose(
        key, base.lang, base.story, rng, role="sibling", paragraphs=shape[0], sentences=shape[1], curly=curly
    )


def template_article(seed: int, n: int) -> Article:
    """A short (80–150 word) English article for the heavy-template site."""
    key = f"t{n:02d}"
    story = _story(language("en"), stream(seed, key, "story"))
    rng = stream(seed, key, "text")
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


def sample_article(key: str, text: str, title: str | None) -> Article:
    """An article from a sample file, without the trailing comment widget lines."""
    lines = text.splitlines()
    while lines and lines[-1].strip() in {"", "评论", "发表评论"}:
        lines.pop()
    paras = tuple(_split_sentences(line) for line in lines if line.strip())
    return Article(key, "en", title, paras, "Staff", "2025-08-16", "sample")
