"""The examples in docs/pipelines.md run as written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DATA

DOC = Path(__file__).resolve().parents[1] / "docs" / "pipelines.md"
BLOCK = re.compile(r"```(sh|python)\n(.*?)```", re.S)


def test_pipeline_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pandas", reason="the pandas examples need pandas (pip install 'dedup[pandas]')")
    pytest.importorskip("datasets", reason="the datasets examples need datasets (pip install 'dedup[datasets]')")
    pytest.importorskip("distributed", reason="the Dask examples need Dask (pip install 'dedup[dask]')")
    shutil.copy(DATA / "near.jsonl", tmp_path / "corpus.jsonl")
    monkeypatch.chdir(tmp_path)
    # The sh examples call `dedup`: the one installed beside this Python.
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    namespace: dict[str, object] = {}
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    for kind, code in blocks:
        if kind == "sh":
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", code], env=env, capture_output=True, text=True)
            assert done.returncode == 0, f"{code}\n{done.stderr}"
        else:
            exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102
    assert (tmp_path / "cleaned.jsonl").read_text().count("\n") == 3
