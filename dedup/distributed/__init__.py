"""The Dask engine (``pip install 'dedup[dask]'``, ``--engine dask``): the same results as the
local engine, on a cluster.

Input is a list of shards (JSONL or Parquet files, local paths or fsspec URLs; a glob is
expanded and sorted); a shard is a partition. The work inside a partition is done by the pure
functions of :mod:`dedup.distributed.frames`; this module moves their frames:

1. read each shard (workers), check ids are unique across shards (a shuffle on id);
2. sketch; group exact copies (shuffle on exact key); band keys of representatives, shuffled
   on key so that a partition holds whole buckets, give candidate pairs; pairs are joined with
   both signatures (filter) and both texts (verification);
3. connected components (:mod:`dedup.distributed.components`), kept document and similarities
   (joined with texts again);
4. boilerplate: line keys counted with a group-by; the counts of lines seen in two documents or
   more are broadcast, and each shard scores its own lines;
5. repeats: passage band keys, shuffled on key, tell each shard which documents of other shards
   share a passage key with its own; those documents are sent to the shard's task, which runs
   the local repeat search over them in input order;
6. each shard writes its output shard.

Intermediate data lives in the workers' memory (spilling to their local disk under memory
pressure, Dask's default); output shards are written by the workers, so with a remote cluster
the output folder must be shared storage or an fsspec URL the workers can write.
"""

from __future__ import annotations

import glob
import importlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import Config
from ..errors import ConfigError, InputError
from ..model import Cluster, Span, dropped_members
from . import frames

Progress = Callable[[str, int, int], None]


def _quiet(stage: str, done: int, total: int) -> None:
    pass


def _modules() -> tuple[Any, Any]:
    """``dask`` and ``dask.dataframe``, typed loosely (their stubs are partial)."""
    import importlib

    return importlib.import_module("dask"), importlib.import_module("dask.dataframe")


def _need_dask() -> None:
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError("--engine dask needs Dask: pip install 'dedup[dask]'") from None


def shard_paths(paths: Sequence[str]) -> list[str]:
    """The shard files of ``paths``: files, folders (their .jsonl and .parquet files) and globs,
    each sorted; fsspec URLs are expanded with fsspec."""
    out: list[str] = []
    for arg in paths:
        if "://" in arg:
            import fsspec

            fs, _, found = fsspec.get_fs_token_paths(arg)
            protocol = arg.split("://", 1)[0]
            out.extend(sorted(f"{protocol}://{p}" if "://" not in p else p for p in found))
            continue
        path = Path(arg)
        if path.is_dir():
            out.extend(str(p) for p in sorted(path.rglob("*")) if p.suffix.lower() in (".jsonl", ".ndjson", ".parquet"))
        elif path.exists():
            out.append(arg)
        else:
            matches = sorted(glob.glob(arg))
            if not matches:
                raise InputError("no such file, folder or glob match", path=arg)
            out.extend(matches)
    if not out:
        raise InputError("no JSONL or Parquet shards found in " + ", ".join(paths))
    return out


@contextmanager
def client(scheduler: str | None, workers: int) -> Iterator[Any]:
    """A client of the cluster at ``scheduler``, or of a local cluster of ``workers`` processes."""
    import logging

    _need_dask()
    dask, _ = _modules()
    dist: Any = importlib.import_module("distributed")
    # Dask's own INFO and WARNING lines (shuffle plugin chatter) would drown dedup's stderr.
    for name in ("distributed", "distributed.shuffle"):
        logging.getLogger(name).setLevel(logging.ERROR)
    settings = {"dataframe.convert-string": False, "distributed.worker.daemon": False, "logging.distributed": "error"}
    with dask.config.set(settings):
        if scheduler:
            with dist.Client(scheduler) as c:
                yield c
        else:
            local = dist.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            with local as cluster, dist.Client(cluster) as c:
                yield c


@dataclass(frozen=True)
class Analysis:
    """What the analysis leaves on the cluster: the document partitions, each shard's spans (a
    delayed dict), the clusters by document id, and skipped records."""

    docs: Any
    spans: list[Any]
    clusters: dict[str, Cluster]
    skipped: list[tuple[str, str]]


def analyse(shards: Sequence[str], config: Config, progress: Progress = _quiet, *, driver_max_edges: int | None = None) -> Analysis:
    """Run every stage over ``shards`` on the current Dask client."""
    dask, dd = _modules()

    progress("reading shards", 0, len(shards))
    parts = [dask.delayed(frames.read_shard)(path, i, config) for i, path in enumerate(shards)]
    docs = dd.from_delayed(parts, meta=_meta_docs(), verify_meta=False).persist()
    skipped_rows = docs[~docs["skipped"].isna()][["source", "skipped"]].compute()
    skipped = list(zip(skipped_rows["source"], skipped_rows["skipped"], strict=True))
    live = docs[docs["skipped"].isna()]
    _check_ids(live, config)
    if int(live.shape[0].compute()) == 0:
        raise InputError("empty corpus: no documents to read" + (f" ({len(skipped)} skipped)" if skipped else ""))

    cluster_of: dict[str, Cluster] = {}
    clusters_by_pos: dict[int, Cluster] = {}
    ids: dict[int, str] = {}
    if config.runs("duplicates"):
        progress("near-duplicates", 0, 0)
        clusters_by_pos, ids = _clusters(docs, config, driver_max_edges)
        cluster_of = {ids[pos]: c for pos, c in clusters_by_pos.items()}

    delayed_parts = docs.to_delayed()
    # The near-duplicates that cleaning drops, by shard: neither counted as lines of the corpus
    # (as the local engine, see dedup.pipeline.analyse) nor searched for repeats.
    dropped = {pos for pos, c in clusters_by_pos.items() if ids[pos] != c.keep}
    by_shard: dict[int, set[int]] = {}
    for pos in dropped:
        by_shard.setdefault(frames.shard_of(pos), set()).add(pos)
    bp: list[Any] = [dask.delayed(dict)() for _ in delayed_parts]
    if config.runs("boilerplate"):
        progress("boilerplate", 0, 0)
        repeated = _repeated_lines(delayed_parts, by_shard)
        bp = [dask.delayed(frames.boilerplate_frame)(part, repeated, config) for part in delayed_parts]
        bp = list(dask.persist(*bp))

    spans: list[Any] = bp
    if config.runs("repeats"):
        progress("repeated passages", 0, 0)
        passage_parts = [
            dask.delayed(frames.passage_frame)(part, bp[i], by_shard.get(i, set()), config) for i, part in enumerate(delayed_parts)
        ]
        meta = pd.DataFrame({"key": np.empty(0, dtype=np.int64), "kind": np.empty(0, dtype=np.int8), "pos": np.empty(0, dtype=np.int64)})
        passages = dd.from_delayed(passage_parts, meta=meta, verify_meta=False)
        neighbours = passages.shuffle("key").map_partitions(
            frames.neighbour_frame, meta=pd.DataFrame({"shard": np.empty(0, dtype=np.int64), "pos": np.empty(0, dtype=np.int64)})
        ).drop_duplicates().compute()
        wanted: dict[int, dict[int, list[int]]] = {}
        for shard, pos in zip(neighbours["shard"].tolist(), neighbours["pos"].tolist(), strict=True):
            wanted.setdefault(shard, {}).setdefault(frames.shard_of(pos), []).append(pos)
        spans = []
        for i, part in enumerate(delayed_parts):
            others = wanted.get(i, {})
            taken = [dask.delayed(frames.take)(delayed_parts[j], positions) for j, positions in sorted(others.items())]
            flagged = dask.delayed(_merge_dicts)([bp[i], *(bp[j] for j in sorted(others))])
            positions = [p for ps in others.values() for p in ps]
            relevant = _relevant_clusters(clusters_by_pos, i, positions)
            found = dask.delayed(frames.repeats_frame)(part, taken, flagged, relevant, config)
            spans.append(dask.delayed(_merge_spans)(bp[i], found))
        spans = list(dask.persist(*spans))
    return Analysis(docs=docs, spans=spans, clusters=cluster_of, skipped=skipped)


def _meta_docs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pos": np.empty(0, dtype=np.int64),
            "id": pd.Series([], dtype=object),
            "text": pd.Series([], dtype=object),
            "site": pd.Series([], dtype=object),
            "record": pd.Series([], dtype=object),
            "source": pd.Series([], dtype=object),
            "skipped": pd.Series([], dtype=object),
        }
    )


def _check_ids(live: Any, config: Config) -> None:
    counts = live.groupby("id")["pos"].agg(["count", "min"])
    dup = counts[counts["count"] > 1].compute()
    if len(dup) == 0:
        return
    if config.input.on_error == "skip":
        raise ConfigError("--on-error skip with duplicate ids is not supported by --engine dask; fix the ids or use the local engine")
    first_id = dup.sort_values("min").index[0]
    rows = live[live["id"] == first_id][["source", "pos"]].compute().sort_values("pos")
    where = rows["source"].tolist()
    path, _, line = str(where[1]).rpartition(":")
    reason = f"duplicate id {first_id!r} (first seen at {where[0]}); set --id-field"
    raise InputError(reason, path=path or None, line=int(line) if line.isdigit() else None)


def _clusters(docs: Any, config: Config, driver_max_edges: int | None) -> tuple[dict[int, Cluster], dict[int, str]]:
    """Near-duplicate clusters keyed by each member's position, and the members' ids."""
    _, dd = _modules()

    from ..cluster import choose_keep
    from .components import DRIVER_MAX_EDGES, components

    sk_meta = pd.DataFrame({"pos": np.empty(0, np.int64), "exact": pd.Series([], dtype=object), "sig": pd.Series([], dtype=object),
                            "valid": np.empty(0, bool), "chars": np.empty(0, np.int64)})
    sk = docs.map_partitions(frames.sketch_frame, config, meta=sk_meta).persist()
    first = sk.groupby("exact")["pos"].min().to_frame("first")
    with_first = sk.merge(first, left_on="exact", right_index=True)
    exact_edges = with_first[with_first["pos"] != with_first["first"]][["first", "pos"]].rename(columns={"first": "a", "pos": "b"})
    reps = with_first[with_first["pos"] == with_first["first"]]
    band_meta = pd.DataFrame({"key": np.empty(0, np.int64), "pos": np.empty(0, np.int64)})
    bands = reps.map_partitions(frames.band_frame, config, meta=band_meta)
    pair_meta = pd.DataFrame({"a": np.empty(0, np.int64), "b": np.empty(0, np.int64)})
    pairs = bands.shuffle("key").map_partitions(frames.bucket_pairs, meta=pair_meta).drop_duplicates()
    sigs = sk[["pos", "sig"]]
    pairs = pairs.merge(sigs.rename(columns={"pos": "a", "sig": "sig_a"}), on="a")
    pairs = pairs.merge(sigs.rename(columns={"pos": "b", "sig": "sig_b"}), on="b")
    agree_meta = pd.DataFrame({"a": np.empty(0, np.int64), "b": np.empty(0, np.int64), "agree": np.empty(0, float)})
    pairs = pairs.map_partitions(frames.agreeing, meta=agree_meta)
    texts = docs[["pos", "text"]]
    pairs = pairs.merge(texts.rename(columns={"pos": "a", "text": "text_a"}), on="a").merge(
        texts.rename(columns={"pos": "b", "text": "text_b"}), on="b"
    )
    edges = pairs.map_partitions(frames.verified, config.neardup.threshold, meta=pair_meta)
    all_edges = dd.concat([exact_edges, edges])
    roots = components(all_edges, driver_max_edges=DRIVER_MAX_EDGES if driver_max_edges is None else driver_max_edges)
    if not roots:
        return {}, {}
    nodes = np.fromiter(roots, dtype=np.int64, count=len(roots))
    info = docs[docs["pos"].isin(set(nodes.tolist()))][["pos", "id", "text"]].assign(chars=lambda f: f["text"].str.len())
    info = info[["pos", "id", "chars"]].compute().set_index("pos").sort_index()
    members_of: dict[int, list[int]] = {}
    for pos in info.index.tolist():
        members_of.setdefault(roots[pos], []).append(pos)
    groups = sorted(members_of.values(), key=lambda g: g[0])
    lengths = dict(zip(info.index.tolist(), info["chars"].tolist(), strict=True))
    keep_pairs: list[tuple[int, int]] = []
    keeps: list[int] = []
    for members in groups:
        keep = choose_keep(members, lengths, policy=config.neardup.keep)
        keeps.append(keep)
        keep_pairs.extend((keep, m) for m in members)
    kp = pd.DataFrame(keep_pairs, columns=["keep", "pos"])
    kp_dd = dd.from_pandas(kp, npartitions=max(1, docs.npartitions))
    joined = kp_dd.merge(texts.rename(columns={"pos": "keep", "text": "text_k"}), on="keep")
    joined = joined.merge(texts.rename(columns={"text": "text_m"}), on="pos")
    sims = joined.map_partitions(frames.similarities, meta=pd.DataFrame({"pos": np.empty(0, np.int64), "similarity": np.empty(0, float)}))
    similarity = dict(zip(*(sims.compute()[c].tolist() for c in ("pos", "similarity")), strict=True))
    ids = info["id"].to_dict()
    out: dict[int, Cluster] = {}
    for number, (members, keep) in enumerate(zip(groups, keeps, strict=True), start=1):
        cluster = Cluster(
            id=f"c{number}",
            keep=ids[keep],
            members=tuple(ids[m] for m in members),
            similarity={ids[m]: similarity[m] for m in members},
        )
        for m in members:
            out[m] = cluster
    return out, ids


def _broadcast(mapping: Mapping[Any, Any]) -> Any:
    """One future holding ``mapping``, copied to every worker. Scattering a dict itself would
    make one future per entry, named by its key; a later run on the same cluster (the same line
    keys, the same cluster ids "c1"...) then met the names of the earlier one and failed."""
    get_client: Any = importlib.import_module("distributed").get_client
    return get_client().scatter([mapping], broadcast=True, hash=False)[0]


def _repeated_lines(parts: Sequence[Any], dropped: Mapping[int, set[int]]) -> Any:
    """Corpus counts (per hashed line key: documents per site) of lines in two documents or more,
    of the document partitions ``parts`` less the documents ``dropped`` (positions, by shard)."""
    dask, dd = _modules()
    meta = pd.DataFrame({"key": np.empty(0, np.int64), "site": pd.Series([], dtype=object), "pos": np.empty(0, np.int64)})
    lines = dd.from_delayed(
        [dask.delayed(frames.line_frame)(part, dropped.get(i, set())) for i, part in enumerate(parts)], meta=meta, verify_meta=False
    )
    counts = lines.groupby(["key", "site"]).size().to_frame("n").reset_index()
    totals = counts.groupby("key")["n"].sum().to_frame("total")
    counts = counts.merge(totals, left_on="key", right_index=True)
    repeated = counts[counts["total"] > 1][["key", "site", "n"]].compute()
    table: dict[int, dict[str, int]] = {}
    for key, site, n in zip(repeated["key"].tolist(), repeated["site"].tolist(), repeated["n"].tolist(), strict=True):
        table.setdefault(key, {})[site] = n
    return _broadcast(table)


def _relevant_clusters(clusters_by_pos: dict[int, Cluster], shard: int, positions: Sequence[int]) -> list[Cluster]:
    found = {c.id: c for pos, c in clusters_by_pos.items() if frames.shard_of(pos) == shard}
    for pos in positions:
        c = clusters_by_pos.get(pos)
        if c is not None:
            found[c.id] = c
    return list(found.values())


def _merge_dicts(parts: Sequence[dict[str, list[Span]]]) -> dict[str, list[Span]]:
    out: dict[str, list[Span]] = {}
    for part in parts:
        out.update(part)
    return out


def _merge_spans(a: dict[str, list[Span]], b: dict[str, list[Span]]) -> dict[str, list[Span]]:
    out = {k: list(v) for k, v in a.items()}
    for k, v in b.items():
        out.setdefault(k, []).extend(v)
    return out


def _write_shard(frame: pd.DataFrame, spans: dict[str, list[Span]], clusters: dict[str, Cluster], config: Config,
                 path: str, annotate_only: bool) -> tuple[int, int]:
    lines = frames.output_lines(frame, spans, clusters, config, annotate_only=annotate_only)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(lines)
    docs = int(frame["skipped"].isna().sum())
    return len(lines), docs


def clean_to_shards(
    shards: Sequence[str], config: Config, output: str, *, annotate_only: bool, progress: Progress = _quiet,
    driver_max_edges: int | None = None,
) -> dict[str, Any]:
    """Run the analysis on the current client and write one output shard per input shard into the
    folder ``output`` (``part-00000.jsonl``...). Shards are written under a temporary name and
    moved into place only when every one is written; on error none is left. A second run into
    the same folder replaces the first's shards, and removes those it no longer has."""
    dask, _ = _modules()

    result = analyse(shards, config, progress, driver_max_edges=driver_max_edges)
    out_dir = Path(output)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".dedup-{uuid.uuid4().hex[:8]}-", dir=out_dir))
    try:
        table = _broadcast(result.clusters)
        progress("writing shards", 0, len(shards))
        writes = [
            dask.delayed(_write_shard)(part, result.spans[i], table, config, str(tmp / f"part-{i:05d}.jsonl"), annotate_only)
            for i, part in enumerate(result.docs.to_delayed())
        ]
        counts = dask.compute(*writes)
        for i in range(len(shards)):
            os.replace(tmp / f"part-{i:05d}.jsonl", out_dir / f"part-{i:05d}.jsonl")
        # Shards of an earlier run with more input shards would otherwise sit beside these.
        for stale in out_dir.glob("part-*.jsonl"):
            if stale.stem[5:].isdigit() and int(stale.stem[5:]) >= len(shards):
                stale.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    dropped = dropped_members(result.clusters.values())
    return {
        "documents": sum(d for _, d in counts),
        "written": sum(w for w, _ in counts),
        "clusters": len({c.id for c in result.clusters.values()}),
        "duplicates": len(dropped),
        "skipped": result.skipped,
        "shards": len(shards),
    }


def scan_report(shards: Sequence[str], config: Config, progress: Progress = _quiet) -> tuple[Any, list[Any]]:
    """The analysis gathered into a :class:`~dedup.model.Report` on the driver (for ``dedup
    report``: a report shows text, so every document comes back), with the documents."""
    dask, _ = _modules()

    from ..model import DocSummary, Report, Skipped
    from ..pipeline import _stats
    from ..text import line_count

    result = analyse(shards, config, progress)
    parts = dask.compute(*result.docs.to_delayed())
    found = dask.compute(*result.spans)
    docs = [d for part in parts for d in frames.documents(part)]
    spans: dict[str, list[Span]] = {d.id: [] for d in docs}
    for part_spans in found:
        for doc_id, s in part_spans.items():
            spans[doc_id].extend(s)
    ordered = {k: tuple(sorted(v, key=lambda s: (s.start, s.end, s.kind))) for k, v in spans.items()}
    clusters = tuple(sorted({c.id: c for c in result.clusters.values()}.values(), key=lambda c: int(c.id[1:])))
    summaries = tuple(
        DocSummary(id=d.id, chars=len(d.text), lines=line_count(d.text), source=str(d.source or "")) for d in docs
    )
    report = Report(
        config_fingerprint=config.fingerprint(),
        documents=summaries,
        clusters=clusters,
        spans=ordered,
        skipped=tuple(Skipped(where=w, reason=r) for w, r in result.skipped),
        stats=_stats(docs, clusters, ordered, config),
    )
    return report, docs
