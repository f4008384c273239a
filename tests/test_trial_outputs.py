"""Defects a new-user trial found in the scan's outputs: own outputs on a rescan, repeated options."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner
from conftest import SAMPLES

from dedup.cli import main
from dedup.config import ScanConfig
from dedup.pipeline import scan
from dedup.records import SkipReason


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
