"""Rendered reports: golden files for the seeds, escaping of hostile text, the HTML page in Chromium."""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup.cli import main

from .conftest import SEEDS, read_jsonl

GOLDEN = Path(__file__).with_name("golden")
HOSTILE = [
    {"id": "evil<1>", "text": "Intro </script><script>alert(1)</script> and </textarea> and {{ secret }}\n\x1b[31mRED\x1b[0m bell\x07"},
    {"id": "evil-2", "text": "Intro </script><script>alert(1)</script> and </textarea> and {{ secret }}\n\x1b[31mRED\x1b[0m bell\x07"},
]


def _without_config_hash(text: str) -> str:
    # The hash covers package versions; everything else in the report is compared byte for byte.
    return re.sub(r"(config\s+`?)[0-9a-f]{16}", r"\1<hash>", text, flags=re.IGNORECASE)


@pytest.mark.parametrize(("fmt", "name"), [("text", "seeds.txt"), ("markdown", "seeds.md")])
def test_golden_reports_of_the_seeds(runner: CliRunner, fmt: str, name: str) -> None:
    out = _without_config_hash(runner.invoke(main, ["report", str(SEEDS), "--format", fmt]).stdout)
    path = GOLDEN / name
    if os.environ.get("DEDUP_UPDATE_GOLDEN"):
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8")


def test_terminal_report_shows_control_characters_escaped(runner: CliRunner, write_jsonl) -> None:
    path = write_jsonl(HOSTILE)
    out = runner.invoke(main, ["report", str(path)]).stdout
    assert "\x1b" not in out and "\x07" not in out
    assert "evil<1>" in out


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_boilerplate_listed_is_that_of_the_kept_documents(runner: CliRunner, write_jsonl, fmt: str) -> None:
    """Three copies of a seed: the summary counts the boilerplate cleaning would cut, the kept
    copy's; the listing shows the same lines, and says what of the copies it leaves out."""
    text = (SEEDS / "003_f8199620882130e8.txt").read_text(encoding="utf-8")
    path = write_jsonl([{"id": f"copy{i}", "text": text} for i in range(3)])
    out = runner.invoke(main, ["report", str(path), "--format", fmt]).stdout
    spans = {r["id"]: r["dedup"]["boilerplate"] for r in read_jsonl(runner.invoke(main, ["clean", str(path), "--annotate-only"]).stdout)}
    n = len(spans["copy0"])
    assert n == len(spans["copy1"]) == len(spans["copy2"]) > 5
    assert "copy0" in out and "copy1" not in out.split("oilerplate")[-1] and "copy2" not in out.split("oilerplate")[-1]
    assert f"not listed: {2 * n} boilerplate lines of 2 near-duplicates that cleaning drops" in out
    summary = json.loads(runner.invoke(main, ["report", str(path), "--format", "json"]).stdout)["summary"]
    assert summary["boilerplate_spans"] == n


def test_markdown_report_escapes_markup(runner: CliRunner, write_jsonl) -> None:
    out = runner.invoke(main, ["report", str(write_jsonl(HOSTILE)), "--format", "markdown"]).stdout
    assert "<1>" not in out and "evil&lt;1&gt;" in out


def test_html_report_keeps_document_text_out_of_markup(runner: CliRunner, write_jsonl, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = runner.invoke(main, ["report", str(write_jsonl(HOSTILE)), "--format", "html", "-o", str(out)])
    assert result.exit_code == 0
    page = out.read_text(encoding="utf-8")
    assert page.count("<script") == 2  # the data block and the page's own script, nothing from the corpus
    assert "</textarea>" not in page and "alert(1)" in page  # present, but only inside escaped JSON
    data = re.search(r'<script type="application/json" id="dedup-data">(.*?)</script>', page, re.S)
    assert data is not None
    docs = json.loads(data.group(1))["docs"]
    assert docs[0]["text"] == HOSTILE[0]["text"]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _open_in_chromium(page: Path, fragment: str, tmp_path: Path, *, screenshot: Path | None = None) -> tuple[str, str]:
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium); .ci/run installs it")
    args = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr", "--v=0", "--window-size=1400,1300", "--virtual-time-budget=5000",
    ]
    args.append(f"--screenshot={screenshot}" if screenshot else "--dump-dom")
    done = subprocess.run([*args, page.as_uri() + fragment], capture_output=True, text=True, timeout=120)
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    return done.stdout, "\n".join(console)


def test_html_report_of_the_seeds_in_chromium(runner: CliRunner, tmp_path: Path) -> None:
    page = tmp_path / "seeds.html"
    assert runner.invoke(main, ["report", str(SEEDS), "--format", "html", "-o", str(page)]).exit_code == 0
    dom, console = _open_in_chromium(page, "#repeats", tmp_path)
    assert console == "", console
    sections = re.findall(r'<section class="item repeat">(.*?)</section>', dom, re.S)
    assert len(sections) == 1
    side = re.search(r'<div class="side"><div>(.*?)</div><div>(.*)</div></div>', sections[0], re.S)
    assert side is not None, "the repeat is shown side by side"
    left, right = side.groups()
    assert "original: 003_f8199620882130e8.txt lines 7-25" in left
    assert "repeat: 003_f8199620882130e8.txt lines 59-75" in right
    assert "<del>administration</del>" in left and "<ins>governance</ins>" in right
    shot = tmp_path / "shot.png"
    _open_in_chromium(page, "#summary", tmp_path, screenshot=shot)
    assert shot.stat().st_size > 10_000


def test_hostile_html_report_in_chromium(runner: CliRunner, write_jsonl, tmp_path: Path) -> None:
    page = tmp_path / "evil.html"
    runner.invoke(main, ["report", str(write_jsonl(HOSTILE)), "--format", "html", "-o", str(page)])
    dom, console = _open_in_chromium(page, "#doc/evil-2", tmp_path)
    assert console == "", console
    assert dom.count("<script") == 1  # the page's own; the data block removes itself once parsed
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # shown as text
    assert "{{ secret }}" in dom


def test_clean_output_is_valid_jsonl_for_hostile_text(runner: CliRunner, write_jsonl) -> None:
    result = runner.invoke(main, ["clean", str(write_jsonl(HOSTILE)), "--annotate-only"])
    assert [r["text"] for r in read_jsonl(result.stdout)] == [h["text"] for h in HOSTILE]


def test_rendering_splits_each_document_into_lines_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # A document of 3,000 identical lines has 2,999 repeats; splitting it again for each one
    # made rendering quadratic (minutes for 20,000 lines).
    import dedup
    from dedup.pipeline import scan_documents
    render_mod = importlib.import_module("dedup.report.render")

    text = "\n".join(["The same line of text, repeated over and over in this one document."] * 3000)
    report, _ = scan_documents([text], dedup.Config())
    calls = []
    original = render_mod.line_spans
    monkeypatch.setattr(render_mod, "line_spans", lambda t: calls.append(1) or original(t))
    text_report = render_mod.render(report, {"0": text}, "text")
    markdown_report = render_mod.render(report, {"0": text}, "markdown")
    assert "0 line 2 repeat line 1 (similarity 1.00" in text_report
    assert "| 0 | line 2 | 0 line 1 | 1.00 |" in markdown_report
    # The worst 50 are shown, and the rest counted.
    assert "… and 2,949 more repeated passages (--format json or html lists them all)" in text_report
    assert "… and 2,949 more repeated passages" in markdown_report
    assert len(calls) == 2  # once per rendering, not once per repeat
