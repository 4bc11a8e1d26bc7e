#!/usr/bin/env python3
"""What each stage costs, in one process, on the same corpus.

    python bench/stage_cost.py [--data ../shared/bench] [--n 2000]

The corpus is the one bench/html_report.py builds: N stretches of 1,000-6,000 characters cut
from the 378 Webis pages, a fifth of them lightly edited copies. Stretches of the same pages
overlap, so many passages really are shared: a hard case for passage detection. Each
configuration runs twice after a warm-up run, and the best time is kept. Times are reported as
ratios to document-level detection alone.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from html_report import corpus  # noqa: E402

import dedup  # noqa: E402

RUNS = (("duplicates",), ("duplicates", "repeats"), ("duplicates", "boilerplate"), ("duplicates", "repeats", "boilerplate"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "bench"))
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    pages = [json.loads(line)["text"] for line in open(Path(args.data) / "neardup" / "webis_docs.jsonl", encoding="utf-8")]
    records = corpus(pages, args.n, random.Random(args.seed))
    mb = sum(len(r["text"].encode()) for r in records) / 1e6
    dedup.scan(records[:200], dedup.Config())  # warm-up: imports, caches
    base = None
    for only in RUNS:
        best = min(_time(records, only) for _ in range(2))
        base = base or best
        print(f"{' + '.join(only):<38} {best:6.2f}s  {mb / best:5.2f} MB/s  {best / base:4.2f}x")
    return 0


def _time(records: list[dict], only: tuple[str, ...]) -> float:
    t0 = time.perf_counter()
    dedup.scan(records, dedup.Config(only=only))
    return time.perf_counter() - t0


if __name__ == "__main__":
    raise SystemExit(main())
