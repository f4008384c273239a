"""The local engine against the Ray engine on the same corpus, in one run: times, memory, ratio.

For each ``--docs`` N it takes bench.py's deterministic corpus (cached in ``--workdir``), then
scans it once per engine, each in a child process (``dedup.scan`` with ``engine_name``, then
the JSON export written), and prints per engine: wall time, the peak RSS of the run's own
process (the one that called ``scan``: what holds the arrays between stages; also its peak so far as each
stage starts), the largest process and the
sampled peak of the whole process tree (Ray's raylet, object store and workers included),
the per-stage timings of ``ScanResult.timings``, and the Ray/local ratio. The two exports
must be byte-identical (checked; a difference is printed and the exit code is 1). It also
times starting and stopping an empty local Ray, the fixed cost every Ray scan pays here.

Usage:
    python benchmarks/ray_bench.py                               # N=100,000 as one JSON Lines file
    python benchmarks/ray_bench.py --docs 100000 --docs 1000000 --json ray.json
    python benchmarks/ray_bench.py --docs 20000 --inputs folder

Figures are in docs/scale.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import ChildRun, Generator, corpus_paths, ensure_corpus, mib, ratio, run_child, table

ENGINES = ("local", "ray")

#: The child: scan PATH with ENGINE and JOBS, write the JSON export to OUT, print the timings.
SCAN_CODE = """
import json, resource, sys, time
import dedup
from dedup import export
path, engine, jobs, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def peak():  # KiB: the run's own process, not Ray's
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
class Marks:  # the run's process's peak so far as each stage starts (its later rounds and parts left out)
    def __init__(self): self.at = {}
    def start(self, stage, total): self.at.setdefault(stage.split(",")[0], peak())
    def advance(self, n=1): pass
marks = Marks()
t = time.perf_counter()
r = dedup.scan([path], dedup.ScanConfig(jobs=jobs), engine_name=engine, progress=marks)
scan_s = time.perf_counter() - t
marks.at["(scan returned)"] = peak()
export.write_export(r, out, version=dedup.__version__)
marks.at["(export written)"] = peak()
print(json.dumps({"timings": dict(r.timings), "scan_s": scan_s, "own_rss_kib": peak(), "documents": r.summary.documents,
                  "clusters": r.summary.clusters, "duplicates": r.summary.duplicates, "candidates": r.summary.candidates,
                  "matches": r.summary.matches, "own_peak_at_kib": marks.at}))
"""

RAY_START_CODE = """
import logging, time, ray
t = time.perf_counter()
ray.init(num_cpus=int(__import__("sys").argv[1]), include_dashboard=False, logging_level=logging.ERROR)
ray.get(ray.remote(lambda: 0).remote())
up = time.perf_counter() - t
ray.shutdown()
print(up, time.perf_counter() - t - up)
"""


def ray_start_cost(jobs: int) -> tuple[float, float]:
    """Seconds to start a local Ray and run one task, and to shut it down."""
    done = subprocess.run([sys.executable, "-c", RAY_START_CODE, str(jobs)], capture_output=True, text=True, check=True)
    up, down = done.stdout.split()
    return float(up), float(down)


def scan_child(path: Path, engine: str, jobs: int, out: Path) -> tuple[ChildRun, dict[str, Any]]:
    run = run_child([sys.executable, "-c", SCAN_CODE, str(path), engine, str(jobs), str(out)])
    if run.returncode != 0:
        raise SystemExit(f"{engine} scan failed ({run.returncode}):\n{run.stderr}")
    return run, json.loads(run.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, action="append", help="corpus size; repeatable (default 100,000)")
    parser.add_argument(
        "--inputs", choices=("jsonl", "folder"), default="jsonl", help="one JSON Lines file or a folder"
    )
    parser.add_argument("--jobs", type=int, default=2, help="worker processes / Ray CPUs (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "dedup-bench")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--only", choices=ENGINES, help="scan with this engine alone (no ratio, no export comparison)")
    args = parser.parse_args(argv)
    engines = (args.only,) if args.only else ENGINES
    gen = Generator(args.seed)
    up, down = ray_start_cost(args.jobs)
    print(f"local Ray with {args.jobs} CPUs: {up:.1f} s to start and run a first task, {down:.1f} s to stop")
    report: dict[str, Any] = {
        "jobs": args.jobs,
        "inputs": args.inputs,
        "ray_start_s": up,
        "ray_stop_s": down,
        "runs": [],
    }
    same = True
    for docs in args.docs or [100_000]:
        corpus = ensure_corpus(gen, corpus_paths(args.workdir, docs, args.seed), [args.inputs])
        path = corpus.jsonl if args.inputs == "jsonl" else corpus.folder
        print(f"\n{docs:,} documents, {args.inputs} ({path})")
        results: dict[str, tuple[ChildRun, dict[str, Any]]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for engine in engines:
                results[engine] = scan_child(path, engine, args.jobs, Path(tmp) / f"{engine}.json")
            equal = (
                len(engines) == 1 or (Path(tmp) / "local.json").read_bytes() == (Path(tmp) / "ray.json").read_bytes()
            )
        same = same and equal
        stages = sorted(
            {k for _, t in results.values() for k in t["timings"]}, key=list(results[engines[0]][1]["timings"]).index
        )
        rows: list[list[object]] = []
        for engine in engines:
            run, t = results[engine]
            rows.append(
                [
                    engine,
                    f"{run.wall:.1f}",
                    f"{t['scan_s']:.1f}",
                    *(f"{t['timings'][s]:.1f}" for s in stages),
                    mib(t["own_rss_kib"]),
                    mib(run.max_rss_kib),
                    mib(run.peak_tree_rss_kib),
                ]
            )
        (lw, lt), (rw, rt) = results[engines[0]], results[engines[-1]]
        if len(engines) > 1:
            rows.append(
                [
                    "ray/local",
                    ratio(rw.wall, lw.wall),
                    ratio(rt["scan_s"], lt["scan_s"]),
                    *(ratio(rt["timings"][s], lt["timings"][s]) for s in stages),
                    ratio(rt["own_rss_kib"], lt["own_rss_kib"]),
                    ratio(rw.max_rss_kib, lw.max_rss_kib),
                    ratio(rw.peak_tree_rss_kib, lw.peak_tree_rss_kib),
                ]
            )
        table(
            [
                "engine",
                "wall s",
                "scan() s",
                *(f"{s} s" for s in stages),
                "run's process MiB",
                "largest MiB",
                "tree MiB",
            ],
            rows,
        )
        marks = list(dict.fromkeys(k for _, t in reversed(list(results.values())) for k in t["own_peak_at_kib"]))
        table(
            ["run's process: peak MiB as it starts", *engines],
            [[k, *(mib(t["own_peak_at_kib"][k]) if k in t["own_peak_at_kib"] else "-" for _, t in results.values())]
             for k in marks],
        )  # fmt: skip
        print(f"candidate pairs {lt['candidates']:,}, matches {lt['matches']:,}")
        same_line = "not compared (one engine)" if len(engines) == 1 else ("yes" if equal else "NO")
        print(f"exports byte-identical: {same_line}; {lt['documents']:,} documents, {lt['clusters']:,} clusters")
        report["runs"].append(
            {
                "docs": docs,
                "equal": equal,
                **{
                    e: {"wall_s": r.wall, "max_rss_kib": r.max_rss_kib, "peak_tree_rss_kib": r.peak_tree_rss_kib, **t}
                    for e, (r, t) in results.items()
                },
            }
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0 if same else 1


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"\n({time.perf_counter() - started:.0f} s in all)")
    raise SystemExit(code)
