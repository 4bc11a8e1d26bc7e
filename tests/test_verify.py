"""Verification's similarity: exact whichever way it is computed."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from rapidfuzz.distance import Indel

from dedup import verify
from dedup.text import norm_key
from dedup.verify import text_similarity

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
