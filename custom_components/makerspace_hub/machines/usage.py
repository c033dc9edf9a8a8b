"""Usage records: who ran which machine, from when to when, and why it ended (pure).

Every session that ends becomes one `UsageRecord` (the rules hand the ended session
to their logout event, see `sessions.EndedSession`); `usage_db` keeps them in
SQLite. A report (`UsageReport`) sums the records of a period per member and per
machine, in hours and sessions, and renders them as CSV for billing.

A record is identified by its machine and its start: a session starts once, so
writing a record twice (a retry after a write that timed out but did land) keeps
one row.
"""

from collections.abc import Iterable
import csv
from dataclasses import dataclass
from datetime import UTC, datetime
import io
from typing import Any

from .sessions import MEMBER, OVERRIDE_LOGIN, REMOTE, TRACKED, WARN_ONLY, EndedSession

# The kinds a record shows (a session's kind says why the relay could be on).
KIND_CARD = "card"
KIND_WARN_ONLY = "warn_only"
KIND_OVERRIDE = "override"
KIND_REMOTE = "remote"  # switched on by a Home Assistant admin, without a card
KIND_ALWAYS_ENABLED = "always_enabled"  # a card tracked on an always-enabled machine
RECORD_KINDS = {
    MEMBER: KIND_CARD,
    WARN_ONLY: KIND_WARN_ONLY,
    OVERRIDE_LOGIN: KIND_OVERRIDE,
    REMOTE: KIND_REMOTE,
    TRACKED: KIND_ALWAYS_ENABLED,
}
CSV_COLUMNS = (
    "machine",
    "account_id",
    "member",
    "kind",
    "start",
    "end",
    "seconds",
    "minutes",
    "ended_by",
)
SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageRecord:
    """One ended session of one machine."""

    machine_id: str  # the machine's subentry id: stays when the machine is renamed
    machine: str  # its name when the session ended
    account_id: str | None  # None: switched on by an admin, not a member
    member: str  # full name (or the admin's name)
    kind: str  # one of RECORD_KINDS' values
    start: float  # wall clock, seconds
    end: float
    ended_by: str  # the logout event's reason, e.g. card_removed, oops, idle

    @classmethod
    def of(cls, machine_id: str, machine: str, ended: EndedSession, reason: str) -> "UsageRecord":
        """Return the record of a session that ended."""
        session = ended.session
        return cls(
            machine_id=machine_id,
            machine=machine,
            account_id=session.account_id,
            member=session.full_name or session.name,
            kind=RECORD_KINDS.get(session.kind, session.kind),
            start=session.started,
            # A clock set back while the session ran must not give negative time.
            end=max(ended.ended, session.started),
            ended_by=reason,
        )

    @property
    def seconds(self) -> float:
        """Return how long the session ran."""
        return self.end - self.start

    def as_json(self) -> dict[str, Any]:
        """Return the record as an action's response shows it (ISO times, UTC)."""
        return {
            "machine": self.machine,
            "account_id": self.account_id,
            "member": self.member,
            "kind": self.kind,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "seconds": round(self.seconds),
            "ended_by": self.ended_by,
        }


@dataclass(frozen=True, slots=True)
class Total:
    """The sessions and time of one member or machine in a report."""

    sessions: int
    seconds: float

    def as_json(self) -> dict[str, Any]:
        """Return the total as a response shows it."""
        return {
            "sessions": self.sessions,
            "hours": round(self.seconds / 3600, 3),
            "minutes": round(self.seconds / 60, 1),
        }


@dataclass(frozen=True, slots=True)
class UsageReport:
    """The sessions of a period, with totals per member and per machine."""

    start: float
    end: float
    records: tuple[UsageRecord, ...]

    @classmethod
    def of(cls, start: float, end: float, records: Iterable[UsageRecord]) -> "UsageReport":
        """Return the report of records (oldest first)."""
        return cls(start, end, tuple(sorted(records, key=lambda r: (r.start, r.machine_id))))

    def per_member(self) -> dict[str, Total]:
        """Return the totals by account id (sessions without a member under "")."""
        return _totals(self.records, lambda record: record.account_id or "")

    def per_machine(self) -> dict[str, Total]:
        """Return the totals by machine name."""
        return _totals(self.records, lambda record: record.machine)

    def as_json(self) -> dict[str, Any]:
        """Return the report as the `usage_report` action responds."""
        names = {r.account_id or "": r.member for r in self.records}
        return {
            "start": _iso(self.start),
            "end": _iso(self.end),
            "sessions": [record.as_json() for record in self.records],
            "members": [
                {"account_id": account or None, "member": names[account], **total.as_json()}
                for account, total in self.per_member().items()
            ],
            "machines": [
                {"machine": machine, **total.as_json()}
                for machine, total in self.per_machine().items()
            ],
            "total": Total(len(self.records), sum(r.seconds for r in self.records)).as_json(),
        }

    def as_csv(self) -> str:
        """Return the sessions as CSV, one row each (times in UTC, ISO 8601)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for record in self.records:
            writer.writerow(
                (
                    record.machine,
                    record.account_id or "",
                    _csv_safe(record.member),
                    record.kind,
                    _iso(record.start),
                    _iso(record.end),
                    round(record.seconds),
                    round(record.seconds / 60, 1),
                    record.ended_by,
                )
            )
        return out.getvalue()


def _totals(records: Iterable[UsageRecord], key: Any) -> dict[str, Total]:
    sums: dict[str, tuple[int, float]] = {}
    for record in records:
        sessions, seconds = sums.get(key(record), (0, 0.0))
        sums[key(record)] = (sessions + 1, seconds + record.seconds)
    return {name: Total(*sums[name]) for name in sorted(sums)}


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _csv_safe(text: str) -> str:
    """Keep a spreadsheet from running a member's name as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def retention_cutoff(now: float, retention_days: int) -> float:
    """Return the end time before which records are deleted."""
    return now - retention_days * SECONDS_PER_DAY
