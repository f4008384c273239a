"""The terminal report: exact text, and nothing from disk reaching the terminal raw."""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from dedup.errors import SkipReason
from dedup.records import Cluster, Member, ScanResult, Skipped, Summary
from dedup.report import display, human_bytes, percent, render, renderables

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

Cluster 1 · 2 copies
            copy                             words  Jaccard  containment
─────────────────────────────────────────────────────────────────────────
★ cleanest  news/2024/storm.html               612        —            —
            least boilerplate; longest text
            mirror/[bold]storm[/bold].html   1,204    53.1%        99.8%
            wrapped in page chrome

Cluster 2 · 2 copies
            copy               words  Jaccard  containment
───────────────────────────────────────────────────────────
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
"""


# Without a notes column the small tables fit in 80 columns, so nothing folds here; folding
# at 80 columns is covered by test_long_ids_fold_and_fit.
EXPECTED_SMALL_80 = """\
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

Cluster 1 · 2 copies
            copy                             words  Jaccard  containment
─────────────────────────────────────────────────────────────────────────
★ cleanest  news/2024/storm.html               612        —            —
            least boilerplate; longest text
            mirror/[bold]storm[/bold].html   1,204    53.1%        99.8%
            wrapped in page chrome

Cluster 2 · 2 copies
            copy               words  Jaccard  containment
───────────────────────────────────────────────────────────
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
"""


def test_complete_output_of_a_small_result() -> None:
    assert rendered(small_result()) == EXPECTED_SMALL


def test_complete_output_at_width_80_folds_ids() -> None:
    assert rendered(small_result(), width=80) == EXPECTED_SMALL_80


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
        "c1\\x9b2Jname.txt",
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
    assert "caf\ufffd-\ufffd.txt" in out
    assert "bad\ufffd.bin" in out


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
    assert len(parts) == 4  # summary, two clusters, skipped


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
