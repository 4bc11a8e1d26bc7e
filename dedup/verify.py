"""True similarity of candidate pairs: the verification step after LSH.

Scores are floats in [0, 1] (Indel's normalised similarity already is).
"""

from __future__ import annotations

import math
from collections import Counter

from rapidfuzz.distance import Indel

LONG_CHARS = 20_000  # two texts both longer than this are aligned word by word
FIRST_TRY = 0.97  # long texts are aligned at this cutoff first (see text_similarity), unless told
FIRST_TRY_CHARS = 2_000  # ... when both are at least this long (shorter ones gain nothing)
# Characters of alignment a replaced word costs, per character of the words it replaces (see
# expected_score): timed on pairs of bench/make_corpus.py's corpus, 0.7 to 0.9 are within 7%.
REPLACED_WORD_COST = 0.8


def expected_score(jaccard: float, shingle_size: int, samples: int = 0) -> float:
    """A guess at :func:`text_similarity` of two texts whose ``shingle_size``-word shingles have
    this Jaccard similarity (as their signatures estimate it), for the first try's cutoff.

    As if a share ``e`` of either text's words were replaced at random: a shingle survives
    when none of its words is replaced, so the share ``x`` of either text's shingles that the
    other holds is ``(1 - e)^k``, and Jaccard ``x / (2 - x)``; a replaced word costs about
    :data:`REPLACED_WORD_COST` of its characters. Only a guess: a score is never taken from it.

    >>> round(expected_score(1.0, 5), 3), round(expected_score(0.75, 5), 3), round(expected_score(0.35, 5), 3)
    (1.0, 0.976, 0.902)
    """
    if samples:
        # One standard error below the estimate of ``samples`` signature values: a guess a
        # little low costs a wider band, one a little high a second alignment.
        jaccard -= math.sqrt(max(jaccard * (1 - jaccard), 0.0) / samples)
    if jaccard <= 0.0:
        return 0.0
    shared = 2 * jaccard / (1 + jaccard)
    replaced = 1.0 - float(min(shared, 1.0) ** (1.0 / shingle_size))
    return 1.0 - REPLACED_WORD_COST * replaced


def text_similarity(a: str, b: str, *, cutoff: float = 0.0, first_try: float = FIRST_TRY) -> float:
    """Indel similarity ``2·LCS / (len(a) + len(b))`` of two normalised texts, by characters (by
    words when both are over :data:`LONG_CHARS` characters); 0.0 below ``cutoff``.

    ``first_try``: a guess at the score (see :func:`expected_score`); two long texts are
    aligned at that cutoff first, which is faster where the guess holds. It changes no score.

    Order-aware, unlike shingle Jaccard: two pages that share a template but differ in their
    article disagree over a long stretch, and score low.

    >>> round(text_similarity("the cat sat", "the cat sat down"), 3)
    0.815
    """
    if a == b:
        return 1.0
    if len(a) > LONG_CHARS and len(b) > LONG_CHARS:
        # Alignment is quadratic: two long texts are aligned word by word (about 36 times
        # cheaper); on the Webis pairs this moves F1 from 0.904 to 0.903.
        words_a, words_b = a.split(" "), b.split(" ")
        if cutoff and 2 * (Counter(words_a) & Counter(words_b)).total() < cutoff * (len(words_a) + len(words_b)):
            # A common subsequence holds no word more often than either text does: when even
            # that bound is below the cutoff, the alignment cannot reach it (same result, a
            # tenth of the time).
            return 0.0
        return float(Indel.normalized_similarity(words_a, words_b, score_cutoff=cutoff))
    # No score is above what the shorter text allows (see may_reach): a first try above that fails.
    first_try = min(first_try, 2 * min(len(a), len(b)) / (len(a) + len(b)))
    # The band's width, and the time, grow with 1 - cutoff: a first try that does not halve
    # it would save little where it holds and add much where it fails.
    if 1 - first_try <= (1 - cutoff) / 2 and min(len(a), len(b)) >= FIRST_TRY_CHARS:
        # A score at or above the first try's cutoff is exact; the others are aligned again
        # at ``cutoff``.
        close = Indel.normalized_similarity(a, b, score_cutoff=first_try)
        if close:
            return float(close)
    return float(Indel.normalized_similarity(a, b, score_cutoff=cutoff))


def may_reach(len_a: int, len_b: int, cutoff: float) -> bool:
    """Whether two texts of these lengths could score ``cutoff`` in :func:`text_similarity`:
    a common subsequence is no longer than the shorter text, so a score is at most
    ``2·min / (len_a + len_b)``. Negative lengths (not known), and two texts aligned by words
    (both over :data:`LONG_CHARS`), may always. A pair this rules out scores 0.0 at ``cutoff``.

    >>> may_reach(1000, 1200, 0.85), may_reach(1000, 1400, 0.85)
    (True, False)
    """
    if len_a < 0 or len_b < 0 or (len_a > LONG_CHARS and len_b > LONG_CHARS) or len_a == len_b:
        return True
    # With a margin for rounding: a pair let through in vain costs an alignment, never a result.
    return 2 * min(len_a, len_b) >= (cutoff - 1e-9) * (len_a + len_b)

