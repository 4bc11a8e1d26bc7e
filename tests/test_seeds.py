"""Behaviour on the five seed documents, as the issues state it."""

from __future__ import annotations

import dedup
from dedup.io import read_paths
from dedup.pipeline import scan_documents

from .conftest import SEEDS

SEED_003 = "003_f8199620882130e8.txt"
BOILERPLATE = {
    "003_f8199620882130e8.txt": [
        "Home » News » Analysis",
        "by Alexandra Hartman Editor-in-Chief",
        "<!– Add more questions",
        "You may also like",
        "Leave a Comment",
        "This site uses Akismet",
        "Adblock Detected",
        "Please support us by disabling your AdBlocker",
    ],
    "002_ed80d7e1ac30804e.txt": ["Subscriber+ Exclusive Reporting"],
    "000_b9470198397eb98d.txt": ["Fact-checking Trump and Vance’s attacks"],
}


def _scan():
    config = dedup.Config()
    return scan_documents(read_paths([str(SEEDS)], config.input), config)


def test_no_false_clusters_among_seeds() -> None:
    report, _ = _scan()
    assert report.clusters == ()


def test_seed_003_second_copy_is_a_repeat_of_the_first() -> None:
    report, docs = _scan()
    text = next(d.text for d in docs if d.id == SEED_003)
    repeats = [s for doc_id, spans in report.spans.items() for s in spans if s.kind == "repeat"]
    assert len(repeats) == 1, "nothing else in the seeds is repeated"
    span = repeats[0]
    assert span.source is not None and span.source.id == SEED_003
    first = text.index("NATO Meeting Highlights Growing Rift")
    second = text.index("NATO Meeting Highlights Growing Rift", first + 1)
    assert span.start == second  # the later copy, from its heading on
    assert span.source.start <= text.index("The recent meeting at NATO headquarters")
    assert span.source.end <= span.start  # the first copy is untouched
    assert "governance" in text[span.start : span.end]
    assert 0.8 <= span.score < 1.0


def test_seed_boilerplate_lines_flagged_and_content_untouched() -> None:
    report, docs = _scan()
    for doc in docs:
        flagged = [doc.text[s.start : s.end] for s in report.spans[doc.id] if s.kind == "boilerplate"]
        expected = BOILERPLATE.get(doc.id, [])
        for prefix in expected:
            assert any(line.startswith(prefix) for line in flagged), (doc.id, prefix)
        assert len(flagged) == len(expected), (doc.id, flagged)


def test_whole_page_menus_are_flagged_and_article_kept() -> None:
    from .conftest import DATA

    config = dedup.Config(only=("boilerplate",))
    report, docs = scan_documents(read_paths([str(DATA / "page.txt")], config.input), config)
    text = docs[0].text
    flagged = {text[s.start : s.end] for s in report.spans[docs[0].id]}
    assert {"Sport", "Business", "Culture", "Twitter", "Privacy Policy"} <= flagged
    assert any(s.rule == "M001" for s in report.spans[docs[0].id])  # the page model ran
    assert not any(line.startswith(("Engineers said", "The council", "Residents who")) for line in flagged)
