"""Rescan of a folder in which one file changed, with a signature cache that also holds
another, larger folder: what the per-file lookups of the cache cost (docs/benchmarks.md).

    python benchmarks/cache_rescan.py --files 3000 --others 10000

Runs in this process with ``jobs=1``; the figure is the median of ``--repeat`` rescans, each
after one file was rewritten (so the stored whole result does not apply and every file is
looked up by its stat, then by content).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from dedup import ScanConfig, scan


def make_folder(folder: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(5000)]
    folder.mkdir(parents=True)
    for i in range(n):
        (folder / f"{i:06d}.txt").write_text(" ".join(rng.choices(words, k=120)), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=3000, help="files in the rescanned folder")
    parser.add_argument("--others", type=int, default=10000, help="files of another folder in the same cache")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    config = ScanConfig(jobs=1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        target, other, db = root / "target", root / "other", root / "cache" / "signatures.sqlite"
        make_folder(target, args.files, 1)
        make_folder(other, args.others, 2)
        time.sleep(2.2)  # past the racy margin: stats are trusted from the first scan on
        scan([other], config, cache=db)
        scan([target], config, cache=db)
        times = []
        changed = target / "000000.txt"
        for i in range(args.repeat):
            changed.write_text(f"rewritten {i} " * 50, encoding="utf-8")
            started = time.perf_counter()
            scan([target], config, cache=db)
            times.append(time.perf_counter() - started)
        print(
            f"rescan, 1 of {args.files:,} files changed, cache also holding {args.others:,} others: "
            f"median {statistics.median(times):.3f} s ({', '.join(f'{t:.3f}' for t in times)})"
        )


if __name__ == "__main__":
    main()
