"""Document ids: a record's id is qualified by its file, so it never names another file, and
every id of a run is unique whatever -j, cache or file order (issue 11, item 2)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from dedup import ScanConfig, ScanResult, scan
from dedup.errors import SkipReason
from dedup.export import write_export, write_lists
from dedup.options import RunOptions


def words(seed: int, n: int = 160) -> str:
    """A paragraph of random words: texts of different seeds share almost no shingles."""
    rng = random.Random(seed)
    return " ".join(f"w{rng.randrange(100_000)}" for _ in range(n))


def jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def ids_of(result: ScanResult) -> list[str]:
    return [d.doc_id for d in result.docs]


def test_a_record_id_does_not_shadow_a_real_file(tmp_path: Path) -> None:
    """``a.jsonl`` holding ``{"id": "victim.txt"}`` next to a real ``victim.txt`` with text
    of its own: the file is read, and no list names it."""
    jsonl(tmp_path / "a.jsonl", [{"id": "victim.txt", "text": words(1)}])
    (tmp_path / "copy.txt").write_text(words(1) + " trailer", encoding="utf-8")  # a copy of the record
    (tmp_path / "victim.txt").write_text(words(2), encoding="utf-8")  # the only copy of this text
    result = scan([tmp_path], ScanConfig(jobs=1))
    assert result.skipped == ()
    assert sorted(ids_of(result)) == ["a.jsonl:victim.txt", "copy.txt", "victim.txt"]
    [record] = [d for d in result.docs if d.rel == "a.jsonl"]
    assert (record.record_id, record.record) == ("victim.txt", 1)
    [group] = result.clusters
    assert {m.doc_id for m in group.members} == {"a.jsonl:victim.txt", "copy.txt"}
    drop, keep = tmp_path.parent / "drop.txt", tmp_path.parent / "keep.txt"
    write_lists(result, keep, drop)
    assert "victim.txt" not in drop.read_text(encoding="utf-8").splitlines()
    assert "victim.txt" in keep.read_text(encoding="utf-8").splitlines()


def test_a_file_that_truly_is_a_copy_is_still_dropped(tmp_path: Path) -> None:
    jsonl(tmp_path / "a.jsonl", [{"id": "victim.txt", "text": words(3) + " kept longer: the record"}])
    (tmp_path / "victim.txt").write_text(words(3), encoding="utf-8")
    (tmp_path / "b.txt").write_text(words(3), encoding="utf-8")
    result = scan([tmp_path], ScanConfig(jobs=1))
    [group] = result.clusters
    assert {m.doc_id for m in group.members} == {"a.jsonl:victim.txt", "b.txt", "victim.txt"}


def test_records_that_share_an_id_are_compared_and_clustered(tmp_path: Path) -> None:
    """The same URL crawled twice (in one file and in another): all are documents."""
    url = "https://example.com/story"
    jsonl(tmp_path / "a.jsonl", [{"id": url, "text": words(4)}, {"id": url, "text": words(4) + " updated"}])
    jsonl(tmp_path / "b.jsonl", [{"id": url, "text": words(4) + " mirror"}, {"id": url, "text": words(5)}])
    result = scan([tmp_path], ScanConfig(jobs=1))
    assert result.skipped == ()
    assert ids_of(result) == [f"a.jsonl:{url}", f"a.jsonl:{url}@L2", f"b.jsonl:{url}", f"b.jsonl:{url}@L2"]
    assert {d.record_id for d in result.docs} == {url}
    [group] = result.clusters
    assert sorted(m.doc_id for m in group.members) == [f"a.jsonl:{url}", f"a.jsonl:{url}@L2", f"b.jsonl:{url}"]
    assert all(m.record_id == url for m in group.members)
    assert len(set(ids_of(result))) == len(result.docs)


def test_records_without_an_id_keep_path_and_line(tmp_path: Path) -> None:
    jsonl(tmp_path / "a.jsonl", [{"text": words(6)}, {"text": words(7)}])
    result = scan([tmp_path], ScanConfig(jobs=1))
    assert ids_of(result) == ["a.jsonl:1", "a.jsonl:2"]
    assert [d.record_id for d in result.docs] == [None, None]


def test_a_qualified_id_that_is_a_file_name_gives_way_to_the_file(tmp_path: Path) -> None:
    """A file literally named ``a.jsonl:victim.txt`` keeps its path as id; the record whose
    qualified id it would be gets its line appended, and so does a later one that wants
    that too (``x@L1`` as a record's own id in another position)."""
    jsonl(tmp_path / "a.jsonl", [{"id": "victim.txt", "text": words(8)}, {"id": "victim.txt@L1", "text": words(9)}])
    (tmp_path / "a.jsonl:victim.txt").write_text(words(8), encoding="utf-8")
    result = scan([tmp_path], ScanConfig(jobs=1))
    assert ids_of(result) == ["a.jsonl:victim.txt@L1", "a.jsonl:victim.txt@L1@L2", "a.jsonl:victim.txt"]
    [group] = result.clusters
    assert {m.doc_id for m in group.members} == {"a.jsonl:victim.txt", "a.jsonl:victim.txt@L1"}
    files = [m for m in group.members if m.rel == "a.jsonl:victim.txt"]
    assert [(m.doc_id, m.record, m.record_id) for m in files] == [("a.jsonl:victim.txt", None, None)]


def test_a_lone_json_object_is_a_file_with_its_id_beside(tmp_path: Path) -> None:
    (tmp_path / "one.json").write_text(json.dumps({"id": "x.txt", "text": words(10)}), encoding="utf-8")
    result = scan([tmp_path], ScanConfig(jobs=1))
    assert [(d.doc_id, d.record_id) for d in result.docs] == [("one.json", "x.txt")]


def _id_corpus(root: Path) -> None:
    for i in range(12):
        sub = root / f"site{i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"page{i}.txt").write_text(words(100 + i % 4) + f" page {i}", encoding="utf-8")
        jsonl(
            sub / f"dump{i}.jsonl",
            [
                {"id": f"page{i}.txt", "text": words(100 + i % 4)},
                {"id": "same", "text": words(200 + i % 2)},
                {"text": words(300 + i)},
            ],
        )
    (root / "site0" / "dump0.jsonl:page0.txt").write_text(words(100) + " named like a record", encoding="utf-8")


def test_ids_and_exports_are_the_same_whatever_workers_and_cache(tmp_path: Path) -> None:
    small = RunOptions(files_per_task=3)  # many tasks: workers hand back chunks out of step
    corpus = tmp_path / "corpus"
    _id_corpus(corpus)
    outs: list[tuple[list[str], bytes]] = []
    for jobs, cache in ((1, None), (2, None), (2, tmp_path / "c.sqlite"), (1, tmp_path / "c.sqlite")):
        result = scan([corpus], ScanConfig(jobs=jobs), cache=cache, options=small)
        out = tmp_path / f"out{len(outs)}.json"
        write_export(result, out, version="test")
        outs.append((ids_of(result), out.read_bytes()))
        assert not [s for s in result.skipped if s.reason == SkipReason.CHANGED_DURING_SCAN]
    ids, data = outs[0]
    assert len(set(ids)) == len(ids) and "site0/dump0.jsonl:page0.txt@L1" in ids
    assert all(o == (ids, data) for o in outs[1:])
