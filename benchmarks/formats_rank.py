"""Re-reading members for ranking in each input form: does it stay linear?

    python benchmarks/formats_rank.py [--sizes 5000 20000]

Writes the same records (400 words each, one in four a copy of another with a header, so
that a quarter of them are ranked) as .jsonl, .jsonl.gz, .jsonl.zst and .parquet, then
for each form and size measures, in a fresh process state:

* ``load_text``: every record read back once through ``extract.load_text``, in shuffled
  order (what ranking does to a cluster's members, at its worst: every record a member);
* ``scan``: a whole ``dedup scan -j 1`` of the file, without the cache.

A form whose re-read decompressed the file once per member would grow with the square of
the size: 4x the records would take 16x the time. Figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from dedup import ScanConfig, scan
from dedup.extract import extract, load_text
from dedup.records import Document, SourceFile
from dedup.reread import clear


def make_records(n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(n):
        if i % 4 == 3:
            text = "Home | News | Contact\n" + out[i - 1]["text"]
        else:
            text = " ".join(f"w{rng.randrange(200_000)}" for _ in range(400))
        out.append({"id": f"r{i}", "text": text})
    return out


def write_forms(folder: Path, recs: list[dict[str, Any]]) -> dict[str, Path]:
    data = "".join(json.dumps(r) + "\n" for r in recs).encode("utf-8")
    forms = {"jsonl": folder / "d.jsonl", "jsonl.gz": folder / "d.jsonl.gz"}
    forms["jsonl"].write_bytes(data)
    forms["jsonl.gz"].write_bytes(gzip.compress(data, compresslevel=6))
    try:
        zstandard = importlib.import_module("zstandard")
        forms["jsonl.zst"] = folder / "d.jsonl.zst"
        forms["jsonl.zst"].write_bytes(zstandard.ZstdCompressor().compress(data))
    except ImportError:
        print("zstandard not installed: no .jsonl.zst (pip install 'dedup[zstd]')")
    try:
        pa = importlib.import_module("pyarrow")
        pq = importlib.import_module("pyarrow.parquet")
        forms["parquet"] = folder / "d.parquet"
        pq.write_table(pa.Table.from_pylist(recs), forms["parquet"])
    except ImportError:
        print("pyarrow not installed: no .parquet (pip install 'dedup[parquet]')")
    return forms


def reread_seconds(path: Path, config: ScanConfig) -> float:
    docs = [
        d for d in extract(SourceFile(str(path), path.name, path.stat().st_size), config) if isinstance(d, Document)
    ]
    order = list(range(len(docs)))
    random.Random(1).shuffle(order)
    clear()
    started = time.perf_counter()
    for i in order:
        if load_text(docs[i].locator, docs[i].kind, config) != docs[i].text:
            raise SystemExit(f"{path.name}: record {i} read back differently")
    elapsed = time.perf_counter() - started
    clear()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000])
    args = parser.parse_args()
    config = ScanConfig(jobs=1)
    print(f"{'form':<10} {'records':>8} {'load_text s':>12} {'us/record':>10} {'scan s':>8} {'clusters':>9}")
    with tempfile.TemporaryDirectory(prefix="dedup-bench-formats-") as tmp:
        for n in args.sizes:
            folder = Path(tmp) / str(n)
            folder.mkdir()
            for form, path in write_forms(folder, make_records(n)).items():
                reread = reread_seconds(path, config)
                started = time.perf_counter()
                result = scan([path], config)
                scanned = time.perf_counter() - started
                print(
                    f"{form:<10} {n:>8} {reread:>12.3f} {reread / n * 1e6:>10.1f} {scanned:>8.2f} {len(result.clusters):>9}"
                )


if __name__ == "__main__":
    main()
