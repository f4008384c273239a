"""Sweep the accuracy-shaping parameters on generated labelled corpora; update docs/evaluation.md.

    python benchmarks/sweep.py                 # 3 seeds x 60 articles, ~5 minutes on 2 cores
    python benchmarks/sweep.py --seeds 0 1 --articles 120 --out /tmp/eval.md --no-plot

Every figure comes from the real pipeline (``dedup.scan``) scored by ``dedup.evaluate``
against the truth the generator (``dedup.corpus``) wrote. Scores are pooled over the seeds:
pair counts are summed before precision and recall are computed; cleanest-copy accuracy is
pooled over labelled clusters. Defaults are chosen by F1 with precision first: a false merge
hides a unique document from the user, a missed pair only leaves a copy in place. Only the
part of the output file between this script's markers is rewritten (see ``update_section``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dedup import ScanConfig, scan
from dedup.corpus import generate
from dedup.evaluate import EvalReport, TruthCluster, evaluate_result, read_truth
from dedup.measures import candidate_loss


@dataclass
class Pooled:
    """Scores summed over corpora."""

    predicted: int = 0
    truth: int = 0
    true: int = 0
    clean_ok: int = 0
    clean_n: int = 0
    kind_pairs: dict[str, int] = dataclasses.field(default_factory=dict)
    kind_found: dict[str, int] = dataclasses.field(default_factory=dict)
    verified: int = 0
    lost: int = 0
    seconds: float = 0.0

    def add(self, r: EvalReport) -> None:
        self.predicted += r.predicted_pairs
        self.truth += r.truth_pairs
        self.true += r.true_pairs
        self.clean_ok += r.cleanest_correct
        self.clean_n += r.cleanest_evaluated
        for k in r.recall_by_kind:
            self.kind_pairs[k.kind] = self.kind_pairs.get(k.kind, 0) + k.pairs
            self.kind_found[k.kind] = self.kind_found.get(k.kind, 0) + k.found

    @property
    def precision(self) -> float:
        return self.true / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true / self.truth if self.truth else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def cleanest(self) -> float:
        return self.clean_ok / self.clean_n if self.clean_n else 0.0

    def kind_recall(self, kind: str) -> float:
        n = self.kind_pairs.get(kind, 0)
        return self.kind_found.get(kind, 0) / n if n else 1.0


def corpora(seeds: Iterable[int], articles: int, root: Path) -> list[tuple[Path, list[TruthCluster]]]:
    out = []
    for seed in seeds:
        folder = root / f"seed{seed}"
        if not folder.exists():
            generate(folder, seed=seed, articles=articles)
        out.append((folder, read_truth(folder / "truth.jsonl")))
    return out


def run(data: list[tuple[Path, list[TruthCluster]]], config: ScanConfig, exact: bool = False) -> Pooled:
    pooled = Pooled()
    config = dataclasses.replace(config, exclude=("truth.jsonl",))
    for folder, truth in data:
        started = time.perf_counter()
        result = scan([folder], config)
        pooled.seconds += time.perf_counter() - started
        pooled.add(evaluate_result(result, truth))
        if exact:
            verified, lost = candidate_loss(result, scan([folder], config, all_pairs=True))
            pooled.verified += verified
            pooled.lost += lost
    return pooled


def row(label: str, p: Pooled, *extra: str) -> str:
    cells = [label, f"{p.precision:.4f}", f"{p.recall:.4f}", f"{p.f1:.4f}", f"{p.cleanest:.3f}", *extra]
    return "| " + " | ".join(cells) + " |"


HEAD = "| setting | precision | recall | F1 | cleanest |"
RULE = "|---|---|---|---|---|"


#: The part of the output file this script owns; whatever lies outside the markers (the
#: real-page section that benchmarks/realdata.py's figures go into) is kept as it is.
BEGIN = "<!-- benchmarks/sweep.py writes from here to its end marker; edit outside the markers -->"
END = "<!-- end of benchmarks/sweep.py's section -->"


def update_section(path: Path, text: str) -> None:
    """Write ``text`` between the markers of ``path``, keeping the rest of the file.

    A new file gets the markers and the text. A file without markers is not overwritten
    (SystemExit): what it holds would be lost.
    """
    section = f"{BEGIN}\n{text.rstrip()}\n{END}\n"
    if not path.exists():
        path.write_text(section, encoding="utf-8")
        return
    old = path.read_text(encoding="utf-8")
    start, end = old.find(BEGIN), old.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"Error: {path} has no sweep.py markers; add {BEGIN!r} and {END!r} around its section")
    rest = old[end + len(END) :]
    path.write_text(old[:start] + section + rest.removeprefix("\n"), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--articles", type=int, default=60)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "dedup-sweep")
    parser.add_argument("--out", type=Path, default=Path("docs/evaluation.md"))
    parser.add_argument("--plot", type=Path, default=Path("docs/sweep.png"))
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--holdout-seed", type=int, default=7, help="a corpus scored with the defaults only")
    parser.add_argument("--holdout-articles", type=int, default=200)
    args = parser.parse_args(argv)
    data = corpora(args.seeds, args.articles, args.workdir / f"a{args.articles}")
    docs = sum(len(list((f).rglob("*"))) for f, _ in data)
    base = ScanConfig()
    lines: list[str] = []
    figures: dict[str, object] = {}

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    say("## Rules: each alone, and combined")
    say()
    say(HEAD + " recall wrapped | recall truncated |")
    say(RULE + "---|---|")
    ablations = {
        "Jaccard alone (>= 0.7)": dataclasses.replace(base, containment_threshold=1.0),
        "Jaccard alone (>= 0.5)": dataclasses.replace(base, containment_threshold=1.0, jaccard_threshold=0.5),
        "containment alone, no guards, components": dataclasses.replace(
            base, jaccard_threshold=1.0, min_shingles=1, min_size_ratio=0.0, cluster_mode="components"
        ),
        "containment alone, with guards, star": dataclasses.replace(base, jaccard_threshold=1.0),
        "both, components": dataclasses.replace(base, cluster_mode="components"),
        "both, star (default)": base,
    }
    for label, config in ablations.items():
        p = run(data, config)
        say(row(label, p, f"{p.kind_recall('wrapped'):.3f}", f"{p.kind_recall('truncated'):.3f}"))
        figures[f"rules/{label}"] = p.__dict__ | {"f1": p.f1}

    say()
    say("## Shingle size (words; characters for CJK)")
    say()
    say(HEAD + " seconds |")
    say(RULE + "---|")
    for k in (3, 4, 5, 6, 7, 9):
        p = run(data, dataclasses.replace(base, shingle_size=k, char_shingle_size=k))
        say(row(f"k = {k}", p, f"{p.seconds:.1f}"))
        figures[f"k/{k}"] = p.__dict__ | {"f1": p.f1}

    say()
    say("## Thresholds (F1; precision in brackets)")
    say()
    jaccards = (0.5, 0.6, 0.7, 0.8, 0.9)
    containments = (0.6, 0.7, 0.8, 0.9, 0.95)
    say("| Jaccard \\ containment | " + " | ".join(f"{c}" for c in containments) + " |")
    say("|---|" + "---|" * len(containments))
    grid: dict[tuple[float, float], Pooled] = {}
    for j in jaccards:
        cells = []
        for c in containments:
            p = run(data, dataclasses.replace(base, jaccard_threshold=j, containment_threshold=c))
            grid[(j, c)] = p
            cells.append(f"{p.f1:.4f} ({p.precision:.3f})")
            figures[f"grid/{j}/{c}"] = p.__dict__ | {"f1": p.f1}
        say(f"| {j} | " + " | ".join(cells) + " |")

    say()
    say("## Signature length and bands (with an exhaustive all-pairs reference)")
    say()
    say(HEAD + " verified pairs | lost by candidates |")
    say(RULE + "---|---|")
    for num_perm, bands in ((64, 16), (128, 16), (128, 32), (128, 64), (256, 64)):
        p = run(data, dataclasses.replace(base, num_perm=num_perm, bands=bands), exact=True)
        share = p.lost / p.verified if p.verified else 0.0
        say(
            row(
                f"{num_perm} perms, {bands} bands x {num_perm // bands} rows",
                p,
                f"{p.verified}",
                f"{p.lost} ({share:.2%})",
            )
        )
        figures[f"lsh/{num_perm}/{bands}"] = p.__dict__ | {"f1": p.f1}

    say()
    say("## Containment guards")
    say()
    say(HEAD)
    say(RULE)
    for ms, ratio in ((1, 0.0), (10, 0.05), (30, 0.15), (30, 0.25), (60, 0.15)):
        p = run(data, dataclasses.replace(base, min_shingles=ms, min_size_ratio=ratio))
        say(row(f"min shingles {ms}, min size ratio {ratio}", p))
        figures[f"guards/{ms}/{ratio}"] = p.__dict__ | {"f1": p.f1}

    default = run(data, base, exact=True)
    kinds = sorted(default.kind_pairs)
    header = [
        "# Measured accuracy",
        "",
        "Produced by `python benchmarks/sweep.py` "
        f"(seeds {' '.join(map(str, args.seeds))}, {args.articles} articles each, {docs} files in all).",
        "Corpora come from `dedup.corpus` (`python -m dedup.corpus OUT --seed N`): each article",
        "in several copies (plain, wrapped in site chrome with teasers of other posts, HTML pages,",
        "Markdown, truncated, lightly edited, OCR noise, mojibake, cp1252 / UTF-16 / GBK / Latin-1",
        "with NEL line ends, JSON Lines records) and hard negatives (other articles on the same",
        "story, pages of one site template, short quotes and comment widgets found inside many",
        "pages, samples/ 002-004). Pair precision and recall are pooled over the corpora.",
        "",
        "## The defaults",
        "",
        HEAD + " LSH loss |",
        RULE + "---|",
        row("defaults", default, f"{default.lost} of {default.verified} verified pairs"),
        "",
        "Recall by kind of copy: " + ", ".join(f"{k} {default.kind_recall(k):.3f}" for k in kinds),
        "",
    ]
    if args.holdout_seed is not None:
        held = corpora([args.holdout_seed], args.holdout_articles, args.workdir / f"a{args.holdout_articles}")
        h = run(held, base, exact=True)
        header += [
            "## A held-out corpus",
            "",
            f"Seed {args.holdout_seed}, {args.holdout_articles} articles: never used while choosing the defaults.",
            "",
            HEAD + " LSH loss |",
            RULE + "---|",
            row("defaults", h, f"{h.lost} of {h.verified} verified pairs"),
            "",
            "Recall by kind of copy: " + ", ".join(f"{k} {h.kind_recall(k):.3f}" for k in sorted(h.kind_pairs)),
            "",
        ]
    text = "\n".join(header + lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    update_section(args.out, text)
    (args.out.with_suffix(".json")).write_text(json.dumps(figures, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    if not args.no_plot:
        plot(grid, jaccards, containments, args.plot)
        print(f"wrote {args.plot}")
    return 0


def plot(
    grid: dict[tuple[float, float], Pooled], jaccards: tuple[float, ...], containments: tuple[float, ...], path: Path
) -> None:
    """F1 and precision over the threshold grid, one line per containment threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
    for c in containments:
        axes[0].plot(jaccards, [grid[(j, c)].f1 for j in jaccards], marker="o", label=f"containment {c}")
        axes[1].plot(jaccards, [grid[(j, c)].precision for j in jaccards], marker="o", label=f"containment {c}")
    axes[0].set_title("pair F1")
    axes[1].set_title("pair precision")
    for ax in axes:
        ax.set_xlabel("Jaccard threshold")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
