"""The signature cache: rescans reuse results, changed files are re-read, nothing goes stale."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import PLAIN, SAMPLES, WRAPPED
from hypothesis import given
from hypothesis import strategies as st

from dedup import ScanConfig, scan
from dedup.cache import Cache, clear, info, params_key
from dedup.cache_format import decode, encode
from dedup.read import walk
from dedup.records import DocBatch, DocTable, SourceFile


def source(root: Path, rel: str) -> SourceFile:
    return next(s for s in walk([root], ScanConfig()) if isinstance(s, SourceFile) and s.rel == rel)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(SAMPLES, folder)
    (folder / "dump.jsonl").write_text(
        '{"id": "a", "text": "one two three four five six"}\n{"text": "no id here at all"}\n'
    )
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
        hit, _ = cache.lookup(source(corpus, f.name))
        assert hit is not None
    # Change one file: same size is not enough to fool it (mtime differs), content differs.
    target = corpus / WRAPPED
    target.write_text(target.read_text(encoding="utf-8").replace("Putin", "PUTIN"), encoding="utf-8")
    os.utime(target, ns=(1, 1))
    hit, _ = cache.lookup(source(corpus, WRAPPED))
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
    moved = source(corpus, f"moved/{PLAIN}")
    hit, _ = cache.lookup(moved)
    assert hit is not None
    batch = cache.batch(hit.batch)
    assert batch is not None
    docs = batch.take(hit.lo, hit.hi, moved)
    cache.close()
    assert [d.doc_id for d in docs] == [f"moved/{PLAIN}"]  # ids follow the new path
    result = scan([corpus], cache=db)
    assert [m.doc_id for m in result.clusters[0].members] == [f"moved/{PLAIN}", WRAPPED]


def test_other_parameters_do_not_share_entries(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    scan([corpus], cache=db)
    assert params_key(ScanConfig()) != params_key(ScanConfig(shingle_size=4))
    cache = Cache(db, ScanConfig(shingle_size=4))
    hit, _ = cache.lookup(source(corpus, PLAIN))
    cache.close()
    assert hit is None


def test_payload_round_trip(corpus: Path) -> None:
    from dedup.hashing import hash_files

    sources = [s for s in walk([corpus], ScanConfig()) if isinstance(s, SourceFile)]
    chunk = hash_files(sources, ScanConfig())
    back = decode(encode(chunk))
    lo = 0
    docs = []
    for src, n in zip(sources, chunk.counts, strict=True):
        docs.append(back.take(lo, lo + n, src))
        lo += n
    assert DocBatch.concat(docs) == chunk.docs
    # A record's own id qualified by its file, and one made from its line; the raw id beside them.
    assert list(chunk.docs.doc_ids[-2:]) == ["dump.jsonl:a", "dump.jsonl:2"]
    assert list(chunk.docs.record_ids[-2:]) == ["a", None]
    assert np.array_equal(back.matrix, chunk.matrix)
    for name in ("offsets", "hashes", "words", "line_hashes", "line_docs"):
        assert np.array_equal(getattr(back.shingles, name), getattr(chunk.shingles, name))


def test_record_skips_are_cached_with_their_file(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    (corpus / "bad.jsonl").write_text('{"id": "z", "text": "fine text here"}\nnot json\n')
    first = scan([corpus], cache=db)
    second = scan([corpus], cache=db)
    assert [s.rel for s in first.skipped] == [s.rel for s in second.skipped] == ["bad.jsonl:2"]


def test_a_cache_of_another_layout_is_started_afresh(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE content (digest TEXT, params TEXT, payload BLOB)")
    con.commit()
    con.close()
    result = scan([corpus], cache=db)
    assert result.warnings == () and info(db)["contents"] == 6


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


def count_rankings(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """From now on, the members of every group ``cleanest.rank`` ranks, in call order."""
    import dedup.cleanest as cleanest

    ranked: list[tuple[int, ...]] = []
    real_rank = cleanest.rank

    def counting_rank(members, *args, **kwargs):  # type: ignore[no-untyped-def]
        ranked.append(tuple(members))
        return real_rank(members, *args, **kwargs)

    monkeypatch.setattr(cleanest, "rank", counting_rank)
    return ranked


def test_unchanged_groups_are_not_ranked_again(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = "A second story, about the harbour, told twice. " + " ".join(f"harbour{i} boats" for i in range(40))
    (corpus / "harbour_a.txt").write_text(other, encoding="utf-8")
    (corpus / "harbour_b.txt").write_text(other + " Comments", encoding="utf-8")
    db = tmp_path / "s.sqlite"
    first = scan([corpus], cache=db)
    assert len(first.clusters) == 2
    ranked = count_rankings(monkeypatch)
    second = scan([corpus], cache=db, all_pairs=True)  # compares every pair: not the stored result
    assert ranked == [] and second.clusters == first.clusters  # every ranking came from the cache

    # A member's content changes: its group is ranked afresh, and the new text is seen.
    target = corpus / PLAIN
    target.write_text(target.read_text(encoding="utf-8") + "\nSubscribe to read the full story\n", encoding="utf-8")
    third = scan([corpus], cache=db)
    assert ranked == [tuple(d.index for d in third.docs if d.doc_id in (PLAIN, WRAPPED))]  # not the harbour pair
    assert third.clusters == scan([corpus]).clusters  # the same as without any cache
    assert [m.penalty for m in third.clusters[0].members if m.doc_id == PLAIN] != [
        m.penalty for m in first.clusters[0].members if m.doc_id == PLAIN
    ]  # the new text was read and ranked


def test_a_line_spreading_elsewhere_reranks_the_group(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chrome is judged by how many documents of the corpus hold a line: when new files
    repeat a member's line, the cached ranking no longer applies."""
    db = tmp_path / "s.sqlite"
    scan([corpus], cache=db)
    ranked = count_rankings(monkeypatch)
    line = next(ln for ln in (corpus / WRAPPED).read_text(encoding="utf-8").splitlines() if 0 < len(ln.split()) <= 3)
    for i in range(3):
        (corpus / f"other{i}.txt").write_text(
            f"{line}\nunrelated page number {i} " + "filler words " * 20, encoding="utf-8"
        )
    result = scan([corpus], cache=db)
    assert len(ranked) == 1
    assert result.clusters == scan([corpus]).clusters


def test_a_rescan_of_an_unchanged_folder_gives_the_stored_result(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dedup.cache as cache_module
    import dedup.candidates as candidates
    import dedup.extract as extract

    db = tmp_path / "s.sqlite"
    first = scan([corpus], cache=db)
    fresh = scan([corpus])
    touched = corpus / "002_9e8087d3640a9bf4.txt"
    os.utime(touched, ns=(10**18, 10**18))  # touched, same bytes: still unchanged
    # Files changed less than RACY_NS before a scan are read again by the next one (the
    # racy rule): wait that long, so that this scan's stats are trusted by the next.
    time.sleep(cache_module.RACY_NS / 1e9 + 0.1)

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a file was extracted")

    monkeypatch.setattr(extract, "extract", no_reading)
    monkeypatch.setattr(extract, "load_text", no_reading)
    monkeypatch.setattr(candidates, "candidate_pairs", no_reading)  # not even compared again
    again = scan([corpus], cache=db)
    monkeypatch.undo()
    for got in (first, again):
        assert got.clusters == fresh.clusters and got.skipped == fresh.skipped and got.summary == fresh.summary
        assert got.docs == fresh.docs and got.matches == fresh.matches and got.params == fresh.params
        assert got.roots == fresh.roots

    # The touched file's new stat is remembered: the next rescan does not even read it.
    monkeypatch.setattr(cache_module, "content_digest", no_reading)
    assert scan([corpus], cache=db).clusters == fresh.clusters
    monkeypatch.undo()

    # A file that came, went or changed: the folder is scanned (from the signature cache).
    (corpus / "new.txt").write_text("a new page " * 20, encoding="utf-8")
    assert scan([corpus], cache=db).summary.documents == fresh.summary.documents + 1
    (corpus / "new.txt").unlink()
    (corpus / "dump.jsonl").write_text('{"id": "a", "text": "one two three four five six seven"}\n')
    assert scan([corpus], cache=db).summary.documents == fresh.summary.documents - 1


def test_a_stored_result_reads_its_document_table_only_when_used(corpus: Path) -> None:
    from dedup.cache_format import decode_result, encode_result

    result = scan([corpus])
    again = decode_result(encode_result(result))
    assert isinstance(again.docs, DocTable) and again.docs.deferred_pending  # not parsed yet
    assert again.clusters == result.clusters and again.matches == result.matches
    assert again.summary == result.summary and again.skipped == result.skipped
    assert len(again.docs) == len(result.docs) and again.docs == result.docs  # parsed on first use
    assert not again.docs.deferred_pending


@pytest.mark.parametrize("every", [0.0, 3600.0])
def test_new_batches_are_committed_at_most_every_few_seconds_and_at_close(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, every: float
) -> None:
    """A batch is visible to other readers once committed: at once when the interval has
    passed, else when the cache closes; what a killed run had not committed is simply absent."""
    from dedup import cache as cache_module
    from dedup.hashing import hash_files

    monkeypatch.setattr(cache_module, "COMMIT_EVERY_S", every)
    db = tmp_path / "s.sqlite"
    sources = [s for s in walk([corpus], ScanConfig()) if isinstance(s, SourceFile)]
    cache = cache_module.Cache(db, ScanConfig())
    cache.store(hash_files(sources, ScanConfig()), sources, [cache.stamp(s) for s in sources])
    other = sqlite3.connect(db)
    visible = other.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
    assert visible == (1 if every == 0.0 else 0)
    cache.close()
    assert other.execute("SELECT COUNT(*) FROM batches").fetchone()[0] == 1
    other.close()


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 3 * 65536 + 5])
def test_content_digest_is_blake2b_of_the_bytes_whatever_the_block_edges(tmp_path: Path, size: int) -> None:
    import hashlib

    from dedup.cache import DIGEST_BLOCK, content_digest

    assert DIGEST_BLOCK == 65536  # the sizes above sit on its edges
    data = os.urandom(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert content_digest(path) == hashlib.blake2b(data, digest_size=16).hexdigest()


_names = st.text(st.characters(blacklist_categories=["Cs"]) | st.sampled_from(["\0", "\n", "'", '"', "\\", "\udce9"]))
_files = st.lists(st.builds(SourceFile, _names, _names, st.integers(0, 2**40), st.integers(0, 2**62)), max_size=4)


@given(a=_files, b=_files)
def test_the_stat_key_tells_every_list_of_files_apart(
    tmp_path_factory: pytest.TempPathFactory, a: list[SourceFile], b: list[SourceFile]
) -> None:
    # Names with NULs, line breaks, quotes and undecodable bytes: no two lists share a key.
    from dedup.memo import ResultMemo
    from dedup.runcache import RunCache

    cache = RunCache(tmp_path_factory.mktemp("c") / "s.sqlite", ScanConfig(), [])
    try:
        memo = ResultMemo(cache, ScanConfig(), ["."])
        ka, kb = memo.key(a, [], None), memo.key(b, [], None)
    finally:
        cache.close()
    assert ka is not None and (ka == kb) == (a == b)
