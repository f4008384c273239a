"""Files that change between hashing and ranking (issue 11, item 4): the ranking stage
re-reads cluster members and checks each against the digest taken when it was hashed. A
member deleted, emptied, replaced by a FIFO or rewritten is skipped (``changed-during-scan``),
never picked as the cleanest copy and never put on a drop list; its cluster is formed again
without it. The scan's progress callback is the hook: files change when ranking starts."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from saboteur import Saboteur

from dedup import ScanConfig, scan
from dedup.errors import SkipReason
from dedup.options import RunOptions
from dedup.records import ScanResult

CHANGED = SkipReason.CHANGED_DURING_SCAN
RANKING = "ranking copies"  # the stage whose start the saboteur waits for


def words(seed: int, n: int = 160) -> str:
    rng = random.Random(seed)
    return " ".join(f"w{rng.randrange(100_000)}" for _ in range(n))


def corpus(root: Path, groups: int = 6) -> None:
    """``groups`` groups of three copies: a plain one, one with a footer, one with a header."""
    for g in range(groups):
        text = words(g)
        (root / f"g{g}_a.txt").write_text(text, encoding="utf-8")
        (root / f"g{g}_b.txt").write_text(text + "\nShare this\nSubscribe", encoding="utf-8")
        (root / f"g{g}_c.txt").write_text("Home | News | Contact\n" + text, encoding="utf-8")


def groups(result: ScanResult) -> list[list[str]]:
    return [[m.doc_id for m in c.members] for c in result.clusters]


FAULTS = ("delete", "truncate", "fifo", "rewrite")


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("workers", [False, True])
def test_a_changed_member_is_skipped_and_its_group_ranked_without_it(
    tmp_path: Path, fault: str, workers: bool
) -> None:
    options = RunOptions(parallel_rank_groups=1 if workers else 200)  # with workers: every run's groups in them
    corpus(tmp_path)
    clean = scan([tmp_path], ScanConfig(jobs=1))
    assert len(clean.clusters) == 6 and all(len(c.members) == 3 for c in clean.clusters)
    # The cleanest copy of group 0, and a duplicate of group 1, change.
    victims = [clean.clusters[0].members[0].doc_id, clean.clusters[1].members[1].doc_id]
    saboteur = Saboteur(RANKING, fault, [tmp_path / v for v in victims], words(999))
    hurt = scan([tmp_path], ScanConfig(jobs=2 if workers else 1), progress=saboteur, options=options)
    assert saboteur.fired
    assert [(s.rel, s.reason) for s in hurt.skipped] == [(v, CHANGED) for v in sorted(victims)]
    assert all(s.detail.startswith("changed after it was read") for s in hurt.skipped)
    # Each group is the clean one without its victim, ranked as before among the rest.
    expected = [[d for d in g if d not in victims] for g in groups(clean)]
    assert groups(hurt) == expected
    assert hurt.summary.clusters == 6 and hurt.summary.skipped == 2
    for c in hurt.clusters:
        assert all(m.doc_id not in victims for m in c.members)


@pytest.mark.parametrize("workers", [False, True])
def test_an_emptied_copy_is_never_the_cleanest_and_a_pair_left_alone_is_no_cluster(
    tmp_path: Path, workers: bool
) -> None:
    """Truncated to empty, a copy used to score penalty 0 and win: the real copy went to the
    drop list. Now a pair that loses a member is no cluster: nothing is dropped."""
    options = RunOptions(parallel_rank_groups=1 if workers else 200)
    for g in range(3):
        (tmp_path / f"p{g}_a.txt").write_text(words(50 + g), encoding="utf-8")
        (tmp_path / f"p{g}_b.txt").write_text(words(50 + g) + "\nShare this", encoding="utf-8")
    victim = tmp_path / "p1_b.txt"
    hurt = scan(
        [tmp_path], ScanConfig(jobs=2 if workers else 1), progress=Saboteur(RANKING, "truncate", [victim]), options=options
    )
    assert groups(hurt) == [["p0_a.txt", "p0_b.txt"], ["p2_a.txt", "p2_b.txt"]]
    assert [(s.rel, s.reason) for s in hurt.skipped] == [("p1_b.txt", CHANGED)]
    assert "p1_a.txt" not in {m.doc_id for c in hurt.clusters for m in c.members}


@pytest.mark.parametrize("fault", ["truncate", "rewrite"])
def test_a_json_array_member_that_changed_is_skipped(tmp_path: Path, fault: str) -> None:
    records = [{"id": f"r{i}", "text": words(70 + i % 2)} for i in range(4)]
    (tmp_path / "dump.json").write_text(json.dumps(records, indent=1), encoding="utf-8")
    (tmp_path / "copy.txt").write_text(words(70), encoding="utf-8")
    clean = scan([tmp_path], ScanConfig(jobs=1))
    assert groups(clean) == [["copy.txt", "dump.json:r0", "dump.json:r2"], ["dump.json:r1", "dump.json:r3"]]
    hurt = scan([tmp_path], ScanConfig(jobs=1), progress=Saboteur(RANKING, fault, [tmp_path / "dump.json"], words(999)))
    assert groups(hurt) == []
    assert [(s.rel, s.reason) for s in hurt.skipped] == [(f"dump.json:{i}", CHANGED) for i in range(1, 5)]


def test_many_files_deleted_during_ranking_in_workers(tmp_path: Path) -> None:
    """The audit's crash: files deleted during a large scan (ranking in workers) gave a
    traceback and no export. Now every deleted member is skipped and the rest clustered."""
    corpus(tmp_path, groups=240)  # over RunOptions.parallel_rank_groups: ranked in workers as it is
    victims = sorted(tmp_path.glob("g*_b.txt"))[::3]
    hurt = scan([tmp_path], ScanConfig(jobs=2), progress=Saboteur(RANKING, "delete", victims))
    assert sorted(s.rel for s in hurt.skipped) == sorted(v.name for v in victims)
    assert len(hurt.clusters) == 240
    gone = {v.name for v in victims}
    assert all(m.doc_id not in gone for c in hurt.clusters for m in c.members)
