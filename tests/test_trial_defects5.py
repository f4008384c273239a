"""Defects of the 02:40 new-user trial (B4): data safety left from the last trial, then what
a new user met. Each test failed before its fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from conftest import PLAIN, SAMPLES

from dedup.cli import main


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _decisions(export: Path) -> dict[str, tuple[str, str]]:
    rows = json.loads(export.read_text(encoding="utf-8"))["documents"]
    return {r["id"]: (r["decision"], r["rule"]) for r in rows}


# 1. A symbolic link could be the kept copy over a regular file: the regular copy was then
#    in the drop list, and `dedup apply` refused the whole cluster (its kept copy a link).


def test_a_symbolic_link_is_never_kept_over_a_regular_file(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    shutil.copyfile(SAMPLES / PLAIN, outside)
    root = tmp_path / "scraped"
    root.mkdir()
    (root / "0_link.txt").symlink_to(outside)  # first in sort order, and the same text
    shutil.copyfile(SAMPLES / PLAIN, root / "a_copy.txt")
    export = tmp_path / "scan.json"
    code, out = _invoke("scan", str(root), "-q", "--no-cache", "-o", str(export), "--drop-list", str(tmp_path / "d"))
    assert code == 0, out
    assert _decisions(export) == {
        "0_link.txt": ("dropped", "jaccard"),
        "a_copy.txt": ("kept", "prefer:regular-file"),
    }
    assert (tmp_path / "d").read_text(encoding="utf-8") == "0_link.txt\n"
    members = json.loads(export.read_text(encoding="utf-8"))["clusters"][0]["members"]
    assert "the ranking's cleanest, 0_link.txt, is a symbolic link" in members[0]["reasons"][0]
    # apply leaves the link alone (it acts on regular files only) and the regular copy stays
    code, out = _invoke("apply", str(export), "--quarantine", str(tmp_path / "q"), "--yes")
    assert code == 1, out
    assert f"is a symbolic link, not a regular file: {root / '0_link.txt'}" in out
    assert (root / "a_copy.txt").read_bytes() == outside.read_bytes()
    assert (root / "0_link.txt").is_symlink()


def test_a_user_rule_chooses_among_the_regular_files_and_links_alone_are_ranked(tmp_path: Path) -> None:
    root = tmp_path / "scraped"
    (root / "site-a").mkdir(parents=True)
    shutil.copyfile(SAMPLES / PLAIN, tmp_path / "outside.txt")
    (root / "site-a" / "link.txt").symlink_to(tmp_path / "outside.txt")
    shutil.copyfile(SAMPLES / PLAIN, root / "b.txt")
    shutil.copyfile(SAMPLES / PLAIN, root / "c.txt")
    export = tmp_path / "scan.json"
    code, out = _invoke("scan", str(root), "-q", "--no-cache", "-o", str(export), "--prefer", "site-a/", "--prefer", "c.txt")
    assert code == 0, out
    decided = _decisions(export)
    assert decided["c.txt"] == ("kept", "prefer:c.txt")  # site-a/ holds only a link: passed over
    assert decided["site-a/link.txt"][0] == decided["b.txt"][0] == "dropped"
    # only links: the ranking decides among them, as before
    for name in ("b.txt", "c.txt"):
        shutil.copyfile(SAMPLES / PLAIN, tmp_path / f"outside-{name}")
        (root / name).unlink()
        (root / name).symlink_to(tmp_path / f"outside-{name}")
    code, out = _invoke("scan", str(root), "-q", "--no-cache", "-o", str(export))
    assert code == 0, out
    assert sorted(_decisions(export).values()) == [("dropped", "jaccard")] * 2 + [("kept", "ranking")]


def test_a_stored_result_that_keeps_a_file_now_a_link_is_not_served(tmp_path: Path) -> None:
    """A file swapped for a link to the same bytes keeps the whole-result cache's content key:
    the stored result, which kept it, was served again with the link kept."""
    root = tmp_path / "scraped"
    root.mkdir()
    shutil.copyfile(SAMPLES / PLAIN, root / "0_first.txt")
    shutil.copyfile(SAMPLES / PLAIN, root / "a_copy.txt")
    export, cache = tmp_path / "scan.json", tmp_path / "cache"
    args = ("scan", str(root), "-q", "--cache-dir", str(cache), "-o", str(export))
    code, out = _invoke(*args)
    assert code == 0, out
    assert _decisions(export)["0_first.txt"] == ("kept", "ranking")
    shutil.copyfile(SAMPLES / PLAIN, tmp_path / "outside.txt")
    (root / "0_first.txt").unlink()
    (root / "0_first.txt").symlink_to(tmp_path / "outside.txt")
    code, out = _invoke(*args)
    assert code == 0, out
    assert _decisions(export) == {
        "0_first.txt": ("dropped", "jaccard"),
        "a_copy.txt": ("kept", "prefer:regular-file"),
    }
