"""What the recording tests share: hubs of recording sensors on a moved clock, a small disk."""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.makerspace_hub.const import DOMAIN
from custom_components.makerspace_hub.recording.recording_sensor import RecordingSensor
from custom_components.makerspace_hub.recording.recordings_disk import RecordingsDisk

from ..conftest import make_hub_entry, make_subentry, setup_hub, subentry_by_title
from .small_disk import SmallDisk

HOST = "test_makerspace"  # the hub "Test Makerspace" as a slug


def sensor_subentry(name: str, kind: str, **changes: Any) -> Any:
    data = {
        "name": name,
        "kind": kind,
        "capture_window_start": "08:00:00",
        "capture_window_end": "20:00:00",
        "capture_duration_seconds": 60,
        "capture_interval_seconds": 300,
        "auto_start": True,
    } | changes
    return make_subentry("recording_sensor", name, data)


def local(text: str) -> datetime:
    """A local wall-clock time in the tests' zone (US/Pacific)."""
    return datetime.fromisoformat(text).replace(tzinfo=dt_util.get_default_time_zone())


@dataclass
class Bees:
    hass: HomeAssistant
    entry: MockConfigEntry
    freezer: FrozenDateTimeFactory
    folder: Path
    events: dict[str, list[tuple[str, dict[str, Any]]]]

    def sensor(self, name: str) -> RecordingSensor:
        return self.entry.runtime_data.recording_sensors[
            subentry_by_title(self.entry, name).subentry_id
        ]

    async def until(
        self, text: str, step: timedelta = timedelta(minutes=1), *, wait: bool = True
    ) -> None:
        """Move the clock to `text`, firing timers along the way.

        `wait`: wait for the recordings started on the way (not for one that waits
        on the clock itself, like an action with a delay).
        """
        target = local(text)
        while dt_util.now() < target:
            assert await self.entry.runtime_data.storage.async_flush()
            self.freezer.move_to(min(dt_util.now() + step, target))
            async_fire_time_changed(self.hass)
            await self.hass.async_block_till_done(wait_background_tasks=wait)

    @property
    def disk(self) -> RecordingsDisk:
        """The hub's recordings disk (its sensors share it)."""
        (disk,) = {sensor.disk for sensor in self.entry.runtime_data.recording_sensors.values()}
        return disk

    def state(self, platform: str, name: str | None, key: str) -> Any:
        """The state of a sensor's entity (`name` None: of the hub's)."""
        subentry_id = subentry_by_title(self.entry, name).subentry_id if name else "hub"
        entity_id = er.async_get(self.hass).async_get_entity_id(
            platform, DOMAIN, f"{self.entry.entry_id}_{subentry_id}_{key}"
        )
        assert entity_id
        return self.hass.states.get(entity_id)


type MakeBees = Callable[..., Awaitable[Bees]]


@pytest.fixture
async def make_bees(
    hass: HomeAssistant, config_dir: Path, freezer: FrozenDateTimeFactory
) -> MakeBees:
    async def make(
        *subentries: Any, at: str = "2026-06-01 07:59:30", options: dict[str, Any] | None = None
    ) -> Bees:
        freezer.move_to(local(at))
        entry = await setup_hub(hass, make_hub_entry(options, subentries=list(subentries)))
        events: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for sensor in entry.runtime_data.recording_sensors.values():
            events[sensor.name] = []
            sensor.async_add_event_listener(
                lambda kind, data, name=sensor.name: events[name].append((kind, data))
            )
        return Bees(hass, entry, freezer, config_dir / "media" / "makerspace_hub", events)

    return make


@pytest.fixture
async def small_disk(config_dir: Path) -> AsyncIterator[SmallDisk]:
    """A 4 MiB recordings disk on the config's media folder (see `small_disk`)."""
    with SmallDisk(config_dir / "media", 4 * 1024 * 1024).attached() as disk:
        yield disk
