"""The usage-records phase: board replies with usage records off and on, in paired rounds.

Every machine session that ends becomes a usage record, written behind by a worker
thread: recording (the hub's `record_usage` option) must not slow a board's reply.
The boards phase's fleet posts in ROUNDS, with the option switched through the hub's
options flow before each round (which reloads the hub); a round whose option stays as
it was reloads the hub through the config entries API, so that every round starts
alike: a freshly loaded hub, SWITCH_WARM_UP_SEC of boards (past the garbage a reload
leaves), then the measured round. The order off, on, on, off makes a drift over the
phase (the heap, the recorder's database growing) weigh on both conditions alike;
the latencies are pooled per condition.

Once nothing waits to be written (the hub's diagnostics say so), the sessions that
ended in each round, from the hub's reload to the round's end, are read through the
`usage_report` action and counted in the database itself (the diagnostics name it;
the benchmark is on the same disk): the rounds with records on must have written
them, the rounds with records off none. The phase leaves the option as it found it.
"""

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
import math
from pathlib import Path
import sqlite3
import time
from typing import Any

from tools.demo.homeassistant_api import ENTRIES, OPTIONS_FLOWS, DemoSetupError, HomeAssistantApi

from .boards import Board, Tally, run_fleet, time_fleet
from .instance import Makerspace, diagnostics
from .meter import Meter, say
from .stats import Latencies

ROUNDS = (False, True, True, False)  # record_usage in each round: off, on, on, off
SWITCH_WARM_UP_SEC = 10.0
WAIT_TIMEOUT_SEC = 120.0  # for a reload, or for the records to be written
RECORD_USAGE = "record_usage"  # the hub's option
USAGE_REPORT = "/api/services/makerspace_hub/usage_report?return_response"
COUNT_ROWS = 'SELECT count(*) FROM sessions WHERE hub = ? AND "end" >= ? AND "end" < ?'


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageRound:
    """One measured round of the boards, with usage records on or off."""

    recording: bool
    replies: Latencies
    lag: dict[str, Any]  # the loop probe's figures; gc_max_ms: the longest GC pause
    cpu: float  # Home Assistant's share of one core
    sessions: int  # sessions that ended in the round, as the usage_report action counts
    rows: int  # the same, as rows in the database


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageComparison:
    """The rounds, and their replies pooled per condition."""

    rounds: list[UsageRound]
    off: Latencies  # the rounds with usage records off, pooled
    on: Latencies
    save_timeouts: int  # of the usage records, during the phase
    last_error: str | None  # the usage records' last write error, at the end

    @property
    def change(self) -> float:
        """Return how much the p99 with records differs from without (0.05: 5 % slower)."""
        if math.isnan(self.on.p99) or math.isnan(self.off.p99) or not self.off.p99:
            return math.nan
        return self.on.p99 / self.off.p99 - 1

    def recorded(self, recording: bool) -> int:
        """Return the records in the database of the rounds with records `recording`."""
        return sum(each.rows for each in self.rounds if each.recording is recording)

    @property
    def all_written(self) -> bool:
        """Return whether every session the report counts is a row of the database."""
        return all(each.sessions == each.rows for each in self.rounds)


@dataclass(frozen=True, slots=True)
class _Measured:
    recording: bool
    tally: Tally
    seconds: float
    lag: dict[str, Any]
    cpu: float
    since: float  # wall clock: the hub loaded with this round's option
    until: float


def count_rows(database: Path, hub: str, start: float, end: float) -> int:
    """Return the hub's rows of sessions that ended within [start, end) (blocking)."""
    if not database.exists():
        return 0
    # Read-only, beside the hub's writer (the database is in WAL mode).
    with closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as connection:
        (count,) = connection.execute(COUNT_ROWS, (hub, start, end)).fetchone()
    return int(count)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def _condition(recording: bool) -> str:
    return "on" if recording else "off"


class UsageRecordsPhase:
    """The paired rounds, run against one provisioned hub."""

    def __init__(
        self,
        api: HomeAssistantApi,
        meter: Meter,
        space: Makerspace,
        *,
        options: dict[str, Any],
        loaded: Callable[[], Awaitable[object]],
    ) -> None:
        """Measure the hub of `space`, provisioned with `options`; `loaded` waits for it."""
        self.api = api
        self.meter = meter
        self.space = space
        self.options = options
        self.loaded = loaded

    async def run(self, fleet: list[Board], seconds: float) -> UsageComparison:
        """Run the rounds, each condition for `seconds` in all; return the comparison."""
        found = await self._usage_records()
        if found is None:
            raise DemoSetupError("the hub's diagnostics show no usage records")
        round_sec = seconds / ROUNDS.count(True)
        measured = []
        for number, recording in enumerate(ROUNDS, 1):
            say(
                f"usage records {_condition(recording)}, round {number}/{len(ROUNDS)}: "
                f"{len(fleet)} boards for {round_sec:.0f} s"
            )
            measured.append(await self._round(fleet, recording, round_sec))
        usage = await self._usage_records_when(lambda usage: not usage["waiting_to_be_written"])
        database = Path(usage["database"])
        rounds = []
        for each in measured:
            rows = await asyncio.to_thread(
                count_rows, database, self.space.entry_id, each.since, each.until
            )
            rounds.append(
                UsageRound(
                    recording=each.recording,
                    replies=each.tally.summary(each.seconds),
                    lag=each.lag,
                    cpu=each.cpu,
                    sessions=await self._sessions(each.since, each.until),
                    rows=rows,
                )
            )
        if usage["recording"] is not found["recording"]:
            await self._switch(found["recording"])
            await run_fleet(fleet, SWITCH_WARM_UP_SEC)
        comparison = UsageComparison(
            rounds=rounds,
            off=_pooled(measured, recording=False),
            on=_pooled(measured, recording=True),
            save_timeouts=usage["save_timeouts"] - found["save_timeouts"],
            last_error=usage["last_error"],
        )
        say(
            f"  usage records on: p99 {comparison.on.p99:.1f} ms, off: "
            f"{comparison.off.p99:.1f} ms ({comparison.change * 100:+.1f} %); recorded "
            f"{comparison.recorded(True)} sessions on, {comparison.recorded(False)} off"
        )
        return comparison

    async def _round(self, fleet: list[Board], recording: bool, seconds: float) -> _Measured:
        await self._switch(recording)
        since = time.time()
        await run_fleet(fleet, SWITCH_WARM_UP_SEC)
        await self.meter.start()
        tally = await time_fleet(fleet, seconds)
        await self.meter.stop()
        until = time.time()
        replies = tally.summary(seconds)
        say(f"  {replies.outcome}, longest GC pause {self.meter.lag.get('gc_max_ms')} ms")
        return _Measured(recording, tally, seconds, self.meter.lag, self.meter.cpu, since, until)

    async def _switch(self, recording: bool) -> None:
        """Reload the hub with usage records `recording`; wait until it runs everything."""
        entry_id = self.space.entry_id
        if (usage := await self._usage_records()) is not None and usage["recording"] is recording:
            await self.api.request("POST", f"{ENTRIES}/{entry_id}/reload")
        else:  # as an admin would: the options flow, whose new options reload the hub
            options = {**self.options, RECORD_USAGE: recording}
            await self.api.flow(OPTIONS_FLOWS, {"handler": entry_id}, options)
        # The hub that runs until the reload shows the option it was set up with.
        await self._usage_records_when(lambda usage: usage["recording"] is recording)
        await self.loaded()

    async def _usage_records(self) -> dict[str, Any] | None:
        """Return the usage records' diagnostics, or None between reloads."""
        try:
            data = await diagnostics(self.api, self.space.entry_id)
        except DemoSetupError:
            return None
        usage: dict[str, Any] = data["hub"]["usage_records"]
        return usage

    async def _usage_records_when(self, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """Return the usage records' diagnostics once they are `ready`."""
        async with asyncio.timeout(WAIT_TIMEOUT_SEC):
            while True:
                if (usage := await self._usage_records()) is not None and ready(usage):
                    return usage
                await asyncio.sleep(0.5)

    async def _sessions(self, start: float, end: float) -> int:
        """Return the sessions that ended within [start, end), as the hub reports them."""
        body = {"config_entry_id": self.space.entry_id, "start": _iso(start), "end": _iso(end)}
        answer = await self.api.request("POST", USAGE_REPORT, body)
        return int(answer["service_response"]["total"]["sessions"])


def _pooled(measured: list[_Measured], *, recording: bool) -> Latencies:
    chosen = [each for each in measured if each.recording is recording]
    seconds = sum(each.seconds for each in chosen)
    return Tally.pooled(each.tally for each in chosen).summary(seconds)
