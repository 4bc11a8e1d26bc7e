"""Parquet in and out: every input column kept, the annotation as a struct column, same findings as JSONL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup.cli import main

from .conftest import DATA, read_jsonl

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install 'dedup[parquet]')")
pq = pytest.importorskip("pyarrow.parquet")


def _rows() -> list[dict]:
    rows = [json.loads(line) for line in (DATA / "near.jsonl").read_text().splitlines()]
    for i, row in enumerate(rows):
        row["n"] = i
    return rows


def test_parquet_in_parquet_out_matches_jsonl(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(_rows()), src)
    out = tmp_path / "out.parquet"
    assert runner.invoke(main, ["clean", str(src), "--annotate-only", "-o", str(out)]).exit_code == 0
    table = pq.read_table(out)
    assert table.schema.field("n").type == pa.int64()  # input columns keep their types
    assert table.column_names == ["id", "text", "url", "n", "dedup"]
    got = table.to_pylist()
    jsonl = read_jsonl(runner.invoke(main, ["clean", str(DATA / "near.jsonl"), "--annotate-only"]).stdout)
    assert [r["text"] for r in got] == [r["text"] for r in jsonl]
    for parquet_row, json_row in zip(got, jsonl, strict=True):
        ann = {k: v for k, v in parquet_row["dedup"].items() if k != "original_chars"}
        assert ann == json_row["dedup"]


def test_parquet_clean_drops_duplicates(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(_rows()), src)
    result = runner.invoke(main, ["clean", str(src)])
    assert [r["id"] for r in read_jsonl(result.stdout)] == ["a", "b", "d"]


def test_bad_parquet(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(main, ["clean", str(bad), "-o", str(out)])
    assert result.exit_code == 2 and "bad.parquet: cannot read Parquet" in result.stderr
    assert not out.exists()
    no_text = tmp_path / "notext.parquet"
    pq.write_table(pa.Table.from_pylist([{"id": "a", "body": "x"}]), no_text)
    result = runner.invoke(main, ["clean", str(no_text)])
    assert result.exit_code == 2 and "no 'text' column" in result.stderr


def test_streaming_parquet_in_and_out(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(_rows()), src)
    out = tmp_path / "out.parquet"
    result = runner.invoke(main, ["clean", str(src), "--streaming", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert pq.read_table(out).column("id").to_pylist() == ["a", "b", "d"]
