"""Random bytes, random JSON and random Unicode thrown at `dedup clean`: exit 0 or 2, never a
traceback, never a partial output file."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup.cli import main

# Text with lone surrogates too: JSON can escape them ("\\ud800"), and they are not Unicode.
_tricky = st.sampled_from(["a", " ", "\n", "\r", "\ud800", "\udfff", "\u200b", "é", "中", "\x1b", "<", "\U0001F600"])
any_text = st.text(st.characters(exclude_categories=()), max_size=40) | st.text(_tricky, max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["id", "text", "url", "x"]), inner, max_size=4),
    max_leaves=12,
)
records = st.lists(
    st.fixed_dictionaries({"text": any_text}, optional={"id": st.text(max_size=8) | st.integers(), "url": st.text(max_size=30)}),
    max_size=6,
)


def _run(content: bytes, name: str = "in.jsonl") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path, out = Path(tmp) / name, Path(tmp) / "out.jsonl"
        path.write_bytes(content)
        result = CliRunner().invoke(main, ["clean", str(path), "-o", str(out)])
        assert result.exit_code in (0, 2), (result.exit_code, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.output
        leftovers = {p.name for p in Path(tmp).iterdir()} - {name, "out.jsonl"}
        assert not leftovers
        if result.exit_code == 2:
            assert not out.exists()
            assert len(result.stderr.strip().splitlines()) == 1
        else:
            assert out.exists()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes(content: bytes) -> None:
    _run(content)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(json_values, max_size=5))
def test_random_json_lines(values: list) -> None:
    _run("\n".join(json.dumps(v) for v in values).encode())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records, st.booleans())
def test_random_unicode_records(rows: list, ascii_escapes: bool) -> None:
    # ASCII escapes let lone surrogates through as valid JSON ("\\ud800"); raw, they are bad UTF-8.
    _run("\n".join(json.dumps(r, ensure_ascii=ascii_escapes) for r in rows).encode("utf-8", "surrogatepass"))


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=300))
def test_random_text_file(text: str) -> None:
    _run(text.encode("utf-8", "surrogatepass"), name="doc.txt")
