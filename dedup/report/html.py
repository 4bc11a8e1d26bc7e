"""The self-contained HTML report: one file, no network, inline CSS and JS.

All data sits in one JSON block that the page's script renders lazily (pages of 50 items,
diffs computed when a cluster is opened), so a report of 10,000 documents stays usable.
Document text only ever reaches the page through ``textContent``; inside the JSON block
``<``, ``>`` and ``&`` are escaped, so no document can close the script tag.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib.resources import files
from typing import Any

from ..model import Report
from ..pipeline import span_json
from .data import report_to_dict

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _script_safe_json(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _JSON_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def render_html(report: Report, texts: Mapping[str, str]) -> str:
    """The HTML report of ``report``; ``texts`` maps document ids to their text."""
    data = report_to_dict(report)
    payload = {
        "summary": data["summary"],
        "config": data["config"],
        "clusters": [
            {"id": c["id"], "keep": c["keep"], "members": [{"id": m["id"], "similarity": m["similarity"]} for m in c["members"]]}
            for c in data["clusters"]
        ],
        "docs": [
            {
                "id": d.id,
                "text": texts[d.id],
                "spans": [dict(span_json(s), kind=s.kind) for s in report.spans.get(d.id, ())],
            }
            for d in report.documents
        ],
    }
    template = files("dedup.report").joinpath("template.html").read_text(encoding="utf-8")
    return template.replace("__DATA__", _script_safe_json(payload))
