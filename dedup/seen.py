"""Which keys were seen before, for millions of keys, without a Python object per key.

A dict of a million ids or exact-copy keys costs about 100 bytes an entry (the key object, an
int, the slot). Here each key is a 64-bit hash with the index of its first occurrence, held in
sorted numpy runs that merge as they grow (a log-structured merge: a run is merged with the one
before it while that one is not at least twice its size, so there are O(log n) runs and each
entry is copied O(log n) times). Equal hashes are only candidates: the caller compares the keys.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


class FirstSeen:
    """First indices of 64-bit hashes added in index order (16 bytes an entry)."""

    def __init__(self) -> None:
        self._runs: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = []

    def __len__(self) -> int:
        return sum(len(h) for h, _ in self._runs)

    def candidates(self, hashes: npt.NDArray[np.int64]) -> list[list[int]]:
        """For each of ``hashes``, the indices added with the same hash, in index order (almost
        always none or one)."""
        found: list[list[int]] = [[] for _ in range(len(hashes))]
        for run, index in self._runs:
            left = np.searchsorted(run, hashes, side="left")
            right = np.searchsorted(run, hashes, side="right")
            for k in np.flatnonzero(right > left).tolist():
                found[k].extend(index[left[k] : right[k]].tolist())
        for k in range(len(found)):
            if len(found[k]) > 1:
                found[k].sort()
        return found

    def add(self, hashes: npt.NDArray[np.int64], indices: npt.NDArray[np.int64]) -> None:
        """Add ``hashes`` first seen at ``indices``."""
        if not len(hashes):
            return
        order = np.argsort(hashes, kind="stable")
        self._runs.append((hashes[order], indices[order]))
        while len(self._runs) > 1 and len(self._runs[-2][0]) < 2 * len(self._runs[-1][0]):
            (h1, i1), (h2, i2) = self._runs[-2], self._runs.pop()
            h, i = np.concatenate((h1, h2)), np.concatenate((i1, i2))
            order = np.argsort(h, kind="stable")
            self._runs[-1] = (h[order], i[order])


class Column:
    """A growing int64 array (appends double its capacity), read by index."""

    def __init__(self) -> None:
        self._data = np.empty(1024, dtype=np.int64)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def extend(self, values: npt.NDArray[np.int64]) -> None:
        end = self._n + len(values)
        if end > len(self._data):
            grown = np.empty(max(end, 2 * len(self._data)), dtype=np.int64)
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        self._data[self._n : end] = values
        self._n = end

    def __getitem__(self, i: int) -> int:
        if not -self._n <= i < self._n:  # the array past the end holds whatever was in memory
            raise IndexError(f"index {i} out of range for {self._n} values")
        return int(self._data[i % self._n])

    def array(self) -> npt.NDArray[np.int64]:
        """The values, as an array (a copy)."""
        return self._data[: self._n].copy()
