"""A test makerspace: members, machines and a board that posts over real HTTP."""

from datetime import date, timedelta
import json
from pathlib import Path
import time
from typing import Any

from aiohttp.test_utils import TestClient
from homeassistant.config_entries import ConfigSubentryData
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.makerspace_hub.const import CONF_NAME, CONF_WEBHOOK_ID
from custom_components.makerspace_hub.machines.machine import Machine

from .conftest import HUB_WEBHOOK_ID, make_hub_entry, make_subentry, subentry_by_title

FAR_FUTURE = "2099-12-31"


def member(
    account_id: str,
    preferred: str,
    fobs: list[str],
    authorizations: list[str],
    *,
    expires: str = FAR_FUTURE,
    oops_override: bool = False,
) -> dict[str, Any]:
    """Return one users.json entry."""
    return {
        "fob_codes": fobs,
        "account_id": account_id,
        "full_name": f"{preferred} Tester",
        "first_name": preferred,
        "last_name": "Tester",
        "preferred_name": preferred,
        "email": f"{preferred.lower()}@example.org",
        "expiration_ymd": expires,
        "authorizations": authorizations,
        "oops_override": oops_override,
    }


def members(today: date) -> list[dict[str, Any]]:
    """Return the makerspace's members as of `today` (grace period: 7 days)."""
    return [
        member("1", "Ada", ["0012345678"], ["Metal Mill", "Woodshop 101"]),
        member("2", "Kenneth", ["0091703745"], ["Woodshop 101"]),
        member("3", "Rita", ["0055555555"], [], oops_override=True),
        member("4", "Ed", ["0077777777"], ["Metal Mill"], expires="2020-01-01"),
        member(
            "5", "Grace", ["0088888888"], ["Metal Mill"], expires=str(today - timedelta(days=3))
        ),
        member("6", "Both", ["1000000003"], ["Metal Mill", "Dust"]),
    ]


ADA, KENNETH, RITA, ED, GRACE, BOTH = (
    "12345678",  # ESPHome strips the leading zeros
    "91703745",
    "55555555",
    "77777777",
    "88888888",
    "1000000003",
)
UNKNOWN = "4242424242"


def write_members(config_dir: Path, data: Any) -> Path:
    """Write the members file where the hub looks by default."""
    path = config_dir / "makerspace_hub" / "users.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def machine(name: str, **rules: Any) -> ConfigSubentryData:
    """Return a machine subentry."""
    data = {
        CONF_NAME: name,
        CONF_WEBHOOK_ID: f"{name.replace('-', '')}{'0' * 64}"[:64],
        "authorizations_or": [],
        "unauthorized_warn_only": False,
        "always_enabled": False,
    } | rules
    return make_subentry("machine", name, data)


MACHINES = [
    machine("metal-mill", authorizations_or=["Metal Mill"]),
    machine("hammer", authorizations_or=["Woodshop 101"], unauthorized_warn_only=True),
    machine("compressor", always_enabled=True),
    machine(
        "saw",
        authorizations_or=["Metal Mill"],
        second_relay={
            "authorizations_or": ["Dust"],
            "unauthorized_warn_only": False,
            "always_enabled": False,
        },
    ),
]


def makerspace_entry(**options: Any) -> MockConfigEntry:
    """Return the test makerspace's hub entry."""
    return make_hub_entry(options, list(MACHINES))


def webhook_of(entry: MockConfigEntry, name: str) -> str:
    """Return a machine's own webhook id."""
    return str(subentry_by_title(entry, name).data[CONF_WEBHOOK_ID])


def machine_of(entry: MockConfigEntry, name: str) -> Machine:
    """Return a running machine."""
    return entry.runtime_data.machines[subentry_by_title(entry, name).subentry_id]


class Board:
    """Posts like a dm_mac board: to the hub webhook with its machine name."""

    def __init__(
        self,
        client: TestClient,
        name: str,
        webhook_id: str = HUB_WEBHOOK_ID,
        *,
        heard: bool = False,
        uptime: float = 10.0,
    ) -> None:
        """Post as machine `name`.

        A board never heard from starts with an empty reader: its first post says so
        (like a board's post on WiFi connect), because the card of a board's very
        first post is not judged (it may have been in the reader at boot).
        """
        self.client = client
        self.name = name
        self.webhook_id = webhook_id
        self.boot = time.time() - uptime  # the board's uptime follows the (frozen) clock
        self.uptime = uptime
        self.heard = heard

    async def post(
        self, rfid: str = "", *, oops: bool = False, uptime: float | None = None, **extra: Any
    ) -> dict[str, Any]:
        """Post a state; return the reply (asserting a 200 JSON answer)."""
        if not self.heard:
            self.heard = True
            if rfid:
                await self.post(uptime=None if uptime is None else max(uptime - 1, 0))
        if uptime is None:
            self.uptime = time.time() - self.boot
        else:  # a given uptime: the board booted then (a lower one is a reboot)
            self.uptime, self.boot = uptime, time.time() - uptime
        body = {
            "machine_name": self.name,
            "oops": oops,
            "rfid_value": rfid,
            "uptime": self.uptime,
            "wifi_signal_db": -58,
            "wifi_signal_percent": 84,
            "internal_temperature_c": 53.89,
            "second_relay_state": False,
        } | extra
        response = await self.client.post(f"/api/webhook/{self.webhook_id}", json=body)
        assert response.status == 200, await response.text()
        reply: dict[str, Any] = await response.json()
        return reply


def screen(reply: dict[str, Any]) -> tuple[bool, str, list[float], float, bool]:
    """Return (relay, display, LED colour, brightness, oops LED) of a reply."""
    return (
        reply["relay"],
        reply["display"],
        reply["status_led_rgb"],
        reply["status_led_brightness"],
        reply["oops_led"],
    )


# A board reply has exactly these keys (board protocol spec), stated here rather than
# taken from the code under test.
REPLY_KEYS = {
    "relay",
    "display",
    "oops_led",
    "status_led_rgb",
    "status_led_brightness",
    "second_relay",
}
GREEN, RED, ORANGE, OFF = [0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.5, 0.0], [0.0, 0.0, 0.0]
IDLE = (False, "Please Insert\nRFID Card", OFF, 0.0, False)
OOPSED = (False, "Oops!! Please\ncheck/post Slack", RED, 0.5, True)
LOCKED = (False, "Down for\nmaintenance", ORANGE, 0.5, False)
ALWAYS_ON = (True, "Always On", GREEN, 0.5, False)
UNKNOWN_RFID = (False, "Unknown RFID", RED, 0.5, False)
UNAUTHORIZED = (False, "Unauthorized", ORANGE, 0.5, False)
EXPIRED = (False, "Membership\nExpired", ORANGE, 0.5, False)


def welcome(name: str) -> tuple[bool, str, list[float], float, bool]:
    """Return the screen of a member's login."""
    return (True, f"Welcome,\n{name}", GREEN, 0.5, False)


def override(name: str, oopsed: bool = False) -> tuple[bool, str, list[float], float, bool]:
    """Return the screen of an override login."""
    return (True, f"OVERRIDE BY\n{name}", GREEN, 0.5, oopsed)
