"""Measure makerspace_hub in a real Home Assistant process: `python -m tools.bench`.

Phases, one after the other, on one generated makerspace: warm-up, boards, one
board back-to-back, ten boards back-to-back side by side, boards with usage records
off and on in paired rounds, boards with the disk hung, boards heart-beating with no
card (the recorder's state rows counted), idle, printers, then the recording
sensors' lateness (they ran all along), the boards again with allocations traced,
and the hub's start-up. About 11 minutes with the defaults; `--runs 3` runs it all
three times, each on a fresh Home Assistant, and reports the worst of the three.
Prints the figures and writes them to `docs/benchmarks.md` (see `--output`).
"""

import argparse
import asyncio
import contextlib
from datetime import UTC, datetime
import math
import os
from pathlib import Path
import platform
import random
import sys
import time
from typing import Any

import aiohttp
from filelock import FileLock

from tools.demo.homeassistant_api import ENTRIES, DemoSetupError, HomeAssistantApi
from tools.demo.provision import hub_options
from tools.fake_ml_api import FakeMlApi

from .boards import Board, back_to_back, plans, run_fleet, time_fleet
from .heap import TraceFigures
from .instance import (
    PASSWORD,
    USERNAME,
    HomeAssistantProcess,
    Makerspace,
    config_dir,
    diagnostics,
    free_port,
    members,
    provision,
    read_makerspace,
    wait_until_loaded,
    write_config,
)
from .meter import Meter, say
from .recorder import DATABASE, count_state_rows, read_machine_entities
from .report import TEN_BOARDS, Results, markdown, targets
from .runs import runs_section, worst_of
from .usage import UsageRecordsPhase

REPO = Path(__file__).parent.parent.parent
WARM_UP_SEC = 30.0  # past the garbage collection that follows setting everything up
PRINT_WARM_UP_SEC = 10.0
SETTLE_SEC = 10.0
BACK_TO_BACK_SEC = 10.0
QUIET_WARM_UP_SEC = 10.0  # the cards out, their sessions' rows written, before counting
TRACE_SEC = 20.0  # at most; tracemalloc slows everything while it runs
RELOADS = 3


class FrameJudge:
    """The fake ML API's verdicts: mostly nothing, sometimes a faint detection."""

    def __init__(self) -> None:
        """Start counting."""
        self.frames = 0
        self.dice = random.Random(3)

    def __call__(self, image: bytes) -> list[Any]:
        """Score a frame."""
        self.frames += 1
        if self.dice.random() < 0.3:
            return [["failure", round(self.dice.uniform(0.05, 0.3), 3), [320, 300, 40, 40]]]
        return []


def hold_state_locks(storage_dir: Path) -> list[FileLock]:
    """Take the lock of every state file of the hub: its saves now hang (blocking)."""
    # The lock beside each state file, as the integration's persistence names it.
    paths = sorted(storage_dir.rglob("*.json"))
    locks = [FileLock(path.with_name(path.name + ".lock"), timeout=30) for path in paths]
    for lock in locks:
        lock.acquire()
    return locks


def release(locks: list[FileLock]) -> None:
    """Let the saves through again (blocking)."""
    for lock in locks:
        lock.release()


async def save_timeouts(api: HomeAssistantApi, entry_id: str) -> int:
    """Return the save timeouts the hub has counted."""
    return int((await diagnostics(api, entry_id))["hub"]["storage"]["save_timeouts"])


class Bench:
    """One run: a Home Assistant with a makerspace, measured phase after phase."""

    def __init__(self, args: argparse.Namespace, config_dir: Path, results: Results) -> None:
        """Measure with the command line's `args` in `config_dir`, into `results`."""
        self.args = args
        self.config_dir = config_dir
        self.results = results
        self.people = members(args.members)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process = HomeAssistantProcess(config_dir)
        self.judge = FrameJudge()
        self.ml_api = FakeMlApi(judge=self.judge, history=False)

    async def run(self) -> None:
        """Start Home Assistant, set the makerspace up, measure, stop."""
        await asyncio.to_thread(write_config, self.config_dir, self.port, self.people)
        await self.ml_api.start()
        self.process.start()
        try:
            async with aiohttp.ClientSession() as session:
                api = HomeAssistantApi(session, self.base_url)
                space = await self._set_up(api)
                meter = Meter(api, self.process.pid)
                fleet = [
                    Board(plan, random.Random(number))
                    for number, plan in enumerate(plans(self.base_url, space, self.people))
                ]
                await self._boards(meter, fleet)
                await self._usage_records(api, meter, space, fleet)
                await self._hung_disk(api, meter, space, fleet)
                window = await self._quiet(meter, fleet)
                await self._printers(api, meter, space)  # over a minute: the rows committed
                await self._state_rows(space, window)
                await self._recording(api, space)
                await self._tracing(api, fleet)
                await self._startup(api, space)
        finally:
            await self.ml_api.stop()
            say("stopping Home Assistant")
            await asyncio.to_thread(self.process.stop)

    async def _set_up(self, api: HomeAssistantApi) -> Makerspace:
        args = self.args
        say(f"starting Home Assistant in {self.config_dir} (log: home-assistant.log)")
        await api.wait_until_up()
        await api.sign_in(USERNAME, PASSWORD)
        await api.wait_until_running()
        self.results.home_assistant = (await api.request("GET", "/api/config"))["version"]
        say(
            f"setting up {args.machines} machines, {args.printers} printers "
            f"and {args.sensors} recording sensors through the config flows"
        )
        entry_id = await provision(
            api,
            self.config_dir,
            self.ml_api.url,
            machines=args.machines,
            printers=args.printers,
            sensors=args.sensors,
        )
        space = await read_makerspace(self.config_dir, entry_id, args.machines, args.printers)
        await self._loaded(api, space)
        return space

    async def _loaded(self, api: HomeAssistantApi, space: Makerspace) -> None:
        args = self.args
        await wait_until_loaded(api, space.entry_id, args.machines, args.printers, args.sensors)

    async def _boards(self, meter: Meter, fleet: list[Board]) -> None:
        results, seconds = self.results, self.args.seconds
        say(f"warm-up: {len(fleet)} boards for {WARM_UP_SEC:.0f} s")
        await run_fleet(fleet, WARM_UP_SEC)

        say(f"boards: {len(fleet)} boards x 1 Hz for {seconds:.0f} s")
        await meter.start()
        results.boards = await run_fleet(fleet, seconds)
        await meter.stop()
        results.boards_cpu, results.boards_lag = meter.cpu, meter.lag
        say(f"  {results.boards.outcome}")

        say(f"one board back-to-back for {BACK_TO_BACK_SEC:.0f} s")
        await meter.start()
        results.single = await back_to_back(fleet[:1], BACK_TO_BACK_SEC)
        await meter.stop()
        results.single_lag = meter.lag
        say(f"  {results.single.per_second:.0f} replies/s, {results.single.outcome}")

        say(f"{TEN_BOARDS} boards back-to-back, side by side, for {BACK_TO_BACK_SEC:.0f} s")
        await meter.start()
        results.ten = await back_to_back(fleet[:TEN_BOARDS], BACK_TO_BACK_SEC)
        await meter.stop()
        results.ten_lag = meter.lag
        say(f"  {results.ten.per_second:.0f} replies/s, {results.ten.outcome}")

    async def _usage_records(
        self, api: HomeAssistantApi, meter: Meter, space: Makerspace, fleet: list[Board]
    ) -> None:
        phase = UsageRecordsPhase(
            api,
            meter,
            space,
            options=hub_options(self.base_url, self.ml_api.url),  # as provisioned
            loaded=lambda: self._loaded(api, space),
        )
        self.results.usage = await phase.run(fleet, self.args.seconds)

    async def _hung_disk(
        self, api: HomeAssistantApi, meter: Meter, space: Makerspace, fleet: list[Board]
    ) -> None:
        results, seconds = self.results, self.args.seconds
        say(f"boards with the disk hung for {seconds:.0f} s")
        before = await save_timeouts(api, space.entry_id)
        locks = await asyncio.to_thread(hold_state_locks, space.storage_dir)
        try:
            await meter.start()
            results.hung = await run_fleet(fleet, seconds)
            await meter.stop()
        finally:
            await asyncio.to_thread(release, locks)
        results.hung_lag = meter.lag
        results.hung_locked = len(locks)
        results.hung_timeouts = await save_timeouts(api, space.entry_id) - before
        say(f"  {results.hung.outcome}, {results.hung_timeouts} save timeouts")

    async def _quiet(self, meter: Meter, fleet: list[Board]) -> tuple[float, float]:
        """Let the boards only heart-beat; return the measured window (wall clock)."""
        results, seconds = self.results, self.args.seconds
        say(f"boards heart-beating, no cards, for {QUIET_WARM_UP_SEC + seconds:.0f} s")
        # The cards out, their sessions ended (and saves the hung disk held back done).
        await run_fleet(fleet, QUIET_WARM_UP_SEC, cards=False)
        await meter.start()
        start = time.time()
        results.quiet = await run_fleet(fleet, seconds, cards=False)
        end = time.time()
        await meter.stop()
        results.quiet_lag = meter.lag
        say(f"  {results.quiet.outcome}")
        return start, end

    async def _state_rows(self, space: Makerspace, window: tuple[float, float]) -> None:
        """Count the machines' state rows the recorder wrote while the boards were quiet."""
        entities = await asyncio.to_thread(read_machine_entities, self.config_dir, space.entry_id)
        rows = await asyncio.to_thread(
            count_state_rows, self.config_dir / DATABASE, entities, *window
        )
        self.results.state_rows = rows
        say(
            f"recorder: {sum(rows.by_machine.values())} state rows of the machines while "
            f"quiet, {rows.per_machine_minute:.2f} per machine per minute "
            f"(worst {rows.worst_machine_minute:.2f}); the most: {rows.busiest(3)}"
        )

    async def _tracing(self, api: HomeAssistantApi, fleet: list[Board]) -> None:
        """Run the boards with every allocation traced: what stays alive, and where from."""
        seconds = min(TRACE_SEC, self.args.seconds)
        say(f"allocations traced (tracemalloc): {len(fleet)} boards for {seconds:.0f} s")
        await api.request("GET", "/api/bench_probe?trace=start")
        tally = await time_fleet(fleet, seconds)
        trace = await api.request("GET", "/api/bench_probe?trace=stop")
        posts = len(tally.latencies) + tally.errors
        figures = self.results.trace = TraceFigures.of(trace, posts, seconds)
        say(
            f"  per 1,000 posts: {figures.per_thousand_posts(figures.blocks):,.0f} blocks "
            f"({figures.per_thousand_posts(figures.kib):,.1f} KiB) still alive, tracked "
            f"objects {figures.per_thousand_posts(figures.objects_change):+,.0f}"
        )

    async def _printers(self, api: HomeAssistantApi, meter: Meter, space: Makerspace) -> None:
        results, seconds = self.results, self.args.seconds
        await asyncio.sleep(SETTLE_SEC)  # the boards' last posts and saves finish
        # As long as the printers phase: its CPU time above this idle is theirs.
        say(f"idle for {seconds:.0f} s")
        await meter.start()
        await asyncio.sleep(seconds)
        await meter.stop()
        results.idle_cpu, results.idle_lag = meter.cpu, meter.lag
        say(f"printers: {len(space.printer_status_entities)} printing for {seconds:.0f} s")
        for status in space.printer_status_entities:
            await api.set_state(status, "printing", {"filename": "bench.gcode"})
        await asyncio.sleep(PRINT_WARM_UP_SEC)  # every printer has scored its first frames
        frames = self.judge.frames
        await meter.start()
        await asyncio.sleep(seconds)
        await meter.stop()
        results.frames = self.judge.frames - frames
        results.printers_lag = meter.lag
        for status in space.printer_status_entities:
            await api.set_state(status, "idle", {})
        busy = (meter.cpu - results.idle_cpu) * seconds
        results.frame_cpu_ms = busy / results.frames * 1000 if results.frames else math.nan
        say(f"  {results.frames} frames, {results.frame_cpu_ms:.1f} ms CPU per frame")

    async def _recording(self, api: HomeAssistantApi, space: Makerspace) -> None:
        results = self.results
        heap = (await api.request("GET", "/api/bench_probe?heap=1"))["heap"]
        results.heap_objects = heap["objects"]
        say(f"Home Assistant holds {heap['objects']:,} objects; the most: {heap['kinds'][:8]}")
        sensors = (await diagnostics(api, space.entry_id))["recording_sensors"]
        lateness = [sensor["slot_start_lateness_last_day"] for sensor in sensors]
        results.slots = sum(stats["count"] for stats in lateness)
        p99s = [stats["p99"] for stats in lateness if stats["p99"] is not None]
        maxima = [stats["max"] for stats in lateness if stats["max"] is not None]
        results.slot_p99 = max(p99s, default=None)
        results.slot_max = max(maxima, default=None)
        say(f"recording sensors: {results.slots} slots, worst p99 {results.slot_p99} s")

    async def _startup(self, api: HomeAssistantApi, space: Makerspace) -> None:
        startups = self.results.startups
        for _ in range(RELOADS):
            started = time.perf_counter()
            await api.request("POST", f"{ENTRIES}/{space.entry_id}/reload")
            startups.append(time.perf_counter() - started)
            await self._loaded(api, space)
        say("start-up: " + ", ".join(f"{seconds:.2f} s" for seconds in startups))


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def main() -> int:
    """Parse the command line, measure, print and write the figures."""
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--boards", type=int, default=100, help="machines and their boards")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each phase")
    parser.add_argument("--printers", type=int, default=20)
    parser.add_argument("--sensors", type=int, default=20, help="recording sensors")
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="run it all this many times, each on a fresh Home Assistant, and report the "
        "worst (about 11 minutes a run with the defaults)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=REPO / "docs" / "benchmarks.md",
        help="where to write the results (default: docs/benchmarks.md); '-' for nowhere",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="build the config in this new folder and keep it afterwards (several runs: "
        "in numbered folders inside it)",
    )
    args = parser.parse_args()
    args.machines = args.boards
    runs = []
    try:
        for number in range(1, max(args.runs, 1) + 1):
            if args.runs > 1:
                say(f"run {number} of {args.runs}")
            keep = args.keep / str(number) if args.keep and args.runs > 1 else args.keep
            runs.append(_run(args, keep))
    except (DemoSetupError, TimeoutError, OSError) as err:
        print(f"bench: {err}", file=sys.stderr)
        return 1
    results = worst_of(runs)
    results.minutes = max(run.minutes for run in runs)
    command = "scripts/bench" + "".join(f" {arg}" for arg in sys.argv[1:])
    report = markdown(results, command, runs_section(runs))
    print()
    print(report)
    if str(args.output) != "-":
        args.output.write_text(report)
        say(f"wrote {args.output}")
    return 0 if all(ok for *_, ok in targets(results)) else 2


def _run(args: argparse.Namespace, keep: Path | None) -> Results:
    """Measure once, on a fresh Home Assistant; return the figures."""
    cores = len(os.sched_getaffinity(0))
    results = Results(
        machine=f"{_cpu_model()}, {cores} cores",
        python=platform.python_version(),
        date=datetime.now(UTC).strftime("%Y-%m-%d"),
        members=args.members,
        machines=args.machines,
        printers=args.printers,
        sensors=args.sensors,
        seconds=args.seconds,
    )
    started = time.monotonic()
    with config_dir(keep, "makerspace-bench-") as folder:
        asyncio.run(Bench(args, folder, results).run())
    results.minutes = (time.monotonic() - started) / 60
    say(f"the run took {results.minutes:.1f} min")
    return results


if __name__ == "__main__":
    sys.exit(main())
