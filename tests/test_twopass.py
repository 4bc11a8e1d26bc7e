"""Document-level dedup of JSONL files in passes over the files writes what the batch engine writes."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from dedup import twopass
from dedup.cli import main
from dedup.config import Config, replace
from dedup.errors import InputError
from dedup.io import read_paths
from dedup.pipeline import records, scan_documents

from .conftest import SEEDS


def edited(text: str, rate: float, rng: random.Random) -> str:
    words = text.split(" ")
    for i in rng.sample(range(len(words)), int(len(words) * rate)):
        words[i] = rng.choice(["alpha", "beta", "gamma", "délta"])
    return " ".join(words)


def write_corpus(folder: Path) -> None:
    """Two JSONL files in a folder: the seeds, edited and exact copies of them (one copy in the
    other file), records with extra fields, without an id, blank lines, non-ASCII text."""
    rng = random.Random(11)
    pages = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    rows: list[dict[str, object]] = []
    for n, page in enumerate(pages):
        rows.append({"id": f"seed{n}", "text": page, "url": f"https://site{n}.example/a", "meta": {"n": n, "x": 1.5}})
        rows.append({"id": f"near{n}", "text": edited(page, 0.04, rng)})
        rows.append({"text": page.upper()})  # an exact copy (same words), with a default id
    rows.append({"id": "short", "text": "Ünïcode — a short line."})
    rng.shuffle(rows)
    folder.mkdir()
    half = len(rows) // 2
    for name, part in (("a.jsonl", rows[:half]), ("b/c.jsonl", rows[half:])):
        (folder / name).parent.mkdir(exist_ok=True)
        lines = [json.dumps(r, ensure_ascii=bool(i % 2)) for i, r in enumerate(part)]
        lines.insert(2, "   ")
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def batch_output(paths: list[str], config: Config, annotate_only: bool) -> bytes:
    report, docs = scan_documents(read_paths(paths, config.input), config)
    out = records(report, docs, config, annotate_only=annotate_only)
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out).encode("utf-8")


def files_output(paths: list[str], config: Config, annotate_only: bool, out: Path) -> tuple[bytes, twopass.Summary]:
    inputs = twopass.jsonl_inputs(paths)
    assert inputs is not None
    with out.open("wb") as f:
        summary = twopass.clean_files(inputs, config, f, annotate_only=annotate_only)
    return out.read_bytes(), summary


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("annotate_only", [True, False])
def test_same_bytes_as_the_batch_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int, annotate_only: bool) -> None:
    write_corpus(tmp_path / "in")
    monkeypatch.setattr(twopass, "BLOCK", 10_000)  # many blocks, several per file
    config = replace(Config(only=("duplicates",)), "neardup", jobs=jobs)
    paths = [str(tmp_path / "in")]
    got, summary = files_output(paths, config, annotate_only, tmp_path / "out.jsonl")
    assert got == batch_output(paths, config, annotate_only)
    # The planted copies were found: each seed with its edited and its exact copy.
    assert summary.clusters == 5 and summary.duplicates == 10
    rows = [json.loads(line) for line in got.decode("utf-8").splitlines()]
    assert len(rows) == (16 if annotate_only else 6)


@pytest.mark.parametrize("annotate_only", [True, False])
def test_lines_in_every_format_as_the_batch_engine(tmp_path: Path, annotate_only: bool) -> None:
    """Lines as Python writes them get their annotation spliced in (dedup.jsonline); lines as
    other tools write them are decoded and encoded: the bytes are the batch engine's either way."""
    pages = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))[:2]]
    lines = [
        json.dumps({"id": "a", "text": pages[0], "n": 3}, ensure_ascii=False),
        json.dumps({"id": "a2", "text": pages[0] + " Ünïcode", "n": 3}, separators=(",", ":")),
        json.dumps({"id": "a3", "text": pages[0].upper(), "dedup": {"old": 1}}, ensure_ascii=False),
        '{"id": "b", "text": "first", "text": ' + json.dumps(pages[1], ensure_ascii=False) + "}",
        json.dumps({"id": "b2", "text": pages[1], "score": 0.5}, ensure_ascii=False),
        json.dumps({"id": "c", "text": "caf\u00e9 \u0001 and a short text of its own\twith\ttabs"}, ensure_ascii=False),
        json.dumps({"id": 7, "text": "a numeric id, \"quoted\" and a backslash \\"}, ensure_ascii=True),
    ]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = Config(only=("duplicates",))
    paths = [str(tmp_path / "in.jsonl")]
    got, summary = files_output(paths, config, annotate_only, tmp_path / "out.jsonl")
    assert got == batch_output(paths, config, annotate_only)
    assert summary.clusters == 2 and summary.duplicates == 3


def test_the_cli_takes_this_path_for_jsonl_files(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_corpus(tmp_path / "in")
    monkeypatch.setattr("dedup.cli._scan", lambda *a, **k: pytest.fail("the batch engine was used"))
    out = tmp_path / "out.jsonl"
    result = runner.invoke(main, ["clean", str(tmp_path / "in"), "--only", "duplicates", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "16 documents, 5 clusters, 10 duplicates dropped, 0 skipped" in result.stderr
    assert out.read_bytes() == batch_output([str(tmp_path / "in")], Config(only=("duplicates",)), False)


def test_a_bad_line_is_one_error_and_leaves_no_output(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_corpus(tmp_path / "in")
    monkeypatch.setattr(twopass, "BLOCK", 10_000)
    path = tmp_path / "in" / "a.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[5] = '{"id": "broken", "text": "no end'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(main, ["clean", str(tmp_path / "in"), "--only", "duplicates", "-o", str(out)])
    assert result.exit_code == 2
    with pytest.raises(InputError) as batch:
        scan_documents(read_paths([str(tmp_path / "in")], Config().input), Config())
    assert str(batch.value).startswith(f"{path}:6: invalid JSON")
    assert result.stderr.strip().splitlines() == [f"dedup: error: {batch.value}"]
    assert not out.exists() and list(tmp_path.glob(".out.jsonl.*")) == []


def test_duplicate_ids_and_skipped_lines_as_the_batch_engine(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_corpus(tmp_path / "in")
    monkeypatch.setattr(twopass, "BLOCK", 10_000)
    path = tmp_path / "in" / "b" / "c.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    first = next(iter(read_paths([str(tmp_path / "in")], Config().input)))
    lines[1] = json.dumps({"id": first.id, "text": "another text with a taken id"})
    lines[6] = "[1, 2]"
    # Valid JSON that other checks reject: pass 3 must leave these out without checking again.
    lines += [
        json.dumps({"id": "no-text", "body": "a record without its text"}),
        '{"id": "lone", "text": "a lone surrogate \\ud800 escape"}',
        json.dumps({"id": ["a", "list"], "text": "an id that is a list"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["clean", str(tmp_path / "in"), "--only", "duplicates", "--annotate-only"]
    failed = runner.invoke(main, args)
    assert failed.exit_code == 2
    first_at = tmp_path / "in" / "a.jsonl"
    assert failed.stderr == f"dedup: error: {path}:2: duplicate id {first.id!r} (first seen at {first_at}:1); set --id-field\n"

    out = tmp_path / "out.jsonl"
    result = runner.invoke(main, [*args, "--on-error", "skip", "-o", str(out)])
    assert result.exit_code == 0, result.output
    config = Config(only=("duplicates",))
    config = replace(config, "input", on_error="skip")
    assert out.read_bytes() == batch_output([str(tmp_path / "in")], config, True)
    assert f"dedup: skipped {path}:2: duplicate id {first.id!r}" in result.stderr
    assert f"dedup: skipped {path}:7: expected a JSON object, got list" in result.stderr
    assert f"dedup: skipped {path}:{len(lines)}: field 'id' must be a string or integer" in result.stderr
    assert ", 5 skipped" in result.stderr
    assert b"no-text" not in out.read_bytes() and b"lone" not in out.read_bytes()


def test_other_inputs_are_left_to_the_batch_engine(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text("{}\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("text\n", encoding="utf-8")
    assert twopass.jsonl_inputs([str(tmp_path / "a.jsonl")]) == [twopass.Input(str(tmp_path / "a.jsonl"), str(tmp_path / "a.jsonl"))]
    assert twopass.jsonl_inputs([str(tmp_path)]) is None  # a folder holding a text file
    assert twopass.jsonl_inputs(["-"]) is None
    assert twopass.jsonl_inputs([str(tmp_path / "missing.jsonl")]) is None


def test_a_duplicate_id_in_the_same_block_names_the_first_line(runner: CliRunner, write_jsonl) -> None:
    path = write_jsonl([{"id": "a", "text": "one two three"}, {"id": "b", "text": "four five"}, {"id": "a", "text": "six"}])
    result = runner.invoke(main, ["clean", str(path), "--only", "duplicates"])
    assert result.exit_code == 2
    assert result.stderr == f"dedup: error: {path}:3: duplicate id 'a' (first seen at {path}:1); set --id-field\n"


def test_a_file_changed_between_passes_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The texts are read back from their lines: a file rewritten after the first pass would
    give other texts, so the run stops with one error instead (and writes nothing)."""
    write_corpus(tmp_path / "in")
    path = tmp_path / "in" / "a.jsonl"
    inputs = twopass.jsonl_inputs([str(tmp_path / "in")])
    assert inputs is not None
    real = twopass.group_exact

    def then_append(*args: object, **kwargs: object) -> object:
        result = real(*args, **kwargs)  # type: ignore[arg-type]
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"id": "late", "text": "appended after the first pass"}) + "\n")
        return result

    monkeypatch.setattr(twopass, "group_exact", then_append)
    out = tmp_path / "out.jsonl"
    with out.open("wb") as f, pytest.raises(InputError, match="changed while dedup was reading it"):
        twopass.clean_files(inputs, Config(only=("duplicates",)), f, annotate_only=True)
    assert out.read_bytes() == b""


def test_ids_read_back_as_written() -> None:
    ids = twopass.Ids()
    written = [f"doc-{i}-é" * (i % 3 + 1) for i in range(3000)]
    for start in range(0, 3000, 700):
        ids.extend(written[start : start + 700])
    assert len(ids) == 3000 and list(ids) == written and list(enumerate(ids))[-1] == (2999, written[-1])
    assert ids[-1] == written[-1] and ids[0] == written[0] and ids[10:13] == written[10:13]
    for outside in (3000, 4095, -3001):
        with pytest.raises(IndexError):
            ids[outside]


def test_lines_read_without_json_as_json_reads_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Canonical lines are read in pass 1 without json.loads (dedup.jsonline.record_fields):
    the same ids, sizes, keys and signatures as reading every line with parse_record, for ids
    of every kind, escapes, text that is not ASCII, empty text and lines json must read."""
    page = (SEEDS / "001_8079b883e0f38971.txt").read_text(encoding="utf-8")
    records_ = [
        {"id": "a", "text": page},
        {"id": "q\"uo\\te\u00e9", "text": "tab\there \"quoted\" \\ back\u0001 caf\u00e9 \u2028 北京 𝔘"},
        {"id": 12, "text": page.upper()},
        {"id": -3, "text": ""},
        {"id": None, "text": "null id"},
        {"text": "no id at all İstanbul ǅ ﬁ"},
        {"id": True, "text": "a bool id: refused"},
        {"id": "n", "text": None},
        {"id": "f", "text": "a float elsewhere", "score": 0.5},
        {"id": "s", "text": "   ... !!! "},
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in records_] + ['{"id":"compact","text":"x y z"}']
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    inputs = twopass.jsonl_inputs([str(path)])
    assert inputs is not None
    config = dataclasses.replace(Config().input, on_error="skip")
    block = next(twopass.blocks(inputs))

    def sketch() -> twopass.BlockSketch:
        return twopass._sketch_block(block, inputs=inputs, config=config, k=5, num_perm=64, seed=1)

    parsed: list[int] = []
    real_parse = twopass.parse_record

    def counted(raw: bytes, name: str, line: int, *args: object) -> object:
        parsed.append(line)
        return real_parse(raw, name, line, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(twopass, "parse_record", counted)
    quick = sketch()
    assert parsed == [7, 8, 9, 11]  # a bool id, a null text, a float, compact separators
    monkeypatch.setattr(twopass.jsonline, "record_fields", lambda data, starts, ends, names: np.full((len(starts), len(names), 2), -2))
    slow = sketch()
    assert quick.ids == slow.ids == ["a", "q\"uo\\te\u00e9", "12", "-3", f"{path}:5", f"{path}:6", "f", "s", "compact"]
    assert [reason for _, reason in quick.skipped] == [reason for _, reason in slow.skipped] and len(quick.skipped) == 2
    for name in ("lines", "offsets", "sizes", "chars"):
        assert getattr(quick, name).tolist() == getattr(slow, name).tolist(), name
    assert quick.sketches[0] == slow.sketches[0]
    assert (quick.sketches[1] == slow.sketches[1]).all() and (quick.sketches[2] == slow.sketches[2]).all()


@pytest.mark.parametrize("size", [1, 7, 16, 64, 1 << 20])
def test_blocks_cut_whole_lines_and_count_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    """Blocks (read into one reused buffer) cover each file end to end in whole lines, with
    the line numbers and counts a plain reading gives: a line longer than a block, blank lines,
    CRLF ends, a file without a final newline, an empty file."""
    contents = [
        b'{"text": "a"}\n\n  \n{"text": "' + b"x" * 100 + b'"}\r\n{"text": "b"}\n',
        b"",
        b'{"text": "c"}\n\t\n{"text": "no newline at the end"}',
    ]
    for number, content in enumerate(contents):
        (tmp_path / f"{number}.jsonl").write_bytes(content)
    inputs = twopass.jsonl_inputs([str(tmp_path / f"{n}.jsonl") for n in range(len(contents))])
    assert inputs is not None
    found = list(twopass.blocks(inputs, size))
    if size == 7:  # once: the same reads where the platform has no os.preadv (Windows)
        monkeypatch.delattr(twopass.os, "preadv", raising=False)
    for number, content in enumerate(contents):
        mine = [b for b in found if b.file == number]
        assert [b.start for b in mine[1:]] == [b.end for b in mine[:-1]]
        assert (mine[0].start if mine else 0) == 0 and (mine[-1].end if mine else 0) == len(content)
        lines = content.splitlines(keepends=True)
        assert sum(b.lines for b in mine) == len(lines)
        for block in mine:
            assert block.end == len(content) or content[block.end - 1 : block.end] == b"\n"
            assert block.first_line == content[: block.start].count(b"\n") + 1
            data, non_blank = twopass._read(block, inputs)
            assert data == content[block.start : block.end]
            assert bytes(twopass._reread(block, inputs)) == data
            expected = []
            pos = 0
            for offset, line in enumerate(data.splitlines(keepends=True)):
                if line.strip():
                    expected.append((block.first_line + offset, pos, pos + len(line)))
                pos += len(line)
            assert non_blank == expected


def test_heap_settings_keep_what_a_phase_frees(monkeypatch: pytest.MonkeyPatch) -> None:
    """The thresholds dedup.heap sets (where glibc is): blocks of 128 KiB and more mapped apart
    and given back, except within ``reusing``; a program that did not ask is left alone."""
    from dedup import heap

    calls: list[tuple[str, int, int]] = []

    class Libc:
        def mallopt(self, param: int, value: int) -> int:
            calls.append(("mallopt", param, value))
            return 1

        def malloc_trim(self, pad: int) -> int:
            calls.append(("trim", pad, 0))
            return 1

    monkeypatch.setattr(heap, "_libc", lambda: Libc())
    monkeypatch.setattr(heap, "_returning", False)
    with heap.reusing(1 << 20):
        pass
    assert calls == []  # the program's own settings: not touched
    heap.return_freed_memory()
    assert calls == [("mallopt", -3, heap.SMALL), ("mallopt", -1, heap.KEPT)]
    calls.clear()
    with heap.reusing(64 << 20):
        assert calls == [("mallopt", -3, 64 << 20), ("mallopt", -1, 64 << 20)]
    assert calls[2:] == [("mallopt", -3, heap.SMALL), ("mallopt", -1, heap.KEPT), ("trim", 0, 0)]


def test_a_block_read_short_is_an_error(tmp_path: Path) -> None:
    """Pass 3 reads a block again: a file cut short since pass 1 is an input error naming it,
    never a block of stale bytes."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"text": "a b c"}\n' * 4)
    inputs = twopass.jsonl_inputs([str(path)])
    assert inputs is not None
    block = next(twopass.blocks(inputs))
    path.write_bytes(b'{"text": "a b c"}\n')
    with pytest.raises(InputError, match="changed while dedup was reading it") as caught:
        twopass._reread(block, inputs)
    assert caught.value.path == str(path)
