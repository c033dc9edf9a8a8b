"""Did the board reboot? Read from its uptime and its boot time (board protocol spec).

Pure Python. A reboot ends the session: the card the board holds afterwards was not
presented since, and a machine must not start by itself when power returns (safety
spec). dm_mac sees a reboot only by the uptime going down; this also watches the
board's boot time (check-in time - uptime, wall clock), which is saved, so that a
board that rebooted while Home Assistant did not hear from it (a restart) is caught.
"""

from dataclasses import dataclass

# How far a board's boot time may move between posts without counting as a reboot:
# request delays and clock drift, plus how stale the board's uptime reading was seen
# to be (`uptime_lag`, learned per board: firmware that refreshes its uptime every
# minute would otherwise look like it rebooted).
BOOT_TIME_TOLERANCE_SEC = 10.0
MAX_UPTIME_LAG_SEC = 120.0
# Only posts this close together teach the uptime lag: a board cannot reboot and
# post again with a higher uptime within it unless it had just booted.
UPTIME_LAG_LEARN_SEC = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class BootClock:
    """What is known of a board's boot: its last uptime, boot time and uptime lag."""

    uptime: float | None = None
    boot_time: float | None = None
    uptime_lag: float = 0.0

    def check(
        self,
        uptime: float,
        now: float,
        previous_checkin: float | None,
        *,
        first: bool,
        session_running: bool,
    ) -> tuple[str | None, "BootClock"]:
        """Return why the session must end as after a reboot (None: it need not).

        Rebooted: the uptime went down (dm_mac's rule), or the boot time moved
        later (the board rebooted while Home Assistant did not hear from it, e.g.
        during a restart). Unknown, on the first post after a restart (`first`):
        the boot time moved earlier (the clock is behind the one that saved it, e.g.
        a Raspberry Pi without a clock before it synchronised, which could hide a
        reboot), or no boot time was saved (a state file of an older release) while
        a session runs. Within one run an earlier boot time is only a stale uptime
        reading. Also returns the clock to keep for the next post.
        """
        boot = now - uptime
        reason: str | None = None
        tolerance = BOOT_TIME_TOLERANCE_SEC + self.uptime_lag
        if self.uptime is not None and uptime < self.uptime:
            reason = "reboot"
        elif self.boot_time is None:
            reason = "boot_unknown" if session_running else None
        elif boot > self.boot_time + tolerance:
            reason = "reboot"
        elif first and boot < self.boot_time - tolerance:
            reason = "clock_changed"
        lag = self.uptime_lag
        if (
            reason is None
            and self.uptime is not None
            and previous_checkin is not None
            and 0 <= now - previous_checkin <= UPTIME_LAG_LEARN_SEC
        ):
            seen = abs((now - previous_checkin) - (uptime - self.uptime))
            lag = min(max(lag, seen), MAX_UPTIME_LAG_SEC)
        return reason, BootClock(uptime=uptime, boot_time=boot, uptime_lag=lag)
