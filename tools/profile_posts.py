"""Profile board posts in a real Home Assistant process: `python -m tools.profile_posts`.

Sets up a makerspace the way `scripts/bench` does (a generated config, Home Assistant
from this virtualenv, the machines through the config flows), plus a probe
integration (`tools/post_profiler`) that measures windows of posts from inside the
process. Boards post back to back (a card now and then, as members come and go;
`--paced`: like the bench's boards, a heartbeat a second), first to the probe's
floor webhook (Home Assistant's own cost of a webhook answering a constant), then to
the machines. Each mode is a window of its own, since a profiler slows what it
watches:

- `cpu`: CPU per post of the event loop thread and of the whole process, floor and
  machines; garbage collections and objects promoted to the old generation per
  1,000 posts. No profiler: these are the figures to compare before/after.
- `cprofile`: the functions of makerspace_hub by own and cumulative time per post, and
  calls per post (inflated by cProfile; the shares are what count). cProfile mixes up
  the stacks of threads on Python 3.12+: use `--no-recorder` for clean figures.
- `tracemalloc`: memory blocks allocated during the window and still alive at its
  end, per 1,000 posts, by the line of makerspace_hub that allocated them.
- `survivors`: the objects the garbage collector tracks (and walks in every full
  collection) created during the window and still alive at its end, by type.

`--integration PATH` runs another copy of makerspace_hub (e.g. the code before a
change) for paired before/after runs on the same machine.

Asyncio runs in production mode here (pytest runs it in debug mode, which costs more
than everything measured).
"""

import argparse
import asyncio
from collections import defaultdict
from dataclasses import dataclass, replace
import json
import math
from pathlib import Path
import random
import shutil
import statistics
import sys
from typing import Any

import aiohttp

from tools.bench.boards import Board, BoardPlan, Tally, plans, time_fleet
from tools.bench.instance import (
    PASSWORD,
    USERNAME,
    HomeAssistantProcess,
    config_dir,
    free_port,
    members,
    provision,
    read_makerspace,
    wait_until_loaded,
    write_config,
)
from tools.demo.homeassistant_api import DemoSetupError, HomeAssistantApi
from tools.fake_ml_api import FakeMlApi
from tools.post_profiler import FLOOR_WEBHOOK_ID

HERE = Path(__file__).parent
PROBE = "/api/post_profiler"
OURS = "/makerspace_hub/"
ENTRY_POINT = "_async_handle"  # BoardGate's webhook handler: everything a post costs us
# Functions of Home Assistant and the standard library worth counting per post.
WATCHED = (
    "async_write_ha_state",
    "async_set_internal",
    "async_fire_internal",
    "json_response",
    "dumps",
    "asdict",
    "deepcopy",
    "start_new_thread",
    "now",
    "isEnabledFor",
)
MODES = ("cpu", "cprofile", "tracemalloc", "survivors")
RECORDER = "recorder:\n  purge_keep_days: 1\n"


def add_probe(config_dir: Path, *, recorder: bool, integration: Path | None) -> None:
    """Add the profiler's probe to a config `write_config` wrote (blocking).

    `integration`: run this copy of makerspace_hub instead of the checkout's (e.g. the
    code before a change, for paired runs on the same machine).
    """
    integrations = config_dir / "custom_components"
    shutil.copytree(HERE / "post_profiler", integrations / "post_profiler")
    if integration is not None:
        (integrations / "makerspace_hub").unlink()
        (integrations / "makerspace_hub").symlink_to(integration.resolve())
    configuration = config_dir / "configuration.yaml"
    text = configuration.read_text()
    if not recorder:
        text = text.replace(RECORDER, "")
    configuration.write_text(text + "post_profiler:\n")


# A board presents an unknown card at most this often: back to back, a card rate per
# post would otherwise pass the hub's guessing limit (10 unknown cards a minute), and
# every card after it is refused (which the boards count as wrong replies).
UNKNOWN_CARD_EVERY_SEC = 7.0
_last_unknown: dict[str, float] = {}  # board -> loop time of its last unknown card


def _change_card(board: Board, now: float) -> None:
    """Present the next card or take it out; an unknown card only now and then."""
    board.next_card()
    if not board.card or board.relay_expected or board.card in board.plan.unauthorized:
        return
    if now - _last_unknown.get(board.plan.name, -math.inf) < UNKNOWN_CARD_EVERY_SEC:
        board.card = board.dice.choice(board.plan.unauthorized)  # refused all the same
    else:
        _last_unknown[board.plan.name] = now


async def drive(boards: list[Board], seconds: float, card_rate: float) -> Tally:
    """Post back to back from every board for `seconds`; a card changes at `card_rate`."""
    tally = Tally()
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds

    async def run(board: Board) -> None:
        connector = aiohttp.TCPConnector(limit=1)  # one keep-alive connection, like a board
        async with aiohttp.ClientSession(connector=connector) as session:
            while loop.time() < until:
                if board.dice.random() < card_rate:
                    _change_card(board, loop.time())
                await board.post(session, tally)

    async with asyncio.TaskGroup() as group:
        for board in boards:
            group.create_task(run(board))
    return tally


def posts_of(tally: Tally) -> int:
    """Return the posts a tally saw (answered or not)."""
    return len(tally.latencies) + tally.errors


class Profiler:
    """One Home Assistant with a makerspace, and its windows of posts."""

    def __init__(self, args: argparse.Namespace, config_dir: Path) -> None:
        """Profile with the command line's `args` in `config_dir`."""
        self.args = args
        self.config_dir = config_dir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.people = members(args.members)
        self.process = HomeAssistantProcess(config_dir)
        self.ml_api = FakeMlApi(history=False)  # the options flow checks it; no printers

    async def run(self) -> None:
        """Start Home Assistant, set the makerspace up, measure each mode, stop."""
        args = self.args
        await asyncio.to_thread(write_config, self.config_dir, self.port, self.people)
        await asyncio.to_thread(
            add_probe,
            self.config_dir,
            recorder=not args.no_recorder,
            integration=args.integration,
        )
        await self.ml_api.start()
        self.process.start()
        try:
            async with aiohttp.ClientSession() as session:
                api = HomeAssistantApi(session, self.base_url)
                await api.wait_until_up()
                await api.sign_in(USERNAME, PASSWORD)
                await api.wait_until_running()
                say(f"setting up {args.machines} machines")
                entry_id = await provision(
                    api,
                    self.config_dir,
                    self.ml_api.url,
                    machines=args.machines,
                    printers=0,
                    sensors=0,
                )
                space = await read_makerspace(self.config_dir, entry_id, args.machines, 0)
                await wait_until_loaded(api, entry_id, args.machines, 0, 0)
                fleet = [
                    Board(plan, random.Random(number))
                    for number, plan in enumerate(plans(self.base_url, space, self.people))
                ][: args.boards]
                floor = [Board(self._to_floor(board.plan), random.Random(0)) for board in fleet]
                say(f"warm-up: {len(fleet)} boards for {args.warm_up:.0f} s")
                if args.paced:
                    await time_fleet(fleet, args.warm_up, cards=args.card_rate > 0)
                else:
                    await drive(fleet, args.warm_up, args.card_rate)
                await drive(floor, min(args.warm_up, 5.0), 0.0)
                for mode in args.modes:
                    await self._measure(api, mode, fleet, floor)
        finally:
            await self.ml_api.stop()
            say("stopping Home Assistant")
            await asyncio.to_thread(self.process.stop)

    def _to_floor(self, plan: BoardPlan) -> BoardPlan:
        return replace(plan, url=f"{self.base_url}/api/webhook/{FLOOR_WEBHOOK_ID}")

    async def _window(
        self, api: HomeAssistantApi, mode: str, boards: list[Board], card_rate: float
    ) -> tuple[int, dict[str, Any]]:
        await api.request("POST", PROBE, {"action": "start", "mode": mode})
        if self.args.paced:  # the bench's boards: a heartbeat a second, members come and go
            tally = await time_fleet(boards, self.args.seconds, cards=card_rate > 0)
        else:
            tally = await drive(boards, self.args.seconds, card_rate)
        figures: dict[str, Any] = await api.request(
            "POST", PROBE, {"action": "stop", "top": self.args.top}
        )
        if tally.errors or tally.wrong:
            say(f"  {tally.errors} errors, {tally.wrong} wrong replies: {tally.first_error}")
        return posts_of(tally), figures

    async def _measure(
        self, api: HomeAssistantApi, mode: str, fleet: list[Board], floor: list[Board]
    ) -> None:
        seconds = self.args.seconds
        if mode == "cpu":
            # Floor and machines in turns (F M, M F, ...): a machine shared with other
            # work drifts, and a pair of windows side by side drifts least.
            rounds = self.args.rounds
            say(
                f"cpu: {rounds} rounds of the floor webhook and the machines, "
                f"{len(fleet)} boards, {seconds:.0f} s each"
            )
            measured: list[tuple[Window, Window]] = []
            for number in range(rounds):
                pair: dict[str, Window] = {}
                for label in ("floor", "machines")[:: 1 if number % 2 == 0 else -1]:
                    boards, rate = (
                        (floor, 0.0) if label == "floor" else (fleet, self.args.card_rate)
                    )
                    pair[label] = Window(*await self._window(api, mode, boards, rate))
                measured.append((pair["floor"], pair["machines"]))
            print_cpu(measured)
            return
        say(f"{mode}: the machines, {len(fleet)} boards for {seconds:.0f} s")
        posts, figures = await self._window(api, mode, fleet, self.args.card_rate)
        if self.args.dump is not None:
            dump = self.args.dump.with_name(f"{self.args.dump.stem}-{mode}.json")
            await asyncio.to_thread(dump.write_text, json.dumps({"posts": posts, **figures}))
        print_gc(mode, posts, figures)
        if mode == "cprofile":
            print_profile(posts, figures["profile"], self.args.top)
        elif mode == "tracemalloc":
            print_alive(posts, figures["alive"])
        else:
            print_survivors(posts, figures["survivors"])


def say(text: str) -> None:
    """Print what happens."""
    print(text, flush=True)


def per_post_us(seconds: float, posts: int) -> float:
    """Return `seconds` per post in microseconds."""
    return seconds / max(posts, 1) * 1e6


def print_gc(label: str, posts: int, figures: dict[str, Any]) -> None:
    """Print a window's garbage collection figures per 1,000 posts."""
    per_k = 1000 / max(posts, 1)
    collections = " / ".join(f"{count * per_k:.1f}" for count in figures["gc_collections"])
    say(
        f"  {label}: {posts} posts in {figures['seconds']:.1f} s; per 1,000 posts: "
        f"collections gen0/1/2 {collections}, promoted to the old generation "
        f"{figures['gc_promoted'] * per_k:,.0f}, old generation grew "
        f"{figures['old_objects_growth'] * per_k:,.0f}; longest full collection "
        f"{figures['gc_longest_full_ms']} ms"
    )


@dataclass(frozen=True, slots=True)
class Window:
    """What one window of posts cost."""

    posts: int
    figures: dict[str, Any]

    @property
    def loop_us(self) -> float:
        """Return the event loop's CPU per post."""
        return per_post_us(self.figures["loop_cpu"], self.posts)

    @property
    def process_us(self) -> float:
        """Return the whole process's CPU per post."""
        return per_post_us(self.figures["process_cpu"], self.posts)

    @property
    def rate(self) -> float:
        """Return the posts per second."""
        return self.posts / float(self.figures["seconds"])


def print_cpu(measured: list[tuple[Window, Window]]) -> None:
    """Print CPU per post of each round, floor and machines, and the medians."""
    for number, (floor, machines) in enumerate(measured, 1):
        say(
            f"  round {number}: floor {floor.rate:.0f} posts/s, {floor.loop_us:.0f} µs loop, "
            f"{floor.process_us:.0f} µs process; machines {machines.rate:.0f} posts/s, "
            f"{machines.loop_us:.0f} µs loop, {machines.process_us:.0f} µs process"
        )
    columns = {
        "floor, event loop": [floor.loop_us for floor, _ in measured],
        "floor, process": [floor.process_us for floor, _ in measured],
        "machines, event loop": [machines.loop_us for _, machines in measured],
        "machines, process": [machines.process_us for _, machines in measured],
        "above the floor, event loop": [m.loop_us - f.loop_us for f, m in measured],
        "above the floor, process": [m.process_us - f.process_us for f, m in measured],
    }
    say(
        "  medians, CPU per post: "
        + ", ".join(
            f"{name} {statistics.median(values):.0f} µs" for name, values in columns.items()
        )
    )
    rates = [machines.rate for _, machines in measured]
    say(f"  machines: median {statistics.median(rates):.0f} posts/s")
    for label, index in (("floor", 0), ("machines", 1)):
        windows = [pair[index] for pair in measured]
        figures = {
            "seconds": sum(w.figures["seconds"] for w in windows),
            "gc_collections": [
                sum(w.figures["gc_collections"][g] for w in windows) for g in range(3)
            ],
            "gc_promoted": sum(w.figures["gc_promoted"] for w in windows),
            "old_objects_growth": sum(w.figures["old_objects_growth"] for w in windows),
            "gc_longest_full_ms": max(w.figures["gc_longest_full_ms"] for w in windows),
        }
        print_gc(label, sum(w.posts for w in windows), figures)


def _short(filename: str, line: int, name: str) -> str:
    if OURS in filename:
        filename = filename.rsplit(OURS, 1)[1]
    elif "site-packages/" in filename:
        filename = filename.rsplit("site-packages/", 1)[1]
    elif filename.startswith("/"):
        filename = filename.rsplit("/lib/python3", 1)[-1].split("/", 1)[-1]
    return f"{filename}:{line}({name})"


def _shorten_paths(where: str) -> str:
    """Return `file:line` (possibly two of them) without the folders that say nothing."""
    for marker in (OURS, "site-packages/", "/lib/python3.13/", "/lib/python3.14/"):
        where = " ".join(
            part.rsplit(marker, 1)[1] if marker in part else part for part in where.split(" ")
        )
    return where


def _package(filename: str) -> str:
    if OURS in filename:
        return "makerspace_hub"
    if "site-packages/" in filename:
        return filename.rsplit("site-packages/", 1)[1].split("/", 1)[0]
    if filename == "~":
        return "builtins"
    return "stdlib"


def print_profile(posts: int, rows: list[list[Any]], top: int) -> None:
    """Print our functions by own and cumulative time per post, and time per package."""
    entry = [row for row in rows if OURS in row[0] and row[2] == ENTRY_POINT]
    total_own = sum(row[4] for row in rows)
    if entry:
        handled = per_post_us(entry[0][5], posts)
        say(f"  (under cProfile) a board post in BoardGate.{ENTRY_POINT}: {handled:.0f} µs")
    own = per_post_us(total_own, posts)
    say(f"  (under cProfile) own time on the loop and threads: {own:.0f} µs")
    packages: dict[str, float] = defaultdict(float)
    for row in rows:
        packages[_package(row[0])] += row[4]
    say(
        "  own time per post by package: "
        + ", ".join(
            f"{name} {per_post_us(own, posts):.0f} µs"
            for name, own in sorted(packages.items(), key=lambda item: -item[1])[:8]
        )
    )
    ours = [row for row in rows if OURS in row[0]]
    for title, column in (("own", 4), ("cumulative", 5)):
        say(f"  makerspace_hub by {title} time per post (µs, calls per post):")
        for row in sorted(ours, key=lambda row: -row[column])[:top]:
            say(
                f"    {per_post_us(row[column], posts):7.1f}  {row[3] / max(posts, 1):6.2f}  "
                f"{_short(row[0], row[1], row[2])}"
            )
    say("  watched functions by cumulative time per post (µs, calls per post):")
    watched = [row for row in rows if row[2] in WATCHED]
    for row in sorted(watched, key=lambda row: -row[5])[:top]:
        say(
            f"    {per_post_us(row[5], posts):7.1f}  {row[3] / max(posts, 1):6.2f}  "
            f"{_short(row[0], row[1], row[2])}"
        )
    say("  everything by own time per post (µs, calls per post):")
    for row in sorted(rows, key=lambda row: -row[4])[:top]:
        say(
            f"    {per_post_us(row[4], posts):7.1f}  {row[3] / max(posts, 1):6.2f}  "
            f"{_short(row[0], row[1], row[2])}"
        )


def print_alive(posts: int, alive: dict[str, Any]) -> None:
    """Print the blocks allocated in the window and still alive, per 1,000 posts."""
    per_k = 1000 / max(posts, 1)
    say(
        f"  still alive per 1,000 posts: {alive['blocks'] * per_k:,.0f} blocks, "
        f"{alive['bytes'] * per_k / 1024:,.1f} KiB"
    )
    for title, key in (("by the line of makerspace_hub", "ours"), ("by any line", "sites")):
        say(f"  {title} (blocks per 1,000 posts, bytes):")
        for where, count, size in alive[key]:
            say(f"    {count * per_k:8.1f}  {size:9,d}  {_shorten_paths(where)}")


def print_survivors(posts: int, survivors: dict[str, Any]) -> None:
    """Print the tracked objects created in the window and still alive, per 1,000 posts."""
    per_k = 1000 / max(posts, 1)
    say(f"  tracked objects still alive per 1,000 posts: {survivors['objects'] * per_k:,.0f}")
    for kind, count in survivors["kinds"]:
        say(f"    {count * per_k:8.1f}  {kind}")


def main() -> int:
    """Parse the command line, profile, print."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.profile_posts", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--machines", type=int, default=100)
    parser.add_argument(
        "--boards", type=int, help="boards posting (default: 10, or every machine's if paced)"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each window")
    parser.add_argument(
        "--rounds", type=int, default=4, help="cpu: pairs of floor and machines windows"
    )
    parser.add_argument("--warm-up", type=float, default=20.0)
    parser.add_argument(
        "--card-rate",
        type=float,
        default=0.015,
        help="card changes per post, back to back (unknown cards: one per board every 7 s)",
    )
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25, help="rows per table")
    parser.add_argument(
        "--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}"
    )
    parser.add_argument(
        "--paced",
        action="store_true",
        help="post like scripts/bench's boards (1 Hz, cards) instead of back to back",
    )
    parser.add_argument("--no-recorder", action="store_true", help="run without a recorder")
    parser.add_argument(
        "--integration", type=Path, help="profile this copy of makerspace_hub (default: ours)"
    )
    parser.add_argument(
        "--dump", type=Path, help="also write each window's raw figures to <DUMP>-<mode>.json"
    )
    parser.add_argument("--keep", type=Path, help="build the config in this new folder, keep it")
    args = parser.parse_args()
    args.modes = [mode for mode in args.modes.split(",") if mode]
    if args.boards is None:
        args.boards = args.machines if args.paced else 10
    if unknown := set(args.modes) - set(MODES):
        parser.error(f"unknown modes: {', '.join(sorted(unknown))}")
    try:
        with config_dir(args.keep, "makerspace-profile-") as folder:
            asyncio.run(Profiler(args, folder).run())
    except (DemoSetupError, TimeoutError, OSError) as err:
        print(f"profile_posts: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
