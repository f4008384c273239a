"""N copies of one article -> one cluster: clusters found and time per N, in both cluster modes.

Each copy is the article of ``samples/000`` with its own one-line site header and footer and
three words changed at random (pairwise Jaccard 0.80-0.87 on its word 5-grams): the shape of a wire story
syndicated to many sites. Every copy is a near-duplicate of every other, so the right answer
is one cluster of N whatever N. The figure that matters beside the count is the time ratio
between sizes: linear growth keeps it near the ratio of the sizes.

Usage:
    python benchmarks/cluster_scale.py                      # N = 250, 1,000, 2,000, 10,000
    python benchmarks/cluster_scale.py --sizes 250 1000     # quicker
    python benchmarks/cluster_scale.py --modes star --jobs 2
    python benchmarks/cluster_scale.py --stages             # clustering timed alone, in process
    python benchmarks/cluster_scale.py --stages --rank      # and cleanest.rank of the group

Prints one row per (mode, N): wall time (of ``dedup.scan`` on the written files, writing not
timed; or with ``--stages`` of the stages run in this process on the texts), the time per
1,000 copies, the ratios of time and of N to the row before, clusters, members of the
largest cluster, documents left unique, and the per-stage times.
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


def _row(mode: str, n: int, took: float, previous: tuple[int, float] | None, groups: list[int], extra: str) -> str:
    ratio = f"{took / previous[1]:7.2f} {n / previous[0]:5.1f}" if previous else f"{'':>7} {'':>5}"
    unique = n - sum(groups)
    return (f"{mode:<11} {n:>6} {took:8.2f} {took / n * 1000:7.2f} {ratio} "
            f"{len(groups):>8} {max(groups, default=0):>7} {unique:>6}  {extra}")  # fmt: skip


def run_scan(folder: Path, n: int, mode: str, jobs: int) -> tuple[float, list[int], str]:
    """``dedup.scan`` on the folder: wall time, cluster sizes, the scan's stage times."""
    from dedup import ScanConfig, scan

    started = time.perf_counter()
    result = scan(folder, ScanConfig(cluster_mode=mode, jobs=jobs))  # type: ignore[arg-type]
    took = time.perf_counter() - started
    stages = " ".join(f"{k}={v:.2f}" for k, v in result.timings.items())
    return took, [len(c.members) for c in result.clusters], stages


def run_stages(n: int, mode: str, seed: int, rank: bool) -> tuple[float, list[int], str]:
    """The stages in this process on the texts in memory, the clustering timed alone.

    The exact check confirms on the shingle sets (no texts for the template test), and the
    ranking is a seeded shuffle (any copy may rank first) unless ``rank``: then
    ``cleanest.rank`` ranks the component, timed apart."""
    from dedup import ScanConfig, cleanest, cluster, signature, verify
    from dedup import candidates as cand
    from dedup.shingle import shingle_batch

    config = ScanConfig(cluster_mode=mode)  # type: ignore[arg-type]
    texts = copies(n, seed)
    times: dict[str, float] = {}
    at = time.perf_counter()
    sh = shingle_batch(texts, config.shingle_size, config.char_shingle_size)
    sigs = signature.signatures(sh, config.num_perm, config.seed)
    times["hash"], at = time.perf_counter() - at, time.perf_counter()
    pairs = cand.candidate_pairs(sigs, cand.select_anchors(sh, config.anchor_bits), sh.sizes(), config)
    times["candidates"], at = time.perf_counter() - at, time.perf_counter()
    matches = verify.verify(pairs, sh, config)
    times["verify"], at = time.perf_counter() - at, time.perf_counter()
    order = list(range(n))
    random.Random(f"rank:{seed}").shuffle(order)
    if rank:
        picks = cleanest.rank(order, [texts[i] for i in order], lambda h: 0, config)
        order = [p.index for p in picks]
        times["rank"], at = time.perf_counter() - at, time.perf_counter()
    place = {doc: pos for pos, doc in enumerate(order)}
    calls = 0

    def ranker(group: tuple[int, ...]) -> list[int]:
        nonlocal calls
        calls += 1
        return sorted(group, key=place.__getitem__)

    exact = cluster.Exact(sh, config, lambda p: verify.verify(p, sh, config))
    groups = cluster.cluster(n, matches, mode, ranker, exact)  # type: ignore[arg-type]
    times["cluster"] = time.perf_counter() - at
    extra = f"pairs={len(pairs)} matches={len(matches)} rankings={calls} " + " ".join(
        f"{k}={v:.2f}" for k, v in times.items()
    )
    return sum(times.values()), [len(g) for g in groups], extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 1000, 2000, 10000])
    parser.add_argument("--modes", nargs="+", default=["star", "components"], choices=["star", "components"])
    parser.add_argument("--jobs", type=int, default=0, help="workers for the scan (0: one per core)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--stages", action="store_true", help="run the stages in this process and time the clustering alone"
    )
    parser.add_argument("--rank", action="store_true", help="with --stages: rank with cleanest.rank, timed apart")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))

    what = "stages in this process (s)" if args.stages else "scan stages (s)"
    print(f"{'mode':<11} {'N':>6} {'seconds':>8} {'s/1000':>7} {'x time':>7} {'x N':>5} "
          f"{'clusters':>8} {'largest':>7} {'unique':>6}  {what}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="cluster_scale_") as tmp:
        for mode in args.modes:
            previous: tuple[int, float] | None = None
            for n in args.sizes:
                if args.stages:
                    took, groups, extra = run_stages(n, mode, args.seed, args.rank)
                else:
                    folder = Path(tmp) / f"n{n}"
                    if not folder.exists():
                        write_copies(folder, n, args.seed)
                    took, groups, extra = run_scan(folder, n, mode, args.jobs)
                print(_row(mode, n, took, previous, groups, extra), flush=True)
                previous = (n, took)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
