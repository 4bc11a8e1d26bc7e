#!/usr/bin/env python3
"""Near-duplicates across scripts: planted edited copies must be found, unrelated pages kept apart.

    python bench/multilingual.py [--man /usr/share/man] [--per-language 60] [--seed 5]

Text: real manual pages in Chinese, Japanese, Korean, Russian, German and French, from Debian's
manpages-zh, manpages-ja, manpages-ru, manpages-de and manpages-fr packages (`apt-get install`
them; a language whose pages are missing is skipped and said so), with groff markup stripped.
Pages of one language share a lot (section names, option syntax), which makes unrelated pages
a fair test of precision; a page sharing over 30% of its character 12-grams with a page already
taken, in any language (the same page installed under several names, or left untranslated), is
left out. For each language, two thirds of the pages get one copy each with 10%
edits: characters for Chinese and Japanese (written without spaces), words for the others. The
rest are left alone, as negatives. Runs ``dedup clean --annotate-only --only duplicates`` on all
languages at once and prints, per language, recall (a copy clustered with its original) and
precision (pairs in a cluster that are a page and its own copy).
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

LANGUAGES = {"zh_CN": ("Chinese", "chars"), "ja": ("Japanese", "chars"), "ko": ("Korean", "words"),
             "ru": ("Russian", "words"), "de": ("German", "words"), "fr": ("French", "words")}
_ESCAPES = re.compile(r"\\f(\[[^\]]*\]|\(..|.)|\\\(..|\\\*(\(..|.)|\\[&e\-|^~0c]|\\s[-+]?\d")
_SCRIPT = {"Chinese": r"[\u4e00-\u9fff]", "Japanese": r"[\u3040-\u30ff]", "Korean": r"[\uac00-\ud7af]", "Russian": r"[\u0400-\u04ff]"}


def strip_groff(source: str) -> str:
    lines = []
    for line in source.splitlines():
        if line.startswith((".", "'")):
            continue
        line = _ESCAPES.sub("", line).replace("\\\\", "\\").strip()
        if line:
            lines.append(line)
    return "\n".join(lines)


def pages(folder: Path, language: str, limit: int, rng: random.Random, kept: list[set[str]]) -> list[str]:
    """Up to ``limit`` pages of one language; ``kept`` holds the 12-grams of every page taken so far,
    in any language (some "translations" are the English page, untranslated)."""
    files = sorted(folder.glob("man*/*.gz"))
    rng.shuffle(files)
    out: list[str] = []
    for f in files:
        try:
            text = strip_groff(gzip.open(f, "rt", encoding="utf-8").read())
        except (OSError, UnicodeDecodeError, EOFError):
            continue
        pattern = _SCRIPT.get(language)
        if len(text) < 1500 or (pattern and len(re.findall(pattern, text)) < 200):
            continue
        text = text[:20000]
        grams = _grams(text)
        # The same page is often installed under several names (xz, unxz, ...): keep one.
        if any(len(grams & g) > 0.3 * min(len(grams), len(g)) for g in kept):
            continue
        kept.append(grams)
        out.append(text)
        if len(out) == limit:
            break
    return out


def _grams(text: str, k: int = 12) -> set[str]:
    flat = " ".join(text.split())
    return {flat[i : i + k] for i in range(max(len(flat) - k + 1, 0))}


def edit(text: str, unit: str, rate: float, rng: random.Random) -> str:
    parts = list(text) if unit == "chars" else text.split(" ")
    pool = [p for p in parts if p.strip()]
    for _ in range(int(len(parts) * rate)):
        i = rng.randrange(len(parts))
        op = rng.random()
        if op < 0.5:
            parts[i] = rng.choice(pool)
        elif op < 0.75 and len(parts) > 10:
            del parts[i]
        else:
            parts.insert(i, rng.choice(pool))
    return ("" if unit == "chars" else " ").join(parts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--man", default="/usr/share/man")
    ap.add_argument("--per-language", type=int, default=60)
    ap.add_argument("--rate", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    records, truth, lang_of = [], set(), {}
    kept: list[set[str]] = []
    for code, (language, unit) in LANGUAGES.items():
        found = pages(Path(args.man) / code, language, args.per_language, rng, kept)
        if len(found) < 10:
            package = f"manpages-{code.split('_')[0].lower()}"
            print(f"{language}: only {len(found)} pages under {args.man}/{code}; skipped (apt-get install {package})")
            continue
        for i, text in enumerate(found):
            doc_id = f"{code}-{i}"
            records.append({"id": doc_id, "text": text})
            lang_of[doc_id] = language
            if i < len(found) * 2 // 3:
                copy_id = f"{code}-{i}-copy"
                records.append({"id": copy_id, "text": edit(text, unit, args.rate, rng)})
                lang_of[copy_id] = language
                truth.add(frozenset((doc_id, copy_id)))
    rng.shuffle(records)
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        inp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        subprocess.run([sys.executable, "-m", "dedup", "clean", str(inp), "--annotate-only", "--only", "duplicates", "-o", str(out)],
                       check=True, stderr=subprocess.DEVNULL)
        clusters: dict[str, list[str]] = {}
        for rec in map(json.loads, out.open(encoding="utf-8")):
            if rec["dedup"]["cluster"] is not None:
                clusters.setdefault(rec["dedup"]["cluster"], []).append(rec["id"])
    predicted = {frozenset(p) for members in clusters.values() for p in itertools.combinations(members, 2)}
    print(f"{'language':<10} {'pages':>5} {'copies':>6} {'recall':>7} {'precision':>9}  ({args.rate:.0%} edits)")
    for language in dict.fromkeys(lang_of.values()):
        gold = {p for p in truth if lang_of[next(iter(p))] == language}
        pred = {p for p in predicted if any(lang_of[x] == language for x in p)}
        tp = len(gold & pred)
        n_pages = sum(1 for k, v in lang_of.items() if v == language and not k.endswith("-copy"))
        print(f"{language:<10} {n_pages:>5} {len(gold):>6} {tp / len(gold):>7.3f} {tp / len(pred) if pred else 1.0:>9.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
