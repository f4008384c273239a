"""Score a clustering against ground truth: pair precision/recall/F1, ARI, cleanest-copy accuracy.

In:  predicted clusters as plain ids (a ``ScanResult`` or any other clustering), the truth read
     from a JSON Lines file, and the ids of every document that was scanned.
Out: an ``EvalReport`` (frozen; ``to_dict()`` for ``--json``).

Truth file, one cluster of copies per line (documents on no line are singletons)::

    {"cluster": "a0007", "ids": ["site2/3f0c.txt", "r-19ab"], "cleanest": ["site2/3f0c.txt"],
     "variants": {"site2/3f0c.txt": "plain", "r-19ab": "jsonl"}}

``cleanest`` (the acceptable cleanest copies) and ``variants`` (a kind per member, for recall
per kind) are optional; other keys are ignored so the format can grow.

How close a pick is to the labelled copy is measured two ways: word 5-gram Jaccard (the
scan's own shingles) and ``char_ngram_jaccard``, Jaccard of character 12-grams with case,
spacing and punctuation ignored. The second is for human-cleaned references, which join
lines, drop a heading or glue two words together: word shingles punish those, characters
barely notice them.

Everything pairwise is computed from the contingency table of the two partitions, never by
listing pairs, so a million documents in big clusters cost one pass. Conventions, chosen so
that the degenerate cases read sensibly:

* no predicted pairs -> precision 1.0 (nothing claimed, nothing wrong); no truth pairs ->
  recall 1.0; F1 is 0.0 when precision + recall is 0;
* ARI is 1.0 when both partitions are trivial in the same way (all singletons, or one cluster),
  the only case where its denominator is 0 (see ``adjusted_rand_index``);
* ids named in the truth but not among the scanned documents are left out of every metric and
  counted in ``unknown_truth_ids`` (a file the scan skipped, or a truth file for another folder).
"""

from __future__ import annotations

import dataclasses
import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from .measures import (
    CHAR_NGRAM,
    PairScores,
    Similarity,
    candidate_loss,
    char_ngram_jaccard,
    char_ngrams,
    pair_measures,
    text_similarity,
)
from .truth import TruthCluster, read_truth

if TYPE_CHECKING:
    from .records import ScanResult

__all__ = [
    "CHAR_NGRAM",
    "EvalReport",
    "KindRecall",
    "PairMistake",
    "PairScores",
    "Similarity",
    "TruthCluster",
    "adjusted_rand_index",
    "candidate_loss",
    "char_ngram_jaccard",
    "char_ngrams",
    "evaluate",
    "evaluate_result",
    "pair_measures",
    "read_truth",
    "text_similarity",
]

@dataclass(frozen=True, slots=True)
class PairMistake:
    """A listed mistake: ``a`` and ``b`` stand for two groups that are wrongly together or apart.

    ``pairs`` is how many document pairs the two groups make (|group a| x |group b|); ``a`` and
    ``b`` are each group's labelled cleanest copy if it has one, else its smallest id.
    """

    a: str
    b: str
    pairs: int
    jaccard: float | None = None  # from pair_scores, when given
    containment: float | None = None
    kind_a: str | None = None  # the truth "variants" kind of a and b, when labelled
    kind_b: str | None = None
    a_in_b: float | None = None  # share of a's shingles found in b, when pair_scores gives it
    b_in_a: float | None = None
    rule: str | None = None  # the rule that joins a and b directly ("" when none does)


@dataclass(frozen=True, slots=True)
class KindRecall:
    """Recall of one variant kind: pairs (labelled cleanest copy, member of this kind) found."""

    kind: str
    pairs: int
    found: int

    @property
    def recall(self) -> float:
        return self.found / self.pairs if self.pairs else 1.0


@dataclass(frozen=True, slots=True)
class EvalReport:
    """How a clustering compares with the truth. Pair counts are unordered document pairs."""

    documents: int  # documents in the evaluated universe (all_ids)
    truth_clusters: int  # truth clusters with 2+ members among the documents
    predicted_clusters: int  # predicted clusters with 2+ members
    truth_pairs: int
    predicted_pairs: int
    true_pairs: int  # pairs together in both
    ari: float
    cleanest_evaluated: int  # labelled truth clusters with 2+ members: the accuracy's denominator
    cleanest_found: int  # ...whose majority predicted cluster holds 2+ of their members
    cleanest_correct: int  # ...found, and that cluster's cleanest pick is an acceptable copy
    cleanest_checked: bool  # False when no cleanest picks were given
    cleanest_similarity: float | None  # mean similarity(pick, nearest labelled copy) over found
    cleanest_char_similarity: float | None  # the same with char_similarity (character 12-grams)
    recall_by_kind: tuple[KindRecall, ...]  # sorted by kind
    false_merges: tuple[PairMistake, ...]  # most pairs first
    missed_pairs: tuple[PairMistake, ...]  # most similar first (most pairs when no scores)
    unknown_truth_ids: int

    @property
    def precision(self) -> float:
        return self.true_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_pairs / self.truth_pairs if self.truth_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def false_merge_pairs(self) -> int:
        return self.predicted_pairs - self.true_pairs

    @property
    def missed_pair_count(self) -> int:
        return self.truth_pairs - self.true_pairs

    @property
    def cleanest_accuracy(self) -> float | None:
        """Correct picks over labelled truth clusters (unfound ones count as wrong)."""
        if not self.cleanest_checked or not self.cleanest_evaluated:
            return None
        return self.cleanest_correct / self.cleanest_evaluated

    @property
    def labelled_picked(self) -> float | None:
        """Share of the found labelled clusters whose pick is a labelled copy itself (not merely
        one close to it): the accuracy with clusters the scan did not find left out."""
        if not self.cleanest_checked or not self.cleanest_found:
            return None
        return self.cleanest_correct / self.cleanest_found

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict: the stored fields plus the derived metrics."""
        return {
            "documents": self.documents,
            "truth_clusters": self.truth_clusters,
            "predicted_clusters": self.predicted_clusters,
            "truth_pairs": self.truth_pairs,
            "predicted_pairs": self.predicted_pairs,
            "true_pairs": self.true_pairs,
            "false_merge_pairs": self.false_merge_pairs,
            "missed_pairs": self.missed_pair_count,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "ari": self.ari,
            "cleanest": {
                "accuracy": self.cleanest_accuracy,
                "evaluated": self.cleanest_evaluated,
                "found": self.cleanest_found,
                "correct": self.cleanest_correct,
                "similarity": self.cleanest_similarity,
                "char_similarity": self.cleanest_char_similarity,
                "labelled_picked": self.labelled_picked,
            },
            "recall_by_kind": {
                k.kind: {"pairs": k.pairs, "found": k.found, "recall": k.recall} for k in self.recall_by_kind
            },
            "worst_false_merges": [_mistake_dict(m) for m in self.false_merges],
            "worst_missed_pairs": [_mistake_dict(m) for m in self.missed_pairs],
            "unknown_truth_ids": self.unknown_truth_ids,
        }


def _mistake_dict(m: PairMistake) -> dict[str, object]:
    return {
        "a": m.a,
        "b": m.b,
        "pairs": m.pairs,
        "jaccard": m.jaccard,
        "containment": m.containment,
        "kind_a": m.kind_a,
        "kind_b": m.kind_b,
    } | ({} if m.rule is None else {"a_in_b": m.a_in_b, "b_in_a": m.b_in_a, "rule": m.rule})


# --- metrics ---------------------------------------------------------------------------------


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def adjusted_rand_index(
    contingency: Iterable[int], row_sizes: Iterable[int], col_sizes: Iterable[int], n: int
) -> float:
    """Hubert & Arabie's adjusted Rand index from a contingency table, in exact integers.

    With I = sum C(n_ij, 2), A = sum C(a_i, 2), B = sum C(b_j, 2) and N = C(n, 2),
    ARI = (I - AB/N) / ((A + B)/2 - AB/N) = 2(NI - AB) / (N(A + B) - 2AB). Since AB <= N min(A, B),
    the denominator is 0 only when A = B and (A = 0 or A = N): both partitions all singletons,
    or both one cluster. They are then identical, and the ARI is 1.0 (as in scikit-learn).

    Args:
        contingency: the non-zero cells n_ij (zeros and ones may be left out: they add nothing).
        row_sizes: the cluster sizes of one partition (singletons may be left out).
        col_sizes: the cluster sizes of the other.
        n: the number of items both partitions cover.

    Example:
        >>> adjusted_rand_index([2, 1, 1, 2], [2, 2, 2], [3, 3], 6)  # 8/33
        0.24242424242424243
    """
    index = sum(_pairs(c) for c in contingency)
    a = sum(_pairs(s) for s in row_sizes)
    b = sum(_pairs(s) for s in col_sizes)
    total = _pairs(n)
    denominator = total * (a + b) - 2 * a * b
    if denominator == 0:
        return 1.0
    return float(Fraction(2 * (total * index - a * b), denominator))


def evaluate(
    predicted: Sequence[Sequence[str]],
    truth: Sequence[TruthCluster],
    all_ids: Iterable[str],
    *,
    cleanest: Sequence[str] | None = None,
    similarity: Similarity | None = None,
    char_similarity: Similarity | None = None,
    pair_scores: PairScores | None = None,
    top: int = 10,
) -> EvalReport:
    """Score a clustering of ``all_ids`` against the truth.

    Args:
        predicted: clusters of ids; ids in none of them are singletons. Order does not matter.
        truth: from ``read_truth``; ids not in ``all_ids`` are ignored (and counted).
        all_ids: every document that was scanned (the universe the ARI is computed over).
        cleanest: the picked cleanest copy of each predicted cluster, parallel to ``predicted``;
            None when the clustering picks none (the cleanest metrics are then not computed).
        similarity: ``similarity(a, b)``, e.g. word 5-gram Jaccard of two texts, for the mean
            similarity of each pick to the nearest labelled cleanest copy; None reports None.
        char_similarity: the same with a second measure, e.g. ``text_similarity``'s character
            12-gram Jaccard; None reports None.
        pair_scores: ``pair_scores(a, b) -> (jaccard, containment)`` for the listed mistakes;
            called once per listed false merge and once per missed-pair candidate (one per
            predicted group a truth cluster is split into, so linear in the misses).
        top: how many false merges and missed pairs to list.

    Returns:
        An EvalReport; it depends only on the partitions and picks, not on any order given.

    Raises:
        ValueError: an id is predicted twice or is not in ``all_ids``; a pick is not a member
            of its cluster; ``cleanest`` and ``predicted`` differ in length.

    Example:
        >>> t = [TruthCluster("x", ("a", "b"), ("a",))]
        >>> r = evaluate([["a", "b"]], t, ["a", "b", "c"], cleanest=["a"])
        >>> (r.precision, r.recall, r.ari, r.cleanest_accuracy)
        (1.0, 1.0, 1.0, 1.0)
    """
    universe = set(all_ids)
    pred_of, groups = _predicted_index(predicted, universe)
    picks = _picks(predicted, cleanest)
    truth_of: dict[str, int] = {}
    members: list[tuple[str, ...]] = []
    unknown = 0
    for t, cluster in enumerate(truth):
        kept = tuple(sorted(i for i in cluster.ids if i in universe))
        unknown += len(cluster.ids) - len(kept)
        members.append(kept)
        for doc_id in kept:
            truth_of[doc_id] = t

    cells = Counter((pred_of[i], truth_of[i]) for i in set(pred_of).intersection(truth_of))
    true_pairs = sum(_pairs(c) for c in cells.values())
    pred_sizes = [len(g) for g in groups]
    truth_sizes = [len(m) for m in members if len(m) > 1]
    ari = adjusted_rand_index(cells.values(), pred_sizes, truth_sizes, len(universe))

    evaluated = found = correct = 0
    sims: list[float] = []
    char_sims: list[float] = []
    kind_pairs: Counter[str] = Counter()
    kind_found: Counter[str] = Counter()
    for cluster, kept in zip(truth, members, strict=True):
        labelled = [c for c in cluster.cleanest if c in universe]
        if len(kept) < 2 or not labelled:
            continue
        for doc_id in kept:
            kind = cluster.variants.get(doc_id)
            if kind is None or doc_id in labelled:
                continue
            kind_pairs[kind] += len(labelled)
            p = pred_of.get(doc_id)
            kind_found[kind] += sum(1 for c in labelled if p is not None and pred_of.get(c) == p)
        if picks is None:
            continue
        evaluated += 1
        best = _majority_cluster(kept, pred_of, groups)
        if best is None:
            continue
        found += 1
        pick = picks[best]
        correct += pick in labelled
        if similarity is not None:
            sims.append(1.0 if pick in labelled else max(similarity(pick, c) for c in labelled))
        if char_similarity is not None:
            char_sims.append(1.0 if pick in labelled else max(char_similarity(pick, c) for c in labelled))

    kind_of = {i: k for c in truth for i, k in c.variants.items()}
    cleanest_of = {i: t for t, c in enumerate(truth) for i in c.cleanest}
    return EvalReport(
        documents=len(universe),
        truth_clusters=len(truth_sizes),
        predicted_clusters=len(groups),
        truth_pairs=sum(_pairs(s) for s in truth_sizes),
        predicted_pairs=sum(_pairs(s) for s in pred_sizes),
        true_pairs=true_pairs,
        ari=ari,
        cleanest_evaluated=evaluated,
        cleanest_found=found,
        cleanest_correct=correct,
        cleanest_checked=picks is not None,
        cleanest_similarity=sum(sims) / len(sims) if sims else None,
        cleanest_char_similarity=sum(char_sims) / len(char_sims) if char_sims else None,
        recall_by_kind=tuple(KindRecall(k, kind_pairs[k], kind_found[k]) for k in sorted(kind_pairs)),
        false_merges=_false_merges(groups, truth_of, cleanest_of, kind_of, pair_scores, top),
        missed_pairs=_missed_pairs(members, pred_of, cleanest_of, kind_of, pair_scores, top),
        unknown_truth_ids=unknown,
    )


def evaluate_result(
    result: ScanResult,
    truth: Sequence[TruthCluster],
    pair_scores: PairScores | None = None,
    *,
    similarity: Similarity | None = None,
    char_similarity: Similarity | None = None,
    top: int = 10,
) -> EvalReport:
    """``evaluate`` for a ScanResult: its clusters, their members[0] as the picks, its docs as ids."""
    predicted = [[m.doc_id for m in c.members] for c in result.clusters]
    truth = _with_document_ids(truth, result)
    return evaluate(
        predicted,
        truth,
        [d.doc_id for d in result.docs],
        cleanest=[c.members[0].doc_id for c in result.clusters],
        similarity=similarity,
        char_similarity=char_similarity,
        pair_scores=pair_scores,
        top=top,
    )


def _with_document_ids(truth: Sequence[TruthCluster], result: ScanResult) -> Sequence[TruthCluster]:
    """The truth with record ids as the scan names the records (``rel:id``): a truth id that
    is no document's id but the record id of exactly one record stands for that record."""
    ids = {d.doc_id for d in result.docs}
    owners: dict[str, list[str]] = defaultdict(list)
    for d in result.docs:
        if d.record_id is not None and d.record_id not in ids:
            owners[d.record_id].append(d.doc_id)
    alias = {rid: found[0] for rid, found in owners.items() if len(found) == 1}
    if not alias:
        return truth

    def one(x: str) -> str:
        return alias.get(x, x)

    return [
        dataclasses.replace(
            t,
            ids=tuple(map(one, t.ids)),
            cleanest=tuple(map(one, t.cleanest)),
            variants={one(k): v for k, v in t.variants.items()},
        )
        for t in truth
    ]


# --- helpers ---------------------------------------------------------------------------------


def _predicted_index(
    predicted: Sequence[Sequence[str]], universe: set[str]
) -> tuple[dict[str, int], list[tuple[str, ...]]]:
    """id -> index of its predicted cluster (2+ members only), and those clusters sorted."""
    pred_of: dict[str, int] = {}
    groups: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for cluster in predicted:
        for doc_id in cluster:
            if doc_id not in universe:
                raise ValueError(f"predicted id {doc_id!r} is not among all_ids")
            if doc_id in seen:
                raise ValueError(f"id {doc_id!r} is in two predicted clusters")
            seen.add(doc_id)
        if len(cluster) > 1:
            for doc_id in cluster:
                pred_of[doc_id] = len(groups)
            groups.append(tuple(sorted(cluster)))
    return pred_of, groups


def _picks(predicted: Sequence[Sequence[str]], cleanest: Sequence[str] | None) -> dict[int, str] | None:
    """Pick of each 2+ cluster, keyed like ``_predicted_index``'s groups."""
    if cleanest is None:
        return None
    if len(cleanest) != len(predicted):
        raise ValueError(f"cleanest has {len(cleanest)} picks for {len(predicted)} predicted clusters")
    out: dict[int, str] = {}
    for cluster, pick in zip(predicted, cleanest, strict=True):
        if pick not in cluster:
            raise ValueError(f"cleanest pick {pick!r} is not a member of its cluster")
        if len(cluster) > 1:
            out[len(out)] = pick
    return out


def _majority_cluster(kept: Sequence[str], pred_of: Mapping[str, int], groups: Sequence[tuple[str, ...]]) -> int | None:
    """The predicted cluster holding most of ``kept`` (ties: smallest first id), if it holds 2+."""
    counts = Counter(pred_of[i] for i in kept if i in pred_of)
    if not counts:
        return None
    best = min(counts, key=lambda p: (-counts[p], groups[p][0]))
    return best if counts[best] >= 2 else None


def _split(ids: Iterable[str], key: Callable[[str], object]) -> list[list[str]]:
    """``ids`` grouped by ``key`` (ids whose key is None each alone), groups in id order."""
    by_key: dict[object, list[str]] = defaultdict(list)
    alone: list[list[str]] = []
    for doc_id in sorted(ids):
        k = key(doc_id)
        if k is None:
            alone.append([doc_id])
        else:
            by_key[k].append(doc_id)
    return sorted([*by_key.values(), *alone], key=lambda g: g[0])


def _representative(group: Sequence[str], cleanest_of: Mapping[str, int]) -> str:
    """A group's labelled cleanest copy if it has one, else its smallest id."""
    return next((i for i in group if i in cleanest_of), group[0])


def _mistake(
    ga: Sequence[str],
    gb: Sequence[str],
    cleanest_of: Mapping[str, int],
    kind_of: Mapping[str, str],
    pair_scores: PairScores | None,
) -> PairMistake:
    a, b = _representative(ga, cleanest_of), _representative(gb, cleanest_of)
    scores = pair_scores(a, b) if pair_scores is not None else None
    found = PairMistake(a, b, len(ga) * len(gb), None, None, kind_of.get(a), kind_of.get(b))
    if scores is None:
        return found
    if len(scores) == 5:
        return dataclasses.replace(found, jaccard=scores[0], containment=scores[1], a_in_b=scores[2], b_in_a=scores[3],
                                   rule=scores[4])  # fmt: skip
    return dataclasses.replace(found, jaccard=scores[0], containment=scores[1])


def _false_merges(
    groups: Sequence[tuple[str, ...]],
    truth_of: Mapping[str, int],
    cleanest_of: Mapping[str, int],
    kind_of: Mapping[str, str],
    pair_scores: PairScores | None,
    top: int,
) -> tuple[PairMistake, ...]:
    """The ``top`` false merges with the most pairs: one entry per two truth groups merged."""

    def candidates() -> Iterator[tuple[int, str, str, Sequence[str], Sequence[str]]]:
        for group in groups:
            parts = _split(group, truth_of.get)
            if len(parts) < 2:
                continue
            # Only the top+1 largest parts can make the top pairs of this cluster.
            parts = sorted(parts, key=lambda g: (-len(g), g[0]))[: top + 1]
            for x, ga in enumerate(parts):
                for gb in parts[x + 1 :]:
                    first, second = sorted((ga, gb), key=lambda g: g[0])
                    yield len(ga) * len(gb), first[0], second[0], first, second

    best = heapq.nsmallest(top, candidates(), key=lambda c: (-c[0], c[1], c[2]))
    return tuple(_mistake(ga, gb, cleanest_of, kind_of, pair_scores) for _, _, _, ga, gb in best)


def _missed_pairs(
    members: Sequence[tuple[str, ...]],
    pred_of: Mapping[str, int],
    cleanest_of: Mapping[str, int],
    kind_of: Mapping[str, str],
    pair_scores: PairScores | None,
    top: int,
) -> tuple[PairMistake, ...]:
    """The ``top`` missed pairs, most similar first: each split-off group against the main one.

    The main group of a split truth cluster is the part holding its labelled cleanest copy (else
    the largest part); every other part is listed against it, so a cluster split n ways gives n-1
    candidates. Without pair_scores the candidates are ordered by pairs, most first.
    """
    found: list[PairMistake] = []
    for kept in members:
        if len(kept) < 2:
            continue
        parts = _split(kept, pred_of.get)
        if len(parts) < 2:
            continue
        main = next((g for g in parts if any(i in cleanest_of for i in g)), None)
        if main is None:
            main = min(parts, key=lambda g: (-len(g), g[0]))
        for part in parts:
            if part is not main:
                found.append(_mistake(main, part, cleanest_of, kind_of, pair_scores))

    def order(m: PairMistake) -> tuple[float, float, int, str, str]:
        return (-(m.jaccard or 0.0), -(m.containment or 0.0), -m.pairs, m.a, m.b)

    return tuple(heapq.nsmallest(top, found, key=order))
