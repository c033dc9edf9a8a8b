"""The demo's shop floor: a printer that prints (and fails), its camera, a thermometer.

The printer's status is an entity the demo sets through Home Assistant's API, with
the file name as an attribute, like a printer integration would. Its camera is a
`local_file` camera on an image this module redraws: a print in progress, and
after a few minutes of the first print, spaghetti. The fake ML API judges the
snapshots it fetches by what they show. When makerspace_hub presses the pause
button, the printer pauses; a while later the print is cancelled and the next one
starts (and succeeds).
"""

import asyncio
from collections.abc import Callable
from io import BytesIO
import math
from pathlib import Path
import random
import time
from typing import Any

from PIL import Image, ImageDraw

from .homeassistant_api import HomeAssistantApi
from .makerspace import PRINTER_PAUSE_ENTITY, PRINTER_STATUS_ENTITY, TEMPERATURE_ENTITY

IDLE_SEC = 30.0
FAILS_AFTER_SEC = 150.0  # of the first print: after the detector's warm-up
PRINT_SEC = 600.0  # a good print
PAUSED_SEC = 120.0  # before the paused failed print is cancelled
TICK_SEC = 2.0
TEMPERATURE_EVERY_SEC = 20.0
# Where the spaghetti is drawn (left, top, right, bottom): the fake ML API boxes it.
SPAGHETTI_AREA = (120, 150, 520, 375)


def draw(progress: float, *, spaghetti: bool) -> bytes:
    """Return a JPEG of the print bed: a part `progress` (0-1) done, or spaghetti."""
    image = Image.new("RGB", (640, 480), (38, 40, 46))
    pen = ImageDraw.Draw(image)
    pen.rectangle((60, 380, 580, 420), fill=(90, 90, 96))  # the bed
    pen.text((16, 12), "DEMO PRINTER CAM", fill=(200, 200, 200))
    height = int(200 * progress)
    pen.rectangle((250, 380 - height, 390, 380), fill=(240, 120, 30))
    if spaghetti:
        dice = random.Random(7)  # the same mess every time: one image, one verdict
        left, top, right, bottom = SPAGHETTI_AREA
        for _ in range(60):
            points = [(dice.randint(left, right), dice.randint(top, bottom)) for _ in range(4)]
            pen.line(points, fill=(250, 150, 60), width=3)
    out = BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


SPAGHETTI = draw(0.3, spaghetti=True)


def judge(image: bytes) -> list[Any]:
    """Judge a snapshot like the ML API: spaghetti is a failure, the rest mostly fine.

    The spaghetti's boxes ([xc, yc, w, h] in pixels, like Obico's) frame the mess and
    its thickest knot, so the printer's detection image shows them where it is.
    """
    if image == SPAGHETTI:
        left, top, right, bottom = SPAGHETTI_AREA
        mess = [(left + right) / 2, (top + bottom) / 2, right - left, bottom - top]
        return [["failure", 0.92, mess], ["failure", 0.81, [300, 260, 180, 140]]]
    noise = random.random()
    return [["failure", round(noise * 0.2, 3), [320, 300, 40, 40]]] if noise > 0.6 else []


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` so that a reader never sees half an image."""
    part = path.with_suffix(".part")
    part.write_bytes(data)
    part.replace(path)


class Shop:
    """The printer, its camera image and the shop thermometer."""

    def __init__(
        self, api: HomeAssistantApi, camera_file: Path, say: Callable[[str], None] = print
    ) -> None:
        """Draw the camera image into `camera_file`."""
        self.api = api
        self.camera_file = camera_file
        self.say = say
        self.prints = 0

    async def run(self) -> None:
        """Print, fail, pause, print again... and read the thermometer, until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._printer())
            group.create_task(self._thermometer())

    async def _camera(self, progress: float, *, spaghetti: bool = False) -> None:
        image = SPAGHETTI if spaghetti else draw(progress, spaghetti=False)
        await asyncio.to_thread(write_atomically, self.camera_file, image)

    async def _status(self, status: str, file: str | None = None) -> None:
        attributes: dict[str, Any] = {"friendly_name": "Demo printer status"}
        if file:
            attributes["filename"] = file
        await self.api.set_state(PRINTER_STATUS_ENTITY, status, attributes)

    async def _pause_pressed(self) -> str | None:
        state = await self.api.state(PRINTER_PAUSE_ENTITY)
        return None if state is None else str(state["state"])

    async def _printer(self) -> None:
        while True:
            await self._camera(0.0)
            await self._status("idle")
            await asyncio.sleep(IDLE_SEC)
            await self._print()

    async def _print(self) -> None:
        self.prints += 1
        fails = self.prints % 2 == 1  # every other print fails
        file = "benchy.gcode" if fails else "bracket.gcode"
        self.say(f"{'printer':<11} starts {file}" + (" (it will fail)" if fails else ""))
        await self._status("printing", file)
        pressed = await self._pause_pressed()
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < PRINT_SEC:
            failing = fails and elapsed >= FAILS_AFTER_SEC
            await self._camera(min(elapsed / PRINT_SEC, 1.0), spaghetti=failing)
            if await self._pause_pressed() != pressed:
                self.say(f"{'printer':<11} paused by makerspace_hub: spaghetti detected")
                await self._status("paused", file)
                await asyncio.sleep(PAUSED_SEC)
                self.say(f"{'printer':<11} {file} cancelled")
                await self._status("cancelled", file)
                return
            await asyncio.sleep(TICK_SEC)
        self.say(f"{'printer':<11} {file} finished")
        await self._status("finished", file)

    async def _thermometer(self) -> None:
        while True:
            minutes = time.time() / 60
            celsius = 21.0 + 1.5 * math.sin(minutes / 30) + random.uniform(-0.2, 0.2)
            await self.api.set_state(
                TEMPERATURE_ENTITY,
                f"{celsius:.1f}",
                {
                    "friendly_name": "Shop temperature",
                    "unit_of_measurement": "°C",
                    "device_class": "temperature",
                    "state_class": "measurement",
                },
            )
            await asyncio.sleep(TEMPERATURE_EVERY_SEC)
