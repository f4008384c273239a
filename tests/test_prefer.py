"""--prefer: a rule, not the ranking, chooses the kept copy; evidence and decisions are then
measured against that copy, and the report and exports say a rule chose it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import OTHERS, PLAIN, SAMPLES, WRAPPED

from dedup import ScanConfig, scan
from dedup.cli import main
from dedup.errors import ConfigError


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The samples, and exact copies of the plain article under site-a/ and site-b/deep/."""
    root = tmp_path / "scraped"
    shutil.copytree(SAMPLES, root)
    for rel in ("site-a/copy.txt", "site-b/deep/copy.txt"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / PLAIN, root / rel)
    return root


def kept_of(root: Path, *rules: str) -> tuple[str, str, dict[str, str]]:
    """The kept id, its chosen_by, and every member's rule, of the one cluster."""
    result = scan([root], ScanConfig(prefer=rules, jobs=1))
    (cluster,) = result.clusters
    kept = cluster.members[0]
    return kept.doc_id, kept.chosen_by, {m.doc_id: m.rule for m in cluster.members}


def test_without_rules_the_ranking_chooses(tree: Path) -> None:
    doc_id, by, _ = kept_of(tree)
    assert by == "" and doc_id in (PLAIN, "site-a/copy.txt", "site-b/deep/copy.txt")


@pytest.mark.parametrize(
    ("rules", "kept"),
    [
        (("site-b/**",), "site-b/deep/copy.txt"),
        (("site-a",), "site-a/copy.txt"),
        (("site-a/",), "site-a/copy.txt"),
        (("*/deep/*",), "site-b/deep/copy.txt"),
        (("no-such/**", "site-b/**"), "site-b/deep/copy.txt"),
    ],
)
def test_glob_and_folder_rules(tree: Path, rules: tuple[str, ...], kept: str) -> None:
    doc_id, by, _ = kept_of(tree, *rules)
    assert doc_id == kept
    assert by == rules[-1]


def test_newest_oldest_and_shortest_path(tree: Path) -> None:
    for n, rel in enumerate(["site-b/deep/copy.txt", PLAIN, "site-a/copy.txt", WRAPPED]):
        os.utime(tree / rel, ns=(10**18 + n * 10**9, 10**18 + n * 10**9))
    assert kept_of(tree, "newest")[:2] == (WRAPPED, "newest")
    assert kept_of(tree, "oldest")[0] == "site-b/deep/copy.txt"
    assert kept_of(tree, "shortest-path")[0] == "site-a/copy.txt"  # 15 characters
    assert kept_of(tree, "copy.txt", "newest")[:2] == ("site-a/copy.txt", "copy.txt")  # rules narrow in order


def test_evidence_is_measured_against_the_preferred_copy(tree: Path) -> None:
    doc_id, by, rules = kept_of(tree, WRAPPED)
    assert (doc_id, by) == (WRAPPED, WRAPPED)
    # The plain copies are inside the wrapped one now kept: dropped as cut copies of it.
    assert rules[PLAIN] == rules["site-a/copy.txt"] == "inside-cleanest"


def test_report_and_exports_say_a_rule_chose(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "scan.json"
    result = CliRunner().invoke(main, ["scan", str(tree), "--no-cache", "-o", str(out), "--prefer", "site-b/**"])
    assert result.exit_code == 0, result.output
    assert "kept by --prefer 'site-b/**'" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    (cluster,) = data["clusters"]
    assert cluster["cleanest"] == "site-b/deep/copy.txt"
    assert cluster["members"][0]["reasons"][0].startswith("kept by --prefer 'site-b/**'; the ranking's cleanest is ")
    rows = {r["id"]: r for r in data["documents"]}
    assert rows["site-b/deep/copy.txt"]["rule"] == "prefer:site-b/**"
    assert rows[PLAIN]["decision"] == "dropped" and rows[OTHERS[0]]["decision"] == "unique"
    assert data["params"]["prefer"] == ["site-b/**"]


def test_an_empty_rule_is_refused() -> None:
    with pytest.raises(ConfigError):
        ScanConfig(prefer=(" ",))
