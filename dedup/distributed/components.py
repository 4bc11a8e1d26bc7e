"""Connected components of the verified-edge graph, for the Dask engine.

Edges that fit in the driver's memory (``driver_max_edges``, default 50 million: about 1.6 GB
as two int64 columns and the union-find) are gathered and joined with a union-find. Larger
graphs run min-label propagation as joins on the cluster: every node takes the smallest label
among itself and its neighbours, for at most ``rounds`` rounds; what is left unsettled after
that (long chains) is a much smaller graph of labels, finished on the driver.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..cluster import UnionFind

DRIVER_MAX_EDGES = 50_000_000


def union_find_roots(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> dict[int, int]:
    """Map every node of the edges ``a[i] - b[i]`` to the smallest node of its component."""
    nodes, inverse = np.unique(np.concatenate((a, b)), return_inverse=True)
    uf = UnionFind(len(nodes))
    half = len(a)
    for x, y in zip(inverse[:half].tolist(), inverse[half:].tolist(), strict=True):
        uf.union(x, y)
    smallest: dict[int, int] = {}
    for i in range(len(nodes)):
        r = uf.find(i)
        smallest[r] = min(smallest.get(r, i), i)
    return {int(nodes[i]): int(nodes[smallest[uf.find(i)]]) for i in range(len(nodes))}


def components(edges: Any, *, driver_max_edges: int = DRIVER_MAX_EDGES, rounds: int = 20) -> dict[int, int]:
    """Map every node of the dask frame ``edges`` (columns ``a``, ``b``) to the smallest node
    of its component."""
    edges = edges.persist()  # counted, then read: computed once
    n_edges = int(edges.shape[0].compute())
    if n_edges <= driver_max_edges:
        frame = edges.compute()
        return union_find_roots(frame["a"].to_numpy(np.int64), frame["b"].to_numpy(np.int64))
    return _label_propagation(edges, rounds=rounds, driver_max_edges=driver_max_edges)


def _label_propagation(edges: Any, *, rounds: int, driver_max_edges: int) -> dict[int, int]:
    import importlib

    dd: Any = importlib.import_module("dask.dataframe")

    both = dd.concat([edges[["a", "b"]], edges[["b", "a"]].rename(columns={"b": "a", "a": "b"})]).persist()
    labels = both.groupby("a")["b"].min().to_frame("label")
    labels["label"] = labels["label"].where(labels["label"] < labels.index.to_series(), labels.index.to_series())
    labels = labels.persist()
    for _ in range(rounds):
        # Each node takes the smallest label among its neighbours' labels and its own.
        seen = both.merge(labels, left_on="b", right_index=True).groupby("a")["label"].min().to_frame("seen")
        joined = labels.join(seen, how="left")
        updated = joined["label"].where(joined["seen"].isna() | (joined["label"] <= joined["seen"]), joined["seen"])
        changed = int((updated != joined["label"]).sum().compute())
        labels = updated.to_frame("label").persist()
        if changed == 0:
            break
    # Edges whose ends still disagree join their labels on the driver (few once rounds have run).
    ends = both.merge(labels, left_on="a", right_index=True)
    ends = ends.merge(labels.rename(columns={"label": "label_b"}), left_on="b", right_index=True)
    left = ends[ends["label"] != ends["label_b"]][["label", "label_b"]].drop_duplicates().compute()
    final = labels.compute()["label"]
    if len(left):
        if len(left) > driver_max_edges:
            raise MemoryError(f"label propagation left {len(left):,} unsettled edges after {rounds} rounds; raise the rounds")
        roots = union_find_roots(left["label"].to_numpy(np.int64), left["label_b"].to_numpy(np.int64))
        final = final.map(lambda x: roots.get(int(x), int(x)))
    return {int(k): int(v) for k, v in pd.Series(final).items()}
