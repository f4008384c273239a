"""The signature cache: rescans reuse results, changed files are re-read, nothing goes stale."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from conftest import PLAIN, SAMPLES, WRAPPED

from dedup import ScanConfig, scan
from dedup.cache import Cache, clear, decode, encode, info, params_key


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(SAMPLES, folder)
    (folder / "dump.jsonl").write_text('{"id": "a", "text": "one two three four five six"}\n{"text": "no id here at all"}\n')
    return folder


def test_rescan_gives_the_same_result_from_the_cache(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "c" / "s.sqlite"
    first = scan([corpus], cache=db)
    uncached = scan([corpus])
    second = scan([corpus], cache=db)
    assert first.clusters == uncached.clusters == second.clusters
    assert [d.doc_id for d in second.docs] == [d.doc_id for d in uncached.docs]
    facts = info(db)
    assert facts["files"] == 6 and facts["contents"] == 6


def test_hits_do_not_read_files_and_changes_are_seen(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    scan([corpus], cache=db)
    cache = Cache(db, ScanConfig())
    for f in sorted(corpus.iterdir()):
        hit, _ = cache.lookup(f.name, f)
        assert hit is not None
    # Change one file: same size is not enough to fool it (mtime differs), content differs.
    target = corpus / WRAPPED
    target.write_text(target.read_text(encoding="utf-8").replace("Putin", "PUTIN"), encoding="utf-8")
    os.utime(target, ns=(1, 1))
    hit, _ = cache.lookup(WRAPPED, target)
    assert hit is None
    cache.close()
    result = scan([corpus], cache=db)
    assert [m.doc_id for m in result.clusters[0].members] == [PLAIN, WRAPPED]


def test_moved_file_is_found_by_content(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    scan([corpus], cache=db)
    (corpus / "moved").mkdir()
    shutil.move(corpus / PLAIN, corpus / "moved" / PLAIN)
    cache = Cache(db, ScanConfig())
    hit, _ = cache.lookup(f"moved/{PLAIN}", corpus / "moved" / PLAIN)
    cache.close()
    assert hit is not None and hit.docs[0].doc_id == f"moved/{PLAIN}"  # ids follow the new path


def test_other_parameters_do_not_share_entries(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    scan([corpus], cache=db)
    assert params_key(ScanConfig()) != params_key(ScanConfig(shingle_size=4))
    cache = Cache(db, ScanConfig(shingle_size=4))
    hit, _ = cache.lookup(PLAIN, corpus / PLAIN)
    cache.close()
    assert hit is None


def test_payload_round_trip(corpus: Path, tmp_path: Path) -> None:
    from dedup.pipeline import _process
    from dedup.read import walk

    sources = [s for s in walk([corpus], ScanConfig()) if not hasattr(s, "reason")]
    for result in _process(sources, ScanConfig()):  # type: ignore[arg-type]
        back = decode(encode(result), result.rel, corpus / result.rel)
        assert back.docs == result.docs and back.skipped == result.skipped
        assert np.array_equal(back.matrix, result.matrix)
        for name in ("offsets", "hashes", "words", "line_hashes", "line_docs"):
            assert np.array_equal(getattr(back.shingles, name), getattr(result.shingles, name))


def test_a_broken_cache_file_is_reported_and_the_scan_goes_on(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    db.write_bytes(b"this is not a database" * 100)
    result = scan([corpus], cache=db)
    assert result.warnings and "signature cache not used" in result.warnings[0]
    assert [m.doc_id for m in result.clusters[0].members] == [PLAIN, WRAPPED]


def test_an_interrupted_write_leaves_a_usable_cache(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    scan([corpus], cache=db)
    # A writer that dies mid-transaction: its rows never become visible.
    con = sqlite3.connect(db)
    con.execute("DELETE FROM content")
    del con  # no commit: as if the process was killed
    assert info(db)["contents"] == 6
    assert scan([corpus], cache=db).clusters == scan([corpus]).clusters


def test_clear(tmp_path: Path, corpus: Path) -> None:
    db = tmp_path / "s.sqlite"
    scan([corpus], cache=db)
    assert clear(db) is True and not db.exists()
    assert clear(db) is False
