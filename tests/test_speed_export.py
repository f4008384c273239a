"""The decision table's rows written directly as JSON (``decisions.json_rows``) are the exact
text json's encoder makes of the documented rows (``decisions.exported_rows``), for any
names, records, roots, clusters and skipped entries; and the files that hold them (the scan
export's ``"documents"``, ``--decisions`` as .json and .jsonl) are what they were."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.decisions import exported_rows, json_rows, write_decisions
from dedup.errors import SkipReason
from dedup.export import write_export
from dedup.records import Cluster, DocKind, DocTable, Locator, Member, ScanResult, Skipped, Summary

_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode

# Names as the walk gives them: any text, surrogate escapes of bytes that are not UTF-8,
# lone surrogates (a JSON id), quotes, backslashes and the line breaks JSON leaves raw.
_names = st.text(
    st.characters()  # no surrogates: the few below stand for them
    | st.sampled_from(["\u2028", "\u0085", '"', "\\", "\n", "\udce9", "\udcff", "\ud800", "é", "跳", "/"]),
    min_size=1,
    max_size=12,
)

_KINDS: tuple[DocKind, ...] = ("text", "html", "markdown", "jsonl")


@st.composite
def _results(draw: st.DrawFn) -> ScanResult:
    roots = draw(st.lists(st.sampled_from(["scraped", "other/dir", "-", "/abs/root", "."]), min_size=1, max_size=3,
                          unique=True))  # fmt: skip
    table = DocTable()
    n = draw(st.integers(1, 8))
    ids: list[str] = []
    for i in range(n):
        rel = draw(_names)
        record = draw(st.none() | st.integers(1, 10**6))
        record_id = draw(st.none() | _names) if record is not None else None
        doc_id = f"{rel}:{record_id or record}" if record is not None else f"{rel}#{i}"
        path = draw(st.sampled_from([f"{roots[0]}/{rel}", rel, "/tmp/dedup-stdin-1/stdin.txt", "/abs/root/x"]))
        kind = draw(st.sampled_from(_KINDS))
        table.append(doc_id, rel, kind, "utf-8", draw(st.integers(0, 10**12)), 5, 5, Locator(path), record, record_id,
                     draw(st.integers(0, 2**63 - 1)))  # fmt: skip
        ids.append(doc_id)
    clusters = []
    if n >= 2:
        members = []
        for pos, doc_id in enumerate(ids[:3]):
            decision = "keep" if pos == 0 else draw(st.sampled_from(["drop", "superset"]))
            rule = "" if pos == 0 else draw(st.sampled_from(["jaccard", "contains-cleanest", "chain"]))
            members.append(Member(doc_id, doc_id, 5, 5, pos == 0, 1.0, 1.0, 0.0, (), rule=rule, decision=decision))  # type: ignore[arg-type]
        clusters.append(Cluster(draw(st.integers(1, 10**6)), tuple(members)))
    skipped = tuple(
        Skipped(draw(_names), draw(st.sampled_from(list(SkipReason))), draw(_names)) for _ in range(draw(st.integers(0, 2)))
    )
    return ScanResult(tuple(roots), {}, Summary(n, n, len(skipped), len(clusters), 0, 0, 0, 0), tuple(clusters),
                      skipped, docs=table)  # fmt: skip


@given(_results())
@settings(max_examples=100, deadline=None)
def test_json_rows_are_the_encoded_exported_rows(result: ScanResult) -> None:
    assert list(json_rows(result)) == [_ENCODE(row) for row in exported_rows(result)]


def _one_line(text: str) -> str:
    return text.replace("\u0085", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


@given(_results())
@settings(max_examples=40, deadline=None)
def test_files_holding_the_table_are_the_encoded_rows(result: ScanResult) -> None:
    rows = [_one_line(_ENCODE(row)) for row in exported_rows(result)]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        write_export(result, out / "scan.json", version="t")
        write_decisions(result, out / "d.json")
        write_decisions(result, out / "d.jsonl")
        export = (out / "scan.json").read_bytes().decode("utf-8").split("\n")
        table = (out / "d.json").read_bytes().decode("utf-8")
        lines = (out / "d.jsonl").read_bytes().decode("utf-8")
        assert sorted(os.listdir(out)) == ["d.json", "d.jsonl", "scan.json"]
    at = export.index('  "documents": [') + 1
    assert export[at : at + len(rows)] == [f"    {r}," for r in rows[:-1]] + [f"    {rows[-1]}"]
    assert lines == "".join(r + "\n" for r in rows)
    # --decisions .json escapes nothing beyond the encoder (as before): one row a line.
    assert table == '{"schema": "dedup.decisions/1", "documents": [\n' + ",\n".join(
        _ENCODE(row) for row in exported_rows(result)
    ) + "\n]}\n"
    assert json.loads(table)["documents"] == json.loads("[" + ",".join(_ENCODE(r) for r in exported_rows(result)) + "]")
