"""Segmentation keeps offsets into the original text for every line ending."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedup.pipeline import remove_spans
from dedup.text import line_count, line_spans, split_lines, words


@pytest.mark.parametrize("sep", ["\n", "\r\n", "\r"])
def test_line_spans_index_original(sep: str) -> None:
    text = sep.join(["first line", "", "third"])
    spans = line_spans(text)
    assert [text[s:e] for s, e in spans] == ["first line", "", "third"]


@given(st.lists(st.sampled_from(["a", "bc", " ", "\n", "\r", "\r\n", "\n\r"]), max_size=30).map("".join))
def test_line_count_is_the_number_of_line_spans(text: str) -> None:
    assert line_count(text) == len(line_spans(text))


@given(st.lists(st.sampled_from(["a", "bc", " ", "\n", "\r", "\r\n", "\n\r", "\u2028", "\x0b"]), max_size=30).map("".join))
def test_line_spans_and_split_lines_cut_where_the_line_break_pattern_does(text: str) -> None:
    """With or without a carriage return (two ways through), and no other break (``\\u2028``)."""
    expected = re.split(r"\r\n|\n|\r", text)
    assert split_lines(text) == expected
    assert [text[s:e] for s, e in line_spans(text)] == expected


def test_words_fold_case_width_and_zero_width() -> None:
    assert words("ＡＢＣ Straße\u200bnews") == ["abc", "strassenews"]
    assert words("東京タワー") == ["東", "京", "タ", "ワ", "ー"]


def test_remove_spans_takes_line_breaks_of_whole_lines() -> None:
    text = "keep\r\ndrop me\r\nkeep too\r\nlast"
    assert remove_spans(text, [(6, 13)]) == "keep\r\nkeep too\r\nlast"
    assert remove_spans(text, [(25, 29)]) == "keep\r\ndrop me\r\nkeep too"


def test_unspaced_scripts_get_shorter_shingles() -> None:
    from dedup.text import shingle_size_for

    assert shingle_size_for(words("今天北京的天气很好，我们一起去公园散步吧。"), 5) == 3
    assert shingle_size_for(words("the weather in Beijing is fine today"), 5) == 5
    assert shingle_size_for([], 5) == 5


ZH_A = ("城市议会周二投票决定扩大市中心的自行车道网络，计划在未来三年内增加二十公里受保护的车道。"
        "支持者表示，这项计划将减少交通事故，并鼓励更多市民骑车上下班。一些商店老板担心主要购物街"
        "沿线的停车位会减少，影响顾客到店。市政府承诺在施工期间与商户保持沟通，并在附近增设停车场。")
ZH_B = ("研究人员开发了一种新的电池化学体系，其储能能力是传统锂离子电池的两倍。团队表示，这种设计"
        "使用钠和铁等储量丰富的材料，有望在未来十年降低电网储能项目的成本。下一步，他们计划与企业"
        "合作建设试验工厂，检验这种电池在大规模生产中的稳定性和安全性。")


def test_chinese_copies_with_edited_characters_cluster_and_strangers_do_not() -> None:
    import dedup

    edited = ZH_A.replace("二十公里", "二十五公里").replace("周二", "周三").replace("顾客", "客人").replace("附近", "周边")
    report = dedup.scan([ZH_A, ZH_B, edited])
    assert [c.members for c in report.clusters] == [("0", "2")]


def test_fingerprint_does_not_depend_on_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    import dedup.neardup as neardup
    from dedup.text import text_chunks

    text = "Alpha beta, gamma!\nDelta  epsilon zeta eta theta.\r\nIota kappa lambda mu nu xi omicron pi " * 40
    whole = neardup.fingerprint(text, 5)
    monkeypatch.setattr(neardup, "text_chunks", lambda t: text_chunks(t, 37))
    pieces = neardup.fingerprint(text, 5)
    assert whole[0] == pieces[0]
    assert (whole[1] == pieces[1]).all()
    assert "".join(text_chunks(text, 37)) == text
