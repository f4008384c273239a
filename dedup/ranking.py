"""Stage 8 driver: rank every group of a run, cleanest copy first.

Each group is ranked once: from the cache (under a digest of everything its ranking
depends on), by the engine (many groups: ``rank_tasks`` over batches of groups), or here.
Members' texts are re-read from disk, a bounded few at a time, and checked against the
digest taken when they were hashed: a member that fails the check (deleted, emptied,
rewritten since) is a one-line changed-during-scan skip and its groups are made again
without it.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from . import cleanest, cluster, evidence, extract, shingle
from .config import ClusterMode, ScanConfig
from .engine import Components, Engine
from .errors import SkipReason, os_detail
from .options import RunOptions
from .progress import NoProgress, Progress
from .records import DocKind, DocTable, Locator, Match, Pick, Skipped, text_digest
from .runcache import RunCache
from .sets import ShingleSets

#: Among copies of equal penalty, the handiest form wins: plain UTF-8 text first.
FORM_RANK = {"text": 0, "markdown": 1, "jsonl": 2, "html": 3}
UTF8 = frozenset({"utf-8", "utf_8", "ascii", "utf-8-sig"})
CHANGED = SkipReason.CHANGED_DURING_SCAN


class LineCounts:
    """How many documents hold each short line (for spotting chrome across the corpus).

    Only lines held by three documents or more are kept: a line can count as chrome by its
    spread only when two documents outside a group hold it, besides a member. ``of(group)``
    gives the counts of just the group's own lines: that small table is all the ranking of
    the group reads, so it goes to a worker with the group and keys the ranking cache.
    """

    def __init__(self, shingles: ShingleSets) -> None:
        values, counts = np.unique(shingles.line_hashes, return_counts=True)
        keep = counts >= 3
        self.values, self.counts = values[keep], counts[keep]
        self.line_hashes = shingles.line_hashes
        self.doc_starts = np.searchsorted(shingles.line_docs, np.arange(len(shingles) + 1))

    def of(self, group: cluster.Group) -> dict[int, int]:
        """{line hash: documents holding it} for the short lines of the group's members."""
        starts = self.doc_starts
        mine = np.concatenate([self.line_hashes[starts[i] : starts[i + 1]] for i in group])
        if len(mine) == 0 or len(self.values) == 0:
            return {}
        pos = np.minimum(np.searchsorted(self.values, mine), len(self.values) - 1)
        found = self.values[pos] == mine
        return dict(zip(mine[found].tolist(), self.counts[pos[found]].tolist(), strict=True))


@dataclass(frozen=True, slots=True)
class RankTask:
    """One group to rank: where its members' texts are, the digests of the texts as hashed,
    their tie-breaks and line counts."""

    group: cluster.Group
    where: tuple[tuple[Locator, DocKind], ...]
    digests: tuple[int, ...]
    prefer: tuple[int, ...]
    counts: dict[int, int]


@dataclass(frozen=True, slots=True)
class Changed:
    """Members of a group whose text is not what was hashed any more: (document index, why)."""

    members: tuple[tuple[int, str], ...]


class MembersChanged(Exception):
    """A group asked for has a member that changed since hashing (``Ranking.changed`` says which)."""


def verified_text(locator: Locator, kind: DocKind, digest: int, config: ScanConfig) -> str | Changed:
    """A member's text re-read, if it is still the text that was hashed; else why not
    (as a ``Changed`` with index -1: the caller knows the index)."""
    try:
        text = extract.load_text(locator, kind, config)
    except OSError as exc:
        return Changed(((-1, f"changed after it was read: {os_detail(exc)} when read again to rank it"),))
    except (ValueError, RecursionError):
        return Changed(((-1, "changed after it was read: it no longer holds the document it held"),))
    if text_digest(text) != digest:
        return Changed(((-1, "changed after it was read: its text is not the text that was compared"),))
    return text


@dataclass(frozen=True, slots=True)
class Ranked:
    """A group's ranking and its members' own texts against the cleanest copy (measured with
    the ranking, where the texts are at hand: the evidence stage takes them from here)."""

    picks: list[Pick]
    owned: evidence.Owned


def rank_group(
    group: cluster.Group, texts: list[str], task: RankTask, config: ScanConfig, seqs: cleanest.Sequences | None = None
) -> Ranked:
    """Rank one group and measure its members' own texts against the cleanest (texts hashed once)."""
    if seqs is None:
        seqs = shingle.sequences(texts, config.shingle_size, config.char_shingle_size)
    picks = cleanest.rank(group, texts, lambda h: task.counts.get(h, 0), config, list(task.prefer), seqs)
    return Ranked(picks, evidence.owned(group, texts, seqs, config, group.index(picks[0].index)))


def rank_tasks(tasks: list[RankTask], config: ScanConfig) -> list[Ranked | Changed]:
    """Rank groups in a worker: re-read their members (each checked against its digest),
    hash all their texts at once, score, measure own texts. A group with a changed member
    is not ranked: the run makes its groups again without that member."""
    read = [
        [verified_text(locator, kind, digest, config) for (locator, kind), digest in zip(t.where, t.digests, strict=True)]
        for t in tasks
    ]
    ok: list[list[str]] = []
    for one in read:
        if all(isinstance(x, str) for x in one):
            ok.append(one)  # type: ignore[arg-type]
    seqs = shingle.sequences([t for group in ok for t in group], config.shingle_size, config.char_shingle_size)
    out: list[Ranked | Changed] = []
    at = 0
    for task, texts in zip(tasks, read, strict=True):
        bad = tuple((i, x.members[0][1]) for i, x in zip(task.group, texts, strict=True) if isinstance(x, Changed))
        if bad:
            out.append(Changed(bad))
            continue
        out.append(rank_group(task.group, texts, task, config, seqs[at : at + len(texts)]))  # type: ignore[arg-type]
        at += len(texts)
    return out


class Ranking:
    """Stage 8 for the groups of a run: each group ranked once, from the cache, in workers
    (many groups) or here; texts re-read from disk, a bounded few at a time, and checked
    against the digest taken when they were hashed. A member that fails the check is in
    ``changed`` and out of every group (see ``groups``)."""

    def __init__(
        self,
        infos: DocTable,
        shingles: ShingleSets,
        config: ScanConfig,
        options: RunOptions,
        cache: RunCache,
        digests: dict[str, str],
        engine: Engine,
        progress: Progress | None = None,
    ) -> None:
        self.infos, self.config, self.engine = infos, config, engine
        self.progress = progress or NoProgress()
        self.lines = LineCounts(shingles)
        self.options, self.cache, self.digests = options, cache, digests
        self.params = json.dumps([cleanest.RANKING_VERSION, config.params()], sort_keys=True, default=str)
        self.done: dict[cluster.Group, list[Pick]] = {}
        self.new: dict[str, tuple[cluster.Group, list[Pick]]] = {}  # computed this run, for the cache
        self.changed: dict[int, str] = {}  # document index -> why its re-read failed
        self.owned: dict[int, evidence.Owned] = {}  # by kept copy: own texts measured with the rankings
        self.text_of = functools.lru_cache(maxsize=1024)(self._load)  # a group's and its sub-groups'

    def reader(self, size: int = 256) -> Callable[[int], str | None]:
        """A reader of its own (with its own small cache) for a stage before ranking, e.g.
        the exact check: checked against the digests like ``text_of``, and a member found
        changed is in ``changed``; ranking still re-reads what it ranks."""
        return functools.lru_cache(maxsize=size)(self._load)

    def _load(self, i: int) -> str | None:
        doc = self.infos[i]
        text = verified_text(doc.locator, doc.kind, doc.digest, self.config)
        if isinstance(text, Changed):
            self.changed[i] = text.members[0][1]
            return None
        return text

    def groups(
        self, matches: list[Match], mode: ClusterMode, exact: cluster.Exact | None = None
    ) -> tuple[list[cluster.Group], list[Match]]:
        """The clusters of the matches, each of members whose text is still what was
        compared, every group ranked; and the matches they were made of.

        A member found changed (here, or already when the exact check re-read it) is
        dropped with its matches and the groups are made again (rankings of groups that did
        not change are kept), until a pass finds no change. The progress stage "ranking
        copies" starts here, its total the groups of the first pass.
        """
        n = len(self.infos)
        live = matches
        first = True
        while True:
            gone = self.changed
            live = [m for m in live if m.a not in gone and m.b not in gone]
            known = len(self.changed)
            find = (
                functools.partial(self.engine.components, progress=self.progress)
                if isinstance(self.engine, Components)
                else cluster.components
            )
            parents = find(n, live)
            if first:
                self.progress.start("ranking copies", len(parents))
                first = False
            self.prepare(parents)
            if len(self.changed) == known:
                try:
                    groups = cluster.cluster(n, live, mode, lambda g: [p.index for p in self(g)], exact, parents)
                    for g, parent in cluster.within(groups, parents).items():
                        # A star cut from a larger component keeps that component's ranking:
                        # its centre, which every member was measured against, stays first.
                        members = set(g)
                        self.done[g] = [p for p in self(parent) if p.index in members]
                    for g in groups:
                        self(g)
                    return groups, live
                except MembersChanged:
                    pass

    def skipped(self) -> list[Skipped]:
        """The members found changed, as skips."""
        out = []
        for i, detail in sorted(self.changed.items()):
            info = self.infos[i]
            out.append(Skipped(info.rel if info.record is None else f"{info.rel}:{info.record}", CHANGED, detail))
        return out

    def _lookup(self, group: cluster.Group) -> tuple[RankTask, str | None, list[Pick] | None]:
        """A group's task, its cache key (None without a cache) and its cached ranking, if any."""
        docs = [self.infos[i] for i in group]
        where = tuple((d.locator, d.kind) for d in docs)
        prefer = tuple(FORM_RANK.get(d.kind, 9) * 2 + (d.encoding not in UTF8) for d in docs)
        task = RankTask(group, where, tuple(d.digest for d in docs), prefer, self.lines.of(group))
        key = self._key(task, [d.rel for d in docs])
        return task, key, self._cached(group, key)

    def _key(self, task: RankTask, rels: list[str]) -> str | None:
        """What the ranking of a group depends on: its members' contents, forms and tie-breaks,
        their lines' counts and the settings. None without a cache, or when a member's
        content digest is unknown."""
        if not self.cache.on:
            return None
        h = hashlib.blake2b(self.params.encode(), digest_size=16)
        for rel, (locator, kind), prefer in zip(rels, task.where, task.prefer, strict=True):
            digest = self.digests.get(rel)
            if digest is None:
                return None
            h.update(f"\n{digest} {locator.offset} {locator.length} {kind} {prefer}".encode())
        h.update(np.array(sorted(task.counts.items()), dtype=np.uint64).tobytes())
        return h.hexdigest()

    def prepare(self, groups: list[cluster.Group]) -> None:
        """Rank many groups at once: cached rankings first, the rest in the workers (tasks
        are made while the workers rank earlier ones) or, for few groups, here. A group
        with a changed member is left unranked (its member is in ``changed``)."""
        if not (self.engine.jobs > 1 and len(groups) >= self.options.parallel_rank_groups):
            for group in groups:
                with contextlib.suppress(MembersChanged):
                    self(group)
                self.progress.advance(1)
            return
        sent: collections.deque[list[tuple[RankTask, str | None]]] = collections.deque()

        def batches() -> Iterator[list[RankTask]]:
            batch: list[tuple[RankTask, str | None]] = []
            for group in groups:
                if group in self.done:
                    self.progress.advance(1)
                    continue
                task, key, cached = self._lookup(group)
                if cached is not None:
                    self.done[group] = cached
                    self.progress.advance(1)
                    continue
                batch.append((task, key))
                if len(batch) == self.options.rank_batch:
                    sent.append(batch)
                    yield [t for t, _ in batch]
                    batch = []
            if batch:
                sent.append(batch)
                yield [t for t, _ in batch]

        rank = functools.partial(rank_tasks, config=self.config)
        for picks in self.engine.map(rank, batches(), progress=self.progress.advance):
            for (task, key), one in zip(sent.popleft(), picks, strict=True):
                if isinstance(one, Changed):
                    self.changed.update(one.members)
                else:
                    self._keep(task.group, key, one.picks, one.owned)

    def __call__(self, group: cluster.Group) -> list[Pick]:
        """The ranking of one group, cleanest first.

        Raises:
            MembersChanged: a member's text is not what was hashed any more.
        """
        if group not in self.done:
            task, key, picks = self._lookup(group)
            if picks is None:
                texts = [self.text_of(i) for i in group]
                if any(t is None for t in texts):
                    raise MembersChanged(group)
                ranked = rank_group(group, texts, task, self.config)  # type: ignore[arg-type]
                picks = ranked.picks
                self._keep(group, key, picks, ranked.owned)
            self.done[group] = picks
        return self.done[group]

    def _cached(self, group: cluster.Group, key: str | None) -> list[Pick] | None:
        found = None if key is None else self.cache.ranking(key)
        if found is None:
            return None
        return [Pick(group[pos], penalty, reasons) for pos, penalty, reasons in found]

    def _keep(self, group: cluster.Group, key: str | None, picks: list[Pick], owned: evidence.Owned) -> None:
        self.done[group] = picks
        known = self.owned.get(owned.kept)
        self.owned[owned.kept] = owned if known is None else known.merged(owned)
        if key is not None:
            self.new[key] = (group, picks)

    def save(self) -> None:
        """Store this run's new rankings in the cache."""
        rows = {}
        for key, (group, picks) in self.new.items():
            where = {doc: pos for pos, doc in enumerate(group)}
            rows[key] = [(where[p.index], p.penalty, p.reasons) for p in picks]
        self.cache.store_rankings(rows)
