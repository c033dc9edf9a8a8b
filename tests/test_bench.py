"""The benchmark's own machinery, against a real hub: what it measures must be true.

`scripts/bench` publishes figures; these tests make sure its pieces measure what
they claim: its members file is one the hub accepts, its boards' idea of a right
reply is the hub's, holding the state files' locks really hangs the hub's saves,
and the loop probe reports lags.
"""

import asyncio
from collections.abc import AsyncGenerator
import os
from pathlib import Path
import random
import time

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub.const import CONF_WEBHOOK_ID, DOMAIN
from custom_components.makerspace_hub.machines.members import parse_members
from tools.bench import probe
from tools.bench.__main__ import hold_state_locks, release
from tools.bench.boards import Board, plans, run_fleet
from tools.bench.instance import (
    AUTHORIZATIONS,
    Makerspace,
    members,
    provision,
    status_entities,
    storage_dir,
    users_json,
    wait_until_loaded,
    write_config,
)
from tools.bench.report import Results, markdown, targets
from tools.bench.stats import Latencies, cpu_seconds, percentile
from tools.demo.homeassistant_api import HomeAssistantApi
from tools.fake_ml_api import FakeMlApi

MACHINES, PRINTERS, SENSORS = 4, 1, 1


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 100 .. 1, unsorted
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
    assert percentile([7.0], 0.99) == 7


def test_the_bench_members_file_is_one_the_hub_accepts() -> None:
    people = members(2000)
    loaded = parse_members(users_json(people).encode())
    assert len(loaded) == 2000
    assert loaded.fob_count == 2000
    assert set(loaded.authorizations()) == set(AUTHORIZATIONS)
    # A board sends the card's number; the hub knows it (zero-padded) as that member's.
    first = people[0]
    assert loaded.by_fob[first.fob.zfill(10)].preferred_name == first.name


def test_a_missed_target_is_reported() -> None:
    fast = Latencies.of([0.004] * 99 + [0.010], errors=0, wrong=0, seconds=1)
    slow = Latencies.of([0.004] * 98 + [0.030] * 2, errors=0, wrong=0, seconds=1)
    results = Results(machines=100, boards=fast, startups=[1.0, 6.0])
    verdicts = {figure: ok for figure, _, _, ok in targets(results)}
    assert verdicts["Board reply p99, 100 boards x 1 Hz"]
    assert not verdicts["Start-up (entry reload), slowest"]
    results.boards = slow
    assert not {figure: ok for figure, _, _, ok in targets(results)}[
        "Board reply p99, 100 boards x 1 Hz"
    ]
    assert "**missed**" in markdown(results, "scripts/bench")
    assert "Reading the misses" not in markdown(results, "scripts/bench")
    # A loop lag that a garbage collection pause explains is said to be one.
    results.boards_lag = {"p50_ms": 1.0, "p99_ms": 9.0, "max_ms": 450.0, "gc_max_ms": 460.0}
    results.hung_lag = {"p50_ms": 1.0, "p99_ms": 9.0, "max_ms": 120.0, "gc_max_ms": 5.0}
    note = markdown(results, "scripts/bench").split("Reading the misses")[1].split("\n")[0]
    assert "boards (450.0 ms worst lag, 460.0 ms GC pause)" in note
    assert "disk hung" not in note  # 120 ms of lag that no collection explains


def test_cpu_seconds_count_this_process() -> None:
    before = cpu_seconds(os.getpid())
    # The kernel counts in clock ticks (10 ms): work until one passes, for 5 s at most.
    deadline = time.monotonic() + 5
    while cpu_seconds(os.getpid()) <= before and time.monotonic() < deadline:
        sum(i * i for i in range(300_000))
    assert cpu_seconds(os.getpid()) > before


@pytest.fixture
async def bench_hub(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client: ClientSessionGenerator,
    hass_access_token: str,
    socket_enabled: None,
) -> AsyncGenerator[tuple[HomeAssistantApi, Makerspace, list[Board]]]:
    """Return the bench's API client, its small makerspace and its boards."""
    people = members(200)
    await hass.async_add_executor_job(write_config, config_dir / "bench", 0, people)
    (config_dir / "makerspace_hub").mkdir()
    (config_dir / "makerspace_hub" / "users.json").write_text(users_json(people))
    for domain in ("config", "api", "camera", "diagnostics", DOMAIN):
        assert await async_setup_component(hass, domain, {})
    client = await hass_client()
    ml_api = FakeMlApi(history=False)
    await ml_api.start()
    async with aiohttp.ClientSession() as session:
        api = HomeAssistantApi(session, str(client.make_url("")).rstrip("/"))
        api.access_token = hass_access_token
        entry_id = await provision(
            api,
            config_dir / "bench",
            ml_api.url,
            machines=MACHINES,
            printers=PRINTERS,
            sensors=SENSORS,
        )
        await wait_until_loaded(api, entry_id, MACHINES, PRINTERS, SENSORS)
        entry = hass.config_entries.async_get_entry(entry_id)
        assert entry is not None
        space = Makerspace(
            entry_id=entry_id,
            hub_webhook=entry.data[CONF_WEBHOOK_ID],
            machine_webhooks={
                s.data["name"]: s.data[CONF_WEBHOOK_ID]
                for s in entry.subentries.values()
                if s.subentry_type == "machine"
            },
            printer_status_entities=status_entities(PRINTERS),
            storage_dir=storage_dir(config_dir, entry_id),
        )
        boards = [
            Board(plan, random.Random(n))  # noqa: S311 - dice, not crypto
            for n, plan in enumerate(plans(api.base_url, space, people))
        ]
        yield api, space, boards
    await ml_api.stop()


async def test_the_bench_boards_agree_with_the_hub_and_a_held_lock_hangs_saves(
    hass: HomeAssistant, bench_hub: tuple[HomeAssistantApi, Makerspace, list[Board]]
) -> None:
    _, space, boards = bench_hub
    entry = hass.config_entries.async_get_entry(space.entry_id)
    assert entry is not None
    assert {m.name for m in entry.runtime_data.machines.values()} == set(space.machine_webhooks)

    for board in boards:  # a card in each reader from the first post
        board.next_card()
    figures = await run_fleet(boards, 4.0)
    assert figures.count >= 4 * MACHINES
    assert (figures.errors, figures.wrong) == (0, 0)
    expected = sum(board.relay_expected for board in boards)
    relays = sum(machine.reply.relay for machine in entry.runtime_data.machines.values())
    assert relays == expected > 0  # the bench's dice seat authorized members

    # The bench's hung disk: every state file's lock held by someone else.
    locks = await asyncio.to_thread(hold_state_locks, space.storage_dir)
    assert len(locks) >= MACHINES
    try:
        for board in boards:  # a card out: a state each machine must save
            board.next_card()
        figures = await run_fleet(boards, 3.0)
        assert (figures.errors, figures.wrong) == (0, 0)
        assert entry.runtime_data.storage.save_timeouts >= MACHINES
    finally:
        await asyncio.to_thread(release, locks)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_the_loop_probe_reports_lag(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    assert await async_setup_component(hass, "http", {})
    assert await probe.async_setup(hass, {})
    client = await hass_client()
    await asyncio.sleep(0.1)
    time.sleep(0.06)  # noqa: ASYNC251 - block the loop on purpose: the next tick is late
    await asyncio.sleep(0.05)
    figures = await (await client.get("/api/bench_probe")).json()
    assert figures["count"] >= 3
    assert figures["max_ms"] >= 40
    assert (await (await client.get("/api/bench_probe")).json())["count"] <= 2  # started over
