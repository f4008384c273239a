"""``--prefer`` rules: which copy of a cluster to keep when the user, not the ranking, says.

Users of duplicate finders expect to say "keep the copy under site-a/", "keep the newest".
The rules run in the order given, after the cleanest-copy ranking and before the evidence
step, so the evidence and the superset/drop decisions are measured against the copy kept.
Each rule narrows the group's members to those it prefers (a rule that matches none, or
all, leaves the group as it is); the best-ranked member left is kept. When that is not the
ranking's cleanest, the rule that excluded the ranking's choice is named: in the member's
``chosen_by``, first among its reasons, and in the decision table (``prefer:<rule>``).

Rules: ``newest`` / ``oldest`` (the file's modification time), ``shortest-path`` (fewest
characters in the relative path), and anything else a glob on the relative path (``*``
within a folder, ``**`` across folders, ``?`` one character) or a folder (``site-a`` or
``site-a/``: everything below it); a pattern without ``/`` also matches the file's name.

Before any of them, always: a copy that is a symbolic link, or standard input, is never kept
over one that is a regular file (LINK_RULE). Kept, a link would leave its cluster's files
resting on a name outside the scan, standard input on bytes gone when the run ends, and
``dedup apply`` refuses to act for either kept copy.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from collections.abc import Callable, Sequence

from .records import Cluster, DocInfo, Pick
from .stdinput import is_stdin_copy

__all__ = ["LINK_RULE", "NAMED_RULES", "Preferred", "choose", "mark", "no_file", "prefer_groups", "unmatched"]

NAMED_RULES = ("newest", "oldest", "shortest-path")
#: The rule that runs first on every group, asked or not: regular files over symbolic links.
LINK_RULE = "regular-file"


def unmatched(rules: Sequence[str], rels: Sequence[str]) -> list[str]:
    """A warning for each glob or folder rule that matches none of the run's files (a rule
    never matching is passed over silently per cluster, so ``newst`` would be a no-op the
    user never hears of), with the keyword it is near when there is one."""
    out = []
    for rule in dict.fromkeys(rules):
        if rule in NAMED_RULES:
            continue
        matches = _glob(rule)
        if any(matches(rel) for rel in rels):
            continue
        near = difflib.get_close_matches(rule.strip().lower(), NAMED_RULES, n=1, cutoff=0.6)
        hint = f"did you mean {near[0]}? " if near else ""
        out.append(
            f"--prefer {rule!r} is not a rule and matches no file, so it changes nothing: {hint}"
            f"the rules are {', '.join(NAMED_RULES)}, or a glob or folder of the files scanned"
        )
    return out


def _glob(pattern: str) -> Callable[[str], bool]:
    """A matcher of relative paths for a glob or folder rule."""
    folder = pattern.rstrip("/")
    if pattern.endswith("/"):
        pattern += "**"
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    regex = re.compile("".join(out), re.DOTALL)
    by_name = "/" not in pattern

    def matches(rel: str) -> bool:
        if regex.fullmatch(rel) or rel.startswith(folder + "/"):
            return True
        return by_name and regex.fullmatch(rel.rsplit("/", 1)[-1]) is not None

    return matches


def _mtime(doc: DocInfo) -> int:
    try:
        return os.stat(doc.locator.path).st_mtime_ns
    except OSError:
        return 0


def no_file(path: str) -> bool:
    """Is this path no file of the corpus's own: standard input's copy (gone when the run
    ends) or a symbolic link (removing it frees nothing)?"""
    return is_stdin_copy(path) or os.path.islink(path)


def _is_link(doc: DocInfo) -> bool:
    """Is this document no regular file of the corpus: standard input, or a whole file whose
    name is a symbolic link?"""
    return no_file(doc.locator.path) if doc.record is None else is_stdin_copy(doc.locator.path)


def _narrow(picks: list[Pick], infos: Sequence[DocInfo], rule: str) -> list[Pick]:
    """The members a rule prefers, in ranking order; all of them if it prefers none."""
    if rule == LINK_RULE:
        kept = [p for p in picks if not _is_link(infos[p.index])]
    elif rule in ("newest", "oldest"):
        times = {p.index: _mtime(infos[p.index]) for p in picks}
        best = max(times.values()) if rule == "newest" else min(times.values())
        kept = [p for p in picks if times[p.index] == best]
    elif rule == "shortest-path":
        shortest = min(len(infos[p.index].rel) for p in picks)
        kept = [p for p in picks if len(infos[p.index].rel) == shortest]
    else:
        matches = _glob(rule)
        kept = [p for p in picks if matches(infos[p.index].rel)]
    return kept or picks


def choose(picks: list[Pick], infos: Sequence[DocInfo], rules: Sequence[str]) -> tuple[list[Pick], str]:
    """A ranked group with the preferred member first, and the rule that moved it there
    ("" when the ranking's cleanest stays)."""
    if len(picks) < 2:
        return picks, ""
    left, decided = picks, ""
    for rule in (LINK_RULE, *rules):
        narrowed = _narrow(left, infos, rule)
        if not decided and picks[0] in left and picks[0] not in narrowed:
            decided = rule
        left = narrowed
    winner = left[0]
    if winner is picks[0]:
        return picks, ""
    return [winner, *(p for p in picks if p is not winner)], decided


#: Per group: the rule that chose its kept copy and the ranking's cleanest id, or ("", "").
Preferred = list[tuple[str, str]]


def prefer_groups(
    ranked: list[list[Pick]], infos: Sequence[DocInfo], rules: Sequence[str]
) -> tuple[list[list[Pick]], Preferred]:
    """Every ranked group through :func:`choose` (the pipeline's hook between ranking and
    evidence): the groups, and per group the deciding rule and the ranking's cleanest."""
    groups, preferred = [], []
    for picks in ranked:
        chosen, rule = choose(picks, infos, rules)
        groups.append(chosen)
        preferred.append((rule, infos[picks[0].index].doc_id if rule else ""))
    return groups, preferred


def mark(clusters: Sequence[Cluster], preferred: Preferred) -> tuple[Cluster, ...]:
    """Name the rule on each cluster's kept member where a rule, not the ranking, chose it
    (``chosen_by``, and first among its reasons)."""
    out = []
    for cluster, (rule, first) in zip(clusters, preferred, strict=True):
        if rule:
            kept = cluster.members[0]
            why = f"kept by --prefer {rule!r}; the ranking's cleanest is {first}"
            if rule == LINK_RULE:
                what = "standard input" if first.split(":")[0] == "-" else "a symbolic link"
                why = f"kept as a regular file: the ranking's cleanest, {first}, is {what}"
            kept = dataclasses.replace(kept, chosen_by=rule, reasons=(why, *kept.reasons))
            cluster = dataclasses.replace(cluster, members=(kept, *cluster.members[1:]))
        out.append(cluster)
    return tuple(out)
