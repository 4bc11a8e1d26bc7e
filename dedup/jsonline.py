"""Read and write canonical JSON lines without Python's ``json``, where that gives the same result.

``dedup clean`` writes each record as ``json.dumps(record, ensure_ascii=False)`` with its
``dedup`` annotation added last. When a line is already exactly what ``json.dumps`` would
write for its record (a *canonical* line), that output is the line itself with
``, "dedup": ...`` put before its closing brace: no ``json.loads``, no ``json.dumps`` of the
text. Python's ``json`` module writes such lines (``ensure_ascii=False``, default
separators), and so does ``dedup`` itself, so a pipeline of ``dedup`` steps gets them.

One compiled pass over the lines of a buffer decides this (:func:`record_fields`). A line
is canonical when it is a flat object (no nested objects or arrays, no floats) written with
``", "`` and ``": "`` and nothing else between tokens, whose strings carry only the escapes
``json.dumps`` makes (``\\"``, ``\\\\``, ``\\b``, ``\\f``, ``\\n``, ``\\r``, ``\\t``, and
``\\u00XX`` in lower case for the other control characters), whose integers have no leading
zero or ``-0``, whose keys are all different and none is ``dedup``, in valid UTF-8. Any other
line (written by another tool, with ``\\u`` escapes of non-ASCII text, with a nested field) is
decoded and encoded as before: the output is the same either way, only slower.

The same pass reads canonical lines: :func:`record_fields` gives where each field's value is
(and marks the lines that are not canonical), and :func:`string_code_points` decodes a string
value to the code points ``json.loads`` would give, with no Python string. Pass 1 of
:mod:`dedup.twopass` sketches a text straight from them, and records which lines pass 3 can
write by putting the annotation before their closing brace.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from numba import njit

_SHORT_ESCAPES = np.zeros(256, dtype=np.bool_)
for _c in b'"\\bfnrt':
    _SHORT_ESCAPES[_c] = True
_LOWER_HEX = np.full(256, -1, dtype=np.int64)
for _i, _c in enumerate(b"0123456789abcdef"):
    _LOWER_HEX[_c] = _i
_HAS_SHORT_FORM = np.zeros(32, dtype=np.bool_)
for _c in b"\b\f\n\r\t":
    _HAS_SHORT_FORM[_c] = True
_MAX_KEYS = 64  # more keys than this: decoded and encoded (the duplicate check is quadratic)


@njit(cache=True, nogil=True)
def _string_end(data: npt.NDArray[np.uint8], i: int, end: int, short: npt.NDArray[np.bool_], hexes: npt.NDArray[np.int64],
                has_short: npt.NDArray[np.bool_]) -> int:
    """Index after the closing quote of the string whose opening quote is at ``i - 1``, or -1
    where it is not as ``json.dumps`` writes it."""
    while i < end:
        c = data[i]
        if c == 0x22:
            return i + 1
        if c < 0x20:
            return -1
        if c == 0x5C:
            if i + 1 >= end:
                return -1
            e = data[i + 1]
            if short[e]:
                i += 2
                continue
            # \u00XX for a control character without a short escape, in lower case.
            if e != 0x75 or i + 5 >= end or data[i + 2] != 0x30 or data[i + 3] != 0x30:
                return -1
            hi, lo = hexes[data[i + 4]], hexes[data[i + 5]]
            if hi < 0 or hi > 1 or lo < 0 or has_short[hi * 16 + lo]:
                return -1
            i += 6
            continue
        if c >= 0x80:
            i = _utf8_end(data, i, end)
            if i < 0:
                return -1
            continue
        i += 1
    return -1


@njit(cache=True, nogil=True)
def _utf8_end(data: npt.NDArray[np.uint8], i: int, end: int) -> int:
    """Index after the UTF-8 sequence starting at ``i`` (a byte of 0x80 or more), or -1 where
    it is not valid UTF-8 (surrogates included, which ``json.loads`` would let through)."""
    c = data[i]
    if 0xC2 <= c <= 0xDF:
        n, low, high = 1, 0x80, 0xBF
    elif 0xE0 <= c <= 0xEF:
        n = 2
        low = 0xA0 if c == 0xE0 else 0x80
        high = 0x9F if c == 0xED else 0xBF
    elif 0xF0 <= c <= 0xF4:
        n = 3
        low = 0x90 if c == 0xF0 else 0x80
        high = 0x8F if c == 0xF4 else 0xBF
    else:
        return -1
    if i + n >= end or not (low <= data[i + 1] <= high):
        return -1
    for j in range(i + 2, i + n + 1):
        if not (0x80 <= data[j] <= 0xBF):
            return -1
    return i + n + 1


@njit(cache=True, nogil=True)
def _canonical(data: npt.NDArray[np.uint8], start: int, end: int, short: npt.NDArray[np.bool_], hexes: npt.NDArray[np.int64],
               has_short: npt.NDArray[np.bool_], key_starts: npt.NDArray[np.int64], key_ends: npt.NDArray[np.int64],
               value_starts: npt.NDArray[np.int64], value_ends: npt.NDArray[np.int64]) -> int:
    """Index of the closing brace of the canonical line ``data[start:end]`` (its newline
    excluded), or -1. Each key's text (inside its quotes) and value go to ``key_starts``,
    ``key_ends``, ``value_starts`` and ``value_ends`` (-1 past the last key)."""
    key_starts[:] = -1
    if end - start < 2 or data[start] != 0x7B or data[end - 1] != 0x7D:
        return -1
    i = start + 1
    n_keys = 0
    while True:
        if i >= end or data[i] != 0x22:
            return -1
        k = _string_end(data, i + 1, end, short, hexes, has_short)
        if k < 0 or n_keys == key_starts.shape[0]:
            return -1
        key_starts[n_keys], key_ends[n_keys] = i + 1, k - 1
        n_keys += 1
        if k + 1 >= end or data[k] != 0x3A or data[k + 1] != 0x20:
            return -1
        i = k + 2
        if i >= end:
            return -1
        value_starts[n_keys - 1] = i
        c = data[i]
        if c == 0x22:
            i = _string_end(data, i + 1, end, short, hexes, has_short)
            if i < 0:
                return -1
        elif c == 0x2D or (0x30 <= c <= 0x39):
            j = i + 1 if c == 0x2D else i
            if j >= end or not (0x30 <= data[j] <= 0x39):
                return -1
            if data[j] == 0x30 and (c == 0x2D or (j + 1 < end and 0x30 <= data[j + 1] <= 0x39)):
                return -1  # "-0", or a leading zero
            j += 1
            while j < end and 0x30 <= data[j] <= 0x39:
                j += 1
            i = j
        elif c == 0x74 and i + 4 <= end and data[i + 1] == 0x72 and data[i + 2] == 0x75 and data[i + 3] == 0x65:
            i += 4
        elif c == 0x66 and i + 5 <= end and data[i + 1] == 0x61 and data[i + 2] == 0x6C and data[i + 3] == 0x73 and data[i + 4] == 0x65:
            i += 5
        elif c == 0x6E and i + 4 <= end and data[i + 1] == 0x75 and data[i + 2] == 0x6C and data[i + 3] == 0x6C:
            i += 4
        else:
            return -1  # a float, an object, an array
        value_ends[n_keys - 1] = i
        if i == end - 1:
            break  # the closing brace
        if i + 1 >= end or data[i] != 0x2C or data[i + 1] != 0x20:
            return -1
        i += 2
    for a in range(n_keys):
        la = key_ends[a] - key_starts[a]
        if la == 5 and data[key_starts[a]] == 0x64 and data[key_starts[a] + 1] == 0x65 and data[key_starts[a] + 2] == 0x64 \
                and data[key_starts[a] + 3] == 0x75 and data[key_starts[a] + 4] == 0x70:
            return -1  # "dedup": json.dumps would put the new one where the old one is
        for b in range(a + 1, n_keys):
            if key_ends[b] - key_starts[b] != la:
                continue
            same = True
            for t in range(la):
                if data[key_starts[a] + t] != data[key_starts[b] + t]:
                    same = False
                    break
            if same:
                return -1  # json.loads keeps the last of repeated keys
    return end - 1


@njit(cache=True, nogil=True)
def _scan_lines(data: npt.NDArray[np.uint8], starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64],
                short: npt.NDArray[np.bool_], hexes: npt.NDArray[np.int64], has_short: npt.NDArray[np.bool_],
                names: npt.NDArray[np.uint8], name_ends: npt.NDArray[np.int64], out: npt.NDArray[np.int64]) -> None:
    """The value spans of the fields ``names`` (joined, each ending at ``name_ends``) of each
    line into ``out`` (see :func:`record_fields`)."""
    key_starts = np.empty(_MAX_KEYS, dtype=np.int64)
    key_ends = np.empty(_MAX_KEYS, dtype=np.int64)
    value_starts = np.empty(_MAX_KEYS, dtype=np.int64)
    value_ends = np.empty(_MAX_KEYS, dtype=np.int64)
    for n in range(starts.shape[0]):
        end = ends[n]
        if end > starts[n] and data[end - 1] == 0x0A:
            end -= 1
        if _canonical(data, starts[n], end, short, hexes, has_short, key_starts, key_ends, value_starts, value_ends) < 0:
            out[n, :, :] = -2
            continue
        out[n, :, :] = -1
        for f in range(name_ends.shape[0]):
            first = name_ends[f - 1] if f else 0
            length = name_ends[f] - first
            for k in range(_MAX_KEYS):
                if key_starts[k] < 0:
                    break
                if key_ends[k] - key_starts[k] != length:
                    continue
                same = True
                for t in range(length):
                    if data[key_starts[k] + t] != names[first + t]:
                        same = False
                        break
                if same:
                    out[n, f, 0], out[n, f, 1] = value_starts[k], value_ends[k]
                    break


def record_fields(data: bytes, starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64], names: Sequence[str]) -> npt.NDArray[np.int64]:
    """For each line ``data[starts[n]:ends[n]]``, where it is canonical (see the module's
    docstring), the span in ``data`` of the value of each field of ``names`` (a string with its
    quotes), ``(-1, -1)`` for a field it does not have; every span ``(-2, -2)`` for a line that
    is not canonical (``json.loads`` must read it). An array of shape ``(lines, names, 2)``.

    >>> line = '{"id": 7, "text": "café"}'.encode()
    >>> record_fields(line, np.array([0]), np.array([len(line)]), ["text", "id", "url"]).tolist()
    [[[18, 25], [7, 8], [-1, -1]]]
    """
    out = np.empty((len(starts), len(names), 2), dtype=np.int64)
    # A key is compared as json.dumps writes it (escapes and all), without its quotes.
    encoded = [json.dumps(name, ensure_ascii=False)[1:-1].encode("utf-8", "surrogatepass") for name in names]
    name_ends = np.cumsum([len(e) for e in encoded], dtype=np.int64)
    _scan_lines(np.frombuffer(data, dtype=np.uint8), np.ascontiguousarray(starts, dtype=np.int64),
                np.ascontiguousarray(ends, dtype=np.int64), _SHORT_ESCAPES, _LOWER_HEX, _HAS_SHORT_FORM,
                np.frombuffer(b"".join(encoded) or b"\0", dtype=np.uint8), name_ends, out)
    return out


@njit(cache=True, nogil=True)
def _string_code_points(data: npt.NDArray[np.uint8], start: int, end: int, out: npt.NDArray[np.uint32]) -> int:
    """The code points of the canonical JSON string ``data[start:end]`` (quotes included) into
    ``out``; returns how many. Only the escapes of canonical lines occur, in valid UTF-8."""
    m = 0
    i = start + 1
    stop = end - 1
    while i < stop:
        c = data[i]
        if c == 0x5C:
            e = data[i + 1]
            if e == 0x75:  # \u00XX
                hi, lo = data[i + 4], data[i + 5]
                out[m] = ((hi - 0x30) << 4) | (lo - 0x30 if lo <= 0x39 else lo - 0x57)
                i += 6
            else:
                out[m] = (0x08 if e == 0x62 else 0x0C if e == 0x66 else 0x0A if e == 0x6E else 0x0D if e == 0x72
                          else 0x09 if e == 0x74 else e)
                i += 2
        elif c < 0x80:
            out[m] = c
            i += 1
        elif c < 0xE0:
            out[m] = ((c & 0x1F) << 6) | (data[i + 1] & 0x3F)
            i += 2
        elif c < 0xF0:
            out[m] = ((c & 0x0F) << 12) | ((data[i + 1] & 0x3F) << 6) | (data[i + 2] & 0x3F)
            i += 3
        else:
            out[m] = ((c & 0x07) << 18) | ((data[i + 1] & 0x3F) << 12) | ((data[i + 2] & 0x3F) << 6) | (data[i + 3] & 0x3F)
            i += 4
        m += 1
    return m


def string_code_points(data: bytes | npt.NDArray[np.uint8], start: int, end: int) -> npt.NDArray[np.uint32]:
    """The code points of the string value ``data[start:end]`` of a canonical line (a span
    :func:`record_fields` gave): what ``json.loads`` would decode, without a Python string.

    >>> string_code_points(b'"caf\\xc3\\xa9"', 0, 7).tolist()
    [99, 97, 102, 233]
    """
    buffer = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data
    out = np.empty(end - start, dtype=np.uint32)
    return out[: _string_code_points(buffer, start, end, out)]


def warm_up() -> None:
    """Load (or compile) the scanners now, so that processes forked later share them."""
    record_fields(b'{"a": "b"}', np.zeros(1, dtype=np.int64), np.full(1, 10, dtype=np.int64), ["a"])
    string_code_points(b'"b"', 0, 3)
