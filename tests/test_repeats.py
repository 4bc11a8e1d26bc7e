"""Repeated passages within and across documents."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dedup
from dedup.kernel import key_text
from dedup.model import Document
from dedup.repeats import _sentences, document_passages, find_repeats, passages
from dedup.sketch import signatures
from dedup.text import norm_key, shingles, words
from dedup.verify import text_similarity

from .conftest import SEEDS
from .test_kernel import texts as kernel_texts

PARA_1 = ("The committee met for six hours on Thursday and agreed a budget that raises school funding by "
          "four percent while freezing spending on roads for the second year in a row.")
PARA_2 = ("Opposition members said the freeze would leave dozens of bridges without repairs and promised "
          "to bring the matter back to the floor before the summer recess begins in July.")
OTHER = ("Local farmers reported a strong harvest of winter wheat, with yields well above the ten-year "
         "average thanks to a mild spring and timely rain across the northern plains.")
FILLER = ("A new library branch opened downtown with a reading garden, a maker space and longer evening "
          "hours that librarians hope will draw students after school.")


def _repeats(report: dedup.Report) -> dict[str, list[dedup.Span]]:
    return {k: [s for s in v if s.kind == "repeat"] for k, v in report.spans.items()}


def test_section_pasted_twice_with_edits() -> None:
    edited = PARA_1.replace("agreed", "approved") + "\n\n" + PARA_2.replace("promised", "vowed")
    text = f"Budget news\n\n{PARA_1}\n\nA heading\n\n{PARA_2}\n\n{OTHER}\n\nA heading\n\n{edited}\n"
    repeats = _repeats(dedup.scan([text]))["0"]
    assert len(repeats) == 1
    span = repeats[0]
    assert text[span.start : span.end].startswith("The committee met")
    assert text[span.start : span.end].endswith("July.")
    assert span.source is not None and span.source.id == "0"
    assert text[span.source.start : span.source.end].startswith("The committee met")
    assert span.source.end < span.start


def test_paragraph_copied_into_another_document_names_its_source() -> None:
    source = f"{FILLER}\n{PARA_1}\n{OTHER}"
    host = f"{PARA_2}\nSome would say: {PARA_1.replace('six hours', 'seven hours')}\n"
    report = dedup.scan([{"id": "src", "text": source}, {"id": "host", "text": host}])
    repeats = _repeats(report)
    assert repeats["src"] == []  # the first occurrence is the original
    assert len(repeats["host"]) == 1
    span = repeats["host"][0]
    assert span.rule == "repeat-across"
    assert span.source is not None and span.source.id == "src"
    assert source[span.source.start : span.source.end] == PARA_1


def test_short_lines_alone_are_not_repeats() -> None:
    text = "Read more\nSome content here that is long enough to matter for sure.\nRead more\n"
    assert _repeats(dedup.scan([text]))["0"] == []


def test_clean_removes_repeats_unless_kept() -> None:
    text = f"{PARA_1}\n{OTHER}\n{PARA_1}\n"
    cleaned = next(dedup.clean([text]))
    assert cleaned["text"] == f"{PARA_1}\n{OTHER}\n"
    config = dedup.Config(repeats=dedup.RepeatsConfig(keep_repeats=True))
    assert next(dedup.clean([text], config))["text"] == text


def test_short_sentence_at_the_edge_of_a_copied_paragraph_joins_the_section() -> None:
    first = "The storm closed the harbour for three days and cancelled every ferry to the islands."
    middle = "Fishermen said they had never seen waves this high so late in the spring season."
    last = "Ferries will resume service on Monday."  # too short to be a passage on its own
    paragraph = f"{first} {middle} {last}"
    copy = f"{first} {middle.replace('never', 'not once')} {last.replace('Monday', 'Tuesday')}"
    source = f"{FILLER}\n{paragraph}\n{OTHER}"
    host = f"{PARA_2}\n{copy}\n"
    report = dedup.scan([{"id": "src", "text": source}, {"id": "host", "text": host}])
    [span] = _repeats(report)["host"]
    assert host[span.start : span.end] == copy
    assert span.source is not None
    assert source[span.source.start : span.source.end] == paragraph


def test_short_document_copied_from_a_longer_one_is_reported_under_keep_longest() -> None:
    paras = [PARA_1, PARA_2, OTHER, FILLER]
    long_doc = "\n\n".join(paras + ["Closing remarks of the long article go on for a while after the copied part."])
    short_doc = f"{PARA_2}\n{OTHER}"
    config = dedup.Config(neardup=dedup.NearDupConfig(keep="longest"))
    report = dedup.scan([{"id": "answer", "text": short_doc}, {"id": "source", "text": long_doc}], config)
    repeats = _repeats(report)
    assert repeats["source"] == []  # the longer document holds the original
    covered = sum(s.end - s.start for s in repeats["answer"])
    assert covered / len(short_doc) > 0.95
    assert {s.source.id for s in repeats["answer"] if s.source} == {"source"}


def test_a_line_repeated_many_times_flags_every_copy_but_the_first() -> None:
    line = "Call our office on weekdays between nine and five for a free consultation today."
    text = "\n".join([PARA_1] + [line] * 40)
    repeats = _repeats(dedup.scan([text]))["0"]
    first = text.index(line)
    copies = [first + (len(line) + 1) * k for k in range(1, 40)]
    for c in copies:  # every later copy lies inside a flagged span
        assert any(sp.start <= c and c + len(line) <= sp.end for sp in repeats)
    for s in repeats:
        assert s.start > first + len(line) and s.score == 1.0
        assert s.source is not None and first <= s.source.start and s.source.end < s.start


def test_chinese_paragraph_pasted_twice_is_a_repeat() -> None:
    from .test_text import ZH_A, ZH_B

    edited = ZH_A.replace("二十公里", "二十五公里").replace("顾客", "客人")
    text = f"{ZH_A}\n{ZH_B}\n{edited}\n"
    [span] = _repeats(dedup.scan([text]))["0"]
    assert text[span.start : span.end] == edited
    assert span.source is not None and text[span.source.start : span.source.end] == ZH_A


def test_document_passages_match_passages_and_their_signatures() -> None:
    """Keys, word counts and MinHash rows as the pure-Python path makes them."""
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        found = document_passages(0, text, min_words=8, seed=1)
        assert found.passages == passages(0, text, min_words=8)
        assert len(found.passages) > 3
        pieces = [text[p.start : p.end] for p in found.passages]
        assert [p.key for p in found.passages] == [norm_key(x) for x in pieces]
        assert all(len(words(x)) >= 8 for x in pieces)
        assert np.array_equal(found.signatures, signatures([shingles(x, 2) for x in pieces], num_perm=64, seed=1))


def _seed_pages_sharing_paragraphs(n: int) -> list[Document]:
    """``n`` documents: the start of a seed page, then two of the planted paragraphs (the second
    lightly edited), so that passages repeat across documents."""
    seeds = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    paras = [PARA_1, PARA_2, OTHER, FILLER]
    return [
        Document(f"d{i}", f"{seeds[i % len(seeds)][: 1500 + 40 * i]}\n{paras[i % 4]}\n{paras[(i + 1) % 4].replace('the', 'a', 1)}")
        for i in range(n)
    ]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(kernel_texts, min_size=1, max_size=6).map("\n".join))
def test_a_passage_key_is_the_key_text_of_its_span(text: str) -> None:
    """What lets a section of one passage take the score its passages were verified with."""
    for p in passages(0, text, min_words=1):
        assert p.key == key_text(text[p.start : p.end])


def test_section_scores_are_the_similarity_of_their_texts() -> None:
    """Sections of one passage or of several, grown or not: each score is the similarity of
    the section's text and its source's."""
    docs = _seed_pages_sharing_paragraphs(12)
    found = find_repeats(docs, (), {}, dedup.Config())
    text_of = {d.id: d.text for d in docs}
    sizes = []  # passages per section
    for doc in docs:
        for span in found[doc.id]:
            assert span.source is not None
            source = text_of[span.source.id][span.source.start : span.source.end]
            assert span.score == text_similarity(key_text(source), key_text(doc.text[span.start : span.end]))
            sizes.append(len(passages(0, doc.text[span.start : span.end], min_words=8)))
    assert len(sizes) > len(docs) and 1 in sizes and max(sizes) > 1


def test_worker_processes_find_the_same_repeats(monkeypatch: pytest.MonkeyPatch) -> None:
    import dedup.repeats as rep

    docs = _seed_pages_sharing_paragraphs(40)
    config = dedup.Config()
    alone = rep.find_repeats(docs, (), {}, config, jobs=1)
    monkeypatch.setattr(rep, "_RANGE", 7)
    monkeypatch.setattr(rep, "_MIN_DOCS_PER_WORKER", 10)
    seen: list[int] = []
    split = rep.find_repeats(docs, (), {}, config, jobs=2, progress=lambda done, total: seen.append(done))
    assert split == alone
    assert seen == [7, 14, 21, 28, 35, 40]
    assert sum(len(v) for v in alone.values()) > len(docs)  # the planted paragraphs, at least


def test_batched_similarities_equal_text_similarity() -> None:
    from dedup.repeats import _similarities
    from dedup.verify import LONG_CHARS, text_similarity

    words = (PARA_1 + " " + PARA_2 + " " + OTHER).lower().split()
    long_a = " ".join(words[i % len(words)] for i in range(LONG_CHARS // 4))
    long_b = long_a.replace("the ", "a ", 40)
    keys = [PARA_1.lower(), PARA_1.lower().replace("six", "seven"), PARA_2.lower(), OTHER.lower(), long_a, long_b, ""]
    pairs = np.asarray([(i, j) for i in range(len(keys)) for j in range(len(keys)) if i != j], dtype=np.int64)
    for jobs in (1, 2):
        got = _similarities(keys, pairs, 0.8, jobs)
        assert got.tolist() == [text_similarity(keys[a], keys[b], cutoff=0.8) for a, b in pairs.tolist()]
    assert got[pairs.tolist().index([4, 5])] > 0.8  # the long pair, word by word


_STOPS = [*".!?…。！？", '"', "”", "’", ")", "]", "」", "』", "）", " ", "  ", "\t", "a", "b", "word"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_STOPS), max_size=30))
def test_sentences_end_after_their_stop(parts: list[str]) -> None:
    """Sentences split where a stop (with its closing quotes) is followed by spaces, or by
    anything after a CJK stop: the spans a look-behind pattern gives, for a line that starts
    with text (as units are)."""
    text = "x" + "".join(parts) + "y"
    behind = re.compile(r"(?<=[.!?…])[\"”’)\]]*\s+(?=\S)|(?<=[。！？])[」』”’）]*\s*(?=\S)")
    expected, pos = [], 0
    for m in behind.finditer(text):
        expected.append((pos, m.start()))
        pos = m.end()
    expected.append((pos, len(text)))
    assert list(_sentences(text, 0, len(text))) == expected
