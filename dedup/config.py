"""Configuration: one frozen dataclass per stage, held by :class:`Config`.

Every field maps to one CLI flag and to one key of a ``dedup.toml`` file (or of
``[tool.dedup]`` in ``pyproject.toml``); bad values raise :class:`ConfigError` saying how to fix them.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

STAGES = ("duplicates", "repeats", "boilerplate")
KEEP_POLICIES = ("first", "longest")
SCHEMES = ("affine32",)


def _check_unit(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be between 0 and 1, got {value}")


def _check_positive(name: str, value: int, minimum: int = 1) -> None:
    if value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value}")


@dataclass(frozen=True, slots=True)
class InputConfig:
    """How records are read."""

    text_field: str = "text"
    id_field: str = "id"
    site_field: str | None = None
    on_error: str = "fail"
    max_doc_bytes: int = 64 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.on_error not in ("fail", "skip"):
            raise ConfigError(f"on_error must be 'fail' or 'skip', got {self.on_error!r}")
        _check_positive("max_doc_bytes", self.max_doc_bytes)


@dataclass(frozen=True, slots=True)
class NearDupConfig:
    """Document-level near-duplicates.

    ``threshold`` is the verified similarity (rapidfuzz Indel similarity of the normalised
    word sequences, 2·LCS/(|a|+|b|)) above which two documents are near-duplicates; the default
    comes from the Webis benchmark (README, "Choosing the threshold"). ``lsh_threshold`` is the
    shingle Jaccard at which LSH proposes candidates; it is set low so that no pair above
    ``threshold`` is missed, since every candidate is verified anyway.
    """

    threshold: float = 0.85
    lsh_threshold: float = 0.3
    shingle_size: int = 5
    num_perm: int = 128
    seed: int = 1
    scheme: str = "affine32"
    keep: str = "first"
    jobs: int = 0

    def __post_init__(self) -> None:
        _check_unit("threshold", self.threshold)
        _check_unit("lsh_threshold", self.lsh_threshold)
        if self.lsh_threshold == 0.0:
            raise ConfigError("lsh_threshold must be above 0 (try 0.3)")
        _check_positive("shingle_size", self.shingle_size)
        _check_positive("num_perm", self.num_perm, 2)
        if self.scheme not in SCHEMES:
            raise ConfigError(f"scheme must be one of {', '.join(SCHEMES)}, got {self.scheme!r}")
        if self.jobs < 0:
            raise ConfigError(f"jobs must be 0 (all cores) or a positive number of processes, got {self.jobs}")
        if self.keep not in KEEP_POLICIES:
            raise ConfigError(f"keep must be one of {', '.join(KEEP_POLICIES)}, got {self.keep!r}")


@dataclass(frozen=True, slots=True)
class RepeatsConfig:
    """Repeated passages within and across documents."""

    threshold: float = 0.8
    min_words: int = 8
    containment_threshold: float = 0.8
    keep_repeats: bool = False

    def __post_init__(self) -> None:
        _check_unit("repeats.threshold", self.threshold)
        _check_unit("repeats.containment_threshold", self.containment_threshold)
        _check_positive("repeats.min_words", self.min_words)


@dataclass(frozen=True, slots=True)
class BoilerplateConfig:
    """Boilerplate lines: rule catalogue plus corpus and position evidence."""

    threshold: float = 0.6
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    min_docs: int = 3
    keep_boilerplate: bool = False

    def __post_init__(self) -> None:
        _check_unit("boilerplate.threshold", self.threshold)
        _check_positive("boilerplate.min_docs", self.min_docs, 2)


@dataclass(frozen=True, slots=True)
class Config:
    """All settings of one run."""

    input: InputConfig = field(default_factory=InputConfig)
    neardup: NearDupConfig = field(default_factory=NearDupConfig)
    repeats: RepeatsConfig = field(default_factory=RepeatsConfig)
    boilerplate: BoilerplateConfig = field(default_factory=BoilerplateConfig)
    only: tuple[str, ...] = STAGES

    def __post_init__(self) -> None:
        bad = [s for s in self.only if s not in STAGES]
        if bad or not self.only:
            raise ConfigError(f"only must name stages among {', '.join(STAGES)}, got {list(self.only)}")

    def runs(self, stage: str) -> bool:
        """Whether ``stage`` (one of :data:`STAGES`) is part of this run."""
        return stage in self.only

    def to_dict(self) -> dict[str, Any]:
        """The configuration as plain data (what ``dedup config show`` prints)."""
        return dataclasses.asdict(self)

    def fingerprint(self) -> dict[str, Any]:
        """Settings that change results, package versions, and a short hash of them all."""
        from importlib.metadata import PackageNotFoundError, version

        versions = {}
        for pkg in ("dedup", "datasketch", "rapidfuzz"):
            try:
                versions[pkg] = version(pkg)
            except PackageNotFoundError:
                versions[pkg] = "unknown"
        data = self.to_dict()
        data["neardup"].pop("keep", None)
        data["neardup"].pop("jobs", None)
        data["repeats"].pop("keep_repeats", None)
        data["boilerplate"].pop("keep_boilerplate", None)
        data.pop("input", None)
        blob = json.dumps({"config": data, "versions": versions}, sort_keys=True)
        return {
            "hash": hashlib.sha256(blob.encode()).hexdigest()[:16],
            "minhash": {
                "scheme": self.neardup.scheme,
                "seed": self.neardup.seed,
                "num_perm": self.neardup.num_perm,
                "shingle_size": self.neardup.shingle_size,
            },
            "versions": versions,
        }


_SECTIONS: dict[str, type] = {
    "input": InputConfig,
    "neardup": NearDupConfig,
    "repeats": RepeatsConfig,
    "boilerplate": BoilerplateConfig,
}


def _unknown(key: str, valid: list[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(sorted(valid))}"
    return ConfigError(f"{where}: unknown key {key!r}{hint}")


def _section(cls: type, values: Mapping[str, Any], where: str) -> Any:
    names = [f.name for f in dataclasses.fields(cls)]
    for key in values:
        if key not in names:
            raise _unknown(key, names, where)
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def config_from_mapping(data: Mapping[str, Any], *, where: str = "config") -> Config:
    """Build a :class:`Config` from nested plain data (the shape of ``dedup.toml``).

    >>> config_from_mapping({"neardup": {"threshold": 0.9}}).neardup.threshold
    0.9
    """
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key == "only":
            kwargs["only"] = tuple(value)
        elif key in _SECTIONS:
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: [{key}] must be a table")
            kwargs[key] = _section(_SECTIONS[key], value, f"{where} [{key}]")
        else:
            raise _unknown(key, [*_SECTIONS, "only"], where)
    return Config(**kwargs)


def load_config(path: str | Path) -> Config:
    """Read ``dedup.toml``, or the ``[tool.dedup]`` table of a ``pyproject.toml``."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: invalid TOML: {exc}") from None
    if p.name == "pyproject.toml":
        data = data.get("tool", {}).get("dedup", {})
    return config_from_mapping(data, where=str(p))


def replace(config: Config, section: str, **changes: Any) -> Config:
    """A copy of ``config`` with fields of one section changed (validated again)."""
    if not changes:
        return config
    current = getattr(config, section)
    return dataclasses.replace(config, **{section: dataclasses.replace(current, **changes)})
