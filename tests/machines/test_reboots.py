"""Reading a board's reboots from its uptime and boot time (`reboots`), without hass."""

import pytest

from custom_components.makerspace_hub.machines.reboots import (
    BOOT_TIME_TOLERANCE_SEC,
    MAX_UPTIME_LAG_SEC,
    UPTIME_LAG_LEARN_SEC,
    BootClock,
)

NOW = 1_800_000_000.0
# A board that booted 1000 s before NOW and last posted 10 s ago.
KNOWN = BootClock(uptime=990.0, boot_time=NOW - 1000.0)


def check(
    clock: BootClock,
    uptime: float,
    *,
    now: float = NOW,
    previous: float | None = NOW - 10,
    first: bool = False,
    session: bool = True,
) -> tuple[str | None, BootClock]:
    return clock.check(uptime, now, previous, first=first, session_running=session)


def test_a_steady_board_did_not_reboot_and_its_clock_moves_on() -> None:
    reason, clock = check(KNOWN, 1000.0)
    assert reason is None
    assert clock == BootClock(uptime=1000.0, boot_time=NOW - 1000.0, uptime_lag=0.0)


def test_uptime_going_down_is_a_reboot() -> None:
    assert check(KNOWN, 989.0)[0] == "reboot"


def test_a_boot_time_later_than_the_tolerance_is_a_reboot() -> None:
    # The uptime went up, but by far less than the time that passed: it rebooted
    # while nobody listened (e.g. during a restart of Home Assistant).
    later = NOW + 3600
    assert check(KNOWN, 1000.0, now=later, previous=None, first=True)[0] == "reboot"
    within = 1000.0 + 3600 - BOOT_TIME_TOLERANCE_SEC
    assert check(KNOWN, within, now=later, previous=None, first=True)[0] is None


@pytest.mark.parametrize(("first", "reason"), [(True, "clock_changed"), (False, None)])
def test_an_earlier_boot_time_is_unknown_only_after_a_restart(
    first: bool, reason: str | None
) -> None:
    # The clock went back (a Raspberry Pi before it synchronised): it could hide a
    # reboot after a restart; within one run it is only a stale uptime reading.
    earlier = NOW - 3600
    assert check(KNOWN, 1000.0, now=earlier, previous=None, first=first)[0] == reason


@pytest.mark.parametrize(("session", "reason"), [(True, "boot_unknown"), (False, None)])
def test_no_saved_boot_time_is_unknown_while_a_session_runs(
    session: bool, reason: str | None
) -> None:
    assert check(BootClock(), 1000.0, previous=None, first=True, session=session)[0] == reason


def test_a_stale_uptime_reading_is_learned_and_widens_the_tolerance() -> None:
    # 20 s passed but the uptime moved 80 s (a reading refreshed once a minute).
    reason, clock = check(KNOWN, 990.0 + 80, previous=NOW - 20)
    assert reason is None
    assert clock.uptime_lag == 60.0
    # The learned lag lets the boot time move later by that much too: here by 65 s.
    later = NOW + 100
    assert check(clock, 1105.0, now=later, previous=None)[0] is None
    unlearned = BootClock(uptime=1070.0, boot_time=NOW - 1070.0)
    assert check(unlearned, 1105.0, now=later, previous=None)[0] == "reboot"


def test_the_uptime_lag_is_capped_and_learned_only_from_close_posts() -> None:
    _, capped = check(KNOWN, 990.0 + 5 + 1000, previous=NOW - 5)
    assert capped.uptime_lag == MAX_UPTIME_LAG_SEC
    far = NOW - UPTIME_LAG_LEARN_SEC - 1
    assert check(KNOWN, 990.0 + 80, previous=far)[1].uptime_lag == 0.0
    # A reboot teaches nothing.
    assert check(KNOWN, 1.0, previous=NOW - 5)[1].uptime_lag == 0.0
