"""Plain, frozen data that flows between the stages.

Offsets are Python ``str`` indices into a document's original text, ``[start, end)``.
Every similarity is a float in [0, 1].
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Source:
    """Where a document came from: a file and, for JSONL, its 1-based line number."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class Document:
    """One input document. ``record`` holds every input field, for writing them back unchanged."""

    id: str
    text: str
    record: Mapping[str, Any] = field(default_factory=dict)
    source: Source | None = None
    site: str | None = None


@dataclass(frozen=True, slots=True)
class SpanRef:
    """A span of another (or the same) document: the passage a repeat copies."""

    id: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Span:
    """A flagged stretch of one document's original text.

    ``kind`` is ``"boilerplate"`` or ``"repeat"``; ``rule`` the rule code or evidence name
    (``B012``, ``corpus-frequency``, ``repeat-within``...); ``score`` in [0, 1].
    """

    start: int
    end: int
    kind: str
    rule: str
    score: float
    category: str = ""
    reason: str = ""
    source: SpanRef | None = None


@dataclass(frozen=True, slots=True)
class Cluster:
    """Near-duplicate documents: ``keep`` survives cleaning, the other members are dropped.

    ``similarity`` maps every member id to its similarity with the kept document (1.0 for it).
    """

    id: str
    keep: str
    members: tuple[str, ...]
    similarity: Mapping[str, float]


def dropped_members(clusters: Iterable[Cluster]) -> set[str]:
    """The ids that cleaning drops: every member of ``clusters`` but each one's kept document."""
    return {m for c in clusters for m in c.members if m != c.keep}


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record left out under ``--on-error skip``, with why."""

    where: str
    reason: str


@dataclass(frozen=True, slots=True)
class DocSummary:
    """What the report needs of each document without holding its text."""

    id: str
    chars: int
    lines: int
    source: str


@dataclass(frozen=True, slots=True)
class Report:
    """Everything one scan found. ``spans`` maps document id to its flagged spans, in order."""

    config_fingerprint: Mapping[str, Any]
    documents: tuple[DocSummary, ...]
    clusters: tuple[Cluster, ...]
    spans: Mapping[str, tuple[Span, ...]]
    skipped: tuple[Skipped, ...]
    stats: Mapping[str, Any]

    def cluster_of(self) -> dict[str, Cluster]:
        """Map every clustered document id to its cluster."""
        return {m: c for c in self.clusters for m in c.members}
