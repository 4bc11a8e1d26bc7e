"""Parquet in and out (``pip install 'dedup[parquet]'``), shard by shard.

Reading goes one row group batch at a time; writing goes in batches of records, each input
column kept and the annotation added as a ``dedup`` struct column with a fixed schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .config import InputConfig
from .errors import InputError
from .model import Document, Skipped

BATCH_ROWS = 10_000


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise InputError("Parquet needs pyarrow: pip install 'dedup[parquet]'") from None
    return pyarrow


def read_parquet(path: Path, config: InputConfig, *, id_prefix: str) -> Iterator[Document | Skipped]:
    """Documents of a Parquet file, one per row; a row's number (from 1) stands in for a line."""
    pa = _pyarrow()
    try:
        source = pa.parquet.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read Parquet: {exc}", path=str(path)) from None
    if config.text_field not in source.schema_arrow.names:
        raise InputError(f"no {config.text_field!r} column (set --text-field)", path=str(path))
    from .io import record_to_document

    row = 0
    for batch in source.iter_batches(batch_size=BATCH_ROWS):
        for record in batch.to_pylist():
            row += 1
            try:
                yield record_to_document(record, str(path), row, config, f"{id_prefix}:{row}")
            except InputError as exc:
                if config.on_error != "skip":
                    raise
                yield Skipped(where=f"{path}:{row}", reason=exc.reason)


def input_schema(paths: Iterable[str]) -> Any:
    """The Arrow schema of the first Parquet input, so its columns keep their types; else None."""
    for arg in paths:
        if arg.lower().endswith(".parquet") and Path(arg).is_file():
            pa = _pyarrow()
            try:
                return pa.parquet.ParquetFile(arg).schema_arrow
            except (OSError, pa.ArrowException):
                return None
    return None


def annotation_type() -> Any:
    """The Arrow type of the ``dedup`` column: the annotation contract as a struct."""
    pa = _pyarrow()
    span = [("start", pa.int64()), ("end", pa.int64()), ("rule", pa.string()), ("score", pa.float64())]
    return pa.struct([
        ("cluster", pa.string()),
        ("keep", pa.bool_()),
        ("duplicate_of", pa.string()),
        ("similarity", pa.float64()),
        ("original_chars", pa.int64()),
        ("boilerplate", pa.list_(pa.struct([*span, ("category", pa.string()), ("reason", pa.string())]))),
        ("repeats", pa.list_(pa.struct([*span, ("source", pa.struct([("id", pa.string()), ("start", pa.int64()), ("end", pa.int64())]))]))),
    ])


def write_parquet(records: Iterable[dict[str, Any]], out: Any, *, input_schema: Any = None) -> int:
    """Write ``records`` to the binary stream ``out`` as Parquet, in batches; returns the row count.

    Input columns keep ``input_schema`` when the input was Parquet, else their types are
    inferred from the first batch.
    """
    pa = _pyarrow()
    writer = None
    count = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal writer
        if not batch:
            return
        if writer is None:
            columns = [k for k in batch[0] if k != "dedup"]
            fields = [input_schema.field(c) if input_schema is not None and c in input_schema.names
                      else pa.table({c: [r.get(c) for r in batch]}).schema.field(c) for c in columns]
            schema = pa.schema([*fields, pa.field("dedup", annotation_type())])
            writer = pa.parquet.ParquetWriter(out, schema)
        writer.write_table(pa.Table.from_pylist(batch, schema=writer.schema))
        batch.clear()

    for record in records:
        batch.append(record)
        count += 1
        if len(batch) >= BATCH_ROWS:
            flush()
    flush()
    if writer is not None:
        writer.close()
    return count
