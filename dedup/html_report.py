"""ScanResult -> one self-contained HTML file (``dedup scan --html FILE``).

The page needs no network and runs from ``file://``: its CSS and JS are inlined
(``data/report.css``, ``data/report.js``), allowed by a Content-Security-Policy that names
their hashes and nothing else. The plots are SVG written here. The clusters and, for the
clusters that fit ``TEXT_BUDGET``, the members' texts are embedded as gzip'd JSON in base64
(the browser's ``DecompressionStream`` unpacks them), so the file stays a few megabytes at
10,000 clusters; the list is paged, so the page draws 50 rows whatever the run's size.

Nothing from disk reaches the page as markup: names pass through ``report.display`` (the
terminal's sanitiser), texts are data, and the script puts both in with ``textContent``.

The side-by-side view marks each word of a member against the kept copy the way the scan
measures it (``evidence.py``): a word is *shared* when a shingle the kept copy holds covers
it; other words are *own prose* when ``evidence.own_text`` finds them in a prose run, an
*edit* when they sit on a line that also holds shared words, and *boilerplate* otherwise.
The kept copy's words are marked the same way against the member (an edit, or text only
in the kept copy). Marking costs one pass over the tokens: no alignment, no quadratic diff.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from . import evidence, extract, shingle
from .atomic import write_text_atomic
from .config import ScanConfig
from .lists import escape_name
from .records import Cluster, DocInfo, Match, Member, ScanResult, text_digest
from .report import display, human_bytes, skip_order

__all__ = [
    "MAX_VIEW_CHARS",
    "TEXT_BUDGET",
    "Marks",
    "build_html",
    "mark_pair",
    "token_spans",
    "write_html",
]

#: Characters of raw text embedded for the side-by-side views, clusters taken in report
#: order (largest saving first) until it is spent: about 2 MB of gzip'd base64 in the file.
TEXT_BUDGET = 6_000_000
#: Characters of one document shown in its view; the rest is counted, not embedded.
MAX_VIEW_CHARS = 50_000
#: Skipped files listed in the page (the export lists them all).
MAX_SKIPPED = 1_000

# Word categories in the side-by-side view (report.js draws them as classes m1..m5).
PLAIN, SHARED, EDIT, BOILERPLATE, OWN, ONLY_KEPT = range(6)

_SURROGATE = re.compile("[\ud800-\udfff]")
_ASCII_TOKEN = re.compile("[A-Za-z0-9]+")
_ASCII_RUN = re.compile("[\\x00-\\x7f]+|[^\\x00-\\x7f]")


def _clean(text: str) -> str:
    """Lone surrogates -> U+FFFD, one code point for one, so offsets stay put."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def _name(s: str) -> str:
    """A name from disk as the terminal shows it: no controls, no lone surrogates."""
    return display(s).plain


# ----------------------------------------------------------------------------------------
# Marking words
# ----------------------------------------------------------------------------------------


def token_spans(text: str) -> list[tuple[int, int]] | None:
    """Where each token of ``shingle.tokens(text)`` lies in ``text`` (code point offsets), or
    None when normalising the text character by character does not give its tokens (a
    mojibake repair, a composed accent): the view then shows the text unmarked.

    Tokens are maximal runs of word characters, so each is found by searching from the end
    of the one before: only separators lie between them.
    """
    if text.isascii():  # folding is lower-casing: tokens are the runs of ASCII letters and digits
        return [m.span() for m in _ASCII_TOKEN.finditer(text)]
    # Folded piece by piece: an ASCII run is lower-cased (same length), any other character
    # normalised alone; a folded position maps back through its piece.
    cache: dict[str, str] = {}
    parts: list[str] = []
    orig_starts: list[int] = []
    plain: list[bool] = []
    for m in _ASCII_RUN.finditer(text):
        piece = m.group()
        if piece.isascii():
            parts.append(piece.lower())
        else:
            f = cache.get(piece)
            parts.append(f if f is not None else cache.setdefault(piece, shingle.normalize(piece)))
        orig_starts.append(m.start())
        plain.append(piece.isascii())
    folded = "".join(parts)
    toks = shingle.tokens(text)
    if shingle.tokens(folded) != toks:  # folding whole and piece by piece disagree: no marking
        return None
    found = np.empty((len(toks), 2), np.int64)
    at = 0
    for j, tok in enumerate(toks):
        start = folded.find(tok, at)
        if start < 0:
            return None
        at = start + len(tok)
        found[j] = (start, at - 1)
    fold_starts = np.cumsum([0, *map(len, parts)])[:-1]
    which = np.searchsorted(fold_starts, found, side="right") - 1  # the piece of each position
    offset = np.where(np.asarray(plain)[which], found - fold_starts[which], 0)
    spans = np.asarray(orig_starts)[which] + offset
    spans[:, 1] += 1
    return [(int(x), int(y)) for x, y in spans.tolist()]


def _covered(win: NDArray[np.uint64], size: int, n: int, hit: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Tokens covered by the windows marked in ``hit`` (window j covers tokens j .. j+size-1)."""
    if n == 0 or len(win) == 0:
        return np.zeros(n, bool)
    if n < size:  # one shingle of all the tokens
        return np.full(n, bool(hit[0]))
    starts = np.flatnonzero(hit)
    diff = np.zeros(n + 1, np.int64)
    np.add.at(diff, starts, 1)
    np.add.at(diff, np.minimum(starts + size, n), -1)
    return np.cumsum(diff[:-1]) > 0


def _sorted_set(win: NDArray[np.uint64]) -> NDArray[np.uint64]:
    return np.unique(win)


@dataclass(frozen=True, slots=True)
class Marks:
    """The words of a kept copy and a member, each in a category (``SHARED`` ...)."""

    kept: NDArray[np.int8]  # per token of the kept copy
    member: NDArray[np.int8]  # per token of the member
    own_words: int  # the member's tokens outside the kept copy (evidence's own words)
    prose_words: int  # of those, in prose runs (evidence.own_text)


def _lines_with(spans: Sequence[tuple[int, int]], text: str, flag: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Per token: whether its line holds a token for which ``flag`` is true."""
    breaks = np.array([m.start() for m in re.finditer("\n", text)], np.int64)
    starts = np.array([s for s, _ in spans], np.int64)
    line = np.searchsorted(breaks, starts)
    lines_flagged = np.zeros(len(breaks) + 1, bool)
    lines_flagged[line[flag]] = True
    return np.asarray(lines_flagged[line])


def mark_pair(
    kept_text: str,
    member_text: str,
    config: ScanConfig,
    kept_spans: Sequence[tuple[int, int]],
    member_spans: Sequence[tuple[int, int]],
) -> Marks:
    """Mark each word of both texts: shared, edit, boilerplate, own prose, or only in the kept
    copy (see the module docstring). Spans come from ``token_spans``."""
    k, ck = config.shingle_size, config.char_shingle_size
    _, kwin, ksize = shingle.sequence(kept_text, k, ck)
    mtok, mwin, msize = shingle.sequence(member_text, k, ck)
    kset, mset = _sorted_set(kwin), _sorted_set(mwin)
    n_k, n_m = len(kept_spans), len(member_spans)
    shared_m = _covered(mwin, msize, n_m, np.isin(mwin, kset))
    shared_k = _covered(kwin, ksize, n_k, np.isin(kwin, mset))
    own = ~shared_m
    found = evidence.own_text(member_text, kset, config, (mtok, mwin, msize))
    prose = np.zeros(n_m, bool)
    if found.runs and n_m >= msize:
        run_set = np.unique(np.concatenate([r.shingles for r in found.runs]))
        whole_own = np.lib.stride_tricks.sliding_window_view(own, msize).all(axis=1)
        prose = _covered(mwin, msize, n_m, np.isin(mwin, run_set) & whole_own) & own
    member = np.full(n_m, BOILERPLATE, np.int8)
    member[own & _lines_with(member_spans, member_text, shared_m)] = EDIT
    member[prose] = OWN
    member[shared_m] = SHARED
    kept = np.full(n_k, ONLY_KEPT, np.int8)
    kept[~shared_k & _lines_with(kept_spans, kept_text, shared_k)] = EDIT
    kept[shared_k] = SHARED
    return Marks(kept, member, int(np.count_nonzero(own)), int(np.count_nonzero(prose)))


def _runs(text: str, spans: Sequence[tuple[int, int]], cats: NDArray[np.int8], limit: int) -> list[int]:
    """The first ``limit`` code points of ``text`` as [category, UTF-16 length, ...] runs:
    a token's category covers it and the separators up to the next token of the same
    category (others are plain), so marked stretches read as phrases."""
    n = min(len(text), limit)
    if n == 0:
        return []
    per_char = np.zeros(n + 1, np.int64)
    if len(spans):
        bounds = np.asarray(spans, np.int64)
        first = np.ones(len(bounds), bool)  # one character may give two tokens ('½'): paint it once
        first[1:] = bounds[1:, 0] != bounds[:-1, 0]
        bounds, values = bounds[first], cats[first].astype(np.int64)
        same = values[1:] == values[:-1]  # a group of tokens of one category is one stretch
        opens = np.concatenate(([True], ~same))
        closes = np.concatenate((~same, [True]))
        starts, ends, group = bounds[opens, 0], bounds[closes, 1], values[opens]
        keep = starts < n
        starts, ends, group = starts[keep], np.minimum(ends[keep], n), group[keep]
        np.add.at(per_char, starts, group)
        np.add.at(per_char, ends, -group)
    category = np.cumsum(per_char[:n])
    edges = np.flatnonzero(np.diff(category)) + 1
    run_starts = np.concatenate(([0], edges))
    units = np.ones(n, np.int64)  # JS counts UTF-16 units: a character beyond U+FFFF is two
    if not text.isascii():
        cps = np.frombuffer(text[:n].encode("utf-32-le", "surrogatepass"), np.uint32)
        units += cps > 0xFFFF
    lengths = np.add.reduceat(units, run_starts)
    return list(np.column_stack((category[run_starts], lengths)).ravel().tolist())


# ----------------------------------------------------------------------------------------
# Plots (SVG)
# ----------------------------------------------------------------------------------------

_J_COLOUR, _C_COLOUR = "#2f6fb0", "#d0792c"


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def histogram_svg(matches: Sequence[Match], config: ScanConfig, bins: int = 20) -> str:
    """Verified pairs by Jaccard and by containment, 1/bins wide bars, thresholds drawn."""
    w, h, left, bottom, top = 440, 260, 44, 34, 44
    pw, ph = w - left - 12, h - bottom - top
    counts = np.zeros((2, bins), np.int64)
    for row, values in enumerate(([m.jaccard for m in matches], [m.containment for m in matches])):
        if values:
            idx = np.minimum((np.asarray(values) * bins).astype(np.int64), bins - 1)
            counts[row] = np.bincount(idx, minlength=bins)
    peak = max(1, int(counts.max()))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" id="histogram">']
    parts.append(f'<text x="{left}" y="14" class="ptitle">Verified pairs: {len(matches):,}</text>')
    bar = pw / bins / 2
    for row, colour in ((0, _J_COLOUR), (1, _C_COLOUR)):
        for b in range(bins):
            n = int(counts[row, b])
            if not n:
                continue
            bh = ph * n / peak
            x = left + b * pw / bins + row * bar
            label = ("Jaccard" if row == 0 else "containment") + f" {b / bins:.2f}-{(b + 1) / bins:.2f}: {n:,} pairs"
            parts.append(
                f'<rect x="{x:.1f}" y="{top + ph - bh:.1f}" width="{bar - 0.5:.1f}" height="{bh:.1f}" '
                f'fill="{colour}"><title>{label}</title></rect>'
            )
    parts.append(_axes(left, top, pw, ph, f"{peak:,}", "similarity"))
    for value, colour, name in ((config.jaccard_threshold, _J_COLOUR, "Jaccard"), (config.containment_threshold, _C_COLOUR, "containment")):  # fmt: skip
        x = left + value * pw
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 28 if name == "Jaccard" else top - 15}" x2="{x:.1f}" y2="{top + ph}" stroke="{colour}" stroke-dasharray="4 3"/>'
        )
        y = top - 18 if name == "Jaccard" else top - 5  # two rows above the bars, each label by its line
        parts.append(f'<text x="{x - 3:.1f}" y="{y}" class="tlabel" text-anchor="end" '
                     f'fill="{colour}">{name} ≥ {_fmt(value * 100)}%</text>')  # fmt: skip
    parts.append(_legend(left + pw - 76, 12, [("Jaccard", _J_COLOUR), ("containment", _C_COLOUR)]))
    parts.append("</svg>")
    return "".join(parts)


def scatter_svg(matches: Sequence[Match], config: ScanConfig, grid: int = 100) -> str:
    """Verified pairs as Jaccard (x) against containment (y), one dot per occupied cell of a
    ``grid`` x ``grid`` raster (its size grows with the pairs it stands for), the thresholds
    drawn: copies wrapped in boilerplate or cut short sit top left, apart from the rest."""
    w, h, left, bottom, top = 320, 320, 44, 34, 22
    pw, ph = w - left - 12, h - bottom - top
    cells: Counter[tuple[str, int, int]] = Counter(
        (m.rule, round(m.jaccard * grid), round(m.containment * grid)) for m in matches
    )
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" id="scatter">']
    parts.append(f'<text x="{left}" y="14" class="ptitle">Jaccard against containment</text>')
    jt, ct = config.jaccard_threshold, config.containment_threshold
    parts.append(f'<rect x="{left}" y="{top}" width="{jt * pw:.1f}" height="{(1 - ct) * ph:.1f}" class="region"/>')
    parts.append(f'<text x="{left + 4}" y="{top + 12}" class="tlabel">wrapped or cut copies</text>')
    parts.append(_axes(left, top, pw, ph, "1", "Jaccard"))
    parts.append(f'<text x="12" y="{top + ph / 2:.0f}" class="alabel" transform="rotate(-90 12 {top + ph / 2:.0f})" '
                 f'text-anchor="middle">containment</text>')  # fmt: skip
    x = left + jt * pw
    parts.append(
        f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="{_J_COLOUR}" stroke-dasharray="4 3"/>'
    )
    y = top + (1 - ct) * ph
    parts.append(
        f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="{_C_COLOUR}" stroke-dasharray="4 3"/>'
    )
    for (rule, gx, gy), n in sorted(cells.items()):
        colour = _J_COLOUR if rule == "jaccard" else _C_COLOUR
        r = min(2.5 + 1.5 * math.log2(n), 9)
        label = (
            f"Jaccard {gx / grid:.2f}, containment {gy / grid:.2f}, joined by {rule}: {n:,} pair{'s' if n > 1 else ''}"
        )
        parts.append(
            f'<circle cx="{left + gx / grid * pw:.1f}" cy="{top + (1 - gy / grid) * ph:.1f}" r="{r:.1f}" '
            f'fill="{colour}" fill-opacity="0.6" class="pt"><title>{label}</title></circle>'
        )
    parts.append(_legend(left + pw - 130, top + ph - 34, [("by Jaccard", _J_COLOUR), ("by containment", _C_COLOUR)]))
    parts.append("</svg>")
    return "".join(parts)


def _axes(left: int, top: int, pw: int, ph: int, ymax: str, xlabel: str) -> str:
    """Both axes with ticks at every fifth of [0, 1] along x."""
    out = [f'<path d="M{left} {top}V{top + ph}H{left + pw}" class="axis"/>']
    for i in range(6):
        x = left + pw * i / 5
        out.append(f'<text x="{x:.1f}" y="{top + ph + 14}" class="tick" text-anchor="middle">{i / 5:.1f}</text>')
    out.append(f'<text x="{left - 4}" y="{top + 8}" class="tick" text-anchor="end">{ymax}</text>')
    out.append(f'<text x="{left - 4}" y="{top + ph}" class="tick" text-anchor="end">0</text>')
    out.append(f'<text x="{left + pw / 2:.0f}" y="{top + ph + 30}" class="alabel" text-anchor="middle">{xlabel}</text>')
    return "".join(out)


def _legend(x: int, y: int, items: Sequence[tuple[str, str]]) -> str:
    out = []
    for i, (label, colour) in enumerate(items):
        out.append(f'<rect x="{x}" y="{y + 14 * i - 8}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 14}" y="{y + 14 * i + 1}" class="tick">{label}</text>')
    return "".join(out)


# ----------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------


def saved_bytes(cluster: Cluster) -> int:
    """What dropping the cluster's duplicates saves (the kept copy and supersets stay)."""
    return sum(m.saved for m in cluster.members)


def report_order(clusters: Sequence[Cluster]) -> list[Cluster]:
    """Largest saving first, then by id: the terminal report's order."""
    return sorted(clusters, key=lambda c: (-saved_bytes(c), c.cluster_id))


def _member_row(m: Member) -> list[object]:
    """One member as report.js reads it (see ``M_`` there)."""
    return [escape_name(m.doc_id), m.words, m.size, round(m.jaccard, 4), round(m.containment, 4), round(m.in_cleanest, 4),
            m.rule, m.own_words, m.boilerplate_words, m.decision, round(m.penalty, 4),
            [_name(r) for r in m.reasons]]  # fmt: skip


def _cluster_data(result: ScanResult, config: ScanConfig, version: str) -> dict[str, object]:
    s = result.summary
    by_reason = Counter(str(item.reason) for item in result.skipped)
    return {
        "version": version,
        "roots": [escape_name(r) for r in result.roots],
        "summary": {
            "files": s.files,
            "documents": s.documents,
            "skipped": s.skipped,
            "clusters": s.clusters,
            "duplicates": s.duplicates,
            "bytes_saved": s.bytes_saved,
            "saved_text": human_bytes(s.bytes_saved),
            "candidates": s.candidates,
            "matches": s.matches,
        },
        "skipped_by_reason": sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0])),
        "skipped": [  # as the terminal lists them: a record's line number sorted as a number
            [escape_name(x.rel), str(x.reason), _name(x.detail)]
            for x in sorted(result.skipped, key=skip_order)[:MAX_SKIPPED]
        ],
        "thresholds": {
            "jaccard": config.jaccard_threshold,
            "containment": config.containment_threshold,
            "shingle_size": config.shingle_size,
            "min_shingles": config.min_shingles,
            "cluster_mode": config.cluster_mode,
        },
        "clusters": [
            [c.cluster_id, saved_bytes(c), [_member_row(m) for m in c.members]] for c in report_order(result.clusters)
        ],
    }


def _gzip_b64(chunks: Iterable[bytes]) -> str:
    """Chunks gzip'd as one stream (mtime 0: the same input gives the same file), in base64."""
    z = zlib.compressobj(6, zlib.DEFLATED, 31)
    out = [z.compress(c) for c in chunks]
    out.append(z.flush())
    return base64.b64encode(b"".join(out)).decode("ascii")


def _json_bytes(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _load(info: DocInfo, config: ScanConfig) -> tuple[str | None, str]:
    """A member's text as the scan hashed it, or None and why not."""
    try:
        text = extract.load_text(info.locator, info.kind, config)
    except (OSError, ValueError, RecursionError) as exc:
        return None, f"its text could not be read again ({type(exc).__name__})"
    if info.digest and text_digest(text) != info.digest:
        return None, "the file changed after the scan"
    return text, ""


def _view(text: str, spans: Sequence[tuple[int, int]] | None, cats: NDArray[np.int8] | None) -> dict[str, object]:
    """One side of a view: the text (trimmed) and its category runs."""
    shown = _clean(text[:MAX_VIEW_CHARS])
    runs = _runs(text, spans, cats, MAX_VIEW_CHARS) if spans is not None and cats is not None else []
    return {"t": shown, "r": runs, "more": max(0, len(text) - MAX_VIEW_CHARS)}


def _select(result: ScanResult, budget: int) -> list[tuple[Cluster, int]]:
    """The clusters whose texts are embedded, in report order, each with how many of its
    members fit ``budget`` characters (the last one may be cut short; a cluster of thousands
    of copies cannot blow the bound)."""
    spent, chosen = 0, []
    for c in report_order(result.clusters):
        if spent >= budget:
            break
        n = 0
        for m in c.members:
            if spent >= budget and n >= 2:  # the kept copy and one member at least
                break
            spent += min(m.size, MAX_VIEW_CHARS)
            n += 1
        chosen.append((c, n))
    return chosen


def _texts(result: ScanResult, config: ScanConfig, chosen: list[tuple[Cluster, int]]) -> Iterator[bytes]:
    """The side-by-side views of the ``chosen`` clusters as JSON pieces of one object keyed
    by cluster id. Texts are read one cluster at a time and let go once marked (the pieces
    go straight into the compressor): a big run's corpus is never in memory."""
    wanted: dict[str, DocInfo | None] = {m.doc_id: None for c, n in chosen for m in c.members[:n]}
    if wanted:
        for info in result.docs:
            if info.doc_id in wanted:
                wanted[info.doc_id] = info
    yield b"{"
    sep = b""
    for c, n in chosen:
        views = _cluster_views(c, n, wanted, config)
        yield sep + _json_bytes(str(c.cluster_id)) + b":" + _json_bytes(views)
        sep = b","
    yield b"}"


def _cluster_views(c: Cluster, n: int, infos: dict[str, DocInfo | None], config: ScanConfig) -> dict[str, object]:
    """The kept copy's text once and, per member of the first ``n``, its text with both
    sides' marks."""
    kept_info = infos.get(c.members[0].doc_id)
    kept_text, why = _load(kept_info, config) if kept_info is not None else (None, "it is not in the scan's documents")
    if kept_text is None:
        return {"note": f"The kept copy is not shown: {why}."}
    kept_spans = token_spans(kept_text)
    views: dict[str, object] = {
        "kept": _clean(kept_text[:MAX_VIEW_CHARS]),
        "kept_more": max(0, len(kept_text) - MAX_VIEW_CHARS),
    }
    members: list[object] = [None]
    for pos, m in enumerate(c.members[1:], start=1):
        if pos >= n:
            members.append({"note": "Not embedded: the page's budget for texts was spent."})
            continue
        info = infos.get(m.doc_id)
        text, why = _load(info, config) if info is not None else (None, "it is not in the scan's documents")
        if text is None:
            members.append({"note": f"Not shown: {why}."})
            continue
        spans = token_spans(text)
        if kept_spans is None or spans is None:
            members.append({"a": _view(kept_text, None, None), "b": _view(text, None, None),
                            "note": "Words are not marked: this text's normalisation (a repaired encoding, "
                                    "composed accents) does not map back onto its characters."})  # fmt: skip
            continue
        marks = mark_pair(kept_text, text, config, kept_spans, spans)
        a, b = _view(kept_text, kept_spans, marks.kept), _view(text, spans, marks.member)
        a.pop("t")  # the kept copy's text is stored once per cluster
        members.append({"a": a, "b": b, "own": marks.own_words, "prose": marks.prose_words})
    views["members"] = members
    return views


# ----------------------------------------------------------------------------------------
# The page
# ----------------------------------------------------------------------------------------


def _asset(name: str) -> str:
    return resources.files("dedup").joinpath("data", name).read_text("utf-8")


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


def build_html(result: ScanResult, config: ScanConfig, *, text_budget: int = TEXT_BUDGET, version: str = "") -> str:
    """The report page for ``result`` as one string.

    Args:
        result: what ``scan`` returned (its ``docs`` locate the texts, read again here).
        config: the scan's settings (thresholds, shingle sizes, the JSON fields to read).
        text_budget: characters of text to embed for side-by-side views (see ``TEXT_BUDGET``).
        version: dedup's version, shown in the footer.
    """
    data = _gzip_b64([_json_bytes(_cluster_data(result, config, version))])
    chosen = _select(result, text_budget) if text_budget > 0 else []
    texts, with_texts = _gzip_b64(_texts(result, config, chosen)), len(chosen)
    css, js = _asset("report.css"), _asset("report.js")
    csp = (
        f"default-src 'none'; script-src {_csp_hash(js)}; style-src {_csp_hash(css)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    title = "dedup report: " + ", ".join(escape_name(r) for r in result.roots)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta name="generator" content="dedup {html.escape(version)}">\n'  # rescans skip it
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{css}</style></head>\n<body>\n"
        '<header><h1>dedup report</h1><p id="roots"></p></header>\n'
        '<p id="status" class="status">Loading…</p>\n'
        '<section id="summary"></section>\n'
        f'<section id="plots" aria-label="plots">{histogram_svg(result.matches, config)}'
        f"{scatter_svg(result.matches, config)}</section>\n"
        '<section id="clusters"></section>\n<section id="compare" hidden></section>\n'
        '<section id="skipped"></section>\n<footer id="footer"></footer>\n'
        f'<script type="application/octet-stream" id="data-clusters">{data}</script>\n'
        f'<script type="application/octet-stream" id="data-texts" data-clusters="{with_texts}">{texts}</script>\n'
        f"<script>{js}</script>\n</body></html>\n"
    )


def write_html(
    result: ScanResult, path: Path | str, config: ScanConfig, *, text_budget: int = TEXT_BUDGET, version: str = ""
) -> None:
    """Write the report page to ``path`` all or nothing (see ``atomic.write_text_atomic``).

    Raises:
        ExportError: the file cannot be written.
    """
    write_text_atomic(path, build_html(result, config, text_budget=text_budget, version=version))
