"""Clusters that hold at any size: N copies of one text are one cluster in every mode, whichever
copy ranks first, and a star still never chains (every member matches its centre, measured)."""

from __future__ import annotations

import functools
import importlib.util
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from dedup import ScanConfig, scan
from dedup import candidates as cand
from dedup import verify as ver
from dedup.cluster import Exact, Group, cluster, components
from dedup.records import Match
from dedup.shingle import Shingles, shingle_batch
from dedup.signature import signatures

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("cluster_scale", REPO / "benchmarks" / "cluster_scale.py")
assert _spec is not None and _spec.loader is not None
cluster_scale = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cluster_scale)


def _stages(texts: list[str], config: ScanConfig) -> tuple[Shingles, list[Match], Exact]:
    """The scan's stages up to clustering, on texts in memory: sets, candidates, matches."""
    sh = shingle_batch(texts, config.shingle_size, config.char_shingle_size)
    sigs = signatures(sh, config.num_perm, config.seed)
    anchors = cand.select_anchors(sh, config.anchor_bits)
    pairs = cand.candidate_pairs(sigs, anchors, sh.sizes(), config)
    matches = ver.verify(pairs, sh, config)
    return sh, matches, Exact(sh, config, functools.partial(ver.verify, shingles=sh, config=config))


def _matches_centre(sh: Shingles, config: ScanConfig, centre: int, member: int) -> bool:
    x, y = sh.get(centre), sh.get(member)
    jac, con = ver.similarity(x, y)
    return ver.judge(jac, con, len(x), len(y), config) is not None


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["star", "components"])
def test_two_thousand_copies_are_one_cluster(tmp_path: Path, mode: str) -> None:
    cluster_scale.write_copies(tmp_path, 2000, seed=0)
    result = scan(tmp_path, ScanConfig(cluster_mode=mode))  # type: ignore[arg-type]
    assert [len(c.members) for c in result.clusters] == [2000]


@pytest.mark.slow
def test_copies_are_one_star_whichever_copy_ranks_first() -> None:
    config = ScanConfig()
    texts = cluster_scale.copies(2000, seed=1)
    _, matches, exact = _stages(texts, config)
    degree = Counter(i for m in matches for i in (m.a, m.b))
    # Candidates link a bucket of copies over MAX_BUCKET only as a chain (and to its first
    # copy): the others are not linked to most copies. Three rankings, one of which puts
    # the copy with the fewest links first.
    fewest = min(range(len(texts)), key=lambda i: (degree[i], i))
    calls: list[Group] = []
    for first in (fewest, len(texts) // 2, len(texts) - 1):
        assert degree[first] < len(texts) - 1  # the centre lacks direct links to most copies

        def rank(group: Group, first: int = first) -> list[int]:
            calls.append(group)
            return sorted(group, key=lambda i: (i != first, i))

        assert cluster(len(texts), matches, "star", rank, exact) == [tuple(range(len(texts)))]
    assert len(calls) == 3  # one ranking per component, none of the rest that is left


def test_top_ranked_copy_with_fewest_links_still_gives_one_cluster() -> None:
    config = ScanConfig()
    texts = cluster_scale.copies(300, seed=2)  # over MAX_BUCKET: buckets become chains
    _, matches, exact = _stages(texts, config)
    degree = Counter(i for m in matches for i in (m.a, m.b))
    fewest = min(range(len(texts)), key=lambda i: (degree[i], i))
    most = max(range(len(texts)), key=lambda i: (degree[i], -i))
    assert degree[fewest] < degree[most]

    def rank(group: Group) -> list[int]:
        return sorted(group, key=lambda i: (i != fewest, i))

    assert cluster(len(texts), matches, "star", rank, exact) == [tuple(range(len(texts)))]
    # Without the direct check the centre keeps only its own links: the copies fall apart.
    assert len(cluster(len(texts), matches, "star", rank)) > 1


def _windows() -> list[str]:
    words = cluster_scale.article().split()
    return [" ".join(words[start : start + 400]) for start in (0, 60, 120)]


def test_a_b_c_chain_is_not_merged_in_star_mode() -> None:
    """A~B and B~C, but not A~C: with A ranked first, C stays out even after a direct check."""
    config = ScanConfig()
    sh, matches, exact = _stages(_windows(), config)
    a, b, c = 0, 1, 2
    assert _matches_centre(sh, config, a, b) and _matches_centre(sh, config, b, c)
    assert not _matches_centre(sh, config, a, c)
    assert {(m.a, m.b) for m in matches} == {(a, b), (b, c)}

    def a_first(group: Group) -> list[int]:
        return sorted(group)

    def b_first(group: Group) -> list[int]:
        return sorted(group, key=lambda i: (i != b, i))

    assert cluster(3, matches, "star", a_first, exact) == [(a, b)]
    assert cluster(3, matches, "star", b_first, exact) == [(a, b, c)]  # both match B itself
    assert cluster(3, matches, "components", a_first, exact) == [(a, b, c)]


def test_every_star_member_matches_its_centre_on_the_sets() -> None:
    """Overlapping windows of one long text form long chains of matches: each star's
    centre (first in the ranking) is a verified near-duplicate of each of its members."""
    config = ScanConfig()
    words = (cluster_scale.article() + " " + (REPO / "samples" / "002_9e8087d3640a9bf4.txt").read_text()).split()
    rng = random.Random(7)
    starts = sorted(rng.randrange(0, len(words) - 300) for _ in range(60))
    texts = [" ".join(words[s : s + 300]) for s in starts]
    sh, matches, exact = _stages(texts, config)
    order = list(range(len(texts)))
    rng.shuffle(order)
    place = {doc: pos for pos, doc in enumerate(order)}

    def rank(group: Group) -> list[int]:
        return sorted(group, key=place.__getitem__)

    stars = cluster(len(texts), matches, "star", rank, exact)
    assert len(components(len(texts), matches)) < len(stars)  # the chains were cut
    for star in stars:
        centre = min(star, key=place.__getitem__)
        assert all(_matches_centre(sh, config, centre, m) for m in star if m != centre)
    # No star could take a member that is left alone: each is measured against every centre
    # ranked before it.
    alone = set(range(len(texts))) - {d for s in stars for d in s}
    for doc in alone:
        for star in stars:
            centre = min(star, key=place.__getitem__)
            if place[centre] < place[doc]:
                assert not _matches_centre(sh, config, centre, doc)


def test_star_of_a_larger_component_reports_its_centre_first(tmp_path: Path) -> None:
    """A star cut from a larger component keeps the component's ranking, so its kept copy
    is the centre every member was measured against."""
    for i, text in enumerate(_windows()):
        (tmp_path / f"w{i}.txt").write_text(text, encoding="utf-8")
    result = scan(tmp_path, ScanConfig())
    for c in result.clusters:
        kept = c.members[0]
        assert all(m.jaccard >= 0.7 or m.containment >= 0.8 for m in c.members[1:]), kept.doc_id


def test_component_index_overlaps_equal_the_pairwise_count() -> None:
    config = ScanConfig()
    texts = _windows() + cluster_scale.copies(5, seed=3)
    sh = shingle_batch(texts, config.shingle_size, config.char_shingle_size)
    group = tuple(range(len(texts)))
    index = Exact(sh, config, lambda p: []).index(group)
    for centre in group:
        pos, inter = index.overlaps(sh.get(centre))
        got = dict(zip(pos.tolist(), inter.tolist(), strict=True))
        want = {d: ver.overlap(sh.get(centre), sh.get(d)) for d in group}
        assert got == {d: n for d, n in want.items() if n}
    assert np.all(np.diff(index.hashes.astype(np.float64)) >= 0)
