"""True similarity of candidate pairs: the verification step after LSH.

All scores are floats in [0, 1]; rapidfuzz's 0-100 scales never leave this module.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
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


def jaccard(a: npt.NDArray[np.uint32], b: npt.NDArray[np.uint32]) -> float:
    """Exact Jaccard similarity of two sorted unique shingle-hash arrays."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def containment(part: npt.NDArray[np.uint32], whole: npt.NDArray[np.uint32]) -> float:
    """Share of ``part``'s shingles that also occur in ``whole`` (0.0 for an empty ``part``)."""
    if len(part) == 0:
        return 0.0
    return len(np.intersect1d(part, whole, assume_unique=True)) / len(part)
