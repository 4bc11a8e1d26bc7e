"""FirstSeen finds every earlier index with the same hash, as a dict of lists would."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.seen import Column, FirstSeen


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=-3, max_value=3), max_size=40), max_size=30))
def test_candidates_are_the_earlier_indices_with_the_same_hash(batches: list[list[int]]) -> None:
    # Hashes from a tiny range: most keys collide, and runs merge many times.
    seen = FirstSeen()
    expected: dict[int, list[int]] = {}
    index = 0
    for batch in batches:
        hashes = np.asarray(batch, dtype=np.int64)
        assert seen.candidates(hashes) == [list(expected.get(h, [])) for h in batch]
        seen.add(hashes, np.arange(index, index + len(batch), dtype=np.int64))
        for h in batch:
            expected.setdefault(h, []).append(index)
            index += 1
    assert len(seen) == index


def test_column_grows_and_keeps_its_values() -> None:
    column = Column()
    values = np.arange(5000, dtype=np.int64) * 3
    for start in range(0, 5000, 700):
        column.extend(values[start : start + 700])
    assert len(column) == 5000 and column[4999] == 14997
    assert (column.array() == values).all()
    # Past the end, the array holds whatever was in memory: reading there is an error, so that
    # iterating stops at the last value.
    assert column[-1] == 14997 and column[-5000] == 0
    for outside in (5000, 5001, len(column._data) - 1, -5001):
        with pytest.raises(IndexError):
            column[outside]
    assert list(column) == values.tolist()
