"""Ground truth for ``dedup eval``: the truth file, one cluster of copies per line.

    {"cluster": "a0007", "ids": ["site2/3f0c.txt", "r-19ab"], "cleanest": ["site2/3f0c.txt"],
     "variants": {"site2/3f0c.txt": "plain", "r-19ab": "jsonl"}}

Documents on no line are singletons. ``cleanest`` (the acceptable cleanest copies) and
``variants`` (a kind per member, for recall per kind) are optional; other keys are ignored
so the format can grow. ``evaluate.py`` scores a clustering against it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError, InputError


@dataclass(frozen=True, slots=True)
class TruthCluster:
    """One line of the truth file: a group of copies of one document."""

    cluster: str  # the line's "cluster" label (ints are kept as their decimal string)
    ids: tuple[str, ...]
    cleanest: tuple[str, ...] = ()  # acceptable cleanest copies; empty = not labelled
    variants: Mapping[str, str] = field(default_factory=dict)  # id -> variant kind
    line: int = 0  # 1-based line in the truth file (0 when built in code)



# --- reading the truth -----------------------------------------------------------------------


def read_truth(path: Path | str) -> list[TruthCluster]:
    """Read a truth file (JSON Lines, one cluster per line; blank lines are skipped).

    Args:
        path: the truth file, UTF-8.

    Returns:
        The clusters in file order.

    Raises:
        InputError: the file cannot be read.
        ConfigError: a line is malformed, or an id or cluster label appears twice; the message
            names the file, the line and what is wrong.

    Example:
        >>> import tempfile, os
        >>> with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        ...     _ = f.write('{"cluster": 1, "ids": ["a.txt", "b.txt"], "cleanest": ["a.txt"]}\\n')
        >>> read_truth(f.name)[0].ids
        ('a.txt', 'b.txt')
        >>> os.unlink(f.name)
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read truth file {path}: {exc.strerror or exc}") from exc
    clusters: list[TruthCluster] = []
    owner: dict[str, TruthCluster] = {}
    labels: dict[str, int] = {}
    for number, raw in enumerate(data.splitlines(), start=1):
        where = f"{path}:{number}"
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"{where}: not valid UTF-8") from None
        if not line.strip():
            continue
        try:
            cluster = _parse_truth_line(line, where, number)
        except ConfigError:
            if number == 1:
                _not_json_lines(path, data)
            raise
        if cluster.cluster in labels:
            raise ConfigError(f"{where}: cluster {cluster.cluster!r} already used on line {labels[cluster.cluster]}")
        labels[cluster.cluster] = number
        for doc_id in cluster.ids:
            if doc_id in owner:
                first = owner[doc_id]
                raise ConfigError(f"{where}: id {doc_id!r} is already in cluster {first.cluster!r} (line {first.line})")
            owner[doc_id] = cluster
        clusters.append(cluster)
    return clusters


def _not_json_lines(path: Path, data: bytes) -> None:
    """Raise a clearer error for a whole JSON document given as the truth (a scan export, say):
    line 1 alone is not JSON there, which would otherwise be all the message says."""
    try:
        whole = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return
    schema = whole.get("schema") if isinstance(whole, dict) else None
    ours = isinstance(schema, str) and schema.startswith("dedup.")
    if not ours and len(data.splitlines()) < 2:
        return  # one line that is one JSON value: a JSON Lines file, its line's error stands
    what = f"a {schema} file" if ours else "one JSON document over several lines"
    raise ConfigError(
        f"{path} is {what}, not a truth file: --truth takes JSON Lines, one "
        '{"cluster": ..., "ids": [...], "cleanest": [...]} a line'
    )


def _parse_truth_line(line: str, where: str, number: int) -> TruthCluster:
    """One truth line -> TruthCluster, or ConfigError saying what is wrong with it."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise ConfigError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    if "cluster" not in obj:
        raise ConfigError(f'{where}: missing "cluster"')
    label = obj["cluster"]
    if isinstance(label, bool) or not isinstance(label, (str, int)):
        raise ConfigError(f'{where}: "cluster" must be a string or an integer')
    ids = _id_list(obj.get("ids"), "ids", where)
    if not ids:
        raise ConfigError(f'{where}: "ids" must be a non-empty list of ids')
    if len(set(ids)) != len(ids):
        twice = next(i for i, n in Counter(ids).items() if n > 1)
        raise ConfigError(f'{where}: id {twice!r} appears twice in "ids"')
    members = set(ids)
    cleanest = _id_list(obj.get("cleanest", []), "cleanest", where)
    for doc_id in cleanest:
        if doc_id not in members:
            raise ConfigError(f'{where}: cleanest id {doc_id!r} is not in "ids"')
    raw_variants = obj.get("variants", {})
    if not isinstance(raw_variants, dict):
        raise ConfigError(f'{where}: "variants" must be an object mapping ids to kinds')
    variants: dict[str, str] = {}
    for doc_id, kind in raw_variants.items():
        if doc_id not in members:
            raise ConfigError(f'{where}: variants id {doc_id!r} is not in "ids"')
        if not isinstance(kind, str) or not kind:
            raise ConfigError(f"{where}: variant kind of {doc_id!r} must be a non-empty string")
        variants[doc_id] = kind
    return TruthCluster(str(label), tuple(ids), tuple(dict.fromkeys(cleanest)), variants, number)


def _id_list(value: object, key: str, where: str) -> list[str]:
    """A JSON list of ids (strings, or integers for numeric record ids) as strings."""
    if not isinstance(value, list):
        raise ConfigError(f'{where}: "{key}" must be a list of ids')
    out: list[str] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int)) or item == "":
            raise ConfigError(f'{where}: "{key}" holds {json.dumps(item)}, not an id (a string or integer)')
        out.append(str(item))
    return out


