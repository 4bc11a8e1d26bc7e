#!/usr/bin/env python3
"""Speed, memory and pair accuracy against datasketch used as its documentation shows.

    python bench/speed.py [--n 10000] [--corpus DIR] [--data ../shared/bench]

On one corpus from bench/make_corpus.py, each row is a separate process, timed from outside,
I/O included, with that process's own peak memory:
  (a) reference: datasketch ``MinHash.update_batch`` over word 5-gram shingles and
      ``MinHashLSH(threshold=0.5)``, insert then query, as its documentation shows;
  (b) ``dedup clean --only duplicates``;
  (c) ``dedup clean`` with every stage;
  with ``--dask``, (d) and (e): (b) and (c) with ``--engine dask`` on a local cluster of two
      worker processes, the corpus cut into ``--shards`` JSONL shards;
  (r) where rensa is installed (``pip install rensa``): rensa's ``RMinHash`` and
      ``RMinHashLSH(threshold=0.5, num_bands=16)`` on the same shingles as (a);
  (t) where datatrove is installed (here, or in the Python given by ``--datatrove-python``):
      its four-stage MinHash pipeline as its example shows, on two local tasks.
``--rows a,d`` runs only some rows (the reference always runs, unless ``--no-reference``). Peak memory is the largest
sum of proportional set sizes (Pss: shared pages counted in share) over the command's process
tree, sampled every 0.1 s, or the command's own high-water mark if that is larger.
Ratios are throughput relative to (a) in the same run. Pair precision and recall are against
the planted copies: a predicted pair is right when both documents descend from the same original;
recall counts planted copies whose 5-gram Jaccard with their original is at least 0.5.
"""

from __future__ import annotations

import argparse
import importlib.util
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


def _tree_rss(root: int) -> int:
    """Memory of ``root`` and all its descendants (Linux /proc): the sum of their proportional
    set sizes (see :func:`_proportional`)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _proportional(pid, rss.get(pid, 0))
        stack.extend(children.get(pid, []))
    return total


def _proportional(pid: int, rss: int) -> int:
    """``Pss`` of ``pid``: its resident pages, each page shared with other processes counted in
    share. A worker forked from a process holding the corpus maps all of the parent's pages,
    so summing plain RSS over the tree would count the corpus once per worker. Falls back to
    ``rss`` where ``smaps_rollup`` is missing (Linux before 4.14)."""
    found = _proc_bytes(pid, "smaps_rollup", "Pss:")
    return rss if found is None else found


def _high_water(pid: int) -> int:
    """Peak resident bytes of ``pid`` so far (``VmHWM``), 0 once it has gone."""
    return _proc_bytes(pid, "status", "VmHWM:") or 0


def _proc_bytes(pid: int, name: str, field: str) -> int | None:
    """The kB figure of ``field`` in ``/proc/PID/NAME``, in bytes; None if missing or gone."""
    try:
        with open(f"/proc/{pid}/{name}", encoding="ascii") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def run(argv: list[str]) -> tuple[float, float]:
    """Seconds and peak memory (MB) of a command: the larger of its own high-water mark
    (``VmHWM``) and the largest sampled sum of proportional set sizes (``Pss``) over its
    process tree.

    Not ``wait4``'s ``ru_maxrss``: a child started with ``posix_spawn`` shares this process's
    memory until it execs, and Linux carries that high-water mark over the exec, so every
    command would report at least this script's own peak."""
    import threading

    t0 = time.perf_counter()
    errors = tempfile.NamedTemporaryFile(prefix="bench-stderr-", suffix=".txt", delete=False)
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, errors.fileno(), 2)])
    peak_tree = peak_own = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree, peak_own
        while not done.wait(0.1):
            peak_tree = max(peak_tree, _tree_rss(pid))
            peak_own = max(peak_own, _high_water(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status = os.waitpid(pid, 0)
    done.set()
    sampler.join()
    errors.close()
    if os.waitstatus_to_exitcode(status):
        tail = Path(errors.name).read_text(errors="replace")[-2000:]
        raise SystemExit(f"{' '.join(argv[:4])}... failed:\n{tail}")
    os.unlink(errors.name)
    return time.perf_counter() - t0, max(peak_own, peak_tree) / 2**20


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


def reference_rensa(corpus: Path, out: Path) -> None:
    """Row (r): rensa (a Rust MinHash with Python bindings) as its README shows, on the same
    shingles as (a): ``RMinHash.update`` and ``RMinHashLSH(threshold=0.5, num_bands=16)``."""
    from rensa import RMinHash, RMinHashLSH

    lsh = RMinHashLSH(threshold=0.5, num_perm=128, num_bands=16)
    ids: list[str] = []
    sketches = []
    with corpus.open(encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            words = record["text"].lower().split()
            m = RMinHash(num_perm=128, seed=42)
            m.update([" ".join(words[i : i + 5]) for i in range(max(len(words) - 4, 1))])
            lsh.insert(len(ids), m)
            ids.append(record["id"])
            sketches.append(m)
    with out.open("w", encoding="utf-8") as f:
        for key, m in enumerate(sketches):
            for other in lsh.query(m):
                if other > key:
                    f.write(json.dumps([ids[key], ids[other]]) + "\n")


def reference_datatrove(corpus: Path, out: Path) -> None:
    """Row (t): datatrove's MinHash pipeline as its example shows (``examples/minhash_deduplication.py``):
    signatures, buckets, clusters, filter, with ``MinhashConfig(HashConfig(precision=64),
    num_buckets=14, hashes_per_bucket=8)`` on two local tasks; the corpus is first cut into two
    files, since its reader shares out files, not lines. Writes the pairs of each cluster."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import MinhashDedupSignature
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers.jsonl import JsonlWriter
    from datatrove.utils.hashing import HashConfig

    tasks = 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "input").mkdir()
        with corpus.open(encoding="utf-8") as f:
            lines = f.readlines()
        step = -(-len(lines) // tasks)
        for i in range(tasks):
            (work / "input" / f"part-{i}.jsonl").write_text("".join(lines[i * step : (i + 1) * step]), encoding="utf-8")
        del lines
        config = MinhashConfig(hash_config=HashConfig(precision=64), num_buckets=14, hashes_per_bucket=8)
        logs = str(work / "logs")
        LocalPipelineExecutor(
            pipeline=[JsonlReader(str(work / "input")), MinhashDedupSignature(output_folder=str(work / "sigs"), config=config)],
            tasks=tasks, workers=tasks, logging_dir=f"{logs}/1",
        ).run()
        LocalPipelineExecutor(
            pipeline=[MinhashDedupBuckets(input_folder=str(work / "sigs"), output_folder=str(work / "buckets"), config=config)],
            tasks=config.num_buckets, workers=tasks, logging_dir=f"{logs}/2",
        ).run()
        LocalPipelineExecutor(
            pipeline=[MinhashDedupCluster(input_folder=str(work / "buckets"), output_folder=str(work / "remove"), config=config,
                                          save_cluster_id=True)],
            tasks=1, logging_dir=f"{logs}/3",
        ).run()
        LocalPipelineExecutor(
            pipeline=[
                JsonlReader(str(work / "input")),
                MinhashDedupFilter(input_folder=str(work / "remove"), load_cluster_ids=True,
                                   exclusion_writer=JsonlWriter(str(work / "removed"), compression=None)),
                JsonlWriter(str(work / "kept"), compression=None),
            ],
            tasks=tasks, workers=tasks, logging_dir=f"{logs}/4",
        ).run()
        clusters: dict[int, list[str]] = {}
        for path in sorted([*(work / "kept").glob("*.jsonl"), *(work / "removed").glob("*.jsonl")]):
            for line in path.open(encoding="utf-8"):
                record = json.loads(line)
                cluster = record["metadata"].get("minhash_cluster_id", -1)
                if cluster != -1:
                    clusters.setdefault(cluster, []).append(record["id"])
    with out.open("w", encoding="utf-8") as f:
        for members in clusters.values():
            for a, b in itertools.combinations(sorted(members), 2):
                f.write(json.dumps([a, b]) + "\n")


def _datatrove_python(given: str | None) -> str | None:
    """An interpreter with datatrove: ``--datatrove-python``, else this one where it has it."""
    if given:
        return given
    return sys.executable if importlib.util.find_spec("datatrove") is not None else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--corpus", type=Path, help="a folder written by bench/make_corpus.py")
    ap.add_argument("--data", default=str(HERE.parents[1].parent / "shared" / "bench"))
    ap.add_argument("--dask", action="store_true", help="add rows (d) and (e): --engine dask, a local cluster of 2 workers")
    ap.add_argument("--shards", type=int, default=8, help="shards the corpus is cut into for the Dask rows")
    ap.add_argument("--rows", help="comma-separated row letters to run besides (a), e.g. b,d")
    ap.add_argument("--no-reference", action="store_true",
                    help="leave out (a): for corpora where it cannot run (a million documents); no ratios then")
    ap.add_argument("--reference", nargs=2, type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--reference-rensa", nargs=2, type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--reference-datatrove", nargs=2, type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--datatrove-python", help="a Python with datatrove installed, for row (t) (default: this one, if it has it)")
    args = ap.parse_args()
    if args.reference:
        reference(*args.reference)
        return 0
    if args.reference_rensa:
        reference_rensa(*args.reference_rensa)
        return 0
    if args.reference_datatrove:
        reference_datatrove(*args.reference_datatrove)
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
        if importlib.util.find_spec("rensa") is not None:
            rows.append(("(r) rensa, as documented", [sys.executable, str(HERE), "--reference-rensa", str(corpus), str(out)]))
        datatrove = _datatrove_python(args.datatrove_python)
        if datatrove is not None:
            rows.append(("(t) datatrove, as documented", [datatrove, str(HERE), "--reference-datatrove", str(corpus), str(out)]))
        shard_out = Path(tmp) / "shards-out"
        if args.dask:
            shard_dir = Path(tmp) / "shards"
            shard_dir.mkdir()
            lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
            step = -(-len(lines) // args.shards)
            for i in range(args.shards):
                (shard_dir / f"part-{i:03d}.jsonl").write_text("".join(lines[i * step : (i + 1) * step]), encoding="utf-8")
            del lines
            on_dask = [sys.executable, "-m", "dedup", "clean", str(shard_dir), "--annotate-only", "--engine", "dask", "--jobs", "2",
                       "-o", str(shard_out)]
            rows += [("(d) dask --only duplicates", [*on_dask, "--only", "duplicates"]), ("(e) dask, all stages", on_dask)]
        if args.rows:
            chosen = {"a", *args.rows.split(",")}
            rows = [r for r in rows if r[0][1] in chosen]
        if args.no_reference:
            rows = [r for r in rows if not r[0].startswith("(a)")]
        print(f"{n_docs:,} documents, {mb:.1f} MB, {len(truth):,} planted copies")
        base = None
        for label, argv in rows:
            secs, peak = run(argv)
            if label.startswith("(a)"):
                base = secs
            if label.startswith(("(a)", "(r)", "(t)")):
                pairs = {tuple(json.loads(line)) for line in out.open(encoding="utf-8")}
            elif "dask" in label:
                with out.open("w", encoding="utf-8") as joined:
                    for shard in sorted(shard_out.glob("part-*.jsonl")):
                        joined.write(shard.read_text(encoding="utf-8"))
                        shard.unlink()
                pairs = pairs_from_annotations(out)
            else:
                pairs = pairs_from_annotations(out)
            precision, recall = score(pairs, truth)  # type: ignore[arg-type]
            print(f"{label:<30} {secs:7.1f}s {mb / secs:6.2f} MB/s {n_docs / secs:8,.0f} docs/s  peak {peak:6,.0f} MB  "
                  f"{f'{base / secs:5.2f}x' if base else '    -'}  P={precision:.3f} R={recall:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
