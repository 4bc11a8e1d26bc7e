#!/usr/bin/env python3
"""Throughput and peak memory at the extremes: one huge document, and a million tiny ones.

    python bench/extremes.py [--data ../shared/bench] [--big-mb 100] [--tiny 1000000] [--only STAGE ...]

The huge document is the text of every page of ../shared/bench (Webis and the boilerplate
pages, about 45 MB of distinct text) repeated up to --big-mb; the tiny documents are 20-99 byte
stretches of the same text, 10% of them exact copies. Each run is a separate `dedup clean`
process, timed from outside, with the peak memory of its process tree (see bench/speed.py).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path


def source_text(data: Path) -> str:
    parts = []
    for path in [data / "neardup" / "webis_docs.jsonl", *sorted((data / "boilerplate").glob("*.jsonl"))]:
        for line in path.open(encoding="utf-8"):
            parts.append(json.loads(line)["text"])
    return "\n".join(parts)


def run(inp: Path, out: Path, extra: list[str]) -> tuple[float, float]:
    """Seconds and peak memory (MB) of one `dedup clean` process and its workers, measured as
    in bench/speed.py (the largest sum of proportional set sizes over the process tree)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from speed import run as measured

    return measured([sys.executable, "-m", "dedup", "clean", str(inp), "-o", str(out), *extra])


def write_inputs(data: Path, big: Path, tiny: Path, big_bytes: int, n_tiny: int) -> None:
    """Both input files. Written by a process of its own: a child's peak memory counts its
    parent's resident memory at the time it was started, so the measuring parent stays small."""
    text = source_text(data)
    body = (text * (big_bytes // len(text.encode()) + 1))[:big_bytes]
    big.write_text(json.dumps({"id": "big", "text": body}, ensure_ascii=False) + "\n", encoding="utf-8")
    del body
    rng = random.Random(1)
    with tiny.open("w", encoding="utf-8") as f:
        previous: list[str] = []
        for i in range(n_tiny):
            if previous and rng.random() < 0.1:
                piece = rng.choice(previous)
            else:
                start = rng.randrange(len(text) - 100)
                piece = text[start : start + rng.randint(20, 99)]
                previous.append(piece)
                if len(previous) > 1000:
                    previous.pop(0)
            f.write(json.dumps({"id": i, "text": piece}, ensure_ascii=False) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "bench"))
    ap.add_argument("--big-mb", type=float, default=100)
    ap.add_argument("--tiny", type=int, default=1_000_000)
    ap.add_argument("--only", action="append", default=[], help="stages to run (repeatable); default: each alone, then all")
    ap.add_argument("--write-inputs", nargs=2, metavar=("BIG", "TINY"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.write_inputs:
        write_inputs(Path(args.data), Path(args.write_inputs[0]), Path(args.write_inputs[1]), int(args.big_mb * 1e6), args.tiny)
        return 0
    runs = [["--only", s] for s in args.only] if args.only else [["--only", "duplicates"], []]
    target = int(args.big_mb * 1e6)
    with tempfile.TemporaryDirectory() as tmp:
        big, tiny = Path(tmp) / "big.jsonl", Path(tmp) / "tiny.jsonl"
        subprocess.run([sys.executable, __file__, "--data", args.data, "--big-mb", str(args.big_mb), "--tiny", str(args.tiny),
                        "--write-inputs", str(big), str(tiny)], check=True)
        size = big.stat().st_size / 1e6
        for extra in runs:
            secs, peak = run(big, Path(tmp) / "out.jsonl", ["--max-doc-bytes", str(2 * target), *extra])
            label = " ".join(extra) or "all stages"
            print(f"one {size:.0f} MB document, {label:<18}: {secs:7.1f}s {size / secs:6.2f} MB/s, peak {peak:,.0f} MB", flush=True)
        size = tiny.stat().st_size / 1e6
        for extra in runs:
            secs, peak = run(tiny, Path(tmp) / "out.jsonl", extra)
            label = " ".join(extra) or "all stages"
            print(f"{args.tiny:,} tiny documents ({size:.0f} MB), {label:<18}: {secs:7.1f}s {args.tiny / secs:,.0f} docs/s, "
                  f"peak {peak:,.0f} MB", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
