"""N copies of one article -> one cluster: clusters found and time per N, in both cluster modes.

Each copy is the article of ``samples/000`` with its own one-line site header and footer and
three words changed at random (pairwise Jaccard 0.86-0.88 on its word 5-grams): the shape of a wire story
syndicated to many sites. Every copy is a near-duplicate of every other, so the right answer
is one cluster of N whatever N. The figure that matters beside the count is the time ratio
between sizes: linear growth keeps it near the ratio of the sizes.

Usage:
    python benchmarks/cluster_scale.py                      # N = 250, 1,000, 2,000, 10,000
    python benchmarks/cluster_scale.py --sizes 250 1000     # quicker
    python benchmarks/cluster_scale.py --modes star --jobs 2

Prints one row per (mode, N): wall time of ``dedup.scan`` (files already written and in the
page cache; corpus writing is not timed), the per-stage times, clusters, members of the
largest cluster and documents left unique.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ARTICLE = REPO / "samples" / "000_8bcd120cc8060ff3.txt"

#: Words the changed positions take: plain English words none of which is in the article.
_SWAPS = ("harbour", "lantern", "orchard", "velvet", "granite", "meadow", "copper", "thistle", "walnut",
          "saffron", "ember", "quarry", "willow", "falcon", "pebble", "juniper", "marble", "cobalt")  # fmt: skip


#: Words of the per-copy header and footer lines.
_CHROME = ("news", "world", "politics", "business", "sport", "weather", "opinion", "video", "live", "latest")


def article() -> str:
    """The base article: the body of samples/000, without its two comment-widget lines."""
    lines = ARTICLE.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if len(line.split()) > 5)


def copies(n: int, seed: int = 0) -> list[str]:
    """N texts of one article: own header and footer line, three words changed (seeded)."""
    base = article().split(" ")
    out = []
    for i in range(n):
        rng = random.Random(f"{seed}:{i}")
        words = base[:]
        for pos in rng.sample(range(len(words)), 3):
            words[pos] = rng.choice(_SWAPS)
        # Headers and footers of different lengths: the cleanest copy is not the first file.
        header = " ".join([f"Site{i}", *rng.choices(_CHROME, k=rng.randint(2, 20))])
        footer = " ".join([f"Copyright site{i} media", *rng.choices(_CHROME, k=rng.randint(2, 20))])
        out.append(f"{header}\n{' '.join(words)}\n{footer}\n")
    return out


def write_copies(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """Write the N copies as ``copy_00000.txt``...; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, text in enumerate(copies(n, seed)):
        path = folder / f"copy_{i:05d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 1000, 2000, 10000])
    parser.add_argument("--modes", nargs="+", default=["star", "components"], choices=["star", "components"])
    parser.add_argument("--jobs", type=int, default=0, help="workers (0: one per core)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))
    from dedup import ScanConfig, scan

    print(f"{'mode':<11} {'N':>6} {'seconds':>8} {'s/1000':>7} {'x time':>7} {'x N':>5} "
          f"{'clusters':>8} {'largest':>7} {'unique':>6}  stages (s)")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="cluster_scale_") as tmp:
        for mode in args.modes:
            previous: tuple[int, float] | None = None
            for n in args.sizes:
                folder = Path(tmp) / f"n{n}"
                if not folder.exists():
                    write_copies(folder, n, args.seed)
                config = ScanConfig(cluster_mode=mode, jobs=args.jobs)
                started = time.perf_counter()
                result = scan(folder, config)
                took = time.perf_counter() - started
                sizes = [len(c.members) for c in result.clusters]
                unique = n - sum(sizes)
                ratio = f"{took / previous[1]:7.2f} {n / previous[0]:5.1f}" if previous else f"{'':>7} {'':>5}"
                stages = " ".join(f"{k}={v:.2f}" for k, v in result.timings.items())
                print(f"{mode:<11} {n:>6} {took:8.2f} {took / n * 1000:7.2f} {ratio} "
                      f"{len(sizes):>8} {max(sizes, default=0):>7} {unique:>6}  {stages}", flush=True)  # fmt: skip
                previous = (n, took)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
