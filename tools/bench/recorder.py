"""The state rows Home Assistant's recorder wrote for the machines' entities.

Every state an entity writes becomes a row of the recorder's `states` table. The
benchmark counts, in the database itself (read-only, beside the recorder, which
keeps it in WAL mode), the rows of each machine's entities written within a phase:
with the boards only heart-beating, a makerspace at night, what every heartbeat
costs the database. Which entity is whose comes from Home Assistant's own registry
files (an entity's `config_subentry_id` is its machine's subentry).
"""

from collections import Counter
from contextlib import closing
from dataclasses import dataclass
import json
from pathlib import Path
import sqlite3
from typing import Any

DATABASE = "home-assistant_v2.db"
ROWS = """
SELECT states_meta.entity_id, count(*)
FROM states JOIN states_meta ON states.metadata_id = states_meta.metadata_id
WHERE states.last_updated_ts >= ? AND states.last_updated_ts < ?
GROUP BY states_meta.entity_id
"""
NEWEST = "SELECT max(last_updated_ts) FROM states"


@dataclass(frozen=True, slots=True, kw_only=True)
class StateRows:
    """The machines' state rows written within a phase."""

    seconds: float
    by_machine: dict[str, int]  # machine name -> rows of its entities (0: none)
    by_entity: dict[str, int]  # entity id -> rows
    entities: int = 0  # the machines' entities (in the registry, enabled or not)
    all_rows: int = 0  # rows of every entity of Home Assistant meanwhile

    @property
    def per_machine_minute(self) -> float:
        """Return the rows per machine per minute, all machines together."""
        if not self.by_machine or not self.seconds:
            return float("nan")
        return sum(self.by_machine.values()) / len(self.by_machine) / (self.seconds / 60)

    @property
    def worst_machine_minute(self) -> float:
        """Return the rows per minute of the machine that wrote the most."""
        if not self.by_machine or not self.seconds:
            return float("nan")
        return max(self.by_machine.values()) / (self.seconds / 60)

    def busiest(self, count: int = 5) -> list[tuple[str, int]]:
        """Return the entities that wrote the most rows, with their rows."""
        return Counter(self.by_entity).most_common(count)


def machine_entities(
    config_entries: dict[str, Any], entity_registry: dict[str, Any], entry_id: str
) -> dict[str, str]:
    """Return {entity id: machine name} from the two registry files' documents."""
    machines = {
        subentry["subentry_id"]: subentry["data"]["name"]
        for entry in config_entries["data"]["entries"]
        if entry["entry_id"] == entry_id
        for subentry in entry.get("subentries", [])
        if subentry["subentry_type"] == "machine"
    }
    return {
        entity["entity_id"]: machines[entity["config_subentry_id"]]
        for entity in entity_registry["data"]["entities"]
        if entity.get("config_entry_id") == entry_id
        and entity.get("config_subentry_id") in machines
    }


def read_machine_entities(config_dir: Path, entry_id: str) -> dict[str, str]:
    """Return {entity id: machine name} as Home Assistant saved them (blocking)."""
    storage = config_dir / ".storage"
    return machine_entities(
        json.loads((storage / "core.config_entries").read_text()),
        json.loads((storage / "core.entity_registry").read_text()),
        entry_id,
    )


def newest_row(database: Path) -> float | None:
    """Return when the newest state row was written (None: none yet) (blocking)."""
    with closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as connection:
        (newest,) = connection.execute(NEWEST).fetchone()
    return None if newest is None else float(newest)


def count_state_rows(
    database: Path, entities: dict[str, str], start: float, end: float
) -> StateRows:
    """Count the rows of `entities` ({entity id: machine}) in [start, end) (blocking)."""
    with closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as connection:
        found = dict(connection.execute(ROWS, (start, end)).fetchall())
    by_entity = {entity: int(rows) for entity, rows in found.items() if entity in entities}
    by_machine = dict.fromkeys(sorted(set(entities.values())), 0)
    for entity, rows in by_entity.items():
        by_machine[entities[entity]] += rows
    return StateRows(
        seconds=end - start,
        by_machine=by_machine,
        by_entity=by_entity,
        entities=len(entities),
        all_rows=sum(int(rows) for rows in found.values()),
    )


def state_rows_section(rows: StateRows | None, seconds: float) -> list[str]:
    """Return the section on the recorder's state rows (nothing if not counted)."""
    if rows is None:
        return []
    busiest = ", ".join(f"`{entity}` {count}" for entity, count in rows.busiest())
    return [
        "## Recorder state rows",
        "",
        f"The boards heart-beat for {seconds:.0f} s with no card (their readings wandering",
        "as in the boards phase): a makerspace at night. The recorder's database then held",
        f"**{sum(rows.by_machine.values())} state rows** of the {len(rows.by_machine)} machines'",
        f"{rows.entities} entities written in that time: **{rows.per_machine_minute:.2f} per",
        "machine per minute** (the machine that wrote the most:",
        f"{rows.worst_machine_minute:.2f}), of {rows.all_rows} rows of all Home Assistant.",
        f"The machines' entities that wrote the most: {busiest or 'none'}.",
        "",
    ]
