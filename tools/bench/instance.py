"""The Home Assistant the benchmark measures: its config, its process and its makerspace.

The config is generated into a fresh folder: a recorder (as every real install has),
the API, the config flows, diagnostics, the integration linked from this checkout,
the loop probe, 2,000 members and a printer camera image. The makerspace is then set
up the way an admin would, through the config flows over HTTP: a camera, the hub and
its options, the machines imported from a dm_mac machines.json, the printers and the
recording sensors.
"""

import asyncio
from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
import json
from pathlib import Path
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from typing import Any

from tools.demo.homeassistant_api import (
    ENTRIES,
    FLOWS,
    OPTIONS_FLOWS,
    SUBENTRY_FLOWS,
    DemoSetupError,
    HomeAssistantApi,
)
from tools.demo.provision import ONBOARDING_EXTRAS, hub_options
from tools.demo.shop import draw

HERE = Path(__file__).parent
REPO = HERE.parent.parent
USERNAME = PASSWORD = "bench"  # noqa: S105 - a throw-away instance on loopback
AUTHORIZATIONS = tuple(f"Tool {number}" for number in range(10))
CAMERA_NAME = "Bench printer camera"
CAMERA_ENTITY = "camera.bench_printer_camera"
TEMPERATURE_ENTITY = "sensor.bench_temperature"
STOP_TIMEOUT_SEC = 60.0

CONFIGURATION = """\
homeassistant:
  name: Bench Makerspace
  unit_system: metric
  time_zone: UTC
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
config:
diagnostics:
onboarding:
recorder:
  purge_keep_days: 1
bench_probe:
logger:
  default: warning
"""


@dataclass(frozen=True, slots=True)
class Member:
    """A member of the generated members file."""

    fob: str  # what the board sends
    name: str
    authorizations: frozenset[str]


@contextlib.contextmanager
def config_dir(keep: Path | None, prefix: str) -> Iterator[Path]:
    """Yield a new config folder: `keep` (created, kept afterwards) or a temporary one."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=False)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        yield Path(folder) / "config"


def members(count: int, seed: int = 1) -> list[Member]:
    """Return `count` members with distinct fobs and one to three authorizations each."""
    dice = random.Random(seed)
    fobs = dice.sample(range(1_000_000_000, 4_294_967_295), count)  # 32-bit Wiegand cards
    return [
        Member(
            fob=str(fob),
            name=f"Member{number:04d}",
            authorizations=frozenset(dice.sample(AUTHORIZATIONS, dice.randint(1, 3))),
        )
        for number, fob in enumerate(fobs)
    ]


def users_json(people: list[Member]) -> str:
    """Return the members as a dm_mac users.json."""
    return json.dumps(
        [
            {
                "fob_codes": [person.fob.zfill(10)],
                "account_id": str(number),
                "full_name": f"{person.name} Bench",
                "first_name": person.name,
                "last_name": "Bench",
                "preferred_name": person.name,
                "email": f"{person.name.lower()}@example.org",
                "expiration_ymd": "2099-12-31",
                "authorizations": sorted(person.authorizations),
                "oops_override": False,
            }
            for number, person in enumerate(people)
        ],
        indent=1,
    )


def machine_names(count: int) -> list[str]:
    """Return the machines' names."""
    return [f"machine-{number:03d}" for number in range(count)]


def machine_authorization(name: str) -> str:
    """Return the authorization a machine asks for."""
    return AUTHORIZATIONS[int(name.rsplit("-", 1)[1]) % len(AUTHORIZATIONS)]


def free_port() -> int:
    """Return a TCP port free on loopback right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def camera_file(config_dir: Path) -> Path:
    """Return the image the printers' camera shows."""
    return config_dir / "bench" / "printer.jpg"


def write_config(config_dir: Path, port: int, people: list[Member]) -> None:
    """Write a new Home Assistant config (blocking)."""
    integrations = config_dir / "custom_components"
    integrations.mkdir(parents=True)
    (integrations / "makerspace_hub").symlink_to(REPO / "custom_components" / "makerspace_hub")
    shutil.copytree(HERE / "probe", integrations / "bench_probe")
    (config_dir / "configuration.yaml").write_text(CONFIGURATION.format(port=port))
    (config_dir / "makerspace_hub").mkdir()
    (config_dir / "makerspace_hub" / "users.json").write_text(users_json(people))
    camera_file(config_dir).parent.mkdir()
    camera_file(config_dir).write_bytes(draw(0.4, spaghetti=False))


class HomeAssistantProcess:
    """A Home Assistant process running a config, logging to a file."""

    def __init__(self, config_dir: Path) -> None:
        """Run the config in `config_dir`."""
        self.config_dir = config_dir
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """Return the process id (once started)."""
        if self._process is None:
            raise RuntimeError("Home Assistant was not started")
        return self._process.pid

    def start(self) -> None:
        """Start Home Assistant (a first start installs what its frontend needs)."""
        log = (self.config_dir / "hass.out").open("wb")
        hass = Path(sys.executable).with_name("hass")
        self._process = subprocess.Popen(  # noqa: S603 - our own virtualenv's hass
            [str(hass), "--config", str(self.config_dir), "--log-no-color"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def stop(self) -> None:
        """Stop Home Assistant, killing it if it does not stop in time (blocking)."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(STOP_TIMEOUT_SEC)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


@dataclass(frozen=True, slots=True)
class Makerspace:
    """What the boards and phases need to know of the provisioned hub."""

    entry_id: str
    hub_webhook: str
    machine_webhooks: dict[str, str]  # machine name -> its own webhook id
    printer_status_entities: list[str]
    storage_dir: Path  # the hub's state files


async def provision(
    api: HomeAssistantApi,
    config_dir: Path,
    ml_api_url: str,
    *,
    machines: int,
    printers: int,
    sensors: int,
) -> str:
    """Set the makerspace up through the config flows, as an admin would; return its entry."""
    for domain in ONBOARDING_EXTRAS:  # they would only fail to reach the internet
        for extra in await api.request("GET", f"{ENTRIES}?domain={domain}"):
            await api.request("DELETE", f"{ENTRIES}/{extra['entry_id']}")
    await api.set_state(TEMPERATURE_ENTITY, "21.5", {"unit_of_measurement": "°C"})
    for status in status_entities(printers):
        await api.set_state(status, "idle", {})
    camera = {"name": CAMERA_NAME, "file_path": str(camera_file(config_dir))}
    await api.flow(FLOWS, {"handler": "local_file"}, camera)
    hub = await api.flow(FLOWS, {"handler": "makerspace_hub"}, {"name": "Bench Makerspace"})
    entry_id: str = hub["result"]["entry_id"]
    await api.flow(OPTIONS_FLOWS, {"handler": entry_id}, hub_options(api.base_url, ml_api_url))
    names = machine_names(machines)
    machines_json = {
        name: {"authorizations_or": [machine_authorization(name)], "alias": name.title()}
        for name in names
    }
    await api.flow(
        SUBENTRY_FLOWS,
        {"handler": [entry_id, "machine"]},
        {"next_step_id": "import_dm_mac"},
        {"machines_json": json.dumps(machines_json)},
    )
    for number, status in enumerate(status_entities(printers)):
        printer = _printer(number, status)
        # The add-printer flow asks for the name and status entity first.
        first = {key: printer[key] for key in ("name", "status_entity")}
        await api.flow(SUBENTRY_FLOWS, {"handler": [entry_id, "printer"]}, first, printer)
    for number in range(sensors):
        await api.flow(
            SUBENTRY_FLOWS,
            {"handler": [entry_id, "recording_sensor"]},
            {"name": f"sensor-{number:02d}", "kind": "samples"},
            _schedule(),
        )
    return entry_id


def status_entities(printers: int) -> list[str]:
    """Return the printers' status entities (the benchmark sets their states)."""
    return [f"sensor.bench_printer_{number:02d}_status" for number in range(printers)]


def storage_dir(config_dir: Path, entry_id: str) -> Path:
    """Return the folder of the hub's state files."""
    return config_dir / ".storage" / "makerspace_hub" / entry_id


async def read_makerspace(
    config_dir: Path, entry_id: str, machines: int, printers: int
) -> Makerspace:
    """Read the webhook ids from Home Assistant's config entries file, once it has them.

    No API shows them (they are secrets); the benchmark is on the same disk.
    """
    path = config_dir / ".storage" / "core.config_entries"
    async with asyncio.timeout(60):
        while True:
            try:
                document = json.loads(await asyncio.to_thread(path.read_text))
            except (OSError, ValueError):
                document = {}
            for entry in document.get("data", {}).get("entries", []):
                if entry["entry_id"] != entry_id:
                    continue
                webhooks = {
                    subentry["data"]["name"]: subentry["data"]["webhook_id"]
                    for subentry in entry.get("subentries", [])
                    if subentry["subentry_type"] == "machine"
                }
                if len(webhooks) == machines:
                    return Makerspace(
                        entry_id=entry_id,
                        hub_webhook=entry["data"]["webhook_id"],
                        machine_webhooks=webhooks,
                        printer_status_entities=status_entities(printers),
                        storage_dir=storage_dir(config_dir, entry_id),
                    )
            await asyncio.sleep(1)


async def wait_until_loaded(
    api: HomeAssistantApi, entry_id: str, machines: int, printers: int, sensors: int
) -> dict[str, Any]:
    """Wait until the hub runs everything (its diagnostics list it all); return them."""
    async with asyncio.timeout(120):
        while True:
            try:
                data: dict[str, Any] = await diagnostics(api, entry_id)
            except DemoSetupError:  # between reloads
                data = {}
            if (
                len(data.get("machines", [])) == machines
                and len(data.get("printers", [])) == printers
                and len(data.get("recording_sensors", [])) == sensors
            ):
                return data
            await asyncio.sleep(1)


async def diagnostics(api: HomeAssistantApi, entry_id: str) -> dict[str, Any]:
    """Return the hub's diagnostics."""
    answer = await api.request("GET", f"/api/diagnostics/config_entry/{entry_id}")
    data: dict[str, Any] = answer["data"]
    return data


def _printer(number: int, status: str) -> dict[str, Any]:
    return {
        "name": f"Printer {number:02d}",
        "camera_entity": CAMERA_ENTITY,
        "status_entity": status,
        "printing_states": ["printing"],
        "paused_states": ["paused"],
        "action": "notify",
        "sensitivity": 1.0,
        "poll_interval": 5,
    }


def _schedule() -> dict[str, Any]:
    return {
        "entities": [TEMPERATURE_ENTITY],
        "capture_window_start": "00:00:00",
        "capture_window_end": "23:59:59",
        "capture_duration_seconds": 1,
        "capture_interval_seconds": 60,
        "auto_start": True,
    }
