"""The LSH pipeline against brute force on small corpora: nothing above the threshold is missed."""

from __future__ import annotations

import itertools
import random

from dedup.config import NearDupConfig
from dedup.neardup import find_clusters
from dedup.text import norm_key
from dedup.verify import text_similarity

WORDS = ("market river stone paper cloud light music garden window silver forest engine bridge "
         "winter summer letter doctor number animal island mountain family village teacher").split()


def _corpus(seed: int) -> list[str]:
    rng = random.Random(seed)
    bases = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 120))) for _ in range(12)]
    docs = list(bases)
    for base in bases[:8]:
        words = base.split()
        for _ in range(rng.randint(1, 3)):
            edited = list(words)
            for _ in range(int(len(words) * rng.choice([0.02, 0.05, 0.3, 0.6]))):
                edited[rng.randrange(len(edited))] = rng.choice(WORDS)
            docs.append(" ".join(edited))
    rng.shuffle(docs)
    return docs


def test_lsh_matches_brute_force_far_from_threshold() -> None:
    config = NearDupConfig()
    for seed in range(3):
        docs = _corpus(seed)
        ids = [str(i) for i in range(len(docs))]
        clusters = find_clusters(ids, docs, config)
        together = {frozenset(p) for c in clusters for p in itertools.combinations(c.members, 2)}
        keys = [norm_key(d) for d in docs]
        for i, j in itertools.combinations(range(len(docs)), 2):
            sim = text_similarity(keys[i], keys[j])
            if sim >= config.threshold + 0.05:
                assert frozenset((ids[i], ids[j])) in together, (seed, i, j, sim)
        # Every verified edge inside a cluster really is similar (transitive members may be less so).
        for c in clusters:
            assert any(c.similarity[m] >= config.threshold for m in c.members if m != c.keep)


def test_worker_processes_give_the_same_clusters(monkeypatch) -> None:
    import dedup.neardup as neardup

    docs = _corpus(7)
    ids = [str(i) for i in range(len(docs))]
    one = find_clusters(ids, docs, NearDupConfig(jobs=1))
    monkeypatch.setattr(neardup, "BATCH", 5)  # several batches, so that two processes share them
    two = find_clusters(ids, docs, NearDupConfig(jobs=2))
    assert one == two and one
