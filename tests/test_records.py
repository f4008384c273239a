"""DocTable and DocBatch: documents by column behave as sequences of DocInfo and Document records."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedup.records import DocBatch, DocInfo, DocKind, DocTable, Document, Locator, text_digest

KINDS: st.SearchStrategy[DocKind] = st.sampled_from(["text", "html", "markdown", "jsonl"])
NUMBER = st.integers(min_value=0, max_value=2**40)


@st.composite
def doc_infos(draw: st.DrawFn) -> list[DocInfo]:
    n = draw(st.integers(min_value=0, max_value=12))
    docs = []
    for i in range(n):
        record = draw(st.none() | st.integers(min_value=1, max_value=10**6))
        length = draw(st.integers(min_value=-2, max_value=10**6))
        docs.append(
            DocInfo(
                i,
                draw(st.text(min_size=1, max_size=12)),
                draw(st.text(min_size=1, max_size=12)),
                draw(KINDS),
                draw(st.sampled_from(["utf-8", "cp1252", "gbk"])),
                draw(NUMBER),
                draw(NUMBER),
                draw(NUMBER),
                Locator(draw(st.text(min_size=1, max_size=20)), draw(NUMBER), length),
                record,
                draw(st.none() | st.text(max_size=12)),
                draw(st.integers(min_value=-(2**63), max_value=2**63 - 1)),
            )
        )
    return docs


@given(doc_infos())
def test_a_table_gives_back_the_records_it_was_made_of(docs: list[DocInfo]) -> None:
    table = DocTable.of(docs)
    assert len(table) == len(docs)
    assert list(table) == docs and table == docs and table == tuple(docs)
    assert all(table[i] == docs[i] for i in range(len(docs)))
    if docs:
        assert table[-1] == docs[-1] and table[1:3] == docs[1:3]


@given(doc_infos())
def test_columns_round_trip(docs: list[DocInfo]) -> None:
    table = DocTable.of(docs)
    again = DocTable.from_columns(table.columns())
    assert again == table and list(again) == docs


def test_index_out_of_range_and_ragged_columns() -> None:
    table = DocTable.of([DocInfo(0, "a", "a", "text", "utf-8", 3, 1, 1, Locator("a"))])
    with pytest.raises(IndexError):
        table[1]
    cols = table.columns()
    cols["size"] = [3, 4]
    with pytest.raises(ValueError):
        DocTable.from_columns(cols)
    assert table != DocTable() and table[0].record is None


def test_records_survive_pickling_between_processes() -> None:
    """Workers send these back: each pickles as a tuple of its fields and comes back equal."""
    import pickle

    from dedup.errors import SkipReason
    from dedup.records import Document, Pick, Skipped, SourceFile

    records = [
        SourceFile("/d/a.txt", "a.txt", 10, 123),
        DocBatch.of([Document("x.jsonl:3", "x.jsonl", "", "utf-8", "jsonl", 12, Locator("/d/x.jsonl", 40, 12), 3)]),
        Skipped("b.bin", SkipReason.BINARY, "NUL byte"),
        Locator("/d/x.jsonl", 40, 12),
        Document("x.jsonl:3", "x.jsonl", "some text", "utf-8", "jsonl", 12, Locator("/d/x.jsonl", 40, 12), 3),
        Document("a.txt", "a.txt", "text", "cp1252", "text", 4, Locator("/d/a.txt")),
        Pick(7, 0.25, ("+3 words outside the shared text",)),
    ]
    for record in records:
        again = pickle.loads(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
        assert again == record and type(again) is type(record)


def _textless(d: DocInfo) -> Document:
    return Document(d.doc_id, d.rel, "", d.encoding, d.kind, d.size, d.locator, d.record, d.record_id)


@given(doc_infos(), st.integers(min_value=0, max_value=12), st.data())
def test_a_batch_is_its_documents_by_column(infos: list[DocInfo], cut: int, data: st.DataObject) -> None:
    docs = [_textless(d) for d in infos]
    batch = DocBatch.of(docs)
    assert len(batch) == len(docs) and list(batch) == docs and batch[: len(docs)] == docs
    assert DocBatch.concat([DocBatch.of(docs[:cut]), DocBatch.of(docs[cut:])]) == batch
    keep = data.draw(st.lists(st.booleans(), min_size=len(docs), max_size=len(docs)))
    assert list(batch.select(keep)) == [d for d, k in zip(docs, keep, strict=True) if k]


@given(doc_infos())
def test_a_table_extended_by_a_batch_equals_one_built_record_by_record(infos: list[DocInfo]) -> None:
    table = DocTable()
    table.extend(DocBatch.of([_textless(d) for d in infos]), [d.words for d in infos], [d.shingles for d in infos])
    infos = [dataclasses.replace(d, digest=text_digest("")) for d in infos]  # the batch's texts were empty
    assert table == DocTable.of(infos) and list(table) == infos
