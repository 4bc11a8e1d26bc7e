"""Invariants that hold for any input (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import dedup

texts = st.lists(st.text(st.characters(blacklist_categories=("Cs",)), max_size=300), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(texts)
def test_annotate_only_keeps_text_and_offsets_index_it(items: list[str]) -> None:
    records = list(dedup.clean(items, annotate_only=True))
    assert [r["text"] for r in records] == items
    for r in records:
        n = len(r["text"])
        for span in r["dedup"]["boilerplate"] + r["dedup"]["repeats"]:
            assert 0 <= span["start"] < span["end"] <= n


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=400), st.integers(min_value=1, max_value=3))
def test_exact_copies_always_cluster(text: str, copies: int) -> None:
    report = dedup.scan([text] * (copies + 1) + ["an unrelated document about something else"])
    members = {m for c in report.clusters for m in c.members}
    assert {str(i) for i in range(copies + 1)} <= members


@settings(max_examples=40, deadline=None)
@given(texts)
def test_clean_output_is_a_subsequence_of_input(items: list[str]) -> None:
    out = list(dedup.clean(items))
    ids = [r["id"] for r in out]
    assert ids == sorted(ids, key=int)
    for r in out:
        original = items[int(r["id"])]
        it = iter(original)
        assert all(ch in it for ch in r["text"])
