"""The whole run over a corpus: read → near-duplicates → repeats → boilerplate → annotate.

``scan`` returns a :class:`Report`; ``annotate`` and ``clean`` turn a report back into records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .collection import fewer_collections
from .config import Config
from .errors import InputError
from .model import Cluster, DocSummary, Document, Report, Skipped, Span, dropped_members
from .text import line_count

if TYPE_CHECKING:
    from .index import Prior
    from .index.store import Store

Progress = Callable[[str, int, int], None]
"""Called as work advances: (stage, done, total); total is 0 where it is not known yet."""


def _quiet(stage: str, done: int, total: int) -> None:
    pass


@fewer_collections()
def collect(items: Iterable[Any], config: Config, progress: Progress = _quiet) -> tuple[list[Document], list[Skipped]]:
    """Documents and skipped records of ``items``; duplicate ids are an error (or skipped)."""
    from .io import to_document

    docs: list[Document] = []
    skipped: list[Skipped] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(items):
        if index % 1000 == 0 and index:
            progress("reading", index, 0)
        if isinstance(item, Skipped):
            skipped.append(item)
            continue
        doc = to_document(item, index)
        where = str(doc.source) if doc.source else f"item {index}"
        if doc.id in seen:
            reason = f"duplicate id {doc.id!r} (first seen at {seen[doc.id]}); set --id-field"
            if config.input.on_error == "skip":
                skipped.append(Skipped(where=where, reason=reason))
                continue
            path, line = (doc.source.path, doc.source.line) if doc.source else (None, None)
            raise InputError(reason, path=path, line=line)
        seen[doc.id] = where
        docs.append(doc)
    if not docs:
        raise InputError("empty corpus: no documents to read" + (f" ({len(skipped)} skipped)" if skipped else ""))
    return docs, skipped


def scan(items: Iterable[Any], config: Config | None = None) -> Report:
    """Find near-duplicate documents, repeated passages and boilerplate in ``items``.

    ``items`` are strings, dicts with ``text`` (and ``id``) or :class:`Document` objects.

    >>> report = scan(["a b c d e f", "a b c d e f", "something else entirely"])
    >>> [c.members for c in report.clusters]
    [('0', '1')]
    """
    report, _ = scan_documents(items, config or Config())
    return report


def scan_documents(items: Iterable[Any], config: Config, progress: Progress = _quiet) -> tuple[Report, list[Document]]:
    """:func:`scan`, also returning the documents it read (for writing records back).

    ``progress`` is called as each stage advances (the CLI draws it as a bar on a terminal).
    """
    docs, skipped = collect(items, config, progress)
    return analyse(docs, skipped, config, progress), docs


def analyse(
    docs: Sequence[Document],
    skipped: Sequence[Skipped],
    config: Config,
    progress: Progress = _quiet,
    prior: Prior | None = None,
) -> Report:
    """Run the stages over ``docs``.

    With ``prior`` (documents loaded from a persistent index, see :mod:`dedup.index`) the
    indexed documents take part as if they came first in the input, and the report covers the
    new documents only: their clusters (which may name indexed documents), their spans.
    """
    from .boilerplate import find_boilerplate
    from .neardup import find_clusters
    from .repeats import find_repeats

    before: Sequence[Document] = prior.docs if prior is not None else ()
    everything = [*before, *docs]
    ids = [d.id for d in everything]
    clusters: tuple[Cluster, ...] = ()
    if config.runs("duplicates"):
        clusters = find_clusters(
            ids,
            [d.text for d in everything],
            config.neardup,
            progress=lambda done, total: progress("near-duplicates", done, total),
            prior=len(before),
            links=prior.links if prior is not None else (),
            sketches=prior.all_sketches(config.neardup.num_perm) if prior is not None else None,
        )
    spans: dict[str, list[Span]] = {d.id: [] for d in docs}
    flagged: dict[str, list[Span]] = {d.id: [] for d in everything}
    if config.runs("boilerplate"):
        # Indexed documents get their boilerplate again, with the new documents' lines counted
        # too: a line may have become boilerplate since they were added. A near-duplicate that
        # cleaning drops is not counted: a page and its copies are one document to corpus
        # evidence (three copies of an article made each of its lines "seen in 3 documents",
        # and cleaning cut the kept copy down to nothing).
        dropped = dropped_members(clusters)
        found_bp = find_boilerplate(
            everything,
            config.boilerplate,
            progress=lambda done, total: progress("boilerplate", done, total),
            prior=prior.lines if prior is not None else None,
            counted=[d for d in docs if d.id not in dropped],
            jobs=config.neardup.jobs,
        )
        for doc_id, found in found_bp.items():
            flagged[doc_id].extend(found)
    if config.runs("repeats"):
        found_rep = find_repeats(
            everything, clusters, flagged, config,
            progress=lambda done, total: progress("repeated passages", done, total), prior=len(before),
            jobs=config.neardup.jobs,
        )
        for doc_id in spans:
            spans[doc_id].extend(found_rep[doc_id])
    for doc_id in spans:
        spans[doc_id].extend(flagged[doc_id])
    if before:
        from .index import prior_clusters

        clusters = prior_clusters(clusters, len(before), ids)
    ordered = {k: tuple(sorted(v, key=lambda s: (s.start, s.end, s.kind))) for k, v in spans.items()}
    summaries = tuple(
        DocSummary(id=d.id, chars=len(d.text), lines=line_count(d.text), source=str(d.source or ""))
        for d in docs
    )
    return Report(
        config_fingerprint=config.fingerprint(),
        documents=summaries,
        clusters=clusters,
        spans=ordered,
        skipped=tuple(skipped),
        stats=_stats(docs, clusters, ordered, config),
    )


def scan_against(
    items: Iterable[Any], config: Config, store: Store, progress: Progress = _quiet
) -> tuple[Report, list[Document], Prior]:
    """:func:`scan_documents` against a persistent index: the report covers ``items`` only,
    and names the indexed documents they duplicate. Also returns the indexed documents that
    were loaded (their texts are needed to show a match)."""
    from .index import gather_prior

    docs, skipped = collect(items, config, progress)
    progress("looking up the index", 0, 0)
    prior = gather_prior(store, docs, config)
    return analyse(docs, skipped, config, progress, prior), docs, prior


def _stats(docs: Sequence[Document], clusters: Sequence[Cluster], spans: Mapping[str, tuple[Span, ...]], config: Config) -> dict[str, Any]:
    chars = sum(len(d.text) for d in docs)
    dropped = dropped_members(clusters)
    removed = sum(len(d.text) for d in docs if d.id in dropped)
    by_category: dict[str, int] = {}
    n_boiler = n_repeat = 0
    for doc in docs:
        if doc.id in dropped:
            continue
        kept_spans = [s for s in spans[doc.id] if removable(s, config)]
        removed += sum(e - s for s, e in _merge((s.start, s.end) for s in kept_spans))
        for s in spans[doc.id]:
            if s.kind == "boilerplate":
                n_boiler += 1
                by_category[s.category] = by_category.get(s.category, 0) + 1
            else:
                n_repeat += 1
    return {
        "documents": len(docs),
        "characters": chars,
        "clusters": len(clusters),
        "duplicates": len(dropped),
        "boilerplate_spans": n_boiler,
        "boilerplate_by_category": dict(sorted(by_category.items())),
        "repeat_spans": n_repeat,
        "removed_characters": removed,
        "removed_share": round(removed / chars, 4) if chars else 0.0,
    }


def removable(span: Span, config: Config) -> bool:
    """Whether cleaning cuts ``span`` (boilerplate and repeats, unless kept by the config)."""
    if span.kind == "boilerplate":
        return not config.boilerplate.keep_boilerplate
    return not config.repeats.keep_repeats


def _merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(ranges):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def remove_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` without ``spans``; a span that covers whole lines takes their line breaks too.

    >>> remove_spans("keep\\ndrop\\nkeep too", [(5, 9)])
    'keep\\nkeep too'
    """
    out = []
    pos = 0
    n = len(text)
    for s, e in _merge(spans):
        if s < pos:
            s = pos
        at_line_start = s == 0 or text[s - 1] in "\r\n"
        if at_line_start and e < n and text[e] in "\r\n":
            e += 2 if text.startswith("\r\n", e) else 1
        elif at_line_start and e >= n and s > 0:
            # Last line removed: drop the break before it instead.
            s -= 2 if s >= 2 and text[s - 2 : s] == "\r\n" else 1
        out.append(text[pos:s])
        pos = max(pos, e)
    out.append(text[pos:])
    return "".join(out)


def span_json(span: Span) -> dict[str, Any]:
    """A span as it appears in the ``dedup`` annotation (see ``dedup/schema/annotation.schema.json``)."""
    data: dict[str, Any] = {
        "start": span.start,
        "end": span.end,
        "rule": span.rule,
        "score": round(span.score, 4),
    }
    if span.kind == "boilerplate":
        data["category"] = span.category
        data["reason"] = span.reason
    if span.source is not None:
        data["source"] = {"id": span.source.id, "start": span.source.start, "end": span.source.end}
    return data


def annotation(doc_id: str, report: Report, cluster_of: Mapping[str, Cluster]) -> dict[str, Any]:
    """The ``dedup`` object added to a document's record."""
    cluster = cluster_of.get(doc_id)
    spans = report.spans.get(doc_id, ())
    return {
        "cluster": cluster.id if cluster else None,
        "keep": cluster is None or cluster.keep == doc_id,
        "duplicate_of": cluster.keep if cluster and cluster.keep != doc_id else None,
        "similarity": cluster.similarity[doc_id] if cluster else None,
        "boilerplate": [span_json(s) for s in spans if s.kind == "boilerplate"],
        "repeats": [span_json(s) for s in spans if s.kind == "repeat"],
    }


def records(report: Report, docs: Sequence[Document], config: Config, *, annotate_only: bool) -> Iterator[dict[str, Any]]:
    """Output records in input order: input fields, then ``dedup``.

    With ``annotate_only`` every record is kept with its text unchanged. Otherwise duplicates
    (not the kept one) are left out and flagged spans are cut from the text; the annotation's
    offsets still index the original text, and ``dedup.original_chars`` gives its length.
    """
    cluster_of = report.cluster_of()
    field = config.input.text_field
    for doc in docs:
        ann = annotation(doc.id, report, cluster_of)
        record = dict(doc.record)
        if not annotate_only:
            if not ann["keep"]:
                continue
            cut = [(s.start, s.end) for s in report.spans.get(doc.id, ()) if removable(s, config)]
            if cut:
                ann["original_chars"] = len(doc.text)
                record[field] = remove_spans(doc.text, cut)
        record["dedup"] = ann
        yield record


def clean(items: Iterable[Any], config: Config | None = None, *, annotate_only: bool = False) -> Iterator[dict[str, Any]]:
    """Records of ``items`` with their ``dedup`` annotation; duplicates and flagged spans removed
    unless ``annotate_only``.

    >>> [r["text"] for r in clean(["same text here", "same text here", "other"])]
    ['same text here', 'other']
    """
    cfg = config or Config()
    report, docs = scan_documents(items, cfg)
    return records(report, docs, cfg, annotate_only=annotate_only)
