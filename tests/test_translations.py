"""Every name, action, error and issue the code uses has its English text."""

from pathlib import Path
import re

import yaml

from custom_components.makerspace_hub import binary_sensor, button, event, lock, sensor, switch

from .conftest import TRANSLATIONS

PACKAGE = Path(__file__).parent.parent / "custom_components" / "makerspace_hub"


def test_entity_names() -> None:
    descriptions = {
        "binary_sensor": [
            *binary_sensor.HUB_BINARY_SENSORS,
            *binary_sensor.ML_API_BINARY_SENSORS,
            *binary_sensor.PRINTER_BINARY_SENSORS,
            *binary_sensor.RECORDING_BINARY_SENSORS,
            *binary_sensor.MACHINE_BINARY_SENSORS,
        ],
        "sensor": [
            *sensor.HUB_STORAGE_SENSORS,
            *sensor.HUB_MEMBER_SENSORS,
            *sensor.HUB_DISK_SENSORS,
            *sensor.OWNER_SENSORS,
            *sensor.MACHINE_SENSORS,
            *sensor.PRINTER_SENSORS,
            *sensor.RECORDING_SENSORS,
        ],
        "button": list(button.BUTTONS),
        "lock": [lock.LOCKOUT],
        "switch": [switch.RELAY, switch.RECORDING, switch.FAILURE_DETECTION],
        "event": [event.ACCESS, event.DETECTION, event.RECORDING],
    }
    entity = TRANSLATIONS["entity"]
    missing = [
        f"{platform}.{d.translation_key}"
        for platform, found in descriptions.items()
        for d in found
        if not entity.get(platform, {}).get(d.translation_key, {}).get("name")
    ]
    assert not missing
    for key, types in (
        ("access", event.ACCESS_EVENT_TYPES),
        ("detection", event.DETECTION_EVENT_TYPES),
        ("recording", event.RECORDING_EVENT_TYPES),
    ):
        states = entity["event"][key]["state_attributes"]["event_type"]["state"]
        assert set(states) == set(types)
    detection_states = entity["sensor"]["detection"]["state"]
    assert set(detection_states) == set(sensor.PRINTER_SENSORS[1].options or [])


def test_actions() -> None:
    actions = yaml.safe_load((PACKAGE / "services.yaml").read_text())
    for action, spec in actions.items():
        text = TRANSLATIONS["services"][action]
        assert text["name"]
        assert text["description"]
        for field in spec.get("fields", {}):
            assert text["fields"][field]["name"]


def test_errors_and_issues_raised_in_code() -> None:
    code = "\n".join(path.read_text() for path in sorted(PACKAGE.rglob("*.py")))
    keys = set(re.findall(r'translation_key="(\w+)"', code))
    keys |= set(re.findall(r'AccessRefusedError\("(\w+)"\)', code))
    keys |= set(re.findall(r'(?:\binvalid|\b_error)\(\s*"(\w+)"', code))
    known = set(TRANSLATIONS["exceptions"]) | set(TRANSLATIONS["issues"])
    # Entity and selector keys are checked elsewhere; the rest are errors or issues.
    known |= set(TRANSLATIONS["selector"])
    known |= {key for platform in TRANSLATIONS["entity"].values() for key in platform}
    missing = sorted(keys - known)
    assert not missing
    raised_as_issues = {
        "invalid_subentry",
        "storage_slow",
        "storage_failing",
        "ml_api_token_rejected",
        "ml_api_cannot_fetch_snapshots",
        "state_file_set_aside",
        "state_file_unusable",
        "users_file_missing",
        "users_file_invalid",
        "users_file_missing_kept",
        "users_file_unreadable",
        "users_file_unreadable_kept",
        "machine_state_lost",
        "recordings_disk_full",
        "recording_no_sun",
    }
    assert raised_as_issues <= set(TRANSLATIONS["issues"])
    for key in raised_as_issues:
        assert f'"{key}' in code  # still raised somewhere
