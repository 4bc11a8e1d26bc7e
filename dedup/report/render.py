"""Terminal, Markdown and JSON renderings of a report.

Document text is never written raw: control characters (ANSI escape sequences included) are
shown as visible escapes, so a hostile corpus cannot drive the terminal.
"""

from __future__ import annotations

import bisect
import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..model import Report, Span, dropped_members
from ..text import line_spans
from .data import report_to_dict

FORMATS = ("text", "markdown", "json", "html")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_PREVIEW = 100
# Terminal and Markdown reports show the worst findings first, up to these counts; the JSON and
# HTML reports hold everything.
MAX_CLUSTERS = 50
MAX_REPEATS = 50
MAX_BOILERPLATE = 200


def safe(text: str) -> str:
    """``text`` with control characters shown as ``\\xNN`` escapes.

    >>> safe("red \\x1b[31mX")
    'red \\\\x1b[31mX'
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _preview(text: str, limit: int = _PREVIEW) -> str:
    one_line = " ".join(text.split())
    return safe(one_line if len(one_line) <= limit else one_line[: limit - 1] + "…")


class _Lines:
    """1-based line numbers of offsets, with each document's line starts computed once per
    rendering (a document with 20,000 repeated lines must not be split 20,000 times)."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = texts
        self.starts: dict[str, list[int]] = {}

    def of(self, doc_id: str) -> Callable[[int], int]:
        starts = self.starts.get(doc_id)
        if starts is None:
            starts = self.starts[doc_id] = [s for s, _ in line_spans(self.texts.get(doc_id, ""))]
        return lambda offset: bisect.bisect_right(starts, offset)


def word_diff(a: str, b: str, *, limit: int = 12) -> list[str]:
    """What changed from ``a`` to ``b``, word by word: ``-old`` / ``+new`` items, at most ``limit``."""
    wa, wb = a.split(), b.split()
    changes = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=wa, b=wb, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        old, new = " ".join(wa[i1:i2]), " ".join(wb[j1:j2])
        if len(old) > 60:
            old = f"[{i2 - i1} words]"
        if len(new) > 60:
            new = f"[{j2 - j1} words]"
        changes.append(" ".join(x for x in (f"-{old}" if old else "", f"+{new}" if new else "") if x))
    if len(changes) > limit:
        changes = changes[:limit] + [f"… {len(changes) - limit} more changes"]
    return changes


class _Out:
    def __init__(self, color: bool) -> None:
        self.lines: list[str] = []
        self.color = color

    def style(self, text: str, **kw: Any) -> str:
        if not self.color:
            return text
        import click

        return click.style(text, **kw)

    def add(self, text: str = "") -> None:
        self.lines.append(text)


def _span_lines(span: Span, line_of: Callable[[int], int]) -> str:
    first, last = line_of(span.start), line_of(max(span.start, span.end - 1))
    return f"line {first}" if first == last else f"lines {first}-{last}"


def _spans_of(report: Report, kind: str) -> list[tuple[str, Span]]:
    return [(d, sp) for d, spans in report.spans.items() for sp in spans if sp.kind == kind]


def _kept_boilerplate(report: Report) -> tuple[list[tuple[str, Span]], str | None]:
    """The boilerplate lines of the documents cleaning keeps (those the summary counts), and a
    note of those left out: the lines of near-duplicates that cleaning drops whole."""
    dropped = dropped_members(report.clusters)
    found = _spans_of(report, "boilerplate")
    kept = [(d, sp) for d, sp in found if d not in dropped]
    left = {d for d, _ in found if d in dropped}
    if not left:
        return kept, None
    n = len(found) - len(kept)
    return kept, (
        f"  (not listed: {n:,} boilerplate line{'s' if n != 1 else ''} of {len(left):,} near-duplicate"
        f"{'s' if len(left) != 1 else ''} that cleaning drops; --format json lists them)"
    )


def _ordered_clusters(data: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], list[Mapping[str, Any]]]]:
    """Clusters largest first, each with its kept member first, then by similarity."""
    return [
        (c, sorted(c["members"], key=lambda m: (m["id"] != c["keep"], -m["similarity"], m["id"])))
        for c in sorted(data["clusters"], key=lambda c: (-c["size"], c["id"]))
    ]


@dataclass(frozen=True, slots=True)
class _RepeatView:
    """A repeated passage as both renderers show it: where, what it repeats, and the two texts."""

    doc_id: str
    span: Span
    where: str
    source_id: str
    source_where: str
    copy_text: str
    source_text: str


def _more(shown: int, total: int, what: str) -> str | None:
    if total <= shown:
        return None
    return f"  … and {total - shown:,} more {what} (--format json or html lists them all)"


def _repeat_views(report: Report, texts: Mapping[str, str], lines: _Lines, limit: int) -> list[_RepeatView]:
    """The ``limit`` longest repeated passages, longest first."""
    views = []
    ordered = sorted(_spans_of(report, "repeat"), key=lambda x: (-(x[1].end - x[1].start), x[0], x[1].start))
    for doc_id, sp in ordered[:limit]:
        src = sp.source
        assert src is not None
        text, src_text = texts[doc_id], texts.get(src.id, "")
        views.append(
            _RepeatView(
                doc_id=doc_id,
                span=sp,
                where=_span_lines(sp, lines.of(doc_id)),
                source_id=src.id,
                source_where=_span_lines(Span(src.start, src.end, "", "", 0.0), lines.of(src.id)),
                copy_text=text[sp.start : sp.end],
                source_text=src_text[src.start : src.end],
            )
        )
    return views


def render_text(report: Report, texts: Mapping[str, str], *, color: bool = False) -> str:
    """The terminal report: summary first, then clusters, repeats and boilerplate, worst first."""
    data = report_to_dict(report)
    s = data["summary"]
    out = _Out(color)
    out.add(out.style("dedup report", bold=True) + f": {s['documents']:,} documents, {s['characters']:,} characters")
    out.add(f"  near-duplicate clusters  {s['clusters']:,} ({s['duplicates']:,} documents would be dropped)")
    out.add(f"  repeated passages        {s['repeat_spans']:,}")
    cats = ", ".join(f"{k} {v}" for k, v in sorted(s["boilerplate_by_category"].items(), key=lambda kv: -kv[1]))
    out.add(f"  boilerplate lines        {s['boilerplate_spans']:,}" + (f" ({cats})" if cats else ""))
    out.add(f"  clean would remove       {s['removed_characters']:,} characters ({s['removed_share']:.1%})")
    if s["skipped"]:
        out.add(out.style(f"  skipped records          {s['skipped']:,}", fg="yellow"))
    out.add(f"  config                   {data['config']['hash']}")

    if data["clusters"]:
        out.add()
        out.add(out.style("Near-duplicate clusters", bold=True) + " (largest first; similarity to the kept document)")
        ordered = _ordered_clusters(data)
        for c, members in ordered[:MAX_CLUSTERS]:
            out.add(f"  {c['id']}: {c['size']} documents, keep {safe(c['keep'])}")
            for m in members:
                mark = out.style("keep", fg="green") if m["id"] == c["keep"] else out.style("drop", fg="red")
                out.add(f"    {mark}  {m['similarity']:.3f}  {m['chars']:>9,} chars  {safe(m['id'])}")
        if more := _more(MAX_CLUSTERS, len(ordered), "clusters"):
            out.add(more)

    line_index = _Lines(texts)
    repeats = _repeat_views(report, texts, line_index, MAX_REPEATS)
    if repeats:
        out.add()
        out.add(out.style("Repeated passages", bold=True) + " (longest first)")
        for r in repeats:
            same = "" if r.source_id == r.doc_id else f" of {safe(r.source_id)}"
            out.add(
                f"  {safe(r.doc_id)} {r.where} repeat {r.source_where}{same}"
                f" (similarity {r.span.score:.2f}, {r.span.end - r.span.start:,} chars)"
            )
            for change in word_diff(r.source_text, r.copy_text):
                out.add("      " + safe(change))
        if more := _more(MAX_REPEATS, len(_spans_of(report, "repeat")), "repeated passages"):
            out.add(more)

    boiler, left_out = _kept_boilerplate(report)
    if boiler or left_out:
        out.add()
        out.add(out.style("Boilerplate", bold=True) + " (by document; rule or evidence, score)")
        current = None
        for doc_id, sp in boiler[:MAX_BOILERPLATE]:
            if doc_id != current:
                out.add(f"  {safe(doc_id)}")
                current = doc_id
                line_of = line_index.of(doc_id)
            label = out.style(f"{sp.rule} {sp.category}", fg="yellow")
            out.add(f"    {line_of(sp.start):>5}  {label} {sp.score:.2f}  {_preview(texts[doc_id][sp.start:sp.end])}")
        if more := _more(MAX_BOILERPLATE, len(boiler), "boilerplate lines"):
            out.add(more)
        if left_out:
            out.add(left_out)
    if report.skipped:
        out.add()
        out.add(out.style("Skipped records", bold=True))
        for sk in report.skipped:
            out.add(f"  {safe(sk.where)}: {safe(sk.reason)}")
    return "\n".join(out.lines) + "\n"


def _md(text: str) -> str:
    return safe(text).replace("|", "\\|").replace("`", "'").replace("<", "&lt;").replace(">", "&gt;")


def render_markdown(report: Report, texts: Mapping[str, str]) -> str:
    """The same content as the terminal report, as Markdown tables."""
    data = report_to_dict(report)
    s = data["summary"]
    lines = [
        "# dedup report",
        "",
        "| documents | characters | clusters | duplicates | repeated passages | boilerplate lines | removed |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {s['documents']:,} | {s['characters']:,} | {s['clusters']:,} | {s['duplicates']:,} "
        f"| {s['repeat_spans']:,} | {s['boilerplate_spans']:,} | {s['removed_characters']:,} ({s['removed_share']:.1%}) |",
        "",
        f"Config `{data['config']['hash']}`.",
    ]
    if data["clusters"]:
        lines += ["", "## Near-duplicate clusters", "", "| cluster | document | similarity | chars | kept |", "|---|---|---:|---:|---|"]
        ordered = _ordered_clusters(data)
        for c, members in ordered[:MAX_CLUSTERS]:
            for m in members:
                kept = "yes" if m["id"] == c["keep"] else ""
                lines.append(f"| {c['id']} | {_md(m['id'])} | {m['similarity']:.3f} | {m['chars']:,} | {kept} |")
    if data["clusters"] and (more := _more(MAX_CLUSTERS, len(data["clusters"]), "clusters")):
        lines += ["", more.strip()]
    line_index = _Lines(texts)
    repeats = _repeat_views(report, texts, line_index, MAX_REPEATS)
    if repeats:
        lines += ["", "## Repeated passages", "", "| document | lines | repeats | similarity | changes |", "|---|---|---|---:|---|"]
        for r in repeats:
            changes = "; ".join(word_diff(r.source_text, r.copy_text, limit=6))
            lines.append(
                f"| {_md(r.doc_id)} | {r.where} | {_md(r.source_id)} {r.source_where} | {r.span.score:.2f} | {_md(changes)} |"
            )
        if more := _more(MAX_REPEATS, len(_spans_of(report, "repeat")), "repeated passages"):
            lines += ["", more.strip()]
    boiler, left_out = _kept_boilerplate(report)
    if boiler or left_out:
        lines += ["", "## Boilerplate", "", "| document | line | rule | category | score | text |", "|---|---:|---|---|---:|---|"]
        for doc_id, sp in boiler[:MAX_BOILERPLATE]:
            line = line_index.of(doc_id)(sp.start)
            lines.append(
                f"| {_md(doc_id)} | {line} | {sp.rule} | {sp.category} | {sp.score:.2f} "
                f"| {_md(_preview(texts[doc_id][sp.start:sp.end], 80))} |"
            )
        if more := _more(MAX_BOILERPLATE, len(boiler), "boilerplate lines"):
            lines += ["", more.strip()]
        if left_out:
            lines += ["", left_out.strip()]
    return "\n".join(lines) + "\n"


def render(report: Report, texts: Mapping[str, str], fmt: str, *, color: bool = False) -> str:
    """Render ``report`` as ``text``, ``markdown``, ``json`` or ``html``."""
    if fmt == "json":
        return json.dumps(report_to_dict(report), ensure_ascii=False, indent=2) + "\n"
    if fmt == "markdown":
        return render_markdown(report, texts)
    if fmt == "html":
        from .html import render_html

        return render_html(report, texts)
    return render_text(report, texts, color=color)
