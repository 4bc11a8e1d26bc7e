"""Compiled (numba) tokenise → hash → shingle → MinHash kernel for document sketches.

Gives exactly what the pure-Python path of :mod:`dedup.text` and :mod:`dedup.sketch` gives
(same words, same CRC-32 word hashes, same shingle hashes, same ``affine32`` signature rows,
same exact-copy key bytes); ``tests/test_kernel.py`` checks that on random Unicode text and
on real pages. It exists because that path spends its time in per-word Python work
(``re.findall``, one dict lookup per word) and in a ``(shingles × num_perm)`` numpy matrix;
here each shingle is hashed once and folded into the signature row in one loop.

Text goes in as an array of code points. Zero-width removal, NFKC and case folding are table
look-ups (:func:`fold_tables`, built from Python's own ``unicodedata`` at first use) for the
code points that normalise the same in any context; a text holding any other code point is
normalised by Python (``dedup.text.normalise``) first. Which code points are word characters
is read from Python's own ``re``, so the kernel splits words exactly as ``dedup.text.WORD_RE``
does under the running Python's Unicode tables.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
import tempfile
import unicodedata
import zipfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from .text import UNSPACED_RE, WORD_RE, ZERO_WIDTH, close_unspaced_gaps, normalise, text_chunks

_MAX_CODE_POINT = sys.maxunicode + 1


def _crc_table() -> npt.NDArray[np.int64]:
    """The CRC-32 (IEEE, as ``zlib.crc32``) byte table."""
    table = np.empty(256, dtype=np.int64)
    for n in range(256):
        c = n
        for _ in range(8):
            c = (0xEDB88320 ^ (c >> 1)) if c & 1 else (c >> 1)
        table[n] = c
    return table


_CRC = _crc_table()


def word_table() -> npt.NDArray[np.uint8]:
    """Per code point: 2 for a character of a script written without spaces, 1 for a word
    character, 0 otherwise (:func:`build_word_table`, read from the cache)."""
    return _tables()["words"]


def fold_tables() -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]:
    """:func:`build_fold_tables`, read from the cache."""
    tables = _tables()
    return tables["table"], tables["expansions"]


def casefold_tables() -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32], npt.NDArray[np.uint8]]:
    """:func:`build_casefold_tables`, read from the cache."""
    tables = _tables()
    return tables["casefold"], tables["casefold_expansions"], tables["word_chars"]


@lru_cache(maxsize=1)
def _tables() -> dict[str, npt.NDArray[Any]]:
    """The word table, the fold tables and the case-folding tables, built from this Python's
    ``re`` and ``unicodedata`` (0.7 s) once and then read from a file (a few ms), as numba
    keeps its compiled code.

    The file's name holds a digest of this Python's version, its Unicode version and the
    source of this module and of :mod:`dedup.text`: any change to those builds them again.
    Where no cache folder can be written, they are built in every process.
    """
    path = _tables_path()
    if path is not None:
        try:
            with np.load(path) as stored:
                found = {name: stored[name] for name in _TABLES}
            if all((shape is None or found[name].shape == shape) and found[name].dtype == kind
                   for name, (shape, kind) in _TABLES.items()):
                return found
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # not there yet, or unreadable: built again and written over
    table, expansions = build_fold_tables()
    casefold, casefold_expansions, word_chars = build_casefold_tables()
    built: dict[str, npt.NDArray[Any]] = {"words": build_word_table(), "table": table, "expansions": expansions, "casefold": casefold,
                                          "casefold_expansions": casefold_expansions, "word_chars": word_chars}
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tables-", suffix=".npz", delete=False) as tmp:
                np.savez(tmp, **built)  # type: ignore[arg-type]  # the stub fears ** fills allow_pickle
            os.chmod(tmp.name, 0o644)  # readable by every user of this installation, as its .pyc files
            os.replace(tmp.name, path)
            for stale in path.parent.glob("tables-*.npz"):  # of an earlier version of dedup
                if stale != path:
                    with contextlib.suppress(OSError):
                        stale.unlink()
        except OSError:
            with contextlib.suppress(OSError, NameError):
                os.unlink(tmp.name)
    return built


def _tables_path() -> Path | None:
    """Where the tables are kept: ``__pycache__`` beside this module (as numba's cache), else
    the user's cache folder; None where neither can be written."""
    digest = hashlib.blake2b(digest_size=10)
    for part in (sys.version, unicodedata.unidata_version, np.__version__):
        digest.update(part.encode("utf-8") + b"\0")
    for source in (Path(__file__), Path(__file__).with_name("text.py")):
        try:
            digest.update(source.read_bytes())
        except OSError:
            return None
    name = f"tables-{digest.hexdigest()}.npz"
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for folder in (Path(__file__).with_name("__pycache__"), Path(xdg) / "dedup"):
        if (folder / name).exists() or os.access(folder if folder.exists() else folder.parent, os.W_OK):
            return folder / name
    return None


def build_word_table() -> npt.NDArray[np.uint8]:
    """Per code point: 2 for a character of a script written without spaces (one word on its
    own), 1 for a word character (``[^\\W_]``), 0 otherwise; read from :data:`WORD_RE` itself."""
    table = np.zeros(_MAX_CODE_POINT, dtype=np.uint8)
    every = _all_code_points(_MAX_CODE_POINT)
    for m in WORD_RE.finditer(every):
        table[m.start() : m.end()] = 1
    for m in UNSPACED_RE.finditer(every):
        table[m.start()] = 2
    return table


_TABLE_SIZE = 0x20000  # the BMP and the plane of emoji and symbols; others go through Python
_DROP = 0xFFFFFFFE  # zero-width characters, removed before normalising
_OTHER = 0xFFFFFFFF  # needs Python's unicodedata in context
_EXPAND = 0x80000000  # an offset into the table of expansions (one code point to several)

# Each table kept in the file: its shape (None: any length) and type.
_TABLES: dict[str, tuple[tuple[int, ...] | None, type]] = {
    "words": ((_MAX_CODE_POINT,), np.uint8),
    "table": ((_TABLE_SIZE,), np.uint32),
    "expansions": (None, np.uint32),
    "casefold": ((_MAX_CODE_POINT,), np.uint32),
    "casefold_expansions": (None, np.uint32),
    "word_chars": ((_MAX_CODE_POINT,), np.uint8),
}


def _all_code_points(stop: int) -> str:
    """Every code point below ``stop``, lone surrogates included, as one string."""
    return np.arange(stop, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")


def _composition_seconds() -> set[int]:
    """Code points that can be the second part of a canonical composition (NFC quick check
    "Maybe"): the second code point of every two-part canonical decomposition, and the Hangul
    vowel and final jamo."""
    seconds = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))
    for decomposition in map(unicodedata.decomposition, _all_code_points(_TABLE_SIZE)):
        parts = decomposition.split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            seconds.add(int(parts[1], 16))
    return seconds


def build_casefold_tables() -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32], npt.NDArray[np.uint8]]:
    """``str.casefold`` of every code point (it maps each on its own, without context): the
    first table holds the folded code point, or ``_EXPAND + offset`` into the second, which
    holds a length and then that many code points (``ß`` → ``ss``). The third is 1 for the
    code points of ``[^\\W_]`` and 2 for those of ``\\d`` (digits are word characters too),
    read from Python's own ``re``."""
    every = _all_code_points(_MAX_CODE_POINT)
    # NUL between code points: no code point folds to text holding one, so the pieces are
    # each code point's folding (one call instead of 1,114,112).
    folded = ["\0", *"\0".join(every[1:]).casefold().split("\0")]
    table = np.arange(_MAX_CODE_POINT, dtype=np.uint32)
    expansions: list[int] = [0]
    for c, form in enumerate(folded):
        if len(form) != 1:
            table[c] = _EXPAND + len(expansions)
            expansions += [len(form), *(ord(ch) for ch in form)]
        elif form != every[c]:
            table[c] = ord(form)
    word_chars = np.zeros(_MAX_CODE_POINT, dtype=np.uint8)
    for m in re.finditer(r"[^\W_]+", every):
        word_chars[m.start() : m.end()] = 1
    for m in re.finditer(r"\d+", every):  # digits are word characters too
        word_chars[m.start() : m.end()] = 2
    return table, np.asarray(expansions, dtype=np.uint32), word_chars


def casefolded_words(text: str) -> str:
    """The case-folded words of ``text`` (runs of ``[^\\W_]``) joined by single spaces: what
    ``re.sub(r"[\\W_]+", " ", text.casefold()).strip()`` gives, from tables, twice as fast on a
    line that is not ASCII (``dedup.boilerplate.catalogue.normalise``): the words of
    :func:`casefolded_lines`, a line break being one more gap between words."""
    words = casefolded_lines(text)[0]
    return " ".join(line for line in words.split("\n") if line) if "\n" in words else words


def casefolded_lines(text: str) -> tuple[str, str, list[int]]:
    """:func:`casefolded_words` of each line of ``text`` (lines end at ``\\n``, ``\\r\\n`` or
    ``\\r``, as :func:`dedup.text.split_lines` has them), joined by ``\\n``; the same with each
    run of digits (``\\d+``) made one ``0`` (the same string where there is no digit); and how
    many words (runs of ``[^\\W_]``) each line has as written (case folding can split one: "İ"
    folds to "i" and a mark). One call for a document, where a line at a time took several
    times as long (:func:`dedup.boilerplate.features.normalised_lines`)."""
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    out = np.empty(3 * len(cps), dtype=np.uint32)
    keys = np.empty(3 * len(cps), dtype=np.uint32)
    counts = np.empty(len(cps) + 1, dtype=np.int64)
    m, k, digits, lines = _casefolded_lines(cps, *casefold_tables(), out, keys, counts)
    words = out[:m].tobytes().decode("utf-32-le", "surrogatepass")
    return words, keys[:k].tobytes().decode("utf-32-le", "surrogatepass") if digits else words, counts[:lines].tolist()


@njit(cache=True, nogil=True)
def _casefolded_lines(
    cps: npt.NDArray[np.uint32],
    casefold: npt.NDArray[np.uint32],
    expansions: npt.NDArray[np.uint32],
    word_chars: npt.NDArray[np.uint8],
    out: npt.NDArray[np.uint32],
    keys: npt.NDArray[np.uint32],
    words: npt.NDArray[np.int64],
) -> tuple[int, int, bool, int]:
    """:func:`casefolded_lines` into ``out`` and ``keys`` (``3 * len(cps)`` slots each) and the
    words of each line, as written (``len(cps) + 1`` slots); returns the lengths of ``out`` and
    ``keys``, whether there was a digit, and the number of lines."""
    m = 0
    k = 0
    line = 0
    words[0] = 0
    in_word = False  # the code point before (as written, not folded) is a word character
    line_start = 0  # where the current line's words start in ``out``
    pending = False
    in_digits = False  # the last character written to ``keys`` is the 0 of a run of digits
    digits = False
    n = cps.shape[0]
    i = 0
    while i < n:
        c = cps[i]
        i += 1
        if c == 0x0A or c == 0x0D:
            if c == 0x0D and i < n and cps[i] == 0x0A:
                i += 1  # one break
            out[m] = 0x0A
            keys[k] = 0x0A
            m += 1
            k += 1
            line_start = m
            pending = in_digits = in_word = False
            line += 1
            words[line] = 0
            continue
        if word_chars[c]:
            if not in_word:
                words[line] += 1
                in_word = True
        else:
            in_word = False
        f = casefold[c]
        count = 1
        at = 0
        if f >= 0x80000000:
            at = f - 0x80000000
            count = expansions[at]
        for j in range(count):
            g = f if at == 0 else expansions[at + 1 + j]
            kind = word_chars[g]
            if kind:
                if pending and m > line_start:
                    out[m] = 0x20
                    keys[k] = 0x20
                    m += 1
                    k += 1
                    in_digits = False
                pending = False
                out[m] = g
                m += 1
                if kind == 2:
                    digits = True
                    if not in_digits:
                        keys[k] = 0x30
                        k += 1
                        in_digits = True
                else:
                    keys[k] = g
                    k += 1
                    in_digits = False
            else:
                pending = True
    return m, k, digits, line + 1


def build_fold_tables() -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]:
    """What zero-width removal, NFKC and case folding make of each code point below U+20000,
    for the code points that normalise the same in any text made only of such code points.

    Those are the ones whose NFKC form is made only of NFKC-stable starters (combining class
    0, not changed by NFKC, never the second part of a composition): such text is already in
    NFKC once each code point is replaced by its NFKC form. The first table holds a code
    point, :data:`_DROP`, :data:`_OTHER`, or ``_EXPAND + offset`` into the second table, which
    holds a length and then that many code points (``…`` → ``...``, ``ß`` → ``ss``).
    """
    every = _all_code_points(_TABLE_SIZE)
    seconds = _composition_seconds()
    # NUL between code points: a starter that nothing composes with, so each piece of the
    # result is the NFKC form of one code point (one call instead of 131,072). NUL itself is
    # its own form.
    nfkc = ["\0", *unicodedata.normalize("NFKC", "\0".join(every[1:])).split("\0")]
    stable = {
        ch for c, ch in enumerate(every) if nfkc[c] == ch and c not in seconds and not unicodedata.combining(ch)
    }
    folded = ["\0", *"\0".join(nfkc[1:]).casefold().split("\0")]
    table = np.full(_TABLE_SIZE, _OTHER, dtype=np.uint32)
    expansions: list[int] = [0]
    for c, (form, fold_form) in enumerate(zip(nfkc, folded, strict=True)):
        if len(form) == 1 and len(fold_form) == 1:
            if form in stable:
                table[c] = ord(fold_form)
        elif all(ch in stable for ch in form):
            table[c] = _EXPAND + len(expansions)
            expansions += [len(fold_form), *map(ord, fold_form)]
    for ch in ZERO_WIDTH:
        table[ord(ch)] = _DROP
    return table, np.asarray(expansions, dtype=np.uint32)


@njit(cache=True, nogil=True)
def fold(
    cps: npt.NDArray[np.uint32] | npt.NDArray[np.uint8],
    table: npt.NDArray[np.uint32],
    expansions: npt.NDArray[np.uint32],
    out: npt.NDArray[np.uint32],
) -> int:
    """``dedup.text.normalise`` for text whose code points all have an entry in ``table``
    (see :func:`fold_tables`): writes the result to ``out`` and returns its length, or -1 when
    some code point needs Python or ``out`` is too short."""
    m = 0
    room = out.shape[0]
    for i in range(cps.shape[0]):
        c = cps[i]
        if c >= table.shape[0]:
            return -1
        f = table[c]
        if f == 0xFFFFFFFF:
            return -1
        if f == 0xFFFFFFFE:
            continue
        if f >= 0x80000000:
            at = f - 0x80000000
            n = expansions[at]
            if m + n > room:
                return -1
            for j in range(n):
                out[m + j] = expansions[at + 1 + j]
            m += n
        else:
            if m >= room:
                return -1
            out[m] = f
            m += 1
    return m


@njit(cache=True, nogil=True)
def _utf8_crc(cp: int, crc: int, out: npt.NDArray[np.uint8], m: int) -> tuple[int, int]:
    """Feed the UTF-8 bytes of ``cp`` (surrogates as their 3-byte form, like ``surrogatepass``)
    to ``crc`` and write them at ``out[m:]``; returns the new crc and write position."""
    if cp < 0x80:
        n = 1
        out[m] = cp
    elif cp < 0x800:
        n = 2
        out[m] = 0xC0 | (cp >> 6)
        out[m + 1] = 0x80 | (cp & 0x3F)
    elif cp < 0x10000:
        n = 3
        out[m] = 0xE0 | (cp >> 12)
        out[m + 1] = 0x80 | ((cp >> 6) & 0x3F)
        out[m + 2] = 0x80 | (cp & 0x3F)
    else:
        n = 4
        out[m] = 0xF0 | (cp >> 18)
        out[m + 1] = 0x80 | ((cp >> 12) & 0x3F)
        out[m + 2] = 0x80 | ((cp >> 6) & 0x3F)
        out[m + 3] = 0x80 | (cp & 0x3F)
    for j in range(m, m + n):
        crc = _CRC[(crc ^ out[j]) & 0xFF] ^ (crc >> 8)
    return crc, m + n


@njit(cache=True, nogil=True)
def tokenise(
    cps: npt.NDArray[np.uint32] | npt.NDArray[np.uint8],
    table: npt.NDArray[np.uint8],
    hashes: npt.NDArray[np.uint64],
    joined: npt.NDArray[np.uint8],
) -> tuple[int, int, int, int]:
    """Split normalised code points into words as ``WORD_RE.findall`` does.

    Writes each word's CRC-32 (of its UTF-8) to ``hashes`` and the UTF-8 of the words joined
    by ``\\x1f`` to ``joined``; returns (words, words of no-space scripts, bytes written, length
    of the words joined as :func:`spaced` joins them). ``hashes`` needs ``len(cps)`` slots,
    ``joined`` ``5 * len(cps)``.
    """
    return _tokenise_at(cps, cps.shape[0], table, hashes, 0, joined, 0)


@njit(cache=True, nogil=True)
def _tokenise_at(
    cps: npt.NDArray[np.uint32] | npt.NDArray[np.uint8],
    n: int,
    table: npt.NDArray[np.uint8],
    hashes: npt.NDArray[np.uint64],
    h0: int,
    joined: npt.NDArray[np.uint8],
    j0: int,
) -> tuple[int, int, int, int]:
    """:func:`tokenise` of ``cps[:n]``, writing from ``hashes[h0]`` and ``joined[j0]``; returns
    (words, words of no-space scripts, end of what was written to ``joined``, spaced length)."""
    i = 0
    n_words = 0
    n_unspaced = 0
    m = j0
    length = 0  # of the words joined by spaces, none between two of a no-space script
    last = 0  # kind of the word before: 0 none, 1 spaced, 2 unspaced
    while i < n:
        c = int(cps[i])
        kind = table[c]
        if kind == 0:
            i += 1
            continue
        if n_words:
            joined[m] = 0x1F
            m += 1
        if last and not (last == 2 and kind == 2):
            length += 1
        last = kind
        start = i
        crc = 0xFFFFFFFF
        if kind == 2:  # one character, a word on its own
            n_unspaced += 1
            crc, m = _utf8_crc(c, crc, joined, m)
            i += 1
        else:
            # Split and hash in one pass over the word, ASCII inline.
            while True:
                if c < 0x80:
                    joined[m] = c
                    m += 1
                    crc = _CRC[(crc ^ c) & 0xFF] ^ (crc >> 8)
                else:
                    crc, m = _utf8_crc(c, crc, joined, m)
                i += 1
                if i >= n:
                    break
                c = int(cps[i])
                if table[c] != 1:
                    break
        hashes[h0 + n_words] = crc ^ 0xFFFFFFFF
        n_words += 1
        length += i - start
    return n_words, n_unspaced, m, length


@njit(cache=True, nogil=True)
def minhash(
    hashes: npt.NDArray[np.uint64], k: int, a: npt.NDArray[np.uint32], b: npt.NDArray[np.uint32], out: npt.NDArray[np.uint32]
) -> None:
    """Fold the ``k``-word shingles of ``hashes`` into the signature row ``out`` (kept minima).

    Same shingle hash as :func:`dedup.text.shingle_hashes` (FNV-style combination, folded to
    32 bits) and same permutation as :func:`dedup.sketch.signatures` (MurmurHash3 ``fmix32``,
    then ``a·h + b`` mod 2³²). A repeated shingle changes no minimum, so no de-duplication
    is needed. Fewer than ``k`` words make one shingle of all of them.
    """
    n = hashes.shape[0]
    if n == 0:
        return
    k = min(k, n)
    num_perm = out.shape[0]
    prime = np.uint64(0x100000001B3)
    low = np.uint64(0xFFFFFFFF)
    for i in range(n - k + 1):
        acc = hashes[i]
        for j in range(1, k):
            acc = (acc * prime) ^ hashes[i + j]
        h = (acc ^ (acc >> np.uint64(32))) & low
        h ^= h >> np.uint64(16)
        h = (h * np.uint64(0x85EBCA6B)) & low
        h ^= h >> np.uint64(13)
        h = (h * np.uint64(0xC2B2AE35)) & low
        h32 = np.uint32(h ^ (h >> np.uint64(16)))
        # 32-bit arithmetic and a branchless minimum: the loop over permutations becomes
        # vector instructions (2.5 times faster than 64-bit products and a branch).
        for p in range(num_perm):
            out[p] = min(out[p], np.uint32(a[p] * h32 + b[p]))


@njit(cache=True, nogil=True)
def agreement(sigs: npt.NDArray[np.uint32], pairs: npt.NDArray[np.int64], out: npt.NDArray[np.float64]) -> None:
    """Share of signature values each pair of rows agrees on (their Jaccard estimate), into
    ``out``: one pass over the two rows, where numpy would gather both rows of every pair."""
    width = sigs.shape[1]
    for p in range(pairs.shape[0]):
        x, y = pairs[p, 0], pairs[p, 1]
        same = 0
        for c in range(width):
            same += sigs[x, c] == sigs[y, c]
        out[p] = same / width


def _code_points(text: str) -> npt.NDArray[np.uint32] | npt.NDArray[np.uint8]:
    """The code points of ``text``: its bytes where it is ASCII, else its UTF-32."""
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def folded(text: str | npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32] | npt.NDArray[np.uint8]:
    """The code points of ``normalise(text)`` (``text`` a string or its code points)."""
    raw = _code_points(text) if isinstance(text, str) else text
    cps = np.empty(len(raw) + len(raw) // 4 + 16, dtype=np.uint32)
    m = fold(raw, *fold_tables(), cps)
    if m >= 0:
        return cps[:m]
    if not isinstance(text, str):
        text = text.tobytes().decode("utf-32-le", "surrogatepass")
    return np.frombuffer(normalise(text).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).copy()


def words_of(text: str | npt.NDArray[np.uint32]) -> tuple[bytes, npt.NDArray[np.uint64], int, int]:
    """The normalised words of ``text`` (a string or its code points): the UTF-8 of the words
    joined by ``\\x1f`` (what the exact-copy key hashes), their CRC-32 hashes, how many words,
    how many of them characters of scripts written without spaces. The same as
    ``dedup.text.words`` and ``dedup.text.word_hashes``, without a Python string per word.
    """
    joined, hashes, n_words, n_unspaced, _ = folded_words(folded(text))
    return joined, hashes, n_words, n_unspaced


def folded_words(cps: npt.NDArray[np.uint32] | npt.NDArray[np.uint8]) -> tuple[bytes, npt.NDArray[np.uint64], int, int, int]:
    """:func:`words_of` of a text from its normalised code points (what :func:`folded` gives),
    and the length of its comparison key (``len(key_text(text))`` for a text of one chunk)."""
    hashes = np.empty(len(cps), dtype=np.uint64)
    joined = np.empty(5 * len(cps), dtype=np.uint8)
    n_words, n_unspaced, m, length = tokenise(cps, word_table(), hashes, joined)
    return joined[:m].tobytes(), hashes[:n_words], n_words, n_unspaced, length


@njit(cache=True, nogil=True)
def _span_words(
    raw: npt.NDArray[np.uint32] | npt.NDArray[np.uint8],
    starts: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64],
    fold_table: npt.NDArray[np.uint32],
    expansions: npt.NDArray[np.uint32],
    table: npt.NDArray[np.uint8],
    scratch: npt.NDArray[np.uint32],
    hashes: npt.NDArray[np.uint64],
    joined: npt.NDArray[np.uint8],
    word_ends: npt.NDArray[np.int64],
    byte_ends: npt.NDArray[np.int64],
    unspaced: npt.NDArray[np.int64],
) -> None:
    h = 0
    j = 0
    for u in range(starts.shape[0]):
        m = fold(raw[starts[u] : ends[u]], fold_table, expansions, scratch)
        # A span whose code points expand a lot (squared katakana: five words from one code
        # point) could outgrow the room left: it goes through words_of, as one needing Python.
        if m < 0 or h + m > hashes.shape[0] or j + 5 * m + 1 > joined.shape[0]:
            unspaced[u] = -1  # needs Python's normalisation, or more room
        else:
            n_words, n_unspaced, j, _ = _tokenise_at(scratch, m, table, hashes, h, joined, j)
            h += n_words
            unspaced[u] = n_unspaced
        word_ends[u] = h
        byte_ends[u] = j


def span_words(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[bytes, npt.NDArray[np.uint64], int, int]]:
    """:func:`words_of` of each ``text[start:end]``, in one compiled pass over the spans: for a
    document's lines and sentences, a tenth of the time of one call each."""
    if not spans:
        return []
    raw = _code_points(text)
    bounds = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    starts, ends = np.ascontiguousarray(bounds[:, 0]), np.ascontiguousarray(bounds[:, 1])
    lengths = ends - starts
    longest = int(lengths.max())
    room = int(lengths.sum()) + int(lengths.sum()) // 4 + 16 * len(spans)  # what fold may write, in all
    hashes = np.empty(room, dtype=np.uint64)
    joined = np.empty(5 * room, dtype=np.uint8)
    word_ends, byte_ends, unspaced = (np.empty(len(spans), dtype=np.int64) for _ in range(3))
    table, expansions = fold_tables()
    scratch = np.empty(longest + longest // 4 + 16, dtype=np.uint32)
    _span_words(raw, starts, ends, table, expansions, word_table(), scratch, hashes, joined, word_ends, byte_ends, unspaced)
    data = joined[: int(byte_ends[-1])].tobytes()
    out = []
    w0 = b0 = 0
    for u, (w1, b1, n_unspaced) in enumerate(zip(word_ends.tolist(), byte_ends.tolist(), unspaced.tolist(), strict=True)):
        if n_unspaced < 0:
            s, e = spans[u]
            out.append(words_of(text[s:e]))
        else:
            out.append((data[b0:b1], hashes[w0:w1], w1 - w0, n_unspaced))
        w0, b0 = w1, b1
    return out


@njit(cache=True, nogil=True)
def spaced(cps: npt.NDArray[np.uint32] | npt.NDArray[np.uint8], table: npt.NDArray[np.uint8], out: npt.NDArray[np.uint32]) -> int:
    """Write the words of normalised code points (split as :func:`tokenise` does) to ``out``
    joined by spaces, with none between two characters of scripts written without spaces
    (``dedup.text.key_of``); returns how many code points were written. ``out`` needs
    ``2 * len(cps)`` slots."""
    n = cps.shape[0]
    m = 0
    last = 0  # kind of the word before: 0 none, 1 spaced, 2 unspaced
    inside = False  # whether the code point before is part of a spaced word
    # One pass, one branch a code point (a loop per word was a quarter slower).
    for i in range(n):
        c = cps[i]
        kind = table[c]
        if kind == 1:
            if not inside:
                if last:
                    out[m] = 0x20
                    m += 1
                last = 1
                inside = True
            out[m] = c
            m += 1
        elif kind == 2:  # a word on its own, joined to another of its kind without a space
            if last == 1:
                out[m] = 0x20
                m += 1
            out[m] = c
            m += 1
            last = 2
            inside = False
        else:
            inside = False
    return m


def key_text(text: str) -> str:
    """``dedup.text.norm_key``: the normalised words joined by spaces (none between characters
    of scripts written without spaces), what similarity compares."""
    parts = []
    for chunk in text_chunks(text):
        cps = folded(chunk)
        out = np.empty(2 * len(cps), dtype=np.uint32)
        m = spaced(cps, word_table(), out)
        if m:
            parts.append(out[:m].tobytes().decode("utf-32-le", "surrogatepass"))
    # Chunks are cut at whitespace, so two characters either side of a cut are two words.
    return parts[0] if len(parts) == 1 else close_unspaced_gaps(" ".join(parts))


def warm_up() -> None:
    """Build the tables and load (or compile) the kernels now, so that processes forked later
    share them instead of each making its own."""
    words_of("warm-up Ä")
    words_of("warm-up")
    key_text("warm-up 北京")
    casefolded_lines("warm-up Ä\n1")  # the boilerplate stage's workers (and casefolded_words)
    span_words("warm-up Ä", [(0, 7)])  # the repeats stage's workers (text that is not ASCII ...
    span_words("warm-up", [(0, 7)])  # ... and ASCII text: kernels typed for bytes)
    one = np.ones(1, dtype=np.uint32)
    minhash(np.zeros(1, dtype=np.uint64), 1, one, one, one.copy())
    agreement(np.zeros((1, 1), dtype=np.uint32), np.zeros((1, 2), dtype=np.int64), np.empty(1))
