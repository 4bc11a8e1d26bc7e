"""The ``dedup`` command: a thin layer that parses options into a Config and calls the library."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import config as cfg
from .errors import DedupError

if TYPE_CHECKING:
    from .model import Skipped

FAIL_ON = ("duplicates", "repeats", "boilerplate")


class DedupClickError(click.ClickException):
    """A DedupError on its way to the terminal: one line on stderr, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"dedup: error: {self.format_message()}", err=True)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DedupError as exc:
            raise DedupClickError(str(exc)) from None


# (flag, section, field, click options): one flag, one config field.
_FIELD_OPTIONS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("--text-field", "input", "text_field", {"help": "JSON field holding the text [text]."}),
    ("--id-field", "input", "id_field", {"help": "JSON field holding the id [id]; a file's relative path for .txt."}),
    ("--site-field", "input", "site_field", {"help": "Field naming a record's site, for boilerplate evidence [domain of 'url']."}),
    ("--on-error", "input", "on_error",
     {"type": click.Choice(["fail", "skip"]), "help": "Bad records: stop (exit 2) or skip and count them [fail]."}),
    ("--max-doc-bytes", "input", "max_doc_bytes", {"type": int, "help": "Largest document accepted, in bytes [64 MiB]."}),
    ("--threshold", "neardup", "threshold", {"type": float, "help": "Verified similarity for near-duplicates, 0-1 [0.85]."}),
    ("--lsh-threshold", "neardup", "lsh_threshold", {"type": float, "help": "Shingle Jaccard at which LSH proposes candidates [0.3]."}),
    ("--shingle-size", "neardup", "shingle_size", {"type": int, "help": "Words per shingle [5]."}),
    ("--num-perm", "neardup", "num_perm", {"type": int, "help": "MinHash permutations [128]."}),
    ("--seed", "neardup", "seed", {"type": int, "help": "MinHash seed [1]."}),
    ("--keep", "neardup", "keep",
     {"type": click.Choice(cfg.KEEP_POLICIES), "help": "Which document a cluster keeps: earliest in input, or longest [first]."}),
    ("--jobs", "neardup", "jobs", {"type": int, "help": "Processes that fingerprint, sketch and align documents; 0 = all cores [0]."}),
    ("--repeat-threshold", "repeats", "threshold", {"type": float, "help": "Similarity for repeated passages [0.8]."}),
    ("--boilerplate-threshold", "boilerplate", "threshold", {"type": float, "help": "Score at which a line is boilerplate [0.6]."}),
    ("--min-docs", "boilerplate", "min_docs", {"type": int, "help": "Documents a line must appear in to count as corpus evidence [3]."}),
]
_MULTI_OPTIONS: list[tuple[str, str, str, str]] = [
    ("--select", "boilerplate", "select", "Only these rule codes or categories (repeatable)."),
    ("--ignore", "boilerplate", "ignore", "Leave out these rule codes or categories (repeatable)."),
    ("--rules", "boilerplate", "rules", "Extra rule catalogue TOML file (repeatable)."),
]


def _param_name(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Input, near-duplicate, repeat and boilerplate options shared by ``report`` and ``clean``."""
    for flag, _, _, help_text in reversed(_MULTI_OPTIONS):
        func = click.option(flag, multiple=True, help=help_text)(func)
    for flag, _, _, opts in reversed(_FIELD_OPTIONS):
        func = click.option(flag, default=None, **opts)(func)
    func = click.option(
        "--scheduler", metavar="ADDRESS",
        help="With --engine dask: a running scheduler (tcp://host:8786) [a local cluster of --jobs workers].",
    )(func)
    func = click.option(
        "--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
        help="Run in this process, or on Dask (pip install 'dedup[dask]'; input and output as shards).",
    )(func)
    func = click.option(
        "--against", metavar="INDEX", help="Also check against a persistent index (file, or redis://host:port/db); see `dedup index`."
    )(func)
    func = click.option("--only", multiple=True, type=click.Choice(cfg.STAGES), help="Run only these stages (repeatable) [all].")(func)
    func = click.option(
        "--config", "config_path", type=click.Path(dir_okay=False), help="dedup.toml (default: [tool.dedup] of ./pyproject.toml)."
    )(func)
    return click.argument("paths", nargs=-1, required=True)(func)


def build_config(options: dict[str, Any], **extra: Any) -> cfg.Config:
    """The effective Config: file (``--config`` or ``./pyproject.toml``), then flags on top."""
    path = options.pop("config_path", None)
    if path:
        config = cfg.load_config(path)
    elif Path("pyproject.toml").is_file() and _has_tool_dedup(Path("pyproject.toml")):
        config = cfg.load_config("pyproject.toml")
    else:
        config = cfg.Config()
    changes: dict[str, dict[str, Any]] = {}
    for flag, section, name, _ in _FIELD_OPTIONS:
        value = options.pop(_param_name(flag), None)
        if value is not None:
            changes.setdefault(section, {})[name] = value
    for flag, section, name, _ in _MULTI_OPTIONS:
        value = options.pop(_param_name(flag), ())
        if value:
            changes.setdefault(section, {})[name] = tuple(value)
    for key, value in extra.items():
        section, name = key.split(".")
        if value:
            changes.setdefault(section, {})[name] = value
    for section, fields in changes.items():
        config = cfg.replace(config, section, **fields)
    only = options.pop("only", ())
    if only:
        config = dataclasses.replace(config, only=tuple(dict.fromkeys(only)))
    return config


def _has_tool_dedup(path: Path) -> bool:
    import tomllib

    try:
        return "dedup" in tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, tomllib.TOMLDecodeError):
        return False


def _read(paths: tuple[str, ...], config: cfg.Config) -> Any:
    from .io import read_paths

    return read_paths(paths, config.input)


class _Status:
    """A progress bar on stderr, drawn over itself, only when stderr is a terminal."""

    BAR = 30

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.width = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.live:
            return
        if total:
            filled = self.BAR * done // total
            line = f"dedup: {stage:<18} [{'#' * filled}{'.' * (self.BAR - filled)}] {done:,}/{total:,}"
        elif done:
            line = f"dedup: {stage} {done:,} documents…"
        else:
            line = f"dedup: {stage}…"
        sys.stderr.write("\r" + line.ljust(self.width))
        sys.stderr.flush()
        self.width = len(line)

    def done(self) -> None:
        if self.live and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()


def _scan(paths: tuple[str, ...], config: cfg.Config, against: str | None = None) -> tuple[Any, list[Any], dict[str, str]]:
    """Report, documents read, and the texts of every document the report may name."""
    from .pipeline import scan_against, scan_documents

    status = _Status()
    try:
        if against is None:
            result, docs = scan_documents(_read(paths, config), config, status)
            return result, docs, {d.id: d.text for d in docs}
        from .index import open_index

        store = open_index(against, config)
        try:
            result, docs, prior = scan_against(_read(paths, config), config, store, status)
        finally:
            store.close()
        texts = {d.id: d.text for d in prior.docs}
        texts.update({d.id: d.text for d in docs})
        return result, docs, texts
    finally:
        status.done()


def _report_dask(paths: tuple[str, ...], config: cfg.Config, scheduler: str | None) -> tuple[Any, dict[str, str]]:
    from .distributed import client, scan_report, shard_paths

    shards = shard_paths(paths)
    status = _Status()
    try:
        with client(scheduler, config.neardup.jobs or os.cpu_count() or 1):
            report, docs = scan_report(shards, config, progress=status)
    finally:
        status.done()
    return report, {d.id: d.text for d in docs}


def _color(output: str | None) -> bool:
    return output in (None, "-") and sys.stdout.isatty() and "NO_COLOR" not in os.environ


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="dedup")
def main() -> None:
    """Find near-duplicate documents, repeated passages and boilerplate in scraped text."""


@main.command()
@common_options
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json", "html"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), help="Write the report here [stdout].")
@click.option("--fail-on", multiple=True, type=click.Choice(FAIL_ON), help="Exit 1 when findings of this kind exist (repeatable).")
def report(paths: tuple[str, ...], fmt: str, output: str | None, fail_on: tuple[str, ...], **options: Any) -> None:
    """Report near-duplicates, repeats and boilerplate in PATHS (files, folders, or - for stdin JSONL)."""
    from .io import atomic_output
    from .report import render

    against = options.pop("against", None)
    engine, scheduler = options.pop("engine"), options.pop("scheduler", None)
    config = build_config(options)
    if engine == "dask":
        if against:
            raise DedupClickError("--engine dask cannot be used with --against")
        result, texts = _report_dask(paths, config, scheduler)
    else:
        if scheduler:
            raise DedupClickError("--scheduler needs --engine dask")
        result, docs, texts = _scan(paths, config, against)
    rendered = render(result, texts, fmt, color=_color(output))
    with atomic_output(output) as out:
        out.write(rendered)
    for s in result.skipped:
        click.echo(f"dedup: skipped {s.where}: {s.reason}", err=True)
    stats = result.stats
    found = {
        "duplicates": stats["duplicates"] > 0,
        "repeats": stats["repeat_spans"] > 0,
        "boilerplate": stats["boilerplate_spans"] > 0,
    }
    if any(found[k] for k in fail_on):
        sys.exit(1)


@main.command()
@common_options
@click.option(
    "-o", "--output", type=click.Path(allow_dash=True),
    help="Output file: JSONL, or Parquet when it ends in .parquet [stdout, JSONL]; a folder with --engine dask.",
)
@click.option("--annotate-only", is_flag=True, help="Keep every record and its text unchanged; only add annotations.")
@click.option("--keep-boilerplate", is_flag=True, help="Do not cut boilerplate lines from the text.")
@click.option("--keep-repeats", is_flag=True, help="Do not cut repeated passages from the text.")
@click.option("--streaming", is_flag=True, help="Write each record as soon as it is read; keeps the first seen copy (see README).")
def clean(
    paths: tuple[str, ...],
    output: str | None,
    annotate_only: bool,
    keep_boilerplate: bool,
    keep_repeats: bool,
    streaming: bool,
    **options: Any,
) -> None:
    """Write PATHS as JSONL (or Parquet) with a `dedup` annotation; drop duplicates and cut flagged spans."""
    from .io import atomic_output
    from .pipeline import records

    against = options.pop("against", None)
    engine, scheduler = options.pop("engine"), options.pop("scheduler", None)
    config = build_config(
        options, **{"boilerplate.keep_boilerplate": keep_boilerplate, "repeats.keep_repeats": keep_repeats}
    )
    if engine == "dask":
        if streaming or against:
            raise DedupClickError("--engine dask cannot be used with --streaming or --against")
        _clean_dask(paths, config, output, annotate_only, scheduler)
        return
    if scheduler:
        raise DedupClickError("--scheduler needs --engine dask")
    if output and output != "-" and Path(output).is_dir():
        raise DedupClickError(f"{output}: is a folder; give a file (a folder of shards is for --engine dask)")
    if streaming:
        if against:
            raise DedupClickError("--streaming and --against cannot be used together yet")
        _clean_streaming(paths, config, output, annotate_only)
        return
    if against is None and config.only == ("duplicates",) and not (output and output.lower().endswith(".parquet")):
        from .twopass import jsonl_inputs

        inputs = jsonl_inputs(paths)
        if inputs is not None:
            _clean_files(inputs, config, output, annotate_only)
            return
    result, docs, _ = _scan(paths, config, against)
    out_records = records(result, docs, config, annotate_only=annotate_only)
    if output and output.lower().endswith(".parquet"):
        from .parquet import input_schema, write_parquet

        with atomic_output(output, binary=True) as out:
            write_parquet(out_records, out, input_schema=input_schema(paths))
    else:
        with atomic_output(output) as out:
            for record in out_records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    s = result.stats
    _summarise(s["documents"], s["clusters"], s["duplicates"], result.skipped, annotate_only)


def _summarise(documents: int, clusters: int, duplicates: int, skipped: Sequence[Skipped], annotate_only: bool) -> None:
    """The closing lines of `dedup clean` on stderr: counts, then each skipped record and why."""
    click.echo(
        f"dedup: {documents:,} documents, {clusters:,} clusters, {duplicates:,} duplicates"
        f"{' annotated' if annotate_only else ' dropped'}, {len(skipped):,} skipped",
        err=True,
    )
    for sk in skipped:
        click.echo(f"dedup: skipped {sk.where}: {sk.reason}", err=True)


def _clean_files(inputs: Any, config: cfg.Config, output: str | None, annotate_only: bool) -> None:
    """Document-level dedup of JSONL files without holding their texts (same output as the batch run)."""
    from .heap import return_freed_memory
    from .io import atomic_output
    from .twopass import clean_files

    return_freed_memory()
    status = _Status()
    try:
        with atomic_output(output, binary=True) as out:
            summary = clean_files(inputs, config, out, annotate_only=annotate_only, progress=status)
    finally:
        status.done()
    _summarise(summary.documents, summary.clusters, summary.duplicates, summary.skipped, annotate_only)


def _clean_dask(paths: tuple[str, ...], config: cfg.Config, output: str | None, annotate_only: bool, scheduler: str | None) -> None:
    from .distributed import clean_to_shards, client, shard_paths

    if not output or output == "-":
        raise DedupClickError("--engine dask writes shards: give an output folder with -o DIR")
    if Path(output).exists() and not Path(output).is_dir():
        raise DedupClickError(f"{output}: exists and is not a folder (--engine dask writes one shard per input shard)")
    shards = shard_paths(paths)
    status = _Status()
    try:
        with client(scheduler, config.neardup.jobs or os.cpu_count() or 1):
            summary = clean_to_shards(shards, config, output, annotate_only=annotate_only, progress=status)
    finally:
        status.done()
    verb = "annotated" if annotate_only else "dropped"
    click.echo(
        f"dedup: dask, {summary['documents']:,} documents in {summary['shards']} shards, {summary['clusters']:,} clusters, "
        f"{summary['duplicates']:,} duplicates {verb}, {len(summary['skipped']):,} skipped; shards in {output}",
        err=True,
    )
    for where, reason in summary["skipped"]:
        click.echo(f"dedup: skipped {where}: {reason}", err=True)


def _clean_streaming(paths: tuple[str, ...], config: cfg.Config, output: str | None, annotate_only: bool) -> None:
    from .io import atomic_output
    from .streaming import stream_clean

    skipped: list[Skipped] = []
    written = dropped = 0

    def counted() -> Any:
        nonlocal written, dropped
        for record in stream_clean(_read(paths, config), config, annotate_only=annotate_only, skipped=skipped):
            written += 1
            dropped += not record["dedup"]["keep"]
            yield record

    def check_not_empty() -> None:
        # Inside the output block: the error removes the temporary file, no empty output is left.
        if written == 0 and not skipped:
            raise DedupClickError("empty corpus: no documents to read")

    if output and output.lower().endswith(".parquet"):
        from .parquet import input_schema, write_parquet

        with atomic_output(output, binary=True) as out:
            write_parquet(counted(), out, input_schema=input_schema(paths))
            check_not_empty()
    else:
        with atomic_output(output) as out:
            for record in counted():
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
            check_not_empty()
    verb = "annotated" if annotate_only else "dropped"
    click.echo(f"dedup: streaming, {written:,} records written, {dropped:,} duplicates {verb}, {len(skipped):,} skipped", err=True)
    for sk in skipped:
        click.echo(f"dedup: skipped {sk.where}: {sk.reason}", err=True)


@main.command()
@click.argument("code", required=False)
@click.option("--rules", multiple=True, help="Extra rule catalogue TOML file (repeatable).")
def rules(code: str | None, rules: tuple[str, ...]) -> None:
    """List the boilerplate rules and evidence, or explain one (CODE, e.g. B001 or C001)."""
    from .boilerplate import EVIDENCE
    from .boilerplate.catalogue import describe, load_catalogue

    catalogue = load_catalogue(rules)
    click.echo(describe(catalogue, code, EVIDENCE), nl=False)


@main.group(name="config")
def config_group() -> None:
    """Inspect the effective configuration."""


@config_group.command(name="show")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="dedup.toml to read.")
def config_show(config_path: str | None) -> None:
    """Print the effective configuration and its fingerprint as JSON."""
    config = build_config({"config_path": config_path})
    click.echo(json.dumps({"config": config.to_dict(), "fingerprint": config.fingerprint()}, indent=2))


@main.group(name="index")
def index_group() -> None:
    """A persistent index: add documents once, check later batches against them (--against)."""


@index_group.command(name="add")
@click.argument("index")
@common_options
def index_add(index: str, paths: tuple[str, ...], **options: Any) -> None:
    """Add the documents of PATHS to INDEX (an SQLite file, created if missing, or redis://...).

    Prints a JSON summary to stdout: what was added and what it duplicates in the index.
    """
    from .index import add_documents, gather_prior, open_index
    from .pipeline import analyse, collect

    options.pop("against", None)
    if options.pop("engine") != "local" or options.pop("scheduler", None):
        raise DedupClickError("dedup index add runs on the local engine only")
    config = build_config(options)
    status = _Status()
    store = open_index(index, config, create=True)
    try:
        docs, skipped = collect(_read(paths, config), config, status)
        prior = gather_prior(store, docs, config)
        result = analyse(docs, skipped, config, status, prior)
        status("writing the index", 0, 0)
        store.apply(add_documents(store, docs, result, prior, config))
    finally:
        status.done()
        store.close()
    stats = result.stats
    summary = {
        "index": index,
        "added": len(docs),
        "skipped": len(result.skipped),
        "duplicates": stats["duplicates"],
        "repeat_spans": stats["repeat_spans"],
        "boilerplate_spans": stats["boilerplate_spans"],
    }
    click.echo(json.dumps(summary))
    for sk in result.skipped:
        click.echo(f"dedup: skipped {sk.where}: {sk.reason}", err=True)


@index_group.command(name="stats")
@click.argument("index")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="dedup.toml to read.")
def index_stats(index: str, config_path: str | None) -> None:
    """Print counts and sizes of INDEX as JSON."""
    from .index import open_index

    store = open_index(index, build_config({"config_path": config_path}), for_stages=False)
    try:
        data = {**store.stats(), "settings": store.settings()}
    finally:
        store.close()
    click.echo(json.dumps(data, indent=2))


@index_group.command(name="remove")
@click.argument("index")
@click.argument("ids", nargs=-1, required=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="dedup.toml to read.")
def index_remove(index: str, ids: tuple[str, ...], config_path: str | None) -> None:
    """Remove documents by id from INDEX."""
    from .index import open_index, remove_documents

    config = build_config({"config_path": config_path})
    store = open_index(index, config, for_stages=False)
    try:
        store.apply(remove_documents(store, list(dict.fromkeys(ids)), config))
    finally:
        store.close()
    click.echo(json.dumps({"index": index, "removed": len(set(ids))}))
