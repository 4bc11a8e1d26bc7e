#!/usr/bin/env python3
"""Passage reuse: planted, edited copies of paragraphs, found and attributed to their source.

    python bench/repeats.py [--data ../shared/bench] [--seed 7] [--n 200]

Builds a corpus from ../shared/bench/neardup/webis_docs.jsonl: for each planted case a
paragraph (40-120 words) is taken from a source document, edited at a word rate of 0, 5, 10,
20 or 30% (substitutions, deletions, insertions from the source's own vocabulary), and inserted
between two lines of a host document that comes later in the input. Negatives: paragraphs of
documents left out of the corpus, inserted the same way. Runs ``dedup clean --annotate-only``
and reports, per edit rate, the recall of planted copies (a repeat span covering half of the
insert), of their source attribution (the span names the source document and overlaps the
original paragraph), precision (planted copies found / found spans on planted copies or
negatives), and the time of the run with and without the repeats stage.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RATES = (0.0, 0.05, 0.1, 0.2, 0.3)


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of lines or sentence groups of 40-120 words."""
    out = []
    pos = 0
    for line in text.split("\n"):
        n = len(line.split())
        if 40 <= n <= 120:
            out.append((pos, pos + len(line)))
        elif n > 120:
            # Long blobs (web pages are often one line): take a run of sentences from inside.
            for m in re.finditer(r"(?:[^.!?]+[.!?]\s+){3,6}", line):
                if 40 <= len(m.group().split()) <= 120:
                    out.append((pos + m.start(), pos + m.end()))
                    break
        pos += len(line) + 1
    return out


def grams(text: str, k: int = 8) -> set[int]:
    w = text.lower().split()
    return {hash(tuple(w[i : i + k])) for i in range(max(len(w) - k + 1, 0))}


def distinct(docs: list[dict], limit: float = 0.1) -> list[dict]:
    """Docs sharing at most ``limit`` of their word 8-grams with any earlier kept doc."""
    seen: dict[int, int] = {}
    kept = []
    for d in docs:
        g = grams(d["text"])
        shared = sum(1 for x in g if x in seen)
        if g and shared / len(g) <= limit:
            kept.append(d)
            for x in g:
                seen[x] = 1
    return kept


def edit(words: list[str], rate: float, rng: random.Random, vocab: list[str]) -> list[str]:
    out = list(words)
    for _ in range(round(rate * len(words))):
        op = rng.choice("sdi")
        i = rng.randrange(len(out))
        if op == "s":
            out[i] = rng.choice(vocab)
        elif op == "d" and len(out) > 5:
            del out[i]
        else:
            out.insert(i, rng.choice(vocab))
    return out


def insert_at_line(text: str, block: str, rng: random.Random) -> tuple[str, int]:
    breaks = [m.end() for m in re.finditer("\n", text)]
    at = rng.choice(breaks) if breaks else len(text)
    prefix = text[:at] if at == len(text) and text.endswith("\n") or at != len(text) else text + "\n"
    start = len(prefix)
    return prefix + block + "\n" + text[at:], start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "bench"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--n", type=int, default=200, help="planted copies (spread over the edit rates)")
    ap.add_argument("extra", nargs="*", help="extra options passed to dedup clean")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    docs = [json.loads(line) for line in open(Path(args.data) / "neardup" / "webis_docs.jsonl", encoding="utf-8")]
    docs = [d for d in docs if len(d["text"]) < 60_000]
    rng.shuffle(docs)
    # Webis holds near-duplicate pages: keep one page per group, so that the only shared
    # passages are the planted ones, and negatives are paragraphs no kept page contains.
    docs = distinct(docs)
    held_out, corpus = docs[:60], docs[60:]
    with_paras = [d for d in corpus[: len(corpus) // 2] if paragraphs(d["text"])]
    hosts = corpus[len(corpus) // 2 :]
    cases, negatives = [], []
    host_texts = {h["id"]: h["text"] for h in hosts}
    host_inserts: dict[str, list] = {}
    for k in range(args.n):
        src = rng.choice(with_paras)
        s, e = rng.choice(paragraphs(src["text"]))
        words = src["text"][s:e].split()
        rate = RATES[k % len(RATES)]
        copy = " ".join(edit(words, rate, rng, src["text"].split()))
        host = hosts[k % len(hosts)]["id"]
        host_inserts.setdefault(host, []).append(("copy", copy, {"src": src["id"], "s": s, "e": e, "rate": rate}))
    for k, neg in enumerate(held_out[: args.n // 2]):
        # One paragraph per held-out page, each used once: a negative must occur nowhere else.
        paras = paragraphs(neg["text"])
        if not paras:
            continue
        s, e = rng.choice(paras)
        host = hosts[(k * 7) % len(hosts)]["id"]
        host_inserts.setdefault(host, []).append(("neg", neg["text"][s:e], {}))
    for host, inserts in host_inserts.items():
        text = host_texts[host]
        for kind, block, info in inserts:
            # Earlier inserts shift when a later one lands before them: record after all inserts.
            text, start = insert_at_line(text, block, rng)
            for c in cases + negatives:
                if c["host"] == host and c["start"] >= start:
                    c["start"] += len(block) + 1
                    c["end"] += len(block) + 1
            item = {"host": host, "start": start, "end": start + len(block), **info}
            (cases if kind == "copy" else negatives).append(item)
        host_texts[host] = text
    records = [{"id": d["id"], "text": d["text"]} for d in corpus[: len(corpus) // 2]]
    records += [{"id": h["id"], "text": host_texts[h["id"]]} for h in hosts]
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        inp.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        timings = {}
        runs = (("duplicates only", ["--only", "duplicates"]), ("duplicates + repeats", ["--only", "duplicates", "--only", "repeats"]))
        for label, only in runs:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "dedup", "clean", str(inp), "--annotate-only", *only, *args.extra, "-o", str(out)],
                           check=True, stderr=subprocess.DEVNULL)
            timings[label] = time.perf_counter() - t0
        ann = {r["id"]: r["dedup"] for r in map(json.loads, out.open(encoding="utf-8"))}

    def found(item: dict) -> tuple[bool, bool]:
        for span in ann[item["host"]]["repeats"]:
            overlap = min(span["end"], item["end"]) - max(span["start"], item["start"])
            if overlap * 2 >= item["end"] - item["start"]:
                src = span["source"]
                attributed = src["id"] == item.get("src") and min(src["end"], item["e"]) > max(src["start"], item["s"])
                return True, attributed
        return False, False

    print(f"{'edit rate':>9} {'copies':>6} {'recall':>7} {'source':>7}")
    tp_total = 0
    for rate in RATES:
        sel = [c for c in cases if c["rate"] == rate]
        hits = [found(c) for c in sel]
        tp_total += sum(h[0] for h in hits)
        print(f"{rate:>9.0%} {len(sel):>6} {sum(h[0] for h in hits) / len(sel):>7.3f} {sum(h[1] for h in hits) / len(sel):>7.3f}")
    fp = sum(found(n)[0] for n in negatives)
    print(f"negatives: {len(negatives)}, flagged: {fp}; precision on planted spans = {tp_total / max(tp_total + fp, 1):.3f}")
    base, full = timings["duplicates only"], timings["duplicates + repeats"]
    print(f"time: duplicates only {base:.1f}s, with repeats {full:.1f}s, ratio {full / base:.2f}x ({len(records)} documents)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
