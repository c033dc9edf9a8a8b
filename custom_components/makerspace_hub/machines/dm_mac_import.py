"""Read a dm_mac `machines.json` into machine settings, naming the entry at fault.

Pure Python. The file is one JSON object: machine name -> machine object with the keys
of `settings.DM_MAC_MACHINE_KEYS`. An import is all-or-nothing: the first problem
raises `InvalidConfigError` (field "machines_json") and nothing is imported.
"""

from collections.abc import Collection
import json
from typing import Any

from ..const import CONF_NAME, CONF_SECOND_RELAY
from ..validation import InvalidConfigError
from .settings import DM_MAC_MACHINE_KEYS, DM_MAC_SECOND_RELAY_KEYS, MachineSettings

FIELD = "machines_json"


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads silently keeps the last of two equal keys; an import must not.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _unknown_key(entry: Any, allowed: frozenset[str]) -> str | None:
    return next((key for key in entry if key not in allowed), None)


def parse_machines_json(text: str, existing_names: Collection[str]) -> list[MachineSettings]:
    """Return the machines of a dm_mac machines.json, in file order.

    `existing_names` are the machines the hub already has: importing one of them
    again is an error, never a silent overwrite.
    """
    try:
        document = json.loads(text, object_pairs_hook=_reject_duplicates)
    except _DuplicateKeyError as err:
        raise InvalidConfigError("import_duplicate", FIELD, {"entry": err.key}) from err
    except ValueError as err:
        raise InvalidConfigError("import_invalid_json", FIELD, {"detail": str(err)}) from err
    if not isinstance(document, dict):
        raise InvalidConfigError("import_not_an_object", FIELD)
    if not document:
        raise InvalidConfigError("import_empty", FIELD)

    machines = []
    for name, entry in document.items():
        if not isinstance(entry, dict):
            raise InvalidConfigError("import_invalid_entry", FIELD, {"entry": name})
        unknown = _unknown_key(entry, DM_MAC_MACHINE_KEYS)
        second_relay = entry.get(CONF_SECOND_RELAY)
        if unknown is None and isinstance(second_relay, dict):
            unknown = _unknown_key(second_relay, DM_MAC_SECOND_RELAY_KEYS)
        if unknown is not None:
            raise InvalidConfigError(
                "import_unknown_field", FIELD, {"entry": name, "field": unknown}
            )
        try:
            machine = MachineSettings.from_data({**entry, CONF_NAME: name})
        except InvalidConfigError as err:
            if err.field == CONF_NAME:
                raise InvalidConfigError("import_invalid_name", FIELD, {"entry": name}) from err
            raise InvalidConfigError(
                "import_invalid_field", FIELD, {"entry": name, "field": err.field}
            ) from err
        if name in existing_names:
            raise InvalidConfigError("import_exists", FIELD, {"entry": name})
        machines.append(machine)
    return machines
