"""MinHash signatures for many documents at once, and LSH banding over them.

Signatures use datasketch's ``affine32`` permutation scheme with its permutation parameters
(same ``seed`` and ``num_perm``), so a row of :func:`signatures` equals the ``hashvalues`` of
``datasketch.MinHash(num_perm, seed=seed, scheme="affine32")`` updated with the same shingle
hashes: sketches can be loaded into datasketch (``MinHash(hashvalues=row, ...)``) and compared.
Signatures are one ``uint32`` matrix, not one Python object per document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

_EMPTY = np.uint32(0xFFFFFFFF)
_ROWS_PER_CHUNK = 1 << 15


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]:
    """datasketch's ``affine32`` permutation parameters ``(a, b)`` for ``num_perm`` and ``seed``
    (cached: callers must not change them).

    Drawn here as ``MinHash._init_permutations`` draws them (``tests/test_sketch.py`` checks
    that they are the same), since importing datasketch takes 0.8 s (scipy) before the
    workers can start.
    """
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def fmix32(h: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """MurmurHash3's 32-bit finaliser, the pre-mix datasketch applies before permuting."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def signatures(
    shingle_sets: Sequence[npt.NDArray[np.uint32]], *, num_perm: int, seed: int
) -> npt.NDArray[np.uint32]:
    """MinHash signatures, one row per document; an empty document's row is all ``0xFFFFFFFF``.

    >>> import numpy as np
    >>> signatures([np.array([1, 2], dtype=np.uint32)], num_perm=4, seed=1).shape
    (1, 4)
    """
    a, b = permutations(num_perm, seed)
    out = np.full((len(shingle_sets), num_perm), _EMPTY, dtype=np.uint32)
    lengths = np.fromiter((len(s) for s in shingle_sets), dtype=np.int64, count=len(shingle_sets))
    doc = 0
    n_docs = len(shingle_sets)
    while doc < n_docs:
        if lengths[doc] > _ROWS_PER_CHUNK:
            # One large document: fold its shingles in chunk by chunk, so that memory stays at
            # one chunk times num_perm whatever the document's size.
            hv_all = shingle_sets[doc]
            for start in range(0, len(hv_all), _ROWS_PER_CHUNK):
                out[doc] = np.minimum(out[doc], _permuted(hv_all[start : start + _ROWS_PER_CHUNK], a, b).min(axis=0))
            doc += 1
            continue
        # Take documents until the chunk holds about _ROWS_PER_CHUNK shingles.
        stop = doc
        rows = 0
        while stop < n_docs and lengths[stop] <= _ROWS_PER_CHUNK and rows + lengths[stop] <= _ROWS_PER_CHUNK:
            rows += int(lengths[stop])
            stop += 1
        chunk_ids = [i for i in range(doc, stop) if lengths[i]]
        if chunk_ids:
            phv = _permuted(np.concatenate([shingle_sets[i] for i in chunk_ids]), a, b)
            starts = np.concatenate(([0], np.cumsum(lengths[chunk_ids])[:-1]))
            out[chunk_ids] = np.minimum.reduceat(phv, starts, axis=0)
        doc = stop
    return out


def _permuted(hashes: npt.NDArray[np.uint32], a: npt.NDArray[np.uint32], b: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """``a * fmix32(h) + b`` for every hash and permutation: a (len(hashes), num_perm) matrix."""
    hv = fmix32(hashes.astype(np.uint32))
    with np.errstate(over="ignore"):
        return hv[:, None] * a[None, :] + b[None, :]


# datasketch's answers for the settings dedup uses by default (documents, and passages in the
# repeats stage), as lsh_params would ask for them; tests/test_sketch.py asks its optimiser
# again. Importing it takes about half a second (scipy), which a small run would wait for.
KNOWN_LSH_PARAMS = {(0.3, 128): (32, 2), (0.3, 64): (32, 2)}


@lru_cache(maxsize=32)
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """Bands and rows per band for ``threshold``, from datasketch's optimiser (recorded for the
    default settings in :data:`KNOWN_LSH_PARAMS`).

    False negatives are weighted 9:1 over false positives: every candidate is verified, so
    a missed pair costs more than an extra comparison.
    """
    known = KNOWN_LSH_PARAMS.get((threshold, num_perm))
    if known is not None:
        return known
    from datasketch.lsh import _optimal_param

    b, r = _optimal_param(threshold, num_perm, 0.1, 0.9)
    return int(b), int(r)


def band_keys(sigs: npt.NDArray[np.uint32], bands: int, rows: int) -> npt.NDArray[np.uint64]:
    """One 64-bit key per document and band (shape ``(n_docs, bands)``)."""
    keys = np.empty((sigs.shape[0], bands), dtype=np.uint64)
    for band in range(bands):
        keys[:, band] = band_column(sigs, band, rows)
    return keys


def band_column(sigs: npt.NDArray[np.uint32], band: int, rows: int) -> npt.NDArray[np.uint64]:
    """Column ``band`` of :func:`band_keys`."""
    block = sigs[:, band * rows : (band + 1) * rows].astype(np.uint64)
    acc = np.full(sigs.shape[0], np.uint64(0xCBF29CE484222325) ^ np.uint64(band), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for col in range(rows):
            acc = (acc ^ block[:, col]) * np.uint64(0x100000001B3)
            acc ^= acc >> np.uint64(29)
    return acc


class BandKeys:
    """:func:`band_keys` read one band at a time (``keys[ids, band]``) by
    :func:`candidate_pairs`: memory holds one band's keys, not every band's (256 bytes per
    document with 32 bands)."""

    def __init__(self, sigs: npt.NDArray[np.uint32], bands: int, rows: int) -> None:
        self.sigs, self.rows = sigs, rows
        self.shape = (sigs.shape[0], bands)

    def __getitem__(self, index: tuple[npt.NDArray[np.int64], int]) -> npt.NDArray[np.uint64]:
        ids, band = index
        return band_column(self.sigs, band, self.rows)[ids]


def candidate_pairs(
    keys: npt.NDArray[np.uint64] | BandKeys,
    *,
    valid: npt.NDArray[np.bool_] | None = None,
    max_bucket: int = 64,
    accept: Callable[[npt.NDArray[np.int64]], npt.NDArray[np.bool_]] | None = None,
) -> npt.NDArray[np.int64]:
    """Pairs ``(i, j)``, ``i < j``, of documents that share a band key in some band.

    Found by sorting each band's keys, not by dict-of-sets buckets. A bucket larger than
    ``max_bucket`` is linked as a chain of neighbours (its members are near-copies of each
    other, and verification plus connected components recover the cluster) instead of
    emitting every pair. ``valid`` masks out documents that must not take part (empty ones).
    ``accept`` (rows of pairs → mask) filters each band's new pairs as they are found, so
    that the many pairs it rejects are never held together.
    """
    n = keys.shape[0]
    ids = np.arange(n, dtype=np.int64) if valid is None else np.flatnonzero(valid).astype(np.int64)
    # Each pair (i, j) as one int64, i * n + j: de-duplication is a 1-D sort, and pairs found
    # again in a later band are merged away every few bands, so memory holds each pair about once.
    codes = np.empty(0, dtype=np.int64)
    found: list[npt.NDArray[np.int64]] = []
    for band in range(keys.shape[1]):
        col = keys[ids, band]
        # Not a stable sort (five times as fast): a bucket's members come in any order, which
        # changes no pair of a small bucket, and a large bucket's chain is sorted below.
        order = np.argsort(col)
        sorted_keys = col[order]
        sorted_ids = ids[order]
        if len(sorted_keys) < 2:
            continue
        boundaries = np.flatnonzero(np.diff(sorted_keys)) + 1
        starts = np.concatenate(([0], boundaries))
        ends = np.concatenate((boundaries, [len(sorted_keys)]))
        sizes = ends - starts
        # All buckets of one size at once: a (buckets, size) matrix of members, then every pair.
        for size in np.flatnonzero(np.bincount(sizes[(sizes > 1) & (sizes <= max_bucket)])):
            members = sorted_ids[starts[sizes == size][:, None] + np.arange(size)]
            ii, jj = np.triu_indices(int(size), k=1)
            found.append(_codes(members[:, ii].ravel(), members[:, jj].ravel(), n))
        for s, e in zip(starts[sizes > max_bucket], ends[sizes > max_bucket], strict=True):
            members = np.sort(sorted_ids[s:e])
            found.append(_codes(members[:-1], members[1:], n))
        if accept is not None:
            new = _unique(np.concatenate(found)) if found else codes[:0]
            new = new[~_sorted_has(codes, new)]
            codes = np.sort(np.concatenate((codes, new[accept(_decode(new, n))])))  # two sorted runs, no code in both
            found = []
        elif sum(len(f) for f in found) > max(len(codes), 1 << 20):
            codes = _unique(np.concatenate((codes, *found)))
            found = []
    return _decode(_unique(np.concatenate((codes, *found))), n)


def _unique(codes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``np.unique`` by a sort (numpy 2's hash table is four times slower on these)."""
    ordered = np.sort(codes)
    keep = np.empty(len(ordered), dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _decode(codes: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.int64]:
    return np.stack((codes // n, codes % n), axis=1)


def _sorted_has(haystack: npt.NDArray[np.int64], needles: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Which of ``needles`` are in the sorted array ``haystack``."""
    if not len(haystack):
        return np.zeros(len(needles), dtype=bool)
    at = np.minimum(np.searchsorted(haystack, needles), len(haystack) - 1)
    found: npt.NDArray[np.bool_] = haystack[at] == needles
    return found


def _codes(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.int64]:
    """Pairs of ``a`` and ``b`` (distinct documents) as ``min * n + max``."""
    return np.minimum(a, b) * np.int64(n) + np.maximum(a, b)
