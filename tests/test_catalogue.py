"""Every rule flags its own examples and leaves its counter-examples alone."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from dedup.boilerplate.catalogue import (
    PHRASE_CUTOFF,
    PHRASE_LINE_CHARS,
    load_catalogue,
    lower_for_patterns,
    match_line,
    normalise,
    pattern_matches,
    phrase_key,
    required_text,
    required_words,
    rule_matches,
    searches,
)
from dedup.errors import ConfigError

CATALOGUE = load_catalogue()


@pytest.mark.parametrize("rule", CATALOGUE.rules, ids=lambda r: r.code)
def test_rule_examples(rule) -> None:
    assert rule.match, f"{rule.code} has no examples"
    for example in rule.match:
        assert rule_matches(rule, example), f"{rule.code} misses {example!r}"
    for example in rule.no_match:
        assert match_line(example, CATALOGUE) is None, f"{example!r} flagged"


def test_codes_are_unique_and_documented() -> None:
    codes = [r.code for r in CATALOGUE.rules]
    assert len(codes) == len(set(codes))
    assert all(r.why and r.category for r in CATALOGUE.rules)


def test_fuzzy_variants_match_without_their_own_rule() -> None:
    for variant in ("AdBlock detected!", "Leave a comment:", "Share this article!", "you might also like..."):
        assert match_line(variant, CATALOGUE) is not None, variant


def test_user_rules_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        '[[rule]]\ncode = "U001"\nname = "house-promo"\ncategory = "navigation"\nwhy = "Our own promo line."\n'
        'phrases = ["visit our shop for more"]\nmatch = ["Visit our shop for more!"]\n'
    )
    catalogue = load_catalogue((str(path),))
    hit = match_line("Visit our shop for more!", catalogue)
    assert hit is not None and hit[0].code == "U001"


def test_bad_user_rules_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[rule]]\ncode = "U002"\nname = "x"\ncategory = "c"\nwhy = "w"\npatterns = ["(unclosed"]\n')
    with pytest.raises(ConfigError, match="bad pattern"):
        load_catalogue((str(path),))


# Lines that a case-insensitive search and lower-cased text treat differently: the long s
# and dotless i match "s" and "i"; "İ" lower-cases to two characters; Greek and Cyrillic
# letters with variant forms.
_TRICKY = ["ſubscribe to our newsletter", "Thıs site uses Akismet", "İnbox: sign up for our newsletter",
           "ALL RIGHTS RESERVED", "Ⓒ 2024 All rights reserved", "σας ΣΑΣ Cookie Policy", "ᲂ Cookie policy",
           "Read more: https://x.example/a", "Home » News » Analysis | x", "Subscriber+ Exclusive Reporting"]


def _searched(rule, line: str) -> bool:
    return any(p.search(line) for p in rule.patterns)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from([e for r in CATALOGUE.rules for e in (*r.match, *r.no_match)] + _TRICKY),
            st.text(alphabet="abcdeiklnorstuyſıİσςΣᲂ ©:»|'-.0123456789", max_size=30),
        ),
        min_size=1, max_size=3,
    )
)
def test_quick_pattern_test_answers_as_the_searches_do(parts: list[str]) -> None:
    line = " ".join(parts)
    lower = lower_for_patterns(line)
    for rule in CATALOGUE.rules:
        assert pattern_matches(rule, line, lower) == _searched(rule, line), (rule.code, line)


def test_required_text_and_joined_searches() -> None:
    assert required_text(re.compile(r"\bsubscribe (now )?for full access", re.I)) == "for full access"
    assert required_text(re.compile(r"(a|b)+", re.I)) is None
    assert required_text(re.compile(r"pay with ıdeal", re.I)) == "pay with "  # the run before the dotless i
    assert required_text(re.compile(r"ΣΑΣ", re.I)) == "α"  # "σ" also matches "ς"
    line = "σας"
    assert pattern_matches(replace(CATALOGUE.rules[0], patterns=(re.compile("ΑΣ", re.I),)), line, lower_for_patterns(line))
    # Patterns anchored at the start are searched as one, unless one refers to its own groups.
    joined = searches([re.compile(p, re.I) for p in (r"^share$", r"^tweet( this)?$", r"akismet")])
    assert len(joined) == 2 and joined[1][1] == "akismet"
    kept = searches([re.compile(p, re.I) for p in (r"^(ab)\1$", r"^share$")])
    assert len(kept) == 2
    for patterns, line, expected in (
        ((r"^share$", r"^tweet( this)?$"), "Tweet this", True),
        ((r"^(ab)\1$", r"^share$"), "ABab", True),
        ((r"^(ab)\1$", r"^share$"), "abba", False),
    ):
        rule = replace(CATALOGUE.rules[0], patterns=tuple(re.compile(p, re.I) for p in patterns))
        assert pattern_matches(rule, line, lower_for_patterns(line)) is expected


def test_required_words() -> None:
    """A group that matches one of a few fixed texts (the parser factors out their common
    start) gives them as required words; anything else in the group, flags of its own, a
    repeat around it or texts too short give none."""
    assert required_words(re.compile(r"\b(newsletter|inbox)\b.*\b(sign up|subscribe)", re.I)) == ("sign up", "subscribe")
    assert required_words(re.compile(r"(News(letter)?|INBOX) now", re.I)) == ("inbox", "news", "newsletter")
    for pattern in (r"(ab|cd)x", r"(\w+|abc)", r"(?i:abc|def)", r"(abc|def)*", r"(a|b)(c|d)(e|f)(g|h)"):
        assert required_words(re.compile(pattern, re.I)) is None, pattern


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["sign", "up", "subscribe", "news", "newsletter", "inbox", "Inbox", " ", "x"]), max_size=8))
def test_a_pattern_is_found_only_where_a_required_word_is(parts: list[str]) -> None:
    line = " ".join(parts)
    for pattern in (r"\b(newsletter|inbox)\b.*\b(sign up|subscribe)", r"(news(letter)?|inbox) x"):
        compiled = re.compile(pattern, re.I)
        words = required_words(compiled)
        assert words is not None
        if compiled.search(line):
            assert any(w in line.lower() for w in words), (pattern, line)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_ascii_normalise_is_the_regular_expressions(line: str) -> None:
    assert normalise.__wrapped__(line) == re.sub(r"[\W_]+", " ", line.casefold()).strip()


_PHRASES = sorted(set(CATALOGUE.phrase_keys))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(_PHRASES),
    st.text(alphabet="abcdeilnorstu ", max_size=6),
    st.integers(min_value=0, max_value=6),
)
def test_phrases_of_other_lengths_never_match(phrase: str, extra: str, cut: int) -> None:
    """A phrase left out for its length (see ``Catalogue.by_length``) is one whose fuzzy
    score could not reach the cutoff: the lines tried are phrases with text cut off or added,
    the near misses the length test must keep."""
    for line in (phrase[: max(1, len(phrase) - cut)] + extra, extra + phrase, phrase[cut:]):
        norm = normalise(line)
        if not norm or len(norm) > PHRASE_LINE_CHARS:
            continue
        kept = set(CATALOGUE.by_length[len(norm)][0])
        for key in CATALOGUE.phrase_keys:
            if fuzz.ratio(norm, key) >= PHRASE_CUTOFF * 100:
                assert key in kept, (norm, key)


def test_phrase_keys_are_the_normalised_phrases() -> None:
    """Phrases are normalised without the compiled kernel: the same keys as lines get."""
    phrases = [p for r in CATALOGUE.rules for p in r.phrases] + ["Ça suffit — İstanbul ß", "ＡＢＣ ﬁle"]
    assert any(not p.isascii() for p in phrases)
    assert [phrase_key(p) for p in phrases] == [normalise(p) for p in phrases]
