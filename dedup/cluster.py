"""Connected components over verified edges, and the policy that picks the kept document."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

Lengths = Union[Sequence[int], Mapping[int, int], "npt.NDArray[np.int64]"]
"""Characters of each document, by index."""


class UnionFind:
    """Disjoint sets over ``0..n-1`` with path halving and union by size.

    Parents and sizes are machine integers (``array``): 16 bytes a node, where lists of Python
    ints cost over 40 (a million documents are clustered at once)."""

    def __init__(self, n: int) -> None:
        self.parent = array("q", range(n))
        self.size = array("q", [1]) * n

    def add(self) -> int:
        """A new singleton set; returns its element."""
        self.parent.append(len(self.parent))
        self.size.append(1)
        return len(self.parent) - 1

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]


def groups(uf: UnionFind) -> list[list[int]]:
    """The sets of ``uf`` with two or more members, each sorted, ordered by first member.

    >>> uf = UnionFind(5); uf.union(0, 3); uf.union(3, 4)
    >>> groups(uf)
    [[0, 3, 4]]
    """
    found: dict[int, list[int]] = {}
    for node in range(len(uf.parent)):
        found.setdefault(uf.find(node), []).append(node)
    return sorted((g for g in found.values() if len(g) > 1), key=lambda g: g[0])


def _priority(policy: str, lengths: Lengths) -> Callable[[int], tuple[int, int]]:
    if policy == "first":
        return lambda m: (0, m)
    if policy == "longest":
        return lambda m: (-lengths[m], m)
    raise ValueError(f"unknown keep policy {policy!r}")


def keep_rank(lengths: Sequence[int], *, policy: str, prior: int = 0) -> dict[int, int]:
    """Rank of every document under ``policy`` (0 is kept first): decides which of two
    documents holds the original of a passage they share. The first ``prior`` documents (from
    a persistent index) rank before all others."""
    priority = _priority(policy, lengths)
    order = sorted(range(len(lengths)), key=lambda m: (m >= prior, priority(m)))
    return {doc: r for r, doc in enumerate(order)}


def choose_keep(members: Sequence[int], lengths: Lengths, *, policy: str) -> int:
    """The member a cluster keeps.

    ``first``: the earliest in input order. ``longest``: the one with the most characters,
    ties going to the earliest. Both depend only on the input, so output is deterministic.
    """
    return min(members, key=_priority(policy, lengths))
