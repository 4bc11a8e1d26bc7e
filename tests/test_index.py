"""The persistent index: adding in halves equals one run, settings are checked, writes survive kill -9,
and the Redis back end gives the SQLite one's results."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup.cli import main

from .conftest import SEEDS, read_jsonl

SITE_LINES = (
    "Subscribe to the Example Gazette newsletter for the morning briefing",
    "Copyright Example Gazette Group, all rights reserved in every country",
)


def _paragraphs(text: str) -> list[str]:
    return [p for p in (line.strip() for line in text.splitlines()) if len(p.split()) >= 8]


def _edit(text: str, rate: float, rng: random.Random) -> str:
    words = text.split()
    for _ in range(int(len(words) * rate)):
        i = rng.randrange(len(words))
        words[i] = words[i][::-1]
    return " ".join(words)


def _corpus(tag: str, seed: int) -> list[dict[str, str]]:
    """Documents made from the seeds: near copies, exact copies, documents that borrow paragraphs
    from other documents, and site lines (boilerplate that only corpus evidence finds)."""
    rng = random.Random(seed)
    seeds = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    paragraphs = [para for s in seeds for para in _paragraphs(s)]
    docs: list[dict[str, str]] = []
    for i, text in enumerate(seeds):
        kind = rng.choice(["near", "exact", "borrow", "site"])
        if kind == "near":
            text = _edit(text, 0.03, rng)
        elif kind == "borrow":
            start = rng.randrange(len(paragraphs) - 3)
            own = _paragraphs(text)[: rng.randint(3, 8)]
            text = "\n".join(own + [_edit(p, 0.05, rng) for p in paragraphs[start : start + 3]])
        elif kind == "site":
            own = _paragraphs(text)
            cut = rng.randint(2, max(3, len(own) - 1))
            text = "\n".join([SITE_LINES[0], *own[:cut], SITE_LINES[1]])
        docs.append({"id": f"{tag}{i}", "text": text, "site": "example.com"})
    return docs


def _write(path: Path, docs: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    return path


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _annotations(out: str) -> dict[str, dict[str, object]]:
    found = {}
    for record in read_jsonl(out):
        ann = dict(record["dedup"])
        ann.pop("cluster")  # cluster numbers count the clusters of the run
        found[record["id"]] = ann
    return found


@pytest.fixture
def halves(tmp_path: Path) -> tuple[Path, Path, Path]:
    rng = random.Random(7)
    docs = [d for k in range(4) for d in _corpus(f"d{k}-", k)]
    rng.shuffle(docs)
    half = len(docs) // 2
    return _write(tmp_path / "a.jsonl", docs[:half]), _write(tmp_path / "b.jsonl", docs[half:]), _write(tmp_path / "all.jsonl", docs)


def test_against_index_gives_the_findings_of_one_run(halves: tuple[Path, Path, Path], tmp_path: Path) -> None:
    a, b, everything = halves
    opts = ["--site-field", "site"]
    whole = _annotations(_run("clean", "--annotate-only", str(everything), *opts))
    index = str(tmp_path / "ix.db")
    _run("index", "add", index, str(a), *opts)
    against = _annotations(_run("clean", "--annotate-only", str(b), "--against", index, *opts))
    assert set(against) == {json.loads(line)["id"] for line in b.read_text().splitlines()}
    assert against == {k: whole[k] for k in against}
    a_ids = {json.loads(line)["id"] for line in a.read_text().splitlines()}
    # The corpus exercises every kind of finding that crosses the halves.
    assert any(ann["duplicate_of"] in a_ids for ann in against.values())
    assert any(r["source"]["id"] in a_ids for ann in against.values() for r in ann["repeats"])  # type: ignore[attr-defined]
    assert any(s["rule"] == "C001" for ann in against.values() for s in ann["boilerplate"])  # type: ignore[attr-defined]


def _query(tmp_path: Path) -> Path:
    docs = _corpus("q", 11) + _corpus("r", 12)
    return _write(tmp_path / "query.jsonl", docs)


def test_adding_in_halves_equals_adding_at_once(halves: tuple[Path, Path, Path], tmp_path: Path) -> None:
    a, b, everything = halves
    opts = ["--site-field", "site"]
    two, one = str(tmp_path / "two.db"), str(tmp_path / "one.db")
    _run("index", "add", two, str(a), *opts)
    _run("index", "add", two, str(b), *opts)
    _run("index", "add", one, str(everything), *opts)
    query = str(_query(tmp_path))
    from_two = _run("clean", "--annotate-only", query, "--against", two, *opts)
    from_one = _run("clean", "--annotate-only", query, "--against", one, *opts)
    assert from_two == from_one
    assert any(r["dedup"]["duplicate_of"] for r in read_jsonl(from_one))
    stats_two, stats_one = json.loads(_run("index", "stats", two)), json.loads(_run("index", "stats", one))
    for key in ("documents", "kept_documents", "band_keys", "line_keys"):
        assert stats_two[key] == stats_one[key], key


def test_index_refuses_other_settings_and_known_ids(halves: tuple[Path, Path, Path], tmp_path: Path) -> None:
    a, _, _ = halves
    index = str(tmp_path / "ix.db")
    _run("index", "add", index, str(a))
    result = CliRunner().invoke(main, ["clean", str(a), "--against", index, "--shingle-size", "4"])
    assert result.exit_code == 2
    assert "shingle_size=5 (now 4)" in result.stderr
    result = CliRunner().invoke(main, ["index", "add", index, str(a)])
    assert result.exit_code == 2
    assert "already in index" in result.stderr and f"{a}:1" in result.stderr
    missing = CliRunner().invoke(main, ["clean", str(a), "--against", str(tmp_path / "nope.db")])
    assert missing.exit_code == 2 and "no such index" in missing.stderr
    assert not (tmp_path / "nope.db").exists()
    not_index = CliRunner().invoke(main, ["clean", str(a), "--against", str(a)])
    assert not_index.exit_code == 2 and "not a dedup index" in not_index.stderr


def test_remove_hands_the_cluster_to_the_next_member(tmp_path: Path) -> None:
    text = (SEEDS / "001_8079b883e0f38971.txt").read_text(encoding="utf-8")
    rng = random.Random(3)
    docs = [
        {"id": "first", "text": text},
        {"id": "second", "text": _edit(text, 0.02, rng)},
        {"id": "other", "text": "unrelated words " * 20},
    ]
    index = str(tmp_path / "ix.db")
    _run("index", "add", index, str(_write(tmp_path / "in.jsonl", docs)))
    query = str(_write(tmp_path / "q.jsonl", [{"id": "new", "text": _edit(text, 0.02, rng)}]))
    assert read_jsonl(_run("clean", "--annotate-only", query, "--against", index))[0]["dedup"]["duplicate_of"] == "first"
    _run("index", "remove", index, "first")
    assert json.loads(_run("index", "stats", index))["documents"] == 2
    assert read_jsonl(_run("clean", "--annotate-only", query, "--against", index))[0]["dedup"]["duplicate_of"] == "second"
    result = CliRunner().invoke(main, ["index", "remove", index, "first"])
    assert result.exit_code == 2 and "not in the index: 'first'" in result.stderr


def _line_counts(index: str) -> list[tuple[int, str, int]]:
    db = sqlite3.connect(index)
    try:
        return sorted(db.execute("SELECT key, site, docs FROM lines"))
    finally:
        db.close()


def test_line_counts_are_of_the_documents_cleaning_keeps(tmp_path: Path) -> None:
    """Three copies of a page are one document to the index's line counts, as to a run over
    the corpus: each of its lines is counted once; removing the kept copy hands the count to
    the next, as an index built without it has it."""
    text = sorted(SEEDS.glob("*.txt"))[1].read_text(encoding="utf-8")
    docs = [{"id": name, "text": text, "site": "example.com"} for name in ("first", "second", "third")]
    docs.append({"id": "other", "text": "unrelated words " * 20, "site": "example.com"})
    opts = ["--site-field", "site"]
    whole, without = str(tmp_path / "whole.db"), str(tmp_path / "without.db")
    _run("index", "add", whole, str(_write(tmp_path / "all.jsonl", docs)), *opts)
    counts = _line_counts(whole)
    assert counts and all(n == 1 for _, _, n in counts)
    _run("index", "remove", whole, "first")
    _run("index", "add", without, str(_write(tmp_path / "rest.jsonl", docs[1:])), *opts)
    assert _line_counts(whole) == _line_counts(without) == counts


def test_kill_during_add_leaves_the_index_as_before(halves: tuple[Path, Path, Path], tmp_path: Path) -> None:
    a, b, _ = halves
    index = tmp_path / "ix.db"
    _run("index", "add", str(index), str(a))
    before = json.loads(_run("index", "stats", str(index)))
    big = _write(tmp_path / "big.jsonl", [dict(d, id=f"{d['id']}-{n}") for n in range(6) for d in read_jsonl(b.read_text())])
    journal = Path(str(index) + "-journal")
    command = [sys.executable, "-m", "dedup", "index", "add", str(index), str(big)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not journal.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    assert journal.exists(), "the add finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert sqlite3.connect(index).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    after = json.loads(_run("index", "stats", str(index)))
    assert {k: after[k] for k in ("documents", "band_keys", "passage_keys", "line_keys")} == {
        k: before[k] for k in ("documents", "band_keys", "passage_keys", "line_keys")
    }
    _run("index", "add", str(index), str(b))  # and the index takes the batch again
    assert json.loads(_run("index", "stats", str(index)))["documents"] == before["documents"] + len(b.read_text().splitlines())


@pytest.fixture
def redis_url() -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (Debian package redis-server); the Redis index is untested here")
    pytest.importorskip("redis", reason="the redis package is not installed (pip install 'dedup[redis]')")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait()


def test_redis_index_gives_the_sqlite_results(halves: tuple[Path, Path, Path], tmp_path: Path, redis_url: str) -> None:
    a, b, _ = halves
    opts = ["--site-field", "site"]
    sqlite_index = str(tmp_path / "ix.db")
    for index in (redis_url, sqlite_index):
        _run("index", "add", index, str(a), *opts)
        _run("index", "add", index, str(b), *opts)
    query = str(_query(tmp_path))
    from_redis = _run("clean", "--annotate-only", query, "--against", redis_url, *opts)
    assert from_redis == _run("clean", "--annotate-only", query, "--against", sqlite_index, *opts)
    stats = json.loads(_run("index", "stats", redis_url))
    assert stats["documents"] == json.loads(_run("index", "stats", sqlite_index))["documents"]
    # Another prefix is another index in the same database.
    other = redis_url + "?prefix=other"
    result = CliRunner().invoke(main, ["clean", query, "--against", other])
    assert result.exit_code == 2 and "empty index" in result.stderr


def test_index_without_passages_is_refused_for_repeats(halves: tuple[Path, Path, Path], tmp_path: Path) -> None:
    a, b, _ = halves
    index = str(tmp_path / "ix.db")
    _run("index", "add", index, str(a), "--only", "duplicates")
    assert json.loads(_run("index", "stats", index))["passage_keys"] == 0
    result = CliRunner().invoke(main, ["clean", str(b), "--against", index])
    assert result.exit_code == 2 and "holds no passages" in result.stderr
    out = read_jsonl(_run("clean", "--annotate-only", str(b), "--against", index, "--only", "duplicates"))
    assert any(r["dedup"]["duplicate_of"] for r in out)
    _run("index", "remove", index, json.loads(a.read_text().splitlines()[0])["id"])
