"""Every rule flags its own examples and leaves its counter-examples alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from dedup.boilerplate.catalogue import load_catalogue, match_line, rule_matches
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
