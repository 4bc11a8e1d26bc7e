"""Segmentation keeps offsets into the original text for every line ending."""

from __future__ import annotations

import pytest

from dedup.pipeline import remove_spans
from dedup.text import line_spans, words


@pytest.mark.parametrize("sep", ["\n", "\r\n", "\r"])
def test_line_spans_index_original(sep: str) -> None:
    text = sep.join(["first line", "", "third"])
    spans = line_spans(text)
    assert [text[s:e] for s, e in spans] == ["first line", "", "third"]


def test_words_fold_case_width_and_zero_width() -> None:
    assert words("ＡＢＣ Straße\u200bnews") == ["abc", "strassenews"]
    assert words("東京タワー") == ["東", "京", "タ", "ワ", "ー"]


def test_remove_spans_takes_line_breaks_of_whole_lines() -> None:
    text = "keep\r\ndrop me\r\nkeep too\r\nlast"
    assert remove_spans(text, [(6, 13)]) == "keep\r\nkeep too\r\nlast"
    assert remove_spans(text, [(25, 29)]) == "keep\r\ndrop me\r\nkeep too"
