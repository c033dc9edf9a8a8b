"""Usage records without Home Assistant: records, reports, CSV, the SQLite database."""

import csv
from dataclasses import replace
from datetime import UTC, datetime
import io
from pathlib import Path
import sqlite3

import pytest

from custom_components.makerspace_hub.machines.sessions import (
    MEMBER,
    OVERRIDE_LOGIN,
    REMOTE,
    TRACKED,
    WARN_ONLY,
    EndedSession,
    Session,
)
from custom_components.makerspace_hub.machines.usage import (
    CSV_COLUMNS,
    UsageRecord,
    UsageReport,
    retention_cutoff,
)
from custom_components.makerspace_hub.machines.usage_db import (
    UsageDatabaseError,
    delete_before,
    insert_records,
    select_records,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC).timestamp()


def _session(kind: str = MEMBER, started: float = T0, account: str | None = "1") -> Session:
    return Session(
        kind=kind,
        name="Ada",
        started=started,
        account_id=account,
        full_name="Ada Lovelace" if account else None,
    )


def _record(
    machine: str = "laser",
    account: str | None = "1",
    start: float = T0,
    minutes: float = 30,
    reason: str = "card_removed",
) -> UsageRecord:
    ended = EndedSession(_session(started=start, account=account), start + minutes * 60)
    return UsageRecord.of(f"id-{machine}", machine, ended, reason)


@pytest.mark.parametrize(
    ("kind", "shown"),
    [
        (MEMBER, "card"),
        (WARN_ONLY, "warn_only"),
        (OVERRIDE_LOGIN, "override"),
        (REMOTE, "remote"),
        (TRACKED, "always_enabled"),
    ],
)
def test_a_record_names_why_the_relay_could_be_on(kind: str, shown: str) -> None:
    record = UsageRecord.of("id", "laser", EndedSession(_session(kind), T0 + 90), "oops")
    assert (record.kind, record.ended_by, record.seconds) == (shown, "oops", 90)
    assert record.as_json()["start"] == "2026-11-02T09:00:00+00:00"
    assert record.as_json()["end"] == "2026-11-02T09:01:30+00:00"


def test_a_clock_set_back_never_gives_negative_time() -> None:
    record = UsageRecord.of("id", "laser", EndedSession(_session(), T0 - 500), "reboot")
    assert record.seconds == 0


def test_a_session_that_ends_after_the_board_was_heard_ends_now() -> None:
    ended = EndedSession.of(_session(), T0 + 600, T0 + 590, heard=True)
    assert ended.ended == T0 + 600


def test_a_session_that_ended_while_home_assistant_was_down_ends_at_the_last_checkin() -> None:
    # Heard last at T0 + 300, restarted, the board's first post at T0 + 3600 ends it.
    assert EndedSession.of(_session(), T0 + 3600, T0 + 300, heard=False).ended == T0 + 300
    # Never checked in (a remote enable before any post): now.
    assert EndedSession.of(_session(), T0 + 3600, None, heard=False).ended == T0 + 3600
    # A check-in before the session started (clock set back): not before the start.
    assert EndedSession.of(_session(), T0 + 3600, T0 - 60, heard=False).ended == T0
    # A check-in "in the future" (clock set back since): not after now.
    assert EndedSession.of(_session(), T0 + 60, T0 + 600, heard=False).ended == T0 + 60


def test_a_report_totals_per_member_and_per_machine() -> None:
    report = UsageReport.of(
        T0,
        T0 + 86400,
        [
            _record("laser", "1", T0 + 3600, 90),
            _record("laser", "2", T0, 30),
            _record("mill", "1", T0 + 7200, 45),
            _record("laser", None, T0 + 9000, 6),  # an admin's remote enable
        ],
    )
    assert [r.start for r in report.records] == sorted(r.start for r in report.records)
    assert report.per_member()["1"].sessions == 2
    assert report.per_member()["1"].seconds == (90 + 45) * 60
    assert report.per_machine()["laser"].sessions == 3
    response = report.as_json()
    assert response["machines"] == [
        {"machine": "laser", "sessions": 3, "hours": 2.1, "minutes": 126.0},
        {"machine": "mill", "sessions": 1, "hours": 0.75, "minutes": 45.0},
    ]
    members = {m["account_id"]: m for m in response["members"]}
    assert members[None]["member"] == "Ada"  # no account: the name shown
    assert members["1"] == {
        "account_id": "1",
        "member": "Ada Lovelace",
        "sessions": 2,
        "hours": 2.25,
        "minutes": 135.0,
    }
    assert response["total"] == {"sessions": 4, "hours": 2.85, "minutes": 171.0}


def test_the_csv_has_a_row_per_session_and_no_formulas() -> None:
    hostile = UsageRecord.of(
        "id",
        "laser",
        EndedSession(
            Session(kind=MEMBER, name="x", started=T0, account_id="9", full_name="=HYPERLINK(1)"),
            T0 + 125,
        ),
        "idle",
    )
    rows = list(csv.reader(io.StringIO(UsageReport.of(T0, T0 + 1, [hostile]).as_csv())))
    assert rows[0] == list(CSV_COLUMNS)
    assert rows[1] == [
        "laser",
        "9",
        "'=HYPERLINK(1)",
        "card",
        "2026-11-02T09:00:00+00:00",
        "2026-11-02T09:02:05+00:00",
        "125",
        "2.1",
        "idle",
    ]


def test_retention_cutoff() -> None:
    assert retention_cutoff(T0, 2) == T0 - 2 * 86400


def test_the_database_keeps_a_session_once(tmp_path: Path) -> None:
    path = tmp_path / "makerspace_hub" / "usage.db"
    first = _record(start=T0)
    insert_records(path, "hub", [first, _record("mill", start=T0)])
    insert_records(path, "hub", [first])  # a retry of a write that did land
    assert select_records(path, "hub", T0, T0 + 86400) == [first, _record("mill", start=T0)]
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 2


def test_the_database_filters_by_period_machine_member_and_hub(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    early = _record("laser", "1", T0 - 3600, 30)  # ended before the period
    laser = _record("laser", "1", T0, 30)
    mill = _record("mill", "2", T0 + 60, 30)
    late = _record("laser", "2", T0 + 86400 - 60, 30)  # ended after it: the next period
    insert_records(path, "hub", [early, laser, mill, late])
    insert_records(path, "other-hub", [_record("lathe", "1", T0 + 120, 5)])
    assert select_records(path, "hub", T0, T0 + 86400) == [laser, mill]
    assert select_records(path, "hub", T0, T0 + 86400, machine_ids=["id-mill"]) == [mill]
    assert select_records(path, "hub", T0, T0 + 86400, machine_ids=[]) == []
    assert select_records(path, "hub", T0 - 7200, T0 + 90000, account_id="1") == [early, laser]
    assert select_records(tmp_path / "none.db", "hub", T0, T0 + 1) == []  # not created yet


def test_old_records_are_deleted(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    old, new = _record(start=T0 - 10 * 86400), _record(start=T0)
    insert_records(path, "hub", [old, new])
    insert_records(path, "other-hub", [old])
    assert delete_before(path, "hub", T0 - 86400) == 1
    assert select_records(path, "hub", 0, T0 * 2) == [new]
    assert select_records(path, "other-hub", 0, T0 * 2) == [old]  # not this hub's
    assert delete_before(tmp_path / "none.db", "hub", T0) == 0


def test_a_database_that_cannot_be_used_says_why(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(UsageDatabaseError, match=r"garbage\.db"):
        insert_records(garbage, "hub", [_record()])
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as connection:
        connection.execute("PRAGMA user_version=99")
    with pytest.raises(UsageDatabaseError, match="newer release"):
        select_records(newer, "hub", 0, T0)
    # A failed batch writes nothing (all or none).
    path = tmp_path / "usage.db"
    insert_records(path, "hub", [_record(start=T0)])
    broken = replace(_record(start=T0 + 2), member=None)  # type: ignore[arg-type]
    with pytest.raises(UsageDatabaseError):
        insert_records(path, "hub", [_record(start=T0 + 1), broken])
    assert len(select_records(path, "hub", 0, T0 * 2)) == 1
