"""Parquet files -> one document per row, read a batch of rows at a time.

Only the columns that hold ``--text-field`` and ``--id-field`` are read; a dotted field
(``meta.body``) reads the struct column ``meta`` and looks inside it. Rows become records
as JSON Lines lines do (``jsonrecords.record_documents``): ids ``rel:id`` or ``rel:row``,
the same one-line reasons for a row without text, and ``--max-bytes`` as a limit on each
row's text. ``Document.size`` is that text's UTF-8 length. A document's ``Locator`` is
``(path, row, PARQUET_ROW)``, row 0-based over the whole file; re-reading goes through
``reread.read_row`` so that ranking decodes a file's column once per process.

pyarrow (the ``parquet`` extra) is imported only when a Parquet file is met; without it
the file is skipped with the pip command that installs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from .config import ScanConfig
from .errors import MissingExtra, SkipReason
from .extras import require_pyarrow
from .files import open_regular
from .jsonrecords import BadRecord, field_text, lookup_field, one_line, record_documents
from .records import Document, Locator, Skipped, SourceFile
from .reread import RowValue, read_row

__all__ = ["PARQUET_ROW", "load_row_text", "parquet_documents"]

#: ``Locator.length`` of a Parquet row; its ``offset`` is then the row's 0-based index.
PARQUET_ROW = -3
#: Rows converted to Python at a time: bounds the memory of the batch beyond Arrow's pages.
_BATCH_ROWS = 512


def _column(field: str, names: list[str]) -> str | None:
    """The top-level column that holds ``field``: its own name, or a dotted path's first part."""
    if field in names:
        return field
    head = field.split(".", 1)[0]
    return head if "." in field and head in names else None


def _columns_text(names: list[str]) -> str:
    shown = ", ".join(one_line(n)[:40] for n in names[:10])
    more = f", … ({len(names)} in all)" if len(names) > 10 else ""
    return f"columns: {shown}{more}" if names else "no columns"


def _open(f: BinaryIO, purpose: str) -> Any:
    """A ``pyarrow.parquet.ParquetFile`` over an open file."""
    _pa, pq = require_pyarrow(purpose)
    return pq.ParquetFile(f)


def parquet_documents(source: SourceFile, config: ScanConfig) -> Iterator[Document | Skipped]:
    """The rows of a Parquet file as documents, or one skip saying why the file cannot be read."""
    with open_regular(source.path) as (f, _st):
        try:
            pf = _open(f, "reading Parquet")
        except MissingExtra as exc:
            yield Skipped(source.rel, SkipReason.EXTRACT_FAILED, str(exc))
            return
        except Exception as exc:  # pyarrow's ArrowInvalid and OSError for a file that is not Parquet
            yield Skipped(source.rel, SkipReason.UNREADABLE, one_line(f"not a valid Parquet file ({exc})"))
            return
        names = list(pf.schema_arrow.names)
        text_column = _column(config.text_field, names)
        if text_column is None:
            detail = f"no {config.text_field!r} column ({_columns_text(names)})"
            yield Skipped(source.rel, SkipReason.BAD_RECORD, detail)
            return
        id_column = _column(config.id_field, names)
        columns = [text_column] + ([id_column] if id_column not in (None, text_column) else [])
        items = _rows(source.path, pf, columns, config)
        yield from record_documents(source, config, items, "row", empty="no records")


def _rows(
    path: str, pf: Any, columns: list[str], config: ScanConfig
) -> Iterator[tuple[int, object, str, int, Locator]]:
    """(row number from 1, record or BadRecord, encoding, size, locator) of every row."""
    number = 0
    for batch in pf.iter_batches(batch_size=_BATCH_ROWS, columns=columns):
        for record in batch.to_pylist():
            number += 1
            locator = Locator(path, number - 1, PARQUET_ROW)
            found, text = lookup_field(record, config.text_field)
            size = len(text.encode("utf-8", "surrogatepass")) if found and isinstance(text, str) else 0
            if size > config.max_bytes:
                detail = f"{size:,} bytes > {config.max_bytes:,} byte limit (--max-bytes)"
                yield number, BadRecord(detail, SkipReason.TOO_LARGE), "", size, locator
                continue
            yield number, record, "utf-8", size, locator


def _text_values(field: str) -> Any:
    """The function ``reread.read_row`` fills a spool with: an open file -> the text field's
    value of each row (None where it is not a string)."""

    def values(f: BinaryIO) -> Iterator[RowValue]:
        pf = _open(f, "reading Parquet")
        column = _column(field, list(pf.schema_arrow.names))
        if column is None:
            raise ValueError(f"no {field!r} column any more")
        for batch in pf.iter_batches(batch_size=_BATCH_ROWS, columns=[column]):
            for record in batch.to_pylist():
                found, text = lookup_field(record, field)
                yield text if found and isinstance(text, str) else None

    return values


def load_row_text(locator: Locator, config: ScanConfig) -> str:
    """A Parquet row's text again, as ``parquet_documents`` gave it.

    Raises:
        OSError: the file cannot be read any more.
        ValueError: the row is gone or holds no text now.
    """
    value = read_row(locator.path, config.text_field, locator.offset, _text_values(config.text_field))
    if value is None:
        raise ValueError(f"row {locator.offset + 1} has no {config.text_field!r} text")
    return field_text(value, config.text_field)
