"""The command line: exit codes 0/1/2, data on stdout, one-line errors on stderr, no partial files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup.cli import main

from .conftest import DATA, SEEDS, read_jsonl


def test_report_on_seeds_exits_zero(runner: CliRunner) -> None:
    result = runner.invoke(main, ["report", str(SEEDS)])
    assert result.exit_code == 0, result.output
    assert "5 documents" in result.output
    assert "near-duplicate clusters  0" in result.output


def test_report_json_is_the_only_thing_on_stdout(runner: CliRunner) -> None:
    result = runner.invoke(main, ["report", str(DATA / "near.jsonl"), "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["summary"]["clusters"] == 1
    assert data["clusters"][0]["keep"] == "a"


def test_clean_drops_duplicates_and_keeps_order(runner: CliRunner) -> None:
    result = runner.invoke(main, ["clean", str(DATA / "near.jsonl")])
    assert result.exit_code == 0
    records = read_jsonl(result.stdout)
    assert [r["id"] for r in records] == ["a", "b", "d"]
    assert records[0]["url"] == "https://news.example.com/a"  # input fields preserved
    assert "dropped" in result.stderr


def test_annotate_only_keeps_every_record_and_text(runner: CliRunner) -> None:
    src = [json.loads(line) for line in (DATA / "near.jsonl").read_text().splitlines()]
    result = runner.invoke(main, ["clean", str(DATA / "near.jsonl"), "--annotate-only"])
    records = read_jsonl(result.stdout)
    assert [r["text"] for r in records] == [r["text"] for r in src]
    by_id = {r["id"]: r["dedup"] for r in records}
    assert by_id["c"]["duplicate_of"] == "a" and by_id["c"]["keep"] is False
    assert by_id["e"]["similarity"] == 1.0
    assert by_id["b"]["cluster"] is None and by_id["b"]["keep"] is True


def test_keep_longest_policy(runner: CliRunner, write_jsonl) -> None:
    text = "one two three four five six seven eight nine ten eleven twelve"
    path = write_jsonl([{"id": "short", "text": text}, {"id": "long", "text": text + " thirteen"}])
    result = runner.invoke(main, ["clean", str(path), "--keep", "longest", "--threshold", "0.8"])
    assert [r["id"] for r in read_jsonl(result.stdout)] == ["long"]


def test_output_file_is_written(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = runner.invoke(main, ["clean", str(DATA / "near.jsonl"), "-o", str(out)])
    assert result.exit_code == 0
    assert len(read_jsonl(out.read_text())) == 3
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"id": "x", "text": "fine"}\n{not json}\n', "in.jsonl:2: invalid JSON"),
        (b'{"id": "x", "body": "no text"}\n', "in.jsonl:1: no 'text' field"),
        (b'{"id": "x", "text": "a"}\n{"id": "x", "text": "b"}\n', "in.jsonl:2: duplicate id 'x'"),
        (b'{"id": "x", "text": "caf\xe9"}\n', "in.jsonl:1: invalid UTF-8"),
        (b'[1, 2]\n', "in.jsonl:1: expected a JSON object"),
        (b'{"id": "x", "text": 5}\n', "in.jsonl:1: field 'text' is int"),
        (b"\n\n", "empty corpus"),
        (b'{"id": "x", "text": "lone \\ud800 surrogate"}\n', "in.jsonl:1: unpaired UTF-16 surrogate"),
    ],
)
def test_bad_input_one_line_exit_2_no_output(runner: CliRunner, tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(content)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(main, ["clean", str(path), "-o", str(out)])
    assert result.exit_code == 2
    assert reason in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind either


@pytest.mark.parametrize("only", [["--only", "duplicates"], []])
def test_a_byte_order_mark_before_the_first_line_is_read_past(runner: CliRunner, tmp_path: Path, only: list[str]) -> None:
    """Some editors and exports begin a UTF-8 file with a byte order mark: the records are
    those of the file without it (with either engine), and the output carries none. Anywhere
    else it is bad input."""
    rows = [{"id": "a", "text": "one text about the river and the bridge"}, {"id": "b", "text": "one text about the river and the bridge"}]
    body = "".join(json.dumps(r) + "\n" for r in rows).encode("utf-8")
    plain, marked = tmp_path / "plain.jsonl", tmp_path / "marked.jsonl"
    plain.write_bytes(body)
    marked.write_bytes(b"\xef\xbb\xbf" + body)
    outs = []
    for path in (plain, marked):
        out = tmp_path / f"{path.stem}.out.jsonl"
        result = runner.invoke(main, ["clean", str(path), "--annotate-only", *only, "-o", str(out)])
        assert result.exit_code == 0, result.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] and outs[1].startswith(b'{"id": "a"')
    assert [r["dedup"]["duplicate_of"] for r in map(json.loads, outs[1].splitlines())] == [None, "a"]

    later = tmp_path / "later.jsonl"
    later.write_bytes(body + b"\xef\xbb\xbf" + body)
    result = runner.invoke(main, ["clean", str(later), *only])
    assert result.exit_code == 2
    assert f"{later}:3: invalid JSON" in result.stderr


def test_invalid_utf8_text_file(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\n\xff\xfe broken")
    result = runner.invoke(main, ["report", str(bad)])
    assert result.exit_code == 2
    assert "bad.txt: invalid UTF-8 at byte 3" in result.stderr


def test_missing_path(runner: CliRunner) -> None:
    result = runner.invoke(main, ["report", "does/not/exist.jsonl"])
    assert result.exit_code == 2
    assert "does/not/exist.jsonl: no such file or directory" in result.stderr


@pytest.mark.parametrize("value", ["-0.1", "1.5"])
def test_threshold_out_of_range(runner: CliRunner, value: str) -> None:
    result = runner.invoke(main, ["report", str(SEEDS), "--threshold", value])
    assert result.exit_code == 2
    assert "threshold must be between 0 and 1" in result.stderr


def test_on_error_skip_counts_and_keeps_good_records(runner: CliRunner) -> None:
    result = runner.invoke(main, ["clean", str(DATA / "bad_line.jsonl"), "--on-error", "skip", "--annotate-only"])
    assert result.exit_code == 0
    assert [r["id"] for r in read_jsonl(result.stdout)] == ["a", "b"]
    assert "1 skipped" in result.stderr
    assert "bad_line.jsonl:2" in result.stderr


def test_escaped_surrogate_pair_is_fine(runner: CliRunner, write_jsonl) -> None:
    path = write_jsonl(['{"id": "x", "text": "smile \\ud83d\\ude00"}'])
    result = runner.invoke(main, ["clean", str(path), "--annotate-only"])
    assert result.exit_code == 0
    assert read_jsonl(result.stdout)[0]["text"] == "smile \U0001F600"


def test_stdin_jsonl(runner: CliRunner) -> None:
    data = (DATA / "near.jsonl").read_text()
    result = runner.invoke(main, ["clean", "-", "--annotate-only"], input=data)
    assert result.exit_code == 0
    assert len(read_jsonl(result.stdout)) == 5


def test_fail_on(runner: CliRunner) -> None:
    assert runner.invoke(main, ["report", str(DATA / "near.jsonl"), "--fail-on", "duplicates"]).exit_code == 1
    assert runner.invoke(main, ["report", str(SEEDS), "--fail-on", "duplicates"]).exit_code == 0
    assert runner.invoke(main, ["report", str(SEEDS), "--fail-on", "repeats"]).exit_code == 1


def test_empty_and_short_documents(runner: CliRunner, write_jsonl) -> None:
    path = write_jsonl([{"id": "e1", "text": ""}, {"id": "s1", "text": "Hi."}, {"id": "e2", "text": ""}, {"id": "s2", "text": "hi"}])
    result = runner.invoke(main, ["clean", str(path), "--annotate-only"])
    assert result.exit_code == 0
    ann = {r["id"]: r["dedup"] for r in read_jsonl(result.stdout)}
    assert ann["e1"]["cluster"] == ann["e2"]["cluster"] is not None
    assert ann["s1"]["cluster"] == ann["s2"]["cluster"] is not None  # same words: exact copies
    assert ann["s1"]["cluster"] != ann["e1"]["cluster"]


def test_deterministic_output(runner: CliRunner) -> None:
    first = runner.invoke(main, ["clean", str(SEEDS), "--annotate-only"]).stdout
    second = runner.invoke(main, ["clean", str(SEEDS), "--annotate-only"]).stdout
    assert first == second


def test_rules_command(runner: CliRunner) -> None:
    listing = runner.invoke(main, ["rules"])
    assert listing.exit_code == 0 and "B001" in listing.output
    one = runner.invoke(main, ["rules", "B003"])
    assert "Akismet" in one.output
    assert runner.invoke(main, ["rules", "B999"]).exit_code == 2
    # The evidence that is not a rule, whose codes spans carry too, is listed and explained.
    assert [line.split()[:2] for line in listing.output.splitlines()[-2:]] == [["C001", "corpus"], ["M001", "model"]]
    corpus = runner.invoke(main, ["rules", "C001"])
    assert corpus.exit_code == 0 and "--min-docs" in corpus.output and "after deduplication" in corpus.output
    assert runner.invoke(main, ["rules", "model"]).output.startswith("M001 model (page)")


def test_rules_command_loads_no_compiled_kernel() -> None:
    """Listing the rules loads the catalogue (with its phrases that are not ASCII) but not
    numba, whose import and cached kernels took a second of `dedup rules`' 1.5."""
    code = (
        "import sys\n"
        "from dedup.cli import main\n"
        "try:\n    main(['rules'])\nexcept SystemExit:\n    pass\n"
        "assert 'numba' not in sys.modules, 'numba was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "B001" in done.stdout


def test_select_and_ignore(runner: CliRunner) -> None:
    ignored = runner.invoke(main, ["clean", str(SEEDS), "--annotate-only", "--ignore", "ad-blocker"])
    spans = [s for r in read_jsonl(ignored.stdout) for s in r["dedup"]["boilerplate"]]
    assert spans and all(s["category"] != "ad-blocker" for s in spans)
    selected = runner.invoke(main, ["clean", str(SEEDS), "--annotate-only", "--select", "B001"])
    spans = [s for r in read_jsonl(selected.stdout) for s in r["dedup"]["boilerplate"]]
    assert {s["rule"] for s in spans} == {"B001"}


def test_config_file_and_unknown_key(runner: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "dedup.toml"
    good.write_text("[neardup]\nthreshold = 0.9\n")
    shown = runner.invoke(main, ["config", "show", "--config", str(good)])
    assert json.loads(shown.stdout)["config"]["neardup"]["threshold"] == 0.9
    bad = tmp_path / "bad.toml"
    bad.write_text("[neardup]\nthreshhold = 0.9\n")
    result = runner.invoke(main, ["report", str(SEEDS), "--config", str(bad)])
    assert result.exit_code == 2
    assert "did you mean 'threshold'" in result.stderr


def test_progress_is_silent_when_not_a_terminal(runner: CliRunner) -> None:
    result = runner.invoke(main, ["report", str(SEEDS)])
    assert result.exit_code == 0 and result.stderr == ""


def test_progress_bar_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from dedup.cli import _Status

    status = _Status()
    status.live = True  # what a terminal on stderr sets
    status("boilerplate", 500, 2000)
    status("boilerplate", 2000, 2000)
    status.done()
    err = capsys.readouterr().err
    assert "[#######.......................] 500/2,000" in err
    assert "[##############################] 2,000/2,000" in err
    assert err.endswith("\r")  # the line is cleared at the end


def test_document_over_the_size_limit(runner: CliRunner, write_jsonl, tmp_path: Path) -> None:
    path = write_jsonl([{"id": "small", "text": "fine"}, {"id": "big", "text": "x" * 5000}])
    out = tmp_path / "out.jsonl"
    result = runner.invoke(main, ["clean", str(path), "--max-doc-bytes", "1000", "-o", str(out)])
    assert result.exit_code == 2
    assert "in.jsonl:2: document is 5,000 bytes, over the --max-doc-bytes limit of 1,000" in result.stderr
    assert not out.exists()
    skipped = runner.invoke(main, ["clean", str(path), "--max-doc-bytes", "1000", "--on-error", "skip"])
    assert [r["id"] for r in read_jsonl(skipped.stdout)] == ["small"]


def test_streaming_keeps_the_first_seen_copy(runner: CliRunner) -> None:
    result = runner.invoke(main, ["clean", "-", "--streaming", "--annotate-only"], input=(DATA / "near.jsonl").read_text())
    assert result.exit_code == 0
    records = read_jsonl(result.stdout)
    src = [json.loads(line) for line in (DATA / "near.jsonl").read_text().splitlines()]
    assert [r["text"] for r in records] == [r["text"] for r in src]
    by_id = {r["id"]: r["dedup"] for r in records}
    assert by_id["e"]["duplicate_of"] == "a" and by_id["e"]["similarity"] == 1.0
    assert by_id["c"]["duplicate_of"] == "a" and not by_id["c"]["keep"]
    assert by_id["a"]["keep"] and by_id["a"]["cluster"] is None  # written before its copies were seen
    cleaned = runner.invoke(main, ["clean", str(DATA / "near.jsonl"), "--streaming"])
    assert [r["id"] for r in read_jsonl(cleaned.stdout)] == ["a", "b", "d"]


def test_streaming_strips_boilerplate_and_fails_cleanly(runner: CliRunner, tmp_path: Path) -> None:
    seeds = read_jsonl(runner.invoke(main, ["clean", str(SEEDS), "--streaming"]).stdout)
    assert all("Adblock Detected" not in r["text"] for r in seeds)
    bad = tmp_path / "in.jsonl"
    bad.write_text('{"id": "a", "text": "one"}\n{broken\n')
    out = tmp_path / "out.jsonl"
    result = runner.invoke(main, ["clean", str(bad), "--streaming", "-o", str(out)])
    assert result.exit_code == 2 and "in.jsonl:2: invalid JSON" in result.stderr
    assert not out.exists()


def test_evidence_kinds_can_be_picked_like_rules(runner: CliRunner) -> None:
    for args in (["--ignore", "corpus"], ["--ignore", "M001"], ["--select", "C001"]):
        result = runner.invoke(main, ["clean", str(SEEDS), "--annotate-only", *args])
        assert result.exit_code == 0, result.stderr
    only_corpus = runner.invoke(main, ["clean", str(SEEDS), "--annotate-only", "--select", "C001"])
    assert all(s["rule"] == "C001" for r in read_jsonl(only_corpus.stdout) for s in r["dedup"]["boilerplate"])


def test_tool_dedup_table_of_pyproject_is_read(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.dedup.neardup]\nkeep = "longest"\n')
    monkeypatch.chdir(tmp_path)
    shown = json.loads(runner.invoke(main, ["config", "show"]).stdout)
    assert shown["config"]["neardup"]["keep"] == "longest"
    assert len(shown["fingerprint"]["hash"]) == 16


def test_streaming_empty_corpus_leaves_no_file(runner: CliRunner, tmp_path: Path) -> None:
    empty = tmp_path / "in.jsonl"
    empty.write_text("\n")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(main, ["clean", str(empty), "--streaming", "-o", str(out)])
    assert result.exit_code == 2 and "empty corpus" in result.stderr
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["in.jsonl"]
