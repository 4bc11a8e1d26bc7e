"""The Hugging Face datasets adapter gives what the CLI gives on the same data (local data only)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dedup.cli import main

from .conftest import DATA, SEEDS, read_jsonl

hf = pytest.importorskip("datasets", reason="datasets is not installed (pip install 'dedup[datasets]')")
import dedup.datasets  # noqa: E402


def _rows() -> list[dict]:
    rows = [json.loads(line) for line in (DATA / "near.jsonl").read_text().splitlines()]
    rows += [{"id": p.name, "text": p.read_text(encoding="utf-8"), "url": None} for p in sorted(SEEDS.iterdir())]
    return rows


def _cli(runner: CliRunner, rows: list[dict], tmp_path, *args: str) -> list[dict]:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return read_jsonl(runner.invoke(main, ["clean", str(path), *args]).stdout)


def test_annotate_matches_the_cli(runner: CliRunner, tmp_path) -> None:
    rows = _rows()
    ds = hf.Dataset.from_list(rows)
    out = dedup.datasets.annotate(ds, id_col="id")
    cli = _cli(runner, rows, tmp_path, "--annotate-only")
    assert out["text"] == [r["text"] for r in rows]
    for column in dedup.datasets.COLUMNS:
        assert out[f"dedup_{column}"] == [r["dedup"][column] for r in cli], column


def test_clean_matches_the_cli(runner: CliRunner, tmp_path) -> None:
    rows = _rows()
    out = dedup.datasets.clean(hf.Dataset.from_list(rows), id_col="id")
    cli = _cli(runner, rows, tmp_path)
    assert out["id"] == [r["id"] for r in cli]
    assert out["text"] == [r["text"] for r in cli]
