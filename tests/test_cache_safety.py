"""The signature cache under faults and misuse: it never serves a stale or damaged result,
never blocks, never prints a traceback, and never grows without bound.

Each test builds a real folder, scans it with a real SQLite cache (damage is done with
sqlite3 on the file itself), and holds the cached scan equal to a scan without a cache.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PLAIN, SAMPLES

from dedup import ScanConfig, ScanResult, scan
from dedup.cache import RACY_NS, Cache, content_digest, info
from dedup.cli import main
from dedup.read import walk
from dedup.records import SourceFile
from dedup.sets import Chunk

STORY = "The harbour story, told once: " + " ".join(f"boat{i} sails at dawn" for i in range(60))
OTHER = "A different text entirely, " + " ".join(f"mountain{i} path climbs" for i in range(60))


def same(cached: ScanResult, fresh: ScanResult) -> None:
    """A cached scan gives what a scan without any cache gives."""
    assert cached.clusters == fresh.clusters
    assert list(cached.docs) == list(fresh.docs)
    assert cached.skipped == fresh.skipped
    assert cached.summary == fresh.summary
    assert cached.matches == fresh.matches


def settle() -> None:
    """Wait until files written so far are no longer racy (see cache.RACY_NS), so that the
    next scan trusts their stats: what a test of the stat key needs."""
    time.sleep(RACY_NS / 1e9 + 0.2)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The samples (one cluster: PLAIN and WRAPPED) and a pair of same-size files."""
    folder = tmp_path / "corpus"
    shutil.copytree(SAMPLES, folder)
    return folder


def same_size_pair(folder: Path) -> tuple[Path, Path]:
    """a.txt holds STORY, b.txt OTHER cut to the same size; story.txt repeats a.txt, so a.txt
    is in a cluster and b.txt is not. Both get one old mtime."""
    data_a = STORY.encode()
    data_b = OTHER.encode()[: len(data_a)].ljust(len(data_a), b".")
    a, b = folder / "a.txt", folder / "b.txt"
    a.write_bytes(data_a)
    b.write_bytes(data_b)
    (folder / "story.txt").write_bytes(data_a + b" Share this story.")
    for p in (a, b):
        os.utime(p, ns=(1_600_000_000 * 10**9, 1_600_000_000 * 10**9))
    return a, b


def members(result: ScanResult) -> list[list[str]]:
    return [[m.doc_id for m in c.members] for c in result.clusters]


# --- #3: files are known by their whole stat, and racy files are read again -------------


def test_two_same_size_same_mtime_files_swapped_by_rename_are_seen(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "c" / "s.sqlite"
    a, b = same_size_pair(corpus)
    settle()  # the stats are trusted from here on: only the stat key can tell the swap
    first = scan([corpus], cache=db)
    assert ["a.txt", "story.txt"] in [sorted(m) for m in members(first)]
    mtimes = (a.stat().st_mtime_ns, b.stat().st_mtime_ns)
    tmp = corpus / "swap.tmp"
    os.rename(a, tmp)
    os.rename(b, a)
    os.rename(tmp, b)
    assert (a.stat().st_mtime_ns, b.stat().st_mtime_ns) == mtimes and a.stat().st_size == b.stat().st_size
    again = scan([corpus], cache=db)
    fresh = scan([corpus])
    same(again, fresh)
    assert ["b.txt", "story.txt"] in [sorted(m) for m in members(again)]  # b.txt now holds the story


def test_a_same_size_edit_with_its_mtime_put_back_is_seen(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "c" / "s.sqlite"
    a, _ = same_size_pair(corpus)
    settle()
    scan([corpus], cache=db)
    before = a.stat()
    data = OTHER.encode()[: before.st_size].ljust(before.st_size, b"!")
    with open(a, "r+b") as f:  # in place: the same inode
        f.write(data)
    os.utime(a, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = a.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
    again = scan([corpus], cache=db)
    same(again, scan([corpus]))
    assert ["a.txt", "story.txt"] not in [sorted(m) for m in members(again)]  # a.txt holds other text now


def test_a_rewrite_in_the_timestamp_tick_of_the_read_is_read_again(corpus: Path, tmp_path: Path) -> None:
    """On a file system with one-second stamps, a rewrite in the second the cache read the
    file leaves its whole stat as it was: the racy rule reads it again."""
    db = tmp_path / "s.sqlite"
    a, _ = same_size_pair(corpus)
    now = time.time_ns() // 10**9 * 10**9  # this second, as such a file system stamps it
    os.utime(a, ns=(now, now))
    walked = next(s for s in walk([corpus], ScanConfig()) if isinstance(s, SourceFile) and s.rel == "a.txt")
    coarse = walked._replace(mtime_ns=now, ctime_ns=walked.ctime_ns // 10**9 * 10**9)
    cache = Cache(db, ScanConfig())
    hit, stamp = cache.lookup(coarse)
    assert hit is None and not stamp.by_stat
    cache.store(hashed([coarse]), [coarse], [stamp])  # hashed and recorded
    cache.close()
    data = OTHER.encode()[: coarse.size].ljust(coarse.size, b"?")
    with open(a, "r+b") as f:
        f.write(data)
    cache = Cache(db, ScanConfig())
    try:
        hit, stamp = cache.lookup(coarse)  # the same stat, as the file system would give it
    finally:
        cache.close()
    assert not stamp.by_stat and stamp.digest == content_digest(a)
    assert hit is None  # the new bytes are not in the cache


def hashed(sources: list[SourceFile]) -> Chunk:
    """Hash files as the pipeline does, to store them."""
    from dedup.hashing import hash_files

    return hash_files(sources, ScanConfig())


def test_a_same_size_rewrite_right_after_a_scan_is_seen(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "c" / "s.sqlite"
    a, _ = same_size_pair(corpus)
    first = scan([corpus], cache=db)
    mtime = a.stat().st_mtime_ns
    a.write_bytes(OTHER.encode()[: len(STORY)].ljust(len(STORY), b"-"))
    os.utime(a, ns=(mtime, mtime))
    again = scan([corpus], cache=db)
    same(again, scan([corpus]))
    assert members(again) != members(first)


def test_settled_files_are_not_read_again(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The racy rule costs one more read, not every rescan: once files are older than its
    margin, the stat shortcut holds (no content read, no scan)."""
    import dedup.cache as cache_module

    db = tmp_path / "s.sqlite"
    scan([corpus], cache=db)
    settle()
    (corpus / "new.txt").write_text("forces a scan through the per-file entries " * 5, encoding="utf-8")
    os.utime(corpus / "new.txt", ns=(10**18, 10**18))
    settle()
    scan([corpus], cache=db)  # reads the racy files once more, and records them settled

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a file was read")

    monkeypatch.setattr(cache_module, "content_digest", no_reading)
    (corpus / "new.txt").unlink()  # the whole result does not apply: the per-file stats do
    same(scan([corpus], cache=db), scan([corpus]))


# --- #5: a FIFO in a file's place after the walk ------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_put_in_a_files_place_after_the_walk_is_a_skip_not_a_hang(corpus: Path, tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, sys
        from pathlib import Path
        import dedup.read
        from dedup import scan
        real_walk = dedup.read.walk
        def walk_then_swap(*args, **kwargs):
            items = list(real_walk(*args, **kwargs))
            target = Path({str(corpus / PLAIN)!r})
            target.unlink()
            os.mkfifo(target)  # no writer: a blocking open would wait for ever
            return iter(items)
        dedup.read.walk = walk_then_swap
        result = scan([Path({str(corpus)!r})], cache=Path({str(tmp_path / "c.sqlite")!r}))
        print([(s.rel, s.reason.value) for s in result.skipped])
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert PLAIN in done.stdout  # skipped, with its reason
    assert stat.S_ISFIFO((corpus / PLAIN).lstat().st_mode)  # left as it was


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_content_digest_refuses_a_fifo_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    script = f"from dedup.cache import content_digest\ntry:\n    content_digest({str(fifo)!r})\nexcept OSError as e:\n    print('refused', e.errno)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.startswith("refused"), done.stderr


# --- #9: a size policy and ``dedup cache prune`` --------------------------------------


def rewrite_all(folder: Path, tag: str) -> None:
    for p in sorted(folder.iterdir()):
        p.write_text(p.read_text(encoding="utf-8") + f"\n{tag}\n", encoding="utf-8")


def test_prune_drops_what_recent_scans_did_not_use_and_frees_space(corpus: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "c"
    db = cache_dir / "signatures.sqlite"
    for i in range(3):  # every file changes between scans: old versions pile up
        rewrite_all(corpus, f"version {i}")
        scan([corpus], cache=db)
    held = info(db)
    assert held["contents"] == 3 * 5 and held["batches"] == 3
    runner = CliRunner()
    done = runner.invoke(main, ["cache", "prune", "--cache-dir", str(cache_dir), "--keep-scans", "1"])
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(f"pruned {db}: removed 2 batches, 10 content entries and 0 file entries; ")
    assert done.stdout.rstrip().endswith("freed)")
    after = info(db)
    assert after["contents"] == 5 and after["batches"] == 1 and after["files"] == 5
    assert int(str(after["bytes"])) < int(str(held["bytes"]))
    # What is left still serves the folder, and serves it right.
    same(scan([corpus], cache=db), scan([corpus]))


def test_prune_to_a_size_keeps_the_most_recently_used(corpus: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "c"
    db = cache_dir / "signatures.sqlite"
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.txt").write_text(OTHER, encoding="utf-8")
    scan([other], cache=db)
    scan([corpus], cache=db)  # the newer of the two batches
    with sqlite3.connect(db) as con:
        newest = con.execute("SELECT bytes FROM batches ORDER BY used DESC").fetchone()[0]
    done = CliRunner().invoke(main, ["cache", "prune", "--cache-dir", str(cache_dir), "--max-size", str(newest)])
    assert done.exit_code == 0, done.output
    assert "removed 1 batch, 1 content entry and 1 file entry" in done.stdout
    assert info(db)["contents"] == 5
    done = CliRunner().invoke(main, ["cache", "prune", "--cache-dir", str(cache_dir), "--max-size", "0"])
    assert done.exit_code == 0 and info(db)["contents"] == 0 and info(db)["files"] == 0


def test_old_batches_go_by_themselves_after_keep_scans_scans(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dedup.cache as cache_module

    monkeypatch.setattr(cache_module, "KEEP_SCANS", 2)  # the policy's own setting, made small
    db = tmp_path / "s.sqlite"
    for i in range(4):
        rewrite_all(corpus, f"version {i}")
        scan([corpus], cache=db)
    assert info(db)["batches"] == 2 and info(db)["contents"] == 10  # the last two scans' only


def test_prune_without_a_cache(tmp_path: Path) -> None:
    done = CliRunner().invoke(main, ["cache", "prune", "--cache-dir", str(tmp_path)])
    assert done.exit_code == 0 and done.stdout == f"no cache at {tmp_path / 'signatures.sqlite'}\n"


# --- #10: names that are not UTF-8 -----------------------------------------------------


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS refuses names that are not UTF-8")
def test_a_name_that_is_not_utf8_with_the_cache_on(corpus: Path, tmp_path: Path) -> None:
    odd = os.path.join(os.fsencode(corpus), b"caf\xe9.txt")
    with open(odd, "wb") as f:
        f.write((corpus / PLAIN).read_bytes())  # a copy: it joins the cluster
    db = tmp_path / "c" / "s.sqlite"
    fresh = scan([corpus])
    for _ in range(3):  # fill, then from the cache (twice: no half-written rows)
        got = scan([corpus], cache=db)
        assert got.warnings == ()
        same(got, fresh)
    assert "caf\udce9.txt" in members(fresh)[0]
    cache_dir = tmp_path / "cli"
    for _ in range(2):
        done = CliRunner().invoke(
            main, ["scan", str(corpus), "--cache-dir", str(cache_dir), "-o", str(tmp_path / "o.json")]
        )
        assert done.exit_code == 0 and "Traceback" not in done.output and "warning" not in done.output


# --- #11: damaged values in a valid cache file ------------------------------------------


def damage(db: Path, sql: str, *args: object) -> None:
    """Edit the cache file as a disk error or a hand edit would; the stored whole results go
    too, so that the rescan goes through the per-file entries."""
    con = sqlite3.connect(db)
    con.execute(sql, args)
    con.execute("DELETE FROM results")
    con.execute("DELETE FROM result_stats")
    con.commit()
    con.close()


def flip_a_bit(db: Path) -> None:
    con = sqlite3.connect(db)
    batch_id, payload = con.execute("SELECT id, payload FROM batches").fetchone()
    data = bytearray(payload)
    data[len(data) - 200] ^= 0x10  # in the signatures, near the end
    con.execute("UPDATE batches SET payload=? WHERE id=?", (bytes(data), batch_id))
    con.commit()
    con.close()
    damage(db, "SELECT 1")


DAMAGE: dict[str, Callable[[Path], None]] = {
    "batch cut short": lambda db: damage(db, "UPDATE batches SET payload = substr(payload, 1, 100)"),
    "batch random": lambda db: damage(db, "UPDATE batches SET payload = randomblob(length(payload))"),
    "batch bit flip": flip_a_bit,
    "content.hi": lambda db: damage(db, "UPDATE content SET hi = hi + 1000"),
    "content.lo": lambda db: damage(db, "UPDATE content SET lo = -5"),
    "skip json": lambda db: damage(db, 'UPDATE content SET skipped = \'[["x", "nonsense"\''),
    "seen digest": lambda db: damage(db, "UPDATE seen SET digest = 'ab' || substr(digest, 3)"),
    "ranking json": lambda db: damage(db, "UPDATE rankings SET picks = '[[0, \"x\"'"),
    "ranking values": lambda db: damage(db, "UPDATE rankings SET picks = '[[5, 0.0, []], [0, 1.0, []]]'"),
}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damaged_values_are_one_warning_and_computed_afresh(corpus: Path, tmp_path: Path, kind: str) -> None:
    (corpus / "bad.jsonl").write_text('{"text": "fine text here for a record"}\nnot json\n', encoding="utf-8")
    db = tmp_path / "s.sqlite"
    scan([corpus], cache=db)
    DAMAGE[kind](db)
    fresh = scan([corpus])
    got = scan([corpus], cache=db)
    same(got, fresh)
    assert [m.jaccard for m in got.matches] == [m.jaccard for m in fresh.matches]
    assert len(got.warnings) == 1 and "damaged value" in got.warnings[0] and "computed afresh" in got.warnings[0]
    again = scan([corpus], cache=db)  # the damage is gone: no warning
    same(again, fresh)
    assert again.warnings == ()


@pytest.mark.parametrize("table", ["results", "result_stats"])
def test_a_damaged_stored_result_is_recomputed(corpus: Path, tmp_path: Path, table: str) -> None:
    db = tmp_path / "s.sqlite"
    scan([corpus], cache=db)
    settle()
    scan([corpus], cache=db)  # settled: the stat key is stored too
    con = sqlite3.connect(db)
    assert con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] >= 1
    column = "payload" if table == "results" else "result"
    value = "randomblob(length(payload))" if table == "results" else "'0123'"
    con.execute(f"UPDATE {table} SET {column} = {value}")  # two fixed names
    con.commit()
    con.close()
    got = scan([corpus], cache=db)
    same(got, scan([corpus]))
    assert len(got.warnings) == 1 and "damaged value" in got.warnings[0]


def test_damage_through_the_cli_is_one_warning_line_and_the_same_export(corpus: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "c"
    runner = CliRunner()
    plain = tmp_path / "plain.json"
    assert runner.invoke(main, ["scan", str(corpus), "--no-cache", "-o", str(plain)]).exit_code == 0
    first = runner.invoke(main, ["scan", str(corpus), "--cache-dir", str(cache_dir), "-o", str(tmp_path / "1.json")])
    assert first.exit_code == 0
    damage(cache_dir / "signatures.sqlite", "UPDATE batches SET payload = substr(payload, 1, 50)")
    out = tmp_path / "2.json"
    done = runner.invoke(main, ["scan", str(corpus), "--cache-dir", str(cache_dir), "-o", str(out)])
    assert done.exit_code == 0
    assert [ln for ln in done.stderr.splitlines() if ln.startswith("warning:")] == [
        ln for ln in done.stderr.splitlines() if ln.strip()
    ]
    assert len(done.stderr.strip().splitlines()) == 1 and "damaged value" in done.stderr
    def strip(p: Path) -> dict[str, object]:
        return {k: v for k, v in json.loads(p.read_text()).items() if k not in ("timings", "warnings")}

    assert strip(out) == strip(plain)


# --- #12: scans sharing a cache ---------------------------------------------------------


@pytest.mark.slow
def test_a_scan_goes_on_while_another_process_prunes_the_cache(tmp_path: Path) -> None:
    """Process A rescans (through the per-file entries and batches) while process B prunes
    everything again and again: a row that went away is a miss, never a crash."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(700):  # three batches
        body = STORY if i % 50 == 0 else f"page {i} " + " ".join(f"w{i}x{j}" for j in range(40))
        (folder / f"{i:04d}.txt").write_text(body, encoding="utf-8")
    db = tmp_path / "shared.sqlite"
    fresh = scan([folder], ScanConfig(jobs=1))
    expected = json.dumps(members(fresh))
    a = textwrap.dedent(
        f"""
        import json, sqlite3, sys
        from pathlib import Path
        from dedup import ScanConfig, scan
        db = Path({str(db)!r})
        for i in range(12):
            con = sqlite3.connect(db, timeout=30)
            with con:
                con.execute("DELETE FROM results")  # the rescan goes through the batches
            con.close()
            r = scan([Path({str(folder)!r})], ScanConfig(jobs=1), cache=db)
            got = json.dumps([[m.doc_id for m in c.members] for c in r.clusters])
            if got != {expected!r}:
                sys.exit("different clusters: " + got[:200])
        print("ok")
        """
    )
    b = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from dedup.cache import prune
        end = time.monotonic() + 60
        n = 0
        while time.monotonic() < end and not Path({str(tmp_path / "a-done")!r}).exists():
            prune(Path({str(db)!r}), keep_scans=1, max_bytes=0)
            n += 1
            time.sleep(0.01)
        print("pruned", n)
        """
    )
    scan([folder], ScanConfig(jobs=1), cache=db)  # a warm cache to start from
    pruner = subprocess.Popen([sys.executable, "-c", b], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        scanner = subprocess.run([sys.executable, "-c", a], capture_output=True, text=True, timeout=300)
    finally:
        (tmp_path / "a-done").touch()
        out, err = pruner.communicate(timeout=120)
    assert scanner.returncode == 0 and scanner.stdout.strip() == "ok", scanner.stderr[-2000:]
    assert "Traceback" not in scanner.stderr and "Traceback" not in err, err[-2000:]
    assert pruner.returncode == 0 and int(out.split()[-1]) > 1


# --- #13: ``dedup cache`` on a file that is not a cache ----------------------------------


def broken(kind: str, cache_dir: Path) -> Path:
    path = cache_dir / "signatures.sqlite"
    cache_dir.mkdir(exist_ok=True)
    if kind == "garbage":
        path.write_bytes(b"this is not a database at all" * 50)
    elif kind == "folder":
        path.mkdir()
    elif kind == "other sqlite":
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE notes (body TEXT)")
        con.commit()
        con.close()
    return path


@pytest.mark.parametrize("command", ["info", "prune", "clear"])
@pytest.mark.parametrize("kind", ["garbage", "folder", "other sqlite"])
def test_cache_commands_on_what_is_not_a_cache_are_one_error_line(tmp_path: Path, command: str, kind: str) -> None:
    cache_dir = tmp_path / "c"
    path = broken(kind, cache_dir)
    before = path.read_bytes() if path.is_file() else None
    done = CliRunner().invoke(main, ["cache", command, "--cache-dir", str(cache_dir)])
    assert done.exit_code == 2, done.output
    assert done.stdout == ""
    assert done.stderr.startswith("Error: ") and done.stderr.count("\n") == 1 and str(path) in done.stderr
    assert "Traceback" not in done.stderr
    if before is not None:
        assert path.read_bytes() == before  # left alone
    else:
        assert path.is_dir()


@pytest.mark.parametrize("command", ["info", "prune", "clear"])
def test_cache_commands_on_an_empty_file(tmp_path: Path, command: str) -> None:
    """An empty file is what a run killed as it created the cache leaves: nothing stored."""
    (tmp_path / "signatures.sqlite").write_bytes(b"")
    done = CliRunner().invoke(main, ["cache", command, "--cache-dir", str(tmp_path)])
    assert done.exit_code == 0 and done.stderr == ""
    expected = {"info": "empty (no cache file yet)", "prune": "no cache at", "clear": "deleted"}[command]
    assert expected in done.stdout


def test_cache_info_reports_what_it_holds(corpus: Path, tmp_path: Path) -> None:
    scan([corpus], cache=tmp_path / "signatures.sqlite")
    done = CliRunner().invoke(main, ["cache", "info", "--cache-dir", str(tmp_path)], catch_exceptions=False)
    lines = done.stdout.splitlines()
    assert lines[:7] == [
        f"cache: {tmp_path / 'signatures.sqlite'}",
        "files: 5",
        "contents: 5",
        "rankings: 1",
        "scan results: 1",
        "batches: 1",
        "scans: 1",
    ]
    assert lines[7].startswith("size: ")


@pytest.mark.parametrize("kind", ["garbage", "folder", "parent is a file"])
def test_a_scan_with_an_unusable_cache_warns_and_goes_on(corpus: Path, tmp_path: Path, kind: str) -> None:
    if kind == "parent is a file":
        (tmp_path / "c").write_text("a file where the cache folder should be", encoding="utf-8")
        path = tmp_path / "c" / "signatures.sqlite"
    else:
        path = broken(kind, tmp_path / "c")
    got = scan([corpus], cache=path)
    same(got, scan([corpus]))
    assert len(got.warnings) == 1 and got.warnings[0].startswith("signature cache not used")
    assert "\n" not in got.warnings[0]


def test_an_empty_cache_file_becomes_a_cache(corpus: Path, tmp_path: Path) -> None:
    path = tmp_path / "signatures.sqlite"
    path.write_bytes(b"")
    got = scan([corpus], cache=path)
    assert got.warnings == () and info(path)["contents"] == 5


def test_an_older_layout_is_started_afresh_and_made_private(corpus: Path, tmp_path: Path) -> None:
    path = tmp_path / "signatures.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE seen (path TEXT, params TEXT, size INTEGER, mtime_ns INTEGER, digest TEXT)")
    con.execute("INSERT INTO seen VALUES ('/x', 'p', 1, 1, 'd')")
    con.execute("PRAGMA user_version=2")
    con.commit()
    con.close()
    os.chmod(path, 0o644)
    done = CliRunner().invoke(main, ["cache", "info", "--cache-dir", str(tmp_path)])
    assert done.exit_code == 0 and "an older layout (2): the next scan starts it afresh" in done.stdout
    same(scan([corpus], cache=path), scan([corpus]))
    assert info(path)["files"] == 5
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- #18: the cache holds absolute paths: private to its user --------------------------


def test_the_cache_folder_and_files_are_private(corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "new" / "cache"
    path = folder / "signatures.sqlite"
    cache = Cache(path, ScanConfig())
    try:
        sources = [s for s in walk([corpus], ScanConfig()) if isinstance(s, SourceFile)]
        cache.store(hashed(sources), sources, [cache.stamp(s) for s in sources])
        cache.commit()
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        side = [Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm")]
        assert all(p.exists() for p in side)
        assert {str(p): stat.S_IMODE(p.stat().st_mode) for p in side} == {str(p): 0o600 for p in side}
    finally:
        cache.close()


def test_an_existing_cache_folder_keeps_its_mode(corpus: Path, tmp_path: Path) -> None:
    """--cache-dir may name a shared folder: dedup never changes the mode of one it did not make."""
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    scan([corpus], cache=folder / "signatures.sqlite")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert stat.S_IMODE((folder / "signatures.sqlite").stat().st_mode) == 0o600
