"""A fleet of simulated machine boards posting like the ESP32 firmware, timed.

Each board keeps one keep-alive connection, posts a heartbeat every second with a
realistic payload, and between heartbeats a member comes, presents a card (an
authorized member, one without the authorization, or an unknown card) and leaves:
each card in and out is posted at once, like the firmware does. Every reply is
timed and checked: a 2xx JSON reply with the six keys, whose relay is what the
member may do. Even machines post to their own webhook, odd ones to the hub's
(as boards migrated from dm_mac do). A quiet fleet (`cards=False`) only heart-beats,
its readings wandering as ever: a makerspace at night.
"""

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
import math
import random
import time
from typing import Any

import aiohttp

from .instance import Makerspace, Member, machine_authorization
from .stats import Latencies

HEARTBEAT_SEC = 1.0
REQUEST_TIMEOUT_SEC = 5.0  # the firmware's
REPLY_KEYS = {
    "relay",
    "display",
    "oops_led",
    "status_led_rgb",
    "status_led_brightness",
    "second_relay",
}


@dataclass(slots=True)
class Tally:
    """What the boards measured."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    wrong: int = 0
    first_error: str | None = None

    def error(self, what: str) -> None:
        """Count a failed request."""
        self.errors += 1
        self.first_error = self.first_error or what

    def summary(self, seconds: float) -> Latencies:
        """Return the figures over `seconds`."""
        return Latencies.of(
            self.latencies,
            errors=self.errors,
            wrong=self.wrong,
            seconds=seconds,
            first_error=self.first_error,
        )

    @classmethod
    def pooled(cls, tallies: Iterable["Tally"]) -> "Tally":
        """Return what several runs measured, together."""
        pooled = cls()
        for tally in tallies:
            pooled.latencies += tally.latencies
            pooled.errors += tally.errors
            pooled.wrong += tally.wrong
            pooled.first_error = pooled.first_error or tally.first_error
        return pooled


@dataclass(frozen=True, slots=True)
class BoardPlan:
    """Where a board posts, and the cards its machine sees."""

    name: str
    url: str
    authorized: list[str]
    unauthorized: list[str]


def plans(base_url: str, space: Makerspace, people: list[Member]) -> list[BoardPlan]:
    """Return one plan per machine."""
    result = []
    for number, (name, webhook) in enumerate(sorted(space.machine_webhooks.items())):
        needed = machine_authorization(name)
        own = webhook if number % 2 == 0 else space.hub_webhook
        result.append(
            BoardPlan(
                name=name,
                url=f"{base_url}/api/webhook/{own}",
                authorized=[p.fob for p in people if needed in p.authorizations],
                unauthorized=[p.fob for p in people if needed not in p.authorizations],
            )
        )
    return result


class Board:
    """One board: a connection, a payload and who stands at the machine."""

    def __init__(self, plan: BoardPlan, dice: random.Random) -> None:
        """Simulate the board of `plan`."""
        self.plan = plan
        self.dice = dice
        # Booted a while ago; its uptime runs on while the benchmark pauses it (a
        # reload between phases): one that stood still would look rebooted to the hub.
        self.booted = time.monotonic() - dice.uniform(1_000, 100_000)
        self.card = ""
        self.relay_expected = False
        self.heard = False
        self.signal = dice.randint(-75, -45)  # dBm, as ESPHome reports it
        self.temperature = dice.uniform(45, 60)

    def body(self) -> dict[str, Any]:
        """Return the state the board posts."""
        if self.dice.random() < 0.2:  # the signal wanders a little now and then
            self.signal = min(max(self.signal + self.dice.choice((-2, -1, 1, 2)), -90), -30)
        self.temperature += self.dice.uniform(-0.2, 0.2)
        return {
            "machine_name": self.plan.name,
            "oops": False,
            "rfid_value": self.card,
            "uptime": round(time.monotonic() - self.booted, 2),
            "wifi_signal_db": self.signal,
            "wifi_signal_percent": min(max(2 * (self.signal + 100), 0), 100),
            "internal_temperature_c": round(self.temperature, 2),
            "second_relay_state": False,
        }

    def next_card(self) -> None:
        """Take the card out, or present the next one."""
        if self.card:
            self.card, self.relay_expected = "", False
            return
        roll = self.dice.random()
        if roll < 0.7:
            self.card, self.relay_expected = self.dice.choice(self.plan.authorized), True
        elif roll < 0.9:
            self.card, self.relay_expected = self.dice.choice(self.plan.unauthorized), False
        else:
            self.card, self.relay_expected = str(self.dice.randint(10**9, 2 * 10**9)), False

    async def post(self, session: aiohttp.ClientSession, tally: Tally) -> None:
        """Post the state once; time and check the reply."""
        if not self.heard and self.card:
            # A board's first post (WiFi connected) comes before it reads a card: the
            # hub judges no card of a board it never heard from (it may have been in
            # the reader at boot).
            card, expected = self.card, self.relay_expected
            self.card, self.relay_expected = "", False
            await self.post(session, tally)
            self.card, self.relay_expected = card, expected
        self.heard = True
        started = time.perf_counter()
        try:
            async with (
                asyncio.timeout(REQUEST_TIMEOUT_SEC),
                session.post(self.plan.url, json=self.body()) as response,
            ):
                reply = await response.json() if response.status == 200 else None
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            tally.error(f"{self.plan.name}: {err!r}")
            return
        elapsed = time.perf_counter() - started
        if not isinstance(reply, dict) or reply.keys() != REPLY_KEYS:
            tally.error(f"{self.plan.name}: HTTP {status} {reply!r}")
            return
        tally.latencies.append(elapsed)
        if reply["relay"] is not self.relay_expected:
            tally.wrong += 1

    async def run(self, until: float, tally: Tally, *, cards: bool = True) -> None:
        """Heartbeat every second and post each card change, until `until` (loop time).

        Without `cards`, a card in the reader is taken out first, then no member comes.
        """
        loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(limit=1)  # one keep-alive connection, like a board
        async with aiohttp.ClientSession(connector=connector) as session:
            beat = loop.time() + self.dice.random() * HEARTBEAT_SEC
            change = beat + self.dice.uniform(2, 15) if cards else math.inf
            if not cards and self.card:
                self.next_card()  # out
                await self.post(session, tally)
            while (now := loop.time()) < until:
                await asyncio.sleep(max(min(beat, change) - now, 0))
                if loop.time() >= until:
                    return
                if loop.time() >= change:
                    self.next_card()
                    change += self.dice.uniform(5, 30) if self.card else self.dice.uniform(3, 20)
                else:
                    beat += HEARTBEAT_SEC
                await self.post(session, tally)


async def time_fleet(boards: list[Board], seconds: float, *, cards: bool = True) -> Tally:
    """Run every board for `seconds` (members coming and going, or not); return the tally."""
    tally = Tally()
    until = asyncio.get_running_loop().time() + seconds
    async with asyncio.TaskGroup() as group:
        for board in boards:
            group.create_task(board.run(until, tally, cards=cards))
    return tally


async def run_fleet(boards: list[Board], seconds: float, *, cards: bool = True) -> Latencies:
    """Run every board for `seconds`; return the figures."""
    return (await time_fleet(boards, seconds, cards=cards)).summary(seconds)


async def back_to_back(boards: list[Board], seconds: float) -> Latencies:
    """Post as fast as each board can, one request after the other, for `seconds`.

    The boards post side by side, each over its own keep-alive connection; every
    reply is checked as ever. Replies per second: of all the boards together.
    """
    tally = Tally()
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds

    async def hurry(board: Board) -> None:
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector) as session:
            while loop.time() < until:
                await board.post(session, tally)

    async with asyncio.TaskGroup() as group:
        for board in boards:
            group.create_task(hurry(board))
    return tally.summary(seconds)
