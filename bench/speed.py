#!/usr/bin/env python3
"""Speed, memory and pair accuracy against datasketch used as its documentation shows.

    python bench/speed.py [--n 10000] [--corpus DIR] [--data ../shared/bench]

On one corpus from bench/make_corpus.py, each row is a separate process, timed from outside,
I/O included, with that process's own peak memory:
  (a) reference: datasketch ``MinHash.update_batch`` over word 5-gram shingles and
      ``MinHashLSH(threshold=0.5)``, insert then query, as its documentation shows;
  (b) ``dedup clean --only duplicates``;
  (c) ``dedup clean`` with every stage.
Ratios are throughput relative to (a) in the same run. Pair precision and recall are against
the planted copies: a predicted pair is right when both documents descend from the same original;
recall counts planted copies whose 5-gram Jaccard with their original is at least 0.5.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def reference(corpus: Path, out: Path) -> None:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    sketches = {}
    with corpus.open(encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            words = record["text"].lower().split()
            m = MinHash(num_perm=128)
            m.update_batch([" ".join(words[i : i + 5]).encode("utf-8") for i in range(max(len(words) - 4, 1))])
            lsh.insert(record["id"], m)
            sketches[record["id"]] = m
    with out.open("w", encoding="utf-8") as f:
        for key, m in sketches.items():
            for other in lsh.query(m):
                if other > key:
                    f.write(json.dumps([key, other]) + "\n")


def run(argv: list[str]) -> tuple[float, float]:
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(argv[:4])}... failed")
    return time.perf_counter() - t0, usage.ru_maxrss / 1024


def pairs_from_annotations(path: Path) -> set[tuple[str, str]]:
    clusters: dict[str, list[str]] = {}
    for record in map(json.loads, path.open(encoding="utf-8")):
        if record["dedup"]["cluster"] is not None:
            clusters.setdefault(record["dedup"]["cluster"], []).append(record["id"])
    return {tuple(sorted(p)) for members in clusters.values() for p in itertools.combinations(members, 2)}  # type: ignore[misc]


def score(pairs: set[tuple[str, str]], truth: list[dict]) -> tuple[float, float]:
    root: dict[str, str] = {}
    for t in truth:
        root[t["copy"]] = root.get(t["original"], t["original"])
    right = sum(1 for a, b in pairs if root.get(a, a) == root.get(b, b))
    wanted = [t for t in truth if t["jaccard5"] >= 0.5]
    found = sum(1 for t in wanted if tuple(sorted((t["copy"], t["original"]))) in pairs)
    return (right / len(pairs) if pairs else 1.0), (found / len(wanted) if wanted else 1.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--corpus", type=Path, help="a folder written by bench/make_corpus.py")
    ap.add_argument("--data", default=str(HERE.parents[1].parent / "shared" / "bench"))
    ap.add_argument("--reference", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.reference:
        reference(*args.reference)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.corpus or Path(tmp) / "corpus"
        if args.corpus is None:
            maker = [sys.executable, str(HERE.with_name("make_corpus.py")), str(folder), "--n", str(args.n), "--data", args.data]
            subprocess.run(maker, check=True)
        corpus, truth_path = folder / "corpus.jsonl", folder / "truth.jsonl"
        truth = [json.loads(line) for line in truth_path.open(encoding="utf-8")]
        mb = corpus.stat().st_size / 1e6
        n_docs = sum(1 for _ in corpus.open(encoding="utf-8"))
        out = Path(tmp) / "out.jsonl"
        clean = [sys.executable, "-m", "dedup", "clean", str(corpus), "--annotate-only", "-o", str(out)]
        rows = [
            ("(a) datasketch reference", [sys.executable, str(HERE), "--reference", str(corpus), str(out)]),
            ("(b) dedup --only duplicates", [*clean, "--only", "duplicates"]),
            ("(c) dedup, all stages", clean),
        ]
        print(f"{n_docs:,} documents, {mb:.1f} MB, {len(truth):,} planted copies")
        base = None
        for label, argv in rows:
            secs, peak = run(argv)
            base = base or secs
            if label.startswith("(a)"):
                pairs = {tuple(json.loads(line)) for line in out.open(encoding="utf-8")}
            else:
                pairs = pairs_from_annotations(out)
            precision, recall = score(pairs, truth)  # type: ignore[arg-type]
            print(f"{label:<30} {secs:7.1f}s {mb / secs:6.2f} MB/s {n_docs / secs:8,.0f} docs/s  peak {peak:6,.0f} MB  "
                  f"{base / secs:5.2f}x  P={precision:.3f} R={recall:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
