#!/usr/bin/env python3
"""The persistent index: size per document, add and query throughput, SQLite and Redis.

    python bench/index.py [--n 100000] [--query-share 0.1] [--only duplicates] [--corpus DIR]
                          [--data ../shared/bench] [--no-redis]

A corpus from bench/make_corpus.py is cut in two: the first 90% is added to an index, the
last 10% (which holds planted copies of documents in the first part) is checked with
``dedup clean --against``. Every row is a separate process timed from outside, with its own
peak memory. Reference rows in the same run: ``dedup clean`` over the whole corpus (what the
index saves repeating; adding is compared per document) and on the query part alone. "same as one run" compares the
query documents' annotations with those of one ``dedup clean`` over the whole corpus (cluster
numbers aside). Redis runs when ``redis-server`` and the ``redis`` package are installed;
its size is the server's ``used_memory`` growth.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))

from speed import run  # noqa: E402


def dedup(*args: str, out: Path | None = None) -> tuple[float, float]:
    argv = [sys.executable, "-m", "dedup", *args]
    if out is not None:
        argv += ["-o", str(out)]
    return run(argv)


def annotations(path: Path, ids: set[str] | None = None) -> dict[str, dict[str, object]]:
    found = {}
    for record in map(json.loads, path.open(encoding="utf-8")):
        if ids is None or record["id"] in ids:
            ann = dict(record["dedup"])
            ann.pop("cluster")
            found[record["id"]] = ann
    return found


def start_redis(tmp: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    server = shutil.which("redis-server")
    try:
        import redis  # noqa: F401
    except ImportError:
        return None
    if server is None:
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp)],
                            stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}/0"


def used_memory(url: str) -> int:
    import redis

    return int(redis.Redis.from_url(url).info("memory")["used_memory"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--query-share", type=float, default=0.1)
    ap.add_argument("--only", action="append", default=[], help="stages, as dedup --only (default: all)")
    ap.add_argument("--corpus", type=Path, help="a folder made by make_corpus.py (default: made here)")
    ap.add_argument("--data", type=Path, default=HERE.parents[2] / "shared" / "bench")
    ap.add_argument("--no-redis", action="store_true")
    ap.add_argument("--backend", action="append", choices=("sqlite", "redis"), help="only these stores (default: both)")
    args = ap.parse_args()
    only = [x for stage in args.only for x in ("--only", stage)]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        corpus_dir = args.corpus
        if corpus_dir is None:
            corpus_dir = tmp / "corpus"
            subprocess.run([sys.executable, str(HERE.parent / "make_corpus.py"), str(corpus_dir), "--n", str(args.n),
                            "--data", str(args.data)], check=True, stdout=subprocess.DEVNULL)
        lines = (corpus_dir / "corpus.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        cut = int(len(lines) * (1 - args.query_share))
        base, query, whole = tmp / "base.jsonl", tmp / "query.jsonl", corpus_dir / "corpus.jsonl"
        base.write_text("".join(lines[:cut]), encoding="utf-8")
        query.write_text("".join(lines[cut:]), encoding="utf-8")
        mb_base, mb_query = base.stat().st_size / 1e6, query.stat().st_size / 1e6
        n_base, n_query = cut, len(lines) - cut
        print(f"corpus: {len(lines):,} documents; index {n_base:,} ({mb_base:.1f} MB), query {n_query:,} ({mb_query:.1f} MB);"
              f" stages: {', '.join(args.only) or 'all'}", file=sys.stderr)

        rows: list[tuple[str, float, float, float, float, float | None, float | None]] = []

        def add(row: tuple[str, float, float, float, float, float | None, float | None]) -> None:
            rows.append(row)  # printed as it comes too, so a run stopped part-way still leaves figures
            size = "" if row[5] is None else f", {row[5]:,.0f} index bytes per document"
            same = "" if row[6] is None else f", same as one run: {row[6]:.4f}"
            print(f"{row[0]}: {row[1]:.1f} s, {row[2]:.0f} MB peak{size}{same}", file=sys.stderr, flush=True)

        t, mem = dedup("clean", "--annotate-only", str(whole), *only, out=tmp / "whole.jsonl")
        mb_whole = whole.stat().st_size / 1e6
        add(("(r1) clean, whole corpus", t, mem, len(lines) / t, mb_whole / t, None, None))
        t, mem = dedup("clean", str(query), *only, out=tmp / "ref_query.jsonl")
        add(("(r2) clean, query part alone", t, mem, n_query / t, mb_query / t, None, None))
        query_ids = {json.loads(line)["id"] for line in lines[cut:]}
        one_run = annotations(tmp / "whole.jsonl", query_ids)

        wanted = set(args.backend or ("sqlite", "redis"))
        backends = [("sqlite", str(tmp / "ix.db"))] if "sqlite" in wanted else []
        server = None if args.no_redis or "redis" not in wanted else start_redis(tmp)
        if server is not None:
            backends.append(("redis", server[1]))
        try:
            for name, location in backends:
                before = used_memory(location) if name == "redis" else 0
                t, mem = dedup("index", "add", location, str(base), *only, out=None)
                size = (used_memory(location) - before) if name == "redis" else Path(location).stat().st_size
                add((f"{name}: index add", t, mem, n_base / t, mb_base / t, size / n_base, None))
                t, mem = dedup("clean", "--annotate-only", str(query), "--against", location, *only, out=tmp / f"q_{name}.jsonl")
                got = annotations(tmp / f"q_{name}.jsonl")
                same = sum(got[k] == one_run[k] for k in got) / len(got)
                add((f"{name}: clean --against", t, mem, n_query / t, mb_query / t, None, same))
        finally:
            if server is not None:
                server[0].terminate()
                server[0].wait()

    print("| run | seconds | peak memory | docs/s | MB/s | index bytes/doc | same as one run |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, t, mem, dps, mbs, per_doc, same in rows:
        print(f"| {label} | {t:.1f} | {mem:.0f} MB | {dps:,.0f} | {mbs:.2f} | {'' if per_doc is None else f'{per_doc:,.0f}'} |"
              f" {'' if same is None else f'{same:.4f}'} |")
    for label, _, _, docs_per_s, *_ in rows[2:]:
        ref = rows[0] if "add" in label else rows[1]
        print(f"{label}: {docs_per_s / ref[3]:.2f}x the throughput (docs/s) of {ref[0]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
