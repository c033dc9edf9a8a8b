"""Security: unguessable webhooks, each machine's webhook speaks only for its machine,
the internet is refused by default, a snapshot nonce works once, and no fob code or
token leaks into states, events, repair issues, diagnostics, state files or logs.
"""

import base64
from collections.abc import Awaitable, Callable
import hashlib
import json
import logging
import os
from pathlib import Path
import random
import re
from typing import Any
from unittest.mock import patch

from aiohttp.test_utils import TestClient
from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.const import MATCH_ALL
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.makerspace_hub.const import CONF_NAME, CONF_WEBHOOK_ID, DOMAIN
from custom_components.makerspace_hub.machines.installation import async_get_fob_keys
from custom_components.makerspace_hub.printers.frames import DATA_FRAMES
from tools.fake_ml_api import FakeMlApi

from .conftest import HUB_WEBHOOK_ID, make_hub_entry, setup_hub, subentry_by_title
from .fake_printers import JPEG
from .makerspace import (
    ADA,
    MACHINES,
    Board,
    machine,
    machine_of,
    member,
    members,
    webhook_of,
    write_members,
)
from .test_faults import open_print_shop

TOKEN = "obico-token-0123456789abcdef"
HEX_ID = re.compile(r"^[0-9a-f]{32,}$")

type StartMlApi = Callable[..., Awaitable[FakeMlApi]]


# --- webhook ids ----------------------------------------------------------------------


async def test_webhook_ids_carry_128_bits_or_more_from_the_system_csprng(
    hass: HomeAssistant,
) -> None:
    """Every id the flows create is the hex of at least 16 fresh bytes of the OS CSPRNG.

    Python reaches the OS CSPRNG through `os.urandom`, directly or through
    `random.SystemRandom` (which `secrets` uses); spies on both show where each
    id's bits come from, so an id made from a counter, a clock, a UUID or the
    Mersenne Twister fails here.
    """
    drawn: list[bytes] = []
    system_randbytes, urandom = random.SystemRandom.randbytes, os.urandom

    def randbytes_spy(self: random.SystemRandom, n: int) -> bytes:
        out = system_randbytes(self, n)
        drawn.append(out)
        return out

    def urandom_spy(n: int) -> bytes:
        out = urandom(n)
        drawn.append(out)
        return out

    ids: list[str] = []
    with (
        patch.object(random.SystemRandom, "randbytes", randbytes_spy),
        patch("os.urandom", urandom_spy),
    ):
        for number in range(20):
            result = await hass.config_entries.flow.async_init(
                DOMAIN, context={"source": SOURCE_USER}
            )
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {CONF_NAME: f"Makerspace {number}"}
            )
            assert result["type"] is FlowResultType.CREATE_ENTRY
            ids.append(result["result"].data[CONF_WEBHOOK_ID])
        await hass.async_block_till_done()
        hub = hass.config_entries.async_entries(DOMAIN)[-1]
        machines = {f"machine-{n}": {"authorizations_or": []} for n in range(20)}
        result = await hass.config_entries.subentries.async_init(
            (hub.entry_id, "machine"), context={"source": SOURCE_USER}
        )
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"next_step_id": "import_dm_mac"}
        )
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"machines_json": json.dumps(machines)}
        )
        assert result["reason"] == "machines_imported"
        await hass.async_block_till_done()
        result = await hass.config_entries.subentries.async_init(
            (hub.entry_id, "machine"), context={"source": SOURCE_USER}
        )
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"next_step_id": "machine"}
        )
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"],
            {
                CONF_NAME: "laser",
                "authorizations_or": [],
                "unauthorized_warn_only": False,
                "always_enabled": False,
                "has_second_relay": False,
            },
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
    ids += [subentry.data[CONF_WEBHOOK_ID] for subentry in hub.subentries.values()]

    assert len(ids) == 41
    assert all(HEX_ID.fullmatch(webhook_id) for webhook_id in ids)
    assert len(set(ids)) == len(ids)
    bits = {out.hex(): len(out) * 8 for out in drawn}
    weak = [webhook_id for webhook_id in ids if bits.get(webhook_id, 0) < 128]
    assert weak == []
    # And no structure across ids: their hex digits are about uniform
    # (chi-square, 15 degrees of freedom; 70 is beyond p = 1e-8).
    digits = "".join(ids)
    expected = len(digits) / 16
    chi_square = sum((digits.count(d) - expected) ** 2 / expected for d in "0123456789abcdef")
    assert chi_square < 70


# --- one machine's webhook, one machine -------------------------------------------------


@pytest.fixture
async def hub(hass: HomeAssistant, config_dir: Path) -> MockConfigEntry:
    """The test makerspace, with a machine that has an alias."""
    write_members(config_dir, members(dt_util.now().date()))
    return await setup_hub(
        hass,
        make_hub_entry(subentries=[*MACHINES, machine("laser", alias="Glowforge")]),
    )


UNKNOWN_MACHINE = "Unknown machine\ncheck its name"


def snapshot(hass: HomeAssistant) -> dict[str, Any]:
    """Return every entity's state and attributes."""
    return {s.entity_id: (s.state, dict(s.attributes)) for s in hass.states.async_all()}


async def test_a_machine_webhook_acts_on_no_other_machine(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    names = ["metal-mill", "hammer", "compressor", "saw", "laser"]
    before = snapshot(hass)
    states = {name: machine_of(hub, name).state.as_dict() for name in names}
    for own in names:
        url = f"/api/webhook/{webhook_of(hub, own)}"
        for other in [name for name in names if name != own] + ["Glowforge", own.upper()]:
            for body in (
                {"machine_name": other, "rfid_value": ADA},
                {"machine_name": other, "oops": True},
            ):
                response = await client.post(url, json=body)
                # Relay off (a renamed machine's board must not keep running), and
                # nothing judged: no card, no oops, no check-in of either machine.
                reply = await response.json()
                assert (reply["relay"], reply["display"]) == (False, UNKNOWN_MACHINE)
    await hass.async_block_till_done()
    assert {name: machine_of(hub, name).state.as_dict() for name in names} == states
    assert snapshot(hass) == before  # no state, no Access event, no check-in

    # Without a name, a machine's webhook acts on its own machine only.
    response = await client.post(f"/api/webhook/{webhook_of(hub, 'hammer')}", json={"oops": True})
    assert (await response.json())["oops_led"] is True
    assert [name for name in names if machine_of(hub, name).state.oopsed] == ["hammer"]

    # A removed machine's webhook judges no card again; the others live on.
    hammer_url = f"/api/webhook/{webhook_of(hub, 'hammer')}"
    hass.config_entries.async_remove_subentry(hub, subentry_by_title(hub, "hammer").subentry_id)
    await hass.async_block_till_done()
    response = await client.post(hammer_url, json={"rfid_value": ADA})
    assert response.status == 200
    reply = await response.json()
    assert (reply["relay"], reply["display"]) == (False, "New URL\nneeded")
    mill_url = f"/api/webhook/{webhook_of(hub, 'metal-mill')}"
    await client.post(mill_url, json={"rfid_value": ""})  # the mill's reader was empty
    response = await client.post(mill_url, json={"rfid_value": ADA})
    assert (await response.json())["relay"] is True
    assert await hub.runtime_data.storage.async_flush()


async def _flow_hub_with_a_machine(hass: HomeAssistant) -> ConfigEntry:
    """Create a hub and one machine the way an admin does: through the flows."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Decatur Makers"}
    )
    entry: ConfigEntry = result["result"]
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "machine"), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "machine"}
    )
    await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            CONF_NAME: "metal-mill",
            "authorizations_or": ["Metal Mill"],
            "unauthorized_warn_only": False,
            "always_enabled": False,
            "has_second_relay": False,
        },
    )
    await hass.async_block_till_done()
    return entry


@pytest.mark.parametrize(
    ("address", "local"),
    [
        ("8.8.8.8", False),
        ("2001:4860:4860::8888", False),
        ("192.168.1.50", True),
        ("fd00::50", True),
        ("127.0.0.1", True),
    ],
)
async def test_a_hub_made_by_the_flows_refuses_the_internet(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client_no_auth: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
    address: str,
    local: bool,
) -> None:
    caplog.set_level(logging.DEBUG)
    # Requests come through a trusted local proxy, which names the real client.
    assert await async_setup_component(
        hass,
        "http",
        {"http": {"use_x_forwarded_for": True, "trusted_proxies": ["127.0.0.1"]}},
    )
    write_members(config_dir, members(dt_util.now().date()))
    entry = await _flow_hub_with_a_machine(hass)
    client = await hass_client_no_auth()
    mill_subentry = subentry_by_title(entry, "metal-mill")
    mill = entry.runtime_data.machines[mill_subentry.subentry_id]
    before = snapshot(hass)

    for webhook_id, body in (
        (entry.data[CONF_WEBHOOK_ID], {"machine_name": "metal-mill", "rfid_value": ADA}),
        (mill_subentry.data[CONF_WEBHOOK_ID], {"rfid_value": ADA, "oops": True}),
    ):
        response = await client.post(
            f"/api/webhook/{webhook_id}", json=body, headers={"X-Forwarded-For": address}
        )
        if local:
            assert response.status == 200
        else:
            assert response.status == 403
            assert "local network" in (await response.json())["error"]
    await hass.async_block_till_done()
    # Neither the hub nor Home Assistant names a webhook in full at INFO and above
    # (the web server's own access log, off unless asked for, is not theirs).
    logged = " ".join(
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.INFO
        and record.name.startswith(("custom_components.makerspace_hub", "homeassistant"))
    )
    for webhook_id in (entry.data[CONF_WEBHOOK_ID], mill_subentry.data[CONF_WEBHOOK_ID]):
        assert webhook_id not in logged
    assert await entry.runtime_data.storage.async_flush()
    if local:
        assert mill.state.oopsed
        return
    assert mill.state.last_checkin is None
    assert not mill.state.oopsed
    assert snapshot(hass) == before


# --- snapshot nonces ------------------------------------------------------------------


async def test_a_snapshot_nonce_works_once(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    ml_api: FakeMlApi,
) -> None:
    shop = await open_print_shop(hass, hass_client_no_auth, ml_api)
    await shop.status("printing")  # the first frame is scored at once
    (offered,) = ml_api.image_urls
    assert ml_api.fetched_images == [JPEG]  # the ML API used it
    path = URL(offered).path
    nonce = path.rsplit("/", 1)[1]
    assert len(base64.urlsafe_b64decode(nonce + "=")) >= 16  # 128 bits or more
    replay = await shop.client.get(path)
    assert replay.status == 404
    assert replay.headers["Cache-Control"] == "no-store"

    # A frame the ML API never fetched is withdrawn once the ML API answered.
    ml_api.predict_status = 500
    await shop.frames(1)
    unfetched = URL(URL(ml_api.requests[-1]).query["img"]).path
    assert unfetched != path
    assert (await shop.client.get(unfetched)).status == 404
    assert len(hass.data[DATA_FRAMES]) == 0  # nothing waits in memory


# --- no secret leaks ------------------------------------------------------------------

# Fob codes as users.json holds them; a board sends them without leading zeros.
ADA_FOB, BOB_FOB, RITA_FOB = "0314159265", "2718281828", "0161803398"
ED_FOB, GONE_FOB, NEW_FOB, UNKNOWN_FOB = "5772156649", "1414213562", "0173205080", "0693147180"
FOBS = (ADA_FOB, BOB_FOB, RITA_FOB, ED_FOB, GONE_FOB, NEW_FOB, UNKNOWN_FOB)


def _members(*, ada_fob: str = ADA_FOB, gone: bool = True, new: bool = False) -> list[Any]:
    people = [
        member("ada", "Ada", [ada_fob], ["Metal Mill", "Woodshop 101"]),
        member("bob", "Bob", [BOB_FOB], ["Woodshop 101"]),
        member("rita", "Rita", [RITA_FOB], [], oops_override=True),
        member("ed", "Ed", [ED_FOB], ["Metal Mill"], expires="2020-01-01"),
    ]
    if gone:
        people.append(member("gone", "Gone", [GONE_FOB], ["Metal Mill", "Dust"]))
    if new:
        people.append(member("new", "Nova", [NEW_FOB], ["Metal Mill"]))
    return people


def _text(value: Any) -> str:
    """Return everything `value` holds as text (states and events included)."""

    def plain(item: Any) -> Any:
        return item.as_dict() if hasattr(item, "as_dict") else repr(item)

    return json.dumps(value, default=plain, ensure_ascii=False)


async def test_no_fob_code_or_token_leaks_after_a_busy_day(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    start_ml_api: StartMlApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # everything is captured; INFO and above is scanned
    events: list[Event] = []

    @callback
    def record(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen(MATCH_ALL, record)
    assert await async_setup_component(hass, "diagnostics", {})
    write_members(config_dir, _members())
    api = await start_ml_api(token=TOKEN)
    shop = await open_print_shop(
        hass, hass_client_no_auth, api, machines=MACHINES, oops_alerts=True
    )
    entry, client = shop.entry, shop.client

    async def act(action: str, name: str) -> None:
        await hass.services.async_call(DOMAIN, action, {"machine": name}, blocking=True)

    async def reload_users() -> dict[str, Any]:
        response = await hass.services.async_call(
            DOMAIN, "reload_users", {}, blocking=True, return_response=True
        )
        assert response is not None
        return dict(response)

    # The boards: the hub webhook with short codes, machines' own webhooks with full ones.
    mill = Board(client, "metal-mill")
    for card in (ADA_FOB, UNKNOWN_FOB, BOB_FOB, ED_FOB):
        await mill.post(card.lstrip("0"))
        await mill.post()
    await mill.post(ADA_FOB.lstrip("0"), oops=True)  # oops: an alert goes out
    assert (await mill.post(RITA_FOB.lstrip("0")))["display"] == "OVERRIDE BY\nRita"
    await mill.post()
    await act("clear", "metal-mill")
    hammer = Board(client, "hammer", webhook_of(entry, "hammer"))
    await hammer.post(BOB_FOB)
    await hammer.post(ED_FOB)  # a card swap to an expired member
    compressor = Board(client, "compressor", webhook_of(entry, "compressor"))
    await compressor.post(ADA_FOB)
    await compressor.post(UNKNOWN_FOB)
    saw = Board(client, "saw")
    await act("lockout", "saw")  # an alert goes out
    await saw.post(GONE_FOB)
    await act("unlock", "saw")
    await saw.post()
    assert (await saw.post(GONE_FOB))["relay"] is True

    # A members file with a code missing its leading zero is refused, then fixed:
    # the removed member's session ends, the new member logs in.
    write_members(config_dir, _members(ada_fob=ADA_FOB.lstrip("0")))
    with pytest.raises(HomeAssistantError):
        await reload_users()
    write_members(config_dir, _members(gone=False, new=True))
    assert await reload_users() == {"removed": 1, "updated": 0, "added": 1}
    assert (await mill.post(NEW_FOB.lstrip("0")))["display"] == "Welcome,\nNova"

    # A print scored with the token; the server rotates it (a repair issue), then back.
    await shop.status("printing")
    await shop.frames(2)
    api.token = "rotated-on-the-server"
    await shop.frames(1)
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"ml_api_token_rejected_{entry.entry_id}")
    api.token = TOKEN
    await shop.frames(1)
    assert await entry.runtime_data.storage.async_flush()
    await hass.async_block_till_done(wait_background_tasks=True)

    diagnostics = [await get_diagnostics_for_config_entry(hass, hass_client, entry)]
    diagnostics += [
        await get_diagnostics_for_device(hass, hass_client, entry, device)
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    ]
    # Every snapshot offered to the ML API, also the one it refused to fetch.
    nonces = [
        URL(URL(asked).query["img"]).path.rsplit("/", 1)[1]
        for asked in api.requests
        if asked.startswith("/p/")
    ]
    webhook_ids = [HUB_WEBHOOK_ID, *(webhook_of(entry, m["title"]) for m in MACHINES)]
    credentials = [TOKEN, *webhook_ids, *nonces]
    # A fob in full, as a board sends it, its last digits as older releases showed
    # them, and a plain digest (reversed by trying every code).
    fob_forms = list(dict.fromkeys(form for fob in FOBS for form in (fob, fob.lstrip("0"))))
    fob_forms += [f"••••••{fob[-4:]}" for fob in FOBS]
    fob_forms += [hashlib.sha256(fob.encode()).hexdigest() for fob in FOBS]
    # The keyed digest that recognises a card belongs in the state files only.
    keys = await async_get_fob_keys(hass)
    digests = [keys.digest(fob) for fob in FOBS]
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    records = caplog.get_records("call")
    exposed = {
        "states": _text(hass.states.async_all()),
        "events": _text([event.as_dict() for event in events]),
        "diagnostics": _text(diagnostics),
        "repair issues": _text(
            [
                (issue.issue_id, issue.translation_placeholders)
                for issue in ir.async_get(hass).issues.values()
            ]
        ),
        # Home Assistant keeps aiohttp's access log at WARNING; only the test server logs it.
        "logs": "\n".join(
            formatter.format(record)
            for record in records
            if record.levelno >= logging.INFO and record.name != "aiohttp.access"
        ),
    }
    state_files = "\n".join(
        path.read_text(errors="replace")
        for path in (config_dir / ".storage" / DOMAIN).rglob("*.json")
    )

    # The day did happen, and the scan sees where a leak would be.
    assert len(nonces) == 5
    assert api.requests.count("/hc/") >= 1
    assert [call.data["title"] for call in shop.notifications] == [
        "metal-mill was oopsed",
        "saw was locked out",
    ]
    assert keys.tag(NEW_FOB) in exposed["states"]  # Nova's fob's tag, the last at the mill
    assert keys.tag(ADA_FOB) in exposed["events"]  # Ada's, earlier in the day
    assert "a fob code is not a 10-digit" in exposed["logs"]  # the members file problem
    assert "member_removed" in exposed["events"]
    assert '"session": null' in state_files
    debug = "\n".join(r.getMessage() for r in records if r.levelno < logging.INFO)
    assert HUB_WEBHOOK_ID in debug  # Home Assistant's webhook debug line: scanned if it rose

    leaks = {
        where: [secret for secret in credentials + fob_forms + digests if secret in text]
        for where, text in exposed.items()
    }
    leaks["state files"] = [form for form in fob_forms if form in state_files]
    assert leaks == {where: [] for where in leaks}
