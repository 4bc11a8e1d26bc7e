"""Readers (text files, folders, JSONL files, JSONL on stdin) and atomic writers.

Readers yield :class:`Document` or, under ``on_error="skip"``, :class:`Skipped` for a bad
record, so that nothing is dropped without a trace.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from .config import InputConfig
from .errors import InputError
from .model import Document, Skipped, Source

TEXT_SUFFIXES = (".txt", ".md")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet",)


_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD]")  # one search: \ is frequent in JSON (\n), so two ``in`` tests cost three times as much


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


def _site_of(record: dict[str, Any], config: InputConfig) -> str | None:
    if config.site_field:
        value = record.get(config.site_field)
        return None if value is None else str(value)
    url = record.get("url")
    if isinstance(url, str) and url:
        host = urlsplit(url).hostname or ""
        return host.removeprefix("www.") or None
    return None


def _check_size(text: str, where: str, config: InputConfig) -> None:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > config.max_doc_bytes:
        raise InputError(
            f"document is {size:,} bytes, over the --max-doc-bytes limit of {config.max_doc_bytes:,}",
            path=where,
        )


def read_text_file(path: Path, doc_id: str, config: InputConfig) -> Document:
    """One ``.txt``/``.md`` file as one document; its text is kept exactly, line endings included."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(path)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"invalid UTF-8 at byte {exc.start}", path=str(path)) from None
    text = text.removeprefix("\ufeff")
    _check_size(text, str(path), config)
    return Document(id=doc_id, text=text, record={"id": doc_id, "text": text}, source=Source(str(path)))


def parse_record(raw: bytes, name: str, lineno: int, config: InputConfig, default_id: str) -> Document:
    """One JSONL line (its bytes) as a Document; :class:`InputError` names ``name:lineno`` and why."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"invalid UTF-8 at byte {exc.start} of the line", path=name, line=lineno) from None
    if lineno == 1:
        line = line.removeprefix("\ufeff")  # a byte order mark, as some editors and exports begin a file
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg} (column {exc.colno})", path=name, line=lineno) from None
    if not isinstance(record, dict):
        raise InputError(f"expected a JSON object, got {type(record).__name__}", path=name, line=lineno)
    if _SURROGATE_ESCAPE.search(raw):
        # JSON can escape lone UTF-16 surrogates, which are not Unicode text and cannot be written back.
        if _has_surrogate(record):
            raise InputError("unpaired UTF-16 surrogate escape (e.g. \\ud800): not valid Unicode text", path=name, line=lineno)
    return record_to_document(record, name, lineno, config, default_id, raw_bytes=len(raw))


def record_to_document(
    record: dict[str, Any], name: str, lineno: int, config: InputConfig, default_id: str, *, raw_bytes: int | None = None
) -> Document:
    """A parsed record (a JSONL line, a Parquet row) as a Document, with the same checks for both.

    ``raw_bytes`` is the size of the JSON line: a JSON string's text never takes more UTF-8
    bytes than its escaped form, so a line within the size limit needs no count of its text.
    """
    text = record.get(config.text_field)
    if text is None:
        raise InputError(f"no {config.text_field!r} field (set --text-field)", path=name, line=lineno)
    if not isinstance(text, str):
        raise InputError(f"field {config.text_field!r} is {type(text).__name__}, not a string", path=name, line=lineno)
    raw_id = record.get(config.id_field)
    if raw_id is None:
        doc_id = default_id
    elif isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool):
        doc_id = str(raw_id)
    else:
        raise InputError(f"field {config.id_field!r} must be a string or integer", path=name, line=lineno)
    try:
        if raw_bytes is None or raw_bytes > config.max_doc_bytes:
            _check_size(text, f"{name}:{lineno}", config)
    except InputError as exc:
        raise InputError(exc.reason, path=name, line=lineno) from None
    return Document(id=doc_id, text=text, record=record, source=Source(name, lineno), site=_site_of(record, config))


def read_jsonl(stream: IO[bytes], name: str, config: InputConfig, *, id_prefix: str = "") -> Iterator[Document | Skipped]:
    """Documents of a JSONL stream, one per non-blank line, read one line at a time.

    A record without the id field gets ``PREFIX:LINE`` (the file and line number) as its id.
    """
    for lineno, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            yield parse_record(raw, name, lineno, config, f"{id_prefix or name}:{lineno}")
        except InputError as exc:
            if config.on_error == "skip":
                yield Skipped(where=f"{name}:{lineno}", reason=exc.reason)
            else:
                raise


def _read_jsonl_path(path: Path, config: InputConfig, id_prefix: str) -> Iterator[Document | Skipped]:
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(path)) from None
    with stream:
        yield from read_jsonl(stream, str(path), config, id_prefix=id_prefix)


def _one_file(path: Path, doc_id: str, config: InputConfig) -> Iterator[Document | Skipped]:
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        yield from _read_jsonl_path(path, config, doc_id)
    elif suffix in PARQUET_SUFFIXES:
        from .parquet import read_parquet

        yield from read_parquet(path, config, id_prefix=doc_id)
    elif suffix in TEXT_SUFFIXES:
        try:
            yield read_text_file(path, doc_id, config)
        except InputError as exc:
            if config.on_error != "skip":
                raise
            yield Skipped(where=str(path), reason=exc.reason)
    else:
        raise InputError(
            f"unsupported file type {suffix or '(none)'!r}: expected .txt, .md, .jsonl or .parquet", path=str(path)
        )


def read_paths(paths: Iterable[str], config: InputConfig, *, stdin: IO[bytes] | None = None) -> Iterator[Document | Skipped]:
    """Documents from files, folders (recursive, sorted) and ``-`` (JSONL on stdin), in order."""
    for arg in paths:
        if arg == "-":
            yield from read_jsonl(stdin if stdin is not None else sys.stdin.buffer, "<stdin>", config)
            continue
        path = Path(arg)
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES + JSONL_SUFFIXES + PARQUET_SUFFIXES
            )
            for file in files:
                yield from _one_file(file, file.relative_to(path).as_posix(), config)
        elif path.exists():
            yield from _one_file(path, path.name if path.suffix.lower() in TEXT_SUFFIXES else str(path), config)
        else:
            raise InputError("no such file or directory", path=arg)


def to_document(item: Any, index: int) -> Document:
    """A :class:`Document` from a string, a mapping with ``text`` (and ``id``), or a Document."""
    if isinstance(item, Document):
        return item
    if isinstance(item, str):
        return Document(id=str(index), text=item, record={"id": str(index), "text": item})
    if isinstance(item, dict):
        text = item.get("text")
        if not isinstance(text, str):
            raise InputError(f"item {index}: no string 'text' field")
        doc_id = str(item.get("id", index))
        return Document(id=doc_id, text=text, record=item)
    raise InputError(f"item {index}: expected str, dict or Document, got {type(item).__name__}")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_output(path: str | None, *, binary: bool = False) -> Iterator[IO[Any]]:
    """A text stream that becomes ``path`` only when the block succeeds (stdout when ``None``/``-``).

    On any error the temporary file is removed, so no partial output is ever left behind.
    """
    if path is None or path == "-":
        stream: IO[Any] = sys.stdout.buffer if binary else sys.stdout
        yield stream
        stream.flush()
        return
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    except OSError as exc:
        raise InputError(f"cannot write output: {exc.strerror}", path=str(target)) from None
    try:
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="\n")) as out:
            yield out
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
