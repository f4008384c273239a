"""The terminal report: exact text, and nothing from disk reaching the terminal raw."""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from dedup.errors import SkipReason
from dedup.records import Cluster, Member, ScanResult, Skipped, Summary
from dedup.report import ClusterView, display, human_bytes, percent, render, renderables

ESC_NAME = "evil\x1b[31mred\x1b[0m.html"
BIDI_NAME = "invoice\u202egpj.exe"
C1_NAME = "c1\x9b2Jname.txt"


def member(
    doc_id: str,
    *,
    words: int,
    size: int,
    cleanest: bool = False,
    jaccard: float = 1.0,
    containment: float = 1.0,
    penalty: float = 0.0,
    reasons: tuple[str, ...] = (),
    rel: str | None = None,
    record: int | None = None,
) -> Member:
    return Member(
        doc_id=doc_id,
        rel=doc_id if rel is None else rel,
        words=words,
        size=size,
        cleanest=cleanest,
        jaccard=jaccard,
        containment=containment,
        penalty=penalty,
        reasons=reasons,
        record=record,
    )


def make_result(
    clusters: tuple[Cluster, ...],
    skipped: tuple[Skipped, ...] = (),
    *,
    documents: int = 9,
    roots: tuple[str, ...] = ("scraped",),
) -> ScanResult:
    dups = [m for c in clusters for m in c.members if not m.cleanest]
    return ScanResult(
        roots=roots,
        params={"shingle_size": 5},
        summary=Summary(
            files=7,
            documents=documents,
            skipped=len(skipped),
            clusters=len(clusters),
            duplicates=len(dups),
            bytes_saved=sum(m.size for m in dups),
            candidates=12,
            matches=3,
        ),
        clusters=clusters,
        skipped=skipped,
    )


def small_result() -> ScanResult:
    """Two clusters (files, and JSON Lines records) and two skipped files."""
    c1 = Cluster(
        1,
        (
            member(
                "news/2024/storm.html",
                words=612,
                size=6975,
                cleanest=True,
                penalty=0.12,
                reasons=("least boilerplate", "longest text"),
            ),
            member(
                "mirror/[bold]storm[/bold].html",
                words=1204,
                size=14230,
                jaccard=0.5312,
                containment=0.998,
                penalty=0.47,
                reasons=("wrapped in page chrome",),
            ),
        ),
    )
    c2 = Cluster(
        2,
        (
            member(
                "rec-17", rel="dump/feed.jsonl", record=3, words=120, size=800, cleanest=True, reasons=("cleanest",)
            ),
            member(
                "dump/feed.jsonl:9",
                rel="dump/feed.jsonl",
                record=9,
                words=118,
                size=790,
                jaccard=0.9,
                containment=0.95,
                penalty=0.1,
                reasons=("truncated",),
            ),
        ),
    )
    skipped = (
        Skipped("img/logo.png", SkipReason.BINARY, "NUL byte at offset 12"),
        Skipped("notes/empty.txt", SkipReason.EMPTY, "no text after extraction"),
    )
    return make_result((c1, c2), skipped)


def rendered(result: ScanResult, *, width: int = 100, verbose: bool = False) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    render(result, console, verbose=verbose)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return "".join(line.rstrip() + "\n" for line in text.splitlines())


EXPECTED_SMALL = """\
╭─ dedup scan ───────────────────────────────╮
│ Roots                scraped               │
│ Files read           7                     │
│ Documents            9                     │
│ Skipped              2 (binary 1, empty 1) │
│ Clusters             2                     │
│ Duplicate documents  2                     │
│ Dropping them saves  15.0 KB               │
│ Candidate pairs      12                    │
│ Verified pairs       3                     │
╰────────────────────────────────────────────╯

Cluster 1 · 2 copies · dropping saves 14.2 KB
            copy                            words  Jaccard  containment
───────────────────────────────────────────────────────────────────────
★ cleanest  news/2024/storm.html              612        —            —
            least boilerplate; longest text
            mirror/[bold]storm[/bold].html  1,204    53.1%        99.8%
            wrapped in page chrome

Cluster 2 · 2 copies · dropping saves 790 B
            copy               words  Jaccard  containment
──────────────────────────────────────────────────────────
★ cleanest  rec-17               120        —            —
            dump/feed.jsonl:3
            cleanest
            dump/feed.jsonl:9    118    90.0%        95.0%
            truncated

Skipped
file              reason  detail
───────────────────────────────────────────────────
img/logo.png      binary  NUL byte at offset 12
notes/empty.txt   empty   no text after extraction

In short: 9 documents, 2 clusters (every cluster shown), 2 duplicates; dropping them saves 15.0 KB.
Next:
  --output scan.json     every cluster with its evidence (also .jsonl, .csv)
  --html report.html     a page to search the clusters and compare each copy with the kept one
  dedup apply scan.json  quarantine, link or delete the duplicates (shows the plan first)
  dedup explain A B      why two documents are, or are not, copies
"""


# At 60 columns the first cluster's ids do not fit beside the full headers: the compact
# layout (a one-character mark, short headers) keeps them whole, with the numbers beside them.
EXPECTED_SMALL_60 = """\
╭─ dedup scan ───────────────────────────────╮
│ Roots                scraped               │
│ Files read           7                     │
│ Documents            9                     │
│ Skipped              2 (binary 1, empty 1) │
│ Clusters             2                     │
│ Duplicate documents  2                     │
│ Dropping them saves  15.0 KB               │
│ Candidate pairs      12                    │
│ Verified pairs       3                     │
╰────────────────────────────────────────────╯

Cluster 1 · 2 copies · dropping saves 14.2 KB
   copy                            words  Jacc.  cont.
──────────────────────────────────────────────────────
★  news/2024/storm.html              612      —      —
   least boilerplate; longest text
   mirror/[bold]storm[/bold].html  1,204  53.1%  99.8%
   wrapped in page chrome

Cluster 2 · 2 copies · dropping saves 790 B
            copy               words  Jaccard  containment
──────────────────────────────────────────────────────────
★ cleanest  rec-17               120        —            —
            dump/feed.jsonl:3
            cleanest
            dump/feed.jsonl:9    118    90.0%        95.0%
            truncated

Skipped
file              reason  detail
───────────────────────────────────────────────────
img/logo.png      binary  NUL byte at offset 12
notes/empty.txt   empty   no text after extraction

In short: 9 documents, 2 clusters (every cluster shown), 2
duplicates; dropping them saves 15.0 KB.
Next:
  --output scan.json     every cluster with its evidence
                         (also .jsonl, .csv)
  --html report.html     a page to search the clusters and
                         compare each copy with the kept one
  dedup apply scan.json  quarantine, link or delete the
                         duplicates (shows the plan first)
  dedup explain A B      why two documents are, or are not,
                         copies
"""


def test_complete_output_of_a_small_result() -> None:
    assert rendered(small_result()) == EXPECTED_SMALL


def test_complete_output_at_width_60_is_compact() -> None:
    assert rendered(small_result(), width=60) == EXPECTED_SMALL_60


MEMBER_ROW = re.compile(r"(\S+) +[\d,]+ +(?:—|[\d.]+%) +(?:—|[\d.]+%)")


def copy_column(out: str) -> list[list[str]]:
    """The "copy" cells of a one-cluster table, grouped per member (ids without spaces).

    Each group starts with the id piece on the member's row (the one with the numbers),
    followed by the lines under it: the rest of a folded id, then the reasons.
    """
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if " copy " in line and "words" in line)
    start = lines[header].index(" copy ") + 1
    members: list[list[str]] = []
    for line in lines[header + 2 :]:
        if not line.strip():
            break
        cell = line[start:]
        row = MEMBER_ROW.fullmatch(cell)
        if row:
            members.append([row.group(1)])
        else:
            assert line[:start].strip() == ""  # nothing but the copy column on a line under a member
            members[-1].append(cell.strip())
    return members


@pytest.mark.parametrize("width", [80, 100])
def test_long_ids_fold_and_fit(width: int) -> None:
    long_id = "archive/" + "very-long-folder-name/" * 6 + "article.html"
    c = Cluster(
        4,
        (
            member(long_id, words=10, size=100, cleanest=True, reasons=("least boilerplate", "longest text")),
            member("b/[x].html", words=9, size=90, jaccard=0.8, containment=0.9, reasons=("shorter",)),
        ),
    )
    out = rendered(make_result((c,)), width=width)
    assert max(len(line) for line in out.splitlines()) <= width
    members = copy_column(out)
    assert len(members[0]) > 2  # the long id is folded over several lines ...
    # ... never cut off, with each member's reasons on the line after its id
    assert [("".join(cells[:-1]), cells[-1]) for cells in members] == [
        (long_id, "least boilerplate; longest text"),
        ("b/[x].html", "shorter"),
    ]
    assert "Cluster 4 · 2 copies" in out


def test_cleanest_first_then_others_with_percentages() -> None:
    lines = rendered(small_result()).splitlines()
    first = next(i for i, line in enumerate(lines) if "★ cleanest" in line)
    assert lines[first].split() == ["★", "cleanest", "news/2024/storm.html", "612", "—", "—"]  # no self-similarity
    column = lines[first].index("news/")
    assert lines[first + 1] == " " * column + "least boilerplate; longest text"  # reasons under the id
    other = next(i for i, line in enumerate(lines) if "mirror/" in line)
    assert other > first
    assert lines[other].split() == ["mirror/[bold]storm[/bold].html", "1,204", "53.1%", "99.8%"]
    assert lines[other + 1] == " " * column + "wrapped in page chrome"  # under its member, in the copy column


def test_verbose_shows_penalties() -> None:
    out = rendered(small_result(), width=200, verbose=True)
    assert "penalty 0.12; least boilerplate" in out
    assert "penalty 0.47; wrapped in page chrome" in out
    assert "penalty" not in rendered(small_result())


def test_summary_counts_skipped_per_reason() -> None:
    skipped = (
        Skipped("a.bin", SkipReason.BINARY, "x"),
        Skipped("b.bin", SkipReason.BINARY, "x"),
        Skipped("c.txt", SkipReason.EMPTY, "x"),
        Skipped("d.txt", SkipReason.TOO_LARGE, "x"),
    )
    out = rendered(make_result(small_result().clusters, skipped))
    assert "│ Skipped              4 (binary 2, empty 1, too-large 1) │" in out


def test_markup_in_names_prints_literally() -> None:
    c = Cluster(
        1,
        (
            member(
                "[bold]x[/bold].txt", words=5, size=50, cleanest=True, reasons=("quotes [link=http://x]here[/link]",)
            ),
            member("[red]y.txt", words=5, size=50, jaccard=0.9, containment=0.9, reasons=(":smile: [/]",)),
        ),
    )
    skipped = (Skipped("[i]z[/i].png", SkipReason.BINARY, "magic [b]PNG[/b]"),)
    out = rendered(make_result((c,), skipped, roots=("[blue]root",)), width=200)
    for literal in ("[bold]x[/bold].txt", "[red]y.txt", "[link=http://x]here[/link]", ":smile: [/]"):
        assert literal in out
    assert "[i]z[/i].png" in out and "magic [b]PNG[/b]" in out and "[blue]root" in out


def test_controls_and_bidi_never_reach_the_terminal() -> None:
    c = Cluster(
        1,
        (
            member(ESC_NAME, words=5, size=50, cleanest=True, reasons=("title has \x1b]0;pwned\x07",)),
            member(BIDI_NAME, words=5, size=50, jaccard=0.9, containment=0.9, reasons=("bidi \u2066x\u2069",)),
            member(C1_NAME, words=5, size=50, jaccard=0.9, containment=0.9, reasons=("del \x7f",)),
        ),
    )
    skipped = (Skipped("bell\x07\x08.txt", SkipReason.EXTRACT_FAILED, "parser said \x1b[2J\r\nagain"),)
    out = rendered(make_result((c,), skipped, roots=("root\x1b[1m",)), width=200)
    assert not any(unicodedata.category(ch) == "Cc" and ch != "\n" for ch in out)
    for bad in ("\x1b", "\x9b", "\x07", "\x08", "\x7f", "\r", "\u202e", "\u2066", "\u2069"):
        assert bad not in out
    for visible in (
        "evil\\x1b[31mred\\x1b[0m.html",
        "invoice\\u202egpj.exe",
        "c1\\u009b2Jname.txt",
        "title has \\x1b]0;pwned\\x07",
        "bidi \\u2066x\\u2069",
        "del \\x7f",
        "bell\\x07\\x08.txt",
        "parser said \\x1b[2J⏎again",
        "root\\x1b[1m",
    ):
        assert visible in out


def test_surrogate_names_print_as_replacement_characters() -> None:
    name = "caf\udce9-\udcff.txt"  # b"caf\xe9-\xff.txt" decoded with surrogateescape
    c = Cluster(
        1,
        (
            member(name, words=5, size=50, cleanest=True),
            member("b.txt", words=5, size=50, jaccard=0.9, containment=0.9),
        ),
    )
    skipped = (Skipped("bad\udc80.bin", SkipReason.UNREADABLE, "Permission denied"),)
    out = rendered(make_result((c,), skipped), width=200)
    out.encode("utf-8")  # nothing left that a strict stdout would refuse
    assert "caf\\xe9-\\xff.txt" in out  # as the keep and drop lists write it
    assert "bad\\x80.bin" in out


def test_zero_clusters() -> None:
    result = make_result((), (Skipped("a.bin", SkipReason.BINARY, "x"),), documents=1234)
    out = rendered(result)
    assert "No near-duplicates found among 1,234 documents." in out.splitlines()
    assert "Cluster 1" not in out
    assert "│ Clusters             0" in out
    assert "│ Dropping them saves  0 B" in out


def test_nothing_skipped_has_no_skipped_table() -> None:
    result = make_result(small_result().clusters)
    out = rendered(result)
    assert "│ Skipped              0" in out
    assert "\nSkipped" not in out


def test_many_skipped_are_cut_unless_verbose() -> None:
    skipped = tuple(Skipped(f"bin/file{i:02d}.png", SkipReason.BINARY, "NUL byte") for i in range(25))
    result = make_result((), skipped)
    out = rendered(result)
    assert "bin/file19.png" in out and "bin/file20.png" not in out
    assert out.splitlines()[-1] == "… and 5 more (see --output)"
    full = rendered(result, verbose=True)
    assert "bin/file24.png" in full and "more (see --output)" not in full


def test_renderables_in_print_order() -> None:
    parts = renderables(small_result())
    assert len(parts) == 5  # summary, two clusters, skipped, the closing totals and next steps


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain.txt", "plain.txt"),
        ("a\tb", "a b"),
        ("a\nb", "a⏎b"),
        ("a\r\nb", "a⏎b"),
        ("a\rb", "a\\x0db"),
        ("\x00\x1b\x7f\x80\x9f", "\\x00\\x1b\\x7f\\x80\\x9f"),
        ("\u202a\u202e\u2066\u2069", "\\u202a\\u202e\\u2066\\u2069"),
        ("line\u2028sep", "line\\u2028sep"),
        ("x\udcff", "x\ufffd"),
        ("x\ud800y", "x\ufffdy"),
        ("\udcc3\udca9", "é"),  # escaped bytes that are UTF-8 decode back, as click shows them
        ("[bold]é 中文[/bold]", "[bold]é 中文[/bold]"),
    ],
)
def test_display(raw: str, shown: str) -> None:
    text = display(raw)
    assert text.plain == shown
    assert not text.spans


@given(st.text(st.characters(codec=None, exclude_categories=())))
def test_display_leaves_only_printable_characters(s: str) -> None:
    plain = display(s).plain
    for ch in plain:
        assert unicodedata.category(ch) not in ("Cc", "Cs")
        assert not ("\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069")
    plain.encode("utf-8")


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0 B"), (999, "999 B"), (1000, "1.0 KB"), (3449, "3.4 KB"), (999_960, "1.0 MB"), (2_500_000_000, "2.5 GB")],
)
def test_human_bytes(n: int, text: str) -> None:
    assert human_bytes(n) == text


@pytest.mark.parametrize(("x", "text"), [(0.5312, "53.1%"), (0.998, "99.8%"), (1.0, "100.0%"), (0.9996, ">99.9%")])
def test_percent(x: float, text: str) -> None:
    assert percent(x) == text


# --- a report that scales (issue 16): ordering, --top, both summaries, widths -----------------


def pair_cluster(cid: int, dup_size: int, name: str = "") -> Cluster:
    """A cleanest copy and one duplicate of ``dup_size`` bytes."""
    stem = name or f"site{cid % 7}/article-{cid:05d}"
    return Cluster(
        cid,
        (
            member(f"{stem}.txt", words=300, size=2000, cleanest=True, reasons=("whole shared text",)),
            member(f"{stem}.html", words=420, size=dup_size, jaccard=0.81, containment=0.99, reasons=("chrome",)),
        ),
    )


def headers(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("Cluster ")]


def test_clusters_in_order_of_bytes_saved_ids_kept() -> None:
    clusters = tuple(pair_cluster(cid, size) for cid, size in [(1, 500), (2, 9000), (3, 500), (4, 12000), (5, 3000)])
    out = rendered(make_result(clusters))
    assert headers(out) == [
        "Cluster 4 · 2 copies · dropping saves 12.0 KB",
        "Cluster 2 · 2 copies · dropping saves 9.0 KB",
        "Cluster 5 · 2 copies · dropping saves 3.0 KB",
        "Cluster 1 · 2 copies · dropping saves 500 B",  # a tie keeps the ids' order
        "Cluster 3 · 2 copies · dropping saves 500 B",
    ]


def test_five_clusters_all_shown_with_both_summaries() -> None:
    clusters = tuple(pair_cluster(cid, 1000 * cid) for cid in range(1, 6))
    out = rendered(make_result(clusters, documents=10))
    lines = out.splitlines()
    assert lines[0].startswith("╭─ dedup scan")
    assert len(headers(out)) == 5 and "more cluster" not in out
    assert lines[-6:] == [
        "In short: 10 documents, 5 clusters (every cluster shown), 5 duplicates; dropping them saves 15.0 KB.",
        "Next:",
        "  --output scan.json     every cluster with its evidence (also .jsonl, .csv)",
        "  --html report.html     a page to search the clusters and compare each copy with the kept one",
        "  dedup apply scan.json  quarantine, link or delete the duplicates (shows the plan first)",
        "  dedup explain A B      why two documents are, or are not, copies",
    ]


def test_five_thousand_clusters_show_the_top_twenty() -> None:
    clusters = tuple(pair_cluster(cid, 1000 + (cid * 7919) % 5003) for cid in range(1, 5001))
    result = make_result(clusters, documents=10_000)
    out = rendered(result)
    lines = out.splitlines()
    assert lines[0].startswith("╭─ dedup scan") and "│ Clusters             5,000" in out
    shown = headers(out)
    assert len(shown) == 20
    saved = {c.cluster_id: sum(m.size for m in c.members if not m.cleanest) for c in clusters}
    best = sorted(saved, key=lambda cid: (-saved[cid], cid))[:20]
    assert [int(h.split()[1]) for h in shown] == best
    assert "… and 4,980 more clusters: see --output / --html" in lines
    total = human_bytes(sum(saved.values()))
    assert lines[-8:] == [
        "In short: 10,000 documents, 5,000 clusters (the 20 largest shown), 5,000 duplicates; dropping them",
        f"saves {total}.",
        "Next:",
        "  --output scan.json     every cluster with its evidence (also .jsonl, .csv)",
        "  --html report.html     a page to search the clusters and compare each copy with the kept one",
        "  dedup apply scan.json  quarantine, link or delete the duplicates (shows the plan first)",
        "  dedup explain A B      why two documents are, or are not, copies",
        "  --top all              every cluster here",
    ]
    assert len(lines) < 200  # a screenful or two, not 5,000 tables
    assert len(headers(rendered_top(result, 3))) == 3
    every = renderables(result, top=None)
    assert sum(isinstance(part, ClusterView) for part in every) == 5000
    assert not any(isinstance(part, Text) and "more cluster" in part.plain for part in every)


def rendered_top(result: ScanResult, top: int | None, width: int = 100) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    render(result, console, top=top)
    return console.file.getvalue()  # type: ignore[attr-defined,no-any-return]


def test_top_zero_keeps_the_summaries() -> None:
    out = rendered_top(make_result(small_result().clusters), 0)
    assert headers(out) == []
    assert "… and 2 more clusters: see --output / --html" in out
    assert "In short: 9 documents, 2 clusters (none shown)" in out


LONG = "archive/2024/05/regional-news/the-harbour-council-votes-on-the-new-ferry-timetable.html"


@pytest.mark.parametrize("width", [60, 100, 200])
def test_names_whole_and_numbers_beside_them(width: int) -> None:
    names = ["site1/a.txt", "mirror/2024/05/ferry-council.html", "b.md"]
    c = Cluster(
        1,
        (
            member(names[0], words=612, size=10, cleanest=True, reasons=("whole shared text " * 12,)),
            member(names[1], words=1204, size=20, jaccard=0.5, containment=0.99, reasons=("chrome " * 40,)),
            member(names[2], words=7, size=30, jaccard=0.9, containment=0.9),
        ),
    )
    out = rendered(make_result((c,)), width=width)
    assert max(len(line) for line in out.splitlines()) <= width
    rows = [next(line for line in out.splitlines() if name in line) for name in names]
    # Every id whole on its member's line, the numbers right after the longest id: the rows
    # are as wide as the longest id and the number columns, whatever the terminal's width.
    longest = max(len(n) for n in names)
    for row, name in zip(rows, names, strict=True):
        assert re.search(re.escape(name) + r" +[\d,]+ +(—|[\d.]+%) +(—|[\d.]+%)$", row), row
        assert len(row) <= 12 + longest + 2 + 5 + 2 + 7 + 2 + 11
    assert len({len(row) for row in rows}) == 1
    # Notes wrap across the width (at most 100 columns), not inside the copy column.
    note_lines = [line.strip() for line in out.splitlines() if "chrome chrome" in line]
    assert min(len(line) for line in note_lines[:-1]) > min(width, 100) - 20


@pytest.mark.parametrize("width", [60, 100, 200])
def test_a_name_longer_than_the_terminal_folds_at_the_full_room(width: int) -> None:
    c = Cluster(1, (member(LONG, words=5, size=5, cleanest=True), member("x.txt", words=5, size=5, jaccard=0.9)))
    out = rendered(make_result((c,)), width=width)
    assert max(len(line) for line in out.splitlines()) <= width
    pieces = copy_column(out)[0]
    assert "".join(pieces) == LONG
    if width >= 3 + len(LONG) + 26:
        assert pieces == [LONG]
    else:  # folded into pieces as wide as the room beside the compact number columns
        assert len(pieces[0]) >= width - 26 > 18


def test_cli_top_option(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from dedup.cli import main

    words = [f"w{i}" for i in range(400)]
    for n in range(3):  # three articles, each with a copy wrapped in a little chrome
        text = " ".join(f"{w}a{n}" for w in words[: 100 + 60 * n])
        (tmp_path / f"{n}.txt").write_text(text + "\n", encoding="utf-8")
        (tmp_path / f"{n}-copy.txt").write_text("Home | News | Sport\n" + text + "\nFooter\n", encoding="utf-8")
    runner = CliRunner()
    args = ["scan", str(tmp_path), "--no-cache", "-j", "1"]
    one = runner.invoke(main, [*args, "--top", "1"], env={"COLUMNS": "100"}, catch_exceptions=False)
    assert one.exit_code == 0
    assert headers(one.stdout) == [headers(one.stdout)[0]] and "2-copy.txt" in one.stdout  # the largest
    assert "… and 2 more clusters: see --output / --html" in one.stdout
    every = runner.invoke(main, [*args, "--top", "all"], env={"COLUMNS": "100"}, catch_exceptions=False)
    assert len(headers(every.stdout)) == 3 and "more cluster" not in every.stdout
    bad = runner.invoke(main, [*args, "--top", "many"])
    assert bad.exit_code == 2 and "'many' is not a number of clusters or 'all'" in bad.stderr
