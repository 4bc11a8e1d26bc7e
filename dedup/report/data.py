"""The report as plain data: what ``--format json`` prints and what the other renderers read."""

from __future__ import annotations

from typing import Any

from ..model import Report
from ..pipeline import span_json

REPORT_VERSION = 1


def report_to_dict(report: Report) -> dict[str, Any]:
    """The full report as JSON-ready data (schema: ``dedup/schema/report.schema.json``)."""
    docs = {d.id: d for d in report.documents}
    return {
        "version": REPORT_VERSION,
        "config": dict(report.config_fingerprint),
        "summary": dict(report.stats, skipped=len(report.skipped)),
        "clusters": [
            {
                "id": c.id,
                "keep": c.keep,
                "size": len(c.members),
                "members": [
                    {"id": m, "similarity": c.similarity[m], "chars": docs[m].chars, "source": docs[m].source}
                    for m in c.members
                ],
            }
            for c in report.clusters
        ],
        "documents": [
            {
                "id": d.id,
                "source": d.source,
                "chars": d.chars,
                "lines": d.lines,
                "boilerplate": [span_json(s) for s in report.spans.get(d.id, ()) if s.kind == "boilerplate"],
                "repeats": [span_json(s) for s in report.spans.get(d.id, ()) if s.kind == "repeat"],
            }
            for d in report.documents
        ],
        "skipped": [{"where": s.where, "reason": s.reason} for s in report.skipped],
    }
