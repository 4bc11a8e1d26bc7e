"""The boilerplate rule catalogue: rules as data (``catalogue.toml``), loaded, picked and matched.

A rule matches a line when one of its regular expressions is found in it, or when the whole
line fuzzily equals one of its phrases (rapidfuzz ratio on case-folded text), so variants
("AdBlock detected!") match without a rule each.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from ..errors import ConfigError

CATALOGUE = Path(__file__).with_name("catalogue.toml")
PHRASE_CUTOFF = 0.9
PHRASE_LINE_CHARS = 80  # longer lines are not compared with the phrases
# Evidence that is not a catalogue rule, but can be picked the same way.
EVIDENCE_NAMES = frozenset({"C001", "corpus", "M001", "model", "page"})
POSITIONS = ("any", "first", "last")
EDGE_LINES = 2
# The re module's own parser (not typed): a pattern's parsed form gives its literal text.
sre_parser: Any = importlib.import_module("re._parser")
sre_constants: Any = importlib.import_module("re._constants")


def _case_exceptions() -> tuple[frozenset[str], frozenset[str]] | None:
    """Characters for which a case-insensitive search and ``in`` on lower-cased text disagree:
    those a line must not hold, and those a pattern's literal text must not hold, for the quick
    test of :func:`pattern_matches` to be exact. None where this Python does not say (then
    only ASCII lines take the quick test).

    ``re.IGNORECASE`` compares simple lower cases, plus a few extra equivalences (``"s"`` and
    the long s ``"ſ"``, ``"i"`` and the dotless ``"ı"``, Greek and Cyrillic variants);
    ``str.lower`` uses the full mapping, which differs for ``"İ"`` only (two characters).
    """
    try:
        extra = importlib.import_module("re._casefix")._EXTRA_CASES  # the equivalences re compiles in
    except (ImportError, AttributeError):
        return None
    in_line = {chr(v) for k, vs in extra.items() if k < 128 for v in vs if chr(v).lower() != chr(k)}
    in_pattern = {chr(c) for k, vs in extra.items() for c in (k, *vs) if c >= 128}
    return frozenset(in_line | {"İ"}), frozenset(in_pattern | {"İ"})


_CASE_EXCEPTIONS = _case_exceptions()


@dataclass(frozen=True, slots=True)
class Rule:
    """One catalogue rule."""

    code: str
    name: str
    category: str
    why: str
    phrases: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    max_words: int
    match: tuple[str, ...]
    no_match: tuple[str, ...]
    weight: float = 1.0
    position: str = "any"
    # What :func:`pattern_matches` searches: the patterns anchored at the start as one, the
    # others each with text every match contains (see :func:`searches`).
    checks: tuple[tuple[re.Pattern[str], str | None], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "checks", searches(self.patterns))

    def applies(self, *, at_start: bool, at_end: bool) -> bool:
        """Whether the rule may fire on a line at this place of its document."""
        return self.position == "any" or (self.position == "first" and at_start) or (self.position == "last" and at_end)


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Rules plus a flat phrase index for one fuzzy lookup per line."""

    rules: tuple[Rule, ...]
    phrase_keys: tuple[str, ...]
    phrase_rules: tuple[int, ...]
    max_words: int = field(init=False, repr=False, compare=False)  # the most any rule's patterns allow
    # Per length of a normalised line: the phrase keys that could match it, and their indexes.
    by_length: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...] = field(init=False, repr=False, compare=False)
    # Per place of a line in its document (first lines, last lines: see Rule.applies, as an
    # index ``2·at_start + at_end``) and number of words (up to max_words): the searches of the
    # rules that may fire there, flattened in rule order (a rule of phrases alone has none).
    by_words: tuple[tuple[tuple[tuple[Rule, re.Pattern[str], str | None], ...], ...], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_words", max((r.max_words for r in self.rules if r.patterns), default=0))
        object.__setattr__(self, "by_length", tuple(_phrases_near(self.phrase_keys, n) for n in range(PHRASE_LINE_CHARS + 1)))
        object.__setattr__(
            self,
            "by_words",
            tuple(
                tuple(
                    tuple(
                        (r, pattern, need)
                        for r in self.rules if r.max_words >= n and r.applies(at_start=place >= 2, at_end=place % 2 == 1)
                        for pattern, need in r.checks
                    )
                    for n in range(self.max_words + 1)
                )
                for place in range(4)
            ),
        )

    def pick(self, select: Sequence[str] = (), ignore: Sequence[str] = ()) -> Catalogue:
        """The rules chosen by code or category (``--select``), less those ignored (``--ignore``)."""
        known = {r.code for r in self.rules} | {r.category for r in self.rules} | {r.name for r in self.rules} | EVIDENCE_NAMES
        for name in (*select, *ignore):
            if name not in known:
                raise ConfigError(f"unknown rule or category {name!r} (see `dedup rules`)")

        rule_select = [name for name in select if name not in EVIDENCE_NAMES]

        def chosen(r: Rule) -> bool:
            keys = {r.code, r.category, r.name}
            wanted = not select or bool(keys & set(rule_select))
            return wanted and not keys & set(ignore)

        return _build([r for r in self.rules if chosen(r)])


@lru_cache(maxsize=4096)
def normalise(line: str) -> str:
    """Case-folded words of ``line`` joined by single spaces (what phrases are compared with).
    Cached: the lines of a run are normalised a document at once
    (:func:`dedup.boilerplate.features.normalised_lines`), this is for lines one by one, where
    the same few recur (rules' examples, tests, :func:`rule_matches`)."""
    if line.isascii():  # the same in half the time: as bytes, a letter lower-cased, any other character but a digit a space
        return " ".join(line.encode("ascii").translate(_ASCII_WORDS).decode("ascii").split())
    # re.sub(r"[\W_]+", " ", line.casefold()).strip(), from tables (half the time;
    # tests/test_kernel.py compares them). Imported here: loading the compiled kernel takes
    # most of a second, which `dedup rules` and a catalogue's loading need not wait for.
    from ..kernel import casefolded_words

    return casefolded_words(line)


_ASCII_WORDS = bytes(ord(chr(c).lower()) if chr(c).isalnum() else 32 for c in range(128)) + bytes(range(128, 256))


def phrase_key(phrase: str) -> str:
    """:func:`normalise` of a phrase, by the definition the compiled kernel implements (the
    same text; loading the kernel is not worth it for a catalogue's few phrases)."""
    return normalise(phrase) if phrase.isascii() else re.sub(r"[\W_]+", " ", phrase.casefold()).strip()


def _phrases_near(keys: Sequence[str], n: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The keys (and their indexes, in order) that a text of ``n`` characters could match: an
    Indel distance is at least the difference of the lengths, so a similarity of
    :data:`PHRASE_CUTOFF` needs ``|n − len| ≤ (1 − cutoff)·(n + len)`` (with a margin for
    rounding: a key kept in vain costs a comparison, one left out would lose a match)."""
    slack = 1.0 - PHRASE_CUTOFF
    near = [i for i, k in enumerate(keys) if abs(n - len(k)) <= slack * (n + len(k)) + 1e-6]
    return tuple(keys[i] for i in near), tuple(near)


def _build(rules: Iterable[Rule]) -> Catalogue:
    rules = tuple(rules)
    keys: list[str] = []
    owners: list[int] = []
    for index, rule in enumerate(rules):
        for phrase in rule.phrases:
            keys.append(phrase_key(phrase))
            owners.append(index)
    return Catalogue(rules=rules, phrase_keys=tuple(keys), phrase_rules=tuple(owners))


def _parse(path: Path) -> list[Rule]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read rules: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    rules = []
    for i, raw in enumerate(data.get("rule", []), start=1):
        where = f"{path}: rule {i}"
        missing = [k for k in ("code", "name", "category", "why") if k not in raw]
        if missing:
            raise ConfigError(f"{where}: missing {', '.join(missing)}")
        if not raw.get("phrases") and not raw.get("patterns"):
            raise ConfigError(f"{where} ({raw['code']}): needs phrases or patterns")
        position = str(raw.get("position", "any"))
        if position not in POSITIONS:
            raise ConfigError(f"{where} ({raw['code']}): position must be one of {', '.join(POSITIONS)}")
        weight = float(raw.get("weight", 1.0))
        if not 0.0 < weight <= 1.0:
            raise ConfigError(f"{where} ({raw['code']}): weight must be in (0, 1]")
        try:
            patterns = tuple(re.compile(p, re.IGNORECASE) for p in raw.get("patterns", []))
        except re.error as exc:
            raise ConfigError(f"{where} ({raw['code']}): bad pattern: {exc}") from None
        rules.append(
            Rule(
                code=str(raw["code"]),
                name=str(raw["name"]),
                category=str(raw["category"]),
                why=str(raw["why"]),
                phrases=tuple(raw.get("phrases", [])),
                patterns=patterns,
                max_words=int(raw.get("max_words", 40)),
                match=tuple(raw.get("match", [])),
                no_match=tuple(raw.get("no_match", [])),
                weight=weight,
                position=position,
            )
        )
    return rules


@lru_cache(maxsize=16)
def load_catalogue(extra: tuple[str, ...] = ()) -> Catalogue:
    """The built-in catalogue plus the user's rule files; a user rule replaces a built-in one of the same code."""
    rules = {r.code: r for r in _parse(CATALOGUE)}
    for path in extra:
        for rule in _parse(Path(path)):
            rules[rule.code] = rule
    return _build(sorted(rules.values(), key=lambda r: r.code))


def searches(patterns: Sequence[re.Pattern[str]]) -> tuple[tuple[re.Pattern[str], str | None], ...]:
    """``patterns`` as the searches :func:`pattern_matches` makes, with the same outcome: one
    search for those anchored at the start (each fails at the first character or so, and one
    call costs less than many), then each other pattern with its :func:`required_text`."""
    # Joined, a pattern's group numbers would change: one that refers to its groups stays alone.
    anchored = [p for p in patterns if _anchored(p) and not _GROUP_REFERENCE.search(p.pattern)]
    # A pattern without required text but with a group that matches one of a few words is
    # searched where one of them is in the line: one check per word, each searching the whole
    # pattern (a line with two of them is searched twice, for the same answer).
    others = tuple(
        (p, need)
        for p in patterns if p not in anchored
        for need in ((required_text(p),) if required_text(p) is not None else required_words(p) or (None,))
    )
    if len(anchored) < 2 or len({p.flags for p in anchored}) > 1:
        return tuple((p, None) for p in anchored) + others
    try:
        # The outer anchor makes the search try the start only (each branch keeps its own).
        joined = re.compile("^(?:" + "|".join(f"(?:{p.pattern})" for p in anchored) + ")", anchored[0].flags)
    except re.error:  # a pattern with flags of its own (they must come first): searched alone
        return tuple((p, None) for p in anchored) + others
    return ((joined, None), *others)


_GROUP_REFERENCE = re.compile(r"\\\d|\(\?P=|\(\?\(")  # \1, (?P=name), (?(1)...)


def _anchored(pattern: re.Pattern[str]) -> bool:
    items = list(sre_parser.parse(pattern.pattern, pattern.flags))
    return bool(items) and items[0] == (sre_constants.AT, sre_constants.AT_BEGINNING)


def required_text(pattern: re.Pattern[str]) -> str | None:
    """Lower-case text that every match of ``pattern`` contains: its longest run of literal
    characters outside groups, branches and repeats, leaving out characters with unusual case
    rules (see :func:`_case_exceptions`); None without such a run."""
    best, run = "", ""
    for op, arg in [*sre_parser.parse(pattern.pattern, pattern.flags), (None, None)]:
        if op is sre_constants.LITERAL and _plain(chr(arg)):
            run += chr(arg)
            continue
        if len(run) > len(best):
            best = run
        run = ""
    return best.lower() or None


def required_words(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Lower-case texts one of which every match of ``pattern`` contains: those a group of the
    pattern (outside branches and repeats) can match, when that group matches one of a few
    fixed texts, each of three characters or more (the longest such choice); else None."""
    best: tuple[str, ...] | None = None
    for op, arg in sre_parser.parse(pattern.pattern, pattern.flags):
        if op is not sre_constants.SUBPATTERN or arg[1] or arg[2]:  # a group with flags of its own: left alone
            continue
        texts = _fixed_texts(arg[3])
        if texts and len(texts) <= _MAX_WORDS and min(map(len, texts)) >= 3:
            choice = tuple(sorted(t.lower() for t in texts))
            if best is None or min(map(len, choice)) > min(map(len, best)):
                best = choice
    return best


_MAX_WORDS = 6


def _fixed_texts(items: Any) -> set[str] | None:
    """The texts a parsed pattern matches, when they are a few fixed ones of plain characters
    (zero-width assertions aside); None otherwise."""
    texts = {""}
    for op, arg in items:
        if op is sre_constants.LITERAL and _plain(chr(arg)):
            texts = {t + chr(arg) for t in texts}
        elif op is sre_constants.AT:
            continue  # \b and the like match no character
        elif op is sre_constants.SUBPATTERN and not arg[1] and not arg[2]:
            inner = _fixed_texts(arg[3])
            if inner is None:
                return None
            texts = {t + u for t in texts for u in inner}
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and arg[1] == 1:  # optional, as "(s)?"
            inner = _fixed_texts(arg[2])
            if inner is None:
                return None
            texts = (texts if arg[0] == 0 else set()) | {t + u for t in texts for u in inner}
        elif op is sre_constants.BRANCH:
            branches = [_fixed_texts(b) for b in arg[1]]
            if any(b is None for b in branches):
                return None
            texts = {t + u for t in texts for b in branches if b is not None for u in b}
        else:
            return None
        if len(texts) > _MAX_WORDS:
            return None
    return texts


def _plain(c: str) -> bool:
    """Whether a case-insensitive search for ``c`` finds what ``in`` on lower-cased text finds."""
    if len(c.lower()) != 1:
        return False
    if _CASE_EXCEPTIONS is None:
        return c.isascii()
    return c not in _CASE_EXCEPTIONS[1] and c.lower() not in _CASE_EXCEPTIONS[1]


def lower_for_patterns(line: str) -> str | None:
    """``line`` lower-cased for the quick test of :func:`pattern_matches`, or None where that
    test could differ from a case-insensitive search (see :func:`_case_exceptions`)."""
    if line.isascii():
        return line.lower()
    if _CASE_EXCEPTIONS is None or not _CASE_EXCEPTIONS[0].isdisjoint(line):
        return None
    return line.lower()


def pattern_matches(rule: Rule, line: str, lower: str | None = None) -> bool:
    """Whether one of ``rule``'s regular expressions is found in ``line``. With ``lower``
    (:func:`lower_for_patterns` of ``line``), a pattern whose required text is not in it is
    not searched: the same answer, sooner, as most lines hold none."""
    for pattern, need in rule.checks:
        if (need is None or lower is None or need in lower) and pattern.search(line):
            return True
    return False


def rule_matches(rule: Rule, line: str) -> bool:
    """Whether ``rule`` alone flags ``line`` as a one-line document (what its examples test)."""
    norm = normalise(line)
    if not norm or norm.count(" ") + 1 > rule.max_words and not rule.phrases:
        return False
    if rule.phrases and len(norm) <= PHRASE_LINE_CHARS:
        keys = [phrase_key(p) for p in rule.phrases]
        if process.extractOne(norm, keys, scorer=fuzz.ratio, score_cutoff=PHRASE_CUTOFF * 100):
            return True
    return norm.count(" ") + 1 <= rule.max_words and pattern_matches(rule, line.strip())


def match_line(
    line: str, catalogue: Catalogue, *, at_start: bool = True, at_end: bool = True, norm: str | None = None
) -> tuple[Rule, float] | None:
    """The rule that matches ``line`` best, with a score in [0, 1] (similarity times the rule's
    weight), or None. ``at_start``/``at_end``: whether the line is among the first/last
    :data:`EDGE_LINES` lines of its document (some rules only fire there); a lone line is both.
    ``norm``: :func:`normalise` of ``line``, where the caller has it.
    """
    if norm is None:
        norm = normalise(line)
    if not norm:
        return None
    n_words = norm.count(" ") + 1
    best: tuple[Rule, float] | None = None
    # The phrases of about the line's length only: the same best match, a sixth of the time.
    keys, indexes = catalogue.by_length[len(norm)] if len(norm) <= PHRASE_LINE_CHARS else ((), ())
    if keys:
        hit = process.extractOne(norm, keys, scorer=fuzz.ratio, score_cutoff=PHRASE_CUTOFF * 100)
        if hit is not None:
            rule = catalogue.rules[catalogue.phrase_rules[indexes[hit[2]]]]
            if rule.applies(at_start=at_start, at_end=at_end):
                best = (rule, rule.weight * hit[1] / 100.0)
    if (best is not None and best[1] >= 1.0) or n_words > catalogue.max_words:
        return best  # a prose paragraph, most often: longer than any rule's patterns look at
    stripped = line.strip()
    lower = lower_for_patterns(stripped)
    # pattern_matches, inlined and flattened: this loop runs for every line of the corpus, over
    # the searches of the rules that allow its number of words and its place. Once a rule
    # matches, its other searches (and those of rules no stronger) are passed over.
    for rule, pattern, need in catalogue.by_words[2 * at_start + at_end][n_words]:
        if best is not None and rule.weight <= best[1]:
            continue
        if (need is None or lower is None or need in lower) and pattern.search(stripped):
            best = (rule, rule.weight)
            if rule.weight >= 1.0:
                break
    return best


@dataclass(frozen=True)
class Evidence:
    """A kind of boilerplate evidence that is not a catalogue rule (corpus evidence, the page
    model), listed and explained by ``dedup rules`` beside the rules."""

    code: str
    name: str
    category: str
    why: str
    how: tuple[str, ...]  # paragraphs of ``dedup rules CODE``


def describe(catalogue: Catalogue, code: str | None = None, evidence: Sequence[Evidence] = ()) -> str:
    """The text of ``dedup rules`` (all rules, then ``evidence``) or ``dedup rules CODE`` (one
    rule or kind of evidence, explained)."""
    if code is None:
        rows = [(r.code, r.name, r.category, r.why) for r in catalogue.rules] + [(e.code, e.name, e.category, e.why) for e in evidence]
        width = max((len(row[1]) for row in rows), default=0)
        return "".join(f"{c}  {name:<{width}}  {category:<16}  {why}\n" for c, name, category, why in rows)
    for e in evidence:
        if code.upper() == e.code or code == e.name:
            return "\n\n".join((f"{e.code} {e.name} ({e.category})", e.why, *e.how)) + "\n"
    for r in catalogue.rules:
        if r.code == code.upper() or r.name == code:
            out = [f"{r.code} {r.name} ({r.category})", "", r.why, ""]
            if r.phrases:
                out.append("Phrases (whole line, fuzzy): " + "; ".join(r.phrases))
            if r.patterns:
                out.append("Patterns: " + "; ".join(p.pattern for p in r.patterns))
            where = "." if r.position == "any" else f", among the {r.position} {EDGE_LINES} lines of a document."
            out.append(f"Only lines of at most {r.max_words} words{where}")
            if r.weight < 1.0:
                out.append(f"Weak evidence (weight {r.weight}): combined with the line's other evidence.")
            if r.match:
                out += ["", "Flags, for example:"] + [f"  {m}" for m in r.match]
            if r.no_match:
                out += ["", "Leaves alone, for example:"] + [f"  {m}" for m in r.no_match]
            return "\n".join(out) + "\n"
    raise ConfigError(f"unknown rule {code!r} (see `dedup rules`)")
