"""Without Ray installed: `--engine ray` is one Error line naming the install command (exit 2),
and the local engine never imports ray. Runs whether or not ray is installed: the child
interpreters make `import ray` fail as it does on an install without the extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from dedup.cli import main

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _without_ray(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter where ``import ray`` fails, as on an install without the extra."""
    prelude = "import sys; sys.modules['ray'] = None\n"
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=120)


def test_without_ray_the_engine_is_an_error_naming_the_install() -> None:
    done = _without_ray(
        "from dedup.engine import make_engine\n"
        "from dedup.errors import MissingExtra\n"
        "try:\n    make_engine('ray', 2)\n"
        "except MissingExtra as exc:\n    print(exc)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "--engine ray needs ray: pip install 'dedup[ray]'\n"


def test_the_local_engine_and_a_default_scan_never_import_ray() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\nfrom dedup import scan\nfrom dedup.config import ScanConfig\n"
            f"scan({str(SAMPLES)!r}, ScanConfig(jobs=2))\nprint('ray' in sys.modules)\n",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "False\n"


def test_the_command_without_ray_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    done = _without_ray(
        "from dedup.cli import run\n"
        f"sys.argv = ['dedup', 'scan', {str(SAMPLES)!r}, '--engine', 'ray', '--output', {str(out)!r}]\n"
        "run()\n"
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        2,
        "",
        "Error: --engine ray needs ray: pip install 'dedup[ray]'\n",
    )
    assert not out.exists()


def test_ray_address_without_the_ray_engine_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["scan", str(SAMPLES), "--ray-address", "auto"])
    assert result.exit_code == 2
    assert result.stderr.endswith("Error: --ray-address needs --engine ray\n")
