"""The stages as pure functions over pandas frames, one shard (partition) at a time.

The Dask engine (:mod:`dedup.distributed`) only moves these frames around; the work inside
each is done by the functions the local engine uses (``sketch_batch``, ``band_keys``,
``text_similarity``, ``find_boilerplate``, ``find_repeats``, ``annotation``), so both engines
give the same bytes.

A document's position ``pos`` is ``shard << 32 | index in shard``: ordering by it is the input
order of the local engine over the same sorted shard list, and ``pos >> 32`` is its partition.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence, Set
from typing import Any

import numpy as np
import pandas as pd

from ..config import Config
from ..kernel import key_text
from ..model import Cluster, Document, Source, Span

SHARD_SHIFT = 32
DOC_COLUMNS = ["pos", "id", "text", "site", "record", "source", "skipped"]


def shard_of(pos: int) -> int:
    return pos >> SHARD_SHIFT


def read_shard(path: str, shard: int, config: Config) -> pd.DataFrame:
    """The documents of one shard (JSONL or Parquet, a local path or an fsspec URL). A record
    skipped under ``--on-error skip`` is a row with its reason in ``skipped`` and no text."""
    from ..io import read_jsonl, read_paths
    from ..model import Skipped

    if "://" in path:
        import fsspec

        if path.lower().endswith(".parquet"):
            raise NotImplementedError("Parquet shards from URLs: copy them locally first")
        with fsspec.open(path, "rb") as stream:
            items = list(read_jsonl(stream, path, config.input))
    else:
        items = list(read_paths([path], config.input))
    rows: list[tuple[Any, ...]] = []
    for i, item in enumerate(items):
        pos = (shard << SHARD_SHIFT) | i
        if isinstance(item, Skipped):
            rows.append((pos, "", None, None, None, item.where, item.reason))
        else:
            record = json.dumps(dict(item.record), ensure_ascii=False)
            rows.append((pos, item.id, item.text, item.site, record, str(item.source or ""), None))
    return pd.DataFrame(rows, columns=DOC_COLUMNS).astype({"pos": "int64"})


def documents(frame: pd.DataFrame) -> list[Document]:
    """The frame's documents (skipped rows left out), in position order."""
    out = []
    for row in frame.itertuples(index=False):
        if row.skipped is not None:
            continue
        source = None
        if row.source:
            path, _, line = str(row.source).rpartition(":")
            source = Source(path, int(line)) if line.isdigit() and path else Source(str(row.source))
        out.append(Document(id=row.id, text=row.text, record=json.loads(row.record), source=source, site=row.site))
    return out


def live(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["skipped"].isna()]


# -- near-duplicates ------------------------------------------------------------------------------


def sketch_frame(frame: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Per document: exact-copy key, signature (uint32 bytes), non-empty flag and length."""
    from ..neardup import sketch_batch

    docs = live(frame)
    nd = config.neardup
    keys, sigs, valid = sketch_batch(list(docs["text"]), k=nd.shingle_size, num_perm=nd.num_perm, seed=nd.seed)
    return pd.DataFrame(
        {
            "pos": docs["pos"].to_numpy(),
            "exact": [k.hex() for k in keys],
            "sig": [row.tobytes() for row in sigs],
            "valid": valid,
            "chars": docs["text"].str.len().to_numpy(),
        }
    )


def band_frame(reps: pd.DataFrame, config: Config) -> pd.DataFrame:
    """One row per (band key, document) for representatives with a non-empty signature."""
    from ..sketch import band_keys, lsh_params

    reps = reps[reps["valid"]]
    if reps.empty:
        return pd.DataFrame({"key": np.empty(0, dtype=np.int64), "pos": np.empty(0, dtype=np.int64)})
    sigs = np.stack([np.frombuffer(s, dtype=np.uint32) for s in reps["sig"]])
    bands, rows = lsh_params(config.neardup.lsh_threshold, config.neardup.num_perm)
    keys = band_keys(sigs, bands, rows).view(np.int64)
    return pd.DataFrame({"key": keys.ravel(), "pos": np.repeat(reps["pos"].to_numpy(), keys.shape[1])})


def bucket_pairs(bands: pd.DataFrame, max_bucket: int = 64) -> pd.DataFrame:
    """Candidate pairs ``a < b`` of a partition that holds whole buckets, found by
    :func:`~dedup.sketch.candidate_pairs` (every pair of a bucket of at most ``max_bucket``
    documents, consecutive ones of a larger bucket), as the local engine finds them."""
    from ..sketch import candidate_pairs

    if bands.empty:
        return pd.DataFrame({"a": np.empty(0, dtype=np.int64), "b": np.empty(0, dtype=np.int64)})
    # One row per (document, band key), in input order: a bucket's members come in input order.
    ordered = bands.sort_values("pos", kind="stable")
    owner = ordered["pos"].to_numpy()
    entries = candidate_pairs(ordered["key"].to_numpy().view(np.uint64)[:, None], max_bucket=max_bucket)
    pairs = owner[entries]
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    pairs.sort(axis=1)
    pairs = np.unique(pairs, axis=0)
    return pd.DataFrame({"a": pairs[:, 0], "b": pairs[:, 1]})


def agreeing(pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs whose signatures (columns ``sig_a``, ``sig_b``) estimate a Jaccard of at least
    :data:`~dedup.neardup.MIN_ESTIMATED_JACCARD`, with that estimate as ``agree``."""
    from ..neardup import MIN_ESTIMATED_JACCARD

    if pairs.empty:
        return pairs.assign(agree=np.empty(0))[["a", "b", "agree"]]
    a = np.stack([np.frombuffer(s, dtype=np.uint32) for s in pairs["sig_a"]])
    b = np.stack([np.frombuffer(s, dtype=np.uint32) for s in pairs["sig_b"]])
    agree = (a == b).mean(axis=1)
    out = pairs[["a", "b"]].assign(agree=agree)
    return out[out["agree"] >= MIN_ESTIMATED_JACCARD]


def verified(pairs: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Pairs (with texts ``text_a``, ``text_b``) whose similarity reaches ``threshold``."""
    from ..verify import text_similarity

    keep = [
        text_similarity(key_text(x), key_text(y), cutoff=threshold) >= threshold
        for x, y in zip(pairs["text_a"], pairs["text_b"], strict=True)
    ]
    return pairs.loc[keep, ["a", "b"]]


def similarities(pairs: pd.DataFrame) -> pd.DataFrame:
    """Similarity of each cluster member (``text_m``) with its kept document (``text_k``)."""
    from ..verify import text_similarity

    sims = [round(text_similarity(key_text(k), key_text(m)), 4) for k, m in zip(pairs["text_k"], pairs["text_m"], strict=True)]
    return pd.DataFrame({"pos": pairs["pos"].to_numpy(), "similarity": sims})


# -- boilerplate ----------------------------------------------------------------------------------


def line_frame(frame: pd.DataFrame, dropped: Set[int]) -> pd.DataFrame:
    """One row per distinct line key of each document, but those ``dropped`` (positions of the
    near-duplicates that cleaning drops): (hashed key, site, document)."""
    from ..boilerplate.features import line_keys
    from ..index.store import line_hash

    keys, sites, pos = [], [], []
    for row in live(frame).itertuples(index=False):
        if row.pos in dropped:
            continue
        for k in line_keys(row.text):
            keys.append(line_hash(k))
            sites.append(row.site or "")
            pos.append(row.pos)
    return pd.DataFrame({"key": np.asarray(keys, dtype=np.int64), "site": sites, "pos": np.asarray(pos, dtype=np.int64)})


def boilerplate_frame(frame: pd.DataFrame, repeated: Mapping[int, Mapping[str, int]], config: Config) -> dict[str, list[Span]]:
    """Boilerplate spans of a shard's documents. ``repeated`` holds the corpus counts of every line
    key found in two documents or more; any other key is in one document, this one."""
    from ..boilerplate import find_boilerplate
    from ..boilerplate.features import line_keys
    from ..index.store import line_hash

    docs = documents(frame)
    prior: dict[str, Mapping[str, int]] = {}
    for doc in docs:
        for k in line_keys(doc.text):
            prior[k] = repeated.get(line_hash(k)) or {doc.site or "": 1}
    return find_boilerplate(docs, config.boilerplate, prior=prior, counted=())


# -- repeats --------------------------------------------------------------------------------------


BAND, TEXT = 0, 1  # kinds of passage keys: a band key, or the hash of a passage's normalised text
MAX_BUCKET_DOCS = 64  # as the local engine's max_bucket: a larger bucket is chained, not paired


def passage_frame(frame: pd.DataFrame, spans: Mapping[str, Sequence[Span]], dropped: set[int], config: Config) -> pd.DataFrame:
    """Passage keys of a shard's documents that cleaning keeps: (key, kind, document), with the
    band keys :func:`~dedup.repeats.find_repeats` uses and the hash of each passage's text
    (identical passages are grouped before banding)."""
    from ..index.store import line_hash
    from ..repeats import band_keys_of, document_passages

    docs = live(frame)
    docs = docs[~docs["pos"].isin(dropped)]
    skips = [[(s.start, s.end) for s in spans.get(doc_id, ())] for doc_id in docs["id"]]
    texts, positions = list(docs["text"]), docs["pos"].to_numpy()
    cut = [
        document_passages(i, t, min_words=config.repeats.min_words, seed=config.neardup.seed, skip=sk)
        for i, (t, sk) in enumerate(zip(texts, skips, strict=True))
    ]
    found = band_keys_of(cut)
    lengths = [len(k) for k in found]
    band = np.concatenate(found).view(np.int64) if found else np.empty(0, dtype=np.int64)
    hashes = [sorted({line_hash(p.key) for p in doc.passages}) for doc in cut]
    text_keys = np.asarray([h for hs in hashes for h in hs], dtype=np.int64)
    return pd.DataFrame(
        {
            "key": np.concatenate((band, text_keys)),
            "kind": np.concatenate((np.full(len(band), BAND), np.full(len(text_keys), TEXT))).astype(np.int8),
            "pos": np.concatenate((np.repeat(positions, lengths), np.repeat(positions, [len(h) for h in hashes]))),
        }
    )


def neighbour_frame(passages: pd.DataFrame) -> pd.DataFrame:
    """For a partition holding whole passage-key groups: (shard, document) for each document of
    another shard that a shard's repeat search needs:

    - a band key held by at most :data:`MAX_BUCKET_DOCS` documents: every other holder;
    - a larger band key, which the local engine chains: the holders just before and after
      (in input order) each holder of the shard;
    - a passage text held by several documents: its first holder, whose copy is the original.
    """
    empty = pd.DataFrame({"shard": np.empty(0, dtype=np.int64), "pos": np.empty(0, dtype=np.int64)})
    if passages.empty:
        return empty
    p = passages.drop_duplicates()
    p = p.assign(shard=p["pos"].to_numpy() >> SHARD_SHIFT)
    sizes = p.groupby(["kind", "key"])["pos"].transform("size")
    p = p[sizes > 1]
    sizes = sizes[sizes > 1]
    found = [empty]
    small = p[(p["kind"] == BAND) & (sizes <= MAX_BUCKET_DOCS)]
    pairs = small[["key", "shard"]].drop_duplicates().merge(small[["key", "pos"]], on="key")
    found.append(pairs[["shard", "pos"]])
    large = p[(p["kind"] == BAND) & (sizes > MAX_BUCKET_DOCS)].sort_values(["key", "pos"])
    if len(large):
        same_prev = large["key"].eq(large["key"].shift(1)).to_numpy()
        same_next = large["key"].eq(large["key"].shift(-1)).to_numpy()
        found.append(pd.DataFrame({"shard": large["shard"].to_numpy()[same_prev], "pos": large["pos"].shift(1).to_numpy()[same_prev]}))
        found.append(pd.DataFrame({"shard": large["shard"].to_numpy()[same_next], "pos": large["pos"].shift(-1).to_numpy()[same_next]}))
    texts = p[p["kind"] == TEXT]
    if len(texts):
        first = texts.groupby("key")["pos"].min().rename("first")
        holders = texts.join(first, on="key")
        found.append(pd.DataFrame({"shard": holders["shard"].to_numpy(), "pos": holders["first"].to_numpy()}))
    out = pd.concat(found).astype({"shard": np.int64, "pos": np.int64})
    out = out[(out["pos"].to_numpy() >> SHARD_SHIFT) != out["shard"].to_numpy()]
    return out.drop_duplicates()


def take(frame: pd.DataFrame, positions: Sequence[int]) -> pd.DataFrame:
    return frame[frame["pos"].isin(set(positions))]


def repeats_frame(
    own: pd.DataFrame,
    neighbours: Sequence[pd.DataFrame],
    spans: Mapping[str, Sequence[Span]],
    clusters: Sequence[Cluster],
    config: Config,
) -> dict[str, list[Span]]:
    """Repeated passages of a shard's documents, found with every document that shares a passage
    band key with them (``neighbours``) taking part, in input order: the same spans as a run over
    the whole corpus gives these documents."""
    from ..repeats import find_repeats

    together = pd.concat([own, *neighbours]).drop_duplicates("pos").sort_values("pos")
    docs = documents(together)
    flagged = {d.id: list(spans.get(d.id, ())) for d in docs}
    targets = set(live(own)["id"])
    found = find_repeats(docs, clusters, flagged, config, targets=targets)
    return {doc_id: found[doc_id] for doc_id in targets}


# -- output ---------------------------------------------------------------------------------------


def output_lines(
    frame: pd.DataFrame,
    spans: Mapping[str, Sequence[Span]],
    clusters: Mapping[str, Cluster],
    config: Config,
    *,
    annotate_only: bool,
) -> list[str]:
    """The shard's output records as JSONL lines, exactly as the local engine writes them."""
    from ..model import Report
    from ..pipeline import records

    docs = documents(frame)
    ordered = {d.id: tuple(sorted(spans.get(d.id, ()), key=lambda s: (s.start, s.end, s.kind))) for d in docs}
    shard_clusters = tuple({c.id: c for d in docs if (c := clusters.get(d.id)) is not None}.values())
    report = Report(config_fingerprint={}, documents=(), clusters=shard_clusters, spans=ordered, skipped=(), stats={})
    return [json.dumps(r, ensure_ascii=False) + "\n" for r in records(report, docs, config, annotate_only=annotate_only)]
