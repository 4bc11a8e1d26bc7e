"""The line model for whole pages: logistic regression over line features.

It speaks only for documents that look like whole pages (a run of many short lines: menus,
link lists, and a line of page chrome that a catalogue rule recognises); on extracted text it
stays silent and the rule catalogue and corpus
evidence decide, because there a short line is far more often a heading than a menu item.
Each feature enters twice, as it is and times the document's share of short lines. Weights
live in ``model.json``, fitted by ``bench/train_boilerplate.py`` on the labelled benchmark pages.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .features import FEATURES

MODEL = Path(__file__).with_name("model.json")
_REGIME = FEATURES.index("doc_short_share")
_PAGE = FEATURES.index("page_like")


def expand(features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Model inputs from raw features (rows): each feature, then each times the regime."""
    regime = features[:, _REGIME : _REGIME + 1]
    return np.hstack((features, features * regime))


@lru_cache(maxsize=1)
def weights() -> npt.NDArray[np.float64]:
    """The fitted weights, checked against the feature list they were fitted for."""
    data = json.loads(MODEL.read_text(encoding="utf-8"))
    if tuple(data["features"]) != FEATURES:
        raise RuntimeError("boilerplate model.json was fitted for other features; run bench/train_boilerplate.py --write")
    return np.asarray(data["weights"], dtype=np.float64)


def probabilities(rows: Sequence[tuple[float, ...]]) -> list[float]:
    """Probability that each line is boilerplate (0.0 throughout for a document that is not page-like)."""
    if not rows or not rows[0] or not rows[0][_PAGE]:
        return [0.0] * len(rows)
    z = expand(np.asarray(rows, dtype=np.float64)) @ weights()
    return [1.0 / (1.0 + math.exp(-v)) for v in np.clip(z, -40, 40)]
