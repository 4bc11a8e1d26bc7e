#!/usr/bin/env python3
"""Near-duplicate accuracy on the Webis ECIR 2020 pairs, overall and per subset.

    python bench/neardup.py [--data ../shared/bench] [-- extra dedup options]

Runs ``dedup clean --annotate-only`` on webis_docs.jsonl (the CLI, as a user would) and scores
the annotations with the shared ``score.py pairs`` (label >= 1 is a near-duplicate).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def score(pairs: list[dict], ann: dict[str, dict]) -> tuple[float, float, float, int, int, int]:
    tp = fp = fn = 0
    for p in pairs:
        a, b = ann.get(p["a"], {}), ann.get(p["b"], {})
        pred = a.get("cluster") is not None and a.get("cluster") == b.get("cluster")
        gold = p["label"] >= 1
        tp += pred and gold
        fp += pred and not gold
        fn += (not pred) and gold
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return prec, rec, f1, tp, fp, fn


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "bench"))
    ap.add_argument("extra", nargs="*", help="extra options passed to dedup clean")
    args = ap.parse_args()
    data = Path(args.data)
    docs, pairs_path = data / "neardup" / "webis_docs.jsonl", data / "neardup" / "webis_pairs.jsonl"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "annotated.jsonl"
        cmd = [sys.executable, "-m", "dedup", "clean", str(docs), "--annotate-only", "--only", "duplicates", "-o", str(out), *args.extra]
        subprocess.run(cmd, check=True)
        official = subprocess.run(
            [sys.executable, str(data / "score.py"), "pairs", str(pairs_path), str(out)],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        ann = {r["id"]: r["dedup"] for r in map(json.loads, out.open(encoding="utf-8"))}
    pairs = [json.loads(line) for line in pairs_path.open(encoding="utf-8")]
    print(f"score.py: {official}")
    print(f"{'subset':<28} {'pairs':>5} {'P':>6} {'R':>6} {'F1':>6}")
    subsets = sorted({p["subset"] for p in pairs})
    for name in [*subsets, "all"]:
        sel = [p for p in pairs if name == "all" or p["subset"] == name]
        prec, rec, f1, *_ = score(sel, ann)
        print(f"{name:<28} {len(sel):>5} {prec:>6.3f} {rec:>6.3f} {f1:>6.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
