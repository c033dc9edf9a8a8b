"""A machine's settings (pure): the stored shape and its validation."""

from typing import Any

import pytest

from custom_components.makerspace_hub.const import (
    CONF_NAME,
    CONF_SECOND_RELAY,
)
from custom_components.makerspace_hub.machines.settings import MachineSettings
from custom_components.makerspace_hub.validation import InvalidConfigError


def test_machine_round_trip_with_second_relay() -> None:
    data = {
        CONF_NAME: "saw",
        "alias": "Table saw",
        "authorizations_or": ["Wood"],
        "unauthorized_warn_only": True,
        "always_enabled": False,
        "webhook_id": "w" * 64,
        CONF_SECOND_RELAY: {
            "authorizations_or": ["Dust"],
            "unauthorized_warn_only": False,
            "always_enabled": True,
            "alias": "Dust",
        },
    }
    machine = MachineSettings.from_data(data)
    assert machine.display_name == "Table saw"
    assert machine.as_data() == data
    assert "w" * 64 not in repr(machine)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({CONF_NAME: None}, CONF_NAME),
        ({CONF_NAME: "ok", "authorizations_or": [1]}, "authorizations_or"),
        ({CONF_NAME: "ok", "always_enabled": 1}, "always_enabled"),
        ({CONF_NAME: "ok", "alias": 5}, "alias"),
        ({CONF_NAME: "ok", CONF_SECOND_RELAY: "yes"}, CONF_SECOND_RELAY),
    ],
)
def test_machine_validation(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidConfigError) as err:
        MachineSettings.from_data(data)
    assert err.value.field == field
