"""Stage 8: the members of a group -> a ranking, cleanest first, with human reasons.

In:  the member documents' texts (re-read: the corpus is not kept in memory), a count of
     how many documents of the whole corpus hold each short line, and the config.
Out: one ``Pick`` per member: a penalty (lower is cleaner) and the reasons for it.

The cleanest copy holds the whole shared article with the least else. Chrome sits around an
article, so only words before and after the run of shared text count as extra (a short title
line just before it is part of the article); a longer difference inside the run is an edit. What the members
share (shingles found in at least two of them) is the article; around it, each copy may
carry extra text (navigation, comment widgets, teasers of other posts), lack part of it
(a truncated copy), or spoil it (mojibake, replacement characters, leftover markup,
typos and OCR errors, which show as words no other copy has). A readers' comment thread
is not the article however many copies keep it (cleanest_comments.py). The penalty adds these up:

    penalty = 1.0 * missing share of the shared text
            + 1.0 * truncated (ends with "Read more", "…", or mid-line where another copy goes on)
            + 0.5 * share of words outside the shared text
            + 0.3 * share of words in chrome lines (capped at 0.3)
            + 3.0 * noise per word (mojibake, replacement characters, leftover markup)
            + 2.0 * share of odd words: one- or two-word spots inside the shared text that no
                    other copy has (typos, OCR errors)

Copies within TIE_BAND of the lowest penalty are equally clean: the cleanest of them is the
one in the handiest form (a UTF-8 text file before Markdown, records, HTML and other
encodings), then the one with fewer spoilt characters, then the one with fewer words in known
chrome lines ("Share", "Tweet"), then the one that sets its paragraphs apart with blank lines
(cleanest_layout.py), then the one with the most words in the shared text and its head, then
the first in the run's order. The short lines just before the
shared text (title, byline, dateline) are the article's head, never chrome nor extra.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .cleanest_comments import split_thread, thread_start
from .cleanest_layout import marks_paragraphs
from .config import ScanConfig
from .cutlines import LineIndex, cut_lines
from .linecounts import line_counts
from .lookup import BIG_QUERY, member_sorted
from .records import Pick
from .shingle import MOJIBAKE, sequences, tokens
from .shortlines import Entry as ShortLine
from .shortlines import short_lines

#: Bump when a change here changes rankings: cached rankings (cache.py) are keyed by it.
RANKING_VERSION = 9  # 9: that guard also in prose before the thread; 8: a page's readers' thread is not counted in the size guard (thread_size.py, verify); 7: ties: fewer known chrome words, then paragraphs set apart by blank lines; 6: a comment thread vouched for by a copy without it, outside each copy's article; 5: readers' comments are not the shared text; 4: "+1 word outside the shared text", not "+1 words"

W_MISSING = 1.0
W_TRUNCATED = 1.0
W_EXTRA = 0.5
W_CHROME = 0.3
W_NOISE = 3.0
W_NOVEL = 2.0
#: Copies whose penalties are this close to the lowest are equally clean: the cleanest among
#: them is the handiest form, then the fullest copy (docs/evaluation.md, real pages).
TIE_BAND = 0.02

#: Lines of page chrome, normalised (lower case, plain quotes), in the languages scraped
#: pages most often come in. A short line equal to or starting with one of these is chrome.
CHROME_PHRASES = (
    "skip to main content", "skip to content", "skip to navigation", "jump to content",
    "comments", "comment", "leave a comment", "leave a reply", "post a comment", "add comment",
    "0 comments", "no comments", "share", "share on facebook", "share on twitter", "tweet",
    "email", "print", "popular posts", "related posts", "related articles", "recent posts",
    "you may also like", "read more", "continue reading", "subscribe", "sign up", "sign in",
    "log in", "login", "register", "newsletter", "advertisement", "sponsored", "menu", "home",
    "search", "cookie", "we use cookies", "accept cookies", "privacy policy", "terms of use",
    "terms", "all rights reserved", "copyright", "©", "follow us", "back to top", "next post",
    "previous post", "older posts", "newer posts", "tags", "categories", "posted by",
    "跳至主要内容", "跳到主要内容", "评论", "發表評論", "发表评论", "此博客中的热门博文", "热门博文",
    "分享", "相关文章", "阅读更多", "メインコンテンツにスキップ", "コメント", "関連記事",
    "zum inhalt springen", "kommentare", "teilen", "aller au contenu", "commentaires",
    "partager", "ir al contenido", "comentarios", "compartir",
)  # fmt: skip
_CHROME = tuple(sorted({" ".join(tokens(p)) or p for p in CHROME_PHRASES}))
_CHROME_SET = frozenset(_CHROME)
_CHROME_MULTI = frozenset(p for p in _CHROME if " " in p)
_CHROME_MAX_TOKENS = 8
_CHROME_WORDS = frozenset(w for p in _CHROME for w in p.split(" "))
_TRUNCATION_END = re.compile(
    r"(\.\.\.|…|\[\s*\.\.\.\s*\]|read more|continue reading|subscribe to (read|continue)|"
    r"read the full (story|article)|click here to read|阅读全文|阅读更多|続きを読む)\W*$",
    re.IGNORECASE,
)
_MARKUP = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>|&(#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
#: A line longer than this is article text, never chrome; it is not tokenised for chrome.
_SHORT_LINE_CHARS = 200
_TITLE_TOKENS = 25  # a title is one line of at most this many words
HEAD_LINES = 3  # the head: title, byline, dateline (docs/evaluation.md: 3 did better than 1)
_BYLINE = re.compile(r"(posted |written )?by ")
_SHORT_GAP = re.compile(rb"(?<!\x00)\x00{1,2}(?!\x00)")  # one or two uncovered tokens between covered ones


@dataclass(frozen=True, slots=True)
class Features:
    """What the penalty is made of, for one member."""

    words: int
    missing: float
    extra_words: int
    chrome_lines: tuple[str, ...]
    chrome_words: int
    teasers: int
    truncated: str | None
    mojibake: int
    replacement: int
    markup: int
    novel_words: int  # one- or two-word differences inside the shared text: typos, OCR errors


#: Words of a dateline ("24 Jul 2012", "Nov. 6, 2012 at 11:59 p.m."), besides numbers.
_DATE_WORDS = frozenset(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "january",
     "february", "march", "april", "june", "july", "august", "september", "october", "november", "december",
     "mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "tuesday", "wednesday", "thursday", "friday",
     "saturday", "sunday", "at", "on", "of", "the", "a", "p", "am", "pm", "st", "nd", "rd", "th", "utc", "gmt",
     "et", "est", "edt", "pst", "pdt")
)  # fmt: skip


def _is_date(norm_tokens: str) -> bool:
    """A line that is only a date or time: every crawl repeats it, yet it is the article's
    dateline, not navigation."""
    words = norm_tokens.split(" ")
    return any(w.isdigit() for w in words) and all(w.isdigit() or w in _DATE_WORDS for w in words)


@functools.lru_cache(maxsize=1 << 15)  # chrome lines recur across pages
def is_chrome_phrase(norm_tokens: str) -> bool:
    """A known chrome line: equal to or starting with a phrase, or holding a phrase of two or
    more words ("© 2025 Example News. All rights reserved.")."""
    words = norm_tokens.split(" ")
    if len(words) > 2 * _CHROME_MAX_TOKENS or _CHROME_WORDS.isdisjoint(words):
        return False  # a phrase in the line would bring its words
    for i in range(1, len(words) + 1):  # the line, or a prefix of it, is a phrase
        if " ".join(words[:i]) in _CHROME_SET:
            return True
    return any(  # a phrase of two or more words anywhere in it
        " ".join(words[i:j]) in _CHROME_MULTI for i in range(len(words)) for j in range(i + 2, len(words) + 1)
    )


def covered_tokens(shingles_in_core: NDArray[np.bool_], n_tokens: int, size: int) -> NDArray[np.bool_]:
    """Tokens covered by at least one shingle of the shared text."""
    if size < 128 and len(shingles_in_core) > 0 and len(shingles_in_core) + size - 1 >= n_tokens:
        # Token t is covered when one of shingles t-size+1 .. t is: a sum over that window
        # (one NumPy call; the sum of at most 127 ones fits in int8).
        window = np.ones(size, np.int8)
        covered: NDArray[np.bool_] = np.convolve(shingles_in_core.view(np.int8), window)[:n_tokens] > 0
        return covered
    starts = np.flatnonzero(shingles_in_core)
    # +1 where a covering shingle starts, -1 where it ends (bincount: ends can coincide).
    diff = np.bincount(starts, minlength=n_tokens + 1) - np.bincount(
        np.minimum(starts + size, n_tokens), minlength=n_tokens + 1
    )
    return np.cumsum(diff[:-1]) > 0


Sequences = list[tuple[NDArray[np.uint64], NDArray[np.uint64], int]]


def features(
    texts: Sequence[str], line_docs: Callable[[int], int], config: ScanConfig, seqs: Sequences | None = None
) -> list[Features]:
    """Measure every member of one group (texts in member order; ``seqs`` their
    ``shingle.sequence``, when already computed for many groups at once)."""
    if seqs is None:
        seqs = sequences(texts, config.shingle_size, config.char_shingle_size)
    sets = [distinct_values(win) for _, win, _ in seqs]
    # The article is what most copies share: at least two of them, and more than half, so
    # chrome that two copies from one site share does not count as the article, nor does
    # the navigation of a page that its HTML and a get_text() of it both hold (with six
    # versions of one page, half would be those two and one more extractor's).
    quorum = max(2, len(texts) // 2 + 1)
    values, counts = distinct_counts(np.concatenate(sets))
    core = values[counts >= quorum]
    split = [t.split("\n") for t in texts]
    line_tokens = [line_counts(t) for t in texts]  # each line's tokens, counted once per text
    core, thread = split_thread(texts, seqs, core, sets)  # readers' comments are not the article

    @functools.cache
    def singles() -> NDArray[np.uint64]:
        """Tokens only one copy has (made when a copy first has a short gap to judge)."""
        values, counts = distinct_counts(np.concatenate([distinct_values(tok) for tok, _, _ in seqs]))
        once: NDArray[np.uint64] = values[counts == 1]
        return once

    # Short lines of each member, and how many members hold each: a line is chrome when
    # documents *outside* this group hold it too, or when it is a known chrome phrase.
    tables = [  # each text's short lines tokenised together, hashed from its tokens (none has mojibake)
        short_lines(lines, n, None if not t.isascii() and MOJIBAKE.search(t) else tok)
        for lines, n, t, (tok, _, _) in zip(split, line_tokens, texts, seqs, strict=True)
    ]
    member_lines = [_short_lines(table) for table in tables]
    in_group = Counter[int]()
    for lines in member_lines:
        in_group.update({h for h, _, _, _ in lines})

    out: list[Features] = []
    for i, text in enumerate(texts):
        tok, win, size = seqs[i]
        words = len(tok)
        in_core = _member(win, core)
        in_core[thread_start(in_core, win, thread) :] = False  # a copy's comments lie outside its article
        covered = covered_tokens(in_core, words, size) if words else np.zeros(0, bool)
        missing = 1.0 - (int(np.count_nonzero(_member(core, sets[i]))) / len(core)) if len(core) else 0.0
        head = _head(split[i], line_tokens[i], int(np.argmax(covered)) if covered.any() else -1)
        article = _article_lines(split[i], line_tokens[i], covered, tables[i])
        chrome: list[str] = []
        chrome_words = 0
        for h, display, joined, n_tok in member_lines[i]:
            if joined in head or h in article:
                continue  # the article's own head or lines: never chrome, however short or widespread
            # A title repeated by teasers elsewhere is still the article: a line is chrome by
            # its spread only when more documents outside this group hold it than inside, and
            # fewer than a quorum of the copies have it (what most copies have is the article).
            outside = line_docs(h) - in_group[h]
            spread = outside >= 2 and outside > in_group[h] and in_group[h] < quorum and not _is_date(joined)
            if spread or is_chrome_phrase(joined):
                chrome.append(display)
                chrome_words += n_tok
        extra, odd = _outside_words(
            sum(len(h.split(" ")) for h in head), tok, covered, singles if len(texts) > 1 else None
        )
        out.append(
            Features(
                words=words,
                missing=max(0.0, missing),
                extra_words=extra,
                chrome_lines=tuple(chrome),
                chrome_words=chrome_words,
                teasers=_teasers(text),
                truncated=None,
                mojibake=0 if text.isascii() else len(MOJIBAKE.findall(text)),
                replacement=text.count("\ufffd"),
                markup=len(_MARKUP.findall(text)) if "<" in text or "&" in text else 0,
                novel_words=odd,
            )
        )
    return _with_truncation(texts, out)


def _starts(ordered: NDArray[np.uint64]) -> NDArray[np.bool_]:
    """Where each run of equal values in a sorted array starts."""
    first = np.ones(len(ordered), bool)
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return first


def distinct_values(values: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """``np.unique(values)``, four times as fast on the few hundred hashes of one text
    (NumPy 2's hash-based unique is made for large arrays; ranking calls this 10,000 times
    per 3,000 groups)."""
    ordered = np.sort(values)
    distinct: NDArray[np.uint64] = ordered[_starts(ordered)]
    return distinct


def distinct_counts(values: NDArray[np.uint64]) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    """``np.unique(values, return_counts=True)``, by the same sort as ``distinct_values``."""
    ordered = np.sort(values)
    starts = np.flatnonzero(_starts(ordered))
    counts = np.diff(np.append(starts, len(ordered)))
    return ordered[starts], counts


def _member(values: NDArray[np.uint64], sorted_set: NDArray[np.uint64]) -> NDArray[np.bool_]:
    """Which values are in a sorted array (faster than np.isin, which sorts again)."""
    if len(sorted_set) == 0 or len(values) == 0:
        return np.zeros(len(values), bool)
    if len(values) > BIG_QUERY:
        return member_sorted(values, sorted_set)
    pos = np.searchsorted(sorted_set, values)
    pos[pos == len(sorted_set)] = 0
    return np.asarray(sorted_set[pos] == values)


def _outside_words(
    head_words: int,
    tok: NDArray[np.uint64],
    covered: NDArray[np.bool_],
    singles: Callable[[], NDArray[np.uint64]] | None,
) -> tuple[int, int]:
    """(words before and after the shared text, odd words inside it).

    Page chrome, teasers and widgets sit around an article; what differs *inside* the run of
    shared text is an edit (a sentence one copy dropped), not extra text. A gap of one or two
    words that no other copy has is a typo or an OCR error: those are counted as odd words.
    The ``head_words`` just before the shared text are the article's head (see _head), not
    extra text.
    """
    flags = covered.tobytes()  # one byte a token: 1 where covered (byte searches cost no NumPy call)
    first = flags.find(1)
    if first < 0:
        return len(tok), 0
    last = flags.rfind(1)
    lead = first - head_words
    tail = len(tok) - 1 - last
    odd = 0
    if singles is not None:
        # The gaps of one or two uncovered tokens inside the shared text (a gap there is
        # bounded by covered tokens on both sides), their tokens looked up together.
        gaps = [at for m in _SHORT_GAP.finditer(flags, first, last + 1) for at in range(*m.span())]
        if gaps:
            odd = int(np.count_nonzero(_member(tok[gaps], singles())))
    return max(0, lead) + tail, odd


def _head(lines: Sequence[str], counts: Sequence[int], first: int) -> tuple[str, ...]:
    """The article's head: up to HEAD_LINES short lines right before token ``first`` (its
    title, byline, dateline), each as its tokens joined by spaces; () if there is none.

    Extractors often drop the head that a human-cleaned copy keeps; it is the article's own,
    neither chrome nor extra text. A known chrome line ends it ("Home", "Share"), a byline
    does not ("Posted by ... on ...").
    """
    seen = 0
    before: list[int] = []  # the lines with tokens since the last long line
    for at, (line, n) in enumerate(zip(lines, counts, strict=True)):
        if seen >= first:
            break
        if len(line) > 2 * _SHORT_LINE_CHARS:
            before = []  # a long line: the head is after it
            seen += n
            continue
        if n:
            seen += n
            before.append(at)
    if first <= 0 or seen != first:
        return ()
    head: list[str] = []
    for toks in reversed([tokens(lines[at]) for at in before[-HEAD_LINES:]]):
        joined = " ".join(toks)
        if len(toks) > _TITLE_TOKENS or (is_chrome_phrase(joined) and not _BYLINE.match(joined)):
            break
        head.append(joined)
    return tuple(reversed(head))


def _article_lines(
    lines: Sequence[str], counts: Sequence[int], covered: NDArray[np.bool_], shorts: Mapping[str, ShortLine]
) -> frozenset[int]:
    """Hashes of the short lines that lie in the shared text (most of their tokens covered).

    A wrapped line ("season."), a date ("24 Jul 2012") or a one-word line of the article
    recurs across a corpus and is short, but it is the article, not navigation.
    """
    if not covered.any():
        return frozenset()
    found: set[int] = set()
    pos = 0
    for line, n in zip(lines, counts, strict=True):
        if not n:
            continue
        if pos + n > len(covered):
            return frozenset()  # tokens do not line up with the sequence: claim nothing
        short = shorts.get(line)
        if short is not None and 2 * int(np.count_nonzero(covered[pos : pos + n])) >= n:
            found.add(short[0])
        pos += n
    return frozenset(found)


def _short_lines(shorts: Mapping[str, ShortLine]) -> list[ShortLine]:
    """(hash, the line as written, its tokens joined, tokens) of each distinct short line
    (``shortlines.short_lines`` of a text: lines recur, and tokenising them together is
    linear in a big text)."""
    seen: dict[int, ShortLine] = {}
    for found in shorts.values():
        seen.setdefault(found[0], found)
    return list(seen.values())


def _teasers(text: str) -> int:
    """Paragraphs cut off with an ellipsis: teasers of other posts (or the cut-off end)."""
    if "..." not in text and "…" not in text:
        return 0
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    return sum(1 for ln in lines if ln.endswith(("...", "…")) and len(ln.split()) >= 8)


def _with_truncation(texts: Sequence[str], feats: list[Features]) -> list[Features]:
    """Mark copies cut short: their last line, less any "Read more"-style marker, stops
    part-way through a longer line that another copy has. (An ellipsis alone is not
    enough: teasers of other posts end with one too.)
    """
    norm_lines = [cut_lines(t) for t in texts]
    index = LineIndex(norm_lines)
    out: list[Features] = []
    for i, f in enumerate(feats):
        marker = None
        lines = norm_lines[i]
        if lines:
            last = lines[-1]
            label = None
            for _ in range(3):  # "… Read more" is two markers
                found = _TRUNCATION_END.search(last[-80:])
                if not found:
                    break
                label = label or found.group(1)
                last = last[: len(last) - len(found.group(0))].rstrip()
            # The cut is the last line, or the line before a marker line ("Subscribe to ...").
            tails = [last] + ([lines[-2]] if label and len(lines) > 1 else [])
            for tail in tails:
                if len(tail) < 20:
                    continue
                # Copies that end on the same line say the text ends there: a cut is where
                # more copies go on than stop (extractors of one page agree where it ends).
                if index.go_on(tail, label is not None, i) > index.stop(tail, lines[-1]):
                    marker = label or "mid-sentence"
                    break
        if marker is not None and f.teasers and lines[-1].endswith(("...", "…")):
            f = _replace_teasers(f, f.teasers - 1)  # that ellipsis is the cut, not a teaser
        out.append(f if marker is None else _replace_truncated(f, marker))  # features leave it None
    return out


def _replace_truncated(f: Features, marker: str | None) -> Features:
    return dataclasses.replace(f, truncated=marker)


def _replace_teasers(f: Features, teasers: int) -> Features:
    return dataclasses.replace(f, teasers=teasers)


def known_chrome_words(f: Features) -> int:
    """Words in the copy's chrome lines that are known chrome phrases ("Share", "Tweet"), not
    lines called chrome only by their spread (a byline recurs on the author's other pages)."""
    return sum(len(toks) for toks in map(tokens, f.chrome_lines) if is_chrome_phrase(" ".join(toks)))


def penalty(f: Features) -> float:
    """The number members are ranked by; see the module docstring for the weights."""
    words = max(f.words, 1)
    noise = (f.mojibake + f.replacement + f.markup) / words
    return (
        W_MISSING * f.missing
        + W_TRUNCATED * (f.truncated is not None)
        + W_EXTRA * f.extra_words / words
        + min(W_CHROME, W_CHROME * f.chrome_words / words * 10)
        + W_NOISE * noise
        + W_NOVEL * f.novel_words / words
    )


def _quote(line: str, width: int = 30) -> str:
    return "'" + (line if len(line) <= width else line[: width - 1] + "…") + "'"


def reasons(f: Features, *, best: bool) -> tuple[str, ...]:
    """Short human reasons, most important first."""
    out: list[str] = []
    if f.truncated:
        out.append(
            f"truncated (ends {'mid-sentence' if f.truncated == 'mid-sentence' else 'with ' + _quote(f.truncated)})"
        )
    if f.missing >= 0.01:
        out.append(f"lacks {f.missing:.0%} of the shared text")
    if f.extra_words:
        teaser = f" incl. {f.teasers} teaser{'s' if f.teasers != 1 else ''} of other posts" if f.teasers else ""
        out.append(f"+{f.extra_words} word{'s' if f.extra_words != 1 else ''} outside the shared text{teaser}")
    if f.chrome_lines:
        shown = ", ".join(_quote(c) for c in f.chrome_lines[:3])
        more = f" +{len(f.chrome_lines) - 3} more" if len(f.chrome_lines) > 3 else ""
        out.append(f"chrome: {shown}{more}")
    for count, label in (
        (f.mojibake, "mojibake"),
        (f.replacement, "replacement characters"),
        (f.markup, "leftover markup"),
    ):
        if count:
            out.append(f"{label} ×{count}")
    if f.novel_words and not best:
        out.append(f"{f.novel_words} odd word{'s' if f.novel_words != 1 else ''} no other copy has (typos, OCR)")
    if best:
        head = "whole shared text" if f.missing < 0.01 and not f.truncated else "most of the shared text"
        out.insert(0, f"{head}, least extra text and noise")
    return tuple(out)


def rank(
    members: Sequence[int],
    texts: Sequence[str],
    line_docs: Callable[[int], int],
    config: ScanConfig,
    prefer: Sequence[int] | None = None,
    seqs: Sequences | None = None,
) -> list[Pick]:
    """Rank the members of one group, cleanest first.

    Args:
        members: document indices, in run order.
        texts: their texts, in the same order.
        line_docs: how many documents of the corpus hold a short line (by ``line_hash``).
        config: shingle sizes.
        prefer: a tie-break per member, lower first (the pipeline prefers UTF-8 plain text
            files over other formats of the same text); run order after that.
        seqs: ``shingle.sequences`` of the texts, if the caller computed them in bulk.

    Returns:
        One Pick per member, the cleanest first.
    """
    feats = features(texts, line_docs, config, seqs)
    tie = prefer if prefer is not None else [0] * len(members)
    pens = [penalty(f) for f in feats]

    def tie_break(i: int) -> tuple[int, int, int, bool, int, float, int]:
        # Equally clean: the handier form, fewer spoilt characters, fewer words in known chrome
        # lines, paragraphs set apart, then the fuller article (it kept a caption or heading
        # another dropped; words around the shared text and its head do not count), the lower
        # penalty, run order.
        f = feats[i]
        spoilt = f.mojibake + f.replacement + f.markup
        layout = not marks_paragraphs(texts[i])
        return tie[i], spoilt, known_chrome_words(f), layout, f.extra_words - f.words, pens[i], members[i]

    # Penalties within 0.01 are a tie (that close, the measures are noise).
    scored = sorted(range(len(members)), key=lambda i: (round(pens[i], 2), *tie_break(i)))
    if scored:  # the cleanest: the best tie-break among copies within TIE_BAND of the lowest penalty
        low = min(pens)
        best = min((i for i in scored if pens[i] <= low + TIE_BAND), key=tie_break)
        scored.remove(best)
        scored.insert(0, best)
    return [Pick(members[i], round(pens[i], 4), reasons(feats[i], best=(pos == 0))) for pos, i in enumerate(scored)]
