"""Defects a new-user trial found in the scan's outputs: own outputs on a rescan, repeated options."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLES

from dedup.cli import main
from dedup.config import ScanConfig
from dedup.errors import SkipReason
from dedup.pipeline import scan


def test_decision_tables_and_html_report_in_the_folder_are_dedup_output(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    shutil.copytree(SAMPLES, folder)
    runner = CliRunner()
    runs = (
        ["--decisions", str(folder / "d.jsonl"), "--html", str(folder / "r.html")],
        ["--decisions", str(folder / "d.json")],
        ["--decisions", str(folder / "d.csv")],
    )
    for args in runs:
        result = runner.invoke(main, ["scan", str(folder), "-q", *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    again = scan([folder], ScanConfig(jobs=1), cache=None)
    reasons = {k.rel: k.reason for k in again.skipped}
    assert reasons == {name: SkipReason.DEDUP_OUTPUT for name in ("d.csv", "d.json", "d.jsonl", "r.html")}
    assert len(again.docs) == len(list(SAMPLES.iterdir()))


@pytest.mark.parametrize("option", ["-o", "--decisions", "--html", "--keep-list", "--drop-list"])
def test_an_output_option_given_twice_is_a_usage_error(tmp_path: Path, option: str) -> None:
    suffix = ".html" if option == "--html" else ".json"
    first, second = tmp_path / f"o1{suffix}", tmp_path / f"o2{suffix}"
    result = CliRunner().invoke(main, ["scan", str(SAMPLES), "-q", option, str(first), option, str(second)])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "more than once" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["scan", str(SAMPLES), "--top", "-1"],
        ["scan", str(SAMPLES), "--no-such-option"],
        ["scan"],
        ["cache", "info", "--bogus"],
        ["explain", str(SAMPLES)],
        ["nosuchcommand"],
    ],
)
def test_a_usage_error_is_one_error_line(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""


def test_no_command_still_shows_the_help() -> None:
    result = CliRunner().invoke(main, [])
    assert "Commands:" in result.output


def test_the_report_writes_names_as_the_lists_do(tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    text = (SAMPLES / "000_8bcd120cc8060ff3.txt").read_bytes()
    names = [b"lat\xe9.txt", b"lat\xe8.txt", b"new\nline.txt"]
    for name in names:
        (folder / os.fsdecode(name)).write_bytes(text)
    keep = tmp_path / "keep.txt"
    drop = tmp_path / "drop.txt"
    result = CliRunner().invoke(
        main, ["scan", str(folder), "--keep-list", str(keep), "--drop-list", str(drop)], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    listed = keep.read_text().splitlines() + drop.read_text().splitlines()
    assert sorted(listed) == ["lat\\xe8.txt", "lat\\xe9.txt", "new\\nline.txt"]
    for shown in listed:
        assert shown in result.stdout
    assert "\ufffd" not in result.stdout and "⏎" not in result.stdout
