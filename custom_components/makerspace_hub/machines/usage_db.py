"""The usage records' SQLite database: schema, writes, reports, retention.

Pure Python (stdlib `sqlite3`) and blocking: every function opens its own
connection, so it can run on whichever thread the glue (`usage_log`) gives it, and
closes it before returning. The database is in WAL mode, so a report reads while a
write is under way. Times are stored as Unix seconds (UTC).

One row per ended session (`usage.UsageRecord`); a row is unique by hub, machine and
start, so writing the same record again (a retried write) keeps one row. Rows of
removed machines stay: a bill may still need them.
"""

from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
import json
from pathlib import Path
import sqlite3

from .usage import UsageRecord

SCHEMA_VERSION = 1
# How long a connection waits for another writer (another hub's write thread).
BUSY_TIMEOUT_SEC = 5.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    machine_id TEXT NOT NULL,
    machine TEXT NOT NULL,
    account_id TEXT,
    member TEXT NOT NULL,
    kind TEXT NOT NULL,
    start REAL NOT NULL,
    "end" REAL NOT NULL,
    ended_by TEXT NOT NULL,
    hub TEXT NOT NULL,
    PRIMARY KEY (hub, machine_id, start)
);
CREATE INDEX IF NOT EXISTS sessions_end ON sessions ("end");
"""
_INSERT = """
INSERT INTO sessions
    (machine_id, machine, account_id, member, kind, start, "end", ended_by, hub)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (hub, machine_id, start) DO NOTHING
"""
# Optional filters are NULL when not wanted; the machine ids come as a JSON list.
_SELECT = """
SELECT machine_id, machine, account_id, member, kind, start, "end", ended_by
FROM sessions
WHERE hub = :hub AND "end" >= :start AND "end" < :end
    AND (:machine_ids IS NULL OR machine_id IN (SELECT value FROM json_each(:machine_ids)))
    AND (:account_id IS NULL OR account_id = :account_id)
ORDER BY start
"""
_DELETE = 'DELETE FROM sessions WHERE hub = ? AND "end" < ?'


class UsageDatabaseError(Exception):
    """The database cannot be used (not a database, a newer schema, a disk error)."""


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_SEC)) as connection:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise UsageDatabaseError(f"{path} is of a newer release (schema {version})")
            if version < SCHEMA_VERSION:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.executescript(_SCHEMA)
                connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            yield connection
    except (sqlite3.Error, OSError) as err:
        raise UsageDatabaseError(f"{path}: {err}") from err


def insert_records(path: Path, hub: str, records: Iterable[UsageRecord]) -> None:
    """Add records of hub `hub`, all or none; a record already there is kept."""
    rows = [
        (r.machine_id, r.machine, r.account_id, r.member, r.kind, r.start, r.end, r.ended_by, hub)
        for r in records
    ]
    with _connect(path) as connection, connection:
        connection.executemany(_INSERT, rows)


def select_records(
    path: Path,
    hub: str,
    start: float,
    end: float,
    *,
    machine_ids: Iterable[str] | None = None,
    account_id: str | None = None,
) -> list[UsageRecord]:
    """Return the hub's records of sessions that ended within [start, end).

    A session is billed in the period it ended in, so that periods side by side
    count each session once. No database yet means no records.
    """
    if not path.exists():
        return []
    parameters = {
        "hub": hub,
        "start": start,
        "end": end,
        "machine_ids": None if machine_ids is None else json.dumps(list(machine_ids)),
        "account_id": account_id,
    }
    with _connect(path) as connection:
        rows = connection.execute(_SELECT, parameters).fetchall()
    return [
        UsageRecord(
            machine_id=row[0],
            machine=row[1],
            account_id=row[2],
            member=row[3],
            kind=row[4],
            start=row[5],
            end=row[6],
            ended_by=row[7],
        )
        for row in rows
    ]


def delete_before(path: Path, hub: str, cutoff: float) -> int:
    """Delete the hub's records of sessions that ended before `cutoff`; return how many."""
    if not path.exists():
        return 0
    with _connect(path) as connection, connection:
        cursor = connection.execute(
            'DELETE FROM sessions WHERE hub = ? AND "end" < ?', (hub, cutoff)
        )
        return cursor.rowcount
