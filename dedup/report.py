"""ScanResult -> rich renderables, and the one place that sanitises display strings.

Everything here formats; nothing computes results. Every string that came from disk (file
names, record ids, skip details, reasons that quote text) goes through :func:`display`
before it meets the terminal, because rich strips only BEL, BS, VT, FF and CR: ESC, the
other C0/C1 controls and bidi overrides would otherwise reach the terminal, and a plain
``str`` cell would be parsed as ``[markup]``.

Example:
    >>> import io
    >>> from rich.console import Console
    >>> console = Console(file=io.StringIO(), width=100, color_system=None)
    >>> render(result, console)  # doctest: +SKIP
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from .lists import escape_name
from .ray_input import is_url
from .records import Cluster, Member, ScanResult, Skipped
from .wording import count

__all__ = [
    "DEFAULT_TOP",
    "MAX_SKIPPED",
    "ClusterView",
    "SkipRow",
    "Trimmed",
    "by_savings",
    "bytes_saved",
    "display",
    "display_name",
    "human_bytes",
    "percent",
    "render",
    "renderables",
    "skip_order",
    "skip_rows",
]

#: Skipped files listed in the terminal unless ``verbose``; the export holds them all.
MAX_SKIPPED = 20

CLEANEST_MARK = "★ cleanest"

# Lone surrogates that surrogateescape cannot turn back into bytes (not U+DC80..U+DCFF).
_ODD_SURROGATE = re.compile("[\ud800-\udc7f\udd00-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _control_table() -> dict[int, str]:
    """Code point -> visible replacement for every character a terminal would act on."""
    table: dict[int, str] = {}
    for cp in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]:
        table[cp] = f"\\x{cp:02x}"
    # Bidi embeddings/overrides/isolates reorder what follows them (CVE-2021-42574), and the
    # line/paragraph separators break lines in some terminals.
    for cp in [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029]:
        table[cp] = f"\\u{cp:04x}"
    table[0x09] = " "
    table[0x0A] = "⏎"
    return table


_CONTROLS = _control_table()


def _fix_surrogates(s: str) -> str:
    """Lone surrogates -> U+FFFD, decoding escaped bytes back as click.format_filename does."""
    if not _SURROGATE.search(s):
        return s
    s = _ODD_SURROGATE.sub("\ufffd", s)
    return s.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def display(s: str, style: str = "") -> Text:
    """Make a string from disk safe to print: no controls, no markup, no lone surrogates.

    Tab becomes a space, a line break becomes ``⏎``, every other C0/C1 control, DEL, bidi
    override/isolate and line/paragraph separator becomes a visible backslash escape
    (``\\x1b``, ``\\u202e``), and lone surrogates (undecodable file names) become U+FFFD.
    A ``Text`` is never parsed as markup, so ``[bold]`` prints as written.

    Args:
        s: a file name, record id, skip detail or reason.
        style: a rich style for the whole text.

    Returns:
        A ``Text`` holding only printable characters.

    Example:
        >>> display("a\\x1b[31mb[bold]").plain
        'a\\\\x1b[31mb[bold]'
    """
    s = _fix_surrogates(s).replace("\r\n", "\n").translate(_CONTROLS)
    return Text(s, style=style)


def display_name(s: str, style: str = "") -> Text:
    """A file name or id as the keep/drop lists and ``dedup apply`` write it (``escape_name``):
    ``lat\\xe9.txt`` and ``new\\nline.txt``, so two undecodable names never look alike."""
    return Text(escape_name(s), style=style)


def human_bytes(n: int) -> str:
    """Bytes in decimal units with one decimal ("3.4 KB"), as file managers show them."""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 999.95:
            return f"{value:.1f} {unit}"
    return f"{value / 1000:.1f} PB"


def percent(x: float) -> str:
    """A share as a percentage with one decimal; never "100.0%" for a share below 1."""
    text = f"{x * 100:.1f}%"
    if text == "100.0%" and x < 1.0:
        return ">99.9%"
    return text


def _summary(result: ScanResult) -> Panel:
    """The header: what was read, what was left out, what was found."""
    s = result.summary
    by_reason = Counter(str(item.reason) for item in result.skipped)
    skipped = Text(f"{s.skipped:,}")
    if by_reason:
        parts = ", ".join(f"{reason} {n:,}" for reason, n in sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0])))
        skipped.append(f" ({parts})")
    roots = Text(", ").join(display_name(root) for root in result.roots) if result.roots else Text("—")

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    rows: list[tuple[str, Text]] = [
        ("Roots", roots),
        ("Files read", Text(f"{s.files:,}")),
        ("Documents", Text(f"{s.documents:,}")),
        ("Skipped", skipped),
        ("Clusters", Text(f"{s.clusters:,}")),
        ("Duplicate documents", Text(f"{s.duplicates:,}")),
        ("Dropping them saves", Text(human_bytes(s.bytes_saved))),
        ("Candidate pairs", Text(f"{s.candidates:,}")),
        ("Verified pairs", Text(f"{s.matches:,}")),
    ]
    for label, value in rows:
        grid.add_row(Text(label), value)
    return Panel(grid, title=Text("dedup scan"), title_align="left", expand=False, box=box.ROUNDED)


#: Clusters the terminal report shows unless ``--top`` says otherwise; the exports hold all.
DEFAULT_TOP = 20

#: Where the clusters the terminal leaves out can be seen.
MORE_HINT = "see --output / --html"

_GAP = 2  # spaces between columns
NOTES_WIDTH = 100  # notes wrap here on wider terminals (or at the table's width): lines stay readable


def bytes_saved(cluster: Cluster) -> int:
    """What dropping the cluster's duplicates saves (supersets and the cleanest stay)."""
    return sum(m.saved for m in cluster.members)


def by_savings(clusters: Sequence[Cluster]) -> list[Cluster]:
    """Clusters in the order the report shows them: largest saving first, then by id."""
    return sorted(clusters, key=lambda c: (-bytes_saved(c), c.cluster_id))


def _name_lines(member: Member) -> list[Text]:
    """The id, plus where a record lives when the id does not already say so."""
    lines = [display_name(member.doc_id)]
    if member.record is not None and member.doc_id != f"{member.rel}:{member.record}":
        lines.append(display_name(f"{member.rel}:{member.record}", style="dim"))
    return lines


class ClusterView:
    """One cluster, laid out for the width it is printed at.

    The copy column is as wide as the longest id, so the numbers sit next to the names at
    any width; ids are folded only when even the compact layout (one-character mark, short
    headers) leaves them too little room. The notes under each member wrap across the whole
    width instead of inside the copy column.
    """

    def __init__(self, cluster: Cluster, *, verbose: bool = False) -> None:
        self.cluster, self.verbose = cluster, verbose

    def _numbers(self, member: Member) -> list[str]:
        if member.cleanest:
            return [f"{member.words:,}", "—", "—"]
        return [f"{member.words:,}", percent(member.jaccard), percent(member.containment)]

    def _notes(self, member: Member, compact: bool) -> list[str]:
        notes = [f"penalty {member.penalty:.2f}", *member.reasons] if self.verbose else list(member.reasons)
        if not member.cleanest and member.rule:  # a Member made without its evidence has no rule
            notes.insert(0, _evidence_note(member))
        if compact and member.decision == "superset":
            notes.insert(0, "superset")
        return notes

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        cluster, width = self.cluster, options.max_width
        members = cluster.members
        n = len(members)
        saved = bytes_saved(cluster)
        title = f"Cluster {cluster.cluster_id} · {n} {'copy' if n == 1 else 'copies'}"
        yield Text(f"{title} · dropping saves {human_bytes(saved)}" if saved else title, style="bold")
        names = [_name_lines(m) for m in members]
        numbers = [self._numbers(m) for m in members]
        need = max([4, *(line.cell_len for lines in names for line in lines)])
        for compact in (False, True):
            heads = ["words", "Jacc.", "cont."] if compact else ["words", "Jaccard", "containment"]
            widths = [max([len(h), *(len(row[k]) for row in numbers)]) for k, h in enumerate(heads)]
            mark_w = 1 if compact else len(CLEANEST_MARK)
            fixed = mark_w + _GAP + sum(w + _GAP for w in widths)
            if fixed + need <= width or compact:
                break
        name_w = max(min(need, width - fixed), 4)
        indent = mark_w + _GAP

        def row(mark: Text, name: Text, cells: list[Text]) -> Text:
            line = Text.assemble(mark, " " * (mark_w - mark.cell_len + _GAP), name)
            line.append(" " * (name_w - name.cell_len))
            for cell, w in zip(cells, widths, strict=True):
                line.append(" " * (_GAP + w - cell.cell_len))
                line.append_text(cell)
            return line

        yield row(Text(""), Text("copy"), [Text(h) for h in heads])
        table_w = indent + name_w + sum(w + _GAP for w in widths)
        yield Text("─" * table_w)
        for member, lines, cells in zip(members, names, numbers, strict=True):
            mark = Text("")
            if member.cleanest:
                mark = Text("★" if compact else CLEANEST_MARK, style="bold green")
            if member.decision == "superset" and not compact:
                mark = Text("superset", style="bold yellow")
            pieces = [p for line in lines for p in line.wrap(console, name_w, overflow="fold")]
            first = row(mark, pieces[0], [Text(c) for c in cells])
            if member.cleanest:
                first.stylize("bold")
            yield first
            for piece in pieces[1:]:
                yield Text(" " * indent) + piece
            notes = self._notes(member, compact)
            if notes:
                why = Text("; ", style="dim").join(display(note, style="dim") for note in notes)
                wrap = max(min(width, max(table_w, NOTES_WIDTH)) - indent, 8)
                for piece in why.wrap(console, wrap, overflow="fold"):
                    yield Text(" " * indent) + piece


_RULES = {
    "jaccard": "by Jaccard",
    "contains-cleanest": "by containment (cleanest inside it)",
    "inside-cleanest": "by containment (it inside cleanest)",
    "chain": "through other members",
}


def _evidence_note(member: Member) -> str:
    """Why a member is in the cluster (the share of it inside the cleanest, the rule) and what
    dropping it would lose (its own words, and how many are boilerplate)."""
    head = f"{percent(member.in_cleanest)} of it in cleanest, joined {_RULES.get(member.rule, member.rule)}"
    if not member.own_words:
        return head
    if member.boilerplate_words == member.own_words:
        return f"{head}; {count(member.own_words, 'own word')}, all boilerplate"
    return f"{head}; {count(member.own_words, 'own word')}, {member.boilerplate_words:,} boilerplate"


# A record's place as skip entries name it ("data.jsonl:12"), and the "line 12: " (or
# "record 12: ") its detail starts with.
_AT_NUMBER = re.compile(r"(.*):(\d+)")
_DETAIL_HEAD = re.compile(r"(\w+) (\d+): (.*)", re.DOTALL)

#: Ranges of numbers a grouped row names before "…".
MAX_RANGES = 4


def skip_order(item: Skipped) -> tuple[str, int, str]:
    """Sort key of a skip entry: its file, then its record's number as a number (so
    ``truth.jsonl:2`` comes before ``truth.jsonl:10``); a whole file before its records."""
    at = _AT_NUMBER.fullmatch(item.rel)
    if at is None:
        return (item.rel, -1, item.rel)
    return (at[1], int(at[2]), item.rel)


class SkipRow:
    """One row of the terminal's skipped list: one entry, or the records of one file that
    were skipped for the same reason and detail (``truth.jsonl``, 98 lines: no 'text' field)."""

    def __init__(self, items: list[Skipped]) -> None:
        self.items = items

    @property
    def name(self) -> str:
        """The file (a group), or the entry's own name."""
        if len(self.items) == 1:
            return self.items[0].rel
        return skip_order(self.items[0])[0]

    @property
    def detail(self) -> str:
        """The detail: for a group, how many records and which, then the shared detail."""
        first = self.items[0]
        if len(self.items) == 1:
            return first.detail
        head = _DETAIL_HEAD.fullmatch(first.detail)
        unit, rest = (head[1], head[3]) if head else ("record", first.detail)
        numbers = [skip_order(item)[1] for item in self.items]
        return f"{count(len(numbers), unit)} ({_ranges(numbers)}): {rest}"


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 7, 9, 10] -> '1-3, 7, 9-10'; past MAX_RANGES ranges, '…'."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    text = [f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in spans[:MAX_RANGES]]
    return ", ".join(text) + (", …" if len(spans) > MAX_RANGES else "")


def _group_key(item: Skipped) -> tuple[str, str, str, str] | None:
    """What a record's entry shares with its file's others skipped alike; None for a whole
    file, or a detail that does not name the record's number."""
    at = _AT_NUMBER.fullmatch(item.rel)
    head = _DETAIL_HEAD.fullmatch(item.detail)
    if at is None or head is None or head[2] != at[2]:
        return None
    return (at[1], str(item.reason), head[1], head[3])


def skip_rows(skipped: Iterable[Skipped]) -> list[SkipRow]:
    """The skipped entries as the terminal lists them: sorted by file, then record number;
    the records of one file skipped for the same reason and detail make one row."""
    rows: list[SkipRow] = []
    last: tuple[str, str, str, str] | None = None
    for item in sorted(skipped, key=skip_order):
        key = _group_key(item)
        if key is not None and key == last:
            rows[-1].items.append(item)
        else:
            rows.append(SkipRow([item]))
        last = key
    return rows


def _skipped_table(skipped: Iterable[Skipped], total: int, *, verbose: bool) -> Group:
    """Files left out and why; long lists are cut in the terminal, never in the export."""
    items = list(skipped)
    rows = skip_rows(items)
    shown = rows if verbose else rows[:MAX_SKIPPED]
    table = Table(
        title=Text("Skipped", style="bold"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
        show_edge=False,
    )
    table.add_column(Text("file"), overflow="fold", min_width=16)
    table.add_column(Text("reason"), no_wrap=True)
    table.add_column(Text("detail"), overflow="fold", min_width=12)
    for row in shown:
        table.add_row(display_name(row.name), display(str(row.items[0].reason)), display(row.detail))
    parts: list[RenderableType] = [table]
    more = max(total, len(items)) - sum(len(row.items) for row in shown)
    if more > 0:
        parts.append(Text(f"… and {more:,} more (see --output)"))
    return Group(*parts)


def _closing(result: ScanResult, shown: int, written: Mapping[str, str]) -> list[RenderableType]:
    """The end of a report that ran past a screen: the totals again, and what to do next
    (with the files this run wrote, when it wrote them)."""
    s = result.summary
    which = "every cluster shown" if shown >= s.clusters else "none shown"
    if 0 < shown < s.clusters:
        which = f"the {shown:,} largest shown" if shown > 1 else "the largest shown"
    totals = Text.assemble(
        ("In short: ", "bold"),
        f"{count(s.documents, 'document')}, {count(s.clusters, 'cluster')} ({which}), "
        f"{count(s.duplicates, 'duplicate')}; dropping them saves {human_bytes(s.bytes_saved)}.",
    )
    export = escape_name(written.get("--output", ""))
    export = export if export.lower().endswith(".json") else ""  # what dedup apply reads
    html = escape_name(written.get("--html", ""))
    steps: list[tuple[str, str]] = []
    if not export:
        steps.append(("--output scan.json", "every cluster with its evidence (also .jsonl, .csv)"))
    if html:
        steps.append((html, "open it in a browser: search the clusters, compare each copy with the kept one"))
    else:
        steps.append(("--html report.html", "a page to search the clusters and compare each copy with the kept one"))
    apply = f"dedup apply {shlex.quote(export) if export else 'scan.json'}"
    if not any(is_url(r) for r in result.roots):  # apply refuses the copies of s3:// files
        steps.append((apply, "quarantine, link or delete the duplicates (shows the plan first)"))
    steps.append(("dedup explain A B", "why two documents are, or are not, copies"))
    if shown < s.clusters:
        steps.append(("--top all", "every cluster here"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=max(len(c) for c, _ in steps) <= 40, overflow="fold")
    grid.add_column()
    for command, what in steps:
        grid.add_row(Text("  " + command), Text(what))
    return [totals, Text("Next:", style="bold"), grid]


def renderables(
    result: ScanResult,
    *,
    verbose: bool = False,
    top: int | None = DEFAULT_TOP,
    written: Mapping[str, str] | None = None,
) -> list[RenderableType]:
    """The report as rich renderables, in print order (for callers that lay them out).

    Args:
        result: the scan to show.
        verbose: list every skipped file and show each member's penalty.
        top: how many clusters to show, those whose duplicates weigh most first; None for all.
        written: the files this run wrote, by option (``--output``, ``--html``): the closing
            lines name them (escaped as file names are) instead of suggesting them.

    Returns:
        The summary panel; the clusters, largest saving first (or a "No near-duplicates"
        line), with a line counting those left out; the skipped-files table when anything
        was skipped; and, when anything was found, the totals again and what to do next.
    """
    out: list[RenderableType] = [_summary(result)]
    ordered = by_savings(result.clusters)
    shown = ordered if top is None else ordered[:top]
    out.extend(ClusterView(cluster, verbose=verbose) for cluster in shown)
    if len(shown) < len(ordered):
        out.append(Text(f"… and {count(len(ordered) - len(shown), 'more cluster')}: {MORE_HINT}"))
    if not result.clusters:
        out.append(Text(f"No near-duplicates found among {count(result.summary.documents, 'document')}."))
    if result.skipped:
        out.append(_skipped_table(result.skipped, result.summary.skipped, verbose=verbose))
    if result.clusters:
        out.append(Group(*_closing(result, len(shown), written or {})))
    return out


class Trimmed:
    """A renderable printed without the spaces rich pads lines with (table cells, wrapped
    notes): no line of dedup's output ends in spaces."""

    def __init__(self, inner: RenderableType) -> None:
        self.inner = inner

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in console.render_lines(self.inner, options, pad=False, new_lines=False):
            while line and not line[-1].control and not line[-1].text.rstrip(" "):
                line.pop()
            if line and not line[-1].control:
                last = line[-1]
                line[-1] = Segment(last.text.rstrip(" "), last.style)
            yield from line
            yield Segment.line()


def render(
    result: ScanResult,
    console: Console,
    *,
    verbose: bool = False,
    top: int | None = DEFAULT_TOP,
    written: Mapping[str, str] | None = None,
) -> None:
    """Print the report of a scan to ``console``.

    Args:
        result: the scan to show.
        console: where to print (the CLI passes stdout's console; tests a StringIO one).
        verbose: list every skipped file and show each member's penalty.
        top: how many clusters to show (largest saving first); None for all.
        written: the files this run wrote, by option (see ``renderables``).
    """
    for i, renderable in enumerate(renderables(result, verbose=verbose, top=top, written=written)):
        if i:
            console.print()  # a blank line between sections
        console.print(Trimmed(renderable))
