"""The shape issue 13 asked for, kept: a short pipeline.py, no module over 600 lines, and tests and
benchmarks that use only public names of dedup (a unit worth testing gets a public name).
The import graph's laws (no cycle, stages import no engine) are in test_engine.py."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dedup"


def test_pipeline_states_the_order_in_under_300_lines() -> None:
    assert len((PACKAGE / "pipeline.py").read_text(encoding="utf-8").splitlines()) < 300


def test_no_python_module_of_dedup_is_over_600_lines() -> None:
    """A module that grows past 600 lines has more than one reason to change: split it
    (the C kernel, one hot loop, is not held to it)."""
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in sorted(PACKAGE.rglob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}


def private_uses(path: Path) -> list[str]:
    """``from dedup.x import _y``, ``import dedup._x`` and ``alias._y`` on a dedup module in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()  # names bound to a dedup module
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "dedup":
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.name}:{node.lineno}: from {node.module} import {alias.name}")
                elif (PACKAGE / f"{alias.name}.py").exists() or (PACKAGE / alias.name).is_dir():
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "dedup":
                    if any(p.startswith("_") and not p.startswith("__") for p in parts):
                        found.append(f"{path.name}:{node.lineno}: import {alias.name}")
                    modules.add(alias.asname or parts[0])
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, (ast.Name, ast.Attribute))
            and ast.unparse(node.value).split(".")[0] in modules
        ):
            found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_tests_and_benchmarks_use_no_private_name_of_dedup() -> None:
    files = sorted((ROOT / "tests").glob("*.py")) + sorted((ROOT / "benchmarks").glob("*.py"))
    assert len(files) > 30
    assert [use for path in files for use in private_uses(path)] == []


def test_the_private_name_check_sees_each_form(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import dedup.read as read_module\n"
        "from dedup import export\n"
        "from dedup.shingle import _combine, hash_shingle\n"
        "x = read_module._list_folder\n"
        "y = export._LINE_ENCODER\n"
        "z = export.to_dict\n"
        "w = hash_shingle._cache\n",  # not a module: an attribute of a function is out of scope
        encoding="utf-8",
    )
    assert private_uses(sample) == [
        "sample.py:3: from dedup.shingle import _combine",
        "sample.py:4: read_module._list_folder",
        "sample.py:5: export._LINE_ENCODER",
    ]
