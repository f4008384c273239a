"""Time the per-document decision table: building its rows, the JSON export that holds it,
and --decisions as CSV and Parquet, on a synthetic result of N documents.

    python benchmarks/export_table.py 100000
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from dedup import decisions, export
from dedup.records import DocTable, Locator, ScanResult, Summary


def result_of(n: int) -> ScanResult:
    table = DocTable()
    for i in range(n):
        rel = f"site{i % 50}/page-{i:07d}.html"
        table.append(rel, rel, "html", "utf-8", 5000, 800, 790, Locator(f"scraped/{rel}"), None, None, 123456789)
    return ScanResult(("scraped",), {}, Summary(n, n, 0, 0, 0, 0, 0, 0), (), (), docs=table)


def best_of(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    result = result_of(n)
    out = Path(tempfile.mkdtemp())
    cases: list[tuple[str, Callable[[], object]]] = [
        ("decision rows", lambda: sum(1 for _ in decisions.exported_rows(result))),
        ("JSON export (with the table)", lambda: export.write_export(result, out / "x.json", version="x")),
        ("--decisions .csv", lambda: decisions.write_decisions(result, out / "x.csv")),
        ("--decisions .parquet", lambda: decisions.write_decisions(result, out / "x.parquet")),
    ]
    for name, fn in cases:
        seconds = best_of(fn)
        print(f"{name:30} {seconds:6.2f} s  {seconds / n * 1e6:5.1f} us a document")


if __name__ == "__main__":
    main()
