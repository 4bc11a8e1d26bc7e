"""What a persistent index holds, and the interface its back ends (SQLite, Redis) implement.

An index row is one document that was added: its id, its exact-copy key, its MinHash
signature, its text (compressed, for verifying later candidates and for passage sources),
the boilerplate spans found when it was added, and ``rep``, the row its near-duplicate cluster
keeps (itself when it is kept). Look-up tables map document band keys, passage band keys and
exact-copy keys to rows, and hashed line keys to per-site document counts (corpus evidence for
boilerplate).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

# Bump when the stored layout, or what is stored, changes: an index of another format is refused.
# 2: line counts are of the documents cleaning keeps (one a cluster), not of every document.
FORMAT = 2

Keys = npt.NDArray[np.int64]
"""Band keys as signed 64-bit integers (what SQLite stores)."""


@dataclass(frozen=True, slots=True)
class StoredDoc:
    """One indexed document as loaded back."""

    row: int
    id: str
    rep: int
    site: str
    text: str
    spans: tuple[tuple[int, int], ...]
    exact: bytes = b""
    signature: bytes = b""

    @classmethod
    def decode(cls, row: int, doc_id: str, rep: int, site: str, text: bytes, spans: str, exact: bytes, signature: bytes) -> StoredDoc:
        """A document from its stored fields (text compressed with zlib, spans as JSON)."""
        return cls(
            row=row,
            id=doc_id,
            rep=rep,
            site=site,
            text=zlib.decompress(text).decode("utf-8", "surrogatepass"),
            spans=tuple((int(s), int(e)) for s, e in json.loads(spans)),
            exact=bytes(exact),
            signature=bytes(signature),
        )


def encode_text(text: str) -> bytes:
    """A document's text as stored: UTF-8, zlib-compressed."""
    return zlib.compress(text.encode("utf-8", "surrogatepass"), 6)


def encode_spans(spans: Iterable[tuple[int, int]]) -> str:
    return json.dumps([list(s) for s in spans])


@dataclass(frozen=True, slots=True)
class NewRow:
    """One document to add: the row plus what the look-up tables need."""

    row: int
    id: str
    rep: int
    site: str
    text: str
    spans: tuple[tuple[int, int], ...]
    exact: bytes
    signature: bytes
    band_keys: Keys
    passage_keys: Keys


@dataclass(frozen=True, slots=True)
class Change:
    """Everything one ``add`` or ``remove`` writes, applied in one transaction.

    ``reps``: rows whose cluster representative changes. ``passages_off`` / ``passages_on``:
    passage band keys to drop (a document no longer kept) or to add (a document kept again).
    ``lines``: per (line hash, site), the change in document count.
    """

    add: tuple[NewRow, ...] = ()
    remove: tuple[tuple[int, str, bytes, Keys], ...] = ()  # (row, id, exact, band keys)
    reps: Mapping[int, int] = field(default_factory=dict)
    passages_off: Mapping[int, Keys] = field(default_factory=dict)
    passages_on: Mapping[int, Keys] = field(default_factory=dict)
    lines: Mapping[tuple[int, str], int] = field(default_factory=dict)
    next_row: int = 0


class Store(Protocol):
    """A persistent index back end. Keys are signed 64-bit integers (see :func:`signed`)."""

    location: str

    def settings(self) -> dict[str, object] | None:
        """The settings the index was created with; None for a new, empty store."""

    def create(self, settings: Mapping[str, object]) -> None:
        """Record ``settings`` in a new store."""

    def next_row(self) -> int:
        """The row number the next added document gets."""

    def reserve(self, n: int) -> int:
        """Reserve ``n`` rows for documents about to be added; returns the first."""

    def rows_of(self, ids: Iterable[str]) -> dict[str, int]:
        """Rows of those of ``ids`` that are indexed."""

    def band_matches(self, keys: Iterable[int]) -> list[tuple[int, int]]:
        """(key, row) for every indexed document with one of the document band ``keys``."""

    def exact_matches(self, keys: Iterable[bytes]) -> list[tuple[bytes, int]]:
        """(key, row) for every indexed document with one of the exact-copy ``keys``."""

    def passage_matches(self, keys: Iterable[int], *, per_key: int) -> set[int]:
        """Rows of kept documents with a passage band key among ``keys``: the first ``per_key``
        rows of each key."""

    def signatures(self, rows: Iterable[int]) -> dict[int, bytes]:
        """Stored MinHash signatures (uint32, little-endian) by row."""

    def load(self, rows: Iterable[int]) -> list[StoredDoc]:
        """Documents by row, in row order."""

    def members(self, reps: Iterable[int]) -> dict[int, list[int]]:
        """Rows whose representative is each of ``reps`` (the rep itself included)."""

    def line_counts(self, keys: Iterable[int]) -> dict[int, dict[str, int]]:
        """Per line hash: documents per site (``""`` for documents without a site)."""

    def apply(self, change: Change) -> None:
        """Write ``change`` atomically: all of it or, after a crash, none of it."""

    def stats(self) -> dict[str, object]:
        """Counts and sizes for ``dedup index stats``."""

    def close(self) -> None:
        """Release the connection."""


def signed(key: int) -> int:
    """A uint64 key as the signed 64-bit integer SQLite stores."""
    return key - (1 << 64) if key >= 1 << 63 else key


def line_hash(key: str) -> int:
    """A signed 64-bit hash of a boilerplate line key."""
    return signed(int.from_bytes(hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little"))
