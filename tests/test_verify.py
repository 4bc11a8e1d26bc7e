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
from dedup.verify import LONG_CHARS, expected_score, may_reach, text_similarity

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


@pytest.mark.parametrize("guess", [0.0, 0.5, 0.9, 0.96, 0.99, 1.0])
def test_a_guess_at_the_score_changes_no_score(guess: float) -> None:
    rng = random.Random(17)
    key = norm_key(SEEDS[2].read_text(encoding="utf-8"))
    for rate in (0.0, 0.01, 0.03, 0.1, 0.3):
        copy = norm_key(edited(key, rate, rng))
        for cutoff in (0.0, 0.85):
            assert text_similarity(key, copy, cutoff=cutoff, first_try=guess) == Indel.normalized_similarity(key, copy, score_cutoff=cutoff)


def test_a_guess_that_holds_aligns_once_and_one_too_high_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    key = norm_key(SEEDS[2].read_text(encoding="utf-8"))
    copy = norm_key(edited(key, 0.02, random.Random(4)))
    score = Indel.normalized_similarity(key, copy)
    assert 0.95 < score < 0.99
    cutoffs: list[float] = []

    class Counting:
        @staticmethod
        def normalized_similarity(a: str, b: str, *, score_cutoff: float) -> float:
            cutoffs.append(score_cutoff)
            return float(Indel.normalized_similarity(a, b, score_cutoff=score_cutoff))

    monkeypatch.setattr(verify, "Indel", Counting)
    assert text_similarity(key, copy, cutoff=0.85, first_try=score - 0.01) == score
    assert cutoffs == [score - 0.01]
    cutoffs.clear()
    assert text_similarity(key, copy, cutoff=0.85, first_try=0.999) == score
    assert len(cutoffs) == 2 and cutoffs[0] > score and cutoffs[1] == 0.85  # the first capped by the lengths
    cutoffs.clear()
    assert text_similarity(key, copy, cutoff=0.85, first_try=0.9) == score  # not half the band: aligned once
    assert cutoffs == [0.85]


def test_the_guess_from_signatures_rises_with_their_estimate() -> None:
    guesses = [expected_score(j / 20, 5, 128) for j in range(21)]
    assert guesses == sorted(guesses) and guesses[0] == 0.0 and 0.99 < guesses[-1] <= 1.0
    assert expected_score(0.75, 5, 128) < expected_score(0.75, 5)  # a cautious guess
    rng = random.Random(8)
    key = norm_key(SEEDS[4].read_text(encoding="utf-8"))
    for rate in (0.01, 0.05):  # words replaced at random: the guess is near the score
        copy = norm_key(edited(key, rate, rng))
        shingles = [{tuple(t.split(" ")[i : i + 5]) for i in range(len(t.split(" ")) - 4)} for t in (key, copy)]
        jaccard = len(shingles[0] & shingles[1]) / len(shingles[0] | shingles[1])
        assert abs(expected_score(jaccard, 5) - Indel.normalized_similarity(key, copy)) < 0.03
