"""The example board firmware (examples/esphome) validates with the real, pinned ESPHome
and still implements the board protocol: the fields it posts, the reply it applies, the
5 s timeout and the reboot rule.

ESPHome cannot live in .venv (its pins conflict with Home Assistant's): scripts/setup
installs it into .venv-esphome. Where that venv does not run (e.g. the newest-HA chroot,
which lacks the interpreter it points to), a venv for the running Python is built once
under ~/.cache/makerspace_hub and reused.
"""

from collections.abc import Iterator
import hashlib
import os
from pathlib import Path
import re
import shutil
import subprocess
import sys
from typing import Any

from filelock import FileLock
import pytest
import yaml

from custom_components.makerspace_hub.machines.board_protocol import IDLE, Reply

# A cold cache installs ESPHome and its dependencies (minutes on a slow mirror).
pytestmark = pytest.mark.timeout(900)

PROJECT = Path(__file__).resolve().parents[2]
EXAMPLE = PROJECT / "examples" / "esphome" / "makerspace-board.yaml"
REQUIREMENTS = PROJECT / "requirements_esphome.txt"
PIN = re.search(r"^esphome==(\S+)", REQUIREMENTS.read_text(), re.MULTILINE)
REQUEST_FIELDS = [
    "machine_name",
    "oops",
    "rfid_value",
    "uptime",
    "wifi_signal_db",
    "wifi_signal_percent",
    "internal_temperature_c",
    "second_relay_state",
]


def _runs_pinned(esphome: Path) -> bool:
    """Return whether `esphome` starts and is the pinned version."""
    assert PIN, f"{REQUIREMENTS.name} must pin esphome==<version>"
    try:
        result = subprocess.run(
            [esphome, "version"], capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False  # missing, or its interpreter does not exist here
    return result.returncode == 0 and result.stdout.split() == ["Version:", PIN.group(1)]


def _cached_esphome() -> Path:
    """Return ESPHome from a venv of the running Python, built on first use."""
    pins = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    venv = Path.home() / ".cache" / "makerspace_hub" / f"esphome-{python}-{pins}"
    esphome = venv / "bin" / "esphome"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(venv.parent / f"{venv.name}.lock"):  # parallel runs build it once
        if not _runs_pinned(esphome):
            shutil.rmtree(venv, ignore_errors=True)
            for command in (
                [sys.executable, "-m", "venv", venv],
                [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "-r", REQUIREMENTS],
            ):
                result = subprocess.run(command, capture_output=True, text=True, check=False)
                assert result.returncode == 0, f"{command} failed:\n{result.stderr[-3000:]}"
    return esphome


@pytest.fixture(scope="module")
def esphome() -> Path:
    """The pinned `esphome` command."""
    project = PROJECT / ".venv-esphome" / "bin" / "esphome"
    return project if _runs_pinned(project) else _cached_esphome()


@pytest.fixture(scope="module")
def validated(esphome: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """`esphome config` of the example: the completed process."""
    work = tmp_path_factory.mktemp("esphome")
    # ESPHome's data dir defaults to examples/esphome/.esphome: keep the checkout clean.
    env = os.environ | {"ESPHOME_DATA_DIR": str(work)}
    return subprocess.run(
        [esphome, "config", EXAMPLE],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


class _ConfigLoader(yaml.SafeLoader):
    """Reads ESPHome's printed config; its tags (`!lambda`) become plain text."""


_ConfigLoader.add_multi_constructor(
    "!",
    lambda loader, _tag, node: loader.construct_scalar(node),
)


@pytest.fixture(scope="module")
def config(validated: Any) -> dict[str, Any]:
    """The resolved configuration `esphome config` printed (substitutions applied)."""
    assert validated.returncode == 0, validated.stderr
    return dict(yaml.load(validated.stdout, Loader=_ConfigLoader))  # noqa: S506


def _find(tree: Any, key: str) -> Iterator[Any]:
    """Yield every value stored under `key`, anywhere in the tree."""
    if isinstance(tree, dict):
        for name, value in tree.items():
            if name == key:
                yield value
            yield from _find(value, key)
    elif isinstance(tree, list):
        for item in tree:
            yield from _find(item, key)


def test_example_validates_without_secrets(validated: Any) -> None:
    assert validated.returncode == 0, validated.stderr
    assert "Configuration is valid!" in validated.stderr


def test_example_posts_to_the_machine_webhook(config: dict[str, Any]) -> None:
    substitutions = config["substitutions"]
    assert re.fullmatch(r"[a-z0-9_-]+", substitutions["machine_name"])
    assert config["esphome"]["name"] == substitutions["machine_name"]
    assert re.fullmatch(r"http://[^/]+:8123/api/webhook/\S+", substitutions["webhook_url"])

    [post] = _find(config, "http_request.post")
    assert post["url"] == substitutions["webhook_url"]
    assert post["request_headers"] == {"Content-Type": "application/json"}
    for field in REQUEST_FIELDS:
        assert f'root["{field}"]' in post["json"], field


def test_example_applies_only_a_full_2xx_json_reply(config: dict[str, Any]) -> None:
    [post] = _find(config, "http_request.post")
    assert post["capture_response"] is True
    [apply] = post["on_response"]["then"]
    reply = apply["lambda"]
    assert "response->status_code < 200 || response->status_code >= 300" in reply
    assert "json::parse_json(body)" in reply
    for key in Reply(relay=False, screen=IDLE, oops_led=False, second_relay=False).as_json():
        assert f'reply["{key}"]' in reply, key
    # Every output is only touched after the checks passed.
    checks_end = reply.index("if (!valid)")
    assert all(reply.index(output) > checks_end for output in ("turn_on", "turn_off", "update"))
    assert "on_error" in post


def test_example_takes_a_2xx_without_a_json_reply_as_no_reply(config: dict[str, Any]) -> None:
    # Home Assistant answers an empty 200 before makerspace_hub runs (its own
    # start-up, a disabled hub): no output may change, and it is not a reply for
    # the stale-link check either.
    [post] = _find(config, "http_request.post")
    [apply] = post["on_response"]["then"]
    reply = apply["lambda"]
    empty = reply.index("if (body.empty()) {")
    assert reply.index("return;", empty) < reply.index("json::parse_json(body)")
    # Not JSON, or JSON but not the six-key object: the parsed reply is null or
    # incomplete, and the check returns before anything is applied.
    assert "!reply.isNull()" in reply
    checks_end = reply.index("if (!valid)")
    assert reply.index("return;", checks_end) < reply.index("id(last_reply_ms) = millis_64()")
    for output in ("turn_on", "turn_off", "set_state", "update", "last_reply_ms) ="):
        assert reply.index(output) > checks_end, output


def test_example_oops_opens_the_relays_before_any_reply(config: dict[str, Any]) -> None:
    [oops] = [sensor for sensor in config["binary_sensor"] if sensor["id"] == "oops_button"]
    [press] = oops["on_press"]
    # The relays open first (relay 2 never runs alone), then the board posts.
    assert press["then"] == [
        {"switch.turn_off": {"id": "second_relay"}},
        {"switch.turn_off": {"id": "relay"}},
        {"script.execute": {"id": "post_state"}},
    ]
    [release] = oops["on_release"]
    assert release["then"] == [{"script.execute": {"id": "post_state"}}]
    # While the button is held, no reply turns a relay back on.
    [post] = _find(config, "http_request.post")
    [apply] = post["on_response"]["then"]
    reply = apply["lambda"]
    assert "bool oops_held = id(oops_button).state;" in reply
    assert 'bool relay_on = reply["relay"].as<bool>() && !oops_held;' in reply
    assert 'bool second_on = reply["second_relay"].as<bool>() && relay_on;' in reply
    assert reply.index("oops_held = ") < reply.index("turn_on()")


def test_example_keeps_the_firmware_timings(config: dict[str, Any]) -> None:
    assert config["http_request"]["timeout"] == "5s"
    assert config["http_request"]["watchdog_timeout"] == "8s"
    intervals = {entry["interval"]: entry["then"] for entry in config["interval"]}
    assert intervals["10s"] == [{"script.execute": {"id": "post_state"}}]
    stale_check = intervals["5s"][0]["lambda"]
    assert "silent_ms < 90000" in stale_check
    # The board reboots on a stale link only while both relays are off ...
    relays_on = stale_check.index("id(relay).state || id(second_relay).state")
    assert relays_on < stale_check.index("App.safe_reboot()")
    # ... so nothing else may reboot it: not Wi-Fi's own timeout, not a native API.
    assert config["wifi"]["reboot_timeout"] == "0s"
    assert config.get("api", {"reboot_timeout": "0s"})["reboot_timeout"] == "0s"
    assert {relay["restore_mode"] for relay in config["switch"]} == {"ALWAYS_OFF"}
