"""Optional dependencies, imported only when a file or an option needs them.

A missing one raises ``errors.MissingExtra`` whose message names the pip command that
installs it, so that a run stops (or a file is skipped) with a line the user can act on.

Example:
    >>> require("json", "test", "reading").__name__
    'json'
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingExtra

__all__ = ["install_hint", "require", "require_pyarrow"]


def install_hint(extra: str) -> str:
    """The command that installs an extra: ``pip install 'dedup[parquet]'``."""
    return f"pip install 'dedup[{extra}]'"


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module``, or raise MissingExtra saying ``purpose`` needs it and how to get it.

    Raises:
        MissingExtra: "reading Parquet needs pyarrow: pip install 'dedup[parquet]'".
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".")[0]
        raise MissingExtra(f"{purpose} needs {package}: {install_hint(extra)}") from exc


def require_pyarrow(purpose: str) -> tuple[ModuleType, ModuleType]:
    """``pyarrow`` and ``pyarrow.parquet`` (the ``parquet`` extra), for reading or writing Parquet."""
    return require("pyarrow", "parquet", purpose), require("pyarrow.parquet", "parquet", purpose)
