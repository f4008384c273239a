"""The star split of the components in the engine's tasks (``--cluster star`` on Ray).

``cluster.stars`` cuts a component into stars around its members in ranking order, measuring
each centre against the members no match links it to (``cluster.Exact``: an inverted index of
the component's shingle sets, then ``verify.verify`` on the pairs that may match, with the
texts' rule and the template test on re-read texts). On the local engine the run's process
does that for every component; here a task does it for a batch of components: it reads the
members' sets from the spill files the hashing tasks wrote (``ray_verify.Places``) and their
texts from the inputs (each checked against the digest taken when it was hashed), so the run's
process sends each component's members, ranking and matches and gets its stars back.

A component whose member's text is not what was hashed any more comes back as None: the run's
process splits it itself, where such a change is noticed and reported as always. The stars
are those of ``cluster.stars``, which the task calls: the same code on the same sets and texts.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
from numpy.typing import NDArray

from . import cluster, extract, verify
from .config import ScanConfig
from .ray_verify import Places
from .records import DocKind, Locator, text_digest

if TYPE_CHECKING:
    from .sets import ShingleSets

Group = tuple[int, ...]

#: Members of the components a task splits, at most (a bigger component is a task alone).
MEMBERS_PER_TASK = 2048


@dataclass(frozen=True, slots=True)
class StarTask:
    """One component to split: its members, their ranking (best centre first), each member's
    matches within it, and where each member's text is with the digest it was hashed with."""

    group: Group
    order: tuple[int, ...]
    neighbours: tuple[tuple[int, ...], ...]  # by position in group: matched members
    where: tuple[tuple[Locator, DocKind], ...]
    digests: tuple[int, ...]


class PlacedSets:
    """The run's shingle sets for a task: ``get`` reads a set from its spill file
    (``records.ShingleSets`` as far as ``cluster.Exact`` and ``verify.verify`` use it)."""

    def __init__(self, places: Places) -> None:
        self.places = places
        self.fds: dict[int, int] = {}

    def sizes(self) -> NDArray[np.int64]:
        return self.places.sizes

    def __len__(self) -> int:
        return len(self.places.sizes)

    def get(self, i: int) -> NDArray[np.uint64]:
        f = int(self.places.file[i])
        if f not in self.fds:
            self.fds[f] = os.open(self.places.paths[f], os.O_RDONLY | os.O_CLOEXEC)
        size = int(self.places.sizes[i])
        return np.frombuffer(os.pread(self.fds[f], size * 8, int(self.places.at[i])), dtype=np.uint64)

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds = {}


class _Changed(Exception):
    """A member's text is not the text that was hashed."""


def split_stars(tasks: Sequence[StarTask], places: Places, config: ScanConfig) -> list[list[Group] | None]:
    """Task: the stars of each component (``cluster.stars``), or None for one with a member
    whose text changed since it was hashed."""
    sets = PlacedSets(places)
    view = cast("ShingleSets", sets)  # get and sizes: all that verify.verify and cluster.Exact read
    out: list[list[Group] | None] = []
    try:
        for task in tasks:
            at = {doc: k for k, doc in enumerate(task.group)}

            def text_of(i: int, task: StarTask = task, at: dict[int, int] = at) -> str:
                k = at[i]
                locator, kind = task.where[k]
                try:
                    text = extract.load_text(locator, kind, config)
                except (OSError, ValueError, RecursionError) as exc:
                    raise _Changed from exc
                if text_digest(text) != task.digests[k]:
                    raise _Changed
                return text

            confirm = functools.partial(
                verify.verify, shingles=view, config=config, text_of=verify.Layouts(text_of, config)
            )
            exact = cluster.Exact(view, config, confirm)
            neighbours = {doc: set(task.neighbours[k]) for k, doc in enumerate(task.group) if task.neighbours[k]}
            try:
                out.append(cluster.stars(task.group, task.order, neighbours, exact))
            except _Changed:
                out.append(None)
    finally:
        sets.close()
    return out


def batches(tasks: Sequence[StarTask], most: int = MEMBERS_PER_TASK) -> list[list[StarTask]]:
    """Tasks grouped in order, at most ``most`` members a batch (a bigger component alone)."""
    out: list[list[StarTask]] = []
    batch: list[StarTask] = []
    members = 0
    for task in tasks:
        if batch and members + len(task.group) > most:
            out.append(batch)
            batch, members = [], 0
        batch.append(task)
        members += len(task.group)
    if batch:
        out.append(batch)
    return out


SplitMany = Callable[[Sequence[StarTask]], list["list[Group] | None"]]
