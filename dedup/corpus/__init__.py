"""A deterministic generator of labelled corpora for measuring a near-duplicate detector.

``generate(out_dir, seed=0, articles=60)`` writes a folder of files, one ``records.jsonl`` and
``truth.jsonl`` (the format ``evaluate.read_truth`` reads), and returns ``CorpusStats``.
``dedup corpus OUT --seed 0 --articles 60`` (or ``python -m dedup.corpus``) does the same from
the shell.

Why generate: real scraped folders have no labels, and the five ``samples/`` articles are too
few to choose thresholds with. So the corpus mixes

* real text: ``samples/`` copied verbatim (shipped as package data in ``data/samples/``) (000 and its blog copy 001 are one cluster; 002–004
  are other articles on the same story, left as singletons), and 000's article as a base;
* procedural news prose from a seeded grammar (``data/newsgen.json``, written for this
  project): English, Chinese (no spaces), German, French and Spanish, each article built from
  its own story (people, organisations, places, topic) so that two articles share almost no
  word 5-grams;
* copies of each base: plain, wrapped in site chrome, HTML, Markdown, truncated, lightly edited,
  OCR-damaged, mojibake, cp1252 / UTF-16 / GBK / latin-1 bytes, CRLF / CR / NEL line ends, and
  JSON Lines records;
* hard negatives that must stay apart: sibling articles on the same story, short articles in one
  heavy site template, and a quote, a slogan and comment widgets that appear inside many pages.

File names are hashes (``site3/5f1c0e9a2b7d.html``), so nothing but the text tells a detector
what belongs together; the variant kinds live only in ``truth.jsonl``. Its lines also carry
``role`` (article, sibling, template, snippet, sample) and ``lang``, which ``read_truth``
ignores. A scan of the folder skips ``truth.jsonl`` as dedup's own output (``decode.dedup_output``). Every random choice
comes from ``random.Random`` seeded with a string (stable across runs and platforms), one
stream per article and purpose, so the same seed writes byte-identical files.

The package: ``text`` writes articles, ``pages`` renders sites and damaged copies, ``kinds``
holds the table of copy kinds (one row per kind: chances, eligibility, rendering, labels),
and ``build`` writes the corpus and its truth.
"""

from __future__ import annotations

from .build import SAMPLES_DIR, CorpusStats, generate, main
from .kinds import KINDS

__all__ = ["KINDS", "SAMPLES_DIR", "CorpusStats", "generate", "main"]
