"""ScanConfig: every tunable of a scan, its default, and why that default.

The CLI reads its option defaults from here, so this is the one source of truth.
Defaults marked "measured" were chosen with ``dedup eval`` on the generated corpora
(see docs/evaluation.md); the LSH maths is written next to the band count.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from .errors import ConfigError

ClusterMode = Literal["star", "components"]

#: File endings read by default; other files are read only when sniffing finds text.
TEXT_SUFFIXES = (".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml", ".jsonl", ".ndjson", ".json")


@dataclass(frozen=True, slots=True)
class ScanConfig:
    """Every option of a scan. Frozen: one config describes one run.

    Example:
        >>> ScanConfig(num_perm=64, bands=16).rows
        4
    """

    # --- reading -------------------------------------------------------------------
    include: tuple[str, ...] = ()  # glob patterns on the relative path; empty = everything
    exclude: tuple[str, ...] = ()
    hidden: bool = False  # read dot-files and dot-folders too
    text_field: str = "text"  # JSON Lines / JSON: the field holding the text
    id_field: str = "id"  # JSON Lines / JSON: the field holding the record id
    max_bytes: int = 256 * 1024 * 1024  # larger files are skipped (too-large)

    # --- shingles ------------------------------------------------------------------
    # Word 5-grams: the common choice for web near-duplicates (Broder 1997 used 10 words,
    # Gopher/MassiveText 13, most dedup pipelines 5). Shorter k makes unrelated articles on
    # one story share phrases; longer k lets one typo knock out more shingles.
    shingle_size: int = 5
    # Scripts written without spaces (Han, kana, Thai, Lao, Khmer, Myanmar) are tokenised
    # one character per token, so their shingles are character n-grams of this size.
    char_shingle_size: int = 5

    # --- signatures ----------------------------------------------------------------
    num_perm: int = 128
    seed: int = 1  # datasketch's default seed, so signatures load into datasketch as they are

    # --- candidates ----------------------------------------------------------------
    # 32 bands x 4 rows. P(candidate) = 1 - (1 - J^4)^32:
    #   J=0.9: 1.000, J=0.7: 1.000, J=0.5: 0.874, J=0.3: 0.229, J=0.1: 0.003
    # so pairs at the Jaccard threshold are all but certain to be compared.
    bands: int = 32
    # The containment path: shingles whose hash is 0 modulo 2**anchor_bits are anchors
    # (a content-defined 1/16 sample, the same in every document). Two documents sharing
    # `min_anchors` anchors become a candidate pair whatever their sizes, which is how a
    # copy wrapped in page chrome is found. Anchors held by more than `max_anchor_docs`
    # documents are template text and are not followed.
    anchor_bits: int = 4
    min_anchors: int = 2
    max_anchor_docs: int = 64

    # --- verification --------------------------------------------------------------
    jaccard_threshold: float = 0.7
    containment_threshold: float = 0.8
    # A containment match needs the smaller document to have this many shingles, so a
    # comment widget or a one-line quote does not attach to every page that holds it.
    min_shingles: int = 30
    # ...and to be at least this share of the larger one (a truncated copy keeps ~20%+).
    min_size_ratio: float = 0.15
    # ...or to cover at least this share of the larger one's prose (its tokens on lines of
    # 8 or more, evidence.PROSE_LINE, teasers left out): a page's navigation, link lists and
    # labels are short lines, so an article with its chrome is most of the page's prose,
    # while a roundup quoting the article, or a page with a teaser of it, holds prose of its
    # own. Chosen on the real pages' dragnet_data part (benchmarks/text_rules.py): 0.2 adds
    # 314 pairs of one page and none of two pages; 0.15 adds 4 false pairs.
    min_prose_ratio: float = 0.2
    # A containment match may also be measured in words: at least this share of the smaller
    # document's words lie in a 5-word shingle the larger holds. One wrong character (OCR,
    # a typo) breaks all the shingles over its word, so a copy with one bad word in twenty
    # keeps only ~75% of its shingles but ~95% of its words; articles on one story that
    # share quotes and phrases stay far below. On dragnet_data (benchmarks/text_rules.py)
    # 0.85 adds 22 false pairs (whole same-site pages at 0.865), 0.9 none.
    word_containment_threshold: float = 0.9

    # --- clustering ----------------------------------------------------------------
    # "star": every member is verified against the cluster's cleanest copy, so A~B~C
    # never chains A and C together. "components": connected components of all matches.
    cluster_mode: ClusterMode = "star"
    # --prefer rules, in order: which copy to keep, before the ranking decides (prefer.py).
    prefer: tuple[str, ...] = ()

    # --- execution -----------------------------------------------------------------
    jobs: int = 0  # worker processes; 0 = all cores. Results never depend on it.
    batch_size: int = 512  # documents hashed together

    def __post_init__(self) -> None:
        self.validate()

    @property
    def look_containment(self) -> float:
        """Shingle containment below which verify tries no rule on the texts. One misread word
        in 15 keeps (14/15)^5 = 0.71 of a copy's 5-word shingles and 0.93 of its words; every
        pair the words rule adds on the synthetic and real sets is at 0.678 or more. Lower, a
        long run of overlapping text windows (60% overlap) would be re-read pair by pair."""
        return min(0.65, self.containment_threshold)

    @property
    def rows(self) -> int:
        """Rows per LSH band: num_perm is split evenly into `bands`."""
        return self.num_perm // self.bands

    def validate(self) -> None:
        """Raise ConfigError naming the first option that is out of range or inconsistent."""
        checks: list[tuple[bool, str]] = [
            (self.shingle_size >= 1, "shingle_size must be at least 1"),
            (self.char_shingle_size >= 1, "char_shingle_size must be at least 1"),
            (1 <= self.num_perm <= 1024, "num_perm must be between 1 and 1024"),
            (0 <= self.seed < 2**32, "seed must be between 0 and 2**32-1"),
            (1 <= self.bands <= self.num_perm, "bands must be between 1 and num_perm"),
            (self.num_perm % self.bands == 0, f"num_perm ({self.num_perm}) must be a multiple of bands ({self.bands})"),
            (0 <= self.anchor_bits <= 16, "anchor_bits must be between 0 and 16"),
            (self.min_anchors >= 1, "min_anchors must be at least 1"),
            (self.max_anchor_docs >= 2, "max_anchor_docs must be at least 2"),
            (0.0 < self.jaccard_threshold <= 1.0, "jaccard_threshold must be in (0, 1]"),
            (0.0 < self.containment_threshold <= 1.0, "containment_threshold must be in (0, 1]"),
            (self.min_shingles >= 1, "min_shingles must be at least 1"),
            (0.0 <= self.min_size_ratio <= 1.0, "min_size_ratio must be in [0, 1]"),
            (0.0 <= self.min_prose_ratio <= 1.0, "min_prose_ratio must be in [0, 1]"),
            (0.0 < self.word_containment_threshold <= 1.0, "word_containment_threshold must be in (0, 1]"),
            (self.cluster_mode in ("star", "components"), "cluster_mode must be 'star' or 'components'"),
            (self.jobs >= 0, "jobs must be 0 (all cores) or more"),
            (self.batch_size >= 1, "batch_size must be at least 1"),
            (self.max_bytes >= 1, "max_bytes must be at least 1"),
            (bool(self.text_field), "text_field must not be empty"),
            (all(r.strip() for r in self.prefer), "a --prefer rule must not be empty"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    def params(self) -> dict[str, object]:
        """The parameters that shape results, as exported (execution settings left out)."""
        out = asdict(self)
        for key in ("jobs", "batch_size"):
            out.pop(key)
        out["include"] = list(self.include)
        out["exclude"] = list(self.exclude)
        out["prefer"] = list(self.prefer)
        out["rows"] = self.rows
        return out
