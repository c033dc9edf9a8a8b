"""What a printer needs around it in tests: a camera, a pause button, a power switch.

The camera and the switch are test platforms (outside the project: a real camera
and a smart plug); the pause button is Home Assistant's own input_button.
"""

import asyncio
from typing import Any

from homeassistant.components.camera import Camera
from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockModule,
    MockPlatform,
    mock_integration,
    mock_platform,
)

# Bytes served as a JPEG snapshot (the fake ML API downloads, it does not decode).
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c"
    "140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27"
    "393d38323c2e333432ffc0000b080001000101011100ffc4001f0000010501010101010100000000"
    "000000000102030405060708090a0bffc400b5100002010303020403050504040000017d01020300"
    "041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a"
    "25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475"
    "767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9ba"
    "c2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda"
    "0008010100003f00fbd3ffd9"
)


class PrinterCamera(Camera):
    """A camera that gives a JPEG, or fails like an unplugged one."""

    _attr_should_poll = False

    def __init__(self, name: str) -> None:
        """Name the camera."""
        super().__init__()
        self._attr_name = name
        self._attr_unique_id = name
        self.broken = False
        self.hang: asyncio.Event | None = None  # set: a camera that never answers
        self.snapshots = 0
        self.asked = 0
        self.waiting = 0
        self.max_waiting = 0

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Return a snapshot."""
        self.asked += 1
        if self.broken:
            raise HomeAssistantError("camera unplugged")
        if self.hang is not None:
            self.waiting += 1
            self.max_waiting = max(self.max_waiting, self.waiting)
            try:
                await self.hang.wait()
            finally:
                self.waiting -= 1
        self.snapshots += 1
        return JPEG


class PowerSwitch(SwitchEntity):
    """A smart plug."""

    _attr_should_poll = False

    def __init__(self, name: str) -> None:
        """Start switched on."""
        self._attr_name = name
        self._attr_unique_id = name
        self._attr_is_on = True

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch on."""
        self._attr_is_on = True
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch off."""
        self._attr_is_on = False
        self.async_write_ha_state()


async def async_setup_printer_world(hass: HomeAssistant, *names: str) -> dict[str, Any]:
    """Create `camera.<name>_cam`, `switch.<name>_power`, `input_button.<name>_pause`."""
    cameras = {name: PrinterCamera(f"{name} cam") for name in names}
    switches = {name: PowerSwitch(f"{name} power") for name in names}

    async def cameras_platform(
        hass: HomeAssistant, config: Any, add: AddEntitiesCallback, discovery_info: Any = None
    ) -> None:
        add(cameras.values())

    async def switches_platform(
        hass: HomeAssistant, config: Any, add: AddEntitiesCallback, discovery_info: Any = None
    ) -> None:
        add(switches.values())

    mock_integration(hass, MockModule("test"))
    mock_platform(hass, "test.camera", MockPlatform(async_setup_platform=cameras_platform))
    mock_platform(hass, "test.switch", MockPlatform(async_setup_platform=switches_platform))
    assert await async_setup_component(hass, "camera", {"camera": {"platform": "test"}})
    assert await async_setup_component(hass, "switch", {"switch": {"platform": "test"}})
    assert await async_setup_component(
        hass, "input_button", {"input_button": {f"{name}_pause": {} for name in names}}
    )
    await hass.async_block_till_done()
    return {"cameras": cameras, "switches": switches}
