"""``dedup cache``, ``dedup eval``, ``dedup explain`` and ``dedup corpus``: each parses its
options, calls its library module and prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from . import cache as sigcache
from . import export, report, report_eval, usage
from .cli_common import FatalError, cache_file, config_from, run_scan, scan_options, show_report, strerror
from .cli_outputs import check_outputs
from .errors import DedupError
from .pipeline import scan
from .sizes import ByteSize
from .wording import count


@click.group("cache", cls=usage.Group)
def cache_group() -> None:
    """Show, prune or clear the signature cache that makes rescans fast."""


def _cache_at(cache_dir: Path | None) -> tuple[Path, str]:
    """The cache file, and its name as shown."""
    path = cache_file(cache_dir)
    return path, click.format_filename(str(path))


@cache_group.command("info")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder of the signature cache.")
def cache_info(cache_dir: Path | None) -> None:
    """Where the cache is and what it holds."""
    path, shown = _cache_at(cache_dir)
    try:
        facts = sigcache.info(path)
    except sigcache.CacheError as exc:
        raise FatalError(str(exc)) from exc
    click.echo(f"cache: {shown}")
    if not facts["exists"]:
        click.echo("empty (no cache file yet)")
        return
    if facts["layout"] != sigcache.CACHE_VERSION:
        click.echo(f"an older layout ({facts['layout']}): the next scan starts it afresh")
        click.echo(f"size: {report.human_bytes(int(str(facts['bytes'])))}")
        return
    click.echo(
        f"files: {facts['files']:,}\ncontents: {facts['contents']:,}\n"
        f"rankings: {facts['rankings']:,}\nscan results: {facts['results']:,}\n"
        f"batches: {facts['batches']:,}\nscans: {facts['scans']:,}\n"
        f"size: {report.human_bytes(int(str(facts['bytes'])))}"
    )


@cache_group.command("prune")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder of the signature cache.")
@click.option(
    "--keep-scans",
    type=click.IntRange(min=1),
    default=sigcache.KEEP_SCANS,
    show_default=True,
    help="Keep what the cache's last N scans used.",
)
@click.option(
    "--max-size",
    "max_size",
    type=ByteSize(),
    default=f"{sigcache.MAX_BYTES >> 30}G",
    show_default=True,
    help="Then drop the least recently used until the stored hashing fits in SIZE (500M, 8G).",
)
def cache_prune(cache_dir: Path | None, keep_scans: int, max_size: int) -> None:
    """Drop what recent scans did not use, and give the space back."""
    path, shown = _cache_at(cache_dir)
    limit = max_size
    try:
        pruned = sigcache.prune(path, keep_scans=keep_scans, max_bytes=limit)
    except sigcache.CacheError as exc:
        raise FatalError(str(exc)) from exc
    if pruned is None:
        click.echo(f"no cache at {shown}")
        return
    freed = max(pruned.bytes_before - pruned.bytes_after, 0)
    click.echo(
        f"pruned {shown}: removed {count(pruned.batches, 'batch', 'batches')}, {count(pruned.contents, 'content entry', 'content entries')} "
        f"and {count(pruned.files, 'file entry', 'file entries')}; {report.human_bytes(pruned.bytes_before)} -> "
        f"{report.human_bytes(pruned.bytes_after)} ({report.human_bytes(freed)} freed)"
    )


@cache_group.command("clear")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder of the signature cache.")
def cache_clear(cache_dir: Path | None) -> None:
    """Delete the cache file; the next scan hashes every file again."""
    path, shown = _cache_at(cache_dir)
    try:
        damaged = sigcache.damage(path)
        found = sigcache.clear(path)
    except sigcache.CacheError as exc:
        raise FatalError(str(exc)) from exc
    except OSError as exc:
        raise FatalError(f"cannot delete {shown}: {exc.strerror}") from exc
    damaged_note = f" (it was damaged: {damaged})" if damaged else ""
    click.echo(f"deleted {shown}{damaged_note}" if found else f"no cache at {shown}")


@click.command("eval", cls=usage.Command)
@click.argument("docs", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--truth",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Ground truth: JSON Lines of {cluster, ids, cleanest}.",
)
@scan_options
@click.option(
    "--exact",
    is_flag=True,
    help="Also compare every pair exhaustively and report what the candidates missed (small corpora).",
)
@click.option(
    "--top", type=click.IntRange(min=0), default=10, show_default=True, help="How many of the worst mistakes to list."
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(allow_dash=True, path_type=Path),
    help="Write the scores as JSON to FILE (- for stdout).",
)
def eval_command(docs: Path, truth: Path, exact: bool, top: int, json_out: Path | None, **options: Any) -> None:
    """Score a scan of DOCS (a folder or a JSON Lines file) against ground truth."""
    if docs.is_dir() and truth.resolve().is_relative_to(docs.resolve()):
        # The truth file sits in the corpus folder: it is not a document.
        options["exclude"] = (*options["exclude"], truth.resolve().relative_to(docs.resolve()).as_posix())
    from .evaluate import (  # here: a scan need not import it
        candidate_loss,
        evaluate_result,
        pair_measures,
        read_truth,
        text_similarity,
    )

    config = config_from(options)
    if json_out is not None:
        check_outputs((docs, truth), (("--json", json_out),), config)
    try:
        labels = read_truth(truth)
    except DedupError as exc:
        raise FatalError(str(exc)) from exc
    result = run_scan((docs,), config, quiet=json_out is not None and str(json_out) == "-", cache=None)
    measure = pair_measures(result, config)
    scores = evaluate_result(
        result,
        labels,
        measure,
        similarity=lambda a, b: measure(a, b)[0],
        char_similarity=text_similarity(result, config),
        top=top,
    )
    loss = candidate_loss(result, scan([docs], config, all_pairs=True)) if exact else None
    payload = {"docs": str(docs), "truth": str(truth), "params": config.params(), **scores.to_dict()}
    if loss is not None:
        payload["exhaustive"] = {"verified_pairs": loss[0], "missed_by_candidates": loss[1]}
    if json_out is not None:
        try:
            export.write_text_atomic(json_out, json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        except DedupError as exc:
            raise FatalError(str(exc)) from exc
        if str(json_out) == "-":
            return
    show_report(lambda console: report_eval.render_eval(scores, console, loss=loss))


@click.command("explain", cls=usage.Command)
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@scan_options
def explain_command(a: str, b: str, **options: Any) -> None:
    """Why documents A and B are or are not copies (a file, or a record as FILE:ID)."""
    from .explain import explain, render_explanation  # here: a scan need not import it

    config = config_from(options)
    try:
        found = explain(a, b, config)
    except DedupError as exc:
        raise FatalError(str(exc)) from exc
    show_report(lambda console: render_explanation(found, console))


@click.command("corpus", cls=usage.Command)
@click.argument("out", metavar="OUT", type=click.Path(path_type=Path))
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed writes the same bytes.")
@click.option("--articles", type=click.IntRange(min=0), default=60, show_default=True, help="Generated base articles.")
@click.option(
    "--samples",
    type=click.Path(file_okay=False, path_type=Path),
    help="A folder with 000_*.txt to 004_*.txt to copy in.  [default: the samples shipped with dedup]",
)
@click.option("--no-samples", is_flag=True, help="Leave the samples out.")
def corpus_command(out: Path, seed: int, articles: int, samples: Path | None, no_samples: bool) -> None:
    """Write a labelled near-duplicate corpus (files, records.jsonl, truth.jsonl) into OUT."""
    from . import corpus  # here: a scan need not import it

    try:
        stats = corpus.generate(
            out, seed=seed, articles=articles, samples=None if no_samples else samples or corpus.SAMPLES_DIR
        )
    except DedupError as exc:
        raise FatalError(str(exc)) from exc
    except OSError as exc:
        raise FatalError(f"cannot write the corpus into {click.format_filename(str(out))}: {strerror(exc)}") from exc
    click.echo(stats.summary(lambda path: click.format_filename(str(path))))
