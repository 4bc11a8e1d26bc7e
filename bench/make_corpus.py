#!/usr/bin/env python3
"""A reproducible corpus with planted duplicates, and its ground truth.

    python bench/make_corpus.py OUT_DIR [--n 100000] [--seed 1] [--data ../shared/bench]

Documents are built from real English text: each is 5-45 lines drawn at random from the lines
of the Webis pages and of the boilerplate benchmark's extracted pages, lines of more than
``MAX_LINE_WORDS`` words cut into pieces of that length, so two documents share a line now
and then, never most of their text. (Without the cut, some "lines" are whole pages of
100,000 characters: two documents that draw the same one are near-duplicates in fact but
not in the ground truth, and at 100,000 documents that made most "wrong" pairs.)
A fifth of the documents are planted copies of an earlier one: exact (a quarter of them) or
with 1, 3, 5, 10 or 20% of their words edited (replaced, deleted or inserted). Writes
``corpus.jsonl`` and ``truth.jsonl`` (one line per planted copy: copy, original, edit rate and
the word 5-gram Jaccard of the two texts).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

RATES = (0.0, 0.0, 0.01, 0.03, 0.05, 0.1, 0.2)
MAX_LINE_WORDS = 120


def source_lines(data: Path) -> list[str]:
    lines: list[str] = []
    files = [data / "neardup" / "webis_docs.jsonl", *sorted((data / "boilerplate").glob("*residual*.jsonl"))]
    for path in files:
        for record in map(json.loads, path.open(encoding="utf-8")):
            for line in record["text"].split("\n"):
                words = line.split()
                for start in range(0, len(words), MAX_LINE_WORDS):
                    piece = words[start : start + MAX_LINE_WORDS]
                    if len(piece) >= 4:
                        lines.append(" ".join(piece))
    return lines


def edit(text: str, rate: float, rng: random.Random) -> str:
    words = text.split(" ")
    for _ in range(int(len(words) * rate)):
        i = rng.randrange(len(words))
        op = rng.random()
        if op < 0.5:
            words[i] = rng.choice(words)
        elif op < 0.75 and len(words) > 10:
            del words[i]
        else:
            words.insert(i, rng.choice(words))
    return " ".join(words)


def jaccard5(a: str, b: str) -> float:
    def grams(t: str) -> set[tuple[str, ...]]:
        w = t.lower().split()
        return {tuple(w[i : i + 5]) for i in range(max(len(w) - 4, 1))}

    ga, gb = grams(a), grams(b)
    return len(ga & gb) / len(ga | gb) if ga | gb else 1.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "bench"))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    lines = source_lines(Path(args.data))
    args.out.mkdir(parents=True, exist_ok=True)
    texts: list[str] = []
    with (args.out / "corpus.jsonl").open("w", encoding="utf-8") as corpus, (args.out / "truth.jsonl").open("w", encoding="utf-8") as truth:
        for i in range(args.n):
            if texts and rng.random() < 0.2:
                original = rng.randrange(len(texts))
                rate = rng.choice(RATES)
                text = edit(texts[original], rate, rng)
                truth.write(json.dumps({"copy": f"d{i}", "original": f"d{original}", "rate": rate,
                                        "jaccard5": round(jaccard5(texts[original], text), 4)}) + "\n")
            else:
                text = "\n".join(rng.sample(lines, rng.randint(5, 45)))
            texts.append(text)
            corpus.write(json.dumps({"id": f"d{i}", "text": text}, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
