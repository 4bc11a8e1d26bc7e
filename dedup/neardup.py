"""Document-level near-duplicates: exact groups → MinHash/LSH candidates → verified edges → clusters."""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from . import edges
from .cluster import Lengths, UnionFind, choose_keep, groups
from .collection import fewer_collections
from .config import NearDupConfig
from .forked import worker_pool
from .kernel import agreement, folded, folded_words, key_text, minhash, words_of
from .model import Cluster
from .seen import Column, FirstSeen
from .sketch import BandKeys, candidate_pairs, lsh_params, permutations
from .text import CHUNK_CHARS, shingle_hashes, shingle_size, text_chunks
from .verify import expected_score, may_reach

# Verified near-duplicates on Webis have a 5-gram Jaccard of 0.37 and more; with 128 permutations
# the estimate's standard deviation is about 0.04, so 0.2 loses none of them.
MIN_ESTIMATED_JACCARD = 0.2


BATCH = 4096  # documents fingerprinted and sketched at a time


def document_words(text: str | npt.NDArray[np.uint32]) -> tuple[bytes, npt.NDArray[np.uint64], int, int]:
    """A document's exact-copy key, its word hashes, its number of words and how many of them
    are characters of scripts written without spaces, reading the text in chunks. ``text`` may
    be its code points (as :func:`dedup.jsonline.string_code_points` gives them) instead.

    The key hashes the normalised words, so copies that differ only in case, spacing or
    punctuation are exact copies; a document without any word (empty, punctuation only) is an
    exact copy of another only byte for byte. Words are read by the compiled kernel
    (:mod:`dedup.kernel`): no Python string per word, and a 100 MB document costs its hash
    arrays.
    """
    key, hashes, n_tokens, n_unspaced, _ = _document_words(text)
    return key, hashes, n_tokens, n_unspaced


def _document_words(text: str | npt.NDArray[np.uint32]) -> tuple[bytes, npt.NDArray[np.uint64], int, int, int]:
    """:func:`document_words`, and the length of the text's comparison key
    (:func:`~dedup.kernel.key_text`), or -1 for a text read in chunks (over
    :data:`~dedup.text.CHUNK_CHARS` characters)."""
    if len(text) <= CHUNK_CHARS:  # one chunk, as text_chunks gives it
        joined, hashes, n, unspaced, length = folded_words(folded(text))
        if n:
            return hashlib.blake2b(joined, digest_size=16).digest(), hashes, n, unspaced, length
        return _wordless(text), hashes, 0, 0, 0
    if not isinstance(text, str):
        text = text.tobytes().decode("utf-32-le", "surrogatepass")
    digest = hashlib.blake2b(digest_size=16)
    parts: list[npt.NDArray[np.uint64]] = []
    n_tokens = n_unspaced = 0
    for chunk in text_chunks(text):
        joined, hashes, n, unspaced = words_of(chunk)
        if not n:
            continue
        if parts:
            digest.update(b"\x1f")
        digest.update(joined)
        parts.append(hashes)
        n_tokens += n
        n_unspaced += unspaced
    if not parts:
        return _wordless(text), np.empty(0, dtype=np.uint64), 0, 0, 0
    hashes = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return digest.digest(), hashes, n_tokens, n_unspaced, -1


def _wordless(text: str | npt.NDArray[np.uint32]) -> bytes:
    """The exact-copy key of a text without words: its bytes, stripped."""
    if not isinstance(text, str):
        text = text.tobytes().decode("utf-32-le", "surrogatepass")
    return hashlib.blake2b(("\x00" + text.strip()).encode("utf-8", "surrogatepass"), digest_size=16).digest()


def fingerprint(text: str, k: int) -> tuple[bytes, npt.NDArray[np.uint32]]:
    """A document's exact-copy key (see :func:`document_words`) and its unique shingle hashes."""
    key, hashes, n_tokens, n_unspaced = document_words(text)
    if not n_tokens:
        return key, np.empty(0, dtype=np.uint32)
    return key, shingle_hashes(hashes, shingle_size(n_tokens, n_unspaced, k))


Sketches = tuple[list[bytes], npt.NDArray[np.uint32], npt.NDArray[np.bool_]]


def sketch_batch(
    texts: Sequence[str | npt.NDArray[np.uint32]], *, k: int, num_perm: int, seed: int,
    key_lengths: npt.NDArray[np.int64] | None = None,
) -> Sketches:
    """Exact-copy keys, signatures and non-empty flags of a batch of texts (a pure function, run
    in worker processes under ``jobs``). Each document's shingles go straight into its
    signature row in the compiled kernel; the row equals :func:`~dedup.sketch.signatures` of
    its :func:`fingerprint`. ``key_lengths``, where given, gets the length of each text's
    comparison key (-1 where not known), for :func:`cluster_sketched`.
    """
    a, b = permutations(num_perm, seed)
    keys = []
    sigs = np.full((len(texts), num_perm), 0xFFFFFFFF, dtype=np.uint32)
    valid = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        key, hashes, n_tokens, n_unspaced, length = _document_words(text)
        if key_lengths is not None:
            key_lengths[i] = length
        keys.append(key)
        if n_tokens:
            valid[i] = True
            minhash(hashes, shingle_size(n_tokens, n_unspaced, k), a, b, sigs[i])
    return keys, sigs, valid


def _agreement(sigs: npt.NDArray[np.uint32], pairs: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Share of signature values each pair agrees on (their Jaccard estimate)."""
    out = np.empty(len(pairs), dtype=np.float64)
    if len(pairs):
        agreement(np.ascontiguousarray(sigs), np.ascontiguousarray(pairs, dtype=np.int64), out)
    return out


def _sketch_measured(texts: Sequence[str], *, k: int, num_perm: int, seed: int) -> tuple[Sketches, npt.NDArray[np.int64]]:
    """:func:`sketch_batch` of ``texts``, and the lengths of their comparison keys."""
    lengths = np.empty(len(texts), dtype=np.int64)
    return sketch_batch(texts, k=k, num_perm=num_perm, seed=seed, key_lengths=lengths), lengths


def _sketch_shared(bounds: tuple[int, int], *, k: int, num_perm: int, seed: int) -> tuple[Sketches, npt.NDArray[np.int64]]:
    """:func:`_sketch_measured` of the worker's shared texts ``bounds[0]:bounds[1]``."""
    return _sketch_measured(edges.shared_texts(*bounds), k=k, num_perm=num_perm, seed=seed)


def _keeping_lengths(
    measured: Iterable[tuple[Sketches, npt.NDArray[np.int64]]], lengths: list[npt.NDArray[np.int64]]
) -> Iterator[Sketches]:
    """The sketches of each batch of ``measured``, as it comes, keeping its key lengths in ``lengths``."""
    for batch, found in measured:
        lengths.append(found)
        yield batch


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def sketch_texts(texts: Sequence[str], config: NearDupConfig) -> Sketches:
    """:func:`sketch_batch` over all ``texts``, batches spread over ``config.jobs`` processes."""
    starts = range(0, len(texts), BATCH)
    sketch = functools.partial(sketch_batch, k=config.shingle_size, num_perm=config.num_perm, seed=config.seed)
    batches = (list(texts[s : s + BATCH]) for s in starts)
    keys: list[bytes] = []
    sigs: list[npt.NDArray[np.uint32]] = [np.empty((0, config.num_perm), dtype=np.uint32)]
    valid: list[npt.NDArray[np.bool_]] = [np.empty(0, dtype=bool)]
    with worker_pool(min(config.jobs or os.cpu_count() or 1, len(starts))) as pool:
        for k, s, v in pool.map(sketch, batches) if pool is not None else map(sketch, batches):
            keys.extend(k)
            sigs.append(s)
            valid.append(v)
    return keys, np.concatenate(sigs), np.concatenate(valid)


@fewer_collections()
def find_clusters(
    ids: Sequence[str],
    texts: Sequence[str],
    config: NearDupConfig,
    *,
    progress: Callable[[int, int], None] | None = None,
    prior: int = 0,
    links: Sequence[tuple[int, int]] = (),
    sketches: Sketches | None = None,
) -> tuple[Cluster, ...]:
    """Clusters of near-duplicate documents, in order of their first member.

    The first ``prior`` documents come from a persistent index (``--against``): a cluster that
    holds one of them keeps one of them (the keep policy picks among them), since indexed
    documents are already published; ``links`` are pairs the index already joined (its earlier
    clusters). Clusters of indexed documents alone are returned too (the caller filters them).

    Exact copies (same normalised words) are grouped by hash first; one representative per
    group is sketched and banded; every LSH candidate is verified with
    :func:`~dedup.verify.text_similarity` before it joins a cluster. Documents are fingerprinted
    and sketched in batches, so what stays in memory per document is its signature row.
    """
    n = len(texts)
    starts = range(0, n, BATCH)
    workers = min(config.jobs or os.cpu_count() or 1, len(starts))
    with worker_pool(workers if len(texts) > 1 else 0, edges.Texts(texts)) as pool:
        results: Iterable[Sketches]
        measured: Iterable[tuple[Sketches, npt.NDArray[np.int64]]] = ()
        if sketches is not None:
            known = sketches
            results = ((known[0][s : s + BATCH], known[1][s : s + BATCH], known[2][s : s + BATCH]) for s in starts)
        elif pool is not None:
            # The workers hold the texts already (forked after they were read, see
            # dedup.edges.Texts): hand them ranges, not pickled texts.
            shared = functools.partial(_sketch_shared, k=config.shingle_size, num_perm=config.num_perm, seed=config.seed)
            measured = pool.map(shared, [(s, min(n, s + BATCH)) for s in starts])
        else:
            sketch = functools.partial(_sketch_measured, k=config.shingle_size, num_perm=config.num_perm, seed=config.seed)
            measured = map(sketch, (list(texts[s : s + BATCH]) for s in starts))
        lengths: list[npt.NDArray[np.int64]] = []  # of the keys, for cluster_sketched
        if sketches is None:
            results = _keeping_lengths(measured, lengths)
        exact = group_exact(results, config.num_perm, n, progress)
        key_lengths = np.concatenate(lengths) if lengths else None
        candidates = ranked_candidates(exact, config)
        exact_edges = exact.edges
        del exact  # the signatures, not needed past banding
        return cluster_sketched(
            ids, texts, [len(t) for t in texts], candidates, exact_edges, config, pool=pool, prior=prior, links=links,
            key_lengths=key_lengths,
        )


@dataclass(frozen=True)
class ExactGroups:
    """Documents after exact-copy grouping: the first of each group (its representative) with
    its signature row, and the edges joining every other copy to it."""

    reps: npt.NDArray[np.int64]
    sigs: npt.NDArray[np.uint32]
    valid: npt.NDArray[np.bool_]
    edges: list[tuple[int, int]]


def group_exact(
    results: Iterable[Sketches],
    num_perm: int,
    total: int = 0,
    progress: Callable[[int, int], None] | None = None,
    *,
    capacity: int | None = None,
) -> ExactGroups:
    """Group consecutive batches of sketches (in document order) by exact-copy key, keeping
    only the representatives' signature rows.

    Keys are 128-bit digests (:func:`document_words`); those seen are held as two int64 halves
    (:class:`~dedup.seen.FirstSeen` on the first, the second compared), not as a dict of bytes.
    With ``capacity`` (at least the number of documents), the rows are written into one array
    made at the start, instead of gathered and joined at the end (which holds them twice).
    """
    buffer = np.empty((capacity, num_perm), dtype=np.uint32) if capacity is not None else None
    seen = FirstSeen()
    reps, tails = Column(), Column()  # each representative's document and the second half of its key
    exact_edges: list[tuple[int, int]] = []
    sig_rows: list[npt.NDArray[np.uint32]] = []
    valid_rows: list[npt.NDArray[np.bool_]] = []
    i = 0
    for keys, batch_sigs, batch_valid in results:
        halves = np.frombuffer(b"".join(keys), dtype="<i8").reshape(len(keys), 2)
        earlier = seen.candidates(halves[:, 0])
        batch: dict[bytes, int] = {}
        chosen: list[int] = []
        for offset, exact in enumerate(keys):
            first = next((reps[r] for r in earlier[offset] if tails[r] == halves[offset, 1]), -1)
            if first < 0:
                first = batch.setdefault(exact, i + offset)
            if first == i + offset:
                chosen.append(offset)
            else:
                exact_edges.append((first, i + offset))
        picked = np.asarray(chosen, dtype=np.int64)
        seen.add(halves[picked, 0].copy(), np.arange(len(reps), len(reps) + len(picked), dtype=np.int64))
        reps.extend(picked + i)
        tails.extend(halves[picked, 1])
        if buffer is not None:
            buffer[len(reps) - len(picked) : len(reps)] = batch_sigs[picked]
        else:
            sig_rows.append(batch_sigs[picked])
        valid_rows.append(np.asarray(batch_valid, dtype=bool)[picked])
        i += len(keys)
        if progress is not None:
            progress(i, total)
    if buffer is not None:
        sigs = buffer[: len(reps)]
    else:
        sigs = np.concatenate(sig_rows) if sig_rows else np.empty((0, num_perm), dtype=np.uint32)
    valid = np.concatenate(valid_rows) if valid_rows else np.empty(0, dtype=bool)
    return ExactGroups(reps=reps.array(), sigs=sigs, valid=valid, edges=exact_edges)


def _items(values: npt.NDArray[Any], chunk: int = 1 << 16) -> Iterator[Any]:
    """The items of ``values`` as Python objects, ``chunk`` at a time (not a list of them all)."""
    for start in range(0, len(values), chunk):
        yield from values[start : start + chunk].tolist()


def _rows(pairs: npt.NDArray[np.int64]) -> Iterator[tuple[int, int]]:
    """The rows of ``pairs`` as Python pairs."""
    return ((a, b) for a, b in _items(pairs))


@dataclass(frozen=True)
class Candidates:
    """Candidate pairs (document rows), in the order they are to be verified, and each pair's
    Jaccard estimate from its signatures."""

    pairs: npt.NDArray[np.int64]
    estimates: npt.NDArray[np.float32]

    def take(self, rows: npt.NDArray[Any]) -> Candidates:
        return Candidates(self.pairs[rows], self.estimates[rows])


def _star_first(
    candidates: Candidates, exact_edges: Sequence[tuple[int, int]], rep_of: dict[int, int],
    links: Sequence[tuple[int, int]], lengths: Lengths, policy: str, prior: int,
) -> Candidates:
    """``candidates`` with the pairs that hold the document their cluster would keep moved to
    the front (each part in its order).

    The clusters do not depend on the order in which candidates are verified, only the pairs
    aligned do. A member's reported similarity is to the kept document: when the pairs that
    join the cluster are those with the kept document, their verified scores are the ones
    reported, and no member needs a second alignment. The kept document is chosen here as if
    every candidate passed; where some fail, the clusters come out the same, a little more
    is aligned.
    """
    pairs = candidates.pairs
    if not len(pairs):
        return candidates
    tentative = UnionFind(len(lengths))
    for a, b in itertools.chain(exact_edges, links, _rows(pairs)):
        tentative.union(a, b)
    keeps = set()
    for members in groups(tentative):
        indexed = [m for m in members if m < prior]
        keep = choose_keep(indexed or members, lengths, policy=policy)
        keeps.add(rep_of.get(keep, keep))
    kept = np.fromiter(keeps, dtype=np.int64, count=len(keeps))
    star = np.isin(pairs[:, 0], kept) | np.isin(pairs[:, 1], kept)
    return candidates.take(np.concatenate((np.flatnonzero(star), np.flatnonzero(~star))))


def ranked_candidates(exact: ExactGroups, config: NearDupConfig) -> Candidates:
    """The candidate pairs of ``exact``'s representatives (as document rows), most similar
    first by their signatures' agreement: all that :func:`cluster_sketched` needs of the
    signatures, which the caller can then let go (0.5 KB a document, held through
    verification: at 1,000,000 documents the main process' peak)."""
    bands, rows = lsh_params(config.lsh_threshold, config.num_perm)
    # Banding lets through pairs whose signatures agree on one band only; the signatures'
    # own Jaccard estimate drops those far below any near-duplicate before the costlier
    # alignment, band by band (on a corpus whose documents share many lines, most candidates).
    local_pairs = candidate_pairs(
        BandKeys(exact.sigs, bands, rows),
        valid=exact.valid,
        accept=lambda pairs: _agreement(exact.sigs, pairs) >= MIN_ESTIMATED_JACCARD,
    )
    agree = _agreement(exact.sigs, local_pairs)
    order = np.argsort(-agree, kind="stable")
    pairs = exact.reps[local_pairs[order]] if len(order) else np.empty((0, 2), dtype=np.int64)
    return Candidates(pairs, agree[order].astype(np.float32))


def cluster_sketched(
    ids: Sequence[str],
    texts: Sequence[str],
    lengths: Lengths,
    candidates: Candidates,
    exact_edges: Sequence[tuple[int, int]],
    config: NearDupConfig,
    *,
    pool: Executor | None,
    prior: int = 0,
    links: Sequence[tuple[int, int]] = (),
    key_lengths: npt.NDArray[np.int64] | None = None,
) -> tuple[Cluster, ...]:
    """The clusters of :func:`find_clusters` once its documents are sketched, grouped
    (``exact_edges``: :attr:`ExactGroups.edges`) and banded (``candidates``: what
    :func:`ranked_candidates` gives): verify candidates (in ``pool``, whose workers share
    ``texts``), choose what each cluster keeps by ``lengths``. With ``key_lengths`` (see
    :func:`sketch_batch`), a pair whose lengths alone keep it under the threshold is not
    aligned (nor its texts read): it would fail anyway."""
    n = len(ids)
    # Normalised texts for alignment in this process, made when a pair needs them and
    # only a few kept at a time.
    key = lru_cache(maxsize=8192)(lambda i: key_text(texts[i]))

    # Pairs with the document each cluster would keep first, then most similar first; a pair
    # already joined through other verified edges needs no alignment of its own (see
    # dedup.edges). Two indexed documents were verified by the index when the later was
    # added (``links``).
    rep_of = {copy: first for first, copy in exact_edges}  # each exact copy's representative
    ordered = _star_first(candidates, exact_edges, rep_of, links, lengths, config.keep, prior)
    uf = UnionFind(n)
    for a, b in (*exact_edges, *links):
        uf.union(a, b)
    threshold = config.threshold
    # Each pair is aligned first at about the score its signatures suggest (see
    # dedup.verify.expected_score): once, where that guess holds, and in a narrow band.
    to_verify = (
        (a, b, expected_score(estimate, config.shingle_size, config.num_perm))
        for (a, b), estimate in zip(_rows(ordered.pairs), _items(ordered.estimates), strict=True)
        if b >= prior and (key_lengths is None or may_reach(int(key_lengths[a]), int(key_lengths[b]), threshold))
    )
    verified = edges.verify(to_verify, uf, threshold, pool=pool, key=key)

    found = []
    for members in groups(uf):
        indexed = [m for m in members if m < prior]
        found.append((members, choose_keep(indexed or members, lengths, policy=config.keep)))
    # Each member's similarity to the kept document: the verified score where that pair was
    # aligned, otherwise a new alignment (clusters of indexed documents alone: not reported).
    # Exact copies have the same normalised text, so a pair is aligned as the pair of their
    # groups' first documents, once.
    reported = {
        (keep, m): _pair(rep_of.get(keep, keep), rep_of.get(m, m))
        for members, keep in found if members[-1] >= prior for m in members if m != keep
    }
    wanted = sorted({p for p in reported.values() if p[0] != p[1]} - verified.keys())
    scores = dict(zip(wanted, edges.similarities(wanted, pool=pool, key=key), strict=True))
    scores.update(verified)

    def score_of(keep: int, m: int) -> float:
        a, b = reported[keep, m]
        return 1.0 if a == b else round(scores[a, b], 4)

    clusters = []
    for number, (members, keep) in enumerate(found, start=1):
        similarity = (
            {ids[m]: 1.0 if m == keep else score_of(keep, m) for m in members} if members[-1] >= prior else {}
        )
        clusters.append(
            Cluster(
                id=f"c{number}",
                keep=ids[keep],
                members=tuple(ids[m] for m in members),
                similarity=similarity,
            )
        )
    return tuple(clusters)
