"""read.walk: ids, order, filters, symlinks and limits, on real folders in tmp_path."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from dedup.config import ScanConfig
from dedup.errors import InputError, SkipReason
from dedup.read import walk
from dedup.records import Skipped, SourceFile

FILES = ("b.txt", "a.txt", "sub/z.md", "sub/deeper/k.html", "A.txt", "sub2/a.txt", "a b/c.txt")


def make(root: Path, rel: str, text: str = "some text\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def rels(paths: list[Path], config: ScanConfig | None = None) -> list[str]:
    return [item.rel for item in walk(paths, config or ScanConfig())]


def files(paths: list[Path], config: ScanConfig | None = None) -> list[SourceFile]:
    return [item for item in walk(paths, config or ScanConfig()) if isinstance(item, SourceFile)]


def skips(paths: list[Path], config: ScanConfig | None = None) -> list[Skipped]:
    return [item for item in walk(paths, config or ScanConfig()) if isinstance(item, Skipped)]


# --- order and ids ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_order_is_sorted_rel_whatever_the_creation_order(tmp_path: Path, seed: int) -> None:
    order = list(FILES)
    random.Random(seed).shuffle(order)
    for rel in order:
        make(tmp_path, rel)
    assert rels([tmp_path]) == sorted(FILES)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_walk_is_the_same_whatever_order_the_os_lists_entries_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Folders listed in any order give the same records: files, the name kept for a file
    reached twice (a hard link, a symlink), loops and oversized files."""
    import dedup.read as read_module

    for rel in FILES:
        make(tmp_path, rel)
    os.link(tmp_path / "a.txt", tmp_path / "sub" / "hard.txt")
    (tmp_path / "sub" / "soft.txt").symlink_to(tmp_path / "b.txt")
    (tmp_path / "sub" / "up").symlink_to(tmp_path)
    make(tmp_path, "big.txt", "x" * 5000)
    config = ScanConfig(max_bytes=1000)
    expected = list(walk([tmp_path], config))
    listing = read_module.list_folder
    rng = random.Random(seed)

    def shuffled(path: str) -> list[os.DirEntry[str]]:
        entries = listing(path)
        rng.shuffle(entries)
        return entries

    monkeypatch.setattr(read_module, "list_folder", shuffled)
    assert list(walk([tmp_path], config)) == expected
    assert [s.reason for s in expected if isinstance(s, Skipped)] == [SkipReason.TOO_LARGE, SkipReason.SYMLINK_LOOP]
    kept = {f.rel for f in expected if isinstance(f, SourceFile)}
    assert {"a.txt", "b.txt"} <= kept and not {"sub/hard.txt", "sub/soft.txt"} & kept  # first real names win


def found(path: Path, rel: str) -> SourceFile:
    """The record the walk makes of a file: its stat as the signature cache compares it."""
    st = path.stat()
    return SourceFile(str(path), rel, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def test_sourcefile_fields(tmp_path: Path) -> None:
    path = make(tmp_path, "sub/x.txt", "12345")
    st = path.stat()
    assert files([tmp_path]) == [
        SourceFile(path=str(path), rel="sub/x.txt", size=5, mtime_ns=st.st_mtime_ns, ctime_ns=st.st_ctime_ns,
                   ino=st.st_ino, dev=st.st_dev)
    ]  # fmt: skip


def test_walk_raises_at_call_not_at_first_next(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no such file or folder: .*missing"):
        walk([tmp_path / "missing"], ScanConfig())


def test_missing_path_among_good_ones(tmp_path: Path) -> None:
    make(tmp_path, "a/x.txt")
    with pytest.raises(InputError) as info:
        walk([tmp_path / "a", tmp_path / "nope"], ScanConfig())
    assert "nope" in str(info.value)
    assert "\n" not in str(info.value)


def test_broken_link_argument_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    with pytest.raises(InputError, match="broken symbolic link"):
        walk([tmp_path / "dangling"], ScanConfig())


def test_several_folders_are_prefixed_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, "a/x.txt")
    make(tmp_path, "b/x.txt")
    make(tmp_path, "b/sub/y.txt")
    monkeypatch.chdir(tmp_path)
    assert rels([Path("b"), Path("a/")]) == ["a/x.txt", "b/sub/y.txt", "b/x.txt"]
    absolute = (tmp_path / "b").as_posix()
    assert rels([Path("./a"), tmp_path / "b"]) == [f"{absolute}/sub/y.txt", f"{absolute}/x.txt", "a/x.txt"]


def test_file_argument_is_named_from_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inside = make(tmp_path, "work/docs/x.txt")
    outside = make(tmp_path, "elsewhere/y.txt")
    monkeypatch.chdir(tmp_path / "work")
    assert rels([inside]) == ["docs/x.txt"]  # absolute, but under the cwd
    assert rels([Path("docs/x.txt")]) == ["docs/x.txt"]
    assert rels([Path("../elsewhere/y.txt")]) == ["../elsewhere/y.txt"]
    assert rels([outside]) == [outside.as_posix()]


def test_same_file_from_two_arguments_is_yielded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, "a/x.txt")
    monkeypatch.chdir(tmp_path)
    assert rels([Path("a"), Path("a/x.txt"), Path("a")]) == ["a/x.txt"]


def test_symlinked_file_is_yielded_once_under_its_real_name(tmp_path: Path) -> None:
    make(tmp_path, "real.txt")
    (tmp_path / "a_link.txt").symlink_to(tmp_path / "real.txt")
    assert rels([tmp_path]) == ["real.txt"]


def test_symlink_to_a_file_elsewhere_is_followed(tmp_path: Path) -> None:
    target = make(tmp_path, "outside/t.txt", "hello")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link.txt").symlink_to(target)
    assert [(f.rel, f.size) for f in files([root])] == [("link.txt", 5)]


def test_symlinked_folder_is_walked(tmp_path: Path) -> None:
    make(tmp_path, "outside/t.txt")
    root = tmp_path / "root"
    root.mkdir()
    (root / "linked").symlink_to(tmp_path / "outside")
    assert rels([root]) == ["linked/t.txt"]


# --- hidden, include, exclude -----------------------------------------------------------


def test_hidden_files_and_folders_are_left_out_silently(tmp_path: Path) -> None:
    for rel in (".hidden.txt", ".git/config.txt", "sub/.cache/x.txt", "sub/.x.txt", "visible.txt"):
        make(tmp_path, rel)
    assert rels([tmp_path]) == ["visible.txt"]
    assert rels([tmp_path], ScanConfig(hidden=True)) == [
        ".git/config.txt",
        ".hidden.txt",
        "sub/.cache/x.txt",
        "sub/.x.txt",
        "visible.txt",
    ]


def test_hidden_file_named_on_the_command_line_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, ".notes.txt")
    monkeypatch.chdir(tmp_path)
    assert rels([Path(".notes.txt")]) == [".notes.txt"]


TREE = ("a.html", "a.txt", "drafts/d.txt", "drafts/sub/e.html", "x/tmp/t.txt", "tmp/u.txt", "keep/tmp.txt")


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        ((), (), sorted(TREE)),
        (("*.html",), (), ["a.html", "drafts/sub/e.html"]),
        (("*.html", "*.txt"), ("drafts/*",), ["a.html", "a.txt", "keep/tmp.txt", "tmp/u.txt", "x/tmp/t.txt"]),
        ((), ("**/tmp/**",), ["a.html", "a.txt", "drafts/d.txt", "drafts/sub/e.html", "keep/tmp.txt"]),
        ((), ("tmp",), ["a.html", "a.txt", "drafts/d.txt", "drafts/sub/e.html", "keep/tmp.txt"]),
        (("drafts",), (), ["drafts/d.txt", "drafts/sub/e.html"]),
        (("drafts/*",), (), ["drafts/d.txt", "drafts/sub/e.html"]),
        (("*.txt",), ("drafts/",), ["a.txt", "keep/tmp.txt", "tmp/u.txt", "x/tmp/t.txt"]),
        (("[ae].*",), (), ["a.html", "a.txt", "drafts/sub/e.html"]),
        (("**/*.html",), (), ["a.html", "drafts/sub/e.html"]),
        (("x/**",), (), ["x/tmp/t.txt"]),
        ((), ("*",), []),
    ],
)
def test_include_and_exclude(
    tmp_path: Path, include: tuple[str, ...], exclude: tuple[str, ...], expected: list[str]
) -> None:
    for rel in TREE:
        make(tmp_path, rel)
    found = walk([tmp_path], ScanConfig(include=include, exclude=exclude))
    assert [item.rel for item in found] == expected  # excluded files are not reported as skipped


def test_patterns_with_a_slash_also_match_below_each_argument(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, "a/drafts/x.txt")
    make(tmp_path, "a/y.txt")
    make(tmp_path, "b/drafts/x.txt")
    monkeypatch.chdir(tmp_path)
    config = ScanConfig(exclude=("drafts/*",))
    assert rels([Path("a"), Path("b")], config) == ["a/y.txt"]


# --- symlink loops and unreadable entries -----------------------------------------------


def test_symlink_loop_to_an_ancestor_is_reported_and_the_walk_ends(tmp_path: Path) -> None:
    root = tmp_path / "root"
    make(root, "a/x.txt")
    make(root, "top.txt")
    (root / "a" / "up").symlink_to(root)
    (root / "a" / "here").symlink_to(root / "a")
    items = list(walk([root], ScanConfig()))
    assert items == [
        Skipped("a/here", SkipReason.SYMLINK_LOOP, "link leads back to a"),
        Skipped("a/up", SkipReason.SYMLINK_LOOP, "link leads back to ."),
        found(root / "a" / "x.txt", "a/x.txt"),
        found(root / "top.txt", "top.txt"),
    ]


def test_symlink_loop_message_names_the_prefixed_ancestor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, "a/x.txt")
    make(tmp_path, "b/y.txt")
    (tmp_path / "a" / "back").symlink_to(tmp_path / "a")
    monkeypatch.chdir(tmp_path)
    assert skips([Path("a"), Path("b")]) == [Skipped("a/back", SkipReason.SYMLINK_LOOP, "link leads back to a")]


def test_link_to_itself_is_a_loop(tmp_path: Path) -> None:
    (tmp_path / "self").symlink_to(tmp_path / "self")
    make(tmp_path, "ok.txt")
    assert skips([tmp_path]) == [Skipped("self", SkipReason.SYMLINK_LOOP, "symbolic link leads back to itself")]


def test_two_links_to_one_sibling_folder_are_not_loops(tmp_path: Path) -> None:
    make(tmp_path, "data/x.txt")
    (tmp_path / "l1").symlink_to(tmp_path / "data")
    (tmp_path / "l2").symlink_to(tmp_path / "data")
    assert rels([tmp_path]) == ["data/x.txt"]


def test_broken_link_is_unreadable(tmp_path: Path) -> None:
    make(tmp_path, "ok.txt")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    assert skips([tmp_path]) == [Skipped("gone.txt", SkipReason.UNREADABLE, "broken symbolic link")]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can list a folder with mode 000")
def test_unreadable_folder_is_skipped_and_the_walk_goes_on(tmp_path: Path) -> None:
    make(tmp_path, "closed/x.txt")
    make(tmp_path, "open/y.txt")
    (tmp_path / "closed").chmod(0)
    try:
        items = list(walk([tmp_path], ScanConfig()))
    finally:
        (tmp_path / "closed").chmod(0o755)
    assert [i.rel for i in items] == ["closed", "open/y.txt"]
    assert items[0] == Skipped("closed", SkipReason.UNREADABLE, "cannot list folder: permission denied")


def test_fifo_is_not_a_document_and_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    make(tmp_path, "ok.txt")
    assert rels([tmp_path]) == ["ok.txt", "pipe.txt"]
    assert skips([tmp_path]) == [Skipped("pipe.txt", SkipReason.NOT_A_FILE, "FIFO")]


# --- sizes and names --------------------------------------------------------------------


def test_too_large_is_skipped_with_sizes_people_read(tmp_path: Path) -> None:
    with open(tmp_path / "big.txt", "wb") as f:  # sparse: no disk space used
        f.truncate(round(52.4 * 1024 * 1024))
    make(tmp_path, "small.txt")
    config = ScanConfig(max_bytes=32 * 1024 * 1024)
    assert skips([tmp_path], config) == [
        Skipped("big.txt", SkipReason.TOO_LARGE, "52.4 MB > 32.0 MB limit (--max-bytes)")
    ]


@pytest.mark.parametrize(
    ("size", "limit", "detail"),
    [(2000, 1000, "2.0 KB > 1000 B limit (--max-bytes)"), (11, 10, "11 B > 10 B limit (--max-bytes)")],
)
def test_too_large_small_limits(tmp_path: Path, size: int, limit: int, detail: str) -> None:
    (tmp_path / "f.txt").write_bytes(b"x" * size)
    (tmp_path / "ok.txt").write_bytes(b"x" * limit)  # exactly at the limit is fine
    assert next(walk([tmp_path], ScanConfig(max_bytes=limit))) == Skipped("f.txt", SkipReason.TOO_LARGE, detail)
    assert rels([tmp_path], ScanConfig(max_bytes=limit)) == ["f.txt", "ok.txt"]


def test_non_utf8_file_name_walks_with_a_stable_surrogate_escaped_rel(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9.txt"
    fd = os.open(raw, os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, b"text in a badly named file\n")
    os.close(fd)
    (found,) = files([tmp_path])
    assert found.rel == "caf\udce9.txt"
    assert os.fsencode(found.path) == raw
    assert Path(found.path).read_bytes() == b"text in a badly named file\n"
    assert rels([tmp_path]) == rels([tmp_path])
