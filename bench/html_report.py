#!/usr/bin/env python3
"""Size and opening time of the HTML report for a large corpus.

    python bench/html_report.py [--data ../shared/bench] [--n 10000]

Builds N documents from the Webis pages (each page cut to a random stretch of 1,000-6,000
characters, a fifth of them planted as lightly edited copies), writes
``dedup report --format html``, and opens it in headless Chromium: the time until the DOM is
dumped, against the same for an empty page (the browser's own start-up) in the same run.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def corpus(docs: list[str], n: int, rng: random.Random) -> list[dict]:
    out: list[dict] = []
    for i in range(n):
        if out and rng.random() < 0.2:
            words = rng.choice(out)["text"].split(" ")
            for _ in range(max(1, len(words) // 50)):
                words[rng.randrange(len(words))] = rng.choice(words)
            text = " ".join(words)
        else:
            page = rng.choice(docs)
            size = rng.randint(1000, 6000)
            start = rng.randrange(max(1, len(page) - size))
            text = page[start : start + size]
        out.append({"id": f"doc{i:05d}", "text": text})
    return out


def open_time(browser: str, url: str, profile: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", "--dump-dom", url],
        check=True, capture_output=True, timeout=600,
    )
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "bench"))
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    pages = [json.loads(line)["text"] for line in open(Path(args.data) / "neardup" / "webis_docs.jsonl", encoding="utf-8")]
    records = corpus(pages, args.n, random.Random(args.seed))
    with tempfile.TemporaryDirectory() as tmp:
        inp, out, blank = Path(tmp) / "in.jsonl", Path(tmp) / "report.html", Path(tmp) / "blank.html"
        inp.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        blank.write_text("<!DOCTYPE html><title>blank</title>", encoding="utf-8")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dedup", "report", str(inp), "--format", "html", "-o", str(out)],
                       check=True, stderr=subprocess.DEVNULL)
        build = time.perf_counter() - t0
        mb_in, mb_out = inp.stat().st_size / 1e6, out.stat().st_size / 1e6
        print(f"{args.n:,} documents, {mb_in:.1f} MB of JSONL: report built in {build:.1f}s, HTML file {mb_out:.1f} MB")
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        if browser is None:
            print("chromium not installed: opening time not measured")
            return 0
        base = open_time(browser, blank.as_uri(), Path(tmp) / "p1")
        for view in ("#summary", "#clusters", "#documents"):
            full = open_time(browser, out.as_uri() + view, Path(tmp) / "p2")
            print(f"open {view:<11} {full:.2f}s (an empty page: {base:.2f}s; difference {full - base:.2f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
