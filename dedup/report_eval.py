"""EvalReport -> rich renderables: what ``dedup eval`` prints.

Apart from :mod:`dedup.report` because only ``dedup eval`` needs it; it formats through the
same :func:`~dedup.report.display` sanitising as the scan report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich import box
from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .lists import escape_name
from .report import Trimmed, display, display_name, percent
from .wording import count

if TYPE_CHECKING:  # the evaluation types only: the module is imported when `dedup eval` runs
    from .evaluate import EvalReport, PairMistake

__all__ = ["eval_renderables", "render_eval"]


def _mistakes_table(title: str, mistakes: Sequence[PairMistake]) -> Table:
    """The pairs, each document on its own line of one cell: two names side by side left the
    numbers too little room and were folded into unreadable pieces at 80 columns."""
    table = Table(
        title=Text(title, style="bold"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=(0, 2, 0, 0),
    )
    longest = max((cell_len(escape_name(x)) for m in mistakes for x in (m.a, m.b)), default=8)
    table.add_column(Text("documents"), overflow="fold", min_width=min(longest, 40))
    table.add_column(Text("kinds"), overflow="fold")
    table.add_column(Text("Jaccard"), justify="right", no_wrap=True)
    table.add_column(Text("contain."), justify="right", no_wrap=True)
    both_ways = any(m.rule is not None for m in mistakes)
    if both_ways:  # the evidence: each document's share inside the other, and the rule that joins them
        table.add_column(Text("a in b"), justify="right", no_wrap=True)
        table.add_column(Text("b in a"), justify="right", no_wrap=True)
        table.add_column(Text("rule"), no_wrap=True)
    for m in mistakes:
        kinds = Text("\n").join([display(k or "?") for k in (m.kind_a, m.kind_b)])
        jac = percent(m.jaccard) if m.jaccard is not None else "—"
        con = percent(m.containment) if m.containment is not None else "—"
        names = Text("\n").join([display_name(m.a), display_name(m.b)])
        cells = [names, kinds, Text(jac), Text(con)]
        if both_ways:
            cells += [Text(percent(x) if x is not None else "—") for x in (m.a_in_b, m.b_in_a)]
            cells.append(Text(m.rule or "—"))
        table.add_row(*cells)
    return table


def eval_renderables(scores: EvalReport, *, loss: tuple[int, int] | None = None) -> list[RenderableType]:
    """The evaluation report: headline scores, recall per kind, the worst mistakes."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    rows = [
        ("Documents", f"{scores.documents:,}"),
        (
            "Pair precision",
            f"{scores.precision:.4f}  ({scores.true_pairs:,} of {count(scores.predicted_pairs, 'predicted pair')})",
        ),
        ("Pair recall", f"{scores.recall:.4f}  ({scores.true_pairs:,} of {count(scores.truth_pairs, 'true pair')})"),
        ("Pair F1", f"{scores.f1:.4f}"),
        ("Adjusted Rand index", f"{scores.ari:.4f}"),
    ]
    accuracy = scores.cleanest_accuracy
    if accuracy is not None:
        rows.append(
            (
                "Cleanest copy",
                f"{accuracy:.4f}  ({scores.cleanest_correct:,} of {count(scores.cleanest_evaluated, 'labelled cluster')})",
            )
        )
    if scores.cleanest_similarity is not None:
        rows.append(("Pick vs labelled", f"{scores.cleanest_similarity:.4f} mean word 5-gram Jaccard"))
    if scores.cleanest_char_similarity is not None:
        rows.append(("", f"{scores.cleanest_char_similarity:.4f} mean character 12-gram Jaccard"))
    if scores.labelled_picked is not None:
        rows.append(
            (
                "Labelled copy picked",
                f"{scores.labelled_picked:.4f}  (of {count(scores.cleanest_found, 'cluster')} found)",
            )
        )
    if loss is not None:
        share = loss[1] / loss[0] if loss[0] else 0.0
        rows.append(("Candidates lose", f"{loss[1]:,} of {count(loss[0], 'verified pair')} ({share:.2%}) vs all pairs"))
    if scores.unknown_truth_ids:
        rows.append(("Not scanned", f"{count(scores.unknown_truth_ids, 'id')} of the truth"))
    for label, value in rows:
        grid.add_row(Text(label), Text(value))
    out: list[RenderableType] = [
        Panel(grid, title=Text("dedup eval"), title_align="left", expand=False, box=box.ROUNDED)
    ]
    if scores.recall_by_kind:
        kinds = Table(
            title=Text("Recall by kind of copy", style="bold"),
            title_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
        )
        kinds.add_column(Text("kind"))
        kinds.add_column(Text("pairs"), justify="right")
        kinds.add_column(Text("found"), justify="right")
        kinds.add_column(Text("recall"), justify="right")
        for k in scores.recall_by_kind:
            kinds.add_row(display(k.kind), Text(f"{k.pairs:,}"), Text(f"{k.found:,}"), Text(f"{k.recall:.3f}"))
        out.append(kinds)
    if scores.false_merges:
        out.append(_mistakes_table("Worst false merges", scores.false_merges))
    if scores.missed_pairs:
        out.append(_mistakes_table("Missed pairs, most similar first", scores.missed_pairs))
    return out


def render_eval(scores: EvalReport, console: Console, *, loss: tuple[int, int] | None = None) -> None:
    """Print the evaluation report to ``console``."""
    for i, renderable in enumerate(eval_renderables(scores, loss=loss)):
        if i:
            console.print()
        console.print(Trimmed(renderable))
