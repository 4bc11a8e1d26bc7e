"""Hugging Face ``datasets`` adapter (``pip install 'dedup[datasets]'``).

Near-duplicate clusters and corpus evidence need the whole column, so the text is scanned once;
the annotation is then attached with a batched ``map`` and, for :func:`clean`, rows are dropped
with a batched ``filter``, so the dataset itself stays on disk (Arrow) as datasets keep it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import Config
from .errors import InputError
from .model import Document
from .pipeline import records, scan_documents

if TYPE_CHECKING:
    import datasets as hf

COLUMNS = ("cluster", "keep", "duplicate_of", "similarity", "boilerplate", "repeats")


def _annotations(ds: hf.Dataset, text_col: str, id_col: str | None, config: Config | None, *, annotate_only: bool) -> list[dict[str, Any]]:
    if text_col not in ds.column_names:
        raise InputError(f"no column {text_col!r} in the dataset (columns: {', '.join(ds.column_names)})")
    cfg = config or Config()
    texts = ds[text_col]
    ids = [str(i) for i in (ds[id_col] if id_col else range(len(texts)))]
    field = cfg.input.text_field
    docs = [Document(id=i, text=t, record={field: t}) for i, t in zip(ids, texts, strict=True)]
    report, docs = scan_documents(docs, cfg)
    out = list(records(report, docs, cfg, annotate_only=True))
    if not annotate_only:
        cleaned = iter(records(report, docs, cfg, annotate_only=False))
        out = [next(cleaned) if r["dedup"]["keep"] else r for r in out]
    return out


def annotate(ds: hf.Dataset, *, text_col: str = "text", id_col: str | None = None, config: Config | None = None) -> hf.Dataset:
    """``ds`` with a ``dedup_<field>`` column for each field of the annotation contract, text unchanged.

    Rows are named by ``id_col`` when given, else by position, as in ``dedup_duplicate_of``.
    """
    anns = [r["dedup"] for r in _annotations(ds, text_col, id_col, config, annotate_only=True)]

    def add(batch: dict[str, list[Any]], indices: list[int]) -> dict[str, list[Any]]:
        return {f"dedup_{c}": [anns[i][c] for i in indices] for c in COLUMNS}

    return ds.map(add, batched=True, with_indices=True)


def clean(ds: hf.Dataset, *, text_col: str = "text", id_col: str | None = None, config: Config | None = None) -> hf.Dataset:
    """What ``dedup clean`` keeps: dropped near-duplicates filtered out, flagged spans cut from
    ``text_col``, annotation columns added."""
    cfg = config or Config()
    recs = _annotations(ds, text_col, id_col, cfg, annotate_only=False)

    def add(batch: dict[str, list[Any]], indices: list[int]) -> dict[str, list[Any]]:
        out = {f"dedup_{c}": [recs[i]["dedup"][c] for i in indices] for c in COLUMNS}
        out[text_col] = [recs[i][cfg.input.text_field] for i in indices]
        return out

    annotated = ds.map(add, batched=True, with_indices=True)
    return annotated.filter(lambda keep: keep, input_columns="dedup_keep", batched=False)
