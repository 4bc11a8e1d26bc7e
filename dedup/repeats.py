"""Repeated passages within and across documents.

Documents are cut into passages (lines of at least ``min_words`` words; sentences inside long
paragraphs), passages are sketched with MinHash and banded (same code as documents), and
every candidate pair is verified with :func:`~dedup.verify.text_similarity`. Runs of
consecutive repeated passages that copy the same source in the same order are merged into one
repeated *section*, short headings between them included. The first occurrence is the original
and is never flagged: within a document the later copy is; across documents the copy in the
document the keep policy would drop. Documents that are dropped as near-duplicates are not
searched at all: the document their cluster keeps holds the same text.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel, ScoreAlignment

from .cluster import keep_rank
from .collection import fewer_collections
from .config import Config
from .forked import processes, ranges, shared, workers_for
from .kernel import key_text, minhash, span_words
from .model import Cluster, Document, Span, SpanRef, dropped_members
from .sketch import band_keys, candidate_pairs, lsh_params, permutations
from .text import close_unspaced_gaps, line_spans
from .verify import LONG_CHARS, text_similarity

PASSAGE_SHINGLE = 2
PASSAGE_PERM = 64
PASSAGE_LSH_THRESHOLD = 0.3
LONG_PARAGRAPH_WORDS = 25  # longer lines are matched sentence by sentence, so copies of part of a paragraph align
MAX_GAP_CHARS = 400  # headings and short lines between two copied passages stay in the section
EXTEND_SCORE = 0.75  # alignment score at which a neighbouring unit joins a verified section
EXTEND_MIN_WORDS = 5
EXTEND_MAX_CHARS = 800  # alignment is quadratic: a longer step (an unpunctuated page blob) ends the growth
# A sentence ends at . ! ? … followed by space, or at a CJK full stop, which takes no space.
# Each match starts with the stop itself (the sentence ends after it): a pattern led by a set of
# characters lets the search skip to them, twice as fast as one led by a look-behind.
_SENTENCE_END = re.compile(r"[.!?…][\"”’)\]]*\s+(?=\S)|[。！？][」』”’）]*\s*(?=\S)")


@dataclass(frozen=True, slots=True)
class Passage:
    """A stretch of one document that is long enough to count as a repeat on its own."""

    doc: int
    start: int
    end: int
    key: str


def _sentences(text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
    """The sentences of ``text[start:end]``, as spans (each with its stop, without the spaces
    after it)."""
    pos = start
    for m in _SENTENCE_END.finditer(text, start, end):
        yield pos, m.start() + 1
        pos = m.end()
    if pos < end:
        yield pos, end


Words = tuple[bytes, npt.NDArray[np.uint64], int, int]  # what kernel.words_of returns


def units(
    text: str, *, skip: Sequence[tuple[int, int]] = (), words: dict[tuple[int, int], Words] | None = None
) -> list[tuple[int, int]]:
    """Every non-empty line, or sentence of a long line, without surrounding spaces, in order.
    Lines inside ``skip`` spans (boilerplate) are left out. The words of each line whose words
    were counted (a line that stayed one unit) go into ``words``, by span."""
    skipped = set(skip)
    lines: list[tuple[int, int]] = []
    for s, e in line_spans(text):
        if (s, e) in skipped:
            continue
        line = text[s:e]
        stripped = line.strip()
        if not stripped:
            continue
        s += len(line) - len(line.lstrip())
        lines.append((s, s + len(stripped)))
    # A line of at most LONG_PARAGRAPH_WORDS characters cannot hold more words: no count.
    # The others are counted in one pass.
    long = [(s, e) for s, e in lines if e - s > LONG_PARAGRAPH_WORDS]
    counted = dict(zip(long, span_words(text, long), strict=True))
    out: list[tuple[int, int]] = []
    for s, e in lines:
        found = counted.get((s, e))
        if found is not None:
            if found[2] > LONG_PARAGRAPH_WORDS:
                out.extend(_sentences(text, s, e))
                continue
            if words is not None:
                words[s, e] = found
        out.append((s, e))
    return out


@dataclass(frozen=True)
class DocumentPassages:
    """A document's units, its passages and their MinHash rows (see :func:`document_passages`)."""

    units: list[tuple[int, int]]
    passages: list[Passage]
    signatures: npt.NDArray[np.uint32]


def document_passages(
    doc_index: int, text: str, *, min_words: int, seed: int, skip: Sequence[tuple[int, int]] = ()
) -> DocumentPassages:
    """The :func:`units` of a document, those long enough (``min_words``) to count as repeats on
    their own, and their MinHash rows over word 2-shingles (``PASSAGE_PERM`` permutations: the
    rows :func:`~dedup.sketch.signatures` gives for their shingle sets): each unit's words
    found once, by the compiled kernel."""
    words: dict[tuple[int, int], Words] = {}
    found = units(text, skip=skip, words=words)
    a, b = permutations(PASSAGE_PERM, seed)
    missing = [span for span in found if span not in words]
    words.update(zip(missing, span_words(text, missing), strict=True))
    kept = [(span, words[span]) for span in found if words[span][2] >= min_words]
    out = [
        Passage(doc_index, ps, pe, close_unspaced_gaps(joined.decode("utf-8", "surrogatepass").replace("\x1f", " ")))
        for (ps, pe), (joined, _, _, _) in kept
    ]
    sigs = np.full((len(kept), PASSAGE_PERM), 0xFFFFFFFF, dtype=np.uint32)
    for row, (_, (_, hashes, _, _)) in enumerate(kept):
        minhash(hashes, PASSAGE_SHINGLE, a, b, sigs[row])
    return DocumentPassages(found, out, sigs)


def passages(doc_index: int, text: str, *, min_words: int, skip: Sequence[tuple[int, int]] = ()) -> list[Passage]:
    """The units of a document long enough (``min_words``) to count as repeats on their own."""
    return document_passages(doc_index, text, min_words=min_words, seed=1, skip=skip).passages  # rows unused


def passage_band_keys(
    texts: Sequence[str],
    *,
    min_words: int,
    seed: int,
    skips: Sequence[Sequence[tuple[int, int]]] | None = None,
    bands: int | None = None,
) -> list[npt.NDArray[np.uint64]]:
    """The LSH band keys of every passage of each text, unique and sorted: what a persistent
    index stores so that a later document's passages find this one (the keys are those
    :func:`find_repeats` bands with; ``bands`` keeps only the first few). ``skips`` are spans to
    leave out of each text (boilerplate)."""
    found = [
        document_passages(i, text, min_words=min_words, seed=seed, skip=skips[i] if skips is not None else ())
        for i, text in enumerate(texts)
    ]
    return band_keys_of(found, bands=bands)


def band_keys_of(found: Sequence[DocumentPassages], *, bands: int | None = None) -> list[npt.NDArray[np.uint64]]:
    """:func:`passage_band_keys` of documents already cut into passages."""
    all_bands, rows = lsh_params(PASSAGE_LSH_THRESHOLD, PASSAGE_PERM)
    bands = all_bands if bands is None else min(bands, all_bands)
    owner = [i for i, doc in enumerate(found) for _ in range(len(doc.signatures))]
    if not owner:
        return [np.empty(0, dtype=np.uint64) for _ in found]
    keys = band_keys(np.concatenate([doc.signatures for doc in found]), bands, rows)
    owners = np.asarray(owner)
    bounds = np.searchsorted(owners, np.arange(len(found) + 1))
    return [np.unique(keys[bounds[i] : bounds[i + 1]]) for i in range(len(found))]


def _copy_and_source(a: Passage, b: Passage, rank: Mapping[int, int]) -> tuple[Passage, Passage]:
    """Which of two matching passages is the copy: the later one in a document, else the one in
    the document that ranks lower under the keep policy."""
    if a.doc == b.doc:
        return (b, a) if (b.start, b.end) > (a.start, a.end) else (a, b)
    return (b, a) if rank[b.doc] > rank[a.doc] else (a, b)


def _merge(matches: list[tuple[Passage, Passage, float]], docs: Sequence[Document]) -> list[Span]:
    """Merge consecutive matched passages of one (copy document, source document) pair."""
    spans = []
    matches.sort(key=lambda m: (m[0].start, m[1].start))
    run: list[tuple[Passage, Passage, float]] = []

    def flush() -> None:
        if not run:
            return
        copy_doc, src_doc = run[0][0].doc, run[0][1].doc
        start, end = run[0][0].start, max(m[0].end for m in run)
        src_start, src_end = min(m[1].start for m in run), max(m[1].end for m in run)
        if len(run) == 1:
            # The section is the two passages, whose keys (the key_text of their spans) were
            # aligned already: most sections are one passage.
            sim = run[0][2]
        else:
            sim = text_similarity(key_text(docs[src_doc].text[src_start:src_end]), key_text(docs[copy_doc].text[start:end]))
        rule = "repeat-within" if copy_doc == src_doc else "repeat-across"
        spans.append(Span(start, end, "repeat", rule, sim, source=SpanRef(docs[src_doc].id, src_start, src_end)))
        run.clear()

    for m in matches:
        if run:
            last_copy, last_src, _ = run[-1]
            gap = m[0].start - last_copy.end
            # The source must move on past the previous source, and within one document stay
            # entirely before the section's copy (a line repeated five times is four repeats
            # of the first, not one section repeating itself).
            in_order = last_src.end <= m[1].start <= last_src.end + MAX_GAP_CHARS + gap
            if m[0].doc == m[1].doc:
                in_order = in_order and m[1].end <= run[0][0].start
            if m[0].start < last_copy.end:
                # Overlapping matches of the same copy passage: keep the first.
                continue
            if not (0 <= gap <= MAX_GAP_CHARS and in_order):
                flush()
        run.append(m)
    flush()
    return spans


def _lower(text: str) -> str:
    low = text.lower()
    return low if len(low) == len(text) else text  # offsets must stay valid


def _step(text: str, unit_list: Sequence[tuple[int, int]], index: int, direction: int) -> tuple[int, int, int] | None:
    """Units from ``index`` on (or back), gathered until they hold EXTEND_MIN_WORDS words:
    (start, end, next index). Short headings are thus judged together with what follows."""
    n_words = 0
    first = index
    while 0 <= index < len(unit_list):
        s, e = unit_list[index]
        n_words += len(text[s:e].split())
        index += direction
        if n_words >= EXTEND_MIN_WORDS:
            lo, hi = sorted((unit_list[first], unit_list[index - direction]))
            return lo[0], hi[1], index
    return None


def _aligns(piece: str, window: str, *, forward: bool) -> ScoreAlignment | None:
    """Where ``piece`` aligns in ``window`` (near its start going ``forward``, near its end going
    back), when it aligns well enough to join a section. Exact copies are found by a plain
    search and others are first checked for word overlap: the alignment itself is quadratic."""
    slack = max(40, len(piece) // 3)
    at = window.find(piece, 0, slack + len(piece)) if forward else window.rfind(piece, max(0, len(window) - len(piece) - slack))
    if at >= 0:
        return ScoreAlignment(100.0, 0, len(piece), at, at + len(piece))
    piece_words = piece.lower().split()
    if not piece_words:
        return None
    window_words = set(window.lower().split())
    if sum(w in window_words for w in piece_words) < 0.5 * len(piece_words):
        return None
    a = fuzz.partial_ratio_alignment(_lower(piece), _lower(window))
    return a if a is not None and a.score >= EXTEND_SCORE * 100 else None


def _extend(
    span: Span,
    copy_doc: int,
    src_doc: int,
    docs: Sequence[Document],
    doc_units: Sequence[tuple[list[tuple[int, int]], list[int]]],
    bounds: tuple[int, int],
) -> Span:
    """Grow a verified section over neighbouring units whose text aligns (rapidfuzz partial
    alignment) with the text right next to its source: edited sentences that failed on their
    own, or that were cut differently in the two documents, join the section. It stays within
    ``bounds``, the neighbouring sections of the same document, which have sources of their own."""
    src = span.source
    assert src is not None
    text, src_text = docs[copy_doc].text, docs[src_doc].text
    unit_list, starts = doc_units[copy_doc]
    start, end, src_start, src_end = span.start, span.end, src.start, src.end
    same = copy_doc == src_doc

    index = bisect.bisect_left(starts, end)
    while (step := _step(text, unit_list, index, 1)) is not None:
        s, e, index = step
        piece = text[s:e]
        limit = start if same else len(src_text)
        window = src_text[src_end : min(limit, src_end + 2 * len(piece) + 40)]
        if e > bounds[1] or s - end > MAX_GAP_CHARS or len(piece) > EXTEND_MAX_CHARS or len(window) < len(piece) // 2:
            break
        a = _aligns(piece, window, forward=True)
        if a is None or a.dest_start > max(40, len(piece) // 3):
            break
        end, src_end = e, src_end + a.dest_end

    index = bisect.bisect_left(starts, start) - 1
    while (step := _step(text, unit_list, index, -1)) is not None:
        s, e, index = step
        piece = text[s:e]
        if s < bounds[0] or start - e > MAX_GAP_CHARS or len(piece) > EXTEND_MAX_CHARS or (same and s < src_end):
            break
        lo = max(0, src_start - 2 * len(piece) - 40)
        window = src_text[lo:src_start]
        if len(window) < len(piece) // 2:
            break
        a = _aligns(piece, window, forward=False)
        if a is None or len(window) - a.dest_end > max(40, len(piece) // 3):
            break
        start, src_start = s, lo + a.dest_start

    # An alignment may take a neighbouring space or line break along.
    while src_end > src_start and src_text[src_end - 1].isspace():
        src_end -= 1
    while src_start < src_end and src_text[src_start].isspace():
        src_start += 1
    if (start, end, src_start, src_end) == (span.start, span.end, src.start, src.end):
        return span
    sim = text_similarity(key_text(src_text[src_start:src_end]), key_text(text[start:end]))
    return Span(start, end, span.kind, span.rule, sim, source=SpanRef(src.id, src_start, src_end))


@fewer_collections()
def find_repeats(
    docs: Sequence[Document],
    clusters: Sequence[Cluster],
    flagged: Mapping[str, list[Span]],
    config: Config,
    *,
    progress: Callable[[int, int], None] | None = None,
    prior: int = 0,
    targets: set[str] | None = None,
    jobs: int = 1,
) -> dict[str, list[Span]]:
    """Repeated sections of every document, each with the span it repeats (``Span.source``).

    The first ``prior`` documents come from a persistent index: they rank before every other
    document, so a passage they share with a new document is the new document's repeat.
    ``targets``: the ids whose spans are wanted (default all); other documents only serve as
    sources, and candidate pairs that cannot touch a target are not verified. With ``jobs``
    above 1 (0: all cores), documents are cut into passages in worker processes."""
    rc = config.repeats
    index_of = {d.id: i for i, d in enumerate(docs)}
    # Clusters may name documents that are not in ``docs`` (a shard's task sees part of the corpus).
    cluster_of = {index_of[m]: c.id for c in clusters for m in c.members if m in index_of}
    # Near-duplicates that cleaning drops are not searched: their kept twin carries the same text,
    # as a source and as a copy.
    dropped = {index_of[m] for m in dropped_members(clusters) if m in index_of}
    lengths = [len(d.text) for d in docs]
    # Rank of each document under the keep policy: lower rank is the original.
    rank = keep_rank(lengths, policy=config.neardup.keep, prior=prior)

    all_passages: list[Passage] = []
    all_sigs: list[npt.NDArray[np.uint32]] = []
    doc_units: list[tuple[list[tuple[int, int]], list[int]]] = []  # units and their starts
    searched = _Searched(
        texts=[d.text for d in docs],
        skips=[[(s.start, s.end) for s in flagged.get(d.id, ())] if i not in dropped else None for i, d in enumerate(docs)],
        min_words=rc.min_words,
        seed=config.neardup.seed,
    )
    for stop, found_in_range in _each_range(searched, jobs):
        for found in found_in_range:
            doc_units.append((found.units, [u[0] for u in found.units]) if found is not None else ([], []))
            if found is not None:
                all_passages.extend(found.passages)
                all_sigs.append(found.signatures)
        if progress is not None:
            progress(stop, len(docs))
    out: dict[str, list[Span]] = {d.id: [] for d in docs}
    if len(all_passages) < 2:
        return out

    # Identical passages (boilerplate sentences, copies of copies) are grouped first: only one
    # per group, its original, is sketched, and every other member repeats it.
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(all_passages):
        groups.setdefault(p.key, []).append(i)
    originals: list[int] = []
    members_of: dict[int, list[int]] = {}
    for group in groups.values():
        first = min(group, key=lambda i: (rank[all_passages[i].doc], all_passages[i].start))
        originals.append(first)
        members_of[first] = group

    best: dict[int, tuple[Passage, Passage, float]] = {}

    def offer(copy_i: int, source: Passage, sim: float) -> None:
        copy = all_passages[copy_i]
        if copy.doc != source.doc and copy.doc in cluster_of and cluster_of.get(copy.doc) == cluster_of.get(source.doc):
            return  # near-duplicate documents: the cluster already says it
        current = best.get(copy_i)
        # Each copy keeps its best source: the most similar, then the earliest.
        if current is None or (sim, -rank[source.doc], -source.start) > (current[2], -rank[current[1].doc], -current[1].start):
            best[copy_i] = (copy, source, sim)

    for first in originals:
        for member in members_of[first]:
            if member != first:
                offer(member, all_passages[first], 1.0)

    originals.sort()
    sigs = np.concatenate(all_sigs)[originals]
    del all_sigs
    bands, rows = lsh_params(PASSAGE_LSH_THRESHOLD, PASSAGE_PERM)
    wanted_doc = [targets is None or d.id in targets for d in docs]
    # A group concerns a target when any of its members is in a target document.
    wanted = np.asarray([any(wanted_doc[all_passages[m].doc] for m in members_of[first]) for first in originals])
    pairs = candidate_pairs(band_keys(sigs, bands, rows))
    pairs = np.asarray(originals, dtype=np.int64)[pairs[wanted[pairs[:, 0]] | wanted[pairs[:, 1]]]]
    passage_keys = [p.key for p in all_passages]
    for start in range(0, len(pairs), _PAIRS_AT_ONCE):
        chunk = pairs[start : start + _PAIRS_AT_ONCE]
        scores = _similarities(passage_keys, chunk, rc.threshold, jobs)
        passed = np.flatnonzero(scores >= rc.threshold)
        for (ia, ib), sim in zip(chunk[passed].tolist(), scores[passed].tolist(), strict=True):
            a, b = all_passages[ia], all_passages[ib]
            copy, source = _copy_and_source(a, b, rank)
            for member in members_of[ib if copy is b else ia]:
                offer(member, source, sim)

    by_pair: dict[tuple[int, int], list[tuple[Passage, Passage, float]]] = {}
    for copy_i in sorted(best):
        copy, source, sim = best[copy_i]
        if not wanted_doc[copy.doc]:
            continue
        if copy.doc == source.doc and source.start >= copy.start:
            continue
        by_pair.setdefault((copy.doc, source.doc), []).append((copy, source, sim))
    sections: dict[int, list[tuple[Span, int]]] = {}
    for (copy_doc, src_doc), matches in sorted(by_pair.items()):
        sections.setdefault(copy_doc, []).extend((span, src_doc) for span in _merge(matches, docs))
    for copy_doc, merged in sections.items():
        merged.sort(key=lambda item: (item[0].start, item[0].end))
        grown: list[Span] = []
        for k, (span, src_doc) in enumerate(merged):
            lo = grown[-1].end if grown else 0
            hi = merged[k + 1][0].start if k + 1 < len(merged) else len(docs[copy_doc].text)
            grown.append(_extend(span, copy_doc, src_doc, docs, doc_units, (lo, hi)))
        # A copied passage is never also a source and a copy of the same section twice.
        out[docs[copy_doc].id] = _drop_overlaps(grown)
    return out


_PAIRS_AT_ONCE = 1 << 16  # candidate pairs aligned in one call


def _similarities(keys: Sequence[str], pairs: npt.NDArray[np.int64], cutoff: float, jobs: int) -> npt.NDArray[np.float64]:
    """:func:`~dedup.verify.text_similarity` of ``keys`` of each pair, 0.0 below ``cutoff``: one
    call into rapidfuzz for all of them (on ``jobs`` threads), where a loop of Python calls
    took longer than the alignments (most candidates are short, and fail quickly)."""
    if not len(pairs):
        return np.empty(0, dtype=np.float64)
    a = [keys[i] for i in pairs[:, 0].tolist()]
    b = [keys[i] for i in pairs[:, 1].tolist()]
    scores: npt.NDArray[np.float64] = process.cpdist(
        a, b, scorer=Indel.normalized_similarity, score_cutoff=cutoff, dtype=np.float64, workers=jobs or -1
    )
    # Two texts over LONG_CHARS are aligned word by word (rare for a passage).
    for i in np.flatnonzero([len(x) > LONG_CHARS and len(y) > LONG_CHARS for x, y in zip(a, b, strict=True)]):
        scores[i] = text_similarity(a[i], b[i], cutoff=cutoff)
    return scores


@dataclass(frozen=True)
class _Searched:
    """What documents are cut into passages with (shared with forked workers): each text, and
    the spans to leave out of it (boilerplate), or None for a document not searched."""

    texts: Sequence[str]
    skips: Sequence[list[tuple[int, int]] | None]
    min_words: int
    seed: int


_RANGE = 500  # documents per task
_MIN_DOCS_PER_WORKER = 1000  # below this, forking costs more than it saves


def _passages_in(searched: _Searched, bounds: tuple[int, int]) -> list[DocumentPassages | None]:
    out: list[DocumentPassages | None] = []
    for i in range(*bounds):
        skip = searched.skips[i]
        out.append(
            None if skip is None
            else document_passages(i, searched.texts[i], min_words=searched.min_words, seed=searched.seed, skip=skip)
        )
    return out


_Compact = tuple[list[tuple[int, int]], list[tuple[int, int, str]], npt.NDArray[np.uint32]] | None


def _passages_of(bounds: tuple[int, int]) -> list[_Compact]:
    """:func:`_passages_in` in a worker, as plain tuples: ten times quicker to unpickle in
    the main process than :class:`Passage` objects."""
    searched = shared()
    assert isinstance(searched, _Searched)
    return [
        (found.units, [(p.start, p.end, p.key) for p in found.passages], found.signatures) if found is not None else None
        for found in _passages_in(searched, bounds)
    ]


def _expand(first: int, compact: list[_Compact]) -> list[DocumentPassages | None]:
    """:func:`_passages_of`'s tuples of documents ``first``, ``first + 1``... as they were."""
    return [
        DocumentPassages(c[0], [Passage(first + k, s, e, key) for s, e, key in c[1]], c[2]) if c is not None else None
        for k, c in enumerate(compact)
    ]


def _each_range(searched: _Searched, jobs: int) -> Iterator[tuple[int, list[DocumentPassages | None]]]:
    """The passages of each range of documents, in order (with where the range stops), cut in
    worker processes where there are enough documents and the platform can fork."""
    n = len(searched.texts)
    bounds_of = ranges(n, _RANGE)
    if workers_for(jobs, n, _MIN_DOCS_PER_WORKER) <= 1:
        for bounds in bounds_of:
            yield bounds[1], _passages_in(searched, bounds)
        return
    with processes(workers_for(jobs, n, _MIN_DOCS_PER_WORKER), searched) as pool:
        for bounds, found in zip(bounds_of, pool.map(_passages_of, bounds_of), strict=True):
            yield bounds[1], _expand(bounds[0], found)


def _drop_overlaps(spans: list[Span]) -> list[Span]:
    kept: list[Span] = []
    for s in spans:
        if kept and s.start < kept[-1].end:
            if (s.end - s.start) > (kept[-1].end - kept[-1].start):
                kept[-1] = s
            continue
        kept.append(s)
    return kept


__all__ = ["Passage", "find_repeats", "passage_band_keys", "passages"]

