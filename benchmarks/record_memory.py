"""Memory per record, by stage, of a scan of many tiny JSON Lines records (issue 11, item 7).

    python benchmarks/record_memory.py --records 100000            # one file of 100,000 records
    python benchmarks/record_memory.py --records 300000 -j 2

Writes one JSON Lines file of ``--records`` short records (a sentence of 8-12 words from a
small vocabulary, one in ten a copy of an earlier one), then runs ``dedup.scan`` on it in
this process without a cache. At each stage start (the progress hook) it reads the
process's resident memory (VmRSS) and the peak since the previous stage start (VmHWM,
reset through /proc/self/clear_refs), and prints, per stage, the peak and the memory held
at its end in bytes per record above the baseline taken before the scan (the Python
interpreter and the imported modules). Linux only.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from dedup.config import ScanConfig
from dedup.options import RunOptions
from dedup.pipeline import scan


def status_kb(field: str) -> int:
    """A ``VmRSS``/``VmHWM`` line of /proc/self/status, in kB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> None:
    """Start a new VmHWM from the current RSS (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


class StageMemory:
    """A progress hook recording, per stage, its peak RSS and the RSS when it ended."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, int, int]] = []  # (stage, peak kB, held at its end kB)
        self.stage = "start"
        self.started = time.perf_counter()

    def start(self, stage: str, total: int | None) -> None:
        self.close()
        self.stage = stage

    def close(self) -> None:
        self.rows.append((self.stage, status_kb("VmHWM"), status_kb("VmRSS")))
        reset_peak()

    def advance(self, n: int = 1) -> None:
        pass


def write_records(path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(5000)]
    texts: list[str] = []
    with path.open("w") as f:
        for i in range(n):
            if texts and rng.random() < 0.1:
                text = rng.choice(texts)
            else:
                text = " ".join(rng.choices(vocab, k=rng.randint(8, 12)))
                if len(texts) < 10000:
                    texts.append(text)
            f.write(json.dumps({"id": str(i), "text": text}) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("-j", "--jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, help="write the input here (and keep it) instead of a temp folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        data = folder / "tiny.jsonl"
        if not data.exists():
            write_records(data, args.records, args.seed)
        reset_peak()
        base = status_kb("VmRSS")
        hook = StageMemory()
        t0 = time.perf_counter()
        result = scan([data], ScanConfig(jobs=args.jobs), progress=hook, options=RunOptions())
        hook.stage = f"{hook.stage} (to the result)"
        hook.close()
        seconds = time.perf_counter() - t0
        n = result.summary.documents
        print(f"{n} records, {result.summary.clusters} clusters, -j {args.jobs}, {seconds:.1f} s, "
              f"baseline {base / 1024:.0f} MB")
        print(f"{'stage':32} {'peak B/rec':>11} {'held B/rec':>11} {'peak MB':>8}")
        for stage, peak, held in hook.rows[1:]:
            print(f"{stage:32} {(peak - base) * 1024 / n:11.0f} {(held - base) * 1024 / n:11.0f} "
                  f"{peak / 1024:8.0f}")
        overall = max(p for _, p, _ in hook.rows)
        print(f"{'whole scan':32} {(overall - base) * 1024 / n:11.0f} {'':>11} {overall / 1024:8.0f}")


if __name__ == "__main__":
    main()
