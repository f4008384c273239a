"""The reported clusters: each ranked group's members measured against its cleanest copy.

In:  a group's picks (cleanest first), the run's documents, shingle sets and verified
     matches, and the group's evidence.
Out: ``records.Cluster``: per member its Jaccard and containment against the cleanest
     (both ways), the rule that joined it, and its own words and decision.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from . import evidence, extract, verify
from .config import ScanConfig
from .prefer import no_file
from .records import Cluster, DocInfo, Match, Member, MemberRule, Pick
from .sets import ShingleSets


def text_loader(infos: Sequence[DocInfo], config: ScanConfig) -> Callable[[int], str]:
    """Texts by document index for the exact check's template test; a text that cannot be
    read again is empty there (the ranking stage reports the file as changed)."""

    @functools.lru_cache(maxsize=256)
    def text_of(i: int) -> str:
        doc = infos[i]
        try:
            return extract.load_text(doc.locator, doc.kind, config)
        except (OSError, ValueError, RecursionError):
            return ""

    return text_of


def member_rule(
    known: Match | None, jaccard: float, inter: int, size: int, best_size: int, config: ScanConfig
) -> MemberRule:
    """Which rule joins a member to the cleanest copy, and in which direction."""
    if known is not None:
        rule: str | None = known.rule
    else:
        rule = verify.judge(jaccard, inter / min(size, best_size) if min(size, best_size) else 0.0, size, best_size,
                            config)  # fmt: skip
    if rule is None:
        return "chain"
    if rule == "jaccard":
        return "jaccard"
    return "inside-cleanest" if size < best_size or (size == best_size and inter == size) else "contains-cleanest"


def make_cluster(
    cluster_id: int,
    picks: list[Pick],
    infos: Sequence[DocInfo],
    shingles: ShingleSets,
    measured: dict[tuple[int, int], Match],
    config: ScanConfig | None = None,
    found: Sequence[evidence.Evidence] | None = None,
) -> Cluster:
    """The reported cluster: each member measured against the cleanest copy, both ways, with
    the rule that joined it and its evidence (words of its own, the decision). A pair the
    exact check measured gives its overlap back; other pairs are measured here, and so is
    the evidence when not given (``scan`` measures all clusters' at once)."""
    config = config or ScanConfig()
    if found is None:
        found = evidence.measure([[p.index for p in picks]], shingles, text_loader(infos, config), config)[0]
    sizes = shingles.offsets
    top = picks[0].index
    best_size = int(sizes[top + 1] - sizes[top])
    best: NDArray[np.uint64] | None = None
    members = []
    for pos, (pick, ev) in enumerate(zip(picks, found, strict=True)):
        info = infos[pick.index]
        size = int(sizes[pick.index + 1] - sizes[pick.index])
        known = measured.get((min(top, pick.index), max(top, pick.index)))
        if pos == 0:
            inter = size
        elif known is not None:
            inter = round(known.containment * min(size, best_size))  # containment = inter / smaller
        else:
            best = shingles.get(top) if best is None else best
            inter = verify.overlap(best, shingles.get(pick.index))
        union = best_size + size - inter
        jaccard = inter / union if union else 1.0
        reasons = pick.reasons
        if ev.decision == "superset":
            reasons = (f"superset: contains the kept copy plus {ev.unique_words:,} words of its own", *reasons)
        members.append(
            Member(
                doc_id=info.doc_id,
                rel=info.rel,
                words=info.words,
                size=info.size,
                cleanest=pos == 0,
                jaccard=jaccard,
                containment=inter / best_size if best_size else 1.0,
                penalty=pick.penalty,
                reasons=reasons,
                record=info.record,
                record_id=info.record_id,
                in_cleanest=inter / size if size else 1.0,
                rule="" if pos == 0 else member_rule(known, jaccard, inter, size, best_size, config),
                own_words=ev.own_words,
                boilerplate_words=ev.boilerplate_words,
                decision=ev.decision,
                no_file=no_file(info.locator.path),
            )
        )
    return Cluster(cluster_id, tuple(members))
