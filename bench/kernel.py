#!/usr/bin/env python3
"""The compiled kernel against the pure-Python/numpy path it replaced, in one process.

    python bench/kernel.py [--corpus DIR] [--n 3000] [--data ../shared/bench]

Both compute, for the first ``--n`` documents of a corpus from bench/make_corpus.py, the
exact-copy key and the 128-permutation MinHash row of every document: (a) ``dedup.text``
words, CRC-32 word hashes, unique shingles and ``dedup.sketch.signatures`` (numpy), the path
used before the kernel; (b) ``dedup.neardup.sketch_batch`` (the kernel). One process, so the
ratio does not depend on the machine's load; the kernel is compiled (or loaded from numba's
cache) before timing. The rows must agree bit for bit, and the script says so.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dedup.kernel import warm_up
from dedup.neardup import sketch_batch
from dedup.sketch import signatures
from dedup.text import shingle_hashes, shingle_size_for, word_hashes, words

HERE = Path(__file__).resolve()


def python_path(texts: list[str]) -> tuple[list[bytes], np.ndarray]:
    keys, sets = [], []
    for text in texts:
        tokens = words(text)
        keys.append(hashlib.blake2b("\x1f".join(tokens).encode("utf-8", "surrogatepass"), digest_size=16).digest())
        sets.append(shingle_hashes(word_hashes(tokens), shingle_size_for(tokens, 5)))
    return keys, signatures(sets, num_perm=128, seed=1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, help="a folder made by make_corpus.py (default: made here)")
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--data", type=Path, default=HERE.parents[2] / "shared" / "bench")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = args.corpus
        if corpus is None:
            corpus = Path(tmp)
            subprocess.run([sys.executable, str(HERE.parent / "make_corpus.py"), tmp, "--n", str(args.n), "--data", str(args.data)],
                           check=True)
        with (corpus / "corpus.jsonl").open(encoding="utf-8") as f:
            texts = [json.loads(line)["text"] for line in itertools.islice(f, args.n)]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    warm_up()
    t0 = time.perf_counter()
    want_keys, want = python_path(texts)
    t1 = time.perf_counter()
    keys, sigs, _ = sketch_batch(texts, k=5, num_perm=128, seed=1)
    t2 = time.perf_counter()
    same = keys == want_keys and np.array_equal(sigs, want)
    print(f"{len(texts):,} documents, {mb:.1f} MB, one process; identical keys and signatures: {same}")
    print("| path | seconds | MB/s |")
    print("|---|---:|---:|")
    print(f"| (a) words + CRC-32 + unique shingles + numpy signatures | {t1 - t0:.2f} | {mb / (t1 - t0):.1f} |")
    print(f"| (b) compiled kernel (`sketch_batch`) | {t2 - t1:.2f} | {mb / (t2 - t1):.1f} |")
    print(f"kernel: {(t1 - t0) / (t2 - t1):.1f}x the throughput of the numpy path")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
