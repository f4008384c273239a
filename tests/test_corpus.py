"""corpus.py: determinism, a consistent truth, real encodings, hard negatives that are hard.

The corpus is read back the way a user would: through truth.jsonl and the bytes on disk.
Similarity is measured with a plain exact word 5-gram Jaccard written here (lowercase, \\w+
tokens, each Han character a token as shingle.py does), independent of the detector.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from dedup.corpus import KINDS, SAMPLES_DIR, CorpusStats, generate, main
from dedup.errors import ConfigError, InputError
from dedup.evaluate import TruthCluster, evaluate, read_truth

_TOKEN = re.compile(r"[\u3400-\u9fff]|[^\W_\u3400-\u9fff]+")


def shingles(text: str, k: int = 5) -> set[tuple[str, ...]]:
    tokens = _TOKEN.findall(text.lower())
    return {tuple(tokens[i : i + k]) for i in range(len(tokens) - k + 1)}


def jaccard(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def containment(small: set[tuple[str, ...]], big: set[tuple[str, ...]]) -> float:
    return len(small & big) / len(small) if small else 1.0


class Corpus:
    """A generated corpus read back: truth, records and each document's text by id."""

    def __init__(self, root: Path, stats: CorpusStats) -> None:
        self.root, self.stats = root, stats
        self.truth = read_truth(root / "truth.jsonl")
        self.lines = [json.loads(line) for line in (root / "truth.jsonl").read_text("utf-8").splitlines()]
        records = root / "records.jsonl"
        rows = [json.loads(line) for line in records.read_text("utf-8").splitlines()] if records.exists() else []
        self.records: dict[str, str] = {r["id"]: r["text"] for r in rows}
        self.kind = {i: k for c in self.truth for i, k in c.variants.items()}
        self.cluster = {i: c for c in self.truth for i in c.ids}

    def raw(self, doc_id: str) -> bytes:
        return (self.root / doc_id).read_bytes()

    def text(self, doc_id: str) -> str:
        """The document's text, decoded the way its kind was written."""
        if doc_id in self.records:
            return self.records[doc_id]
        kind, data = self.kind[doc_id], self.raw(doc_id)
        if kind == "utf16":
            return data.decode("utf-16")
        if kind in {"cp1252", "html-cp1252"}:
            return data.decode("cp1252")
        if kind == "gbk":
            return data.decode("gbk")
        if kind == "latin1-nel":
            return data.decode("latin-1").replace("\x85", "\n")
        return data.decode("utf-8")

    def of_kind(self, kind: str) -> Iterator[tuple[TruthCluster, str]]:
        for cluster in self.truth:
            for doc_id in cluster.ids:
                if cluster.variants.get(doc_id) == kind:
                    yield cluster, doc_id

    def plain(self, cluster: TruthCluster) -> str:
        return self.text(cluster.cleanest[0])

    def is_copy(self, text: str, cluster: TruthCluster) -> bool:
        """Equal to the plain copy; for samples/000's cluster, whose copies are made from the
        article (its title from 001, its comment widget lines left out), 5-gram containment."""
        if cluster.cleanest[0].startswith("samples/"):
            return containment(shingles(self.plain(cluster)), shingles(text)) > 0.95
        return text == self.plain(cluster)

    def role(self, cluster: TruthCluster) -> str:
        return str(self.lines[[c.cluster for c in self.truth].index(cluster.cluster)]["role"])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    root = tmp_path_factory.mktemp("corpus") / "c"
    return Corpus(root, generate(root, seed=0))


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes(corpus: Corpus, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", seed=0)
    assert files_of(tmp_path / "again") == files_of(corpus.root)
    assert again.to_dict() | {"out_dir": ""} == corpus.stats.to_dict() | {"out_dir": ""}
    other = generate(tmp_path / "other", seed=1, articles=5, samples=None)
    first = generate(tmp_path / "first", seed=0, articles=5, samples=None)
    assert files_of(tmp_path / "other") != files_of(tmp_path / "first")
    assert other.documents > 0 and first.documents > 0


def test_default_composition(corpus: Corpus) -> None:
    s = corpus.stats
    assert 300 <= s.documents <= 500
    assert s.documents == sum(s.kinds.values()) == sum(len(c.ids) for c in corpus.truth)
    assert s.files == len(files_of(corpus.root)) - 1  # truth.jsonl is not counted
    assert s.records == len(corpus.records) > 0
    assert set(s.languages) == {"en", "zh", "de", "fr", "es"}
    assert set(s.roles) == {"article", "sibling", "template", "snippet", "sample"}
    assert {"crlf", "cr", "nel", "lf"} <= set(s.line_ends)


def test_truth_is_consistent(corpus: Corpus) -> None:
    # read_truth already refused ids in two clusters and cleanest ids outside their cluster.
    on_disk = set(files_of(corpus.root)) - {"truth.jsonl", "records.jsonl"}
    ids = {i for c in corpus.truth for i in c.ids}
    assert ids == on_disk | set(corpus.records)
    assert not on_disk & set(corpus.records)
    for cluster in corpus.truth:
        assert set(cluster.variants) == set(cluster.ids)
        role = corpus.role(cluster)
        if role in {"article", "sibling"}:
            # The plain copy, and re-encodings whose decoded text is the plain copy's exactly.
            kinds = [cluster.variants[i] for i in cluster.cleanest]
            assert kinds.count("plain") == 1 and set(kinds) <= {"plain", "utf16", "latin1-nel", "cp1252", "gbk"}
            plain = next(i for i in cluster.cleanest if cluster.variants[i] == "plain")
            assert all(corpus.text(i) == corpus.text(plain) for i in cluster.cleanest)
    picks = [c.cleanest[0] if c.cleanest else c.ids[0] for c in corpus.truth]
    perfect = evaluate([c.ids for c in corpus.truth], corpus.truth, sorted(ids), cleanest=picks)
    assert (perfect.precision, perfect.recall, perfect.ari, perfect.cleanest_accuracy) == (1.0, 1.0, 1.0, 1.0)
    assert perfect.truth_pairs == corpus.stats.duplicate_pairs


def test_names_reveal_nothing(corpus: Corpus) -> None:
    for doc_id in corpus.kind:
        if doc_id in corpus.records:
            assert re.fullmatch(r"r-[0-9a-f]{10}", doc_id)
        elif not doc_id.startswith("samples/"):
            assert re.fullmatch(r"(site|blog)\d+/[0-9a-f]{12}\.(txt|md|html|htm)", doc_id), doc_id


def test_every_kind_appears(corpus: Corpus) -> None:
    assert set(KINDS) <= set(corpus.kind.values())
    assert {"template", "quote", "widget"} <= set(corpus.kind.values())


def test_samples_are_copied_and_labelled(corpus: Corpus) -> None:
    by_name = {p.name: p for p in SAMPLES_DIR.glob("*.txt")}
    for name, path in by_name.items():
        assert corpus.raw(f"samples/{name}") == path.read_bytes()
    s000 = next(f"samples/{n}" for n in by_name if n.startswith("000_"))
    s001 = next(f"samples/{n}" for n in by_name if n.startswith("001_"))
    summit = corpus.cluster[s000]
    assert s001 in summit.ids and s000 in summit.cleanest and s001 not in summit.cleanest
    # Besides 000 only exact re-encodings of the generated plain copy (title, no widget) count.
    assert {summit.variants[i] for i in summit.cleanest if i != s000} <= {"utf16", "latin1-nel", "cp1252", "gbk"}
    assert len(summit.ids) > 2  # plus generated copies of the same article
    for prefix in ("002_", "003_", "004_"):
        doc_id = next(f"samples/{n}" for n in by_name if n.startswith(prefix))
        assert corpus.cluster[doc_id].ids == (doc_id,)


def test_encodings_are_real_bytes(corpus: Corpus) -> None:
    def not_utf8(data: bytes) -> bool:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False

    for kind in ("cp1252", "utf16", "gbk", "latin1-nel", "html-cp1252"):
        for cluster, doc_id in corpus.of_kind(kind):
            data = corpus.raw(doc_id)
            assert not_utf8(data), doc_id
            if kind == "html-cp1252":
                assert b'<meta charset="windows-1252">' in data
                continue
            if kind == "utf16":
                assert data.startswith(b"\xff\xfe")
            if kind == "latin1-nel":
                assert b"\x85" in data and b"\n" not in data and b"\r" not in data
            assert corpus.is_copy(corpus.text(doc_id), cluster), doc_id
    zh_gbk = [c for c, _ in corpus.of_kind("gbk")]
    assert zh_gbk and all(re.search(r"[\u4e00-\u9fff]", corpus.plain(c)) for c in zh_gbk)


def test_mojibake_is_utf8_read_as_cp1252(corpus: Corpus) -> None:
    def undo(text: str) -> str:
        out = bytearray()
        for ch in text:
            try:
                out += ch.encode("cp1252")
            except UnicodeEncodeError:
                out.append(ord(ch))  # the five bytes cp1252 leaves undefined
        return out.decode("utf-8")

    found = list(corpus.of_kind("mojibake"))
    assert found
    for cluster, doc_id in found:
        text = corpus.text(doc_id)
        assert "Ã" in text or "â€" in text
        assert corpus.is_copy(undo(text).replace("\r\n", "\n").replace("\r", "\n"), cluster)


def test_line_ends(corpus: Corpus) -> None:
    ends = {"crlf": 0, "cr": 0}
    for doc_id, kind in corpus.kind.items():
        if doc_id in corpus.records or kind in {"utf16", "latin1-nel"}:
            continue
        data = corpus.raw(doc_id)
        if b"\r\n" in data:
            ends["crlf"] += 1
        elif b"\r" in data:
            ends["cr"] += 1
            assert b"\n" not in data
    assert ends["crlf"] > 0 and ends["cr"] > 0


def test_bases_share_almost_no_5grams(corpus: Corpus) -> None:
    """Different stories: max Jaccard < 0.1 and mean ~0; siblings (same story) < 0.2."""
    plains = {
        c.cluster: shingles(corpus.plain(c))
        for c in corpus.truth
        if c.cleanest and corpus.role(c) in {"article", "sibling", "sample"}
    }
    assert len(plains) > 60
    others: list[float] = []
    siblings: list[float] = []
    for (a, sa), (b, sb) in itertools.combinations(plains.items(), 2):
        same_story = a.split("-s")[0] == b.split("-s")[0]
        (siblings if same_story else others).append(jaccard(sa, sb))
    assert max(others) < 0.1
    assert sum(others) / len(others) < 0.005
    assert siblings and max(siblings) < 0.2


def test_sample_siblings_are_apart(corpus: Corpus) -> None:
    texts = {p.name[:3]: shingles(p.read_text("utf-8")) for p in SAMPLES_DIR.glob("*.txt")}
    assert containment(texts["000"], texts["001"]) > 0.95
    for a, b in itertools.combinations(["000", "002", "003", "004"], 2):
        assert jaccard(texts[a], texts[b]) < 0.2


def test_wrapped_copies_contain_their_plain_text(corpus: Corpus) -> None:
    found = list(corpus.of_kind("wrapped"))
    assert len(found) > 20
    for cluster, doc_id in found:
        plain, wrapped = shingles(corpus.plain(cluster)), shingles(corpus.text(doc_id))
        assert containment(plain, wrapped) >= 0.95, doc_id
        assert jaccard(plain, wrapped) < 0.95  # the chrome is really there


def test_template_pages_are_mostly_template(corpus: Corpus) -> None:
    pages = [shingles(corpus.text(doc_id)) for _, doc_id in corpus.of_kind("template")]
    assert len(pages) >= 4
    shared = [jaccard(a, b) for a, b in itertools.combinations(pages, 2)]
    assert min(shared) > 0.3  # a naive detector is tempted ...
    for cluster, doc_id in corpus.of_kind("template"):
        assert cluster.ids == (doc_id,)  # ... but each page is a different article
        words = len(corpus.text(doc_id).split())
        assert words > 350


def test_short_snippets_sit_inside_many_documents(corpus: Corpus) -> None:
    texts = {doc_id: corpus.text(doc_id) for doc_id in corpus.kind}
    for kind in ("quote", "widget"):
        snippets = list(corpus.of_kind(kind))
        assert snippets
        for cluster, doc_id in snippets:
            assert cluster.ids == (doc_id,)
            body = texts[doc_id].strip()
            if kind == "quote":
                assert 10 <= len(body.split()) <= 25
            hosts = {corpus.cluster[i].cluster for i, t in texts.items() if i != doc_id and body in t}
            assert len(hosts) >= 3, (doc_id, hosts)


def test_generate_refuses_bad_arguments(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("x")
    with pytest.raises(ConfigError, match="is not an empty folder"):
        generate(tmp_path / "full")
    with pytest.raises(ConfigError, match="articles must be 0 or more"):
        generate(tmp_path / "neg", articles=-1)
    with pytest.raises(InputError, match="samples folder not found"):
        generate(tmp_path / "c", samples=tmp_path / "nope")
    (tmp_path / "few").mkdir()
    (tmp_path / "few" / "000_a.txt").write_text("a")
    with pytest.raises(InputError, match=r"has no 001_\*\.txt"):
        generate(tmp_path / "c", samples=tmp_path / "few")
    assert not (tmp_path / "c").exists()  # nothing written before the inputs were checked


def test_zero_articles(tmp_path: Path) -> None:
    stats = generate(tmp_path / "c", articles=0, samples=None)
    assert stats.roles == {"snippet": 4, "template": 4}
    read_truth(tmp_path / "c" / "truth.jsonl")


def test_main(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "c"), "--seed", "3", "--articles", "4", "--no-samples"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("wrote ") and "truth.jsonl" in out
    assert main([str(tmp_path / "d"), "--samples", str(tmp_path / "missing")]) == 2
    assert (
        capsys.readouterr().err
        == f"error: samples folder not found: {tmp_path / 'missing'} (give --samples DIR, or --no-samples)\n"
    )


# --- dedup corpus: the command, and a plain install (issue 13) --------------------------------

REPO = Path(__file__).resolve().parent.parent


def test_shipped_samples_are_the_repository_samples() -> None:
    shipped = {p.name: p.read_bytes() for p in SAMPLES_DIR.glob("*.txt")}
    repo = {p.name: p.read_bytes() for p in (REPO / "samples").glob("*.txt")}
    assert shipped == repo and len(shipped) == 5
    assert SAMPLES_DIR.is_relative_to(REPO / "dedup")  # package data, installed with the package


def test_dedup_corpus_command(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from dedup.cli import main as cli

    runner = CliRunner()
    out = tmp_path / "c"
    result = runner.invoke(cli, ["corpus", str(out), "--seed", "2", "--articles", "6"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    stats = generate(tmp_path / "api", seed=2, articles=6)
    assert files_of(out) == files_of(tmp_path / "api")
    assert result.stdout == stats.summary().replace(str(tmp_path / "api"), str(out)) + "\n"  # counts: test_trial_defects2
    again = runner.invoke(cli, ["corpus", str(out)])
    assert again.exit_code == 2 and again.stdout == ""
    assert again.stderr == f"Error: {out} is not an empty folder: the corpus is written into a new or empty one\n"
    bare = runner.invoke(cli, ["corpus", str(tmp_path / "bare"), "--articles", "3", "--no-samples"])
    assert bare.exit_code == 0 and not (tmp_path / "bare" / "samples").exists()
    missing = runner.invoke(cli, ["corpus", str(tmp_path / "m"), "--samples", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and missing.stderr.startswith("Error: samples folder not found")


@pytest.mark.slow
def test_dedup_corpus_after_a_plain_install(tmp_path: Path) -> None:
    """``pip install .`` into a fresh venv, then ``dedup corpus OUT --seed 0`` away from the
    source tree: the same bytes as the package here writes (samples and word lists are
    package data)."""
    import os
    import shutil
    import subprocess
    import sys

    src = tmp_path / "src"
    shutil.copytree(
        REPO,
        src,
        ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__", "*.so", ".*cache", "tests"),
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(src)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    shutil.rmtree(src)  # nothing may be read from the source tree
    out = tmp_path / "out"
    run = subprocess.run(
        [str(venv / "bin" / "dedup"), "corpus", str(out), "--seed", "0"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("wrote ") and "samples" not in run.stderr
    generate(tmp_path / "here", seed=0)
    assert files_of(out) == files_of(tmp_path / "here")
