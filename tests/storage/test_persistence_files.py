"""The pure file layer: state file format, atomic writes, setting files aside, and the
fleet timeout tracker, on real files in a temp folder (no Home Assistant)."""

from datetime import UTC, datetime
import json
from pathlib import Path

import pytest

from custom_components.makerspace_hub.storage.state_files import (
    FLEET_TIMEOUT_COOLDOWN_SEC,
    FLEET_TIMEOUT_THRESHOLD,
    FLEET_TIMEOUT_WINDOW_SEC,
    STATE_SAVE_TIMEOUT_SEC,
    AtomicFileWriter,
    FleetTimeoutTracker,
    NewerStateFileError,
    StateFileError,
    decode_state,
    delete_state_file,
    encode_state,
    lock_path,
    read_state_file,
    set_aside_invalid,
    set_aside_path,
)


def test_spec_constants() -> None:
    assert STATE_SAVE_TIMEOUT_SEC == 2.0
    assert FLEET_TIMEOUT_WINDOW_SEC == 60
    assert FLEET_TIMEOUT_THRESHOLD == 2
    assert FLEET_TIMEOUT_COOLDOWN_SEC == 300


def test_encode_decode_round_trip() -> None:
    raw = encode_state("machine", "laser", {"oops": True, "hours": 1.5}, 3)
    assert decode_state(raw) == ({"oops": True, "hours": 1.5}, 3)
    document = json.loads(raw)
    assert document["minor_version"] == 1
    datetime.fromisoformat(document["saved_at"])


def test_a_newer_minor_version_is_read() -> None:
    raw = json.dumps({"version": 1, "minor_version": 9, "data": {"a": 1}, "extra": 2}).encode()
    assert decode_state(raw) == ({"a": 1}, 0)


def test_nan_is_refused_rather_than_written_as_invalid_json() -> None:
    with pytest.raises(ValueError, match="JSON"):
        encode_state("machine", "laser", {"amps": float("nan")}, 0)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"data": {}}', "no format version"),
        (b'{"version": true, "data": {}}', "no format version"),
        (b'{"version": 1, "data": []}', "no state data"),
        (b'{"version": 1, "data": {}, "save_timeouts": -1}', "invalid save_timeouts"),
        (b'{"version": 1, "data": {}, "save_timeouts": "2"}', "invalid save_timeouts"),
    ],
)
def test_decode_rejects_unusable_files(raw: bytes, problem: str) -> None:
    with pytest.raises(StateFileError, match=problem):
        decode_state(raw)


def test_a_newer_major_version_is_refused() -> None:
    with pytest.raises(NewerStateFileError, match="newer release") as raised:
        decode_state(b'{"version": 2, "data": {}}')
    assert raised.value.version == 2


def test_a_written_file_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "machine" / "laser.json"
    AtomicFileWriter().write(path, encode_state("machine", "laser", {"oopsed": True}, 2))
    loaded = read_state_file(path)
    assert loaded.data == {"oopsed": True}
    assert loaded.save_timeouts == 2
    assert loaded.problem is None
    assert loaded.set_aside is None
    assert loaded.writable
    assert path.exists()  # a usable file stays where it is


def test_a_torn_file_is_set_aside_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "laser.json"
    torn = encode_state("machine", "laser", {"oopsed": True}, 0)[:40]
    path.write_bytes(torn)
    loaded = read_state_file(path)
    assert loaded.data is None
    assert loaded.problem is not None
    assert loaded.problem.startswith("not valid JSON")
    assert loaded.set_aside is not None
    assert loaded.set_aside.name.startswith("laser.json.corrupt-")
    assert loaded.set_aside.read_bytes() == torn  # moved, never deleted
    assert loaded.writable
    assert not path.exists()


def test_a_newer_file_is_set_aside_under_its_version(tmp_path: Path) -> None:
    path = tmp_path / "laser.json"
    newer = b'{"version": 3, "data": {"future": true}}'
    path.write_bytes(newer)
    loaded = read_state_file(path)
    assert loaded.data is None
    assert loaded.problem == "written by a newer release (format version 3)"
    assert loaded.set_aside is not None
    assert loaded.set_aside.name.startswith("laser.json.v3-")
    assert loaded.set_aside.read_bytes() == newer
    assert not path.exists()


def test_a_missing_file_means_defaults_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "machine" / "laser.json"
    loaded = read_state_file(path)
    assert loaded.data is None
    assert loaded.problem is None
    assert not path.parent.exists()


def test_an_unreadable_file_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "laser.json"
    path.mkdir()  # reading a folder fails like an unreadable file
    loaded = read_state_file(path)
    assert loaded.problem is not None
    assert loaded.problem.startswith("unreadable")
    assert loaded.set_aside is not None
    assert loaded.set_aside.is_dir()
    assert loaded.writable


def test_set_aside_names_carry_the_reason_and_utc_time(tmp_path: Path) -> None:
    when = datetime(2026, 11, 22, 3, 15, 0, tzinfo=UTC)
    assert set_aside_path(tmp_path / "laser.json", "corrupt", when).name == (
        "laser.json.corrupt-20261122T031500Z"
    )


def test_set_aside_invalid(tmp_path: Path) -> None:
    path = tmp_path / "laser.json"
    assert set_aside_invalid(path) is None  # nothing to move
    path.write_text("{}")
    target = set_aside_invalid(path)
    assert target is not None
    assert target.read_text() == "{}"
    assert not path.exists()


def test_delete_state_file_removes_the_file_and_its_lock(tmp_path: Path) -> None:
    path = tmp_path / "laser.json"
    delete_state_file(path)  # nothing to delete is fine
    AtomicFileWriter().write(path, b"{}")
    assert lock_path(path).exists()
    aside = set_aside_path(path, "corrupt", datetime.now(UTC))
    aside.write_text("kept")
    delete_state_file(path)
    assert not path.exists()
    assert not lock_path(path).exists()
    assert aside.read_text() == "kept"  # what was set aside is the admin's to delete


def test_atomic_writer_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "laser.json"
    writer = AtomicFileWriter()
    writer.write(path, b"first")
    writer.write(path, b"second")
    assert path.read_bytes() == b"second"
    assert sorted(p.name for p in path.parent.iterdir()) == ["laser.json", "laser.json.lock"]


def test_atomic_writer_keeps_the_old_file_when_the_rename_fails(tmp_path: Path) -> None:
    path = tmp_path / "laser.json"
    path.mkdir()  # a folder cannot be replaced by a file
    with pytest.raises(IsADirectoryError):
        AtomicFileWriter().write(path, b"new")
    assert path.is_dir()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_tracker_needs_distinct_owners_within_the_window() -> None:
    clock = FakeClock()
    tracker = FleetTimeoutTracker(clock=clock)
    assert tracker.record("laser") is None
    assert tracker.record("laser") is None  # the same owner twice is not a fleet
    clock.now += FLEET_TIMEOUT_WINDOW_SEC + 1
    assert tracker.record("mill") is None  # laser's timeouts left the window
    clock.now += 10
    assert tracker.record("lathe") == 2
    assert tracker.owners_in_window() == ["mill", "lathe"]


def test_tracker_cooldown() -> None:
    clock = FakeClock()
    tracker = FleetTimeoutTracker(clock=clock)
    counts = [tracker.record(name) for name in ("a", "b", "c", "d", "e")]
    assert counts == [None, 2, None, None, None]
    clock.now += FLEET_TIMEOUT_COOLDOWN_SEC - 1
    assert tracker.record("a") is None
    assert tracker.record("b") is None
    clock.now += 2
    assert tracker.record("c") == 3


def test_tracker_window_is_inclusive_and_names_each_owner_once() -> None:
    clock = FakeClock()
    tracker = FleetTimeoutTracker(clock=clock)
    assert tracker.record("laser") is None
    clock.now += 30
    assert tracker.record("laser") is None
    clock.now += FLEET_TIMEOUT_WINDOW_SEC - 30
    # Exactly one window after laser's first timeout: still inside it.
    assert tracker.record("mill") == 2
    assert tracker.owners_in_window() == ["laser", "mill"]
    clock.now += 31  # laser's second timeout is 61 s old now
    assert tracker.owners_in_window() == ["mill"]
    clock.now += FLEET_TIMEOUT_WINDOW_SEC
    assert tracker.owners_in_window() == []


def test_tracker_limits_can_be_chosen() -> None:
    clock = FakeClock()
    tracker = FleetTimeoutTracker(window_sec=10, threshold=3, cooldown_sec=20, clock=clock)
    assert [tracker.record(name) for name in ("a", "b", "c")] == [None, None, 3]
    clock.now += 11
    assert tracker.record("d") is None  # a, b and c left the 10 s window
    clock.now += 10
    assert [tracker.record(name) for name in ("e", "f")] == [None, 3]


def test_tracker_uses_the_monotonic_clock_by_default() -> None:
    tracker = FleetTimeoutTracker()
    assert tracker.record("a") is None
    assert tracker.record("b") == 2
