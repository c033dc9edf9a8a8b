"""Set up the demo makerspace: files before Home Assistant starts, the rest through its API.

`prepare` writes the configuration, the members file, the dashboard and the first
camera image into the demo's config folder (keeping what a previous run wrote, but
the dashboard, which follows `examples/dashboard.yaml`). `async_provision` then
does what an admin would do in the UI, through the same config flows: a camera,
the hub, its options, one machine added by hand, two imported from a dm_mac
machines.json, a recording sensor and a printer. What the boards need to know
(their URLs) is kept in `makerspace_demo/demo.json`; a second run only reads it.
"""

from dataclasses import asdict, dataclass
import json
from pathlib import Path
import shutil
from typing import Any

from yarl import URL

from .homeassistant_api import (
    ENTRIES,
    FLOWS,
    OPTIONS_FLOWS,
    SUBENTRY_FLOWS,
    DemoSetupError,
    HomeAssistantApi,
)
from .makerspace import (
    HUB_NAME,
    LASER,
    MEMBERS,
    ML_API_PORT,
    PRINTER,
    PRINTER_CAMERA_NAME,
    RECORDING_SENSOR,
    dm_mac_machines_json,
)
from .shop import draw, write_atomically

HERE = Path(__file__).parent
REPO = HERE.parent.parent
DEMO_FOLDER = "makerspace_demo"
# Onboarding adds these; they need the internet, which a demo should not.
ONBOARDING_EXTRAS = ("google_translate", "met", "radio_browser")


@dataclass(frozen=True, kw_only=True)
class DemoSetup:
    """What the simulators need: the hub and where the boards post."""

    entry_id: str
    hub_path: str  # the hub's webhook (routes by machine name)
    laser_path: str  # the laser's own webhook

    def save(self, path: Path) -> None:
        """Write to `path`."""
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> "DemoSetup | None":
        """Read from `path`, if the demo was set up before."""
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None


def camera_file(config_dir: Path) -> Path:
    """Return the image the demo camera shows."""
    return config_dir / DEMO_FOLDER / "printer.jpg"


def prepare(config_dir: Path) -> None:
    """Write the files Home Assistant reads at start-up (blocking)."""
    (config_dir / DEMO_FOLDER).mkdir(parents=True, exist_ok=True)
    keep = {
        config_dir / "configuration.yaml": (HERE / "configuration.yaml").read_text(),
        config_dir / "automations.yaml": "[]\n",
        config_dir / "scripts.yaml": "{}\n",
        config_dir / "makerspace_hub" / "users.json": json.dumps(MEMBERS, indent=2),
    }
    for path, text in keep.items():
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    shutil.copyfile(
        REPO / "examples" / "dashboard.yaml", config_dir / DEMO_FOLDER / "dashboard.yaml"
    )
    blueprints = REPO / "blueprints"
    if blueprints.is_dir():
        shutil.copytree(blueprints, config_dir / "blueprints", dirs_exist_ok=True)
    if not camera_file(config_dir).exists():
        write_atomically(camera_file(config_dir), draw(0.0, spaghetti=False))


def _path(url: str) -> str:
    return URL(url).path


async def async_provision(
    api: HomeAssistantApi, config_dir: Path, ml_api_url: str = f"http://127.0.0.1:{ML_API_PORT}"
) -> DemoSetup:
    """Set the makerspace up once; return what the simulators need."""
    state_file = config_dir / DEMO_FOLDER / "demo.json"
    entries = await api.request("GET", f"{ENTRIES}?domain=makerspace_hub")
    if (setup := DemoSetup.load(state_file)) is not None and any(
        entry["entry_id"] == setup.entry_id for entry in entries
    ):
        return setup
    if entries:
        raise DemoSetupError(
            "this config already has a makerspace_hub hub the demo did not make: "
            "delete .demo/ (or use scripts/develop --clean)"
        )
    for domain in ONBOARDING_EXTRAS:
        for extra in await api.request("GET", f"{ENTRIES}?domain={domain}"):
            await api.request("DELETE", f"{ENTRIES}/{extra['entry_id']}")
    await api.flow(
        FLOWS,
        {"handler": "local_file"},
        {"name": PRINTER_CAMERA_NAME, "file_path": str(camera_file(config_dir).resolve())},
    )
    hub = await api.flow(FLOWS, {"handler": "makerspace_hub"}, {"name": HUB_NAME})
    entry_id = hub["result"]["entry_id"]
    await api.flow(OPTIONS_FLOWS, {"handler": entry_id}, hub_options(api.base_url, ml_api_url))
    laser = await api.flow(
        SUBENTRY_FLOWS,
        {"handler": [entry_id, "machine"]},
        {"next_step_id": "machine"},
        {
            "name": LASER.name,
            "alias": LASER.alias,
            "authorizations_or": list(LASER.authorizations_or),
            "unauthorized_warn_only": False,
            "always_enabled": False,
            "idle_logout_minutes": LASER.idle_logout_minutes,
            "idle_current_amps": 0.5,
            "max_session_minutes": 0,
            # A short interval, so that its hours until service visibly count down.
            "service_interval_hours": 1,
            "lock_out_when_service_due": False,
            "has_second_relay": False,
        },
    )
    urls = laser["description_placeholders"]
    await api.flow(
        SUBENTRY_FLOWS,
        {"handler": [entry_id, "machine"]},
        {"next_step_id": "import_dm_mac"},
        {"machines_json": dm_mac_machines_json()},
    )
    identity = {key: RECORDING_SENSOR[key] for key in ("name", "kind")}
    schedule = {k: v for k, v in RECORDING_SENSOR.items() if k not in identity}
    await api.flow(SUBENTRY_FLOWS, {"handler": [entry_id, "recording_sensor"]}, identity, schedule)
    # A printer: its name and status entity first, then the whole form.
    printer_first = {key: PRINTER[key] for key in ("name", "status_entity")}
    await api.flow(SUBENTRY_FLOWS, {"handler": [entry_id, "printer"]}, printer_first, PRINTER)
    setup = DemoSetup(
        entry_id=entry_id,
        hub_path=_path(urls["hub_url"]),
        laser_path=_path(urls["board_url"]),
    )
    setup.save(state_file)
    return setup


def hub_options(base_url: str, ml_api_url: str) -> dict[str, Any]:
    """Return the hub's options answered in its options flow (no notify services)."""
    return {
        "users_file": "makerspace_hub/users.json",
        "expiry_grace_days": 7,
        "notify_services": [],  # alerts become persistent notifications
        "ml_api_url": ml_api_url,
        "snapshot_base_url": base_url,
        "print_warning_alerts": False,
        "recordings_dir": "media/makerspace_hub",
        "min_free_gb": 0.5,  # the hub shows its recordings disk's free space
        "oops_alerts": True,
        "webhooks_allow_internet": False,
    }
