"""Evidence per member (both containments, the rule, own words) and pages of one template kept apart."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import OTHERS, PLAIN, SAMPLES, WRAPPED

from dedup import ScanConfig, scan
from dedup.evidence import own_text
from dedup.shingle import shingle_batch

_WORD_LIST = (
    "file directory path link mode owner group size block device socket pipe stream buffer cache "
    "signal process thread session terminal shell option argument value default limit error status "
    "exit code user system kernel module driver network address port host route table entry record "
    "field column line word byte character pattern match search sort merge split join copy move "
    "remove create update list show print format encode decode compress archive backup restore"
)
_WORDS = _WORD_LIST.split()


def prose(seed: int, words: int) -> str:
    """Sentence-shaped made-up text of about ``words`` words, in paragraphs."""
    rng = random.Random(seed)
    out, para, count = [], [], 0
    while count < words:
        n = rng.randint(9, 16)
        sentence = "The " + " ".join(rng.choice(_WORDS) for _ in range(n)) + "."
        para.append(sentence)
        count += n + 1
        if len(para) == 4:
            out.append(" ".join(para))
            para = []
    if para:
        out.append(" ".join(para))
    return "\n\n".join(out)


def man_page(command: str, template: int, body_seed: int) -> str:
    """A manual page of one family: the shared frame (navigation, common options described
    in prose, footer) around ~100 words about this one command."""
    nav = "\n".join(["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "SEE ALSO"])
    return "\n\n".join(
        [
            f"{command.upper()}(1)    User Commands    {command.upper()}(1)",
            nav,
            f"NAME\n{command} - a tool of the fileutils family",
            f"SYNOPSIS\n{command} [OPTION]... [FILE]...",
            "DESCRIPTION\n" + prose(body_seed, 100),
            "COMMON OPTIONS\n" + prose(7, template),
            "SEE ALSO\nfileutils(7), the full documentation at the project site",
            "fileutils 9.4    March 2024",
        ]
    )


@pytest.mark.parametrize("template", [480, 560])  # joined by containment at 480 words, by Jaccard at 560
def test_pages_of_one_template_are_not_one_cluster(tmp_path: Path, template: int) -> None:
    commands = ["cp", "mv", "rm", "ln", "ls", "dd", "du", "df"]
    for k, command in enumerate(commands):
        (tmp_path / f"{command}.1.txt").write_text(man_page(command, template, 1000 + k), encoding="utf-8")
    result = scan(tmp_path, ScanConfig(jobs=1))
    assert result.clusters == ()
    assert result.summary.candidates > 0  # they were compared, and told apart


def article_copies(root: Path) -> None:
    """One article as plain text, cut short, wrapped in site chrome, and lightly edited."""
    body = prose(1, 450)
    title = "Kernel module update changes the default cache limit"
    (root / "plain.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    cut = body[: int(len(body) * 0.6)].rsplit(" ", 1)[0]
    (root / "truncated.txt").write_text(f"{title}\n\n{cut}\n\nRead more", encoding="utf-8")
    nav = "Home | News | Systems | Networks | About | Contact"
    openings = (" ".join(prose(50 + k, 60).split())[:400] for k in range(6))  # one paragraph each
    teasers = "\n\n".join(f"Other story {k}\n{opening}..." for k, opening in enumerate(openings))
    chrome = f"Skip to content\nThe Systems Weekly\n{nav}\n\n{title}\nBy A. Writer | 3 March 2024\n\n"
    tail = "\n\nShare | Tweet | Email\nComments\nLeave a comment\n\nMore stories\n\n"
    (root / "wrapped.txt").write_text(chrome + body + tail + teasers + "\n© 2024 The Systems Weekly", encoding="utf-8")
    sentences = body.split(". ")
    edited = ". ".join(sentences[:5] + sentences[6:]).replace("kernel", "kernal", 2)
    (root / "edited.txt").write_text(f"{title}\n\n{edited}\n", encoding="utf-8")


def test_copies_still_match(tmp_path: Path) -> None:
    """The template test does not split true copies: cut, wrapped and edited ones stay together."""
    article_copies(tmp_path)
    for k in range(3):
        (tmp_path / f"other{k}.txt").write_text(prose(900 + k, 400), encoding="utf-8")
    result = scan(tmp_path, ScanConfig(jobs=1))
    (cluster,) = result.clusters
    assert sorted(m.doc_id for m in cluster.members) == ["edited.txt", "plain.txt", "truncated.txt", "wrapped.txt"]
    by_id = {m.doc_id: m for m in cluster.members}
    assert cluster.cleanest.doc_id == "plain.txt" and cluster.cleanest.decision == "keep"
    assert all(m.decision == "drop" for m in cluster.members[1:])
    cut = by_id["truncated.txt"]
    # The cut copy joined because it lies inside the cleanest, not the other way round.
    assert cut.rule == "inside-cleanest" and cut.in_cleanest > 0.95 and cut.containment < 0.7
    assert by_id["wrapped.txt"].rule == "contains-cleanest"
    assert by_id["edited.txt"].rule == "jaccard"
    wrapped = by_id["wrapped.txt"]
    assert wrapped.own_words > 100 and wrapped.boilerplate_words == wrapped.own_words


def test_same_story_samples_stay_apart(samples_dir: Path) -> None:
    result = scan(samples_dir, ScanConfig(jobs=1))
    clustered = {m.doc_id for c in result.clusters for m in c.members}
    assert clustered == {PLAIN, WRAPPED}
    assert not clustered & set(OTHERS)


def test_evidence_on_samples(samples_dir: Path) -> None:
    """000 in 001 at 99%+: joined by containment with the cleanest inside the member."""
    result = scan(samples_dir, ScanConfig(jobs=1))
    (cluster,) = result.clusters
    kept, wrapped = cluster.members
    assert (kept.doc_id, wrapped.doc_id) == (PLAIN, WRAPPED)
    assert (kept.rule, kept.decision, kept.own_words, kept.in_cleanest) == ("", "keep", 0, 1.0)
    assert wrapped.rule == "contains-cleanest" and wrapped.decision == "drop"
    assert wrapped.containment > 0.99
    # The other direction, measured here on the files' own shingle sets.
    a, b = (shingle_batch([(SAMPLES / n).read_text(encoding="utf-8")]).get(0) for n in (PLAIN, WRAPPED))
    inter = len(set(a.tolist()) & set(b.tolist()))
    assert wrapped.in_cleanest == pytest.approx(inter / len(b))
    assert wrapped.jaccard == pytest.approx(inter / (len(a) + len(b) - inter))
    assert 0.5 < wrapped.in_cleanest < 0.55
    # 001 holds 533 words outside 000: navigation, a comment label and three teasers, all boilerplate.
    assert wrapped.own_words > 500 and wrapped.boilerplate_words == wrapped.own_words


def test_own_text_counts_words_outside_and_prose_runs(tmp_path: Path) -> None:
    config = ScanConfig()
    kept = prose(3, 200)
    other = shingle_batch([kept]).get(0)
    extra = prose(4, 120)
    own = own_text(f"Home | About\n\n{kept}\n\n{extra}\n\nTeaser of another post, cut short ...", other, config)
    assert own.runs and abs(own.prose_words - len(extra.split())) <= 4
    assert own.words >= own.prose_words + 3
    assert own_text(kept, other, config).words == 0


def test_report_shows_both_directions_and_the_rule(tmp_path: Path) -> None:
    """Issue 12: a member joined because most of *it* is inside the cleanest must say so."""
    import io

    from rich.console import Console

    from dedup.report import render

    article_copies(tmp_path)
    result = scan(tmp_path, ScanConfig(jobs=1))
    out = io.StringIO()
    render(result, Console(file=out, width=200, color_system=None))
    text = " ".join(out.getvalue().split())
    cut = next(m for m in result.clusters[0].members if m.doc_id == "truncated.txt")
    assert f"{cut.in_cleanest * 100:.1f}% of it in cleanest, joined by containment (it inside cleanest)" in text
    wrapped = next(m for m in result.clusters[0].members if m.doc_id == "wrapped.txt")
    assert f"joined by containment (cleanest inside it); {wrapped.own_words:,} own words, all boilerplate" in text


def test_eval_mistakes_carry_both_directions_and_the_rule(tmp_path: Path) -> None:
    """``dedup eval`` lists a missed pair with each document's share inside the other and the
    rule that would join them."""
    import json as json_

    from click.testing import CliRunner

    from dedup.cli import main

    (tmp_path / "docs").mkdir()
    article_copies(tmp_path / "docs")
    truth = tmp_path / "truth.jsonl"
    ids = ["plain.txt", "truncated.txt", "wrapped.txt", "edited.txt"]
    truth.write_text(json_.dumps({"cluster": "a", "ids": ids, "cleanest": ["plain.txt"]}) + "\n", encoding="utf-8")
    out = tmp_path / "scores.json"
    # A Jaccard threshold of 1 and containment of 1 leave the cut copy out: a missed pair.
    args = ["eval", str(tmp_path / "docs"), "--truth", str(truth), "--json", str(out)]
    result = CliRunner().invoke(main, [*args, "--jaccard", "1", "--containment", "1"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    missed = json_.loads(out.read_text(encoding="utf-8"))["worst_missed_pairs"]
    cut = next(m for m in missed if {m["a"], m["b"]} == {"plain.txt", "truncated.txt"})
    inside_key = "a_in_b" if cut["a"] == "truncated.txt" else "b_in_a"
    assert cut[inside_key] > 0.95 and cut["containment"] > 0.95
    assert cut["rule"] == ""  # no rule joins them at these settings
