"""The pandas adapter gives what the CLI gives on the same data."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dedup.cli import main

from .conftest import DATA, SEEDS, read_jsonl

pd = pytest.importorskip("pandas", reason="pandas is not installed (pip install 'dedup[pandas]')")
import dedup.pandas  # noqa: E402


def _frame() -> pd.DataFrame:
    rows = [json.loads(line) for line in (DATA / "near.jsonl").read_text().splitlines()]
    rows += [{"id": p.name, "text": p.read_text(encoding="utf-8")} for p in sorted(SEEDS.iterdir())]
    return pd.DataFrame(rows)


def _cli(runner: CliRunner, df: pd.DataFrame, tmp_path, *args: str) -> list[dict]:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"id": r.id, "text": r.text}, ensure_ascii=False) + "\n" for r in df.itertuples()), encoding="utf-8")
    return read_jsonl(runner.invoke(main, ["clean", str(path), *args]).stdout)


def test_annotate_matches_the_cli(runner: CliRunner, tmp_path) -> None:
    df = _frame()
    out = dedup.pandas.annotate(df, id_col="id")
    assert out["text"].tolist() == df["text"].tolist()
    cli = _cli(runner, df, tmp_path, "--annotate-only")
    for column in dedup.pandas.COLUMNS:
        values = [None if not isinstance(v, list) and pd.isna(v) else v for v in out[f"dedup_{column}"].tolist()]
        assert values == [r["dedup"][column] for r in cli], column
    assert out["dedup_keep"].tolist().count(False) == 2


def test_clean_matches_the_cli(runner: CliRunner, tmp_path) -> None:
    df = _frame()
    out = dedup.pandas.clean(df, id_col="id")
    cli = _cli(runner, df, tmp_path)
    assert out["id"].tolist() == [r["id"] for r in cli]
    assert out["text"].tolist() == [r["text"] for r in cli]
    assert out["dedup_boilerplate"].tolist() == [r["dedup"]["boilerplate"] for r in cli]


def test_missing_text_column() -> None:
    with pytest.raises(dedup.InputError, match="no column 'body'"):
        dedup.pandas.annotate(pd.DataFrame({"text": ["a"]}), text_col="body")
