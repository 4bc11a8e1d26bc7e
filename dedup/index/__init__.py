"""A persistent index: check new documents against everything added before.

``dedup index add INDEX PATH...`` runs the same analysis as ``dedup clean``, with the
documents already in the index taking part as if they came first in the input, then stores
the new documents. ``--against INDEX`` runs that analysis without storing anything. Only the
indexed documents a new document could match are loaded (those sharing a document band key
or an exact-copy key, or a passage band key), so memory follows the new batch, not the index.

Within a cluster that holds indexed documents one of them is always kept: they are already
published. Adding a corpus in two halves gives the index, and the findings, that adding it in
one run gives (``tests/test_index.py``).

Locations: a file path is an SQLite file (:mod:`dedup.index.sqlite`); ``redis://host:port/db``
is a Redis server (:mod:`dedup.index.redis`), shared by several workers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..config import Config
from ..errors import IndexStoreError, InputError
from ..model import Cluster, Document, Report
from .store import FORMAT, Change, Keys, NewRow, Store, StoredDoc, line_hash

# Passage band keys an index keeps per passage: the first 8 of the 32 bands a run uses. A run
# proposes a pair of 2-word-shingle Jaccard J with probability 1-(1-J²)^32, the index
# 1-(1-J²)^8: 0.90 at J=0.5, 0.97 at J=0.6, 0.999 at J=0.8; the index is four times smaller.
PASSAGE_BANDS = 8
# Indexed documents loaded per passage band key: the earliest, which are the sources a copy is
# credited to. A line shared by thousands of indexed documents loads a few, not all of them.
PASSAGE_ROWS_PER_KEY = 8

__all__ = ["Prior", "add_documents", "gather_prior", "index_settings", "open_index", "remove_documents"]


_NO_KEYS = np.empty(0, dtype=np.int64)


def index_settings(config: Config) -> dict[str, object]:
    """The settings that decide what an index stores: an index built with other values is refused."""
    from ..repeats import PASSAGE_LSH_THRESHOLD, PASSAGE_PERM, PASSAGE_SHINGLE

    nd = config.neardup
    return {
        "format": FORMAT,
        "scheme": nd.scheme,
        "seed": nd.seed,
        "num_perm": nd.num_perm,
        "shingle_size": nd.shingle_size,
        "lsh_threshold": nd.lsh_threshold,
        "passage_min_words": config.repeats.min_words,
        "passage": [PASSAGE_SHINGLE, PASSAGE_PERM, PASSAGE_LSH_THRESHOLD, PASSAGE_BANDS],
        "passages": config.runs("repeats"),
    }


def open_index(location: str, config: Config, *, create: bool = False, for_stages: bool = True) -> Store:
    """Open the index at ``location`` (a file path, or ``redis://...``), checking that it was
    built with ``config``'s settings; ``create`` makes a new one where there is none. With
    ``for_stages``, an index without passages is refused when ``config`` runs the repeats stage."""
    store: Store
    if location.startswith(("redis://", "rediss://", "unix://")):
        from .redis import RedisStore

        store = RedisStore(location)
    else:
        from .sqlite import SQLiteStore

        store = SQLiteStore(location, create=create)
    wanted = index_settings(config)
    found = store.settings()
    if found is None:
        if not create:
            store.close()
            raise IndexStoreError(f"{location}: empty index (add documents with `dedup index add {location} PATH...`)")
        store.create(wanted)
        return store
    diff = ", ".join(f"{k}={found.get(k)!r} (now {v!r})" for k, v in wanted.items() if found.get(k) != v and k != "passages")
    if diff:
        store.close()
        raise IndexStoreError(f"{location}: index built with other settings: {diff}; use those settings or a new index")
    if for_stages and wanted["passages"] and not found.get("passages"):
        store.close()
        raise IndexStoreError(
            f"{location}: index holds no passages (built without the repeats stage); "
            "add --only duplicates --only boilerplate, or build a new index with every stage"
        )
    return store


@dataclass(frozen=True, slots=True)
class Prior:
    """The indexed documents a batch of new documents could match, loaded for one run.

    ``docs`` are in row order and take part in the analysis before the new documents;
    ``links`` join each to its cluster's kept document (indexes into ``docs``); ``lines`` the
    index's line counts for the line keys of the batch and of ``docs`` (per key: documents per
    site). ``sketches`` are the new documents' exact-copy keys,
    signatures and non-empty flags, computed once here and reused when adding.
    """

    docs: tuple[Document, ...]
    stored: tuple[StoredDoc, ...]
    links: tuple[tuple[int, int], ...]
    lines: Mapping[str, Mapping[str, int]]
    sketches: tuple[list[bytes], npt.NDArray[np.uint32], npt.NDArray[np.bool_]]

    def all_sketches(self, num_perm: int) -> tuple[list[bytes], npt.NDArray[np.uint32], npt.NDArray[np.bool_]]:
        """Exact-copy keys, signatures and non-empty flags of the indexed documents then the new
        ones, in the order the analysis sees them (the indexed ones as stored, not recomputed)."""
        keys, sigs, valid = self.sketches
        if not self.stored:
            return keys, sigs, valid
        stored = np.stack([np.frombuffer(d.signature, dtype="<u4").astype(np.uint32) for d in self.stored])
        stored_valid = ~(stored == np.uint32(0xFFFFFFFF)).all(axis=1)
        return [d.exact for d in self.stored] + list(keys), np.concatenate((stored, sigs)), np.concatenate((stored_valid, valid))


def _sketch(docs: Sequence[Document], config: Config) -> tuple[list[bytes], npt.NDArray[np.uint32], npt.NDArray[np.bool_]]:
    from ..neardup import sketch_texts

    return sketch_texts([d.text for d in docs], config.neardup)


def _doc_band_keys(sigs: npt.NDArray[np.uint32], config: Config) -> npt.NDArray[np.int64]:
    from ..sketch import band_keys, lsh_params

    bands, rows = lsh_params(config.neardup.lsh_threshold, config.neardup.num_perm)
    return band_keys(sigs, bands, rows).view(np.int64)


def _passage_keys(
    texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]] | None, config: Config
) -> list[npt.NDArray[np.int64]]:
    from ..repeats import passage_band_keys

    found = passage_band_keys(texts, min_words=config.repeats.min_words, seed=config.neardup.seed, skips=spans, bands=PASSAGE_BANDS)
    return [keys.view(np.int64) for keys in found]


def gather_prior(store: Store, docs: Sequence[Document], config: Config) -> Prior:
    """Load from ``store`` the indexed documents that ``docs`` could match (see :class:`Prior`)."""
    from ..boilerplate.features import line_keys
    from ..neardup import BATCH, MIN_ESTIMATED_JACCARD

    taken = store.rows_of(d.id for d in docs)
    if taken:
        first = next(d for d in docs if d.id in taken)
        where = f"{first.source}: " if first.source else ""
        raise InputError(f"{where}id {first.id!r} is already in index {store.location} ({len(taken)} such ids); give new documents new ids")
    exact, sigs, valid = _sketch(docs, config)
    rows: set[int] = set()
    if config.runs("duplicates") or config.runs("repeats"):
        keys = _doc_band_keys(sigs, config)
        owners: dict[int, list[int]] = {}
        for i in np.flatnonzero(valid):
            for k in keys[i]:
                owners.setdefault(int(k), []).append(int(i))
        matches = store.band_matches(owners)
        stored_sigs = store.signatures({r for _, r in matches})
        for key, row in matches:
            theirs = np.frombuffer(stored_sigs[row], dtype="<u4")
            # The same filter as a run over one corpus applies to its candidates.
            if any((sigs[i] == theirs).mean() >= MIN_ESTIMATED_JACCARD for i in owners[key]):
                rows.add(row)
        rows.update(r for _, r in store.exact_matches(set(exact)))
    if config.runs("repeats"):
        passage_keys: set[int] = set()
        for start in range(0, len(docs), BATCH):
            for keys in _passage_keys([d.text for d in docs[start : start + BATCH]], None, config):
                passage_keys.update(keys.tolist())
        rows.update(store.passage_matches(passage_keys, per_key=PASSAGE_ROWS_PER_KEY))
    loaded = {d.row: d for d in store.load(rows)}
    missing = {d.rep for d in loaded.values()} - set(loaded)
    loaded.update({d.row: d for d in store.load(missing)})
    stored = tuple(loaded[r] for r in sorted(loaded))
    position = {d.row: i for i, d in enumerate(stored)}
    lines: dict[str, dict[str, int]] = {}
    if config.runs("boilerplate"):
        texts = [d.text for d in docs] + [d.text for d in stored]
        by_hash = {line_hash(k): k for text in texts for k in line_keys(text)}
        lines = {by_hash[h]: counts for h, counts in store.line_counts(by_hash).items()}
    return Prior(
        docs=tuple(Document(id=d.id, text=d.text, site=d.site or None) for d in stored),
        stored=stored,
        links=tuple((position[d.row], position[d.rep]) for d in stored if d.rep != d.row),
        lines=lines,
        sketches=(exact, sigs, valid),
    )


def _has_passages(store: Store) -> bool:
    return bool((store.settings() or {}).get("passages"))


def add_documents(store: Store, docs: Sequence[Document], report: Report, prior: Prior, config: Config) -> Change:
    """What adding ``docs`` writes, given the report of their run against the index (with
    ``prior``); apply it with ``store.apply``."""
    exact, sigs, valid = prior.sketches
    with_passages = _has_passages(store)
    band = _doc_band_keys(sigs, config)
    next_row = store.reserve(len(docs))
    row_of = {d.id: d.row for d in prior.stored}
    row_of.update({d.id: next_row + i for i, d in enumerate(docs)})
    stored_by_row = {d.row: d for d in prior.stored}
    rep_of = {d.row: d.rep for d in prior.stored}
    reps: dict[int, int] = {}
    passages_off: dict[int, Keys] = {}
    # Line counts are of the documents cleaning keeps, one for each cluster (as a run over the
    # whole corpus counts them, see dedup.pipeline.analyse).
    lines: dict[tuple[int, str], int] = {}
    for cluster in report.clusters:
        keep = row_of[cluster.keep]
        for member in cluster.members:
            row = row_of[member]
            if row in rep_of and rep_of[row] != keep:
                old = rep_of[row]
                # The indexed group joins the cluster: every row it holds now points to ``keep``.
                for m in store.members([old]).get(old, [old]):
                    reps[m] = keep
                    rep_of[m] = keep
                old_doc = stored_by_row[old]
                _count_lines(lines, old_doc.text, old_doc.site, -1)  # no longer a kept document
                if with_passages:
                    passages_off[old] = _passage_keys([old_doc.text], [old_doc.spans], config)[0]
            elif row not in rep_of:
                rep_of[row] = keep
    new_rows = []
    all_spans = [tuple((s.start, s.end) for s in report.spans.get(d.id, ()) if s.kind == "boilerplate") for d in docs]
    kept = [i for i, _ in enumerate(docs) if rep_of.get(next_row + i, next_row + i) == next_row + i and with_passages]
    kept_keys = dict(zip(kept, _passage_keys([docs[i].text for i in kept], [all_spans[i] for i in kept], config), strict=True))
    for i, d in enumerate(docs):
        row = next_row + i
        spans = all_spans[i]
        rep = rep_of.get(row, row)
        if rep == row:
            _count_lines(lines, d.text, d.site or "", 1)
        new_rows.append(
            NewRow(
                row=row,
                id=d.id,
                rep=rep,
                site=d.site or "",
                text=d.text,
                spans=spans,
                exact=exact[i],
                signature=sigs[i].astype("<u4").tobytes(),
                band_keys=band[i] if valid[i] else band[i][:0],
                passage_keys=kept_keys.get(i, _NO_KEYS),
            )
        )
    return Change(
        add=tuple(new_rows), reps=reps, passages_off=passages_off, lines=lines, next_row=next_row + len(docs)
    )


def _count_lines(lines: dict[tuple[int, str], int], text: str, site: str, step: int) -> None:
    """Add ``step`` to the count of each line key of ``text`` for ``site`` in ``lines``."""
    from ..boilerplate.features import line_keys

    for k in line_keys(text):
        pair = (line_hash(k), site)
        lines[pair] = lines.get(pair, 0) + step


def remove_documents(store: Store, ids: Sequence[str], config: Config) -> Change:
    """What removing the documents ``ids`` writes. A removed document that was its cluster's
    kept one hands that role to the earliest remaining member."""
    with_passages = _has_passages(store)
    rows = store.rows_of(ids)
    missing = [i for i in ids if i not in rows]
    if missing:
        more = " …" if len(missing) > 5 else ""
        raise IndexStoreError(f"{store.location}: not in the index: {', '.join(map(repr, missing[:5]))}{more}")
    gone = set(rows.values())
    docs = store.load(gone)
    exact, sigs, valid = _sketch([Document(d.id, d.text) for d in docs], config)
    band = _doc_band_keys(sigs, config)
    removed = []
    lines: dict[tuple[int, str], int] = {}
    passages_off: dict[int, Keys] = {}
    for i, d in enumerate(docs):
        removed.append((d.row, d.id, exact[i], band[i] if valid[i] else band[i][:0]))
        if d.rep == d.row:  # a kept document: its lines were counted (see add_documents)
            _count_lines(lines, d.text, d.site, -1)
            if with_passages:
                passages_off[d.row] = _passage_keys([d.text], [d.spans], config)[0]
    reps: dict[int, int] = {}
    passages_on: dict[int, Keys] = {}
    for rep, members in store.members(r for r in gone).items():
        left = [m for m in members if m not in gone]
        if rep in gone and left:
            new_rep = min(left)
            reps.update({m: new_rep for m in left})
            (heir,) = store.load([new_rep])
            _count_lines(lines, heir.text, heir.site, 1)  # kept now
            if with_passages:
                passages_on[new_rep] = _passage_keys([heir.text], [heir.spans], config)[0]
    return Change(
        remove=tuple(removed), reps=reps, passages_off=passages_off, passages_on=passages_on, lines=lines, next_row=store.next_row()
    )


def prior_clusters(clusters: Sequence[Cluster], prior: int, ids: Sequence[str]) -> tuple[Cluster, ...]:
    """The clusters that hold a new document (not only indexed ones), numbered again."""
    import dataclasses

    indexed = set(ids[:prior])
    kept = [c for c in clusters if any(m not in indexed for m in c.members)]
    return tuple(dataclasses.replace(c, id=f"c{n}") for n, c in enumerate(kept, start=1))

