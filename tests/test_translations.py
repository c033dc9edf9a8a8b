"""Every name, action, error and issue the code uses has its English text."""

import json
from pathlib import Path
import re
import string
from typing import Any

import pytest
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


def _strings(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Return {dotted key: text} of every string in a translations tree."""
    found: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            found |= _strings(value, f"{prefix}{key}.")
        else:
            found[f"{prefix}{key}"] = value
    return found


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _languages() -> list[Path]:
    return sorted(path for path in (PACKAGE / "translations").glob("*.json") if path.stem != "en")


def test_there_is_a_second_language() -> None:
    assert [path.stem for path in _languages()] == ["de"]


@pytest.mark.parametrize("path", _languages(), ids=lambda path: path.stem)
def test_every_language_has_the_keys_and_placeholders_of_english(path: Path) -> None:
    english = _strings(TRANSLATIONS)
    other = _strings(json.loads(path.read_text(encoding="utf-8")))
    assert sorted(english.keys() - other.keys()) == [], "untranslated"
    assert sorted(other.keys() - english.keys()) == [], "not in en.json"
    # Home Assistant drops a translation whose placeholders differ from English.
    differ = {
        key: (sorted(_placeholders(english[key])), sorted(_placeholders(text)))
        for key, text in other.items()
        if _placeholders(text) != _placeholders(english[key])
    }
    assert differ == {}
    assert [key for key, text in other.items() if not text or text != text.strip()] == []


def test_a_missing_key_or_placeholder_is_found() -> None:
    english = {"a": {"b": "{x} and {y}", "c": "z"}}
    assert _strings(english) == {"a.b": "{x} and {y}", "a.c": "z"}
    assert _placeholders("{x} und {y}") == {"x", "y"}
    assert _placeholders("{x} und {z}") != _placeholders(english["a"]["b"])


def test_alert_texts_used_in_code_are_in_english_and_used() -> None:
    """Every alert text the code names is in en.json; every one there is named in code.

    Keys built with an f-string (`f"alert_machine_{flag}_title"`) match as patterns.
    """
    code = "\n".join(path.read_text() for path in sorted(PACKAGE.rglob("*.py")))
    built = re.findall(r'(f?)"(alert_[\w{}]*)"', code)
    patterns = [
        re.compile(re.sub(r"\\\{[^}]*\\\}", r"\\w*", re.escape(key)) if f else re.escape(key))
        for f, key in built
    ]
    texts = {key for key in TRANSLATIONS["exceptions"] if key.startswith("alert_")}
    assert [key for f, key in built if not f and key not in texts] == []
    assert sorted(k for k in texts if not any(p.fullmatch(k) for p in patterns)) == []
    for (f, key), pattern in zip(built, patterns, strict=True):
        if f:  # an f-string key stands for at least one text
            assert any(pattern.fullmatch(text) for text in texts), key
