"""Document-level near-duplicates: exact groups → MinHash/LSH candidates → verified edges → clusters."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from .cluster import choose_keep, components
from .config import NearDupConfig
from .model import Cluster
from .sketch import band_keys, candidate_pairs, lsh_params, signatures
from .text import key_of, shingle_hashes, shingle_size_for, word_hashes, words
from .verify import text_similarity, verify_pairs


def _exact_key(tokens: list[str], text: str) -> bytes:
    # Documents without any word (empty, punctuation only) are exact copies only byte for byte.
    payload = "\x1f".join(tokens) if tokens else "\x00" + text.strip()
    return hashlib.blake2b(payload.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def find_clusters(ids: Sequence[str], texts: Sequence[str], config: NearDupConfig) -> tuple[Cluster, ...]:
    """Clusters of near-duplicate documents, in order of their first member.

    Exact copies (same normalised words) are grouped by hash first; one representative per
    group is sketched and banded; every LSH candidate is verified with
    :func:`~dedup.verify.text_similarity` before it joins a cluster.
    """
    n = len(texts)
    token_lists = [words(t) for t in texts]
    keys = [key_of(toks) for toks in token_lists]

    first_of: dict[bytes, int] = {}
    exact_edges: list[tuple[int, int]] = []
    reps: list[int] = []
    for i, (toks, text) in enumerate(zip(token_lists, texts, strict=False)):
        h = _exact_key(toks, text)
        j = first_of.setdefault(h, i)
        if j == i:
            reps.append(i)
        else:
            exact_edges.append((j, i))

    shingle_sets = [
        shingle_hashes(word_hashes(token_lists[i]), shingle_size_for(token_lists[i], config.shingle_size)) for i in reps
    ]
    del token_lists
    sigs = signatures(shingle_sets, num_perm=config.num_perm, seed=config.seed)
    bands, rows = lsh_params(config.lsh_threshold, config.num_perm)
    valid = np.fromiter((len(s) > 0 for s in shingle_sets), dtype=bool, count=len(reps))
    local_pairs = candidate_pairs(band_keys(sigs, bands, rows), valid=valid)
    rep_arr = np.asarray(reps, dtype=np.int64)
    pairs = [(int(rep_arr[a]), int(rep_arr[b])) for a, b in local_pairs]
    near = verify_pairs(pairs, keys, threshold=config.threshold)

    edges = exact_edges + [(a, b) for a, b, _ in near]
    lengths = [len(t) for t in texts]
    clusters = []
    for number, members in enumerate(components(n, edges), start=1):
        keep = choose_keep(members, lengths, policy=config.keep)
        similarity = {ids[m]: round(text_similarity(keys[keep], keys[m]), 4) for m in members}
        clusters.append(
            Cluster(
                id=f"c{number}",
                keep=ids[keep],
                members=tuple(ids[m] for m in members),
                similarity=similarity,
            )
        )
    return tuple(clusters)
