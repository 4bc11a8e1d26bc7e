"""Per-line evidence for boilerplate: rule hits, shape, position, context and corpus frequency.

Every feature is generic (no site, no word list of one benchmark): a line's own shape (words,
punctuation, case, separators), where it sits (first/last lines, before the first or after the
last paragraph of prose), what surrounds it (runs of short lines are menus and link lists), and
how often the same normalised line occurs in other documents and other sites.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..model import Document
from ..text import line_spans, split_lines
from .catalogue import EDGE_LINES, Catalogue, Rule, match_line, normalise

_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"[^\W_]+")
_URL = re.compile(r"https?://|www\.|\S+@\S+\.\w+")
_BULLET = re.compile(r"^\s*([-–—•*●·▪►»>]|\d{1,2}[.)])\s")
_SEPARATORS = re.compile(r"[|»›·•/]|\s[-–]\s")
_END_PUNCT = tuple(".!?\"”’'»)…。！？")
# Short function words of English, German, French, Spanish, Portuguese and Italian: prose has
# many, menus and titles few. A language-light stand-in for jusText's stop-word density.
_FUNCTION_WORDS = frozenset(
    """a an the and or but of to in on at for with by from as is are was were be been has have had
    it its this that these those he she they we you i his her their our not no will would can could
    which who what when where there than then so if into about after over also
    der die das und oder ein eine ist sind war nicht mit von zu den dem des auf für im sich auch es
    le la les et ou un une est sont pas avec de du des au aux pour dans sur qui que ce il elle
    el los las y o unos unas es son no con del al por para en que se lo su
    o os as um uma é são não com do da dos das em no na para por que se
    il lo gli e è sono non con di del della per che""".split()
)

FEATURES = (
    "bias", "rule", "rule_strong", "log_words", "words_le3", "words_le8", "ends_punct", "ends_colon",
    "bullet", "table_row", "title_case", "all_caps", "digits", "separators", "url", "function_words",
    "first", "last", "near_start", "near_end", "before_prose", "after_prose", "doc_short_share",
    "ctx_short", "ctx_rule", "corpus_docs", "corpus_sites", "repeat_in_doc", "long_prose", "page_like",
)
# Source code: braces, arrows, empty calls, paths, comparisons, method calls, a line ending in
# a call, statements of common languages. Documentation sites repeat code samples across their
# pages, in runs of short lines: content, which neither corpus evidence nor the page model may
# take for a template.
# Every branch of the first starts with a character (the word character before a method call
# or a call is looked behind for), which lets the search skip to where one is; the statements
# are tried at the start only. Two and a half times as fast as one pattern for both.
_CODE_SYMBOLS = re.compile(r"[{}]|=>|\(\)|::|[=!]==?|&&|\|\||\.(?<=\w\.)\w+\(|\((?<=\w\()[^()]*\)\s*;?\s*$")
_CODE_STATEMENT = re.compile(r"\s*(import|from|return|def|class|const|let|var|function|if|for|while|fn|pub|use)\b.*[;:{(,]\s*$")
EDGE_BOOST = 0.1  # first and last lines are several times more likely to be boilerplate
PAGE_RUN = 8  # a run of this many consecutive short lines marks a whole page (menus), not extracted text
# ... along with one line of page chrome (a catalogue rule scoring this much: navigation,
# footer, share, cookie lines...): extracted text has runs of short lines too (product specs,
# lists of names), but rarely chrome, which nearly every whole page carries.
PAGE_CHROME = 0.8


@dataclass(frozen=True, slots=True)
class LineInfo:
    """One non-empty line of a document: its span, its rule hit and its feature vector."""

    start: int
    end: int
    rule: Rule | None
    rule_score: float
    features: tuple[float, ...]
    corpus_docs: int
    corpus_sites: int
    key: str


def looks_like_code(line: str) -> bool:
    """Whether ``line`` reads as source code (see ``_CODE_SYMBOLS``)."""
    return _CODE_SYMBOLS.search(line) is not None or _CODE_STATEMENT.match(line) is not None


def line_key(line: str) -> str:
    """The corpus-frequency key of a line: case-folded words, each run of digits one 0. What
    :func:`normalised_lines` gives each line of a document, in one pass: the definition its
    tests compare with."""
    return _DIGITS.sub("0", normalise(line))


def normalised_lines(text: str) -> tuple[list[str], list[str], list[int]]:
    """:func:`~dedup.boilerplate.catalogue.normalise`, :func:`line_key` and the number of words
    (``len(_WORD.findall(line))``) of each line of ``text`` (as :func:`~dedup.text.split_lines`
    gives them), the whole document at once."""
    from ..kernel import casefolded_lines  # see catalogue.normalise: loading it takes a while

    words, keys, counts = casefolded_lines(text)
    norms = words.split("\n")
    return norms, norms if keys is words else keys.split("\n"), counts


def line_keys(text: str) -> set[str]:
    """The distinct non-empty :func:`line_key` of the lines of ``text``."""
    keys = set(normalised_lines(text)[1])
    keys.discard("")
    return keys


@dataclass(frozen=True)
class LineCounts:
    """Line keys counted over some documents: in how many documents each key is, in how many
    documents without a site, and per ``(site, key)`` in how many documents of that site."""

    docs: Counter[str]
    alone: Counter[str]
    pairs: Counter[tuple[object, str]]


def count_lines(docs: Iterable[Document]) -> LineCounts:
    """The :class:`LineCounts` of ``docs`` (counts of parts of a corpus add up)."""
    counts = LineCounts(Counter(), Counter(), Counter())
    for doc in docs:
        keys = line_keys(doc.text)
        counts.docs.update(keys)
        if doc.site:
            counts.pairs.update((doc.site, k) for k in keys)
        else:
            counts.alone.update(keys)
    return counts


def corpus_counts(
    docs: Sequence[Document],
    prior: Mapping[str, Mapping[str, int]] | None = None,
    *,
    parts: Iterable[LineCounts] | None = None,
) -> tuple[Counter[str], Counter[object]]:
    """Line-key counts over the corpus.

    Returns ``(doc_counts, site_counts)``: documents holding each key, and a counter keyed
    both by key (number of distinct sites holding it; a document without a site is a site of
    its own) and by ``(site, key)`` (documents of that site holding it). ``prior`` adds counts
    from a persistent index: per key, documents per site (``""`` for documents without one).
    ``parts``: the :func:`count_lines` of ``docs``, counted elsewhere (in parts, in order).
    """
    doc_counts: Counter[str] = Counter()
    site_counts: Counter[object] = Counter()
    for k, per_site in (prior or {}).items():
        for site, count in per_site.items():
            doc_counts[k] += count
            if site:
                site_counts[k] += 1
                site_counts[(site, k)] += count
            else:
                site_counts[k] += count
    for part in [count_lines(docs)] if parts is None else parts:
        doc_counts.update(part.docs)
        site_counts.update(part.alone)
        for pair, count in part.pairs.items():
            if site_counts[pair] == 0:  # a site new for this key
                site_counts[pair[1]] += 1
            site_counts[pair] += count
    return doc_counts, site_counts


def _is_prose(n_words: int, ends_punct: bool) -> bool:
    return n_words >= 15 and ends_punct


_MAX_SEEN_LINES = 1 << 17  # rule hits kept across documents before the cache starts again


def document_lines(
    doc: Document,
    catalogue: Catalogue,
    doc_counts: Counter[str],
    site_counts: Counter[object],
    *,
    always_features: bool = False,
    hits_seen: dict[tuple[str, bool, bool], tuple[Rule, float] | None] | None = None,
) -> list[LineInfo]:
    """Every non-empty line of ``doc`` in order, with its rule hit, corpus counts and, when the
    page model will read them (page-like documents, or ``always_features``), its feature
    vector (see :data:`FEATURES`); otherwise ``features`` is empty. ``hits_seen`` keeps rule
    hits across documents of one run (same catalogue): a template line repeated on every page
    of a site is matched against the rules once."""
    norms, all_keys, counts = normalised_lines(doc.text)
    lines = [
        (s, e, t, norm, key, count)
        for (s, e), t, norm, key, count in zip(line_spans(doc.text), split_lines(doc.text), norms, all_keys, counts, strict=True)
        if t.strip()
    ]
    n = len(lines)
    if n == 0:
        return []
    stripped = [line[2].strip() for line in lines]
    keys = [line[4] for line in lines]
    n_words = [line[5] for line in lines]
    ends = [t.endswith(_END_PUNCT) for t in stripped]
    if hits_seen is None:
        hits_seen = {}
    elif len(hits_seen) > _MAX_SEEN_LINES:
        hits_seen.clear()
    hits = []
    for i, t in enumerate(stripped):
        place = (t, i < EDGE_LINES, i >= n - EDGE_LINES)
        if place not in hits_seen:
            hits_seen[place] = match_line(t, catalogue, at_start=place[1], at_end=place[2], norm=lines[i][3])
        hits.append(hits_seen[place])
    prose = [i for i in range(n) if _is_prose(n_words[i], ends[i])]
    first_prose = prose[0] if prose else n
    last_prose = prose[-1] if prose else -1
    short = [1.0 if k <= 5 else 0.0 for k in n_words]
    doc_short_share = sum(short) / n
    run = longest = 0
    for flag in short:
        run = run + 1 if flag else 0
        longest = max(longest, run)
    chrome = any(hit is not None and hit[1] >= PAGE_CHROME for hit in hits)
    page_like = 1.0 if longest >= PAGE_RUN and chrome else 0.0
    in_doc = Counter(keys)
    words = [_WORD.findall(t) for t in stripped] if page_like or always_features else []
    out = []
    for i, (s, e, *_) in enumerate(lines):
        k = n_words[i]
        t = stripped[i]
        hit = hits[i]
        rule, score = (hit[0], hit[1]) if hit is not None else (None, 0.0)
        cdocs = doc_counts.get(keys[i], 1) - 1
        csites = max(site_counts.get(keys[i], 1) - 1, 0)
        if not (page_like or always_features):
            out.append(LineInfo(s, e, rule, score, (), cdocs, csites, keys[i]))
            continue
        w = words[i]
        window = [j for j in range(max(0, i - 3), min(n, i + 4)) if j != i]
        ctx_short = sum(short[j] for j in window) / len(window) if window else 0.0
        ctx_rule = 1.0 if any(hits[j] is not None for j in range(max(0, i - 3), i)) else 0.0
        feats = (
            1.0,
            score,
            1.0 if score >= 0.999 else 0.0,
            math.log1p(k),
            1.0 if k <= 3 else 0.0,
            1.0 if k <= 8 else 0.0,
            1.0 if ends[i] else 0.0,
            1.0 if t.endswith(":") else 0.0,
            1.0 if _BULLET.match(t) else 0.0,
            1.0 if t.count("|") >= 2 else 0.0,
            sum(1 for x in w if x[:1].isupper()) / k if k else 0.0,
            1.0 if k >= 2 and t.upper() == t and any(c.isalpha() for c in t) else 0.0,
            sum(c.isdigit() for c in t) / len(t),
            min(len(_SEPARATORS.findall(t)), 5) / 5.0,
            1.0 if _URL.search(t) else 0.0,
            sum(1 for x in w if x.casefold() in _FUNCTION_WORDS) / k if k else 0.0,
            1.0 if i == 0 else 0.0,
            1.0 if i == n - 1 else 0.0,
            1.0 if i < 3 else 0.0,
            1.0 if i >= n - 3 else 0.0,
            1.0 if i < first_prose else 0.0,
            1.0 if i > last_prose else 0.0,
            doc_short_share,
            ctx_short,
            ctx_rule,
            math.log1p(cdocs),
            math.log1p(csites),
            1.0 if in_doc[keys[i]] > 1 and keys[i] else 0.0,
            1.0 if _is_prose(k, ends[i]) else 0.0,
            page_like,
        )
        out.append(LineInfo(s, e, rule, score, feats, cdocs, csites, keys[i]))
    return out
