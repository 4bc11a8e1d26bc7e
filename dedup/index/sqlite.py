"""The embedded index: one SQLite file, no server.

Every ``add`` or ``remove`` is one transaction in SQLite's rollback-journal mode with
``synchronous=FULL``: a process killed mid-write leaves a hot journal that the next open rolls
back, so the file holds either all of the change or none of it. Look-up tables are
``WITHOUT ROWID`` tables keyed by (key, row), so a look-up is one B-tree search per key.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..errors import IndexStoreError
from .store import Change, StoredDoc, encode_spans, encode_text

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    row INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, rep INTEGER NOT NULL, site TEXT NOT NULL,
    exact BLOB NOT NULL, sig BLOB NOT NULL, text BLOB NOT NULL, spans TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_rep ON docs (rep);
CREATE INDEX IF NOT EXISTS docs_exact ON docs (exact);
CREATE TABLE IF NOT EXISTS bands (key INTEGER NOT NULL, row INTEGER NOT NULL, PRIMARY KEY (key, row)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS passages (key INTEGER NOT NULL, row INTEGER NOT NULL, PRIMARY KEY (key, row)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lines (
    key INTEGER NOT NULL, site TEXT NOT NULL, docs INTEGER NOT NULL, PRIMARY KEY (key, site)
) WITHOUT ROWID;
"""


class SQLiteStore:
    """An index in one SQLite file at ``path``."""

    def __init__(self, path: str | Path, *, create: bool) -> None:
        self.location = str(path)
        p = Path(path)
        if not create and not p.exists():
            raise IndexStoreError(f"{p}: no such index (create one with `dedup index add {p} PATH...`)")
        if p.exists() and p.is_dir():
            raise IndexStoreError(f"{p}: is a folder, not an index file")
        try:
            self.db = sqlite3.connect(p, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=DELETE")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA temp_store=MEMORY")
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if tables and "meta" not in tables:
                raise IndexStoreError(f"{p}: an SQLite file, but not a dedup index")
            if not tables:
                self.db.executescript(_SCHEMA)
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS q (key INTEGER PRIMARY KEY)")
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS qb (key BLOB PRIMARY KEY)")
        except sqlite3.DatabaseError as exc:
            raise IndexStoreError(f"{p}: not a dedup index ({exc})") from None

    # -- reading ---------------------------------------------------------------------------

    def settings(self) -> dict[str, object] | None:
        row = self.db.execute("SELECT value FROM meta WHERE key='settings'").fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def create(self, settings: Mapping[str, object]) -> None:
        with self._transaction():
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('settings', ?)", (json.dumps(dict(settings), sort_keys=True),))
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('next_row', '0')")

    def next_row(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key='next_row'").fetchone()
        return int(row[0]) if row else 0

    def reserve(self, n: int) -> int:
        # One writer at a time: ``apply`` checks that nobody added rows since.
        return self.next_row()

    def _keys(self, keys: Iterable[int]) -> None:
        self.db.execute("DELETE FROM q")
        self.db.executemany("INSERT OR IGNORE INTO q VALUES (?)", ((k,) for k in keys))

    def rows_of(self, ids: Iterable[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        id_list = list(ids)
        for start in range(0, len(id_list), 500):
            part = id_list[start : start + 500]
            marks = ",".join("?" * len(part))
            found.update(self.db.execute(f"SELECT id, row FROM docs WHERE id IN ({marks})", part).fetchall())
        return found

    def band_matches(self, keys: Iterable[int]) -> list[tuple[int, int]]:
        self._keys(keys)
        return [(int(k), int(r)) for k, r in self.db.execute("SELECT b.key, b.row FROM q JOIN bands b ON b.key = q.key")]

    def exact_matches(self, keys: Iterable[bytes]) -> list[tuple[bytes, int]]:
        self.db.execute("DELETE FROM qb")
        self.db.executemany("INSERT OR IGNORE INTO qb VALUES (?)", ((k,) for k in keys))
        return [(bytes(k), int(r)) for k, r in self.db.execute("SELECT d.exact, d.row FROM qb JOIN docs d ON d.exact = qb.key")]

    def passage_matches(self, keys: Iterable[int], *, per_key: int) -> set[int]:
        self._keys(keys)
        found: set[int] = set()
        for (key,) in self.db.execute("SELECT key FROM q"):
            found.update(r for (r,) in self.db.execute("SELECT row FROM passages WHERE key = ? ORDER BY row LIMIT ?", (key, per_key)))
        return found

    def signatures(self, rows: Iterable[int]) -> dict[int, bytes]:
        self._keys(rows)
        return {int(r): bytes(s) for r, s in self.db.execute("SELECT d.row, d.sig FROM q JOIN docs d ON d.row = q.key")}

    def load(self, rows: Iterable[int]) -> list[StoredDoc]:
        self._keys(rows)
        out = []
        for row, doc_id, rep, site, text, spans, exact, sig in self.db.execute(
            "SELECT d.row, d.id, d.rep, d.site, d.text, d.spans, d.exact, d.sig FROM q JOIN docs d ON d.row = q.key ORDER BY d.row"
        ):
            out.append(StoredDoc.decode(int(row), doc_id, int(rep), site, text, spans, exact, sig))
        return out

    def members(self, reps: Iterable[int]) -> dict[int, list[int]]:
        self._keys(reps)
        out: dict[int, list[int]] = {}
        for rep, row in self.db.execute("SELECT d.rep, d.row FROM q JOIN docs d ON d.rep = q.key ORDER BY d.row"):
            out.setdefault(int(rep), []).append(int(row))
        return out

    def line_counts(self, keys: Iterable[int]) -> dict[int, dict[str, int]]:
        self._keys(keys)
        out: dict[int, dict[str, int]] = {}
        for key, site, docs in self.db.execute("SELECT l.key, l.site, l.docs FROM q JOIN lines l ON l.key = q.key"):
            out.setdefault(int(key), {})[site] = int(docs)
        return out

    def stats(self) -> dict[str, object]:
        def count(sql: str) -> int:
            return int(self.db.execute(sql).fetchone()[0])

        return {
            "location": self.location,
            "backend": "sqlite",
            "documents": count("SELECT COUNT(*) FROM docs"),
            "kept_documents": count("SELECT COUNT(*) FROM docs WHERE rep = row"),
            "band_keys": count("SELECT COUNT(*) FROM bands"),
            "passage_keys": count("SELECT COUNT(*) FROM passages"),
            "line_keys": count("SELECT COUNT(*) FROM lines"),
            "text_bytes_compressed": count("SELECT COALESCE(SUM(LENGTH(text)), 0) FROM docs"),
            "file_bytes": Path(self.location).stat().st_size,
        }

    # -- writing ---------------------------------------------------------------------------

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)

    def apply(self, change: Change) -> None:
        db = self.db
        with self._transaction():
            if change.add and self.next_row() != change.add[0].row:
                raise IndexStoreError(f"{self.location}: another process added documents meanwhile; run the add again")
            for row, _, _, keys in change.remove:
                db.execute("DELETE FROM docs WHERE row = ?", (row,))
                db.executemany("DELETE FROM bands WHERE key = ? AND row = ?", ((k, row) for k in keys.tolist()))
            for r in change.add:
                db.execute(
                    "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        r.row, r.id, r.rep, r.site, r.exact, r.signature,
                        encode_text(r.text), encode_spans(r.spans),
                    ),
                )
                db.executemany("INSERT OR IGNORE INTO bands VALUES (?, ?)", ((k, r.row) for k in r.band_keys.tolist()))
                db.executemany("INSERT OR IGNORE INTO passages VALUES (?, ?)", ((k, r.row) for k in r.passage_keys.tolist()))
            db.executemany("UPDATE docs SET rep = ? WHERE row = ?", ((rep, row) for row, rep in change.reps.items()))
            for row, keys in change.passages_off.items():
                db.executemany("DELETE FROM passages WHERE key = ? AND row = ?", ((k, row) for k in keys.tolist()))
            for row, keys in change.passages_on.items():
                db.executemany("INSERT OR IGNORE INTO passages VALUES (?, ?)", ((k, row) for k in keys.tolist()))
            db.executemany(
                "INSERT INTO lines VALUES (?, ?, ?) ON CONFLICT (key, site) DO UPDATE SET docs = docs + excluded.docs",
                ((k, site, n) for (k, site), n in change.lines.items()),
            )
            db.execute("DELETE FROM lines WHERE docs <= 0")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('next_row', ?)", (str(change.next_row),))

    def close(self) -> None:
        self.db.close()


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        if kind is None:
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")
