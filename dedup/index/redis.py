"""A shared index on a Redis server, for several workers (``pip install 'dedup[redis]'``).

Location: ``redis://host:port/db``, with ``?prefix=NAME`` to keep several indexes in one
database (default ``dedup``). Layout, under the prefix:

- ``meta`` (hash): settings, next row, counts;
- ``ids`` (hash): document id → row;
- ``doc:ROW`` (hash): id, rep, site, exact key, signature, compressed text, spans;
- ``b:KEY``, ``p:KEY``, ``x:HEX`` (sets of rows): document band keys, passage band keys, exact keys;
- ``g:ROW`` (set): the rows a kept document represents;
- ``l:KEY`` (hash): site → documents holding the line.

Every change is one ``MULTI``/``EXEC`` transaction, so readers never see half of an ``add``.
Rows are handed out from the ``next`` counter with ``INCRBY``, so workers adding at the same time
get distinct rows; two batches added at the same moment are not checked against each other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from ..errors import IndexStoreError
from .store import Change, StoredDoc, encode_spans, encode_text

_BATCH = 5000


class RedisStore:
    """An index in a Redis database."""

    def __init__(self, location: str) -> None:
        try:
            import redis
        except ImportError:
            raise IndexStoreError("a redis:// index needs the redis package: pip install 'dedup[redis]'") from None
        self.location = location
        parts = urlsplit(location)
        query = parse_qs(parts.query)
        self.prefix = (query.pop("prefix", ["dedup"])[0]) + ":"
        url = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
        # No reply timeout unless the URL sets one (``?socket_timeout=``): redis-py 8 waits 5 s by
        # default, and the EXEC of a large add takes the server longer than that.
        self.r: Any = redis.Redis.from_url(url, socket_timeout=None)
        try:
            self.r.ping()
        except redis.RedisError as exc:
            raise IndexStoreError(f"{location}: cannot reach Redis ({exc})") from None

    def _k(self, *parts: object) -> str:
        return self.prefix + ":".join(str(p) for p in parts)

    def _members(self, names: list[str]) -> list[set[bytes]]:
        out: list[set[bytes]] = []
        for start in range(0, len(names), _BATCH):
            pipe = self.r.pipeline(transaction=False)
            for name in names[start : start + _BATCH]:
                pipe.smembers(name)
            out.extend(pipe.execute())
        return out

    # -- reading ---------------------------------------------------------------------------

    def settings(self) -> dict[str, object] | None:
        raw = self.r.hget(self._k("meta"), "settings")
        return None if raw is None else dict(json.loads(raw))

    def create(self, settings: Mapping[str, object]) -> None:
        self.r.hsetnx(self._k("meta"), "settings", json.dumps(dict(settings), sort_keys=True))

    def next_row(self) -> int:
        return int(self.r.hget(self._k("meta"), "next") or 0)

    def reserve(self, n: int) -> int:
        """Reserve ``n`` rows; returns the first."""
        return int(self.r.hincrby(self._k("meta"), "next", n)) - n

    def rows_of(self, ids: Iterable[str]) -> dict[str, int]:
        id_list = list(ids)
        found: dict[str, int] = {}
        for start in range(0, len(id_list), _BATCH):
            part = id_list[start : start + _BATCH]
            if part:
                for doc_id, row in zip(part, self.r.hmget(self._k("ids"), part), strict=True):
                    if row is not None:
                        found[doc_id] = int(row)
        return found

    def band_matches(self, keys: Iterable[int]) -> list[tuple[int, int]]:
        key_list = list(keys)
        found = self._members([self._k("b", k) for k in key_list])
        return [(k, int(r)) for k, rows in zip(key_list, found, strict=True) for r in rows]

    def exact_matches(self, keys: Iterable[bytes]) -> list[tuple[bytes, int]]:
        key_list = list(keys)
        found = self._members([self._k("x", k.hex()) for k in key_list])
        return [(k, int(r)) for k, rows in zip(key_list, found, strict=True) for r in rows]

    def passage_matches(self, keys: Iterable[int], *, per_key: int) -> set[int]:
        return {r for rows in self._members([self._k("p", k) for k in keys]) for r in sorted(int(x) for x in rows)[:per_key]}

    def _docs(self, rows: list[int], fields: list[str]) -> list[list[Any]]:
        out: list[list[Any]] = []
        for start in range(0, len(rows), _BATCH):
            pipe = self.r.pipeline(transaction=False)
            for row in rows[start : start + _BATCH]:
                pipe.hmget(self._k("doc", row), fields)
            out.extend(pipe.execute())
        return out

    def signatures(self, rows: Iterable[int]) -> dict[int, bytes]:
        row_list = sorted(set(rows))
        return {r: bytes(v[0]) for r, v in zip(row_list, self._docs(row_list, ["sig"]), strict=True) if v[0] is not None}

    def load(self, rows: Iterable[int]) -> list[StoredDoc]:
        row_list = sorted(set(rows))
        out = []
        for row, (doc_id, rep, site, text, spans, exact, sig) in zip(
            row_list, self._docs(row_list, ["id", "rep", "site", "text", "spans", "exact", "sig"]), strict=True
        ):
            if doc_id is None:
                continue
            name = doc_id.decode("utf-8", "surrogatepass")
            out.append(StoredDoc.decode(row, name, int(rep), site.decode("utf-8", "surrogatepass"), text, spans, exact, sig))
        return out

    def members(self, reps: Iterable[int]) -> dict[int, list[int]]:
        rep_list = sorted(set(reps))
        found = self._members([self._k("g", r) for r in rep_list])
        return {rep: sorted(int(m) for m in rows) for rep, rows in zip(rep_list, found, strict=True) if rows}

    def line_counts(self, keys: Iterable[int]) -> dict[int, dict[str, int]]:
        key_list = list(keys)
        out: dict[int, dict[str, int]] = {}
        for start in range(0, len(key_list), _BATCH):
            pipe = self.r.pipeline(transaction=False)
            part = key_list[start : start + _BATCH]
            for k in part:
                pipe.hgetall(self._k("l", k))
            for k, counts in zip(part, pipe.execute(), strict=True):
                if counts:
                    out[k] = {s.decode("utf-8", "surrogatepass"): int(n) for s, n in counts.items()}
        return out

    def stats(self) -> dict[str, object]:
        meta = self.r.hgetall(self._k("meta"))
        return {
            "location": self.location,
            "backend": "redis",
            "documents": int(self.r.hlen(self._k("ids"))),
            "kept_documents": int(meta.get(b"kept", 0)),
            "band_keys": int(meta.get(b"band_keys", 0)),
            "passage_keys": int(meta.get(b"passage_keys", 0)),
            "server_used_memory_bytes": int(self.r.info("memory")["used_memory"]),
        }

    # -- writing ---------------------------------------------------------------------------

    def apply(self, change: Change) -> None:
        pipe = self.r.pipeline(transaction=True)
        meta = self._k("meta")
        kept = band_count = passage_count = 0
        for row, doc_id, exact, keys in change.remove:
            rep = self.r.hget(self._k("doc", row), "rep")
            if rep is not None and int(rep) == row:
                kept -= 1
            pipe.delete(self._k("doc", row))
            pipe.hdel(self._k("ids"), doc_id)
            pipe.srem(self._k("x", exact.hex()), row)
            if rep is not None:
                pipe.srem(self._k("g", int(rep)), row)
            for k in keys.tolist():
                pipe.srem(self._k("b", k), row)
            band_count -= len(keys)
        for r in change.add:
            pipe.hset(
                self._k("doc", r.row),
                mapping={
                    "id": r.id,
                    "rep": r.rep,
                    "site": r.site,
                    "exact": r.exact,
                    "sig": r.signature,
                    "text": encode_text(r.text),
                    "spans": encode_spans(r.spans),
                },
            )
            pipe.hset(self._k("ids"), r.id, r.row)
            pipe.sadd(self._k("x", r.exact.hex()), r.row)
            pipe.sadd(self._k("g", r.rep), r.row)
            kept += r.rep == r.row
            for k in r.band_keys.tolist():
                pipe.sadd(self._k("b", k), r.row)
            for k in r.passage_keys.tolist():
                pipe.sadd(self._k("p", k), r.row)
            band_count += len(r.band_keys)
            passage_count += len(r.passage_keys)
        if change.reps:
            old = {row: rep for row, rep in zip(change.reps, self._docs(list(change.reps), ["rep"]), strict=True)}
            for row, rep in change.reps.items():
                before = old[row][0]
                if before is not None:
                    pipe.srem(self._k("g", int(before)), row)
                    kept -= int(before) == row
                pipe.hset(self._k("doc", row), "rep", rep)
                pipe.sadd(self._k("g", rep), row)
                kept += rep == row
        for row, keys in change.passages_off.items():
            for k in keys.tolist():
                pipe.srem(self._k("p", k), row)
            passage_count -= len(keys)
        for row, keys in change.passages_on.items():
            for k in keys.tolist():
                pipe.sadd(self._k("p", k), row)
            passage_count += len(keys)
        for (k, site), n in change.lines.items():
            pipe.hincrby(self._k("l", k), site, n)
        pipe.hincrby(meta, "kept", kept)
        pipe.hincrby(meta, "band_keys", band_count)
        pipe.hincrby(meta, "passage_keys", passage_count)
        # The row counter only moves forward (another worker may have reserved rows meanwhile).
        pipe.eval(
            "local cur = tonumber(redis.call('HGET', KEYS[1], 'next') or '0'); "
            "if tonumber(ARGV[1]) > cur then redis.call('HSET', KEYS[1], 'next', ARGV[1]) end",
            1, meta, change.next_row,
        )
        pipe.execute()
        if change.lines and any(n < 0 for n in change.lines.values()):
            self._drop_empty_lines([k for (k, _), n in change.lines.items() if n < 0])

    def _drop_empty_lines(self, keys: list[int]) -> None:
        for k in keys:
            counts = self.r.hgetall(self._k("l", k))
            dead = [s for s, n in counts.items() if int(n) <= 0]
            if dead:
                self.r.hdel(self._k("l", k), *dead)

    def close(self) -> None:
        self.r.close()
