"""Boilerplate lines: a rule catalogue matched fuzzily, corpus evidence, and a page model.

Each non-empty line gets one score in [0, 1], the strongest of:

- a catalogue rule (``B001``...): its fuzzy match score times its weight;
- corpus evidence (``C001``): the same normalised line (case, digits, spacing folded) in other
  documents of the same site, or in ``min_docs`` documents of the corpus; lines of fewer than
  three words never count, so "Conclusion" or "Pros" repeating across articles stay content;
- the page model (``M001``), only for documents that look like whole pages (see
  :mod:`dedup.boilerplate.classifier`).

A line is boilerplate when its score reaches ``BoilerplateConfig.threshold`` (default 0.6).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..config import BoilerplateConfig
from ..model import Document, Span
from .catalogue import Rule, load_catalogue
from .classifier import probabilities
from .features import EDGE_BOOST, LineInfo, corpus_counts, document_lines

__all__ = ["find_boilerplate"]

_MIN_CORPUS_WORDS = 3


def _corpus_score(info: LineInfo, n_words: int, *, min_docs: int, same_site: int, edge: bool) -> float:
    if n_words < _MIN_CORPUS_WORDS:
        return 0.0
    if same_site >= 1:
        score = 0.6 + 0.05 * min(same_site, 6)
    elif info.corpus_docs + 1 >= min_docs:
        score = 0.5 + 0.05 * min(info.corpus_docs, 6)
    else:
        return 0.0
    return min(score + (EDGE_BOOST if edge else 0.0), 0.95)


def _enabled(config: BoilerplateConfig, code: str, name: str) -> bool:
    """Whether an evidence kind (not a catalogue rule) is picked by ``--select``/``--ignore``."""
    names = {code, name}
    return (not config.select or bool(names & set(config.select))) and not names & set(config.ignore)


def find_boilerplate(
    docs: Sequence[Document],
    config: BoilerplateConfig,
    *,
    progress: Callable[[int, int], None] | None = None,
    prior: Mapping[str, Mapping[str, int]] | None = None,
    counted: Sequence[Document] | None = None,
) -> dict[str, list[Span]]:
    """Boilerplate spans (whole lines, without their line breaks) of every document.

    ``prior`` adds line counts from a persistent index to the corpus evidence (see
    :func:`~dedup.boilerplate.features.corpus_counts`); ``counted`` are the documents whose
    lines are counted (default: ``docs``; documents loaded from the index are already in ``prior``).

    >>> from dedup.model import Document
    >>> spans = find_boilerplate([Document("a", "Real text.\\nLeave a Comment")], BoilerplateConfig())
    >>> [(s.start, s.end, s.rule) for s in spans["a"]]
    [(11, 26, 'B002')]
    """
    catalogue = load_catalogue(tuple(config.rules)).pick(config.select, config.ignore)
    use_corpus = _enabled(config, "C001", "corpus")
    use_model = _enabled(config, "M001", "model")
    doc_counts, site_counts = corpus_counts(docs if counted is None else counted, prior)
    out: dict[str, list[Span]] = {}
    hits_seen: dict[tuple[str, bool, bool], tuple[Rule, float] | None] = {}
    for number, doc in enumerate(docs, start=1):
        if progress is not None and (number % 500 == 0 or number == len(docs)):
            progress(number, len(docs))
        infos = document_lines(doc, catalogue, doc_counts, site_counts, hits_seen=hits_seen)
        probs = probabilities([i.features for i in infos]) if use_model else [0.0] * len(infos)
        spans = []
        n = len(infos)
        for index, (info, prob) in enumerate(zip(infos, probs, strict=False)):
            candidates: list[tuple[float, str, str, str]] = []
            if info.rule is not None:
                candidates.append((info.rule_score, info.rule.code, info.rule.category, f"rule {info.rule.name}: {info.rule.why}"))
            if use_corpus:
                n_words = len(doc.text[info.start : info.end].split())
                same_site = site_counts.get((doc.site, info.key), 1) - 1 if doc.site else 0
                edge = index < 3 or index >= n - 3
                score = _corpus_score(info, n_words, min_docs=config.min_docs, same_site=same_site, edge=edge)
                if score:
                    where = f"{same_site + 1} documents of {doc.site}" if same_site else f"{info.corpus_docs + 1} documents"
                    candidates.append((score, "C001", "corpus", f"corpus evidence: line seen in {where}"))
            if prob:
                candidates.append((prob, "M001", "page", "page model: short line among menus or link lists, outside the prose"))
            if not candidates:
                continue
            score, rule, category, reason = max(candidates, key=lambda c: c[0])
            if score >= config.threshold:
                spans.append(Span(info.start, info.end, "boilerplate", rule, score, category, reason))
        out[doc.id] = spans
    return out
