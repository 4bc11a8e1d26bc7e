"""Repeated passages within and across documents (filled in by the repeats stage)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .config import Config
from .model import Cluster, Document, Span


def find_repeats(
    docs: Sequence[Document], clusters: Sequence[Cluster], flagged: Mapping[str, list[Span]], config: Config
) -> dict[str, list[Span]]:
    return {}
