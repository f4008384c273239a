"""Results as Parquet shards: ``dedup scan --engine ray --output DIR/``.

A folder, for the readers of a distributed pipeline (Ray Data, Spark, DuckDB, pyarrow
datasets read a folder of shards as one table):

* ``clusters/part-00000.parquet``, ...: the Parquet export (``export.parquet_export``: one row
  per cluster member, the CSV's columns), ``ROWS_PER_SHARD`` rows a shard;
* ``decisions/part-00000.parquet``, ...: the decision table (``decisions.decisions_table``:
  one row per document read, with its decision);
* ``clusters.json``: the JSON export, when the clusters have at most ``JSON_MAX_MEMBERS``
  members (past that, a single JSON document is no longer something a reader can load).

Shards are numbered in row order, so concatenating them gives the single-file tables byte
for byte in content. The folder is written beside its place under a temporary name and
renamed into place whole: a failed run leaves no half folder, and the folder must be new or
empty, so nothing a user had is replaced.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from .decisions import decisions_table
from .errors import ConfigError, ExportError
from .export import parquet_export, write_export
from .extras import require_pyarrow
from .records import ScanResult

#: Rows a shard holds: ~1M rows is tens of MB of Parquet, a comfortable unit for a reader task.
ROWS_PER_SHARD = 1 << 20
#: Cluster members past which the JSON export is left out of the folder.
JSON_MAX_MEMBERS = 1_000_000


def is_shard_folder(raw: str) -> bool:
    """``--output`` names a folder of shards: it ends in a separator or is an existing folder."""
    return raw.endswith(("/", os.sep)) or (raw != "-" and os.path.isdir(raw))


def check_shard_folder(folder: Path) -> None:
    """A folder of shards can be written: new (its parent a writable folder) or empty.

    Raises:
        ConfigError: the folder holds files, is a file, or its parent cannot take it.
    """
    if folder.exists():
        if not folder.is_dir():
            raise ConfigError(f"{folder} is a file: --output DIR/ writes a folder of Parquet shards")
        if any(folder.iterdir()):
            raise ConfigError(f"{folder} is not empty: give --output DIR/ a new or empty folder")
    parent = folder.resolve().parent
    if not parent.is_dir():
        raise ConfigError(f"cannot write {folder}: its folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write {folder}: its folder {parent} is not writable")


def write_shards(
    result: ScanResult, folder: Path | str, *, version: str, rows_per_shard: int = ROWS_PER_SHARD
) -> list[Path]:
    """Write the scan as a folder of Parquet shards (module docstring), all or nothing.

    Returns:
        The files written, relative to ``folder``, in order.

    Raises:
        ConfigError: the folder cannot be written (``check_shard_folder``).
        MissingExtra: no pyarrow (the message names the install command).
        ExportError: a write failed; nothing is left behind.
    """
    _, pq = require_pyarrow("--output DIR/ (Parquet shards)")
    folder = Path(folder)
    check_shard_folder(folder)
    temp = folder.resolve().parent / f".{folder.resolve().name}.partial-{os.getpid()}"
    written: list[Path] = []
    try:
        temp.mkdir()
        for name, table in (("clusters", parquet_export(result)), ("decisions", decisions_table(result))):
            (temp / name).mkdir()
            for k, at in enumerate(range(0, max(table.num_rows, 1), rows_per_shard)):
                rel = Path(name) / f"part-{k:05d}.parquet"
                pq.write_table(table.slice(at, rows_per_shard), str(temp / rel))
                written.append(rel)
        if sum(len(c.members) for c in result.clusters) <= JSON_MAX_MEMBERS:
            write_export(result, temp / "clusters.json", version=version)
            written.append(Path("clusters.json"))
        if folder.exists():
            folder.rmdir()  # empty (checked): the rename takes its place
        os.rename(temp, folder)
    except OSError as exc:
        raise ExportError(f"could not write the shards to {folder}: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            if temp.exists():
                shutil.rmtree(temp)
    return written
