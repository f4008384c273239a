"""evaluate.py: exact numbers on hand-made cases, the truth file's errors, and the laws."""

from __future__ import annotations

import itertools
import json
import random
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.errors import ConfigError, InputError
from dedup.evaluate import (
    EvalReport,
    PairMistake,
    TruthCluster,
    adjusted_rand_index,
    evaluate,
    evaluate_result,
    read_truth,
)
from dedup.records import Cluster, DocInfo, Locator, Member, ScanResult, Summary

IDS = ["a", "b", "c", "d", "e", "f"]
TRUTH = [TruthCluster("x", ("a", "b", "c"), ("a",)), TruthCluster("y", ("d", "e", "f"), ("d",))]


def test_perfect_clustering_scores_one() -> None:
    r = evaluate([["a", "b", "c"], ["f", "e", "d"]], TRUTH, IDS, cleanest=["a", "d"])
    assert (r.precision, r.recall, r.f1, r.ari) == (1.0, 1.0, 1.0, 1.0)
    assert (r.truth_pairs, r.predicted_pairs, r.true_pairs) == (6, 6, 6)
    assert (r.cleanest_accuracy, r.cleanest_evaluated, r.cleanest_found, r.cleanest_correct) == (1.0, 2, 2, 2)
    assert r.false_merges == () and r.missed_pairs == ()


def test_everything_merged() -> None:
    r = evaluate([IDS], TRUTH, IDS)
    # 15 predicted pairs, 6 of them true; I = 6, A = 15, B = 6, N = 15 -> ARI numerator 2(90 - 90) = 0.
    assert (r.predicted_pairs, r.true_pairs) == (15, 6)
    assert r.precision == pytest.approx(0.4)
    assert r.recall == 1.0
    assert r.f1 == pytest.approx(2 * 0.4 / 1.4)
    assert r.ari == 0.0
    assert r.cleanest_accuracy is None  # no picks given
    assert r.false_merges == (PairMistake("a", "d", 9),)


def test_all_singletons() -> None:
    """No predicted pairs: precision is 1.0 by convention, recall 0, so F1 is 0."""
    r = evaluate([], TRUTH, IDS, cleanest=[])
    assert (r.precision, r.recall, r.f1, r.ari) == (1.0, 0.0, 0.0, 0.0)
    # Truth clusters split into singletons: evaluated, not found, wrong.
    assert (r.cleanest_accuracy, r.cleanest_evaluated, r.cleanest_found) == (0.0, 2, 0)
    assert [(m.a, m.b, m.pairs) for m in r.missed_pairs] == [("a", "b", 1), ("a", "c", 1), ("d", "e", 1), ("d", "f", 1)]


def test_hand_computed_case() -> None:
    """Truth {abc}{def}, predicted {ab}{cd}{ef}.

    Cells: ab=2, c=1, d=1, ef=2 -> I = 2. A = 1+1+1 = 3, B = 3+3 = 6, N = C(6,2) = 15.
    Expected index AB/N = 1.2, max (A+B)/2 = 4.5, ARI = (2 - 1.2)/(4.5 - 1.2) = 8/33.
    Precision 2/3, recall 2/6, F1 = 2(2/9)/(1) = 4/9.
    """
    r = evaluate([["a", "b"], ["c", "d"], ["e", "f"]], TRUTH, IDS, cleanest=["b", "c", "e"])
    assert r.ari == float(Fraction(8, 33))
    assert r.precision == pytest.approx(2 / 3)
    assert r.recall == pytest.approx(1 / 3)
    assert r.f1 == pytest.approx(4 / 9)
    # x's majority cluster is {a,b} (pick b: wrong); y's is {e,f} (2 of 3; pick e: wrong).
    assert (r.cleanest_found, r.cleanest_correct, r.cleanest_accuracy) == (2, 0, 0.0)
    assert adjusted_rand_index([2, 1, 1, 2], [2, 2, 2], [3, 3], 6) == float(Fraction(8, 33))


def test_ari_degenerate_partitions() -> None:
    assert adjusted_rand_index([], [], [], 5) == 1.0  # both all singletons
    assert adjusted_rand_index([5], [5], [5], 5) == 1.0  # both one cluster
    assert adjusted_rand_index([], [], [], 0) == 1.0
    assert adjusted_rand_index([], [], [2], 2) == 0.0


def test_cleanest_majority_and_similarity() -> None:
    truth = [TruthCluster("x", ("a", "b", "c", "d"), ("a", "b"))]
    ids = [*"abcdefg"]
    sims = {("c", "a"): 0.5, ("c", "b"): 0.75}
    r = evaluate(
        [["c", "d", "e"], ["a", "f"]],
        truth,
        ids,
        cleanest=["c", "a"],
        similarity=lambda x, y: sims[(x, y)],
    )
    # {c,d,e} holds 2 of x's members, {a,f} 1: the pick of {c,d,e} is c, not acceptable.
    assert (r.cleanest_found, r.cleanest_correct) == (1, 0)
    assert r.cleanest_similarity == 0.75  # nearest acceptable copy
    r2 = evaluate([["a", "c", "d"]], truth, ids, cleanest=["a"], similarity=lambda x, y: 0.0)
    assert (r2.cleanest_accuracy, r2.cleanest_similarity) == (1.0, 1.0)
    # A tie (2 and 2) goes to the cluster with the smallest first id: {a, b}.
    r3 = evaluate([["c", "d"], ["b", "a"]], truth, ids, cleanest=["c", "b"])
    assert r3.cleanest_correct == 1
    # No similarity callable: None.
    assert evaluate([["a", "b"]], truth, ids, cleanest=["a"]).cleanest_similarity is None


def test_recall_by_kind() -> None:
    truth = [
        TruthCluster("x", ("p", "w", "h", "t"), ("p",), {"p": "plain", "w": "wrapped", "h": "html", "t": "wrapped"}),
        TruthCluster("y", ("q", "u"), ("q",), {"q": "plain", "u": "html"}),
        TruthCluster("z", ("r", "s"), (), {"r": "plain", "s": "html"}),  # no cleanest label: not counted
    ]
    ids = [*"pwhtqurs"]
    r = evaluate([["p", "w", "h"], ["q", "u"], ["r", "s"]], truth, ids)
    by = {k.kind: (k.pairs, k.found, k.recall) for k in r.recall_by_kind}
    assert by == {"html": (2, 2, 1.0), "wrapped": (2, 1, 0.5)}
    assert [k.kind for k in r.recall_by_kind] == ["html", "wrapped"]
    missed = r.missed_pairs
    assert [(m.a, m.b, m.pairs, m.kind_a, m.kind_b) for m in missed] == [("p", "t", 3, "plain", "wrapped")]


def test_mistakes_with_scores_order_and_limit() -> None:
    truth = [TruthCluster(f"c{i}", (f"a{i}", f"b{i}"), (f"a{i}",)) for i in range(6)]
    ids = [x for c in truth for x in c.ids] + ["lone1", "lone2"]
    scores = {f"b{i}": (0.1 * i, 0.9) for i in range(6)}
    calls: list[tuple[str, str]] = []

    def pair_scores(x: str, y: str) -> tuple[float, float]:
        calls.append((x, y))
        return scores.get(y, (0.2, 0.3))

    # Every truth pair but c2 missed; a0 falsely merged with lone1 and lone2, a1 with a2 and b2.
    r = evaluate([["a0", "lone1", "lone2"], ["a1", "a2", "b2"]], truth, ids, pair_scores=pair_scores, top=3)
    assert [(m.a, m.b) for m in r.missed_pairs] == [("a5", "b5"), ("a4", "b4"), ("a3", "b3")]
    assert r.missed_pairs[0].jaccard == pytest.approx(0.5)
    assert r.missed_pairs[0].containment == 0.9
    # False merges: ({a2,b2} x {a1}) is 2 pairs, then the 1-pair merges by id.
    assert [(m.a, m.b, m.pairs) for m in r.false_merges] == [("a1", "a2", 2), ("a0", "lone1", 1), ("a0", "lone2", 1)]
    assert r.false_merge_pairs == 5  # lone1-lone2 is a false merge too
    assert r.missed_pair_count == 5
    assert len(calls) == 5 + 3  # one per missed candidate, one per listed false merge


def test_unknown_truth_ids_are_left_out_and_counted() -> None:
    truth = [TruthCluster("x", ("a", "b", "gone"), ("gone",))]
    r = evaluate([["a", "b"]], truth, ["a", "b"], cleanest=["a"])
    assert r.unknown_truth_ids == 1
    assert (r.precision, r.recall) == (1.0, 1.0)
    assert r.cleanest_evaluated == 0  # its only labelled copy was not scanned


@pytest.mark.parametrize(
    ("predicted", "cleanest", "message"),
    [
        ([["a", "zz"]], None, "predicted id 'zz' is not among all_ids"),
        ([["a", "b"], ["b", "c"]], None, "id 'b' is in two predicted clusters"),
        ([["a", "b"]], ["c"], "cleanest pick 'c' is not a member of its cluster"),
        ([["a", "b"]], [], "cleanest has 0 picks for 1 predicted clusters"),
    ],
)
def test_evaluate_rejects_bad_predictions(predicted: list[list[str]], cleanest: list[str] | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        evaluate(predicted, TRUTH, IDS, cleanest=cleanest)


def test_to_dict_is_json() -> None:
    r = evaluate([["a", "b"], ["c", "d"]], TRUTH, IDS, cleanest=["a", "c"], pair_scores=lambda x, y: (0.5, 0.25))
    d = json.loads(json.dumps(r.to_dict()))
    assert d["precision"] == 0.5 and d["true_pairs"] == 1 and d["cleanest"]["accuracy"] == 0.5
    assert d["worst_false_merges"][0] == {
        "a": "c",
        "b": "d",
        "pairs": 1,
        "jaccard": 0.5,
        "containment": 0.25,
        "kind_a": None,
        "kind_b": None,
    }


def test_big_clusters_are_not_enumerated() -> None:
    """200k documents in two truth clusters, predicted as one: 2e10 pairs, one pass."""
    ids = [f"d{i:06d}" for i in range(200_000)]
    truth = [TruthCluster("x", tuple(ids[:100_000]), (ids[0],)), TruthCluster("y", tuple(ids[100_000:]))]
    r = evaluate([ids], truth, ids, cleanest=[ids[5]])
    assert r.predicted_pairs == 200_000 * 199_999 // 2
    assert r.true_pairs == 2 * (100_000 * 99_999 // 2)
    assert r.false_merges == (PairMistake("d000000", "d100000", 10**10),)
    assert r.cleanest_found == 1 and r.cleanest_correct == 0


def test_evaluate_result_reads_a_scan_result() -> None:
    def member(doc_id: str, cleanest: bool) -> Member:
        return Member(doc_id, doc_id, 10, 100, cleanest, 1.0, 1.0, 0.0, ())

    docs = tuple(DocInfo(i, d, d, "text", "utf-8", 100, 10, 6, Locator(d)) for i, d in enumerate(IDS))
    result = ScanResult(
        roots=("x",),
        params={},
        summary=Summary(6, 6, 0, 2, 3, 300, 3, 3),
        clusters=(
            Cluster(0, (member("b", True), member("a", False), member("c", False))),
            Cluster(1, (member("d", True), member("e", False))),
        ),
        skipped=(),
        docs=docs,
    )
    r = evaluate_result(result, TRUTH)
    assert (r.documents, r.true_pairs, r.truth_pairs, r.predicted_pairs) == (6, 4, 6, 4)
    assert (r.cleanest_correct, r.cleanest_evaluated) == (1, 2)  # b is not x's cleanest; d is y's


# --- the truth file ------------------------------------------------------------------------------


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "truth.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_read_truth_happy(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '{"cluster": "a", "ids": ["x/1.txt", "x/2.html"], "cleanest": ["x/1.txt"], "variants": {"x/2.html": "html"}}',
        "",
        '{"cluster": 7, "ids": [12, "r-3"], "extra": true}',
    )
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # a BOM is tolerated
    a, b = read_truth(path)
    assert a == TruthCluster("a", ("x/1.txt", "x/2.html"), ("x/1.txt",), {"x/2.html": "html"}, 1)
    assert b == TruthCluster("7", ("12", "r-3"), (), {}, 3)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"cluster": 1, "ids": ["a"]}', "{nope"], r"truth.jsonl:2: not valid JSON \(Expecting"),
        (["[1, 2]"], "truth.jsonl:1: expected a JSON object, got list"),
        (['{"ids": ["a"]}'], 'truth.jsonl:1: missing "cluster"'),
        (['{"cluster": null, "ids": ["a"]}'], 'truth.jsonl:1: "cluster" must be a string or an integer'),
        (['{"cluster": 1}'], 'truth.jsonl:1: "ids" must be a list of ids'),
        (['{"cluster": 1, "ids": []}'], 'truth.jsonl:1: "ids" must be a non-empty list of ids'),
        (['{"cluster": 1, "ids": ["a", 2.5]}'], 'truth.jsonl:1: "ids" holds 2.5, not an id'),
        (['{"cluster": 1, "ids": ["a", "a"]}'], "truth.jsonl:1: id 'a' appears twice in \"ids\""),
        (['{"cluster": 1, "ids": ["a"], "cleanest": ["b"]}'], "truth.jsonl:1: cleanest id 'b' is not in \"ids\""),
        (['{"cluster": 1, "ids": ["a"], "variants": ["a"]}'], '"variants" must be an object'),
        (['{"cluster": 1, "ids": ["a"], "variants": {"b": "html"}}'], "variants id 'b' is not in \"ids\""),
        (['{"cluster": 1, "ids": ["a"], "variants": {"a": 3}}'], "variant kind of 'a' must be a non-empty string"),
        (
            ['{"cluster": 1, "ids": ["a", "b"]}', '{"cluster": 2, "ids": ["c", "b"]}'],
            "truth.jsonl:2: id 'b' is already in cluster '1' \\(line 1\\)",
        ),
        (['{"cluster": 1, "ids": ["a"]}', '{"cluster": "1", "ids": ["b"]}'], "cluster '1' already used on line 1"),
    ],
)
def test_read_truth_errors(tmp_path: Path, lines: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        read_truth(write(tmp_path, *lines))
    assert "\n" not in str(info.value)


def test_read_truth_bad_utf8_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"cluster": 1, "ids": ["a"]}\n{"cluster": "\xff"}\n')
    with pytest.raises(ConfigError, match=r"t.jsonl:2: not valid UTF-8"):
        read_truth(path)
    with pytest.raises(InputError, match="cannot read truth file"):
        read_truth(tmp_path / "missing.jsonl")


# --- laws ----------------------------------------------------------------------------------------


@st.composite
def partitions(draw: st.DrawFn) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """A universe of ids and two random partitions of it (as cluster lists, singletons included)."""
    n = draw(st.integers(0, 14))
    ids = [f"i{k}" for k in range(n)]
    pred = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    true = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))

    def clusters(labels: list[int]) -> list[list[str]]:
        out: dict[int, list[str]] = {}
        for doc_id, label in zip(ids, labels, strict=True):
            out.setdefault(label, []).append(doc_id)
        return list(out.values())

    return ids, clusters(pred), clusters(true)


def brute_force(ids: list[str], pred: list[list[str]], true: list[list[str]]) -> tuple[int, int, int, int]:
    """Pair counts by listing every pair: (together in both, only predicted, only truth, neither)."""
    p = {i: k for k, c in enumerate(pred) for i in c}
    t = {i: k for k, c in enumerate(true) for i in c}
    a = b = c = d = 0
    for x, y in itertools.combinations(ids, 2):
        same_p, same_t = p[x] == p[y], t[x] == t[y]
        a += same_p and same_t
        b += same_p and not same_t
        c += same_t and not same_p
        d += not same_p and not same_t
    return a, b, c, d


@settings(max_examples=200)
@given(partitions())
def test_metrics_match_brute_force(case: tuple[list[str], list[list[str]], list[list[str]]]) -> None:
    ids, pred, true = case
    truth = [TruthCluster(str(k), tuple(c)) for k, c in enumerate(true)]
    r = evaluate(pred, truth, ids)
    a, b, c, d = brute_force(ids, pred, true)
    assert (r.true_pairs, r.false_merge_pairs, r.missed_pair_count) == (a, b, c)
    # ARI from the pair counts (Steinley 2004): 2(ad - bc) / ((a+b)(b+d) + (a+c)(c+d)).
    denominator = (a + b) * (b + d) + (a + c) * (c + d)
    expected = 1.0 if denominator == 0 else float(Fraction(2 * (a * d - b * c), denominator))
    assert r.ari == expected
    assert r.precision == (a / (a + b) if a + b else 1.0)
    assert r.recall == (a / (a + c) if a + c else 1.0)


@settings(max_examples=100)
@given(partitions(), st.randoms(use_true_random=False))
def test_report_ignores_every_order(
    case: tuple[list[str], list[list[str]], list[list[str]]], rnd: random.Random
) -> None:
    ids, pred, true = case
    truth = [TruthCluster(str(k), tuple(c), (c[-1],), {i: f"k{len(i) % 3}" for i in c}) for k, c in enumerate(true)]
    picks = [c[0] for c in pred]

    def run(pred: list[list[str]], picks: list[str], truth: list[TruthCluster], ids: list[str]) -> EvalReport:
        def scores(x: str, y: str) -> tuple[float, float]:
            return (len(x + y) % 5) / 5, 0.5

        return evaluate(pred, truth, ids, cleanest=picks, pair_scores=scores, similarity=lambda x, y: 0.5, top=3)

    first = run(pred, picks, truth, ids)
    order = list(range(len(pred)))
    rnd.shuffle(order)
    shuffled = [rnd.sample(pred[k], len(pred[k])) for k in order]
    shuffled_truth = [
        TruthCluster(c.cluster, tuple(rnd.sample(c.ids, len(c.ids))), c.cleanest, c.variants)
        for c in rnd.sample(truth, len(truth))
    ]
    second = run(shuffled, [picks[k] for k in order], shuffled_truth, rnd.sample(ids, len(ids)))
    assert first == second
