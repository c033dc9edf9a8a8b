"""The pure file layer: state file format, atomic writes, setting files aside, and the
fleet timeout tracker, on real files in a temp folder."""

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
    StateFileError,
    decode_state,
    encode_state,
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


def test_tracker_uses_the_monotonic_clock_by_default() -> None:
    tracker = FleetTimeoutTracker()
    assert tracker.record("a") is None
    assert tracker.record("b") == 2
