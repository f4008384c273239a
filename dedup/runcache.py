"""RunCache: the one signature-cache object of a scan, which owns the cache's failures.

Nothing in the cache may make a scan wrong or stop it. Every call a stage makes goes
through here: on the first SQLite error (or a value that cannot be stored) the cache is
closed, the run gets one warning, and every later call is a miss that does nothing. A
damaged value is a miss too (``Cache`` drops it); the run is told once how many it found.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from .cache import Cache, Hit, Stamp
from .cache_file import clear_hint
from .cache_format import Batch
from .config import ScanConfig
from .records import ScanResult, SourceFile
from .sets import Chunk

T = TypeVar("T")

#: The errors that turn the cache off for the rest of the run (ValueError: a value that
#: does not encode, e.g. a result too large for a row).
CACHE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, ValueError)

Ranked = list[tuple[int, float, tuple[str, ...]]]


class RunCache:
    """A scan's view of the signature cache: every method is a miss or a no-op once off.

    ``warnings`` is the run's list: the one line about a failure or about damaged values
    is appended there.
    """

    def __init__(self, path: Path | None, config: ScanConfig, warnings: list[str]) -> None:
        self.path = path
        self.warnings = warnings
        self._cache: Cache | None = None
        self._damage_told = False
        if path is not None:
            try:
                self._cache = Cache(path, config)
            except (OSError, sqlite3.Error, ValueError) as exc:  # ValueError: a damaged schema that does not decode
                damaged = type(exc) is sqlite3.DatabaseError or isinstance(exc, ValueError)  # not "locked"
                hint = clear_hint(path) if damaged else ""
                warnings.append(f"signature cache not used ({path}): {cache_detail(exc)}{hint}")

    @property
    def on(self) -> bool:
        """True while the cache is open and has not failed."""
        return self._cache is not None

    @property
    def hashed(self) -> bool:
        """True when this run hashed files the cache did not hold (or found damage)."""
        return self._cache is not None and bool(self._cache.misses or self._cache.damaged)

    def _call(self, fn: Callable[[Cache], T], miss: T) -> T:
        """``fn(cache)``, or ``miss`` when the cache is off or fails now (then it goes off)."""
        if self._cache is None:
            return miss
        try:
            return fn(self._cache)
        except CACHE_ERRORS as exc:
            self._turn_off(exc)
            return miss

    def _turn_off(self, exc: Exception, told: str = "not used") -> None:
        if self._cache is not None:
            self.warnings.append(f"signature cache {told} ({self._cache.path}): {cache_detail(exc)}")
            with contextlib.suppress(sqlite3.Error):
                self._cache.close()
        self._cache = None

    # --- files ----------------------------------------------------------------------------
    def prefetch(self, sources: Sequence[SourceFile]) -> None:
        """Read the stat rows of these files at once."""
        self._call(lambda c: c.prefetch(sources), None)

    def stamp(self, source: SourceFile) -> Stamp | None:
        """The file's stamp (content digest), or None with the cache off or the file unreadable
        now (extraction will say why, as a skip)."""
        try:
            return self._call(lambda c: c.stamp(source), None)
        except OSError:
            return None

    def prefetch_content(self, digests: Sequence[str]) -> None:
        """Read the content rows of these digests at once."""
        self._call(lambda c: c.prefetch_content(digests), None)

    def hit(self, stamp: Stamp) -> Hit | None:
        """Where the cache holds a stamped file's results, if it does."""
        return self._call(lambda c: c.hit(stamp), None)

    def batch(self, hit: Hit, need: int) -> Batch | None:
        """The batch a hit points at, if it is there and holds ``need`` rows (else its content
        rows are dropped as damaged)."""
        found = self._call(lambda c: c.batch(hit.batch), None)
        if found is not None and need > len(found.rows):
            self._call(lambda c: c.forget(hit), None)
            return None
        return found

    def store(self, chunk: Chunk, sources: Sequence[SourceFile], stamps: Sequence[Stamp | None]) -> None:
        """Remember a freshly hashed chunk of these files."""
        self._call(lambda c: c.store(chunk, sources, stamps), None)

    # --- rankings and results ---------------------------------------------------------------
    def ranking(self, key: str) -> Ranked | None:
        """A stored ranking of a group, if there is one."""
        return self._call(lambda c: c.ranking(key), None)

    def store_rankings(self, rows: dict[str, Ranked]) -> None:
        """Remember this run's new rankings."""
        if self._cache is not None and rows:
            try:
                self._cache.store_rankings(rows)
            except CACHE_ERRORS as exc:
                self._turn_off(exc, "not saved")

    def result(self, key: str | None, *, by_stat: bool = False) -> ScanResult | None:
        """A stored whole result under ``key``, if there is one."""
        if key is None:
            return None
        return self._call(lambda c: c.result(key, by_stat=by_stat), None)

    def store_result(self, key: str, result: ScanResult | None, stat_key: str | None) -> None:
        """Remember a whole result under its content key and its stat key."""
        self._call(lambda c: c.store_result(key, result, stat_key), None)

    # --- the end ------------------------------------------------------------------------------
    def damage_warning(self) -> list[str]:
        """The run's one line about damaged values, the first time it is asked for."""
        if self._cache is None or not self._cache.damaged or self._damage_told:
            return []
        self._damage_told = True
        n = self._cache.damaged
        return [f"signature cache: {n} damaged value{'s' if n != 1 else ''} dropped and computed afresh"]

    def close(self) -> None:
        """Apply the size policy when this run hashed anything, and close (idempotent)."""
        if self._cache is None:
            return
        self.warnings.extend(self.damage_warning())
        try:
            if self.hashed:
                self._cache.prune()
            self._cache.close()
        except sqlite3.Error as exc:
            self.warnings.append(f"signature cache not saved: {cache_detail(exc)}")
        self._cache = None


def cache_detail(exc: Exception) -> str:
    """An error of the cache as one line (an OSError without its errno prefix)."""
    if isinstance(exc, UnicodeDecodeError):  # from SQLite's own text: its schema is damaged
        return "a damaged database (its schema does not decode)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower() if not exc.filename else f"{exc.strerror.lower()}: {exc.filename}"
    return " ".join(str(exc).split()) or type(exc).__name__
