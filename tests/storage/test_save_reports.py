"""Saves that end in time tell nobody; a failed save and its recovery do (issue 19).

Every save used to re-judge the hub's storage health and have every device's
save-timeouts sensor look again: a hundred boards' card changes did that a hundred
times over. The health only changes when an attempt times out, fails, or succeeds
after a failure, so only those are reported. Through a real hub and real files.
"""

from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from custom_components.makerspace_hub.const import DOMAIN

from ..conftest import setup_hub
from .test_persistence import (
    _change,
    _hub,
    _machine,
    _make_read_only,
    _state_file,
    _store,
    _time_passes,
)


async def test_saves_in_time_tell_nobody_but_a_failure_and_its_recovery_do(
    hass: HomeAssistant, config_dir: Path
) -> None:
    entry = await setup_hub(hass, _hub("laser"))
    store = _store(entry, "laser")
    assert await store.async_flush()  # the setup saved the defaults
    await hass.async_block_till_done()
    told: list[None] = []
    entry.runtime_data.storage.async_add_listener(lambda: told.append(None))

    for _ in range(3):
        _change(entry, "laser")
        assert await store.async_flush()
    await hass.async_block_till_done()
    assert told == []  # saved, in time, like before: nothing the health shows changed

    undo = _make_read_only(_state_file(config_dir, entry, "laser").parent)
    try:
        _machine(entry, "laser").async_set_flags(oopsed=True)
        assert not await store.async_flush()
        await hass.async_block_till_done()
        assert told  # failing now
        assert ir.async_get(hass).async_get_issue(DOMAIN, f"storage_failing_{entry.entry_id}")
    finally:
        undo()
    told.clear()
    await _time_passes(hass, 31)  # the retry writes it
    assert await store.async_flush()
    await hass.async_block_till_done()
    assert told  # working again
    assert not ir.async_get(hass).async_get_issue(DOMAIN, f"storage_failing_{entry.entry_id}")

    told.clear()
    _machine(entry, "laser").async_set_flags(oopsed=False)
    assert await store.async_flush()
    await hass.async_block_till_done()
    assert told == []
