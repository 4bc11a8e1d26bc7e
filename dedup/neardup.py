"""Document-level near-duplicates: exact groups → MinHash/LSH candidates → verified edges → clusters."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from .cluster import UnionFind, choose_keep, groups
from .config import NearDupConfig
from .model import Cluster
from .sketch import band_keys, candidate_pairs, lsh_params, signatures
from .text import key_of, shingle_hashes, shingle_size_for, word_hashes, words
from .verify import text_similarity

# Verified near-duplicates on Webis have a 5-gram Jaccard of 0.37 and more; with 128 permutations
# the estimate's standard deviation is about 0.04, so 0.2 loses none of them.
MIN_ESTIMATED_JACCARD = 0.2


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
    # Banding lets through pairs whose signatures agree on one band only; the signatures'
    # own Jaccard estimate drops those far below any near-duplicate before the costlier alignment.
    agree = (sigs[local_pairs[:, 0]] == sigs[local_pairs[:, 1]]).mean(axis=1) if len(local_pairs) else np.empty(0)
    keep_pairs = agree >= MIN_ESTIMATED_JACCARD
    local_pairs, agree = local_pairs[keep_pairs], agree[keep_pairs]

    uf = UnionFind(n)
    for a, b in exact_edges:
        uf.union(a, b)
    # Most similar candidates first; a pair already joined through other verified edges needs
    # no alignment of its own (the components come out the same), which saves most of the
    # verification inside large clusters.
    rep_arr = np.asarray(reps, dtype=np.int64)
    for index in np.argsort(-agree, kind="stable"):
        a, b = int(rep_arr[local_pairs[index, 0]]), int(rep_arr[local_pairs[index, 1]])
        if uf.find(a) != uf.find(b) and text_similarity(keys[a], keys[b], cutoff=config.threshold) >= config.threshold:
            uf.union(a, b)

    lengths = [len(t) for t in texts]
    clusters = []
    for number, members in enumerate(groups(uf), start=1):
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
