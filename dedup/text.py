"""Text normalisation, segmentation with character offsets, and shingle hashing.

Words are runs of letters and digits, case-folded; each Chinese, Japanese, Korean or Thai
character counts as a word of its own, so that word shingles become character n-grams in
scripts written without spaces.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

# A CJK/Thai character is one token; otherwise a token is a run of letters/digits.
_NOSPACE = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
WORD_RE = re.compile(rf"[{_NOSPACE}]|[^\W_{_NOSPACE}]+")
_LINE_BREAK = re.compile(r"\r\n|\n|\r")
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"  # removed before normalising
_ZERO_WIDTH = re.compile(f"[{ZERO_WIDTH}]")

_FNV_PRIME = np.uint64(0x100000001B3)
_MASK32 = np.uint64(0xFFFFFFFF)

_word_hash_cache: dict[str, int] = {}


def words(text: str) -> list[str]:
    """Normalised words of ``text``: NFKC, case-folded, zero-width characters removed.

    >>> words("Hello,  WORLD! 北京")
    ['hello', 'world', '北', '京']
    """
    return WORD_RE.findall(normalise(text))


def normalise(text: str) -> str:
    """NFKC, case-folded, zero-width characters removed: the text words are read from.

    >>> normalise("Stra\u00dfe\u200b \ufb01ne")
    'strasse fine'
    """
    if text.isascii():
        return text.lower()  # ASCII is its own NFKC form, and casefold() is lower() there
    return unicodedata.normalize("NFKC", _ZERO_WIDTH.sub("", text)).casefold()


def word_spans(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` offsets of the words of ``text`` in the original string.

    Offsets come from matching the original text, so they always index it; case and width
    are folded per match only for comparison, never for positions.
    """
    return [m.span() for m in WORD_RE.finditer(text)]


CHUNK_CHARS = 1 << 20


def text_chunks(text: str, size: int = CHUNK_CHARS) -> Iterator[str]:
    """``text`` in pieces of about ``size`` characters, cut only at whitespace, so that the
    words of the pieces are the words of the whole (a text with no whitespace for ``size``
    characters is cut there anyway).

    >>> list(text_chunks("one two three", 5))
    ['one ', 'two ', 'three']
    """
    pos, n = 0, len(text)
    while pos < n:
        end = min(n, pos + size)
        if end < n:
            cut = max(text.rfind(" ", pos, end), text.rfind("\n", pos, end))
            end = cut + 1 if cut > pos else end
        yield text[pos:end]
        pos = end


def line_spans(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of every line, without its line break (``\\n``, ``\\r\\n`` or ``\\r``).

    >>> line_spans("a\\r\\nbc\\rd")
    [(0, 1), (3, 5), (6, 7)]
    """
    spans = []
    pos = 0
    if "\r" not in text:  # most texts: each line ends one past the last (three times as fast)
        for line in text.split("\n"):
            end = pos + len(line)
            spans.append((pos, end))
            pos = end + 1
        return spans
    for m in _LINE_BREAK.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return spans


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` that :func:`line_spans` gives, as strings.

    >>> split_lines("a\\r\\nbc\\rd")
    ['a', 'bc', 'd']
    """
    return text.split("\n") if "\r" not in text else _LINE_BREAK.split(text)


def line_count(text: str) -> int:
    """``len(line_spans(text))``, without building the spans.

    >>> line_count("a\\r\\nbc\\rd\\n")
    4
    """
    breaks = text.count("\n")
    returns = text.count("\r")
    return breaks + 1 if not returns else breaks + returns - text.count("\r\n") + 1


def word_hashes(tokens: list[str]) -> npt.NDArray[np.uint64]:
    """Stable 32-bit hashes (CRC-32 of UTF-8) of ``tokens``, as uint64 for shingle arithmetic."""
    cache = _word_hash_cache
    if len(cache) > 2_000_000:
        cache.clear()
    out = np.empty(len(tokens), dtype=np.uint64)
    for i, tok in enumerate(tokens):
        h = cache.get(tok)
        if h is None:
            h = cache[tok] = zlib.crc32(tok.encode("utf-8"))
        out[i] = h
    return out


def shingle_hashes(hashes: npt.NDArray[np.uint64], k: int) -> npt.NDArray[np.uint32]:
    """Unique 32-bit hashes of the ``k``-word shingles of a document, sorted.

    A document shorter than ``k`` words gives one shingle of all its words; an empty one none.
    """
    n = len(hashes)
    if n == 0:
        return np.empty(0, dtype=np.uint32)
    k = min(k, n)
    acc = hashes[: n - k + 1].copy()
    with np.errstate(over="ignore"):
        for j in range(1, k):
            acc = (acc * _FNV_PRIME) ^ hashes[j : n - k + 1 + j]
    folded = ((acc ^ (acc >> np.uint64(32))) & _MASK32).astype(np.uint32)
    return np.unique(folded)


UNSPACED_RE = re.compile(rf"[{_NOSPACE}]")
UNSPACED_SHINGLE_REDUCTION = 2


UNSPACED_SHARE = 0.25


def count_unspaced(tokens: list[str]) -> int:
    """How many of ``tokens`` are single characters of a script written without spaces."""
    return sum(1 for t in tokens if len(t) == 1 and UNSPACED_RE.match(t))


def shingle_size(n_tokens: int, n_unspaced: int, k: int) -> int:
    """Shingle size for a document of ``n_tokens`` tokens, ``n_unspaced`` of them characters of a
    script written without spaces (Chinese, Japanese, Thai): ``k`` words, or ``k - 2`` when at
    least a quarter of the tokens are such characters. One edited character changes every
    shingle that covers it, and a character carries less than a word: 5-character shingles of a
    Chinese text with 10% of its characters edited keep a Jaccard near 0.3, 3-character ones
    near 0.5. A quarter, not a half: technical Chinese text is often half Latin words.
    """
    if n_tokens and n_unspaced >= UNSPACED_SHARE * n_tokens:
        return max(2, k - UNSPACED_SHINGLE_REDUCTION)
    return k


def shingle_size_for(tokens: list[str], k: int) -> int:
    """:func:`shingle_size` of a list of tokens."""
    return shingle_size(len(tokens), count_unspaced(tokens), k)


def shingles(text: str, k: int) -> npt.NDArray[np.uint32]:
    """Unique hashed ``k``-word shingles of ``text``."""
    return shingle_hashes(word_hashes(words(text)), k)


_NOSPACE_GAP = re.compile(rf"(?<=[{_NOSPACE}]) (?=[{_NOSPACE}])")


def norm_key(text: str) -> str:
    """The normalised words of ``text`` joined by spaces, what similarity compares.

    Characters of scripts written without spaces are joined without them: spaces that the
    text never had would otherwise make up half of any two Chinese texts' common subsequence.

    >>> norm_key("Hello,  World! 北京 欢迎你")
    'hello world 北京欢迎你'
    """
    return key_of(words(text))


def key_of(tokens: list[str]) -> str:
    """:func:`norm_key` of already normalised words."""
    return close_unspaced_gaps(" ".join(tokens))


def close_unspaced_gaps(joined: str) -> str:
    """Remove the spaces between two characters of scripts written without spaces."""
    return joined if joined.isascii() else _NOSPACE_GAP.sub("", joined)
