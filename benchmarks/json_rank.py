"""Ranking cost of records in a .json array against the same records as JSON Lines.

Every record has a near-copy, so every record is a cluster member the ranking stage re-reads.
Before byte spans were kept for array items, each re-read parsed the whole file (quadratic).

    python benchmarks/json_rank.py 5000 10000 20000
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

from dedup import ScanConfig, scan


def records(n: int, seed: int = 0) -> list[dict[str, str]]:
    rng = random.Random(seed)
    out = []
    for i in range(n // 2):
        text = " ".join(f"w{rng.randrange(1_000_000)}" for _ in range(120))
        out.append({"id": f"a{i}", "text": text})
        out.append({"id": f"b{i}", "text": text + " shared on social media"})
    return out


def main(sizes: list[int]) -> None:
    for n in sizes:
        data = records(n)
        with tempfile.TemporaryDirectory(prefix="json-rank-") as tmp:
            for suffix in (".json", ".jsonl"):
                folder = Path(tmp) / suffix.strip(".")
                folder.mkdir()
                path = folder / f"dump{suffix}"
                if suffix == ".json":
                    path.write_text(json.dumps(data), encoding="utf-8")
                else:
                    path.write_text("".join(json.dumps(r) + "\n" for r in data), encoding="utf-8")
                start = time.perf_counter()
                result = scan([folder], ScanConfig(jobs=1))
                total = time.perf_counter() - start
                t = result.timings
                print(
                    f"{n:>6} records {suffix:<6} total {total:6.1f} s  hash {t.get('hash', 0):5.1f} s  "
                    f"rank {t.get('cluster_and_rank', 0):6.1f} s  clusters {len(result.clusters)}",
                    flush=True,
                )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [5000, 10000, 20000])
