"""The demo makerspace: its members, machines, sensor, printer and their entities.

Everything here is made up. Fob codes are 10-digit codes as in a dm_mac users file;
boards send them without leading zeros, like ESPHome does.
"""

from dataclasses import dataclass
import json
from typing import Any

HUB_NAME = "Demo Makerspace"
USERNAME = PASSWORD = "dev"  # noqa: S105 - the demo's login, said in the README
ML_API_PORT = 3333  # where Obico's ML API listens by default

TEMPERATURE_ENTITY = "sensor.demo_shop_temperature"
PRINTER_STATUS_ENTITY = "sensor.demo_printer_status"
PRINTER_CAMERA_NAME = "Demo printer camera"
PRINTER_CAMERA_ENTITY = "camera.demo_printer_camera"
PRINTER_PAUSE_ENTITY = "input_button.demo_printer_pause"
PRINTER_POWER_ENTITY = "switch.demo_printer_power"


def _member(
    account_id: str,
    first: str,
    last: str,
    fob: str,
    authorizations: list[str],
    *,
    expires: str = "2099-12-31",
    oops_override: bool = False,
) -> dict[str, Any]:
    return {
        "fob_codes": [fob],
        "account_id": account_id,
        "full_name": f"{first} {last}",
        "first_name": first,
        "last_name": last,
        "preferred_name": first,
        "email": f"{first.lower()}@example.org",
        "expiration_ymd": expires,
        "authorizations": authorizations,
        "oops_override": oops_override,
    }


MEMBERS = [
    _member("101", "Ada", "Lovelace", "0012345678", ["Laser", "Metal Mill", "Woodshop 101"]),
    _member("102", "Grace", "Hopper", "0023456789", ["Laser"]),
    _member("103", "Linus", "Pauling", "0034567890", ["Woodshop 101"]),
    _member("104", "Marie", "Curie", "0045678901", ["Metal Mill"], oops_override=True),
    _member("105", "Alan", "Turing", "0056789012", ["Laser"], expires="2024-01-31"),
]
UNKNOWN_FOB = "99999999"  # a card nobody registered


def board_fob(member: dict[str, Any]) -> str:
    """Return what a board sends for the member's card (no leading zeros)."""
    return str(member["fob_codes"][0]).lstrip("0")


def members_named(*names: str) -> list[dict[str, Any]]:
    """Return the members with these first names."""
    return [m for name in names for m in MEMBERS if m["first_name"] == name]


@dataclass(frozen=True, kw_only=True)
class DemoMachine:
    """A machine of the demo, and who uses it."""

    name: str
    alias: str
    authorizations_or: tuple[str, ...]
    users: tuple[str, ...]  # members who log in (authorized)
    strangers: tuple[str, ...]  # known members without the authorization
    second_relay: dict[str, Any] | None = None
    oops_after_sec: float | None = None  # the board's Oops is pressed once, then
    # Logs its member out after this many idle minutes (0: never); its board then
    # reports the machine's current, and a member sometimes walks away from it.
    idle_logout_minutes: int = 0

    def as_dm_mac(self) -> dict[str, Any]:
        """Return the machine as a dm_mac machines.json entry."""
        entry: dict[str, Any] = {
            "authorizations_or": list(self.authorizations_or),
            "alias": self.alias,
        }
        if self.second_relay is not None:
            entry["second_relay"] = self.second_relay
        return entry


# The laser is added like a new machine; the other two are imported from dm_mac.
LASER = DemoMachine(
    name="laser",
    alias="Laser cutter",
    authorizations_or=("Laser",),
    users=("Grace", "Ada"),
    strangers=("Linus",),
    idle_logout_minutes=1,
)
IMPORTED = (
    DemoMachine(
        name="metal-mill",
        alias="Metal mill",
        authorizations_or=("Metal Mill",),
        users=("Ada", "Marie"),
        strangers=("Grace",),
        oops_after_sec=240,
    ),
    DemoMachine(
        name="table-saw",
        alias="Table saw",
        authorizations_or=("Woodshop 101",),
        users=("Linus", "Ada"),
        strangers=("Alan",),  # also expired
        second_relay={"alias": "Dust collector", "authorizations_or": ["Woodshop 101"]},
    ),
)
MACHINES = (LASER, *IMPORTED)


def dm_mac_machines_json() -> str:
    """Return the imported machines as dm_mac's machines.json."""
    return json.dumps({machine.name: machine.as_dm_mac() for machine in IMPORTED}, indent=2)


RECORDING_SENSOR = {
    "name": "shop-climate",
    "kind": "samples",
    "entities": [TEMPERATURE_ENTITY],
    "capture_window_start": "00:00:00",
    "capture_window_end": "23:59:00",
    "capture_duration_seconds": 1,
    "capture_interval_seconds": 60,
    # Recordings of the last two days stay; every day has its window.
    "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    "keep_days": 2,
    "auto_start": True,
}

PRINTER = {
    "name": "Prusa MK4",
    "camera_entity": PRINTER_CAMERA_ENTITY,
    "status_entity": PRINTER_STATUS_ENTITY,
    "printing_states": ["printing"],
    "paused_states": ["paused"],
    "action": "pause",
    "pause_entity": PRINTER_PAUSE_ENTITY,
    "power_entity": PRINTER_POWER_ENTITY,
    "sensitivity": 1.0,
    "poll_interval": 5,
}
