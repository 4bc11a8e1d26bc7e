#!/usr/bin/env python3
"""Band-key look-up: SQLite table against a sorted numpy array on disk (the two embedded layouts
issue #8 weighed).

    python bench/index_lookup.py [--docs 100000]

Stores 32 random 64-bit band keys per document, then looks up 320,000 keys (half present) as
a batch of 10,000 documents would. Prints build time, size and look-up time of each layout in
the same run.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    keys = rng.integers(-(2**63), 2**63 - 1, size=args.docs * 32, dtype=np.int64)
    rows = np.repeat(np.arange(args.docs), 32)
    query = np.concatenate([rng.choice(keys, 160_000), rng.integers(-(2**63), 2**63 - 1, size=160_000, dtype=np.int64)])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bands.db"
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("CREATE TABLE bands (key INTEGER NOT NULL, row INTEGER NOT NULL, PRIMARY KEY (key, row)) WITHOUT ROWID")
        t = time.perf_counter()
        db.execute("BEGIN")
        db.executemany("INSERT INTO bands VALUES (?, ?)", zip(keys.tolist(), rows.tolist(), strict=True))
        db.execute("COMMIT")
        build_sql = time.perf_counter() - t
        db.execute("CREATE TEMP TABLE q (key INTEGER PRIMARY KEY)")
        t = time.perf_counter()
        db.executemany("INSERT OR IGNORE INTO q VALUES (?)", ((k,) for k in query.tolist()))
        hits_sql = len(db.execute("SELECT b.key, b.row FROM q JOIN bands b ON b.key = q.key").fetchall())
        look_sql = time.perf_counter() - t
        t = time.perf_counter()
        order = np.argsort(keys)
        np.save(Path(tmp) / "keys.npy", keys[order])
        np.save(Path(tmp) / "rows.npy", rows[order])
        build_np = time.perf_counter() - t
        t = time.perf_counter()
        sorted_keys = np.load(Path(tmp) / "keys.npy", mmap_mode="r")
        unique_query = np.unique(query)
        hits_np = int((np.searchsorted(sorted_keys, unique_query, "right") - np.searchsorted(sorted_keys, unique_query, "left")).sum())
        look_np = time.perf_counter() - t
        size_sql = path.stat().st_size
        size_np = sum(os.path.getsize(Path(tmp) / f) for f in ("keys.npy", "rows.npy"))
    print("| layout | build | size | look up 320,000 keys | hits |")
    print("|---|---:|---:|---:|---:|")
    print(f"| SQLite `WITHOUT ROWID` table | {build_sql:.1f} s | {size_sql / 1e6:.0f} MB | {look_sql:.2f} s | {hits_sql:,} |")
    print(f"| sorted numpy arrays, memory-mapped | {build_np:.1f} s | {size_np / 1e6:.0f} MB | {look_np:.2f} s | {hits_np:,} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
