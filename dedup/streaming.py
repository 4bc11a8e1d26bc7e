"""Streaming mode: each record is annotated and written as soon as it is read.

What differs from the batch mode (``dedup clean --streaming``):

- near-duplicates: a document is compared with the documents kept before it, and the first seen
  copy is kept. A later copy gets ``cluster`` = the first copy's id and ``duplicate_of`` = it,
  while the first copy was written before any copy was seen, with ``cluster`` null. Candidates
  are verified by the MinHash estimate of 5-word-shingle Jaccard (at least 0.5, the best single
  Jaccard threshold on the Webis pairs), not by alignment, which would need the text of every
  earlier document. Near copies with small edits in short documents can fall below it.
- boilerplate: rules and the page model only. Corpus evidence needs the whole corpus.
- repeats: within a document only.

Memory holds, per document, its id and exact-copy key, and for a kept document its signature
and band keys (about 1.7 KB a document in all with 128 permutations); never its text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from .config import Config, replace
from .errors import InputError
from .io import to_document
from .model import Document, Skipped, Span
from .neardup import sketch_batch
from .pipeline import removable, remove_spans, span_json
from .sketch import band_keys, lsh_params

_ROWS = 1024
STREAMING_JACCARD = 0.5


def _spans(doc: Document, config: Config) -> list[Span]:
    from .boilerplate import find_boilerplate
    from .repeats import find_repeats

    spans: list[Span] = []
    if config.runs("boilerplate"):
        local = replace(config, "boilerplate", select=config.boilerplate.select, ignore=(*config.boilerplate.ignore, "C001"))
        spans.extend(find_boilerplate([doc], local.boilerplate)[doc.id])
    if config.runs("repeats"):
        spans.extend(find_repeats([doc], (), {doc.id: spans}, config)[doc.id])
    return sorted(spans, key=lambda s: (s.start, s.end, s.kind))


def stream_clean(
    items: Iterable[Any], config: Config, *, annotate_only: bool = False, skipped: list[Skipped] | None = None
) -> Iterator[dict[str, Any]]:
    """Records with their ``dedup`` annotation, one as soon as each input item is read.

    Bad records raise :class:`InputError` (or are appended to ``skipped`` under ``--on-error skip``).
    """
    nd = config.neardup
    bands, rows = lsh_params(nd.lsh_threshold, nd.num_perm)
    min_jaccard = STREAMING_JACCARD
    tables: list[dict[int, int]] = [{} for _ in range(bands)]
    exact: dict[bytes, str] = {}
    sigs = np.empty((_ROWS, nd.num_perm), dtype=np.uint32)
    kept_ids: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        if isinstance(item, Skipped):
            if skipped is not None:
                skipped.append(item)
            continue
        doc = to_document(item, index)
        if doc.id in seen:
            reason = f"duplicate id {doc.id!r}; set --id-field"
            if config.input.on_error == "skip" and skipped is not None:
                skipped.append(Skipped(where=str(doc.source or index), reason=reason))
                continue
            raise InputError(reason, path=doc.source.path if doc.source else None, line=doc.source.line if doc.source else None)
        seen.add(doc.id)
        duplicate_of, similarity = None, None
        if config.runs("duplicates"):
            (key,), sig, valid = sketch_batch([doc.text], k=nd.shingle_size, num_perm=nd.num_perm, seed=nd.seed)
            if key in exact:
                duplicate_of, similarity = exact[key], 1.0
            elif valid[0]:
                row_keys = band_keys(sig, bands, rows)[0]
                candidates = {tables[b][int(k)] for b, k in enumerate(row_keys) if int(k) in tables[b]}
                best = max(((float((sigs[c] == sig[0]).mean()), c) for c in sorted(candidates)), default=(0.0, -1))
                if best[0] >= min_jaccard:
                    duplicate_of, similarity = kept_ids[best[1]], round(best[0], 4)
                else:
                    slot = len(kept_ids)
                    if slot == len(sigs):
                        sigs = np.concatenate((sigs, np.empty_like(sigs)))
                    sigs[slot] = sig[0]
                    kept_ids.append(doc.id)
                    for b, k in enumerate(row_keys):
                        tables[b].setdefault(int(k), slot)
            if duplicate_of is None:
                exact.setdefault(key, doc.id)
        if duplicate_of is not None and not annotate_only:
            continue
        spans = _spans(doc, config) if duplicate_of is None else []
        ann: dict[str, Any] = {
            "cluster": duplicate_of,
            "keep": duplicate_of is None,
            "duplicate_of": duplicate_of,
            "similarity": similarity,
            "boilerplate": [span_json(s) for s in spans if s.kind == "boilerplate"],
            "repeats": [span_json(s) for s in spans if s.kind == "repeat"],
        }
        record = dict(doc.record)
        cut = [(s.start, s.end) for s in spans if removable(s, config)]
        if not annotate_only and cut:
            ann["original_chars"] = len(doc.text)
            record[config.input.text_field] = remove_spans(doc.text, cut)
        record["dedup"] = ann
        yield record
