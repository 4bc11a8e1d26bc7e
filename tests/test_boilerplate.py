"""The boilerplate stage gives the same spans whether its work is split over processes or not."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup
import dedup.boilerplate as bp
from dedup.boilerplate.catalogue import normalise
from dedup.boilerplate.features import (
    _WORD,
    corpus_counts,
    count_lines,
    line_key,
    line_keys,
    looks_like_code,
    normalised_lines,
)
from dedup.config import BoilerplateConfig
from dedup.model import Document
from dedup.text import split_lines

from .conftest import SEEDS


def _corpus(n: int) -> list[Document]:
    """Documents cut from the seeds, with lines shared across documents and sites (some
    without a site), so that corpus evidence counts."""
    lines = [line for path in sorted(SEEDS.glob("*.txt")) for line in path.read_text(encoding="utf-8").splitlines()]
    shared = ["Leave a Comment", "Subscribe to our newsletter for the latest news", "Home » News » Analysis"]
    rng = random.Random(7)
    docs = []
    for i in range(n):
        start = rng.randrange(len(lines) - 12)
        body = lines[start : start + rng.randint(4, 12)]
        text = "\n".join([rng.choice(shared), *body, rng.choice(shared)])
        docs.append(Document(f"d{i}", text, site=None if i % 5 == 0 else f"site{i % 3}.example"))
    return docs


def test_counts_in_parts_add_up_to_the_whole() -> None:
    docs = _corpus(60)
    prior = {"leave a comment": {"site1.example": 2, "": 1}}
    whole = corpus_counts(docs, prior)
    parts = corpus_counts(docs, prior, parts=[count_lines(docs[:25]), count_lines(docs[25:40]), count_lines(docs[40:])])
    assert parts == whole
    assert whole[1][("site1.example", "leave a comment")] > 2  # the prior's count and the corpus' add


def test_worker_processes_give_the_same_spans(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = _corpus(90)
    alone = bp.find_boilerplate(docs, BoilerplateConfig(), jobs=1)
    # Small enough ranges and thresholds that 90 documents are counted and scored in two workers.
    monkeypatch.setattr(bp, "_RANGE", 20)
    monkeypatch.setattr(bp, "_MIN_DOCS_PER_WORKER", 30)
    seen = []
    split = bp.find_boilerplate(docs, BoilerplateConfig(), jobs=2, progress=lambda done, total: seen.append(done))
    assert split == alone
    assert seen == [20, 40, 60, 80, 90]
    assert sum(len(v) for v in alone.values()) > len(docs)  # the shared lines, at least, are flagged
    # Nothing counted (every new document a near-duplicate of an indexed one): rules still apply.
    uncounted = bp.find_boilerplate(docs, BoilerplateConfig(), jobs=2, counted=[])
    assert uncounted == bp.find_boilerplate(docs, BoilerplateConfig(), jobs=1, counted=[])
    assert any(s.rule.startswith("B") for v in uncounted.values() for s in v)


def test_code_samples_and_rows_of_figures_are_not_corpus_evidence() -> None:
    code = ["const [count, setCount] = useState(0);", "if (!response.ok) {", "import React, { useState } from 'react';"]
    figures = "| 10/1/2018 | +0.1% | 4.2 |"
    template = "Join our newsletter for weekly updates"
    docs = [
        Document(f"p{i}", "\n".join([f"Page {i} explains hooks in some depth for readers.", *code, figures.replace("10", str(i)),
                                     template, f"Closing words of page {i} are its own."]), site="docs.example")
        for i in range(6)
    ]
    found = bp.find_boilerplate(docs, BoilerplateConfig())
    for doc in docs:
        flagged = {doc.text[s.start : s.end] for s in found[doc.id]}
        assert template in flagged  # a line repeated across the site still is
        assert not flagged & {*code, figures.replace("10", doc.id[1:])}


def test_page_model_needs_page_chrome() -> None:
    specs = ["Battery Type: Lithium Ion", "Weight: 7.35 lbs", "Runtime: 75 minutes", "Bin: 0.5 litres", "Colour: Grey",
             "Filter: High efficiency", "Wi-Fi: Yes", "Warranty: 1 year", "Charging: Dock", "Noise: 62 dB"]
    prose = ("The robot maps each room on its first run and then plans the shortest path through the house, "
             "returning to its dock when the battery runs low and resuming where it stopped.")
    extracted = Document("spec", "\n".join([prose, *specs, prose.replace("first", "second")]))
    page = Document("page", "\n".join(["Skip to main content", *specs, prose, "© 2024 Example Inc. All rights reserved."]))
    found = bp.find_boilerplate([extracted, page], BoilerplateConfig())
    assert not [s for s in found["spec"] if s.rule == "M001"]  # a spec list in extracted text stays
    assert [s for s in found["page"] if s.rule == "M001"]  # the same lines on a whole page are menus


def test_copies_of_an_article_are_one_document_to_corpus_evidence() -> None:
    """An article, two exact copies and a near copy: one cluster, so their lines are counted
    once and none is "seen in 4 documents" (which had cleaning cut the kept copy down to
    nothing); a line that three different articles end with is still corpus evidence."""
    seeds = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    footer = "Members of the Riverside Garden Club meet every second Tuesday evening."
    article = seeds[0]
    near = article.replace(" the ", " a ", 8)
    records = [{"id": f"copy{i}", "text": article} for i in range(3)] + [{"id": "near", "text": near}]
    records += [{"id": f"other{i}", "text": seeds[i] + "\n" + footer} for i in (1, 2, 3)]
    out = {r["id"]: r for r in dedup.clean(records, annotate_only=True)}
    assert {out[k]["dedup"]["cluster"] for k in ("copy0", "copy1", "copy2", "near")} == {"c1"}
    for name in ("copy0", "copy1", "copy2", "near"):
        assert not [s for s in out[name]["dedup"]["boilerplate"] if s["rule"] == "C001"], name
    for i in (1, 2, 3):
        corpus = [s for s in out[f"other{i}"]["dedup"]["boilerplate"] if s["rule"] == "C001"]
        assert [records[3 + i]["text"][s["start"] : s["end"]] for s in corpus] == [footer]
    cleaned = {r["id"]: r["text"] for r in dedup.clean(records)}
    assert cleaned.keys() == {"copy0", "other1", "other2", "other3"}
    assert len(cleaned["copy0"]) > 0.9 * len(article)  # only what the rules flag is cut


def test_short_headings_shared_across_sites_stay_content() -> None:
    heading, shared = "Frequently Asked Questions", "Sign in to see prices and order history"
    docs = [
        Document(f"s{i}", "\n".join([f"Opening words of a page about topic number {i} in detail.", heading,
                                     f"An answer that only page {i} gives to its readers.", shared]), site=f"site{i}.example")
        for i in range(5)
    ]
    found = bp.find_boilerplate(docs, BoilerplateConfig())
    for doc in docs:
        flagged = {doc.text[s.start : s.end]: s.rule for s in found[doc.id]}
        assert heading not in flagged
        assert flagged.get(shared) == "C001"


# What looks_like_code means, as one pattern: the split patterns it searches must agree.
_CODE_SPEC = re.compile(
    r"[{}]|=>|\(\)|::|[=!]==?|&&|\|\||\w\.\w+\(|\w\([^()]*\)\s*;?\s*$"
    r"|^\s*(import|from|return|def|class|const|let|var|function|if|for|while|fn|pub|use)\b.*[;:{(,]\s*$"
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([*"ab1_ .,;:(){}=!<>&|\t\u00e9", "import ", "def ", "x.y(", "f()"]), max_size=20).map("".join))
def test_code_test_is_the_single_pattern(line: str) -> None:
    assert looks_like_code(line) == (_CODE_SPEC.search(line) is not None)


def test_code_test_on_real_lines() -> None:
    lines = [line for p in sorted(SEEDS.glob("*.txt")) for line in p.read_text(encoding="utf-8").splitlines()]
    lines += ["x = foo(bar);", "  return a.b(c)", "if (a && b) {", "print(len(items))", "See the results (2024).", "Call f() now"]
    assert [looks_like_code(x) for x in lines] == [_CODE_SPEC.search(x) is not None for x in lines]
    assert looks_like_code("x = foo(bar);") and not looks_like_code("See the results (2024).")



@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from([*"0123456789 ab-", "\u0663", "\u00e9"]), max_size=30))
def test_line_key_folds_each_run_of_digits_to_0(line: str) -> None:
    assert line_key(line) == re.sub(r"\d+", "0", normalise(line))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from([*"0123456789 ab-.\n\r", "\u0663", "\u00e9", "\u00df", "\u2019", "\u0130"]), max_size=60))
def test_a_documents_lines_are_normalised_and_keyed_as_one_by_one(text: str) -> None:
    """normalised_lines (the whole document at once) gives each line's normalise, line_key and
    number of words as written ("İx" folds to "i", a mark and "x": two words of its key, one of
    the line)."""
    norms, keys, counts = normalised_lines(text)
    assert norms == [normalise(line) for line in split_lines(text)]
    assert keys == [line_key(line) for line in split_lines(text)]
    assert counts == [len(_WORD.findall(line)) for line in split_lines(text)]
    assert line_keys(text) == {line_key(line) for line in split_lines(text)} - {""}
