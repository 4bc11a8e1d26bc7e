"""Verification's similarity: exact whichever way it is computed."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Indel

from dedup import neardup, verify
from dedup.kernel import key_text
from dedup.neardup import sketch_batch
from dedup.text import norm_key
from dedup.verify import LONG_CHARS, may_reach, text_similarity

SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))


def edited(text: str, rate: float, rng: random.Random) -> str:
    words = text.split(" ")
    for i in rng.sample(range(len(words)), int(len(words) * rate)):
        words[i] = rng.choice(["alpha", "beta", "gamma", "delta", ""])
    return " ".join(words)


@pytest.mark.parametrize("cutoff", [0.0, 0.5, 0.85, 0.95, 0.99])
def test_the_first_narrow_try_changes_no_score(cutoff: float) -> None:
    """Pairs above and below the first try's cutoff, long enough to take it: every score
    equals one alignment at the caller's cutoff."""
    rng = random.Random(11)
    pairs = []
    for path in SEEDS:
        key = norm_key(path.read_text(encoding="utf-8"))
        assert len(key) >= verify.FIRST_TRY_CHARS
        for rate in (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.3):
            pairs.append((key, norm_key(edited(key, rate, rng))))
    scores = [Indel.normalized_similarity(a, b) for a, b in pairs]
    assert min(scores) < verify.FIRST_TRY < max(s for s in scores if s < 1.0)  # both sides tried
    for a, b in pairs:
        assert text_similarity(a, b, cutoff=cutoff) == Indel.normalized_similarity(a, b, score_cutoff=cutoff)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab c", max_size=40), st.text(alphabet="ab c", max_size=40), st.sampled_from([0.5, 0.8, 0.85, 0.95]))
def test_lengths_that_cannot_reach_the_cutoff_never_do(a: str, b: str, cutoff: float) -> None:
    if not may_reach(len(a), len(b), cutoff):
        assert text_similarity(a, b, cutoff=cutoff) == 0.0
        assert Indel.normalized_similarity(a, b) < cutoff


def test_length_bounds_at_the_edges() -> None:
    assert may_reach(-1, 10, 0.85) and may_reach(0, 0, 0.85)
    assert not may_reach(0, 5, 0.85)
    assert may_reach(LONG_CHARS + 1, 3 * LONG_CHARS, 0.85)  # aligned by words: lengths in characters say nothing
    assert not may_reach(LONG_CHARS, 3 * LONG_CHARS, 0.85)
    assert may_reach(85, 115, 0.85) and not may_reach(84, 116, 0.85)  # 2·85/200 is the cutoff itself


_TEXTS = [
    "", "  ... !!! ", "One two  three.", "北京欢迎你 and some words", "İstanbul ǅ ﬁ ß ΣΑΣ", "x\u0301y \U0001d518 tab\there",
    "\u3371 squared", "a" * 50, "mixed 北京 text, 東京 too",
]


def test_key_lengths_from_sketching_are_the_keys_lengths(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pass 1 records each text's comparison-key length (for strings and for code points);
    a text read in chunks has none (-1), and its key and signature are unchanged."""
    texts = _TEXTS + [p.read_text(encoding="utf-8") for p in SEEDS]
    lengths = np.empty(len(texts), dtype=np.int64)
    keys, sigs, _ = sketch_batch(texts, k=5, num_perm=32, seed=1, key_lengths=lengths)
    assert lengths.tolist() == [len(key_text(t)) for t in texts]
    points = [np.frombuffer(t.encode("utf-32-le"), dtype=np.uint32) for t in texts]
    again = np.empty(len(texts), dtype=np.int64)
    assert sketch_batch(points, k=5, num_perm=32, seed=1, key_lengths=again)[0] == keys
    assert again.tolist() == lengths.tolist()
    monkeypatch.setattr(neardup, "CHUNK_CHARS", 20)
    chunked = np.empty(len(texts), dtype=np.int64)
    keys2, sigs2, _ = sketch_batch(texts, k=5, num_perm=32, seed=1, key_lengths=chunked)
    assert keys2 == keys and (sigs2 == sigs).all()
    assert chunked.tolist() == [-1 if len(t) > 20 and key_text(t) else len(key_text(t)) for t in texts]
