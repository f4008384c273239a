"""``dedup explain A B``: why two documents are, or are not, copies of each other.

A scan answers for a whole folder; this answers for one pair, with the scan's own functions
at every step, so the answer is the scan's: the texts come from ``extract``, the shingle sets
from ``shingle_batch``, the signatures from ``signatures``, the candidate paths from
``band_pairs``, ``select_anchors``/``anchor_pairs`` and ``signature_filter``, the decision
from ``verify.judge`` and ``evidence.distinct_pages``. The shared and unshared passages are
a word-level diff of the two texts, for a reader; no decision depends on it.

A document is named as the scan names it: a file's path (``samples/000_….txt``), or a
record as ``FILE:ID`` (``data.jsonl:ID``), ID being the record's ``--id-field`` value or,
for records without one, its line (JSON Lines) or index (JSON array).

The two documents are compared alone. In a scan of a folder an anchor held by more than
``max_anchor_docs`` documents is not followed, and two documents can share a cluster
through a third; the report says so rather than guess at the folder.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from . import evidence, verify
from .candidates import anchor_pairs, band_pairs, select_anchors, signature_filter
from .config import ScanConfig
from .errors import InputError
from .extract import extract
from .hashing import unique_names
from .lists import escape_name
from .read import walk
from .records import Document, MatchRule, Skipped
from .report import Trimmed, display, display_name, percent
from .shingle import shingle_batch
from .signature import signatures
from .wording import count

__all__ = ["Explanation", "Passage", "Side", "explain", "load_document", "passages", "render_explanation"]

#: Unshared passages listed; the rest are counted.
MAX_PASSAGES = 8
#: Words shown of a passage: its first ones, an ellipsis, its last ones.
EXCERPT_HEAD, EXCERPT_TAIL = 14, 6

_CJK = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff"
_WORD = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+")
_KEY = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class Side:
    """One of the two documents: its id, text and sizes."""

    doc_id: str
    text: str
    words: int
    shingles: int


@dataclass(frozen=True, slots=True)
class Passage:
    """A stretch of the diff: in both documents, only in A, or only in B."""

    where: str  # "both", "a", "b"
    words: int
    excerpt: str


@dataclass(frozen=True, slots=True)
class Explanation:
    """Everything ``dedup explain`` shows, measured with the scan's functions."""

    a: Side
    b: Side
    config: ScanConfig
    shared: int  # shingles both hold
    jaccard: float
    containment: float  # share of the smaller set inside the larger
    a_in_b: float
    b_in_a: float
    rule: MatchRule | None  # the rule the measures pass (verify.judge), before the template check
    template_pages: bool  # each holds own prose the other lacks: verify overrules the rule
    bands_agreeing: int
    lsh: bool  # candidates by LSH banding
    anchors_a: int
    anchors_b: int
    anchors_shared: int
    anchors_needed: int
    anchored: bool  # candidates by the anchors (the containment path)
    estimate: float  # Jaccard estimated from the signatures
    filtered_out: bool  # the signature filter would drop the pair before the exact check
    passages: tuple[Passage, ...]
    # When the set rules turn the pair down but verify looks at the texts (verify.needs_texts):
    # the share of the smaller's words inside the larger, and of the larger's prose it covers.
    words_inside: float | None = None
    prose_covered: float | None = None

    @property
    def candidate(self) -> bool:
        """Whether a scan would measure the pair exactly."""
        return (self.lsh or self.anchored) and not self.filtered_out

    @property
    def copies(self) -> bool:
        """Whether a scan would join the two directly: a candidate that passes a rule."""
        return self.candidate and self.rule is not None and not self.template_pages

    def reasons(self) -> list[str]:
        """Why the pair is or is not a copy, in the terms of the options."""
        c = self.config
        small, large = sorted((self.a.shingles, self.b.shingles))
        inner, outer = ("A", "B") if self.a.shingles <= self.b.shingles else ("B", "A")
        out: list[str] = []
        if self.a.doc_id == self.b.doc_id:
            out.append("A and B name the same document: it is compared with itself")
        if self.jaccard >= c.jaccard_threshold:
            out.append(f"Jaccard {percent(self.jaccard)} is at or above --jaccard {c.jaccard_threshold:g}")
        else:
            out.append(f"Jaccard {percent(self.jaccard)} is below --jaccard {c.jaccard_threshold:g}")
        head = f"{percent(self.containment)} of {inner} (the smaller) is inside {outer}"
        if self.containment < c.containment_threshold:
            out.append(f"{head}: below --containment {c.containment_threshold:g}")
        elif small < c.min_shingles:
            out.append(f"{head}, but {inner} has {count(small, 'shingle')}, fewer than --min-shingles {c.min_shingles}")
        elif small < c.min_size_ratio * large:
            out.append(
                f"{head}, but {inner} is {small / large:.2f} of {outer}'s size, under --min-size-ratio "
                f"{c.min_size_ratio:g} (a snippet that many pages carry)"
            )
        else:
            out.append(f"{head}: at or above --containment {c.containment_threshold:g}, the containment rule")
        if self.words_inside is not None and self.prose_covered is not None:
            words = max(c.word_containment_threshold, c.containment_threshold)
            prose = max(c.min_prose_ratio, c.min_size_ratio)
            out.append(
                f"measured on the texts, {percent(self.words_inside)} of {inner}'s words lie in shingles {outer} holds "
                f"(the rule asks {words:g}) and {inner} covers {percent(self.prose_covered)} of {outer}'s prose (the "
                f"size guard asks {prose:g} when the sizes alone fall short): "
                + ("the containment rule" if self.rule is not None else "no rule either")
            )
        if self.containment < 0.5 and self.rule is None:
            out.append(
                f"they share {count(self.shared, 'shingle')}: less than half of either is in the other, so they are "
                "two different texts (two articles on one story share names and phrases, not passages)"
            )
        if self.template_pages:
            out.append(
                f"but each holds {evidence.TEMPLATE_WORDS}+ words of its own prose the other lacks: two pages "
                "that share a frame or a passage, not copies of one text"
            )
        if self.rule is not None and not self.candidate:
            out.append("but neither LSH nor the anchors make them a candidate pair, so a scan never measures them")
        return out


def load_document(name: str, config: ScanConfig) -> Document:
    """The document a command-line name means: a file, or a record as ``FILE:ID``.

    Raises:
        InputError: no such file or record, a file that holds several records and no ID
            was given, or a file the scan would skip (the reason is given).
    """
    path = Path(name)
    if path.is_file():
        docs, _skips = _documents(path, config)
        if len(docs) == 1:
            return docs[0]
        if not docs:
            raise InputError(f"{name} holds no document")
        ids = ", ".join(d.record_id or str(d.record) for d in docs[:3])
        raise InputError(f"{name} holds {len(docs):,} records: name one as {name}:ID (such as {ids})")
    # The file is the shortest prefix before a colon that is a file: an id may hold colons (a URL).
    if path.is_dir():
        raise InputError(
            f"{escape_name(name)} is a folder: explain takes two documents, each a file or a record (FILE:ID)"
        )
    cuts = [i for i, ch in enumerate(name) if ch == ":"]
    at = next((i for i in cuts if Path(name[:i]).is_file()), None)
    if at is None:
        raise InputError(f"no such file: {escape_name(name)} (a record is named FILE:ID)")
    file, key = name[:at], name[at + 1 :]
    docs, skips = _documents(Path(file), config)
    # The id the scan gives it (``1@L3`` when id 1 repeats), else its line, else its own id.
    for matches in (
        lambda d: d.doc_id == f"{d.rel}:{key}",
        lambda d: str(d.record) == key,
        lambda d: d.record_id == key,
    ):
        found = next((doc for doc in docs if matches(doc)), None)
        if found is not None:
            return found
    skipped = next((k for k in skips if k.rel.rpartition(":")[2] == key), None)
    if skipped is not None:  # a record a scan leaves out (a null or empty text): say why, not "no record"
        raise InputError(f"{display(skipped.rel).plain}: {skipped.reason} ({display(skipped.detail).plain})")
    more = ""
    if skips:  # the record may be one of them: a skip is named by its line, not its id
        first = skips[0]
        more = f"; a scan skips {count(len(skips), 'record')} of it, first {display(first.rel).plain}: {display(first.detail).plain}"
    raise InputError(
        f"{file} has no record {key!r} (the id a scan gives it, its --id-field {config.id_field!r} value, or its line)"
        + more
    )


def _documents(path: Path, config: ScanConfig) -> tuple[list[Document], list[Skipped]]:
    """The documents a scan reads from one file; a file it would skip is an error here."""
    docs: list[Document] = []
    skips: list[Skipped] = []
    for source in walk([path], config):
        if isinstance(source, Skipped):
            skips.append(source)
            continue
        for item in extract(source, config):
            if isinstance(item, Skipped):
                skips.append(item)
            else:
                docs.append(item)
    if not docs and skips:
        first = skips[0]
        raise InputError(f"{display(first.rel).plain}: {first.reason} ({display(first.detail).plain})")
    names = unique_names([d.doc_id for d in docs], [d.record for d in docs], {d.rel for d in docs})
    return [
        doc if name == doc.doc_id else dataclasses.replace(doc, doc_id=name)
        for doc, name in zip(docs, names, strict=True)
    ], skips


def explain(a: str, b: str, config: ScanConfig | None = None) -> Explanation:
    """Measure two documents as a scan would, and say why they are or are not copies.

    Args:
        a: a file path, or ``FILE:ID`` for a record.
        b: the same for the other document.
        config: thresholds and shingle settings (defaults: ``ScanConfig()``).

    Returns:
        An ``Explanation`` with the measures, the rule, both candidate paths and the passages.

    Raises:
        InputError: a name that is no file or record (see ``load_document``).

    Example:
        >>> e = explain("samples/000_8bcd120cc8060ff3.txt", "samples/001_288da1160778f453.txt")  # doctest: +SKIP
        >>> e.copies, e.rule  # doctest: +SKIP
        (True, 'containment')
    """
    config = config or ScanConfig()
    docs = [load_document(a, config), load_document(b, config)]
    texts = [d.text for d in docs]
    sh = shingle_batch(texts, config.shingle_size, config.char_shingle_size)
    x, y = sh.get(0), sh.get(1)
    inter = verify.overlap(x, y)
    jaccard, containment = verify.similarity(x, y)
    lay = verify.Layouts(texts.__getitem__, config)
    rule = verify.judge_texts(0, 1, x, y, jaccard, containment, lay, config)
    small, large = (0, 1) if len(x) <= len(y) else (1, 0)
    looked = verify.needs_texts(jaccard, containment, len(x), len(y), config)
    template = rule is not None and evidence.distinct_pages(0, 1, sh, texts.__getitem__, config, inter)
    sigs = signatures(sh, config.num_perm, config.seed)
    rows = config.rows
    agree = sum(
        bool(np.array_equal(sigs.matrix[0, k * rows : (k + 1) * rows], sigs.matrix[1, k * rows : (k + 1) * rows]))
        for k in range(config.bands)
    )
    lsh = len(band_pairs(sigs, config.bands)) > 0
    anchors = select_anchors(sh, config.anchor_bits)
    per_doc = np.bincount(anchors.docs, minlength=2)
    shared_anchors = len(np.intersect1d(anchors.hashes[anchors.docs == 0], anchors.hashes[anchors.docs == 1]))
    anchored = len(anchor_pairs(anchors, 2, config.min_anchors, config.max_anchor_docs)) > 0
    pair = np.array([[0, 1]], np.int64)
    kept = signature_filter(pair, sigs, sh.sizes(), config)
    sides = [Side(d.doc_id, d.text, int(sh.words[i]), len(sh.get(i))) for i, d in enumerate(docs)]
    return Explanation(
        a=sides[0],
        b=sides[1],
        config=config,
        shared=inter,
        jaccard=jaccard,
        containment=containment,
        a_in_b=inter / len(x) if len(x) else 0.0,
        b_in_a=inter / len(y) if len(y) else 0.0,
        rule=rule,
        template_pages=template,
        bands_agreeing=agree,
        lsh=lsh,
        anchors_a=int(per_doc[0]),
        anchors_b=int(per_doc[1]),
        anchors_shared=shared_anchors,
        anchors_needed=max(1, min(config.min_anchors, int(per_doc[0]), int(per_doc[1]))),
        anchored=anchored,
        estimate=sigs.jaccard(0, 1),
        filtered_out=len(kept) == 0,
        passages=tuple(passages(texts[0], texts[1], min(config.shingle_size, config.char_shingle_size))),
        words_inside=verify.word_share(lay(small), sh.get(large)) if looked else None,
        prose_covered=verify.prose_share(lay(large), sh.get(small)) if looked else None,
    )


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _joined(words: Sequence[str]) -> str:
    """Words back into text: a space between words, none between CJK characters."""
    out = ""
    for w in words:
        if out and not (re.match(f"[{_CJK}]", w) and re.search(f"[{_CJK}]$", out)):
            out += " "
        out += w
    return out


def _excerpt(words: Sequence[str]) -> str:
    if len(words) <= EXCERPT_HEAD + EXCERPT_TAIL + 2:
        return _joined(words)
    return f"{_joined(words[:EXCERPT_HEAD])} … {_joined(words[-EXCERPT_TAIL:])}"


def passages(a: str, b: str, min_run: int = 5) -> list[Passage]:
    """A word-level diff of two texts (case and punctuation ignored), as passages in A's order.

    Words both hold count as shared only in runs of ``min_run`` or more (a shingle's worth):
    two articles on one story share names and little words, not passages.

    Example:
        >>> [(p.where, p.words) for p in passages("Home | one two three four five", "one two three four five. Share")]
        [('a', 1), ('both', 5), ('b', 1)]
    """
    wa, wb = _words(a), _words(b)
    ka = [_KEY.sub("", w.lower()) for w in wa]
    kb = [_KEY.sub("", w.lower()) for w in wb]
    # Punctuation alone ("|", "—") is not a word of the diff: it would split passages.
    keep_a = [i for i, k in enumerate(ka) if k]
    keep_b = [j for j, k in enumerate(kb) if k]
    matcher = difflib.SequenceMatcher(None, [ka[i] for i in keep_a], [kb[j] for j in keep_b], autojunk=False)
    runs: list[tuple[str, list[str]]] = []

    def add(where: str, words: list[str]) -> None:
        if not words:
            return
        if runs and runs[-1][0] == where:
            runs[-1][1].extend(words)
        else:
            runs.append((where, words))

    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        these, those = [wa[i] for i in keep_a[i1:i2]], [wb[j] for j in keep_b[j1:j2]]
        if op == "equal" and i2 - i1 >= min_run:
            add("both", these)
            continue
        # An unequal stretch, or a shared one too short to be a passage: one side each.
        if runs and runs[-1][0] == "b" and these:  # keep A's words before B's in a stretch
            last = runs.pop()
            add("a", these)
            runs.append(last)
        else:
            add("a", these)
        add("b", those)
    return [Passage(where, len(words), _excerpt(words)) for where, words in runs]


def _verdict(e: Explanation) -> Text:
    if e.copies:
        how = (
            "by Jaccard"
            if e.rule == "jaccard"
            else f"by containment ({'A inside B' if e.a.shingles <= e.b.shingles else 'B inside A'})"
        )
        return Text.assemble(("Copies", "bold green"), f": a scan joins them {how}.")
    return Text.assemble(("Not copies", "bold red"), ": a scan does not join them directly.")


def _grid(rows: Sequence[tuple[str, Text]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(Text(label), value)
    return grid


def _sizes(side: Side) -> str:
    return f"{count(side.words, 'word')}, {count(side.shingles, 'shingle')}"


def renderables(e: Explanation) -> list[RenderableType]:
    """The explanation as rich renderables, in print order."""
    c = e.config
    docs = _grid(
        [
            ("A", display_name(e.a.doc_id) + Text(f"  {_sizes(e.a)}", style="dim")),
            ("B", display_name(e.b.doc_id) + Text(f"  {_sizes(e.b)}", style="dim")),
        ]
    )
    head = Panel(docs, title=Text("dedup explain"), title_align="left", expand=False, box=box.ROUNDED)
    why = Table.grid()  # a reason that wraps goes on under its own text, not under the bullet
    why.add_column(no_wrap=True)
    why.add_column()
    for reason in e.reasons():
        why.add_row(Text("· "), Text(reason))
    measures = _grid(
        [
            (
                "Jaccard",
                Text(
                    f"{percent(e.jaccard)}  ({count(e.shared, 'shingle')} shared of "
                    f"{e.a.shingles + e.b.shingles - e.shared:,})"
                ),
            ),
            ("A inside B", Text(percent(e.a_in_b))),
            ("B inside A", Text(percent(e.b_in_a))),
            (
                "thresholds",
                Text(
                    f"--jaccard {c.jaccard_threshold:g}, --containment {c.containment_threshold:g} with "
                    f"--min-shingles {c.min_shingles} and --min-size-ratio {c.min_size_ratio:g}"
                ),
            ),
        ]
    )
    rows = c.rows
    found = _grid(
        [
            (
                "LSH",
                Text(
                    f"{e.bands_agreeing} of {c.bands} bands ({rows} rows each) agree: "
                    + ("a candidate pair" if e.lsh else "not a candidate")
                ),
            ),
            (
                "anchors",
                Text(
                    f"{e.anchors_shared:,} shared (A has {e.anchors_a:,}, B {e.anchors_b:,}; {e.anchors_needed} needed): "
                    + ("a candidate pair" if e.anchored else "not a candidate")
                ),
            ),
            (
                "signatures",
                Text(
                    f"estimated Jaccard {e.estimate:.2f}: "
                    + (
                        "too far below both thresholds, dropped before the exact check"
                        if e.filtered_out
                        else "kept for the exact check"
                    )
                ),
            ),
        ]
    )
    out: list[RenderableType] = [
        head,
        Group(_verdict(e), why),
        measures,
        Group(Text("Candidates", style="bold"), found),
    ]
    out.append(_passage_table(e.passages))
    out.append(
        Text(
            f"The two are compared alone: in a scan of a folder an anchor held by more than {c.max_anchor_docs} "
            "documents is not followed, and two documents can share a cluster through a third.",
            style="dim",
        )
    )
    return out


def _passage_table(items: Sequence[Passage]) -> RenderableType:
    """The diff: totals, then the first passages with an excerpt of each."""

    def total(where: str) -> int:
        return sum(p.words for p in items if p.where == where)

    shared = [p for p in items if p.where == "both"]
    lines: list[RenderableType] = [
        Text("Passages", style="bold"),
        Text(
            f"shared: {count(total('both'), 'word')} in {count(len(shared), 'passage')}; "
            f"only in A: {count(total('a'), 'word')}; only in B: {count(total('b'), 'word')}"
        ),
    ]
    shown = items[: 2 * MAX_PASSAGES]
    if shown:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0))
        table.add_column(Text("in"), no_wrap=True)
        table.add_column(Text("words"), justify="right", no_wrap=True)
        table.add_column(Text("passage"), overflow="fold")
        for p in shown:
            where = {"both": "A and B", "a": "A only", "b": "B only"}[p.where]
            style = {"both": "dim", "a": "red", "b": "green"}[p.where]
            table.add_row(Text(where, style=style), Text(f"{p.words:,}"), display(p.excerpt))
        lines.append(table)
    if len(shown) < len(items):
        lines.append(Text(f"… and {count(len(items) - len(shown), 'more passage')}"))
    return Group(*lines)


def render_explanation(e: Explanation, console: Console) -> None:
    """Print the explanation to ``console``."""
    for i, part in enumerate(renderables(e)):
        if i:
            console.print()
        console.print(Trimmed(part))
