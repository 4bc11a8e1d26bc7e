"""Boilerplate lines: a rule catalogue matched fuzzily, corpus evidence, and a page model.

Each non-empty line gets one score in [0, 1], the strongest of:

- a catalogue rule (``B001``...): its fuzzy match score times its weight;
- corpus evidence (``C001``): the same normalised line (case, digits, spacing folded) in other
  documents of the same site, or in ``min_docs`` documents of the corpus (then five words at
  least); lines of fewer than three words with a letter never count, so "Conclusion", "Pros"
  or a row of figures repeating across articles stay content;
- the page model (``M001``), only for documents that look like whole pages: a run of short
  lines, and page chrome that a rule recognises (see :mod:`dedup.boilerplate.classifier`).

Neither corpus evidence nor the page model flags a line that reads as source code (code
samples repeat across the pages of a documentation site, in runs of short lines).

A line is boilerplate when its score reaches ``BoilerplateConfig.threshold`` (default 0.6).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..collection import fewer_collections
from ..config import BoilerplateConfig
from ..forked import processes, ranges, shared, workers_for
from ..model import Document, Span
from .catalogue import Catalogue, Evidence, Rule, load_catalogue
from .classifier import probabilities
from .features import (
    EDGE_BOOST,
    PAGE_CHROME,
    PAGE_RUN,
    LineCounts,
    LineInfo,
    corpus_counts,
    count_lines,
    document_lines,
    looks_like_code,
)

__all__ = ["EVIDENCE", "find_boilerplate"]

_MIN_CORPUS_WORDS = 3
# Across sites, short lines that repeat are common headings ("Frequently Asked Questions",
# "The Bottom Line"); the boilerplate that different sites share is longer, or catalogued.
_MIN_CROSS_SITE_WORDS = 5
# A corpus-evidence score: a base (seen on the same site, or across sites), a step for each
# other document holding the line (up to a number of them), the edge boost, a ceiling.
_SITE_BASE, _CROSS_SITE_BASE, _PER_DOC, _MAX_DOCS, _MAX_CORPUS_SCORE = 0.6, 0.5, 0.05, 6, 0.95
_EDGE_LINES = 3  # a document's first and last lines that get the edge boost
_DEFAULTS = BoilerplateConfig()

EVIDENCE = (
    Evidence(
        "C001", "corpus", "corpus",
        "A line that other documents of the site repeat, or many documents across sites, is part of a template, not of the story.",
        (
            "The same normalised line (case, digits and spacing folded) in another document of the same site "
            f"(--site-field, by default the domain of a record's url), or in --min-docs documents (default {_DEFAULTS.min_docs}) "
            "across sites.",
            f"Lines of fewer than {_MIN_CORPUS_WORDS} words with a letter never count (\"Conclusion\", \"Pros\", a row of "
            f"figures); across sites a line needs {_MIN_CROSS_SITE_WORDS} words. A line that reads as source code never counts: "
            "documentation sites repeat their code samples.",
            f"Score: {_SITE_BASE} and {_PER_DOC} for each other document of the site, or {_CROSS_SITE_BASE} and {_PER_DOC} "
            f"for each other document across sites ({_MAX_DOCS} at most), {EDGE_BOOST} more among a document's first and last "
            f"{_EDGE_LINES} lines, {_MAX_CORPUS_SCORE} at most; a line is boilerplate at --boilerplate-threshold "
            f"({_DEFAULTS.threshold}).",
            "Documents are counted after deduplication: the near-duplicates a cluster drops are not counted (with --only "
            "boilerplate no clusters are known, and each copy counts).",
        ),
    ),
    Evidence(
        "M001", "model", "page",
        "On a whole scraped page, a short line among menus and link lists, outside the prose, is navigation.",
        (
            f"Only for documents that look like whole pages: a run of {PAGE_RUN} or more short lines, and a line of page "
            f"chrome that a rule scores {PAGE_CHROME} or more (navigation, footer, share, cookie lines...). Extracted article "
            "text has runs of short lines too, but rarely chrome.",
            "A logistic regression over generic line features (length, punctuation, case, separators, function words, "
            "position relative to the prose, short lines and rule hits around it, corpus frequency), fitted by "
            "bench/train_boilerplate.py; its probability is the score.",
        ),
    ),
)
"""The kinds of evidence that are not catalogue rules, for ``dedup rules``."""


def _corpus_score(info: LineInfo, *, min_docs: int, same_site: int, edge: bool) -> float:
    if same_site < 1 and info.corpus_docs + 1 < min_docs:
        return 0.0  # most lines: seen nowhere else
    # Words with a letter: rows of figures and dates share their key (digits are 0).
    words = info.key.split()
    # An ASCII key's only word of digits is "0" (see line_key): counted without a loop.
    n_words = len(words) - words.count("0") if info.key.isascii() else sum(not w.isdigit() for w in words)
    if n_words < _MIN_CORPUS_WORDS:
        return 0.0
    if same_site >= 1:
        score = _SITE_BASE + _PER_DOC * min(same_site, _MAX_DOCS)
    elif n_words >= _MIN_CROSS_SITE_WORDS:
        score = _CROSS_SITE_BASE + _PER_DOC * min(info.corpus_docs, _MAX_DOCS)
    else:
        return 0.0
    return min(score + (EDGE_BOOST if edge else 0.0), _MAX_CORPUS_SCORE)


def _enabled(config: BoilerplateConfig, code: str, name: str) -> bool:
    """Whether an evidence kind (not a catalogue rule) is picked by ``--select``/``--ignore``."""
    names = {code, name}
    return (not config.select or bool(names & set(config.select))) and not names & set(config.ignore)


@fewer_collections()
def find_boilerplate(
    docs: Sequence[Document],
    config: BoilerplateConfig,
    *,
    progress: Callable[[int, int], None] | None = None,
    prior: Mapping[str, Mapping[str, int]] | None = None,
    counted: Sequence[Document] | None = None,
    jobs: int = 1,
) -> dict[str, list[Span]]:
    """Boilerplate spans (whole lines, without their line breaks) of every document.

    ``prior`` adds line counts from a persistent index to the corpus evidence (see
    :func:`~dedup.boilerplate.features.corpus_counts`); ``counted`` are the documents whose
    lines are counted (default: ``docs``; documents loaded from the index are already in
    ``prior``, and :func:`dedup.pipeline.analyse` leaves out the near-duplicates it drops).
    A document not counted is scored as if it were: its lines' counts less one.

    With ``jobs`` above 1 (0: all cores), ranges of documents go to worker processes (where the
    platform can fork): to count their lines, then, forked again with the counts, to score them
    (each document's spans depend on it and the counts alone).

    >>> from dedup.model import Document
    >>> spans = find_boilerplate([Document("a", "Real text.\\nLeave a Comment")], BoilerplateConfig())
    >>> [(s.start, s.end, s.rule) for s in spans["a"]]
    [(11, 26, 'B002')]
    """
    catalogue = load_catalogue(tuple(config.rules)).pick(config.select, config.ignore)
    workers = workers_for(jobs, len(docs), _MIN_DOCS_PER_WORKER)
    forking = workers > 1
    to_count = docs if counted is None else counted
    parts = None
    if forking:
        # One range per worker: its counts come back added up. With 200 ranges of 500 documents,
        # at 100,000 documents the workers waited on the main process taking the counters in,
        # and counting took 9.9 s (now 6.4 s), 3.1 s of it adding them up (now 0.3 s).
        with processes(workers, to_count) as pool:
            parts = list(pool.map(_count_of, ranges(len(to_count), max(1, -(-len(to_count) // workers)))))
    doc_counts, site_counts = corpus_counts(to_count, prior, parts=parts)
    state = _State(docs, catalogue, doc_counts, site_counts, config)
    bounds_of = ranges(len(docs), _RANGE)

    def gather(results: Iterable[list[tuple[str, list[Span]]]]) -> dict[str, list[Span]]:
        out: dict[str, list[Span]] = {}
        for (_, stop), found in zip(bounds_of, results, strict=True):
            out.update(found)
            if progress is not None:
                progress(stop, len(docs))
        return out

    if not forking:
        hits: dict[tuple[str, bool, bool], tuple[Rule, float] | None] = {}
        return gather(_spans(state, bounds, hits) for bounds in bounds_of)
    with processes(workers, state) as pool:
        return gather(pool.map(_spans_of, bounds_of))


_RANGE = 500  # documents per task
_MIN_DOCS_PER_WORKER = 1000  # below this, forking costs more than it saves


@dataclass(frozen=True)
class _State:
    """What every document's spans are computed from (shared with forked workers)."""

    docs: Sequence[Document]
    catalogue: Catalogue
    doc_counts: Counter[str]
    site_counts: Counter[object]
    config: BoilerplateConfig


_hits: dict[tuple[str, bool, bool], tuple[Rule, float] | None] = {}  # in a worker: its rule hits


def _count_of(bounds: tuple[int, int]) -> LineCounts:
    """:func:`~dedup.boilerplate.features.count_lines` of a range of the shared documents."""
    docs = shared()
    assert isinstance(docs, Sequence)
    return count_lines(docs[bounds[0] : bounds[1]])


def _spans_of(bounds: tuple[int, int]) -> list[tuple[str, list[Span]]]:
    """:func:`_spans` in a worker, of the state it was started with."""
    state = shared()
    assert isinstance(state, _State)
    return _spans(state, bounds, _hits)


def _spans(
    state: _State, bounds: tuple[int, int], hits: dict[tuple[str, bool, bool], tuple[Rule, float] | None]
) -> list[tuple[str, list[Span]]]:
    """Spans of documents ``bounds[0]:bounds[1]`` of ``state``. A line's rule hit is kept in
    ``hits`` across documents: the same line is matched once."""
    config = state.config
    use_corpus = _enabled(config, "C001", "corpus")
    use_model = _enabled(config, "M001", "model")
    found = []
    # One object per distinct reason and score: a span holds them, and at 100,000 documents
    # of the benchmark corpus there are millions of spans with a few hundred reasons (and a
    # task's result, pickled, sends each object once).
    scores: dict[float, float] = {}
    reasons: dict[str, str] = {}
    for doc in state.docs[bounds[0] : bounds[1]]:
        infos = document_lines(doc, state.catalogue, state.doc_counts, state.site_counts, hits_seen=hits)
        probs = probabilities([i.features for i in infos]) if use_model else [0.0] * len(infos)
        spans = []
        n = len(infos)
        for index, (info, prob) in enumerate(zip(infos, probs, strict=False)):
            candidates: list[tuple[float, str, str, str]] = []
            if info.rule is not None:
                candidates.append((info.rule_score, info.rule.code, info.rule.category, f"rule {info.rule.name}: {info.rule.why}"))
            corpus = 0.0
            if use_corpus:
                same_site = state.site_counts.get((doc.site, info.key), 1) - 1 if doc.site else 0
                edge = index < _EDGE_LINES or index >= n - _EDGE_LINES
                corpus = _corpus_score(info, min_docs=config.min_docs, same_site=same_site, edge=edge)
            if (corpus or prob) and looks_like_code(doc.text[info.start : info.end]):
                corpus = prob = 0.0
            if corpus:
                where = f"{same_site + 1} documents of {doc.site}" if same_site else f"{info.corpus_docs + 1} documents"
                candidates.append((corpus, "C001", "corpus", f"corpus evidence: line seen in {where}"))
            if prob:
                candidates.append((prob, "M001", "page", "page model: short line among menus or link lists, outside the prose"))
            if not candidates:
                continue
            score, rule, category, reason = max(candidates, key=lambda c: c[0])
            if score >= config.threshold:
                score, reason = scores.setdefault(score, score), reasons.setdefault(reason, reason)
                spans.append(Span(info.start, info.end, "boilerplate", rule, score, category, reason))
        found.append((doc.id, spans))
    return found
