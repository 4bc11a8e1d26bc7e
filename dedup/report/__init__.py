"""Renderers of a :class:`~dedup.model.Report`: terminal text, Markdown and JSON."""

from __future__ import annotations

from .data import report_to_dict
from .render import FORMATS, render

__all__ = ["FORMATS", "render", "report_to_dict"]
