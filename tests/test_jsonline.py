"""A line is taken as canonical only where decoding and encoding it again gives it back."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.jsonline import record_fields, string_code_points

scalars = st.one_of(st.text(), st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                      max_leaves=6)
records = st.dictionaries(st.text(max_size=8), values, min_size=1, max_size=5)


EDITS = [b"\\", b'"', b" ", b"-", b"0", b"\\u0001", b"\\u00e9", b"\\/", b"\x01", b"}", b"\xc3\xa9",
         b"\xff", b"\xed\xa0\x80", b"\xe2\x82"]  # the last three: not UTF-8, a surrogate, a cut sequence


def canonical(data: bytes, starts: np.ndarray, ends: np.ndarray) -> list[bool]:
    """Whether each line is canonical: record_fields gives spans (not -2) for it."""
    return (record_fields(data, starts, ends, ["id"])[:, 0, 0] != -2).tolist()


def close_of(line: bytes) -> int:
    """Where pass 3 puts a canonical line's annotation (its closing brace), or -1."""
    if not canonical(line, np.array([0]), np.array([len(line)]))[0]:
        return -1
    return len(line) - (2 if line.endswith(b"\n") else 1)


def reencoded(line: bytes) -> bytes | None:
    try:
        return json.dumps(json.loads(line), ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


@settings(max_examples=300, deadline=None)
@given(records, st.booleans(), st.sampled_from([(", ", ": "), (",", ":"), (", ", ":")]))
def test_taken_only_when_encoding_gives_the_line_back(record: dict[str, object], ascii_only: bool,
                                                       separators: tuple[str, str]) -> None:
    line = json.dumps(record, ensure_ascii=ascii_only, separators=separators).encode("utf-8")
    close = close_of(line + b"\n")
    if close >= 0:
        assert reencoded(line) == line and close == len(line) - 1
    flat = all(isinstance(v, str | int | None) for v in record.values()) and "dedup" not in record
    if flat and not ascii_only and separators == (", ", ": "):
        assert close == len(line) - 1  # what json.dumps writes of a flat record is taken


@settings(max_examples=500, deadline=None)
@given(records, st.data())
def test_an_edited_line_is_taken_only_when_still_canonical(record: dict[str, object], data: st.DataObject) -> None:
    line = bytearray(json.dumps(record, ensure_ascii=False).encode("utf-8"))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(line)))
        line[at:at] = data.draw(st.sampled_from(EDITS))
    if close_of(bytes(line)) >= 0:
        assert reencoded(bytes(line)) == bytes(line)


def test_lines_it_leaves_to_json() -> None:
    for line in [
        b'{"id": "a", "id": "b"}',  # json.loads keeps the last
        b'{"id": "a", "dedup": null}',  # json.dumps puts the new annotation in the old one's place
        b'{"n": -0}', b'{"n": 007}', b'{"n": 1.0}', b'{"t": "caf\\u00e9"}', b'{"t": "\\u001B"}', b'{"t": "\\u000a"}',
        b'{"t": "a\\/b"}', b'{"t":"x"}', b'{"t": "x"} ', b'{"t": "x"}\r\n', b' {"t": "x"}', b"{}", b'{"t": ["x"]}',
        b'{"t": "\xff"}', b'{"t": "\xed\xa0\x80"}', b'{"t": "\xc3"}',
    ]:
        assert close_of(line) == -1, line
    for line in [b'{"t": "\\u001b\\n\\"\\\\"}', b'{"n": -12, "z": 0, "b": true, "f": false, "x": null}', b'{"t": "caf\xc3\xa9"}\n']:
        assert reencoded(line) == line.rstrip(b"\n")
        assert close_of(line) == len(line.rstrip(b"\n")) - 1, line


def test_many_lines_in_one_buffer() -> None:
    lines = [b'{"a": 1}\n', b'{"a":1}\n', b'{"t": "x y"}\n']
    data = b"".join(lines)
    ends = np.cumsum([len(x) for x in lines])
    starts = ends - [len(x) for x in lines]
    assert canonical(data, starts, ends) == [True, False, True]


flat_records = st.fixed_dictionaries(
    {"text": st.text()},
    optional={"id": st.one_of(st.text(max_size=6), st.integers(), st.none(), st.booleans()), "url": st.text(max_size=6)},
)


@settings(max_examples=400, deadline=None)
@given(flat_records, st.text(max_size=4))
def test_fields_and_their_text_read_as_json_reads_them(record: dict[str, object], extra_key: str) -> None:
    """For a canonical line, the span of each field's value, and a string's code points, are
    what ``json.loads`` gives; a field the record lacks has no span."""
    if extra_key not in record:
        record[extra_key] = 1
    line = json.dumps(record, ensure_ascii=False).encode("utf-8")
    fields = record_fields(line, np.array([0]), np.array([len(line)]), ["text", "id", "missing\n"])[0].tolist()
    if extra_key == "dedup":
        assert fields == [[-2, -2]] * 3  # not canonical: json must read it
        return
    (ts, te), (is_, ie), absent = fields
    assert absent == [-1, -1]
    assert json.loads(line[ts:te]) == record["text"]
    assert "".join(map(chr, string_code_points(line, ts, te))) == record["text"]
    if "id" in record:
        assert json.loads(line[is_:ie]) == record["id"]
    else:
        assert (is_, ie) == (-1, -1)


def test_fields_of_lines_json_must_read() -> None:
    lines = [b'{"text": "a", "id": 1.5}', b'{"text":"a"}', b'{"text": "\\u00e9"}', b'{"text": "a", "text": "b"}']
    data = b"\n".join(lines) + b"\n"
    ends = np.cumsum([len(x) + 1 for x in lines])
    assert (record_fields(data, ends - np.array([len(x) + 1 for x in lines]), ends, ["text"]) == -2).all()
