"""The containment rule measured on the texts: how many pairs each bar adds, and how many of
them are false, on labelled folders (a truth.jsonl in each).

    python benchmarks/text_rules.py /tmp/rd_c2/dragnet_data [/tmp/syn/c0 ...]

Each folder is scanned with every guard opened (containment 0.5, no size ratio), so the
matches are every candidate pair with containment at verify's look (0.5) or more that the
template test leaves; each is then measured as verify measures it on the texts
(``verify.word_share`` of the smaller in the larger, ``verify.prose_share`` of the larger the
smaller covers) and judged against the truth. Printed: per pair of bars (--prose, --words),
the pairs the set rules alone pass, and the pairs the text rules add, true and false.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dedup import ScanConfig, scan
from dedup.evidence import Layout
from dedup.extract import load_text
from dedup.shingle import shingle_batch
from dedup.truth import read_truth
from dedup.verify import judge, prose_share, word_share


@dataclass(frozen=True, slots=True)
class Pair:
    true: bool
    jaccard: float
    containment: float
    small: int  # shingles
    large: int
    words: float  # share of the smaller's words in the larger's shingles
    prose: float  # share of the larger's prose the smaller covers


def measure(folder: Path) -> list[Pair]:
    """Every pair at verify's look, measured on the texts, labelled by the folder's truth."""
    config = ScanConfig(exclude=("truth.jsonl",), containment_threshold=0.5, min_size_ratio=0.0, jobs=2)
    result = scan([folder], config)
    group: dict[str, str] = {}
    for t in read_truth(folder / "truth.jsonl"):
        for i in t.ids:
            group[i] = t.cluster
    plain = ScanConfig()
    laid: dict[int, tuple[Layout, NDArray[np.uint64]]] = {}

    def of(i: int) -> tuple[Layout, NDArray[np.uint64]]:
        if i not in laid:
            info = result.docs[i]
            text = load_text(info.locator, info.kind, plain)
            laid[i] = (Layout(text, plain), shingle_batch([text], plain.shingle_size, plain.char_shingle_size).get(0))
        return laid[i]

    def label(i: int) -> str | None:
        info = result.docs[i]
        return group.get(info.doc_id) or (group.get(info.record_id) if info.record_id is not None else None)

    pairs = []
    for m in result.matches:
        (la, xa), (lb, xb) = of(m.a), of(m.b)
        (ls, xs), (ll, xl) = ((la, xa), (lb, xb)) if len(xa) <= len(xb) else ((lb, xb), (la, xa))
        ga, gb = label(m.a), label(m.b)
        true = ga is not None and ga == gb
        pairs.append(Pair(true, m.jaccard, m.containment, len(xs), len(xl), word_share(ls, xl), prose_share(ll, xs)))
    return pairs


def passes(p: Pair, prose: float, words: float, config: ScanConfig) -> bool:
    """verify.judge_texts's decision at these bars (the default config otherwise)."""
    if judge(p.jaccard, p.containment, p.small, p.large, config) is not None:
        return True
    if p.small < config.min_shingles or p.containment < config.look_containment:
        return False
    if p.small < config.min_size_ratio * p.large and p.prose < prose:
        return False
    return p.containment >= config.containment_threshold or p.words >= words


def bar(value: float) -> str:
    """A bar as printed: above 1, no pair can reach it (the rule is off)."""
    return "off" if value > 1 else f"{value:g}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--prose", nargs="+", type=float, default=[0.15, 0.2, 0.25, 1.01])
    ap.add_argument("--words", nargs="+", type=float, default=[0.85, 0.9, 0.95, 1.01])
    args = ap.parse_args(argv)
    config = ScanConfig()
    for folder in args.folders:
        pairs = measure(folder)
        sets_pass = [judge(p.jaccard, p.containment, p.small, p.large, config) is not None for p in pairs]
        base = [p for p, ok in zip(pairs, sets_pass, strict=True) if ok]
        print(f"\n{folder}: {len(pairs)} pairs at containment 0.5+; the set rules pass "
              f"{sum(p.true for p in base)} true, {sum(not p.true for p in base)} false")  # fmt: skip
        print("| prose bar | words bar | added true | added false |")
        print("|---|---|---|---|")
        for prose in args.prose:
            for words in args.words:
                added = [
                    p for p, ok in zip(pairs, sets_pass, strict=True) if not ok and passes(p, prose, words, config)
                ]
                print(
                    f"| {bar(prose)} | {bar(words)} | {sum(p.true for p in added)} | {sum(not p.true for p in added)} |"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
