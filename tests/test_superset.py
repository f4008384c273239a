"""No data lost by a drop: a member holding substantive text of its own is a superset, not a duplicate.

The case from issue 12: a roundup page of about 1,800 words holds one 300-word article and
five texts found nowhere else. It is clustered with the article (containment 1.0) and the
article is cleaner; dropping the roundup would lose 1,500 words. It must be reported as a
superset and kept out of the drop list and the duplicate counts.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from click.testing import CliRunner
from conftest import PLAIN, SAMPLES, WRAPPED

from dedup import ScanConfig, scan
from dedup.cli import main

_WORD_LIST = (
    "council budget river school library harbour bridge festival market winter summer teacher farmer "
    "engineer nurse museum railway station garden orchard village county mayor report plan vote study "
    "water energy housing road traffic weather storm flood drought harvest price wage tax fund grant "
    "court judge law rule debate meeting season team coach player match goal record crowd ticket stadium "
    "science research doctor patient hospital clinic virus vaccine trial data model theory evidence result "
    "company worker factory shop owner customer product service contract supply demand export import trade "
    "family child parent student class lesson exam history novel author poem song artist painting gallery"
)
_WORDS = _WORD_LIST.split()
_VERB_LIST = "approved rejected discussed announced delayed reviewed praised questioned opened closed funded built"
_VERBS = _VERB_LIST.split()
_JOIN_LIST = "and but while because after before although since when as"
_JOIN = _JOIN_LIST.split()


def prose(seed: int, words: int) -> str:
    """Paragraphs of sentences (made-up but sentence-shaped text) of about ``words`` words."""
    rng = random.Random(seed)
    paragraphs, para, count = [], [], 0
    while count < words:
        n = rng.randint(10, 18)
        body = [rng.choice(_WORDS) for _ in range(n - 4)]
        sentence = (
            f"The {body[0]} {rng.choice(_VERBS)} the {' '.join(body[1:4])} {rng.choice(_JOIN)} {' '.join(body[4:])}."
        )
        para.append(sentence)
        count += len(sentence.split())
        if len(para) == 5:
            paragraphs.append(" ".join(para))
            para = []
    if para:
        paragraphs.append(" ".join(para))
    return "\n\n".join(paragraphs)


def roundup_folder(root: Path) -> tuple[str, str]:
    """The article, the roundup that holds it among five texts of its own, and unrelated pages."""
    article = "Council approves the river bridge plan\n\n" + prose(1, 300)
    sections = [f"Weekly roundup, part {k}\n\n{prose(100 + k, 300)}" for k in range(1, 6)]
    roundup = "\n\n".join(["The week in review", sections[0], sections[1], article, *sections[2:]])
    root.mkdir(parents=True, exist_ok=True)
    (root / "article.txt").write_text(article, encoding="utf-8")
    (root / "roundup.txt").write_text(roundup, encoding="utf-8")
    for k in range(3):
        (root / f"other{k}.txt").write_text(prose(500 + k, 400), encoding="utf-8")
    return "article.txt", "roundup.txt"


def test_roundup_is_a_superset_and_not_dropped(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    article, roundup = roundup_folder(docs)
    drop, keep, out = tmp_path / "drop.txt", tmp_path / "keep.txt", tmp_path / "scan.json"
    result = CliRunner().invoke(
        main,
        ["scan", str(docs), "-q", "--drop-list", str(drop), "--keep-list", str(keep), "--output", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert drop.read_text(encoding="utf-8") == ""  # the roundup holds 1,500 words found nowhere else
    assert roundup in keep.read_text(encoding="utf-8").splitlines()
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["summary"]["duplicates"] == 0 and data["summary"]["bytes_saved"] == 0
    (cluster,) = data["clusters"]
    kept, member = cluster["members"]
    assert (kept["id"], member["id"]) == (article, roundup)
    assert member["decision"] == "superset" and member["rule"] == "contains-cleanest"
    assert member["containment"] == 1.0
    unique = member["own_words"] - member["boilerplate_words"]
    assert 1400 <= unique <= member["own_words"]
    assert member["reasons"][0] == f"superset: contains the kept copy plus {unique:,} words of its own"


def test_roundup_report_says_superset(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    roundup_folder(docs)
    result = CliRunner().invoke(main, ["scan", str(docs)], catch_exceptions=False, terminal_width=120)
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "superset: contains the kept copy plus 1," in text
    assert "Duplicate documents 0" in text.replace("│", " ").replace("  ", " ")


def test_copies_of_roundup_keep_one(tmp_path: Path) -> None:
    """Two copies of the roundup and the article: one roundup is kept and the other copy
    dropped (nothing is kept twice); the article, wholly inside the kept roundup, loses no
    word if it is dropped."""
    docs = tmp_path / "docs"
    article, roundup = roundup_folder(docs)
    shutil.copy(docs / roundup, docs / "roundup-copy.txt")
    result = scan(docs, ScanConfig(jobs=1))
    (cluster,) = result.clusters
    by_id = {m.doc_id: m for m in cluster.members}
    kept = sorted(i for i, m in by_id.items() if not m.dropped)
    assert kept in (["roundup-copy.txt"], ["roundup.txt"])
    if by_id[article].dropped:
        assert by_id[article].own_words == 0
    assert result.summary.duplicates == 2


def test_wrapped_sample_is_still_a_drop(tmp_path: Path) -> None:
    """samples/001 is 000 wrapped in blog chrome, three teasers and a comment widget: all
    boilerplate, so an ordinary duplicate."""
    for name in (PLAIN, WRAPPED):
        shutil.copy(SAMPLES / name, tmp_path / name)
    drop = tmp_path / "drop.txt"
    result = CliRunner().invoke(main, ["scan", str(tmp_path), "-q", "--drop-list", str(drop)], catch_exceptions=False)
    assert result.exit_code == 0
    assert drop.read_text(encoding="utf-8") == f"{WRAPPED}\n"
