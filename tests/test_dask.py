"""--engine dask on a real scheduler and two worker processes gives the local engine's bytes."""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup.cli import main

from .conftest import read_jsonl
from .test_index import _corpus

pytest.importorskip("distributed", reason="Dask is not installed (pip install 'dedup[dask]')")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the Dask scheduler exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the Dask scheduler did not start")


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A dask scheduler and two single-threaded worker processes on 127.0.0.1."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--dashboard-address", ":0", "--no-show"], **quiet)]  # type: ignore[call-overload]
    try:
        _wait_for(port, procs[0])
        for _ in range(2):
            procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                           "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1"], **quiet))  # type: ignore[call-overload]
        from distributed import Client

        with Client(address, timeout=60) as c:
            c.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


SHARD_OF: dict[str, str] = {}


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three shards (two JSONL, one Parquet) with near and exact copies planted across them;
    ``SHARD_OF`` maps each document id to its shard's name."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path_factory.mktemp("shards")
    rng = random.Random(5)
    docs = [d for k in range(5) for d in _corpus(f"d{k}-", 20 + k)]
    rng.shuffle(docs)
    third = len(docs) // 3
    paths = []
    for i, part in enumerate((docs[:third], docs[third : 2 * third], docs[2 * third :])):
        if i == 2:
            path = folder / f"shard-{i}.parquet"
            pq.write_table(pa.Table.from_pylist(part), path)
        else:
            path = folder / f"shard-{i}.jsonl"
            path.write_text("".join(json.dumps(d) + "\n" for d in part), encoding="utf-8")
        paths.append(path)
        SHARD_OF.update({d["id"]: path.name for d in part})
    return paths


def _local(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _dask(out: Path, *args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--engine", "dask", "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return "".join(p.read_text(encoding="utf-8") for p in sorted(out.glob("part-*.jsonl")))


@pytest.mark.parametrize("mode", [["--annotate-only"], []], ids=["annotate", "clean"])
def test_dask_engine_gives_the_local_engine_output(scheduler: str, shards: list[Path], tmp_path: Path, mode: list[str]) -> None:
    paths = [str(p) for p in shards]
    opts = ["--site-field", "site", *mode]
    local = _local("clean", *paths, *opts)
    distributed = _dask(tmp_path / "out", "clean", str(shards[0].parent), *opts, "--scheduler", scheduler)
    assert distributed == local
    records = read_jsonl(local)
    if mode:
        # The corpus puts findings across shards: clusters with members in two shards, repeats
        # whose source is in another shard, corpus boilerplate.
        shard_of = SHARD_OF
        members: dict[str, set[str]] = {}
        for r in records:
            if r["dedup"]["cluster"]:
                members.setdefault(r["dedup"]["cluster"], set()).add(shard_of[r["id"]])
        assert any(len(s) > 1 for s in members.values())
        assert any(shard_of[x["source"]["id"]] != shard_of[r["id"]] for r in records for x in r["dedup"]["repeats"])
        assert any(s["rule"] == "C001" for r in records for s in r["dedup"]["boilerplate"])


def test_dask_report_equals_local_report(scheduler: str, shards: list[Path]) -> None:
    paths = [str(p) for p in shards]
    local = _local("report", *paths, "--format", "json")
    result = CliRunner().invoke(main, ["report", *paths, "--format", "json", "--engine", "dask", "--scheduler", scheduler])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads(local)


def test_dask_engine_errors_name_the_file_and_line(scheduler: str, shards: list[Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "text": "fine"}\n{"id": "y", "text": 3}\n', encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["clean", str(shards[0]), str(bad), "--engine", "dask", "--scheduler", scheduler, "-o", str(out)])
    assert result.exit_code == 2
    assert f"{bad}:2: field 'text' is int, not a string" in result.stderr
    assert not out.exists()
    result = CliRunner().invoke(main, ["clean", str(shards[0]), "--engine", "dask", "--scheduler", scheduler])
    assert result.exit_code == 2 and "give an output folder with -o DIR" in result.stderr


def test_a_second_run_into_the_same_folder_replaces_the_first(scheduler: str, shards: list[Path], tmp_path: Path) -> None:
    """Re-running a job writes over its output folder; a run with fewer input shards leaves no
    shard of the earlier run behind. The local engine refuses a folder with one line."""
    out = tmp_path / "out"
    paths = [str(p) for p in shards]
    first = _dask(out, "clean", *paths, "--annotate-only", "--scheduler", scheduler)
    assert sorted(p.name for p in out.glob("part-*.jsonl")) == ["part-00000.jsonl", "part-00001.jsonl", "part-00002.jsonl"]
    assert _dask(out, "clean", *paths, "--annotate-only", "--scheduler", scheduler) == first
    one = _dask(out, "clean", paths[0], "--annotate-only", "--scheduler", scheduler)
    assert [p.name for p in out.glob("part-*.jsonl")] == ["part-00000.jsonl"]
    assert one == _local("clean", paths[0], "--annotate-only")
    result = CliRunner().invoke(main, ["clean", paths[0], "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr == f"dedup: error: {out}: is a folder; give a file (a folder of shards is for --engine dask)\n"
