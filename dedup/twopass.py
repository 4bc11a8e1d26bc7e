"""Document-level dedup of JSONL files without holding their texts (``dedup clean --only duplicates``).

The batch engine reads every record into memory before it compares them; for document-level
dedup alone, that is the largest cost in memory (the texts) and a good share of the time (one
process parses and writes all the JSON). Here the files are read twice instead:

1. blocks of lines (about :data:`BLOCK` bytes each) are parsed and sketched in the worker
   processes, which send back each document's id, where its line is, its text length, its
   exact-copy key and its signature row; a canonical line's text (:mod:`dedup.jsonline`) goes
   from its bytes to code points in compiled code, with no ``json.loads`` and no Python
   string (about a third less work a line);
2. candidates are verified as in the batch engine (:func:`dedup.neardup.cluster_sketched`),
   each text read again from its line when a pair needs it (:class:`LineTexts`);
3. the workers read the blocks again and make each record's output line: a canonical line
   (:mod:`dedup.jsonline`; pass 1 found which) is its input with its annotation before the closing brace, sent
   back as offsets that this process writes from its own read of the block; any other line
   is decoded and encoded again.

The output is byte for byte that of the batch engine, with the same errors and skipped
records. What stays in memory per document is its signature row, id, line offset and a few
integers: memory no longer grows with the size of the texts.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np
import numpy.typing as npt

from . import heap, jsonline
from .collection import fewer_collections
from .config import Config, InputConfig
from .edges import Texts
from .errors import InputError
from .forked import worker_pool
from .io import JSONL_SUFFIXES, PARQUET_SUFFIXES, TEXT_SUFFIXES, parse_record
from .model import Skipped
from .neardup import Sketches, cluster_sketched, group_exact, ranked_candidates, sketch_batch
from .seen import Column, FirstSeen
from .sketch import lsh_params, permutations

BLOCK = 4 << 20  # bytes of input per task
_CHANGED = "the file changed while dedup was reading it (it is read twice); run again"
_T = TypeVar("_T")

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Input:
    """One JSONL file: its name in messages and sources, and the prefix of default ids."""

    path: str
    id_prefix: str


@dataclass(frozen=True)
class Block:
    """Whole lines ``start:end`` (bytes) of input ``file``; ``first_line`` is 1-based, and
    ``lines`` counts them (blank ones too)."""

    file: int
    start: int
    end: int
    first_line: int
    lines: int


@dataclass
class Summary:
    """What :func:`clean_files` did, for the CLI's closing line."""

    documents: int = 0
    clusters: int = 0
    duplicates: int = 0
    skipped: list[Skipped] = field(default_factory=list)


def jsonl_inputs(paths: Iterable[str]) -> list[Input] | None:
    """``paths`` as the JSONL files :func:`dedup.io.read_paths` would read, in its order and with
    its ids; None when any path is something else (stdin, text or Parquet files, a missing path),
    which the batch engine reads."""
    inputs: list[Input] = []
    for arg in paths:
        path = Path(arg)
        if arg == "-" or not path.exists():
            return None
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES + JSONL_SUFFIXES + PARQUET_SUFFIXES
            )
            if any(p.suffix.lower() not in JSONL_SUFFIXES for p in files):
                return None
            inputs.extend(Input(str(p), p.relative_to(path).as_posix()) for p in files)
        elif path.suffix.lower() in JSONL_SUFFIXES:
            inputs.append(Input(str(path), str(path)))
        else:
            return None
    return inputs


def blocks(inputs: Sequence[Input], size: int | None = None) -> Iterator[Block]:
    """Each input cut into blocks of whole lines, about ``size`` bytes each (:data:`BLOCK`; a
    longer line is one block)."""
    size = size or BLOCK
    # One buffer for every read: a new 4 MB bytes object a block cost a thousand page faults
    # (blocks of 128 KiB and more are mapped afresh, see dedup.heap).
    buffer = bytearray(size)
    view = memoryview(buffer)
    for number, source in enumerate(inputs):
        try:
            stream = open(source.path, "rb")  # noqa: SIM115 - closed below, errors reported as InputError
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", path=source.path) from None
        with stream:
            start, line = 0, 1
            while n := stream.readinto(view):
                rest = b"" if buffer[n - 1] == 0x0A else stream.readline()
                breaks = buffer.count(b"\n", 0, n) + rest.count(b"\n")
                length = n + len(rest)
                count = breaks + ((rest or buffer[n - 1 : n])[-1:] != b"\n")  # a last line without its newline
                yield Block(number, start, start + length, line, count)
                start += length
                line += breaks
    view.release()


def _read(block: Block, inputs: Sequence[Input]) -> tuple[bytes, list[tuple[int, int, int]]]:
    """The bytes of ``block``, and the line number, start and end (after its newline) in them
    of each non-blank line."""
    with open(inputs[block.file].path, "rb") as f:
        f.seek(block.start)
        data = f.read(block.end - block.start)
    return data, _lines(data, len(data), block.first_line)


_buffer = bytearray()  # where this process read its last block in pass 3 (see _reread)


def _reread(block: Block, inputs: Sequence[Input]) -> memoryview:
    """The bytes of ``block`` again (pass 3: a worker making its lines, this process writing
    them), read into a buffer this process keeps for the next block: a new 4 MB bytes object a
    block cost a thousand page faults (see :mod:`dedup.heap`). Valid until the next call."""
    global _buffer
    size = block.end - block.start
    if len(_buffer) < size:
        _buffer = bytearray(size)
    data = memoryview(_buffer)[:size]
    path = inputs[block.file].path
    with open(path, "rb") as f:
        if hasattr(os, "preadv"):
            got = os.preadv(f.fileno(), [data], block.start)
        else:  # Windows and older macOS
            f.seek(block.start)
            got = f.readinto(data)
    if got != size:
        raise InputError(_CHANGED, path=path)
    return data


_BLANK = b" \t\n\r\x0b\x0c"  # what bytes.strip() strips


def _lines(data: bytes | bytearray, size: int, first_line: int) -> list[tuple[int, int, int]]:
    """The line number, start and end (after its newline) of each non-blank line of
    ``data[:size]``, whose first line is ``first_line``."""
    found = []
    pos, line = 0, first_line
    while pos < size:
        end = data.find(b"\n", pos, size)
        end = size if end < 0 else end + 1
        # Most lines start with "{": only one that starts blank is copied to be stripped.
        if data[pos] not in _BLANK or data[pos:end].strip():
            found.append((line, pos, end))
        pos, line = end, line + 1
    return found


class _BlockTexts(Sequence[str | npt.NDArray[np.uint32]]):
    """A block's texts for :func:`~dedup.neardup.sketch_batch`: strings, and the spans of
    canonical lines' text values, decoded to code points when read (a block's worth of them
    at 4 bytes a character would be held at once otherwise). ``chars`` gets each text's
    length as it is read."""

    def __init__(self, buffer: npt.NDArray[np.uint8]) -> None:
        self.buffer = buffer
        self.items: list[str | tuple[int, int]] = []
        self.chars: list[int] = []

    def add(self, item: str | tuple[int, int]) -> None:
        self.items.append(item)
        self.chars.append(len(item) if isinstance(item, str) else -1)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: Any) -> Any:
        if not isinstance(i, int):
            raise TypeError("a block's texts are read one at a time")
        item = self.items[i]
        if isinstance(item, str):
            return item
        points = jsonline.string_code_points(self.buffer, *item)
        self.chars[i] = len(points)
        return points


def _quick_id(data: bytes, start: int, end: int, default: str) -> str | None:
    """The document id of a canonical line from its id field's span (see
    :func:`dedup.jsonline.record_fields`): ``default`` where it has none or it is null, the text
    of a string or an integer; None for a value ``parse_record`` refuses (true, false)."""
    if start == -1 or data[start : start + 4] == b"null":
        return default
    if data[start] == 0x22:
        value = data[start + 1 : end - 1]
        return value.decode("utf-8") if b"\\" not in value else str(json.loads(data[start:end]))
    if data[start] == 0x2D or 0x30 <= data[start] <= 0x39:
        return data[start:end].decode("ascii")  # canonical: no leading zero, no "-0"
    return None


@dataclass(frozen=True)
class BlockSketch:
    """Pass 1's result for one block: its documents, in order, and its bad lines."""

    ids: list[str]
    lines: npt.NDArray[np.int64]
    offsets: npt.NDArray[np.int64]
    sizes: npt.NDArray[np.int64]
    chars: npt.NDArray[np.int64]
    key_lengths: npt.NDArray[np.int64]  # of each text's comparison key (see dedup.neardup.sketch_batch)
    canonical: npt.NDArray[np.bool_]  # whether each document's line is canonical (see dedup.jsonline)
    sketches: Sketches
    skipped: list[tuple[int, str]]  # (line, reason) under --on-error skip
    error: tuple[int, str] | None  # the first bad line otherwise; the block stops there


def _sketch_block(block: Block, *, inputs: Sequence[Input], config: InputConfig, k: int, num_perm: int, seed: int) -> BlockSketch:
    source = inputs[block.file]
    ids: list[str] = []
    where: list[tuple[int, int, int]] = []
    canonical: list[bool] = []
    skipped: list[tuple[int, str]] = []
    error = None
    _reuse_freed_memory()
    data, found = _read(block, inputs)
    bounds = np.asarray([(s, e) for _, s, e in found], dtype=np.int64).reshape(-1, 2)
    fields = jsonline.record_fields(data, bounds[:, 0], bounds[:, 1], (config.text_field, config.id_field))
    texts = _BlockTexts(np.frombuffer(data, dtype=np.uint8))
    for (line, start, end), ((text_start, text_end), (id_start, id_end)) in zip(found, fields.tolist(), strict=True):
        default_id = f"{source.id_prefix}:{line}"
        quick = text_start >= 0 and data[text_start] == 0x22 and end - start <= config.max_doc_bytes
        doc_id = _quick_id(data, id_start, id_end, default_id) if quick else None
        if doc_id is not None:
            # A canonical line (see dedup.jsonline) whose text is a string and whose id is a
            # string, an integer or absent: what parse_record would accept, read without it.
            ids.append(doc_id)
            texts.add((text_start, text_end))
            where.append((line, block.start + start, end - start))
            canonical.append(True)
            continue
        try:
            doc = parse_record(data[start:end], source.path, line, config, default_id)
        except InputError as exc:
            if config.on_error != "skip":
                error = (line, exc.reason)
                break
            skipped.append((line, exc.reason))
            continue
        ids.append(doc.id)
        texts.add(doc.text)
        where.append((line, block.start + start, end - start))
        canonical.append(text_start != -2)
    table = np.asarray(where, dtype=np.int64).reshape(-1, 3)
    key_lengths = np.empty(len(texts), dtype=np.int64)
    sketches = sketch_batch(texts, k=k, num_perm=num_perm, seed=seed, key_lengths=key_lengths)
    return BlockSketch(
        ids=ids,
        lines=table[:, 0].copy(),
        offsets=table[:, 1].copy(),
        sizes=table[:, 2].copy(),
        chars=np.asarray(texts.chars, dtype=np.int64),  # every text was read by sketch_batch
        key_lengths=key_lengths,
        canonical=np.asarray(canonical, dtype=bool),
        sketches=sketches,
        skipped=skipped,
        error=error,
    )


class LineTexts(Sequence[str]):
    """The texts of the documents, read from their lines when asked for (a :class:`Sequence`
    for :func:`dedup.neardup.cluster_sketched`); each process opens the files itself."""

    def __init__(self, inputs: Sequence[Input], files: npt.NDArray[np.int32], offsets: npt.NDArray[np.int64],
                 sizes: npt.NDArray[np.int64], text_field: str) -> None:
        self.paths = [i.path for i in inputs]
        self.files, self.offsets, self.sizes = files, offsets, sizes
        self.text_field = text_field
        self._open: dict[int, IO[bytes]] = {}
        self._pid = 0

    def __len__(self) -> int:
        return len(self.offsets)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if self._pid != os.getpid():  # a forked worker: its own file handles
            self._open, self._pid = {}, os.getpid()
        file = int(self.files[i])
        if file not in self._open:
            self._open[file] = open(self.paths[file], "rb")  # noqa: SIM115 - held for the run
        raw = os.pread(self._open[file].fileno(), int(self.sizes[i]), int(self.offsets[i]))
        text = json.loads(raw)[self.text_field]
        assert isinstance(text, str)
        return text

    def close(self) -> None:
        """Close the files this process opened."""
        for stream in self._open.values():
            stream.close()
        self._open = {}


class Ids(Sequence[str]):
    """Document ids as one UTF-8 buffer and their end offsets (about 16 bytes and the id's
    length a document, where a list of strings and a dict to find them cost over 100)."""

    def __init__(self) -> None:
        self._blob = bytearray()
        self._ends = Column()

    def extend(self, doc_ids: Iterable[str]) -> None:
        ends = []
        for doc_id in doc_ids:
            self._blob += doc_id.encode("utf-8")
            ends.append(len(self._blob))
        self._ends.extend(np.asarray(ends, dtype=np.int64))

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        end = self._ends[i]  # IndexError past either end
        i %= len(self)
        start = self._ends[i - 1] if i > 0 else 0
        return self._blob[start:end].decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        start = 0
        for end in self._ends.array().tolist():
            yield self._blob[start:end].decode("utf-8")
            start = end


@dataclass
class _Documents:
    """Pass 1's tables, gathered block by block."""

    ids: Ids = field(default_factory=Ids)
    seen: FirstSeen = field(default_factory=FirstSeen)  # hash(id) -> its document
    starts: list[int] = field(default_factory=list)  # index of each block's first document
    parts: dict[str, list[npt.NDArray[Any]]] = field(
        default_factory=lambda: {"files": [], "lines": [], "offsets": [], "sizes": [], "chars": [], "key_lengths": [], "canonical": []}
    )
    dropped: dict[int, set[int]] = field(default_factory=dict)  # block -> lines skipped (bad, or a duplicate id)

    def where(self, i: int, inputs: Sequence[Input]) -> str:
        """``FILE:LINE`` of document ``i`` (of a block already taken)."""
        b = bisect.bisect_right(self.starts, i) - 1
        return f"{inputs[int(self.parts['files'][b][0])].path}:{int(self.parts['lines'][b][i - self.starts[b]])}"

    def table(self, name: str) -> npt.NDArray[Any]:
        arrays = self.parts[name]
        return np.concatenate(arrays) if arrays else np.empty(0, dtype=np.int64)


def _take(
    number: int, block: Block, result: BlockSketch, docs: _Documents, inputs: Sequence[Input], config: InputConfig,
    skipped: list[Skipped],
) -> Sketches:
    """Add one block's documents to ``docs`` (checking ids as :func:`dedup.pipeline.collect`
    does) and return the sketches of those kept."""
    name = inputs[block.file].path
    bad: list[tuple[int, str]] = list(result.skipped)
    if bad:
        docs.dropped.setdefault(number, set()).update(line for line, _ in bad)
    keep = np.ones(len(result.ids), dtype=bool)
    hashes = np.fromiter((hash(x) for x in result.ids), dtype=np.int64, count=len(result.ids))
    earlier = docs.seen.candidates(hashes)
    here: dict[str, int] = {}  # ids taken from this block -> their line
    start = len(docs.ids)
    for j, doc_id in enumerate(result.ids):
        first = next((docs.where(c, inputs) for c in earlier[j] if docs.ids[c] == doc_id), None)
        if first is None and doc_id in here:
            first = f"{name}:{here[doc_id]}"
        line = int(result.lines[j])
        if first is None:
            here[doc_id] = line
            continue
        reason = f"duplicate id {doc_id!r} (first seen at {first}); set --id-field"
        if config.on_error != "skip":
            raise InputError(reason, path=name, line=line)
        bad.append((line, reason))
        docs.dropped.setdefault(number, set()).add(line)
        keep[j] = False
    kept = np.flatnonzero(keep)
    docs.ids.extend(here)  # in order: a dict keeps the order its keys came in
    docs.seen.add(hashes[kept], np.arange(start, start + len(kept), dtype=np.int64))
    docs.starts.append(start)
    docs.parts["files"].append(np.full(len(kept), block.file, dtype=np.int32))
    for table in ("lines", "offsets", "sizes", "chars", "key_lengths", "canonical"):
        docs.parts[table].append(getattr(result, table)[kept])
    skipped.extend(Skipped(where=f"{name}:{line}", reason=reason) for line, reason in sorted(bad))
    if result.error is not None:
        raise InputError(result.error[1], path=name, line=result.error[0])
    keys, sigs, valid = result.sketches
    return [keys[j] for j in kept], sigs[kept], valid[kept]


Piece = bytes | tuple[int, int]  # bytes to write, or the bytes [start, end) of the block's input


def _write_block(
    task: tuple[Block, dict[int, dict[str, Any]], frozenset[int], npt.NDArray[np.bool_]], *, inputs: Sequence[Input],
    annotate_only: bool,
) -> list[Piece]:
    """Pass 3: the output lines of a block's records (see :func:`dedup.pipeline.records`), given
    the annotations of its clustered documents, the lines pass 1 skipped and, for each of its
    documents, whether pass 1 found its line canonical. Every other line passed pass 1's checks
    (the file is the same): a canonical one (:mod:`dedup.jsonline`) is its input up to its
    closing brace, then its annotation; any other is decoded and encoded again. Pieces of the
    input are sent back as offsets (:func:`_emit` reads them): the output does not go through
    a pipe."""
    block, annotations, dropped, canonical = task
    data = _reread(block, inputs)
    found = _lines(_buffer, len(data), block.first_line)
    single = _single_tail()
    out: list[Piece] = []
    kept = (item for item in found if item[0] not in dropped)  # the block's documents, in order
    for (line, start, end), is_canonical in zip(kept, canonical.tolist(), strict=True):
        ann = annotations.get(line)
        if ann is not None and not annotate_only and not ann["keep"]:
            continue
        if is_canonical:
            close = end - 2 if data[end - 1] == 0x0A else end - 1  # the brace before the newline
            out += ((start, close), single if ann is None else _tail(ann))
        else:
            record = json.loads(bytes(data[start:end]))
            record["dedup"] = ann or _single()
            out.append((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
    return out


def _emit(out: IO[bytes], block: Block, pieces: list[Piece], inputs: Sequence[Input]) -> None:
    """Write what :func:`_write_block` made of ``block``."""
    data = _reread(block, inputs) if any(isinstance(p, tuple) for p in pieces) else memoryview(b"")
    out.writelines(data[p[0] : p[1]] if isinstance(p, tuple) else p for p in pieces)


def _tail(annotation: dict[str, Any]) -> bytes:
    """What ends a canonical line in the output: its annotation, the closing brace, a newline."""
    return b', "dedup": ' + json.dumps(annotation, ensure_ascii=False).encode("utf-8") + b"}\n"


@functools.cache
def _single_tail() -> bytes:
    """:func:`_tail` of a document in no cluster (most of them)."""
    return _tail(_single())


def _single() -> dict[str, Any]:
    return {"cluster": None, "keep": True, "duplicate_of": None, "similarity": None, "boilerplate": [], "repeats": []}


@fewer_collections()
def clean_files(
    inputs: Sequence[Input], config: Config, out: IO[bytes], *, annotate_only: bool, progress: Progress | None = None
) -> Summary:
    """Write the records of ``inputs`` to ``out`` as :func:`dedup.pipeline.records` would with
    document-level dedup alone: the same bytes, in three passes (see the module's docstring)."""
    global _parent, _buffer
    _parent = os.getpid()
    nd = config.neardup
    summary = Summary()
    docs = _Documents()
    stamps = _stamps(inputs)
    chunks = list(blocks(inputs))
    total = sum(b.end - b.start for b in chunks)
    workers = min(nd.jobs or os.cpu_count() or 1, len(chunks))

    def report(stage: str, done: int) -> None:
        if progress is not None:
            progress(stage, min(done >> 20, max(1, total >> 20)), max(1, total >> 20))

    # The permutations are drawn, and the line scanners loaded, once, before the workers are
    # forked, not once in each of them.
    permutations(nd.num_perm, nd.seed)
    jsonline.warm_up()
    sketch = functools.partial(
        _sketch_block, inputs=inputs, config=config.input, k=nd.shingle_size, num_perm=nd.num_perm, seed=nd.seed
    )
    with worker_pool(workers) as pool:
        # A few blocks ahead at most: where taking a block's result here is slower than the
        # workers, results would pile up (a signature row, 0.5 KB, for each document).
        results = _ahead(pool, sketch, chunks, 2 * workers) if pool is not None else map(sketch, chunks)
        # The optimiser (and datasketch's import, 0.6 s, where the settings are not the
        # defaults, see sketch.KNOWN_LSH_PARAMS) runs in a thread while the workers sketch and
        # this thread takes their results; its answer is cached. Every worker of
        # this pool is forked already, and those forked later wait for the join below.
        optimiser = threading.Thread(target=lsh_params, args=(nd.lsh_threshold, nd.num_perm), daemon=True)
        optimiser.start()

        def taken() -> Iterator[Sketches]:
            done = 0
            for number, (block, result) in enumerate(zip(chunks, results, strict=True)):
                yield _take(number, block, result, docs, inputs, config.input, summary.skipped)
                done += block.end - block.start
                report("reading (MB)", done)

        # At most one document a line: the representatives' rows go into one array of that
        # many rows, whose pages past the last row used are never touched (no copy at the end).
        exact = group_exact(taken(), nd.num_perm, capacity=sum(b.lines for b in chunks))
        optimiser.join()
    if not docs.ids:
        raise InputError(
            "empty corpus: no documents to read" + (f" ({len(summary.skipped)} skipped)" if summary.skipped else "")
        )
    _check_unchanged(inputs, stamps)
    lines = docs.table("lines")
    if progress is not None:
        progress("verifying candidates", 0, 0)
    # Banding makes and frees a few arrays of 8 bytes a document for each band: 115,000 page
    # faults at 100,000 documents, mapped afresh each time (see dedup.heap), while the workers wait.
    with heap.reusing(32 << 20):
        candidates = ranked_candidates(exact, nd)
    exact_edges = exact.edges
    # The signatures (0.5 KB a document) are let go before verification, not after: at
    # 1,000,000 documents the main process' peak came while verified clusters were built.
    del exact
    texts = LineTexts(inputs, docs.table("files"), docs.table("offsets"), docs.table("sizes"), config.input.text_field)
    try:
        with worker_pool(workers, Texts(texts)) as pool:
            clusters = cluster_sketched(
                docs.ids, texts, docs.table("chars"), candidates, exact_edges, nd, pool=pool,
                key_lengths=docs.table("key_lengths"),
            )
    finally:
        texts.close()
    del candidates, exact_edges
    members = {doc_id for c in clusters for doc_id in c.members}
    index_of = {doc_id: i for i, doc_id in enumerate(docs.ids) if doc_id in members}
    annotations: list[dict[int, dict[str, Any]]] = [{} for _ in chunks]
    for c in clusters:
        for doc_id in c.members:
            i = index_of[doc_id]
            number = bisect.bisect_right(docs.starts, i) - 1  # its block
            annotations[number][int(lines[i])] = {
                "cluster": c.id,
                "keep": c.keep == doc_id,
                "duplicate_of": c.keep if c.keep != doc_id else None,
                "similarity": c.similarity[doc_id],
                "boilerplate": [],
                "repeats": [],
            }
    write = functools.partial(_write_block, inputs=inputs, annotate_only=annotate_only)
    tasks = [
        (b, annotations[n], frozenset(docs.dropped.get(n, ())), docs.parts["canonical"][n]) for n, b in enumerate(chunks)
    ]
    _check_unchanged(inputs, stamps)
    # New workers: those that verified hold normalised texts, and pages the signatures took.
    with worker_pool(workers) as pool:
        done = 0
        for block, pieces in zip(chunks, _ahead(pool, write, tasks, 2 * workers) if pool is not None else map(write, tasks), strict=True):
            _emit(out, block, pieces, inputs)
            done += block.end - block.start
            report("writing (MB)", done)
    _buffer = bytearray()  # the buffer _reread kept in this process goes
    summary.documents = len(docs.ids)
    summary.clusters = len(clusters)
    summary.duplicates = sum(len(c.members) - 1 for c in clusters)
    return summary


def _ahead(pool: Executor, fn: Callable[[Any], _T], tasks: Iterable[Any], ahead: int) -> Iterator[_T]:
    """``pool.map(fn, tasks)`` with at most ``ahead`` tasks handed out and not yet taken: a
    result waits for those before it, and where this process takes them more slowly than the
    workers make them, ``map`` would keep them all in memory.

    The first ``ahead`` tasks are handed out at the call, not at the first result asked for:
    the workers start while this process does other work.
    """
    source = iter(tasks)
    pending = deque(pool.submit(fn, task) for task in itertools.islice(source, ahead))

    def results() -> Iterator[_T]:
        while pending:
            result = pending.popleft().result()
            pending.extend(pool.submit(fn, task) for task in itertools.islice(source, 1))
            yield result

    return results()


def _stamps(inputs: Sequence[Input]) -> list[tuple[int, int]]:
    """Size and modification time of each input, to notice a file changed between passes."""
    stamps = []
    for source in inputs:
        try:
            info = os.stat(source.path)
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", path=source.path) from None
        stamps.append((info.st_size, info.st_mtime_ns))
    return stamps


def _check_unchanged(inputs: Sequence[Input], stamps: list[tuple[int, int]]) -> None:
    for source, (size, mtime) in zip(inputs, stamps, strict=True):
        try:
            info = os.stat(source.path)
        except OSError as exc:
            raise InputError(f"cannot read any more: {exc.strerror}", path=source.path) from None
        if (info.st_size, info.st_mtime_ns) != (size, mtime):
            raise InputError(_CHANGED, path=source.path)


def _reuse_freed_memory() -> None:
    """In a worker of pass 1 or 3, once: keep what each task frees for the next (see
    :mod:`dedup.heap`): its 4 MB of input and its arrays, each mapped afresh otherwise, cost a
    thousand page faults a block, a fifth of the worker's system time and a tenth of the run's."""
    global _reusing
    if _reusing or os.getpid() == _parent:
        return
    _reusing = True
    heap.reuse_freed_memory(_REUSED)


_REUSED = 16 << 20  # more than a block of input (BLOCK) and the arrays of its documents
_reusing = False  # in a worker: whether _reuse_freed_memory has run
_parent = 0  # the process that runs clean_files
