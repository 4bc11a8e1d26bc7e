"""Verifying candidate pairs, in rounds spread over worker processes.

Candidates come most similar first. A pair whose documents are already joined through other
verified edges is never aligned (the components come out the same either way). To use
several processes without aligning pairs that sequential order would have skipped, each
round takes pairs that would join different components even if every pair before them in
the round passed; a pair that might be made redundant by the round is put off to the next.
The pairs aligned can differ from one-by-one order (a pair put off may come after later ones),
but the components they make, and so the clusters, are the same: a pair is skipped only when
its documents are already joined.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from functools import lru_cache

from .cluster import UnionFind
from .forked import shared
from .kernel import key_text
from .verify import FIRST_TRY, text_similarity

ROUND = 8192  # pairs handed out per round at most
Candidate = tuple[int, int, float]  # two documents and a guess at their score (see dedup.verify.text_similarity's first_try)

class Texts:
    """The texts pairs are read from, as worker processes share them (see
    :func:`dedup.forked.processes`), with the normalised keys of the last documents aligned.
    A round's pairs are sorted, so a document's pairs come together; the cache goes with the
    object, so a new corpus starts with none."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = texts
        self.key = lru_cache(maxsize=1024)(self._key)

    def _key(self, i: int) -> str:
        return key_text(self.texts[i])

    def __reduce__(self) -> tuple[type[Texts], tuple[Sequence[str]]]:
        return (Texts, (self.texts,))  # pickled (to workers that are not forked) without the cache


def _shared() -> Texts:
    texts = shared()
    assert isinstance(texts, Texts), "a pool for alignment shares an edges.Texts"
    return texts


def shared_texts(start: int, stop: int) -> list[str]:
    """Texts ``start:stop`` of the :class:`Texts` this worker's pool shares."""
    return list(_shared().texts[start:stop])


def _score(task: tuple[int, int, float, float]) -> float:
    a, b, cutoff, guess = task
    texts = _shared()
    return text_similarity(texts.key(a), texts.key(b), cutoff=cutoff, first_try=guess)


def verify(
    pairs: Iterable[Candidate],
    uf: UnionFind,
    threshold: float,
    *,
    pool: Executor | None = None,
    key: Callable[[int], str] | None = None,
) -> dict[tuple[int, int], float]:
    """Align ``pairs`` (in their order; each with a guess at its score) whose documents ``uf``
    has not joined yet; join those scoring at least ``threshold``. Returns the exact scores of
    the pairs joined.

    With ``pool`` (whose workers share a :class:`Texts`), each round's pairs are
    aligned in parallel; without, one by one, reading texts through ``key``.
    """
    source = iter(pairs)  # read as rounds need them: a million candidates are not held as tuples
    pending: deque[Candidate] = deque()  # pairs put off by a round, before the rest of source
    verified: dict[tuple[int, int], float] = {}
    while True:
        batch, later = _next_round(pending, source, uf, ROUND if pool is not None else 1)
        if not batch:
            return verified
        if pool is not None:
            # Pairs of one document go to one worker, which reads and normalises its text once.
            batch.sort()
            tasks = [(a, b, threshold, guess) for a, b, guess in batch]
            scores = list(pool.map(_score, tasks, chunksize=_chunk(len(batch))))
        else:
            assert key is not None
            scores = [text_similarity(key(a), key(b), cutoff=threshold, first_try=guess) for a, b, guess in batch]
        for (a, b, _), score in zip(batch, scores, strict=True):
            if score >= threshold:
                uf.union(a, b)
                verified[a, b] = score
        pending.extendleft(reversed(later))


def _chunk(n: int) -> int:
    """Pairs per task: about 32 tasks a round, at least 4 pairs each."""
    return max(4, n // 32)


def _next_round(
    pending: deque[Candidate], source: Iterator[Candidate], uf: UnionFind, size: int
) -> tuple[list[Candidate], list[Candidate]]:
    """Up to ``size`` pairs, taken from ``pending`` and then from ``source``, that would join
    different components even if every pair before them in the round passed, and the pairs
    put off because the round might join them; pairs ``uf`` has joined already are dropped.
    (A round puts a pair off only after taking one, so an empty round means no pairs are left.)"""
    batch: list[Candidate] = []
    later: list[Candidate] = []
    tentative = UnionFind(0)
    slot: dict[int, int] = {}  # component root -> node of ``tentative``

    def node(root: int) -> int:
        if root not in slot:
            slot[root] = tentative.add()
        return slot[root]

    while len(batch) < size:
        pair = pending.popleft() if pending else next(source, None)
        if pair is None:
            break
        a, b, _ = pair
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        ta, tb = node(ra), node(rb)
        if tentative.find(ta) == tentative.find(tb):
            later.append(pair)  # this round may join them already
            continue
        tentative.union(ta, tb)
        batch.append(pair)
    return batch, later


def similarities(
    pairs: Sequence[tuple[int, int]], *, pool: Executor | None = None, key: Callable[[int], str] | None = None
) -> list[float]:
    """Exact similarity of each pair, in parallel with ``pool`` (see :func:`verify`)."""
    if pool is not None:
        return list(pool.map(_score, [(a, b, 0.0, FIRST_TRY) for a, b in pairs], chunksize=_chunk(len(pairs))))
    assert key is not None
    return [text_similarity(key(a), key(b)) for a, b in pairs]
