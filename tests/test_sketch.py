"""Signatures equal datasketch's, and banding finds what it should."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash

from dedup.sketch import band_keys, candidate_pairs, lsh_params, permutations, signatures
from dedup.text import shingles


@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (64, 0), (256, 42), (3, 2**32 - 1)])
def test_permutations_are_datasketchs(num_perm: int, seed: int) -> None:
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    mine = permutations.__wrapped__(num_perm, seed)
    assert mine[0].dtype == mine[1].dtype == np.uint32
    assert mine[0].tolist() == a.tolist() and mine[1].tolist() == b.tolist()


def test_signature_equals_datasketch_affine32() -> None:
    text = "the quick brown fox jumps over the lazy dog and keeps running through the forest"
    sh = shingles(text, 3)
    ours = signatures([sh], num_perm=64, seed=7)[0]
    theirs = MinHash(num_perm=64, seed=7, scheme="affine32", hashfunc=lambda x: x)
    theirs.update_batch([int(h) for h in sh])
    assert np.array_equal(ours, theirs.hashvalues)
    loaded = MinHash(num_perm=64, seed=7, scheme="affine32", hashvalues=ours)
    assert loaded.jaccard(theirs) == 1.0


def test_empty_document_signature_is_sentinel() -> None:
    sigs = signatures([np.empty(0, dtype=np.uint32), shingles("a b c", 2)], num_perm=16, seed=1)
    assert (sigs[0] == 0xFFFFFFFF).all()
    assert not (sigs[1] == 0xFFFFFFFF).all()


def test_candidates_find_copies_not_strangers() -> None:
    texts = [
        "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu",
        "completely different words about weather rain snow wind and clouds",
        "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu",
    ]
    sigs = signatures([shingles(t, 3) for t in texts], num_perm=128, seed=1)
    b, r = lsh_params(0.5, 128)
    pairs = candidate_pairs(band_keys(sigs, b, r))
    assert pairs.tolist() == [[0, 2]]


def test_large_bucket_is_chained_not_quadratic() -> None:
    sig = signatures([shingles("same text in every document here", 2)] * 200, num_perm=32, seed=1)
    pairs = candidate_pairs(band_keys(sig, 8, 4), max_bucket=64)
    assert len(pairs) == 199


def test_signatures_across_chunk_boundaries_equal_datasketch(monkeypatch) -> None:
    import dedup.sketch as sketch

    monkeypatch.setattr(sketch, "_ROWS_PER_CHUNK", 64)  # documents larger than a chunk, and chunks of several
    rng = np.random.default_rng(0)
    sets = [np.unique(rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)) for n in (0, 300, 5, 60, 3, 64, 65)]
    sigs = sketch.signatures(sets, num_perm=16, seed=3)
    for shingle_set, row in zip(sets, sigs, strict=True):
        m = MinHash(num_perm=16, seed=3, scheme="affine32", hashfunc=lambda x: x)
        m.update_batch([int(x) for x in shingle_set])
        assert np.array_equal(m.hashvalues, row)


def test_recorded_lsh_params_are_datasketchs_and_the_defaults() -> None:
    from datasketch.lsh import _optimal_param

    from dedup.config import NearDupConfig
    from dedup.repeats import PASSAGE_LSH_THRESHOLD, PASSAGE_PERM
    from dedup.sketch import KNOWN_LSH_PARAMS

    for (threshold, num_perm), params in KNOWN_LSH_PARAMS.items():
        assert tuple(int(v) for v in _optimal_param(threshold, num_perm, 0.1, 0.9)) == params
    defaults = NearDupConfig()
    assert (defaults.lsh_threshold, defaults.num_perm) in KNOWN_LSH_PARAMS
    assert (PASSAGE_LSH_THRESHOLD, PASSAGE_PERM) in KNOWN_LSH_PARAMS
    b, r = lsh_params(0.45, 96)  # not recorded: datasketch's optimiser answers
    assert (b, r) == tuple(int(v) for v in _optimal_param(0.45, 96, 0.1, 0.9))
