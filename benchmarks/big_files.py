"""Two copies of one big text -> the ranking of their group: time per size, and the ratio.

A page dump, a book or a log saved twice is one group of two members whose texts are
megabytes long. Ranking reads both texts whole (chrome lines, the article's head, line
counts, the own texts); its cost should grow linearly with the size, so the ratio of times
between sizes stays near the ratio of the sizes.

The text is seeded pseudo-words in lines of 1 to 30 words (a third of them short lines, as
headings, captions and list items are), ASCII or, with ``--unicode``, with accented and CJK
words mixed in (the tokeniser's path for other text). The second copy is the first wrapped
in a site header and footer (chrome lines).

Usage:
    python benchmarks/big_files.py                    # 2, 5 and 20 MB
    python benchmarks/big_files.py --sizes 1 2        # quicker
    python benchmarks/big_files.py --unicode
    python benchmarks/big_files.py --scan             # dedup.scan of the two files (in process)

Prints one row per size: CPU seconds, the best of ``--repeat`` runs (``ranking.rank_group``
of the pair, texts in memory; or with ``--scan`` the whole ``dedup.scan`` of a folder holding
the two files, in this process), seconds per MB, and the ratio of time and of size to the
row before. CPU time, not wall time: the figure holds on a machine shared with other work.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from dedup import ScanConfig, scan
from dedup.ranking import RankTask, rank_group
from dedup.records import Locator

_LETTERS = "etaoinshrdlucmfwypvbgkjqxz"
_OTHER = ("café", "naïve", "über", "niño", "東京", "数据", "ラーメン", "Ωmega")


def text_of(megabytes: float, *, unicode: bool = False, seed: int = 0) -> str:
    """About ``megabytes`` MB of seeded text in lines of 1 to 30 words."""
    rng = random.Random(seed)
    vocab = ["".join(rng.choices(_LETTERS, k=rng.randint(1, 10))) for _ in range(20_000)]
    if unicode:
        vocab += [w + rng.choice(_OTHER) for w in vocab[:2_000]]
    lines: list[str] = []
    size = 0
    target = int(megabytes * 1_000_000)
    while size < target:
        n = rng.randint(1, 8) if rng.random() < 0.33 else rng.randint(9, 30)
        line = " ".join(rng.choices(vocab, k=n)).capitalize() + ("." if n > 8 else "")
        lines.append(line)
        size += len(line.encode("utf-8")) + 1
    return "\n".join(lines)


def pair(megabytes: float, *, unicode: bool = False) -> list[str]:
    """The text, and the text wrapped in a header and footer of chrome lines."""
    body = text_of(megabytes, unicode=unicode)
    return [body, "Skip to main content\nHome\nNews\n" + body + "\nShare this\nRelated posts\n© 2025 Example"]


def time_rank(texts: list[str], config: ScanConfig) -> float:
    """CPU seconds to rank the pair (and measure its own texts), texts in memory."""
    task = RankTask((0, 1), tuple((Locator("-"), "text") for _ in texts), (0, 0), (0, 0), {})
    start = time.process_time()
    rank_group(task.group, texts, task, config)
    return time.process_time() - start


def time_scan(texts: list[str], config: ScanConfig) -> float:
    """CPU seconds of ``dedup.scan`` (in this process) over a folder holding the two texts."""
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(texts):
            (Path(tmp) / f"copy{i}.txt").write_text(text, encoding="utf-8")
        start = time.process_time()
        result = scan(tmp, config)
        seconds = time.process_time() - start
        if len(result.clusters) != 1:
            raise SystemExit(f"expected one cluster of the two copies, got {len(result.clusters)}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[2, 5, 20], help="megabytes per copy")
    parser.add_argument("--unicode", action="store_true", help="mix non-ASCII words in")
    parser.add_argument("--scan", action="store_true", help="time dedup.scan of the two files")
    parser.add_argument("--repeat", type=int, default=2, help="runs per size; the best is shown")
    args = parser.parse_args()
    config = ScanConfig(jobs=1)
    print(f"{'MB':>6} {'seconds':>8} {'s/MB':>6} {'time ratio':>10} {'size ratio':>10}")
    before: tuple[float, float] | None = None
    for mb in args.sizes:
        texts = pair(mb, unicode=args.unicode)
        real = len(texts[0].encode("utf-8")) / 1e6
        seconds = min((time_scan if args.scan else time_rank)(texts, config) for _ in range(args.repeat))
        ratios = ("", "") if before is None else (f"{seconds / before[1]:.2f}", f"{real / before[0]:.2f}")
        print(f"{real:6.1f} {seconds:8.2f} {seconds / real:6.2f} {ratios[0]:>10} {ratios[1]:>10}")
        before = (real, seconds)


if __name__ == "__main__":
    main()
