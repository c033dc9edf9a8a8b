"""Importing a dm_mac machines.json (`dm_mac_import`), without Home Assistant.

An import is all or nothing: the first problem names its entry (the flow shows it
translated) and nothing is imported. The config-flow tests import through the UI.
"""

import json
from typing import Any

import pytest

from custom_components.makerspace_hub.machines.dm_mac_import import FIELD, parse_machines_json
from custom_components.makerspace_hub.machines.settings import (
    MachineSettings,
    SecondRelaySettings,
)
from custom_components.makerspace_hub.validation import InvalidConfigError


def test_every_dm_mac_key_is_taken() -> None:
    text = json.dumps(
        {
            "metal-mill": {
                "alias": "Metal Mill",
                "authorizations_or": ["Metal Mill"],
                "unauthorized_warn_only": True,
                "always_enabled": False,
                "second_relay": {
                    "alias": "Dust",
                    "authorizations_or": ["Dust"],
                    "unauthorized_warn_only": False,
                    "always_enabled": True,
                },
            },
            "compressor": {"always_enabled": True},
        }
    )
    assert parse_machines_json(text, existing_names=("band-saw",)) == [
        MachineSettings(
            name="metal-mill",
            alias="Metal Mill",
            authorizations_or=("Metal Mill",),
            unauthorized_warn_only=True,
            second_relay=SecondRelaySettings(
                alias="Dust", authorizations_or=("Dust",), always_enabled=True
            ),
        ),
        MachineSettings(name="compressor", always_enabled=True),
    ]


@pytest.mark.parametrize(
    ("text", "key", "placeholders"),
    [
        ("{", "import_invalid_json", None),
        ('{"saw": NaN}', "import_invalid_entry", {"entry": "saw"}),
        ("[]", "import_not_an_object", {}),
        ("{}", "import_empty", {}),
        ('{"saw": {}, "saw": {}}', "import_duplicate", {"entry": "saw"}),
        ('{"saw": {"alias": "A", "alias": "B"}}', "import_duplicate", {"entry": "alias"}),
        ('{"saw": []}', "import_invalid_entry", {"entry": "saw"}),
        ('{"saw": {"colour": "red"}}', "import_unknown_field", {"entry": "saw", "field": "colour"}),
        (
            '{"saw": {"second_relay": {"delay": 5}}}',
            "import_unknown_field",
            {"entry": "saw", "field": "delay"},
        ),
        ('{"Band Saw": {}}', "import_invalid_name", {"entry": "Band Saw"}),
        (
            '{"saw": {"always_enabled": "yes"}}',
            "import_invalid_field",
            {"entry": "saw", "field": "always_enabled"},
        ),
        (
            '{"saw": {"second_relay": []}}',
            "import_invalid_field",
            {"entry": "saw", "field": "second_relay"},
        ),
        ('{"new": {}, "band-saw": {}}', "import_exists", {"entry": "band-saw"}),
    ],
)
def test_the_first_problem_names_its_entry(
    text: str, key: str, placeholders: dict[str, Any] | None
) -> None:
    with pytest.raises(InvalidConfigError) as err:
        parse_machines_json(text, existing_names=("band-saw",))
    assert (err.value.key, err.value.field) == (key, FIELD)
    if placeholders is not None:
        assert err.value.placeholders == placeholders
    else:
        assert err.value.placeholders["detail"]


def test_dm_mac_import_keeps_file_order_and_exact_authorizations() -> None:
    machines = parse_machines_json(
        '{"b-saw": {"authorizations_or": ["Wood Shop "]}, "a-laser": {"authorizations_or": []}}',
        existing_names=(),
    )
    assert [m.name for m in machines] == ["b-saw", "a-laser"]
    # Authorization names are exact, case-sensitive strings: nothing is trimmed.
    assert machines[0].authorizations_or == ("Wood Shop ",)
