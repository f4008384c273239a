"""The whole-result cache: a rescan in which no file changed, came or went gives the stored result.

A result is stored under two keys: the *content key* (the settings, the paths as given, the
working folder, each file's name, path and content digest, and what the walk left out) and
the *stat key* (the same with each file's stat instead of its digest: the stat shortcut for
a whole folder, never taken when a file is racy). The stat key is looked up first (no file
read), then, after stamping the files, the content key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Sequence

from . import cleanest, evidence
from .cache import Stamp, racy, stat_key
from .config import ScanConfig
from .records import ScanResult, Skipped, SourceFile
from .runcache import RunCache


class ResultMemo:
    """The run's look-ups and store of whole results (a no-op without a cache, or for ``--exact``)."""

    def __init__(self, cache: RunCache, config: ScanConfig, roots: Sequence[str], *, enabled: bool = True) -> None:
        self.cache, self.config, self.roots = cache, config, list(roots)
        self.enabled = enabled
        self.started_ns = time.time_ns()  # before any file is read: the racy rule's reference
        self.stat_key: str | None = None
        self.content_key: str | None = None

    def by_stat(self, sources: list[SourceFile], walked: list[Skipped]) -> ScanResult | None:
        """The result stored for these files at their current stat, if any."""
        self.stat_key = self.key(sources, walked, None) if self.enabled and self.cache.on else None
        return _unless_link_kept(self._stored(self.stat_key, by_stat=True), sources)

    def by_content(
        self, sources: list[SourceFile], stamps: Sequence[Stamp | None], walked: list[Skipped]
    ) -> ScanResult | None:
        """The result stored for these files' contents (after stamping), if any; found, it is
        stored under the current stat key too (touched files: their new stat is enough next time)."""
        known = None not in stamps
        self.content_key = self.key(sources, walked, stamps) if self.enabled and self.cache.on and known else None
        found = _unless_link_kept(self._stored(self.content_key), sources)
        if found is not None:
            self.store(None, sources)
        return found

    def _stored(self, key: str | None, *, by_stat: bool = False) -> ScanResult | None:
        found = self.cache.result(key, by_stat=by_stat)
        if found is None:
            return None
        damage = self.cache.damage_warning()  # the scan ends here: say what was dropped
        return dataclasses.replace(found, warnings=(*found.warnings, *damage)) if damage else found

    def store(self, result: ScanResult | None, sources: list[SourceFile]) -> None:
        """Remember a result under its content key and its stat key (None: stored already).
        The stat key only when no file is racy: one changed in the tick the scan read it
        could change again without its stat showing it."""
        key = self.content_key
        if key is None or (result is not None and result.warnings):
            return
        by_stat = self.stat_key
        if by_stat is not None and any(racy(s, self.started_ns) for s in sources):
            by_stat = None
        self.cache.store_result(key, result, by_stat)

    def key(self, sources: list[SourceFile], walked: list[Skipped], stamps: Sequence[Stamp | None] | None) -> str:
        """What a whole result depends on (see the module docstring); by stat when ``stamps`` is None."""
        by_stat = stamps is None
        h = hashlib.blake2b(digest_size=16)
        head = [cleanest.RANKING_VERSION, evidence.EVIDENCE_VERSION, self.config.params(), self.roots, os.getcwd(),
                by_stat]  # fmt: skip
        h.update(json.dumps(head, sort_keys=True, default=str).encode("utf-8", "surrogatepass"))
        if stamps is None:
            files = [f"{s.rel}\0{s.path}\0{stat_key(s)}" for s in sources]
        else:
            files = [f"{s.rel}\0{s.path}\0{st.digest}" for s, st in zip(sources, stamps, strict=True) if st]
        h.update("\n".join(files).encode("utf-8", "surrogatepass"))
        for sk in walked:
            h.update(f"\n{sk.rel}\0{sk.reason.value}\0{sk.detail}".encode("utf-8", "surrogatepass"))
        return h.hexdigest()


def _unless_link_kept(found: ScanResult | None, sources: list[SourceFile]) -> ScanResult | None:
    """A stored result, unless it keeps a copy that is now a symbolic link over one that is a
    regular file (prefer.LINK_RULE): a file swapped for a link to the same bytes keeps its
    content key, but the choice of the kept copy is no longer the one a scan makes."""
    if found is None or not found.clusters:
        return found
    paths: dict[str, str] | None = None
    for cluster in found.clusters:
        kept = cluster.members[0]
        if kept.record is not None:
            continue
        paths = paths if paths is not None else {s.rel: s.path for s in sources}
        if kept.rel in paths and os.path.islink(paths[kept.rel]):
            others = [m.rel for m in cluster.members[1:] if m.record is None and m.rel in paths]
            if any(not os.path.islink(paths[rel]) for rel in others):
                return None
    return found
