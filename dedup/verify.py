"""True similarity of candidate pairs: the verification step after LSH.

Scores are floats in [0, 1] (Indel's normalised similarity already is).
"""

from __future__ import annotations

from rapidfuzz.distance import Indel


def text_similarity(a: str, b: str, *, cutoff: float = 0.0) -> float:
    """Indel similarity ``2·LCS / (len(a) + len(b))`` of two normalised texts; 0.0 below ``cutoff``.

    Order-aware, unlike shingle Jaccard: two pages that share a template but differ in their
    article disagree over a long stretch, and score low.

    >>> round(text_similarity("the cat sat", "the cat sat down"), 3)
    0.815
    """
    if a == b:
        return 1.0
    return float(Indel.normalized_similarity(a, b, score_cutoff=cutoff))
