"""Outputs validate against the JSON Schemas published in dedup/schema/."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from dedup.cli import main

from .conftest import DATA, SEEDS, read_jsonl

SCHEMA = Path(__file__).resolve().parents[1] / "dedup" / "schema"


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMA / name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_clean_annotations_match_schema(runner: CliRunner) -> None:
    validator = _validator("annotation.schema.json")
    for args in (["--annotate-only"], []):
        out = runner.invoke(main, ["clean", str(SEEDS), str(DATA / "near.jsonl"), *args]).stdout
        records = read_jsonl(out)
        assert records
        for record in records:
            validator.validate(record["dedup"])


def test_schema_rejects_a_broken_annotation() -> None:
    validator = _validator("annotation.schema.json")
    bad = {"cluster": None, "keep": True, "duplicate_of": None, "similarity": 1.5, "boilerplate": [], "repeats": []}
    assert list(validator.iter_errors(bad))


def test_report_json_matches_schema(runner: CliRunner) -> None:
    out = runner.invoke(main, ["report", str(SEEDS), str(DATA / "near.jsonl"), "--format", "json"]).stdout
    data = json.loads(out)
    _validator("report.schema.json").validate(data)
    assert data["version"] == 1
