"""scan() on real files: the samples, shuffled, spread over folders, with worker processes."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import OTHERS, PLAIN, SAMPLES, WRAPPED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup import ScanConfig, scan
from dedup.options import RunOptions
from dedup.read import walk
from dedup.records import ScanResult, SourceFile


def shape(result: ScanResult) -> list[list[str]]:
    """Clusters as lists of base names, cleanest first."""
    return [[Path(m.doc_id).name for m in c.members] for c in result.clusters]


def test_samples_one_cluster_plain_is_cleanest(samples_dir: Path) -> None:
    result = scan([samples_dir])
    assert shape(result) == [[PLAIN, WRAPPED]]
    cluster = result.clusters[0]
    assert cluster.cluster_id == 1
    plain, wrapped = cluster.members
    assert plain.cleanest and not wrapped.cleanest
    assert wrapped.containment > 0.99 and 0.5 < wrapped.jaccard < 0.56
    loser = " ".join(wrapped.reasons)
    assert "跳至主要内容" in loser and "teasers of other posts" in loser
    assert result.summary.documents == 5 and result.summary.files == 5
    assert result.summary.duplicates == 1
    assert result.summary.bytes_saved == (SAMPLES / WRAPPED).stat().st_size
    assert not any(Path(m.doc_id).name in OTHERS for c in result.clusters for m in c.members)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_order_and_folders_give_the_same_result(tmp_path: Path, seed: int) -> None:
    names = [PLAIN, WRAPPED, *OTHERS]
    random.Random(seed).shuffle(names)
    for i, name in enumerate(names):  # create in a shuffled order, spread over subfolders
        folder = tmp_path / f"site{i % 3}" / ("deep" if i % 2 else "")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / name, folder / name)
    result = scan([tmp_path])
    assert [sorted(c) for c in shape(result)] == [sorted([PLAIN, WRAPPED])]
    assert shape(result)[0][0] == PLAIN


def test_worker_count_does_not_change_results(tmp_path: Path) -> None:
    # Several tasks, so the pool is used, and the clusters are ranked in workers.
    small = RunOptions(files_per_task=2, parallel_rank_groups=1)
    for i in range(3):
        shutil.copytree(SAMPLES, tmp_path / f"copy{i}")
    one = scan([tmp_path], ScanConfig(jobs=1), options=small)
    two = scan([tmp_path], ScanConfig(jobs=2), options=small)
    assert one.clusters == two.clusters and one.matches == two.matches
    assert [d.doc_id for d in one.docs] == [d.doc_id for d in two.docs]


def test_workers_leave_hashes_in_files_and_the_run_reads_them(tmp_path: Path) -> None:
    """Worker processes write shingle hashes to files instead of sending them back; the
    cache, records that share an id and the exact check read them."""
    import json

    small = RunOptions(files_per_task=2)
    corpus = tmp_path / "corpus"
    for i in range(3):
        shutil.copytree(SAMPLES, corpus / f"copy{i}")
    records = [{"id": "same", "text": (SAMPLES / PLAIN).read_text(encoding="utf-8")}] * 2
    (corpus / "dump.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    one = scan([corpus], ScanConfig(jobs=1), options=small)
    db = tmp_path / "cache.sqlite"
    two = scan([corpus], ScanConfig(jobs=2), cache=db, options=small)
    assert one.clusters == two.clusters and one.matches == two.matches and one.skipped == two.skipped
    # The repeated id: both records are documents (a cluster), the second's id made unique.
    assert two.skipped == () and [m.doc_id for c in two.clusters for m in c.members if m.rel == "dump.jsonl"] == [
        "dump.jsonl:same",
        "dump.jsonl:same@L2",
    ]
    (corpus / "new.txt").write_text("one more file " * 10, encoding="utf-8")  # no stored result now
    again = scan([corpus], ScanConfig(jobs=1), cache=db, options=small)  # every set from the cache batches
    assert again.clusters == one.clusters and again.matches == one.matches


def test_components_mode_also_finds_the_pair(samples_dir: Path) -> None:
    assert shape(scan([samples_dir], ScanConfig(cluster_mode="components"))) == [[PLAIN, WRAPPED]]


def test_jaccard_alone_misses_the_wrapped_copy(samples_dir: Path) -> None:
    # The reason containment exists: with it switched off (threshold 1.0) the pair is lost.
    assert shape(scan([samples_dir], ScanConfig(containment_threshold=1.0))) == []


def test_short_widget_does_not_attach_to_pages_that_hold_it(tmp_path: Path, sample_texts: dict[str, str]) -> None:
    widget = "Comments\nLeave a comment\n0 comments\nShare on Facebook\nTweet\n"
    (tmp_path / "widget.txt").write_text(widget, encoding="utf-8")
    for name in OTHERS:  # three different articles, each carrying the widget
        (tmp_path / name).write_text(sample_texts[name] + "\n" + widget, encoding="utf-8")
    assert scan([tmp_path]).clusters == ()


def test_quote_inside_articles_is_not_a_copy(tmp_path: Path, sample_texts: dict[str, str]) -> None:
    quote = " ".join(sample_texts[PLAIN].split()[:40])  # a 40-word quote of the article
    (tmp_path / "quote.txt").write_text(quote, encoding="utf-8")
    (tmp_path / "article.txt").write_text(sample_texts[PLAIN], encoding="utf-8")
    (tmp_path / "other.txt").write_text(quote + "\n" + sample_texts[OTHERS[0]], encoding="utf-8")
    assert shape(scan([tmp_path])) == []


names_st = st.permutations([PLAIN, WRAPPED, *OTHERS])
folders_st = st.lists(st.sampled_from(["", "a", "b/c", "z"]), min_size=5, max_size=5)


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=names_st, folders=folders_st)
def test_property_result_independent_of_creation_order_and_folders(
    tmp_path_factory: pytest.TempPathFactory, order: list[str], folders: list[str]
) -> None:
    root = tmp_path_factory.mktemp("order")
    for name, folder in zip(order, folders, strict=True):
        (root / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / name, root / folder / name)
    result = scan([root])
    assert shape(result)[0] == [PLAIN, WRAPPED] and len(result.clusters) == 1
    again = scan([root])
    assert again.clusters == result.clusters


def test_a_big_json_lines_file_is_cut_into_parts_with_the_same_result(
    tmp_path: Path, sample_texts: dict[str, str]
) -> None:
    import json

    from dedup.hashing import tasks

    lines = [
        json.dumps({"id": f"r{i}", "text": f"record {i}: " + text}) for i, text in enumerate(sample_texts.values())
    ]
    lines += [json.dumps({"text": "no id, so the id is path:line " * 5}), "not json", ""]
    lines += [json.dumps({"id": "wrapped-again", "text": sample_texts[WRAPPED]})]
    # Three times over: the repeated ids are skipped, within a part or across parts alike.
    (tmp_path / "dump.jsonl").write_text("\n".join(lines * 3) + "\n", encoding="utf-8")
    whole = scan([tmp_path], ScanConfig(jobs=1))
    small = RunOptions(split_bytes=5000)  # several parts, hashed by two workers
    sources = [s for s in walk([tmp_path], ScanConfig()) if isinstance(s, SourceFile)]
    assert len(list(tasks(sources, ScanConfig(), small))) > 3
    parts = scan([tmp_path], ScanConfig(jobs=2), options=small)
    assert parts.clusters == whole.clusters
    assert [d.doc_id for d in parts.docs] == [d.doc_id for d in whole.docs]
    assert [(s.rel, s.reason) for s in parts.skipped] == [(s.rel, s.reason) for s in whole.skipped]


def test_spilled_shingles_give_the_same_result(tmp_path: Path) -> None:
    for i in range(3):
        shutil.copytree(SAMPLES, tmp_path / f"copy{i}")
    in_memory = scan([tmp_path])
    spilled = scan([tmp_path], options=RunOptions(spill_hashes=1000))  # spill after the first few documents
    assert spilled.clusters == in_memory.clusters and spilled.matches == in_memory.matches


def test_shingle_store_spills_to_a_file_and_reads_sets_back() -> None:
    from dedup.shingle import shingle_batch
    from dedup.spill import ShingleStore, SpilledShingles

    texts = [" ".join(f"w{(i * 7 + j) % 97}" for j in range(60 + i)) for i in range(12)]
    batches = [shingle_batch(texts[:5], 5, 5), shingle_batch(texts[5:], 5, 5)]
    whole = shingle_batch(texts, 5, 5)
    store = ShingleStore(spill_hashes=100)
    for b in batches:
        store.add(b)
    spilled = store.finish()
    assert isinstance(spilled, SpilledShingles)  # read back from the file, not mapped
    assert len(spilled) == len(texts) and spilled.sizes().tolist() == whole.sizes().tolist()
    for i in range(len(texts)):
        assert spilled.get(i).tolist() == whole.get(i).tolist()
    assert spilled.line_docs.tolist() == whole.line_docs.tolist()
    assert spilled.hashes_of(2, 9).tolist() == whole.hashes_of(2, 9).tolist()


def test_shingle_store_mixes_sets_in_memory_and_in_worker_files(tmp_path: Path) -> None:
    from dedup.shingle import shingle_batch
    from dedup.spill import ShingleStore, SpilledShingles

    texts = [" ".join(f"w{(i * 5 + j) % 89}" for j in range(40 + 3 * i)) for i in range(9)]
    parts = [shingle_batch(texts[:3], 5, 5), shingle_batch(texts[3:6], 5, 5), shingle_batch(texts[6:], 5, 5)]
    whole = shingle_batch(texts, 5, 5)
    worker_file = tmp_path / "w1.bin"
    worker_file.write_bytes(b"x" * 16 + parts[1].hashes.tobytes())  # at byte 16, after other data
    store = ShingleStore(spill_hashes=1 << 20)
    store.add(parts[0])  # in memory
    store.add(parts[1].without_hashes(), (str(worker_file), 16))
    store.add(parts[2])  # in memory again
    mixed = store.finish()
    assert isinstance(mixed, SpilledShingles)
    assert [mixed.get(i).tolist() for i in range(len(texts))] == [whole.get(i).tolist() for i in range(len(texts))]


def test_max_bytes_limits_json_lines_records_not_the_file(tmp_path: Path) -> None:
    import json

    lines = [json.dumps({"id": f"r{i}", "text": f"short record number {i}"}) for i in range(20)]
    lines.append(json.dumps({"id": "big", "text": "long " * 200}))
    (tmp_path / "dump.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "page.txt").write_text("long " * 200, encoding="utf-8")
    result = scan([tmp_path], ScanConfig(max_bytes=300))
    assert result.summary.documents == 20  # the file is far bigger than 300 bytes, its records are not
    assert [(s.rel, s.reason.value) for s in result.skipped] == [
        ("dump.jsonl:21", "too-large"),
        ("page.txt", "too-large"),
    ]


def test_cluster_figures_from_measured_pairs_equal_figures_measured_again(tmp_path: Path) -> None:
    """Members' Jaccard and containment against the cleanest copy are taken from the exact
    check's pairs where it measured them; measuring every member again gives the same."""
    from dedup.members import make_cluster
    from dedup.records import Pick
    from dedup.shingle import shingle_batch

    texts = [(SAMPLES / name).read_text(encoding="utf-8") for name in (PLAIN, WRAPPED)]
    texts.append(texts[0][: len(texts[0]) * 2 // 3])  # a truncated copy
    for i, text in enumerate(texts):
        (tmp_path / f"{i}.txt").write_text(text, encoding="utf-8")
    result = scan([tmp_path], ScanConfig(cluster_mode="components"))
    (only,) = result.clusters
    sh = shingle_batch(texts)
    picks = [Pick(int(m.doc_id[0]), m.penalty, m.reasons) for m in only.members]
    measured = {(m.a, m.b): m for m in result.matches}
    with_pairs = make_cluster(1, picks, result.docs, sh, measured)
    fresh = make_cluster(1, picks, result.docs, sh, {})
    assert with_pairs == fresh == only


def _prose(seed: int, lines: int) -> str:
    """Lines of 12 pseudo-words ending in a full stop: prose to the template test."""
    rng = random.Random(seed)
    return "\n".join(" ".join(f"p{rng.randrange(10**6)}" for _ in range(12)) + "." for _ in range(lines))


def _links(seed: int, lines: int) -> str:
    """Short lines without full stops: navigation, never prose."""
    rng = random.Random(seed)
    return "\n".join(" ".join(f"n{rng.randrange(10**6)}" for _ in range(5)) for _ in range(lines))


def test_the_exact_checks_re_read_is_checked_against_the_digest(tmp_path: Path) -> None:
    """Issue 11: the template test of the exact check re-reads texts; a file rewritten after
    it was hashed must not be judged by its new text but skipped as changed-during-scan, as
    the ranking stage does. Two copies of one page under different navigation (a cluster)
    are rewritten, when comparing starts, into one text with prose of its own: read as they
    are now, they passed for two pages of one template, and nothing said they changed."""
    from saboteur import Saboteur

    from dedup.errors import SkipReason

    frame = _prose(1, 40)
    pages = [tmp_path / "a.txt", tmp_path / "b.txt"]
    for i, page in enumerate(pages):
        page.write_text(frame + "\n" + _links(10 + i, 14), encoding="utf-8")
    clean = scan([tmp_path], ScanConfig(jobs=1))
    assert shape(clean) == [["a.txt", "b.txt"]] or shape(clean) == [["b.txt", "a.txt"]]
    saboteur = Saboteur("comparing", "rewrite", pages, frame + "\n" + _prose(99, 12))
    hurt = scan([tmp_path], ScanConfig(jobs=1), progress=saboteur)
    assert saboteur.fired
    assert hurt.clusters == ()
    # The first text the check asks for is found changed; the pair is then no match, so
    # the other is never used (and stays a document of its own, as hashed).
    assert [(s.rel, s.reason) for s in hurt.skipped] == [("a.txt", SkipReason.CHANGED_DURING_SCAN)]
    assert hurt.skipped[0].detail == "changed after it was read: its text is not the text that was compared"


def _open_paths() -> set[str]:
    """The files this process holds open, by path (Linux's /proc)."""
    fd_dir = Path("/proc/self/fd")
    paths = set()
    for fd in fd_dir.iterdir():
        try:
            paths.add(str(fd.readlink()))
        except OSError:
            continue
    return paths


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc to list open files")
def test_a_run_stopped_while_collecting_closes_the_files_it_opened(tmp_path: Path) -> None:
    """A worker that dies, or a Ctrl-C, mid-run: the worker files and the spill file the
    store opened close at once (under pytest's warnings-as-errors an unclosed file was a
    failure in a later test, whenever the collector found it)."""
    import dataclasses

    from dedup import hashing
    from dedup.sets import Chunk

    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(6):
        (folder / f"{i}.txt").write_text(f"document {i} " + "words " * 50, encoding="utf-8")
    config = ScanConfig()
    sources = [s for s in walk([folder], config) if isinstance(s, SourceFile)]
    options = RunOptions(spill_hashes=10)  # the store spills what this process hashed to a file
    chunk = hashing.hash_files(sources[:3], config)
    worker_file = tmp_path / "w1.bin"
    worker_file.write_bytes(chunk.shingles.hashes.tobytes())
    from_worker = dataclasses.replace(chunk, shingles=chunk.shingles.without_hashes(), hashes_at=(str(worker_file), 0))
    in_memory = hashing.hash_files(sources[3:], config)

    def chunks() -> Iterator[Chunk]:
        yield from_worker
        yield in_memory
        raise KeyboardInterrupt

    before = _open_paths()
    with pytest.raises(KeyboardInterrupt):
        hashing.collect(chunks(), sources, config, options)
    left = _open_paths() - before
    assert str(worker_file) not in left and not [p for p in left if "dedup-shingles-" in p], left
