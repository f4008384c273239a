"""Byte-identical exports: `dedup scan` of a git revision against the working tree.

    python benchmarks/same_output.py HEAD            # samples, synthetic corpus, 10,000-document bench corpus
    python benchmarks/same_output.py HEAD --docs 2000 --keep /tmp/same

The revision is checked out in a temporary git worktree; both trees run ``python -m dedup
scan`` on the same inputs, with the same paths and working folder, and every export is
compared byte for byte: JSON with the keep and drop lists and NUL-ended lists (no cache,
``-j 2``), JSON Lines (a fresh cache, ``-j 2``: hashes and ranking stored) and CSV (that
cache again, ``-j 1``: served from it). The inputs are ``samples/``, the labelled corpus of
``python -m dedup.corpus OUT --seed 0`` and the bench.py corpus (``--docs`` documents) as a
folder of files and as one JSON Lines file (big enough to be hashed in parts). Exit 0 when
every file is equal, 1 and the differing files otherwise.

The compiled kernel is copied into the worktree when its source is the same in both trees
(results do not depend on it, but the NumPy path would make the run slow); otherwise both
run the NumPy path.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import bench  # noqa: E402  (benchmarks/ is not a package)

#: (name, extra scan arguments, whether it uses the run's cache folder)
RUNS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("json", ("--no-cache", "-j", "2", "-o", "{out}/clusters.json", "--keep-list", "{out}/keep.txt",
              "--drop-list", "{out}/drop.txt"), False),
    ("nul", ("--no-cache", "-j", "1", "-0", "--keep-list", "{out}/keep0.txt", "--drop-list", "{out}/drop0.txt"), False),
    ("jsonl-cold-cache", ("-j", "2", "-o", "{out}/clusters.jsonl"), True),
    ("csv-warm-cache", ("-j", "1", "-o", "{out}/clusters.csv"), True),
)  # fmt: skip


def worktree(ref: str, where: Path) -> Path:
    """A detached worktree of ``ref`` with the kernel built here copied in when its source matches."""
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(where), ref], check=True)
    source = REPO / "dedup" / "_kernel.c"
    if (where / "dedup" / "_kernel.c").exists() and filecmp.cmp(source, where / "dedup" / "_kernel.c", shallow=False):
        for built in (REPO / "dedup").glob("_kernel*.so"):
            shutil.copy2(built, where / "dedup" / built.name)
    return where


def kernel_env(tree: Path) -> dict[str, str]:
    """The environment a tree runs in: its own package first; the NumPy path when its kernel is missing."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("DEDUP_NO_KERNEL", None)
    if not list((tree / "dedup").glob("_kernel*.so")):
        env["DEDUP_NO_KERNEL"] = "1"
    return env


def scan_all(tree: Path, inputs: dict[str, Path], out: Path, work: Path, env: dict[str, str]) -> float:
    """Every run on every input with ``tree``'s dedup; the outputs under ``out/<input>/``; seconds taken."""
    start = time.perf_counter()
    for name, path in inputs.items():
        target = out / name
        target.mkdir(parents=True)
        cache = out / f"{name}.cache"
        for run, args, cached in RUNS:
            argv = [a.format(out=target) for a in args]
            if not cached:
                argv.append("--quiet")
            else:
                argv += ["--quiet", "--cache-dir", str(cache)]
            done = subprocess.run(
                [sys.executable, "-m", "dedup", "scan", str(path), *argv],
                cwd=work, env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                raise SystemExit(f"{tree}: {name} {run}: exit {done.returncode}: {done.stderr.strip()}")
    return time.perf_counter() - start


def compare(a: Path, b: Path) -> list[str]:
    """Files that differ or exist on one side only, relative to the output folders."""
    differ: list[str] = []
    names = {p.relative_to(a) for p in a.rglob("*") if p.is_file() and ".cache" not in p.parts[-2]}
    names |= {p.relative_to(b) for p in b.rglob("*") if p.is_file() and ".cache" not in p.parts[-2]}
    for rel in sorted(names):
        pa, pb = a / rel, b / rel
        if not (pa.exists() and pb.exists() and pa.read_bytes() == pb.read_bytes()):
            differ.append(str(rel))
    return differ


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("ref", help="the git revision to compare the working tree against (e.g. HEAD)")
    p.add_argument("--docs", type=int, default=10_000, help="documents in the bench corpus (default %(default)s)")
    p.add_argument("--keep", type=Path, help="work in this new folder and leave it (default: a temporary one)")
    p.add_argument("--tree", type=Path, default=REPO, help="the tree to compare with REF (default: this working tree)")
    args = p.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="same-output-"))
    work.mkdir(parents=True, exist_ok=True)
    ref_tree = work / "ref-tree"
    try:
        worktree(args.ref, ref_tree)
        inputs = {"samples": REPO / "samples", "labelled": work / "labelled"}
        subprocess.run(
            [sys.executable, "-m", "dedup.corpus", str(inputs["labelled"]), "--seed", "0"],
            cwd=REPO, env=kernel_env(REPO), check=True, capture_output=True,
        )  # fmt: skip
        corpus = bench.ensure_corpus(bench.Generator(0), bench.corpus_paths(work, args.docs, 0), ["folder", "jsonl"])
        inputs["bench-folder"], inputs["bench-jsonl"] = corpus.folder, corpus.jsonl
        times = {}
        for side, tree in (("ref", ref_tree), ("work", args.tree.resolve())):
            times[side] = scan_all(tree, inputs, work / f"out-{side}", work, kernel_env(tree))
        differ = compare(work / "out-ref", work / "out-work")
        files = sum(1 for p in (work / "out-work").rglob("*") if p.is_file() and ".cache" not in p.parts[-2])
        print(f"ref {args.ref}: {times['ref']:.1f} s; working tree: {times['work']:.1f} s")
        if differ:
            print(f"{len(differ)} of {files} export files differ:")
            for rel in differ:
                print(f"  {rel}")
            return 1
        print(f"all {files} export files byte-identical ({', '.join(inputs)}; {', '.join(r for r, _, _ in RUNS)})")
        return 0
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(ref_tree)], check=False)
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
