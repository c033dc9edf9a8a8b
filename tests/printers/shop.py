"""A test makerspace with printers: the fake ML API, cameras, status entities, alerts."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub.const import DOMAIN
from custom_components.makerspace_hub.printers.printer import Printer
from tools.fake_ml_api import FakeMlApi

from ..conftest import make_hub_entry, make_subentry, setup_hub, subentry_by_title
from ..fake_printers import async_setup_printer_world

STATUS = "sensor.{}_status"


def printer_subentry(name: str, **changes: Any) -> Any:
    data = {
        "name": name,
        "camera_entity": f"camera.{name}_cam",
        "status_entity": STATUS.format(name),
        "printing_states": ["printing"],
        "paused_states": ["paused"],
        "action": "notify",
        "pause_entity": f"input_button.{name}_pause",
        "sensitivity": 1.0,
        "poll_interval": 10,
    } | changes
    return make_subentry("printer", name, data)


@dataclass
class Shop:
    """A running makerspace with printers."""

    hass: HomeAssistant
    entry: MockConfigEntry
    ml_api: FakeMlApi
    world: dict[str, Any]
    notifications: list[ServiceCall]
    events: dict[str, list[tuple[str, dict[str, Any]]]]

    def printer(self, name: str) -> Printer:
        return self.entry.runtime_data.printers[subentry_by_title(self.entry, name).subentry_id]

    async def frames(self, count: int = 1) -> None:
        """Let `count` poll intervals pass, each with its frame analysed."""
        for _ in range(count):
            # Time jumps here, but saves run in real threads: let them land first so
            # that a jump is not taken for a hung disk.
            assert await self.entry.runtime_data.storage.async_flush()
            async_fire_time_changed(self.hass, dt_util.utcnow() + timedelta(seconds=10.5))
            await self.hass.async_block_till_done(wait_background_tasks=True)

    async def status(self, name: str, state: str, **attributes: Any) -> None:
        self.hass.states.async_set(STATUS.format(name), state, attributes)
        await self.hass.async_block_till_done(wait_background_tasks=True)
        assert await self.entry.runtime_data.storage.async_flush()

    def entity(self, platform: str, name: str, key: str) -> str:
        subentry_id = subentry_by_title(self.entry, name).subentry_id
        found = er.async_get(self.hass).async_get_entity_id(
            platform, DOMAIN, f"{self.entry.entry_id}_{subentry_id}_{key}"
        )
        assert found
        return found

    def state(self, platform: str, name: str, key: str) -> Any:
        return self.hass.states.get(self.entity(platform, name, key))


type MakeShop = Callable[..., Awaitable[Shop]]


def make_shop_factory(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    start_ml_api: Callable[..., Awaitable[FakeMlApi]],
) -> MakeShop:
    """Return a maker of makerspaces with the given printers (name -> subentry changes)."""

    async def make(*printers: Any, token: str | None = None, **options: Any) -> Shop:
        names = [p if isinstance(p, str) else p[0] for p in printers]
        world = await async_setup_printer_world(hass, *names)
        for name in names:
            hass.states.async_set(STATUS.format(name), "idle")
        ml_api = await start_ml_api(token=token)
        notifications: list[ServiceCall] = []

        async def notify(call: ServiceCall) -> None:
            notifications.append(call)

        hass.services.async_register("notify", "mobile_app_pixel_8", notify)
        subentries = [
            printer_subentry(p) if isinstance(p, str) else printer_subentry(p[0], **p[1])
            for p in printers
        ]
        hub_options = {
            "ml_api_url": ml_api.url,
            "notify_services": ["notify.mobile_app_pixel_8"],
            **({"ml_api_token": token} if token else {}),
            **options,
        }
        entry = await setup_hub(hass, make_hub_entry(hub_options, subentries))
        # The ML API fetches snapshots from Home Assistant's HTTP server, which
        # listens once the client exists (and then takes no new routes).
        client: TestClient = await hass_client_no_auth()
        base = str(client.make_url("")).rstrip("/")
        hass.config_entries.async_update_entry(
            entry, options=entry.options | {"snapshot_base_url": base} | options
        )
        await hass.async_block_till_done(wait_background_tasks=True)
        events: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for printer in entry.runtime_data.printers.values():
            events[printer.name] = []
            printer.async_add_event_listener(
                lambda kind, data, name=printer.name: events[name].append((kind, data))
            )
        return Shop(hass, entry, ml_api, world, notifications, events)

    return make


def failure(score: float = 0.9) -> list[Any]:
    """Return detections whose confidences (each at most 1) sum up to `score`."""
    boxes = int(score) + 1
    return [["failure", score / boxes, [100 + 50 * i, 100, 40, 40]] for i in range(boxes)]
