"""The star split as a Ray task runs it (dedup/ray_stars.py ``split_stars``, called here in
process: it is a plain function) gives ``cluster.stars``'s stars on the run's sets and texts:
the members' sets read from spill files by their places, their texts re-read from the files;
and a component with a member whose file changed since it was hashed comes back as None, for
the run's process to split (and report) as before."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from test_evidence import prose
from test_ray_stages import spilled

from dedup import cluster, extract, verify
from dedup.candidates import candidate_pairs, select_anchors
from dedup.config import ScanConfig
from dedup.ray_stars import StarTask, batches, split_stars
from dedup.ray_verify import places_of
from dedup.records import Locator, text_digest
from dedup.shingle import shingle_batch
from dedup.signature import signatures


def windows(seed: int, count: int, step: int) -> list[str]:
    """Overlapping windows of one text: neighbours match, far ones do not (a chain)."""
    words = prose(seed, 500 + count * step).split()
    return [" ".join(words[k * step : k * step + 500]) for k in range(count)]


def setup(tmp_path: Path) -> tuple[list[Path], list[str], ScanConfig]:
    texts = windows(11, 8, 40) + windows(12, 6, 60) + windows(13, 5, 25) + [prose(14, 300)] * 3
    files = []
    for k, text in enumerate(texts):
        path = tmp_path / f"doc{k:02d}.txt"
        path.write_text(text, encoding="utf-8")
        files.append(path)
    config = ScanConfig()
    read = [extract.load_text(Locator(str(p)), "text", config) for p in files]
    return files, read, config


def test_the_tasks_stars_are_cluster_stars(tmp_path: Path) -> None:
    files, texts, config = setup(tmp_path)
    sh = shingle_batch(texts, config.shingle_size, config.char_shingle_size)
    sets = spilled(sh, tmp_path)
    places = places_of(sets)
    assert places is not None
    layouts = verify.Layouts(texts.__getitem__, config)
    pairs = candidate_pairs(signatures(sh), select_anchors(sh, config.anchor_bits), sh.sizes(), config)
    matches = verify.verify(pairs, sh, config, layouts)
    neighbours: dict[int, set[int]] = {}
    for m in matches:
        neighbours.setdefault(m.a, set()).add(m.b)
        neighbours.setdefault(m.b, set()).add(m.a)
    groups = [g for g in cluster.components(len(texts), matches) if len(g) > 2]
    assert len(groups) == 4
    exact = cluster.Exact(sh, config, functools.partial(verify.verify, shingles=sh, config=config, text_of=layouts))
    rng = np.random.default_rng(0)
    tasks, expected = [], []
    for g in groups:
        for order in (list(g), list(reversed(g)), rng.permutation(g).tolist()):  # any ranking
            tasks.append(StarTask(g, tuple(order), tuple(tuple(sorted(neighbours[d])) for d in g),
                                  tuple((Locator(str(files[d])), "text") for d in g),
                                  tuple(text_digest(texts[d]) for d in g)))  # fmt: skip
            expected.append(cluster.stars(g, order, neighbours, exact))
    assert any(len(stars) > 1 for stars in expected)  # some ranking cuts a component in several
    found = [s for batch in batches(tasks, most=12) for s in split_stars(batch, places, config)]
    assert found == expected
    assert [len(b) for b in batches(tasks, most=12)] and all(
        sum(len(t.group) for t in b) <= 12 or len(b) == 1 for b in batches(tasks, most=12)
    )

    # The members rewritten since they were hashed: a component whose split reads their texts
    # (windows 120 words apart hold 76% of each other: the texts' rule is asked) is left to
    # the run's process; the others are split as before.
    for d in groups[1]:
        files[d].write_text(texts[d] + " One more sentence here.", encoding="utf-8")
    again = split_stars(tasks[:6], places, config)
    assert again[3:] == [None, None, None] and again[:3] == expected[:3]
