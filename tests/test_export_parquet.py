"""The Parquet export and the decision table in every format, against the documented schema,
loaded by pandas (and DuckDB) where installed, else by pyarrow itself."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import OTHERS, PLAIN, SAMPLES, WRAPPED

from dedup.cli import main
from dedup.decisions import COLUMNS
from dedup.export import CSV_COLUMNS

pa = pytest.importorskip("pyarrow", reason="the Parquet export needs pyarrow: pip install 'dedup[parquet]'")
pq = pytest.importorskip("pyarrow.parquet")

MEMBER_TYPES = {
    **dict.fromkeys(CSV_COLUMNS, "string"),
    **dict.fromkeys(("cluster", "record", "words", "bytes", "own_words", "boilerplate_words"), "int64"),
    **dict.fromkeys(("jaccard", "containment", "penalty", "in_cleanest"), "double"),
    "cleanest": "bool",
}
DECISION_TYPES = {**dict.fromkeys(COLUMNS, "string"), **dict.fromkeys(("record", "cluster", "bytes"), "int64")}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    shutil.copytree(SAMPLES, root)
    (root / "empty.txt").write_bytes(b"")
    text = (SAMPLES / PLAIN).read_text(encoding="utf-8")
    rows = [json.dumps({"id": f"r{i}", "text": t}) for i, t in enumerate([text, "a short unique record", text])]
    (root / "recs.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    with open(os.path.join(os.fsencode(root), b"odd-\xff.txt"), "wb") as f:
        f.write((SAMPLES / PLAIN).read_bytes())
    return root


def scan(root: Path, *args: str) -> None:
    result = CliRunner().invoke(main, ["scan", str(root), "-q", "--no-cache", *args])
    assert result.exit_code == 0, result.output


def records(path: Path) -> list[dict[str, Any]]:
    """The rows, read by pandas if it is installed (what users load Parquet with), else pyarrow."""
    try:
        import pandas as pd
    except ImportError:
        return list(pq.read_table(path).to_pylist())
    frame = pd.read_parquet(path)
    return [
        {k: (None if v is None or (isinstance(v, float) and v != v) else v) for k, v in r.items()}
        for r in frame.to_dict("records")
    ]


def test_member_rows_in_parquet_have_the_documented_schema(tree: Path, tmp_path: Path) -> None:
    scan(tree, "-o", str(tmp_path / "m.parquet"))
    scan(tree, "-o", str(tmp_path / "m.jsonl"))
    schema = pq.read_schema(tmp_path / "m.parquet")
    assert schema.names == list(CSV_COLUMNS)
    assert {f.name: str(f.type) for f in schema} == MEMBER_TYPES
    got = records(tmp_path / "m.parquet")
    want = [json.loads(x) for x in (tmp_path / "m.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(got) == len(want) > 0
    for g, w in zip(got, want, strict=True):
        for key in CSV_COLUMNS:
            expect = "; ".join(w[key]) if key == "reasons" else w[key]
            assert g[key] == expect, key


def test_decision_table_in_every_format(tree: Path, tmp_path: Path) -> None:
    scan(tree, "-o", str(tmp_path / "scan.json"))
    table = json.loads((tmp_path / "scan.json").read_text(encoding="utf-8"))["documents"]
    for suffix in ("parquet", "jsonl", "csv", "json"):
        scan(tree, "--decisions", str(tmp_path / f"d.{suffix}"))
    schema = pq.read_schema(tmp_path / "d.parquet")
    assert {f.name: str(f.type) for f in schema} == DECISION_TYPES and schema.names == list(COLUMNS)
    assert records(tmp_path / "d.parquet") == table
    jsonl = [json.loads(x) for x in (tmp_path / "d.jsonl").read_text(encoding="utf-8").splitlines()]
    assert jsonl == table
    assert json.loads((tmp_path / "d.json").read_text(encoding="utf-8"))["documents"] == table
    rows = list(csv.DictReader(io.StringIO((tmp_path / "d.csv").read_text(encoding="utf-8"))))
    assert [(r["id"], r["decision"], r["rule"]) for r in rows] == [(r["id"], r["decision"], r["rule"]) for r in table]
    by_id = {r["id"]: r for r in table}
    assert by_id[PLAIN]["decision"] == "kept" and by_id[WRAPPED]["decision"] == "dropped"
    assert by_id["odd-\\xff.txt"]["decision"] == "dropped"
    assert by_id["odd-\\xff.txt"]["absolute_escaped"] == str(tree) + "/odd-\\xff.txt"
    assert all(by_id[o]["decision"] == "unique" for o in OTHERS)
    assert by_id["recs.jsonl:r1"]["decision"] == "unique" and by_id["recs.jsonl:r1"]["record"] == 2
    assert by_id["empty.txt"] == {
        **by_id["empty.txt"],
        "decision": "skipped",
        "rule": "empty",
        "cluster": None,
        "digest": None,
    }
    assert len(table) == len(set(by_id))


def test_duckdb_reads_the_parquet_export(tree: Path, tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb", reason="DuckDB is not installed")
    scan(tree, "--decisions", str(tmp_path / "d.parquet"))
    got = duckdb.sql(f"select decision, count(*) from '{tmp_path / 'd.parquet'}' group by 1 order by 1").fetchall()
    assert dict(got)["kept"] >= 1


def test_duckdb_reads_both_parquet_exports_with_the_documented_columns(tree: Path, tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb", reason="DuckDB is not installed (pip install 'dedup[duckdb]')")
    scan(tree, "--decisions", str(tmp_path / "d.parquet"), "-o", str(tmp_path / "m.parquet"))
    sql_types = {"string": "VARCHAR", "int64": "BIGINT", "double": "DOUBLE", "bool": "BOOLEAN"}
    for name, documented in (("d.parquet", DECISION_TYPES), ("m.parquet", MEMBER_TYPES)):
        path = tmp_path / name
        described = duckdb.sql(f"DESCRIBE SELECT * FROM '{path}'").fetchall()
        assert {row[0]: row[1] for row in described} == {k: sql_types[v] for k, v in documented.items()}
        assert duckdb.sql(f"SELECT count(*) FROM '{path}'").fetchall() == [(pq.read_metadata(path).num_rows,)]
    decided = dict(duckdb.sql(f"SELECT id, decision FROM '{tmp_path / 'd.parquet'}'").fetchall())
    assert decided[PLAIN] == "kept" and decided[WRAPPED] == "dropped" and decided["empty.txt"] == "skipped"
