"""Simulated machine boards: they post like the ESP32 boards and obey the replies.

Each board posts its state on every change (card in, card out, Oops pressed) and a
heartbeat every 10 s, with a 5 s timeout. Like the firmware, it changes its outputs
(relays, LCD, LEDs) only on a 2xx JSON reply and keeps them on anything else. Its
members follow a script: an authorized member logs in and works for a while, an
unknown card is tried, a member without the authorization tries; one board's Oops
button is pressed once. The laser's board reports its current: cutting, or idle when
its member walks away with the card still in, until the hub logs them out.
"""

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
import random
import time
from typing import Any

import aiohttp

from .makerspace import UNKNOWN_FOB, DemoMachine, board_fob, members_named

HEARTBEAT_SEC = 10.0
REQUEST_TIMEOUT_SEC = 5.0


# What a board with a current sensor reports: relay off, cutting, or on but idle.
OFF_AMPS, CUTTING_AMPS, IDLE_AMPS = 0.0, 3.2, 0.1


@dataclass(frozen=True, slots=True)
class Step:
    """Wait `wait` seconds, then put `card` in the reader ("" = take it out).

    `idle`: the member walks away, the card staying in and the machine running idle.
    """

    wait: float
    card: str
    idle: bool = False


def scenario(machine: DemoMachine, seed: int = 0) -> Iterator[Step]:
    """Return the endless list of what happens at the machine's reader."""
    dice = random.Random(f"{machine.name}{seed}")
    users = members_named(*machine.users)
    strangers = members_named(*machine.strangers)
    turn = 0
    while True:
        user = users[turn % len(users)]
        yield Step(dice.uniform(10, 25), board_fob(user))  # logs in...
        if machine.idle_logout_minutes and turn % 2:
            # ...walks away, the card in; the hub logs them out; they come back.
            yield Step(dice.uniform(20, 40), board_fob(user), idle=True)
            yield Step(machine.idle_logout_minutes * 60 + 20, "")
        else:
            yield Step(dice.uniform(40, 100), "")  # ...works, and leaves
        if turn % 2 == 0:
            yield Step(dice.uniform(10, 20), UNKNOWN_FOB)  # a card nobody knows
        else:
            yield Step(dice.uniform(10, 20), board_fob(strangers[turn % len(strangers)]))
        yield Step(6, "")
        turn += 1


@dataclass(slots=True)
class Outputs:
    """What the board shows and switches: set only by a good reply."""

    relay: bool = False
    second_relay: bool = False
    display: str = "Connecting..."
    oops_led: bool = False


class Board:
    """One machine's board."""

    def __init__(
        self,
        machine: DemoMachine,
        url: str,
        session: aiohttp.ClientSession,
        say: Callable[[str], None] = print,
    ) -> None:
        """Post to `url` (the machine's board URL or the hub's)."""
        self.machine = machine
        self.url = url
        self.session = session
        self.say = say
        self.card = ""
        self.idle = False
        self.oops = False
        self.outputs = Outputs()
        self.errors = 0
        self._booted = time.monotonic()
        self._heard = False
        self._lock = asyncio.Lock()

    def body(self) -> dict[str, Any]:
        """Return the state the board posts."""
        body: dict[str, Any] = {
            "machine_name": self.machine.name,
            "oops": self.oops,
            "rfid_value": self.card,
            "uptime": round(time.monotonic() - self._booted + 12.0, 2),
            "wifi_signal_db": -58,
            "wifi_signal_percent": 84,
            "internal_temperature_c": 53.9,
            "second_relay_state": self.outputs.second_relay,
        }
        if self.machine.idle_logout_minutes:  # a board with a current sensor
            running = IDLE_AMPS if self.idle else CUTTING_AMPS
            body["amps"] = running if self.outputs.relay else OFF_AMPS
        return body

    async def post(self) -> dict[str, Any] | None:
        """Post the state; apply and return the reply if it is a good one."""
        self._heard = True
        async with self._lock:
            try:
                async with self.session.post(
                    self.url,
                    json=self.body(),
                    timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SEC),
                ) as response:
                    if not 200 <= response.status < 300:
                        raise aiohttp.ClientError(f"HTTP {response.status}")
                    reply: dict[str, Any] = await response.json()
            except (aiohttp.ClientError, TimeoutError, ValueError) as err:
                self.errors += 1
                self.say(f"{self.machine.name:<11} no good reply ({err}): outputs kept")
                return None
        self._apply(reply)
        return reply

    def _apply(self, reply: dict[str, Any]) -> None:
        before = self.outputs
        after = Outputs(
            relay=bool(reply["relay"]),
            second_relay=bool(reply["second_relay"]),
            display=str(reply["display"]),
            oops_led=bool(reply["oops_led"]),
        )
        self.outputs = after
        if after != before:
            relays = "relay ON " if after.relay else "relay off"
            if self.machine.second_relay is not None:
                relays += " + dust ON" if after.second_relay else ""
            oops = "  [OOPS LED]" if after.oops_led else ""
            self.say(
                f"{self.machine.name:<11} {relays}  {after.display.replace(chr(10), ' ')}{oops}"
            )

    async def insert(self, card: str, *, idle: bool = False) -> dict[str, Any] | None:
        """Put a card in the reader ("" takes it out) and post; `idle`: walk away."""
        if not self._heard and card:
            # A board posts when WiFi connects, before it reads a card: the hub judges
            # no card of a board it never heard from (it may have been in at boot).
            await self.post()
        self.card, self.idle = card, idle
        if idle:
            self.say(f"{self.machine.name:<11} the member walks away, the card still in")
        return await self.post()

    async def press_oops(self) -> None:
        """Press the Oops button and let it go."""
        self.oops = True
        await self.post()
        self.oops = False
        await self.post()

    async def run(self, seed: int = 0) -> None:
        """Heartbeat and follow the scenario until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._heartbeat())
            group.create_task(self._members(seed))
            if self.machine.oops_after_sec is not None:
                group.create_task(self._oops_later(self.machine.oops_after_sec))

    async def _heartbeat(self) -> None:
        while True:
            await self.post()
            await asyncio.sleep(HEARTBEAT_SEC)

    async def _members(self, seed: int) -> None:
        for step in scenario(self.machine, seed):
            await asyncio.sleep(step.wait)
            await self.insert(step.card, idle=step.idle)

    async def _oops_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self.say(f"{self.machine.name:<11} someone presses Oops (clear it in Home Assistant)")
        await self.press_oops()
