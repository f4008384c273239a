"""The character 12-gram measure of a pick against the labelled copy, and the share of groups
whose labelled copy itself was picked (dedup eval on real pages with human-cleaned text)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup.cli import main
from dedup.evaluate import TruthCluster, char_ngram_jaccard, char_ngrams, evaluate


def test_char_ngrams_ignore_case_spacing_and_punctuation() -> None:
    assert char_ngrams("Ab-c d", 3) == frozenset({"abc", "bcd"})
    assert char_ngrams("ÉTÉ, été", 4) == frozenset({"étéé", "téét", "éété"})
    assert char_ngrams("ｆｕｌｌ", 4) == frozenset({"full"})  # NFKC: full-width letters
    assert char_ngrams("ab", 12) == frozenset({"ab"})  # shorter than n: itself
    assert char_ngrams(" -- !", 12) == frozenset()


def test_char_ngram_jaccard_exact_values() -> None:
    # 26 letters -> 15 12-grams; one letter changed in the middle (m -> x) breaks the 12
    # n-grams that cover it: 3 shared of 15 + 15 - 3 = 27.
    a = "abcdefghijklmnopqrstuvwxyz"
    b = "abcdefghijklxnopqrstuvwxyz"
    assert char_ngram_jaccard(a, b) == pytest.approx(3 / 27)
    # The human gold's artifacts cost nothing: glued words, joined lines, case, punctuation.
    gold = "The council met on Tuesday.\nIt voted to close the old bridge."
    copy = "the council met on tuesday. It voted to close the old  bridge"
    assert char_ngram_jaccard(gold, copy) == 1.0
    assert char_ngram_jaccard("Hello, World", "helloworld") == 1.0
    # Extra text: 26 letters vs the same plus 4 -> 15 shared of 19.
    assert char_ngram_jaccard(a, a + "abcd") == pytest.approx(15 / 19)
    assert char_ngram_jaccard("", "...") == 1.0  # nothing to compare on either side
    assert char_ngram_jaccard("", a) == 0.0


def test_evaluate_reports_char_similarity_and_labelled_picked() -> None:
    truth = [
        TruthCluster("p1", ("p1/gold.txt", "p1/a.txt", "p1/page.html"), ("p1/gold.txt",)),
        TruthCluster("p2", ("p2/gold.txt", "p2/a.txt"), ("p2/gold.txt",)),
        TruthCluster("p3", ("p3/gold.txt", "p3/a.txt"), ("p3/gold.txt",)),
    ]
    ids = [i for c in truth for i in c.ids]
    sims = {("p2/a.txt", "p2/gold.txt"): 0.5}
    r = evaluate(
        [["p1/gold.txt", "p1/a.txt", "p1/page.html"], ["p2/a.txt", "p2/gold.txt"]],  # p3 not found
        truth,
        ids,
        cleanest=["p1/gold.txt", "p2/a.txt"],
        char_similarity=lambda x, y: sims[(x, y)],
    )
    assert (r.cleanest_found, r.cleanest_correct, r.cleanest_evaluated) == (2, 1, 3)
    assert r.labelled_picked == 0.5  # 1 of the 2 found
    assert r.cleanest_accuracy == pytest.approx(1 / 3)  # the unfound one counts as wrong
    assert r.cleanest_char_similarity == 0.75  # (1.0 + 0.5) / 2 over the found
    assert r.cleanest_similarity is None
    d = r.to_dict()["cleanest"]
    assert isinstance(d, dict) and (d["char_similarity"], d["labelled_picked"]) == (0.75, 0.5)
    # No picks: neither measure.
    r2 = evaluate([["p2/a.txt", "p2/gold.txt"]], truth, ids)
    assert r2.labelled_picked is None and r2.cleanest_char_similarity is None


def test_cli_eval_prints_and_writes_char_similarity(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "p1").mkdir(parents=True)
    article = " ".join(f"word{i} of the article about topic number {i}." for i in range(60))
    (docs / "p1" / "gold.txt").write_text(article + "\n", encoding="utf-8")
    # An extractor's copy with site chrome before and after the article.
    (docs / "p1" / "soup.txt").write_text(
        "Home\nNews\nSports\n" + article + "\nShare on Facebook\nAll rights reserved\n", encoding="utf-8"
    )
    truth = tmp_path / "truth.jsonl"
    truth.write_text(
        json.dumps({"cluster": "p1", "ids": ["p1/gold.txt", "p1/soup.txt"], "cleanest": ["p1/gold.txt"]}) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "scores.json"
    result = CliRunner().invoke(
        main, ["eval", str(docs), "--truth", str(truth), "--json", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "character 12-gram Jaccard" in result.stdout
    assert "Labelled copy picked" in result.stdout
    scores = json.loads(out.read_text(encoding="utf-8"))["cleanest"]
    assert scores["labelled_picked"] == 1.0
    assert scores["char_similarity"] == 1.0
