"""The compiled kernel gives exactly what the pure-Python text and sketch functions give."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup import kernel, neardup
from dedup.sketch import permutations, signatures
from dedup.text import (
    CHUNK_CHARS,
    count_unspaced,
    line_spans,
    norm_key,
    normalise,
    shingle_hashes,
    shingle_size_for,
    word_hashes,
    words,
)

SEEDS = Path(__file__).resolve().parents[1] / "seeds"

# Text that exercises every branch: ASCII, Latin with compatibility forms (NBSP, ², ﬁ, ß, ǅ),
# combining marks, Hangul syllables and jamo, CJK, Thai, Indic vowel signs that compose,
# emoji and other astral code points, zero-width characters, lone surrogates.
_PIECES = [
    "The", "quick", "BROWN", "fox", " ", "  ", "\n", "\t", ",", ".", "-", "_", "'", "3.14", "x_y",
    "\u00a0", "\u00b2", "\ufb01", "Stra\u00dfe", "\u01c5", "\u2026", "\u2122", "\u00bd", "\u212b",
    "e\u0301", "\u0301", "A\u030a", "\u1100\u1161\u11a8", "\u1161", "\uac00\u11a8", "\ud55c\uad6d\uc5b4",
    "\u5317\u4eac", "\u6b22\u8fce", "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35", "\u0b95\u0bca", "\u0bc6\u0bbe",
    "\U0001f600", "\U0001d400", "\U00011099\U000110ba", "\U00020000", "\u200b", "\u200d", "\u00ad",
    "\ufeff", "\ud800", "\udfff", "\u0130", "\u03a3", "\u1e9e", "\uff21\uff22", "\u3099", "\u304b\u3099",
]

texts = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=6)), max_size=40).map("".join)


def python_words(text: str) -> tuple[bytes, np.ndarray, int, int]:
    tokens = words(text)
    return "\x1f".join(tokens).encode("utf-8", "surrogatepass"), word_hashes(tokens), len(tokens), count_unspaced(tokens)


def assert_same_words(text: str) -> None:
    joined, hashes, n, unspaced = kernel.words_of(text)
    want_joined, want_hashes, want_n, want_unspaced = python_words(text)
    assert joined == want_joined
    assert hashes.tolist() == want_hashes.tolist()
    assert (n, unspaced) == (want_n, want_unspaced)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_words_match_the_python_tokeniser(text: str) -> None:
    assert_same_words(text)


@settings(max_examples=200, deadline=None)
@given(texts, st.integers(min_value=1, max_value=7), st.sampled_from([2, 16, 128]), st.integers(0, 3))
def test_signature_rows_match_numpy_signatures(text: str, k: int, num_perm: int, seed: int) -> None:
    tokens = words(text)
    shingles = shingle_hashes(word_hashes(tokens), shingle_size_for(tokens, k))
    want = signatures([shingles], num_perm=num_perm, seed=seed)[0]
    row = np.full(num_perm, 0xFFFFFFFF, dtype=np.uint32)
    kernel.minhash(kernel.words_of(text)[1], shingle_size_for(tokens, k), *permutations(num_perm, seed), row)
    assert row.tolist() == want.tolist()


def test_real_pages_match() -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        assert_same_words(path.read_text(encoding="utf-8"))
    data = Path(__file__).resolve().parent / "data"
    assert_same_words((data / "page.txt").read_text(encoding="utf-8"))
    for line in (data / "near.jsonl").read_text(encoding="utf-8").splitlines():
        assert_same_words(json.loads(line)["text"])


def test_fold_table_takes_no_code_point_that_composes() -> None:
    """A code point the table maps must normalise the same in any context: its NFKC form is
    made of starters that NFKC keeps and that never end a composition."""
    table, expansions = kernel.fold_tables()
    seconds = kernel._composition_seconds()
    taken = np.flatnonzero(table < 0xFFFFFFFE)
    assert len(taken) > 100_000  # most of the BMP goes through the kernel
    for c in taken[:: 7].tolist():
        for ch in unicodedata.normalize("NFKC", chr(c)):
            assert unicodedata.combining(ch) == 0 and ord(ch) not in seconds, hex(c)
    # And the table agrees with normalise() on every code point taken, one at a time.
    out = np.empty(32, dtype=np.uint32)
    for c in taken[::97].tolist():
        m = kernel.fold(np.array([c], dtype=np.uint32), table, expansions, out)
        assert "".join(map(chr, out[:m])) == normalise(chr(c)), hex(c)


def test_tables_are_kept_in_a_file_and_built_again_when_it_is_bad(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cache" / "tables-test.npz"
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "tables-old.npz").write_bytes(b"an earlier version's tables")
    monkeypatch.setattr(kernel, "_tables_path", lambda: path)
    table, expansions = kernel.build_fold_tables()
    built = {"words": kernel.build_word_table(), "table": table, "expansions": expansions}
    built.update(zip(("casefold", "casefold_expansions", "word_chars"), kernel.build_casefold_tables(), strict=True))

    def read() -> dict[str, np.ndarray]:
        kernel._tables.cache_clear()
        return kernel._tables()

    try:
        for stored in (read(), read()):  # built and written, then read back
            assert path.exists() and stored.keys() == built.keys()
            assert all(np.array_equal(stored[k], built[k]) and stored[k].dtype == built[k].dtype for k in built)
        assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # the earlier file is gone
        assert path.stat().st_mode & 0o777 == 0o644
        path.write_bytes(b"not a zip file")
        assert np.array_equal(read()["words"], built["words"])
        np.savez(path, **{**built, "words": built["words"][:10]})  # the wrong shape
        assert np.array_equal(read()["words"], built["words"]) and np.load(path)["words"].shape == built["words"].shape
        np.savez(path, words=built["words"], table=built["table"], expansions=built["expansions"])  # a table missing
        assert np.array_equal(read()["casefold"], built["casefold"])
    finally:
        kernel._tables.cache_clear()


_NON_WORDS = re.compile(r"[\W_]+")


@settings(max_examples=300, deadline=None)
@given(st.one_of(texts, st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=30)))
def test_casefolded_words_are_the_pattern_on_casefold(text: str) -> None:
    assert kernel.casefolded_words(text) == _NON_WORDS.sub(" ", text.casefold()).strip()


def test_casefolded_words_of_code_points_one_by_one() -> None:
    """Every seventh code point (expansions, marks, digits, surrogates, the planes above)."""
    every = kernel._all_code_points(0x110000)
    for c in range(0, 0x110000, 7):
        assert kernel.casefolded_words(every[c]) == _NON_WORDS.sub(" ", every[c].casefold()).strip(), hex(c)
    # "İ" folds to "i" and a combining dot, which is no word character.
    assert kernel.casefolded_words("Straße İstanbul ǅ ﬃ x_y 12") == "strasse i stanbul ǆ ffi x y 12"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(texts, st.sampled_from(["\r", "\r\n", "\n\n", "12", "\u0663\u0664", "x1y22", "\u00b2"]))).map("".join))
def test_casefolded_lines_are_the_pattern_line_by_line(text: str) -> None:
    """Each line's words, its words with every run of digits one 0 (what a line's corpus key is
    made of), and how many words it has as written, whatever the line breaks."""
    words, keys, counts = kernel.casefolded_lines(text)
    lines = re.split(r"\r\n|\n|\r", text)
    assert words.split("\n") == [_NON_WORDS.sub(" ", line.casefold()).strip() for line in lines]
    assert keys.split("\n") == [re.sub(r"\d+", "0", w) for w in words.split("\n")]
    assert counts == [len(re.findall(r"[^\W_]+", line)) for line in lines]


def test_another_python_or_unicode_reads_another_tables_file(monkeypatch: pytest.MonkeyPatch) -> None:
    path = kernel._tables_path()
    assert path is not None and path.name.startswith("tables-") and kernel._tables_path() == path
    monkeypatch.setattr(kernel.unicodedata, "unidata_version", "0.0.1")
    other = kernel._tables_path()
    monkeypatch.setattr(kernel.sys, "version", "3.99")
    assert other is not None and len({path.name, other.name, kernel._tables_path().name}) == 3  # type: ignore[union-attr]


def test_document_words_key_is_the_python_key_across_chunks() -> None:
    """A document over CHUNK_CHARS is read in pieces; its key and hashes are those of the
    whole text read at once by the Python tokeniser."""
    page = next(SEEDS.glob("003_*.txt")).read_text(encoding="utf-8")
    text = (page + "\n") * (CHUNK_CHARS // len(page) + 2)
    key, hashes, n, _ = neardup.document_words(text)
    want_joined, want_hashes, want_n, _ = python_words(text)
    assert key == hashlib.blake2b(want_joined, digest_size=16).digest()
    assert n == want_n and hashes.tolist() == want_hashes.tolist()


@pytest.mark.parametrize("text", ["", "   \n", "!!! ...", "\u200b"])
def test_texts_without_words(text: str) -> None:
    key, hashes, n, unspaced = neardup.document_words(text)
    assert (len(hashes), n, unspaced) == (0, 0, 0)
    assert key == hashlib.blake2b(("\x00" + text.strip()).encode("utf-8"), digest_size=16).digest()


@settings(max_examples=200, deadline=None)
@given(texts)
def test_key_text_is_norm_key(text: str) -> None:
    assert kernel.key_text(text) == norm_key(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.data())
def test_span_words_are_words_of_each_span(text: str, data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=8)))
    spans = [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if a < b]
    spans += data.draw(st.lists(st.tuples(st.integers(0, len(text)), st.integers(0, len(text))).map(sorted).map(tuple), max_size=3))
    for (s, e), got in zip(spans, kernel.span_words(text, spans), strict=True):
        want = kernel.words_of(text[s:e])
        assert got[0] == want[0] and got[1].tolist() == want[1].tolist() and got[2:] == want[2:]


def test_span_words_with_code_points_that_expand_to_many_words() -> None:
    """"㌀" folds to four katakana, four words: spans of them fold within the room a longer
    span makes, and together outgrow what their lengths leave for the words."""
    text = "a" * 100 + "\n" + "\n".join(["\u3300" * 30] * 6) + "\n" + "\u3300" * 100
    spans = line_spans(text)
    for (s, e), got in zip(spans, kernel.span_words(text, spans), strict=True):
        want = kernel.words_of(text[s:e])
        assert got[0] == want[0] and got[1].tolist() == want[1].tolist() and got[2:] == want[2:]
