"""Verification in rounds over worker processes finds what one-by-one verification finds."""

from __future__ import annotations

import random
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

import pytest

from dedup import edges, forked, neardup
from dedup.cluster import UnionFind, groups
from dedup.config import NearDupConfig
from dedup.neardup import find_clusters
from dedup.text import norm_key
from dedup.verify import FIRST_TRY, may_reach

SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))


def edited(text: str, rate: float, rng: random.Random) -> str:
    words = text.split(" ")
    for i in rng.sample(range(len(words)), int(len(words) * rate)):
        words[i] = rng.choice(["alpha", "beta", "gamma", "delta"])
    return " ".join(words)


def corpus() -> tuple[list[str], list[str]]:
    """The seeds, one long page made of all of them (over the word-level length), and edited
    copies of each at 2-12% of words."""
    rng = random.Random(7)
    originals = [p.read_text(encoding="utf-8") for p in SEEDS]
    originals.append("\n".join(originals) * 2)
    texts = list(originals)
    for text in originals:
        for rate in (0.02, 0.05, 0.08, 0.12):
            texts.append(edited(text, rate, rng))
    order = list(range(len(texts)))
    rng.shuffle(order)
    texts = [texts[i] for i in order]
    return [f"d{i}" for i in range(len(texts))], texts


def started_pools(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """The start method and size of each pool :mod:`dedup.forked` starts from now on, with
    batches small enough that the test corpus takes two workers."""
    monkeypatch.setattr(neardup, "BATCH", 8)
    pools: list[tuple[str, int]] = []

    class Recorded(ProcessPoolExecutor):
        def __init__(self, max_workers: int, mp_context: BaseContext, **kwargs: Any) -> None:
            pools.append((mp_context.get_start_method(), max_workers))
            super().__init__(max_workers, mp_context, **kwargs)

    monkeypatch.setattr(forked, "ProcessPoolExecutor", Recorded)
    return pools


def test_parallel_rounds_give_the_same_clusters_as_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    ids, texts = corpus()
    pools = started_pools(monkeypatch)
    one = find_clusters(ids, texts, NearDupConfig(jobs=1))
    two = find_clusters(ids, texts, NearDupConfig(jobs=2))
    assert one == two
    assert pools == [("fork", 2)]
    # Every edited copy joined its original: six clusters of five.
    assert sorted(len(c.members) for c in one) == [5] * (len(SEEDS) + 1)


def test_workers_started_afresh_where_the_platform_cannot_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without fork (macOS, Windows), the pool's workers are spawned and receive the texts
    pickled: the same clusters as one process."""
    ids, texts = corpus()
    pools = started_pools(monkeypatch)
    monkeypatch.setattr(forked, "can_fork", lambda: False)
    assert find_clusters(ids, texts, NearDupConfig(jobs=2)) == find_clusters(ids, texts, NearDupConfig(jobs=1))
    assert pools == [("spawn", 2)]


def test_a_round_never_aligns_a_pair_it_may_already_join(monkeypatch: pytest.MonkeyPatch) -> None:
    """Five copies of one page with every pair a candidate: a spanning tree of four alignments
    joins them, in rounds as one by one; the other six pairs are never aligned."""
    rng = random.Random(3)
    page = SEEDS[0].read_text(encoding="utf-8")
    texts = [edited(page, 0.03, rng) for _ in range(5)]
    pairs = [(a, b, FIRST_TRY) for a in range(5) for b in range(a + 1, 5)]
    aligned: list[tuple[str, str]] = []
    real = edges.text_similarity

    def counting(a: str, b: str, *, cutoff: float = 0.0, first_try: float = FIRST_TRY) -> float:
        aligned.append((a, b))
        return real(a, b, cutoff=cutoff, first_try=first_try)

    monkeypatch.setattr(edges, "text_similarity", counting)
    forked.share(edges.Texts(texts))
    results = []
    for pool in (None, ThreadPoolExecutor(2)):
        aligned.clear()
        uf = UnionFind(5)
        verified = edges.verify(pairs, uf, 0.85, pool=pool, key=lambda i: norm_key(texts[i]))
        results.append((groups(uf), len(aligned), sorted(verified)))
    assert results[0] == results[1]
    assert results[0][0] == [[0, 1, 2, 3, 4]] and results[0][1] == 4


def test_a_failed_pair_leaves_the_later_pairs_to_the_next_round() -> None:
    """0-1 fails; 0-2 and 1-2 are then both needed: the round that aligned 0-1 put 1-2 off
    only while 0-1 might have joined them."""
    rng = random.Random(5)
    page = SEEDS[1].read_text(encoding="utf-8")
    other = SEEDS[2].read_text(encoding="utf-8")
    texts = [page, other, edited(page, 0.02, rng)]
    forked.share(edges.Texts(texts))
    uf = UnionFind(3)
    verified = edges.verify([(0, 1, FIRST_TRY), (0, 2, FIRST_TRY), (1, 2, FIRST_TRY)], uf, 0.85, pool=ThreadPoolExecutor(2))
    assert groups(uf) == [[0, 2]]
    assert list(verified) == [(0, 2)]


def test_pairs_their_lengths_rule_out_are_never_aligned(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sketching records each text's normalised length; a candidate pair whose lengths alone
    keep it under the threshold is not aligned, and the clusters are those of aligning it."""
    page = SEEDS[3].read_text(encoding="utf-8")
    ids = ["page", "longer", "copy"]
    other = SEEDS[0].read_text(encoding="utf-8")
    texts = [page, page + "\n" + other[: len(page) // 2], page.replace("the", "a", 5)]
    aligned: list[tuple[int, int]] = []
    real = edges.text_similarity

    def counting(a: str, b: str, *, cutoff: float = 0.0, first_try: float = FIRST_TRY) -> float:
        aligned.append((len(a), len(b)))
        return real(a, b, cutoff=cutoff, first_try=first_try)

    monkeypatch.setattr(edges, "text_similarity", counting)
    found = find_clusters(ids, texts, NearDupConfig(jobs=1))
    assert [c.members for c in found] == [("page", "copy")]
    assert aligned and all(may_reach(a, b, 0.85) for a, b in aligned)
    monkeypatch.setattr(neardup, "may_reach", lambda *args: True)  # every candidate aligned
    aligned.clear()
    assert find_clusters(ids, texts, NearDupConfig(jobs=1)) == found
    assert not all(may_reach(a, b, 0.85) for a, b in aligned)  # the pair it left out was a candidate
