"""The README cannot fall behind the code: every command, option and skip reason appears in it."""

from __future__ import annotations

import click
import pytest
from conftest import REPO

import dedup
from dedup.cli import main
from dedup.errors import SkipReason

README = (REPO / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(main.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_documented(name: str) -> None:
    assert f"dedup {name}" in README


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (name, opt)
        for name in COMMANDS
        for param in main.commands[name].params
        if isinstance(param, click.Option)
        for opt in param.opts
        if opt.startswith("--")
    ],
)
def test_option_documented(command: str, option: str) -> None:
    assert f"`{option}" in README, f"{option} of 'dedup {command}' is not in the README"


@pytest.mark.parametrize("reason", list(SkipReason))
def test_skip_reason_documented(reason: SkipReason) -> None:
    assert f"`{reason.value}`" in README


def test_public_api_is_pinned() -> None:
    assert dedup.__all__ == sorted(dedup.__all__)
    assert set(dedup.__all__) == {
        "Cluster", "ConfigError", "DedupError", "DocInfo", "Document", "ExportError", "InputError",
        "Match", "Member", "Pick", "Progress", "ScanConfig", "ScanResult", "Signatures", "SkipReason",
        "Skipped", "SourceFile", "Summary", "WorkerError", "__version__", "hash_shingle32", "scan", "shingle_strings",
    }  # fmt: skip
    for name in dedup.__all__:
        assert hasattr(dedup, name)


def test_readme_set_up_commands() -> None:
    assert "pip install . && dedup scan samples/" in README
    assert "pip install -e '.[test]' && python -m pytest" in README


def test_readme_report_is_what_the_command_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(
        main, ["scan", "samples/", "--no-cache"], env={"COLUMNS": "100"}, catch_exceptions=False
    )
    printed = [line.rstrip() for line in result.stdout.splitlines()]
    block = README.split("$ dedup scan samples/\n", 1)[1].split("```", 1)[0].splitlines()
    assert printed == block
