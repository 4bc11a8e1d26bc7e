"""pandas adapter: annotate or clean a DataFrame of documents (``pip install 'dedup[pandas]'``).

>>> import pandas as pd, dedup.pandas
>>> df = pd.DataFrame({"text": ["same words here", "Same words, here!", "other"]})
>>> dedup.pandas.annotate(df)["dedup_keep"].tolist()
[True, False, True]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import Config
from .errors import InputError
from .model import Document, Report
from .pipeline import records, scan_documents

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ("cluster", "keep", "duplicate_of", "similarity", "boilerplate", "repeats")


def _scan(df: pd.DataFrame, text_col: str, id_col: str | None, config: Config | None) -> tuple[Config, Report, list[Document]]:
    if text_col not in df.columns:
        raise InputError(f"no column {text_col!r} in the DataFrame (columns: {', '.join(map(str, df.columns))})")
    cfg = config or Config()
    ids = df[id_col].astype(str).tolist() if id_col else [str(i) for i in range(len(df))]
    field = cfg.input.text_field
    docs = [Document(id=i, text=t, record={field: t}) for i, t in zip(ids, df[text_col].tolist(), strict=True)]
    report, docs = scan_documents(docs, cfg)
    return cfg, report, docs


def _columns(annotations: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {f"dedup_{c}": [a[c] for a in annotations] for c in COLUMNS}


def annotate(df: pd.DataFrame, *, text_col: str = "text", id_col: str | None = None, config: Config | None = None) -> pd.DataFrame:
    """``df`` with a ``dedup_<field>`` column for each field of the annotation contract, text unchanged.

    Rows are named by ``id_col`` when given, else by position ("0", "1", ...): those names are
    what ``dedup_duplicate_of`` and repeat sources refer to. A null of the contract is pandas'
    missing value in the column (``NaN``/``NA``).
    """
    cfg, report, docs = _scan(df, text_col, id_col, config)
    return df.assign(**_columns([r["dedup"] for r in records(report, docs, cfg, annotate_only=True)]))


def clean(df: pd.DataFrame, *, text_col: str = "text", id_col: str | None = None, config: Config | None = None) -> pd.DataFrame:
    """What ``dedup clean`` keeps: rows of dropped near-duplicates left out, flagged spans cut
    from ``text_col``, annotation columns added (offsets index the original text)."""
    cfg, report, docs = _scan(df, text_col, id_col, config)
    keep = [r["dedup"]["keep"] for r in records(report, docs, cfg, annotate_only=True)]
    cleaned = list(records(report, docs, cfg, annotate_only=False))
    out = df[keep].copy()
    out[text_col] = [r[cfg.input.text_field] for r in cleaned]
    return out.assign(**_columns([r["dedup"] for r in cleaned]))
