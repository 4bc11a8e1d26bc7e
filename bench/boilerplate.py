#!/usr/bin/env python3
"""Boilerplate accuracy on the labelled pages of ../shared/bench/boilerplate/.

    python bench/boilerplate.py [--data ../shared/bench] [-- extra dedup options]

Runs ``dedup clean --annotate-only --only boilerplate`` on each file (the CLI, as a user would;
records carry a ``domain`` field, passed as ``--site-field``) and scores it with the shared
``score.py boilerplate``: line precision, recall, F1 and the share of content characters lost.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "bench"))
    ap.add_argument("extra", nargs="*", help="extra options passed to dedup clean")
    args = ap.parse_args()
    data = Path(args.data)
    for path in sorted((data / "boilerplate").glob("*.jsonl")):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "annotated.jsonl"
            subprocess.run(
                [sys.executable, "-m", "dedup", "clean", str(path), "--annotate-only", "--only", "boilerplate",
                 "--site-field", "domain", "-o", str(out), *args.extra],
                check=True, stderr=subprocess.DEVNULL,
            )
            result = subprocess.run(
                [sys.executable, str(data / "score.py"), "boilerplate", str(path), str(out)],
                check=True, capture_output=True, text=True,
            ).stdout.strip()
        print(f"{path.stem:<20} {result}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
