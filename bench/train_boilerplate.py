#!/usr/bin/env python3
"""Fit the boilerplate line model (logistic regression over generic line features).

    python bench/train_boilerplate.py [--data ../shared/bench] [--write] [--cv]

Features come from ``dedup.boilerplate.features`` (shape, position, context, rule hits,
corpus frequency; nothing site-specific). Each labelled file is treated as one corpus, as a
user's run would be. ``--cv`` fits on half of the sites and scores the other half (and the
reverse), so the figures it prints are out-of-sample. ``--write`` stores the weights in
``dedup/boilerplate/model.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from dedup.boilerplate.catalogue import load_catalogue
from dedup.boilerplate.classifier import expand
from dedup.boilerplate.features import FEATURES, corpus_counts, document_lines
from dedup.model import Document

PAGE = FEATURES.index("page_like")
FILES = ("aeb_residual_dev", "wcxb_residual_dev", "aeb_fullpage_dev", "wcxb_fullpage_dev")


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def featurise(records: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """X, y (label per line), line lengths, group (site half), rule flag."""
    cat = load_catalogue()
    docs = [Document(id=r["id"], text=r["text"], site=r.get("domain")) for r in records]
    dc, sc = corpus_counts(docs)
    xs, ys, lens, groups, rules = [], [], [], [], []
    for rec, doc in zip(records, docs, strict=False):
        starts = []
        pos = 0
        for line in rec["text"].split("\n"):
            starts.append(pos)
            pos += len(line) + 1
        label_at = dict(zip(starts, rec["labels"], strict=False))
        half = int(hashlib.md5((rec.get("domain") or rec["id"]).encode()).hexdigest(), 16) % 2
        for info in document_lines(doc, cat, dc, sc, always_features=True):
            label = label_at.get(info.start, -1)
            if label < 0:
                continue
            xs.append(info.features)
            ys.append(label)
            lens.append(info.end - info.start)
            groups.append(half)
            rules.append(info.rule_score)
    return expand(np.array(xs)), np.array(ys, dtype=float), np.array(lens), np.array(groups), np.array(rules)


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, *, l2: float = 1e-3, iters: int = 400) -> np.ndarray:
    """Weighted L2 logistic regression by Newton's method."""
    beta = np.zeros(x.shape[1])
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(x @ beta)))
        grad = x.T @ (w * (p - y)) + l2 * beta
        hess = (x * (w * p * (1 - p))[:, None]).T @ x + l2 * np.eye(len(beta))
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def metrics(pred: np.ndarray, y: np.ndarray, lens: np.ndarray) -> tuple[float, float, float, float]:
    tp = np.sum(pred & (y == 1))
    fp = np.sum(pred & (y == 0))
    fn = np.sum(~pred & (y == 1))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    loss = lens[pred & (y == 0)].sum() / max(lens[y == 0].sum(), 1)
    return p, r, f, loss


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "bench"))
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--cv", action="store_true")
    ap.add_argument("--threshold", type=float, default=0.6)
    args = ap.parse_args()
    sets = {}
    for name in FILES:
        sets[name] = featurise(load(Path(args.data) / "boilerplate" / f"{name}.jsonl"))
        x, y, lens, g, rules = sets[name]
        p, r, f, loss = metrics(rules >= args.threshold, y, lens)
        print(f"{name}: {len(y)} lines, rules alone P={p:.3f} R={r:.3f} F1={f:.3f} loss={loss:.4f}")

    def train(select_half: int | None) -> np.ndarray:
        xs, ys, ws = [], [], []
        for _name, (x, y, lens, g, _) in sets.items():
            # The model only speaks for whole pages (see dedup.boilerplate.classifier).
            m = x[:, PAGE] > 0 if select_half is None else (g == select_half) & (x[:, PAGE] > 0)
            # Every file weighs the same; content lines weigh by length (lost characters are the cost).
            wt = np.where(y[m] == 0, 1.0 + np.log1p(lens[m]) / 2, 1.0)
            wt = wt / wt.sum()
            xs.append(x[m])
            ys.append(y[m])
            ws.append(wt)
        return fit(np.concatenate(xs), np.concatenate(ys), np.concatenate(ws) * 1000)

    def report(beta_for_half: dict[int, np.ndarray]) -> None:
        for name, (x, y, lens, g, rule) in sets.items():
            prob = np.empty(len(y))
            for half, beta in beta_for_half.items():
                m = g == half
                prob[m] = 1 / (1 + np.exp(-(x[m] @ beta)))
            prob[x[:, PAGE] == 0] = 0.0
            pred = np.maximum(prob, rule) >= args.threshold
            p, r, f, loss = metrics(pred, y, lens)
            print(f"  {name:<20} P={p:.3f} R={r:.3f} F1={f:.3f} content_loss={loss:.4f}")

    if args.cv:
        b0, b1 = train(0), train(1)
        print("cross-validated (fit on one half of the sites, scored on the other):")
        report({1: b0, 0: b1})
    beta = train(None)
    print("fit on all sites (in-sample):")
    report({0: beta, 1: beta})
    names = list(FEATURES) + [f"{f}*regime" for f in FEATURES]
    for name, b in sorted(zip(names, beta, strict=False), key=lambda t: -abs(t[1]))[:20]:
        print(f"    {name:<16} {b:+.3f}")
    if args.write:
        out = Path(__file__).resolve().parents[1] / "dedup" / "boilerplate" / "model.json"
        out.write_text(json.dumps({"features": list(FEATURES), "weights": [round(float(b), 5) for b in beta]}, indent=1) + "\n")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
