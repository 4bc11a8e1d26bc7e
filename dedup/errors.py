"""Errors raised by dedup.

The library never prints or exits; the CLI turns a :class:`DedupError` into one line on stderr
and exit code 2.

    DedupError
    ├── ConfigError      bad option or config value
    ├── InputError       unreadable file, bad JSON line, missing text field, duplicate id
    └── IndexStoreError  persisted index missing, corrupt or built with another config
"""

from __future__ import annotations


class DedupError(Exception):
    """Base class of every error dedup raises on purpose."""


class ConfigError(DedupError):
    """An option or configuration value is out of range or unknown."""


class InputError(DedupError):
    """Input that cannot be read: the message names the file, the line and the reason."""

    def __init__(self, reason: str, *, path: str | None = None, line: int | None = None) -> None:
        self.reason = reason
        self.path = path
        self.line = line
        where = path or ""
        if path is not None and line is not None:
            where = f"{path}:{line}"
        super().__init__(f"{where}: {reason}" if where else reason)


class IndexStoreError(DedupError):
    """A persisted index is missing, corrupt, or was built with another configuration."""
