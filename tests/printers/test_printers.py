"""Printers watched by a real fake ML API that fetches the snapshot like the real one."""

import asyncio
from datetime import timedelta
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub.const import DOMAIN
from custom_components.makerspace_hub.printers.frames import DATA_FRAMES
from custom_components.makerspace_hub.printers.print_watch import NO_WORD_STATES
from custom_components.makerspace_hub.storage.hub_storage import DATA_STORAGE, StateStorage

from ..conftest import make_hub_entry, setup_hub
from ..fake_printers import JPEG
from .shop import STATUS, MakeShop, failure


async def test_a_print_is_analysed_with_snapshots_the_ml_api_fetches(make_shop: MakeShop) -> None:
    shop = await make_shop("prusa")
    await shop.status("prusa", "printing", filename="benchy.gcode")
    assert shop.events["prusa"] == [("print_started", {"print": "benchy.gcode"})]
    await shop.frames(3)
    printer = shop.printer("prusa")
    assert printer.detector.current_frame_num == 4  # the first poll starts at once
    assert shop.ml_api.fetched_images == [JPEG] * 4
    base = shop.entry.options["snapshot_base_url"]
    assert shop.ml_api.image_urls[-1].startswith(f"{base}/api/makerspace_hub/frame/")
    assert shop.state("sensor", "prusa", "detection").state == "warming_up"
    assert shop.state("sensor", "prusa", "frames").state == "4"
    assert shop.state("binary_sensor", "prusa", "print_failure").state == "off"

    await shop.status("prusa", "idle")
    await shop.frames(2)
    assert printer.detector.current_frame_num == 4  # no polling between prints
    assert shop.state("sensor", "prusa", "detection").state == "idle"


async def test_a_sustained_failure_notifies_once_per_print(make_shop: MakeShop) -> None:
    shop = await make_shop("prusa")
    await shop.status("prusa", "printing")
    await shop.frames(40)  # clean frames: warmed up, safe
    assert shop.state("sensor", "prusa", "detection").state == "safe"
    assert shop.ml_api.max_in_flight == 1
    shop.ml_api.detections.extend([failure(1.5)] * 15)
    await shop.frames(15)
    await shop.hass.async_block_till_done(wait_background_tasks=True)
    assert shop.state("binary_sensor", "prusa", "print_failure").state == "on"
    assert shop.state("sensor", "prusa", "detection").state == "failure"
    assert float(shop.state("sensor", "prusa", "failure_probability").state) > 66
    assert [kind for kind, _ in shop.events["prusa"]].count("failure") == 1
    (alert,) = shop.notifications
    assert alert.data["title"] == "prusa may be failing"
    assert "failure probability" in alert.data["message"]
    actions = [a["title"] for a in alert.data["data"]["actions"]]
    assert actions == ["Pause print", "Not a failure", "Snooze 15 min"]
    event = shop.state("event", "prusa", "detection")
    assert event.attributes["event_type"] == "failure"
    assert event.attributes["printer"] == "prusa"
    history = shop.printer("prusa").health.history
    assert history[-1].verdict == "failure"
    assert len(history) <= 50


async def test_a_single_spike_does_not_fire(make_shop: MakeShop) -> None:
    shop = await make_shop("prusa")
    await shop.status("prusa", "printing")
    await shop.frames(40)
    shop.ml_api.detections.append(failure(3.0))
    await shop.frames(10)
    assert shop.state("binary_sensor", "prusa", "print_failure").state == "off"
    assert shop.notifications == []


@pytest.mark.parametrize("action", ["pause", "pause_and_off"])
async def test_pause_actions(make_shop: MakeShop, action: str) -> None:
    shop = await make_shop(("prusa", {"action": action, "power_entity": "switch.prusa_power"}))
    hass = shop.hass
    await shop.status("prusa", "printing")
    await shop.frames(40)
    shop.ml_api.detections.extend([failure(1.5)] * 15)
    await shop.frames(15)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get("input_button.prusa_pause").state != "unknown"  # pressed
    kinds = [kind for kind, _ in shop.events["prusa"]]
    assert "paused" in kinds
    power = hass.states.get("switch.prusa_power").state
    assert power == ("off" if action == "pause_and_off" else "on")
    assert ("powered_off" in kinds) == (action == "pause_and_off")
    # The alert goes out after the action and says what it did.
    (alert,) = shop.notifications
    assert [a["title"] for a in alert.data["data"]["actions"]] == ["Not a failure", "Snooze 15 min"]
    assert "The print was paused." in alert.data["message"]
    assert ("The printer was powered off." in alert.data["message"]) == (action == "pause_and_off")
    # Without power there is no print to watch; on its own status it would go on.
    assert shop.printer("prusa").job.active == (action == "pause")


async def test_an_action_that_cannot_run_is_reported_not_claimed(make_shop: MakeShop) -> None:
    shop = await make_shop(
        (
            "prusa",
            {
                "action": "pause_and_off",
                "pause_entity": "button.gone",
                "power_entity": "switch.prusa_power",
            },
        )
    )
    shop.hass.states.async_set("switch.prusa_power", "unavailable")
    await shop.status("prusa", "printing")
    await shop.frames(40)
    shop.ml_api.detections.extend([failure(1.5)] * 15)
    await shop.frames(15)
    kinds = [kind for kind, _ in shop.events["prusa"]]
    assert "failure" in kinds
    assert "paused" not in kinds
    assert "powered_off" not in kinds
    (alert,) = shop.notifications
    assert "Pausing failed (button.gone)." in alert.data["message"]
    assert "Powering off failed (switch.prusa_power)." in alert.data["message"]
    assert "switch.prusa_power" in shop.state("sensor", "prusa", "last_error").state
    assert shop.printer("prusa").job.active  # not powered off: still watched


async def test_notification_buttons(make_shop: MakeShop) -> None:
    shop = await make_shop("prusa")
    hass = shop.hass
    await shop.status("prusa", "printing")
    await shop.frames(40)
    shop.ml_api.detections.extend([failure(1.5)] * 15)
    await shop.frames(15)
    (alert,) = shop.notifications
    pause, ignore, _snooze = (a["action"] for a in alert.data["data"]["actions"])
    hass.bus.async_fire("mobile_app_notification_action", {"action": pause})
    await hass.async_block_till_done()
    assert hass.states.get("input_button.prusa_pause").state != "unknown"
    hass.bus.async_fire("mobile_app_notification_action", {"action": ignore})
    await hass.async_block_till_done()
    assert shop.state("binary_sensor", "prusa", "print_failure").state == "off"
    assert [kind for kind, _ in shop.events["prusa"]][-2:] == ["paused", "ignored"]

    # A new print: the old alert's buttons no longer act.
    await shop.status("prusa", "finished")
    await shop.status("prusa", "printing")
    presses = hass.states.get("input_button.prusa_pause").state
    hass.bus.async_fire("mobile_app_notification_action", {"action": pause})
    hass.bus.async_fire("mobile_app_notification_action", {"action": ignore})
    await hass.async_block_till_done()
    assert hass.states.get("input_button.prusa_pause").state == presses
    assert [kind for kind, _ in shop.events["prusa"]][-1] == "print_started"


async def test_a_different_file_after_an_outage_is_a_new_print(make_shop: MakeShop) -> None:
    shop = await make_shop("prusa")
    printer = shop.printer("prusa")
    await shop.status("prusa", "printing", filename="benchy.gcode")
    await shop.frames(3)
    await shop.status("prusa", "unavailable")
    await shop.status("prusa", "printing", filename="benchy.gcode")
    await shop.frames(1)
    assert printer.detector.current_frame_num == 6  # the same print goes on
    await shop.status("prusa", "unavailable")
    await shop.status("prusa", "printing", filename="bracket.gcode")
    assert printer.job.name == "bracket.gcode"
    assert printer.detector.current_frame_num == 1
    assert [kind for kind, _ in shop.events["prusa"]] == ["print_started", "print_started"]


async def test_a_frame_scored_across_prints_is_dropped(make_shop: MakeShop) -> None:
    shop = await make_shop("prusa")
    printer = shop.printer("prusa")
    camera = shop.world["cameras"]["prusa"]
    await shop.status("prusa", "printing", filename="a.gcode")
    assert printer.detector.current_frame_num == 1
    camera.hang = asyncio.Event()
    assert await shop.entry.runtime_data.storage.async_flush()
    async_fire_time_changed(shop.hass, dt_util.utcnow() + timedelta(seconds=10.5))
    await shop.hass.async_block_till_done()
    assert camera.waiting == 1  # a frame of a.gcode on its way
    shop.hass.states.async_set(STATUS.format("prusa"), "printing", {"filename": "b.gcode"})
    await shop.hass.async_block_till_done()
    camera.hang.set()
    camera.hang = None
    await shop.hass.async_block_till_done(wait_background_tasks=True)
    assert printer.job.name == "b.gcode"
    assert printer.detector.current_frame_num == 0  # a.gcode's frame is not b's


async def test_unloading_cancels_a_frame_in_flight(make_shop: MakeShop) -> None:
    shop = await make_shop("prusa")
    camera = shop.world["cameras"]["prusa"]
    camera.hang = asyncio.Event()
    shop.hass.states.async_set(STATUS.format("prusa"), "printing")
    await shop.hass.async_block_till_done()
    assert camera.waiting == 1
    assert await shop.hass.config_entries.async_unload(shop.entry.entry_id)
    await shop.hass.async_block_till_done()
    assert camera.waiting == 0  # cancelled, not left hanging on an unloaded hub


async def test_pause_and_resume_is_the_same_print_a_new_print_resets(make_shop: MakeShop) -> None:
    shop = await make_shop("prusa")
    printer = shop.printer("prusa")
    await shop.status("prusa", "printing")
    await shop.frames(5)
    await shop.status("prusa", "paused")
    await shop.frames(3)
    assert printer.detector.current_frame_num == 6
    await shop.status("prusa", "printing")
    await shop.frames(1)
    assert printer.detector.current_frame_num == 8
    assert [kind for kind, _ in shop.events["prusa"]] == ["print_started"]
    await shop.status("prusa", "finished")
    await shop.status("prusa", "printing")
    assert printer.detector.current_frame_num == 1
    assert printer.detector.lifetime_frame_num == 9
    assert [kind for kind, _ in shop.events["prusa"]] == ["print_started", "print_started"]


async def test_warnings_alert_only_when_enabled_with_a_cooldown(make_shop: MakeShop) -> None:
    shop = await make_shop("prusa", print_warning_alerts=True)
    await shop.status("prusa", "printing")
    await shop.frames(40)
    shop.ml_api.detections.extend([failure(0.65)] * 60)
    await shop.frames(60)
    warnings = [c for c in shop.notifications if c.data["title"] == "prusa might be failing"]
    # 10 minutes of warnings: one alert per 90 s at most.
    assert 1 <= len(warnings) <= 7
    assert "actions" not in warnings[0].data.get("data", {})


async def test_two_printers_never_overlap_requests(make_shop: MakeShop) -> None:
    shop = await make_shop("prusa", "bambu")
    shop.ml_api.delay = 0.05
    await shop.status("prusa", "printing")
    await shop.status("bambu", "printing")
    await shop.frames(6)
    assert shop.ml_api.max_in_flight == 1
    assert shop.printer("prusa").detector.current_frame_num >= 5
    assert shop.printer("bambu").detector.current_frame_num >= 5
    assert shop.printer("bambu").stagger_sec == 5


async def test_a_slow_printer_does_not_starve_the_others(make_shop: MakeShop) -> None:
    shop = await make_shop("prusa", "bambu")
    camera = shop.world["cameras"]["prusa"]
    await shop.status("bambu", "printing")
    stuck = camera.hang = asyncio.Event()
    shop.hass.states.async_set(STATUS.format("prusa"), "printing")
    for _ in range(5):
        assert await shop.entry.runtime_data.storage.async_flush()
        async_fire_time_changed(shop.hass, dt_util.utcnow() + timedelta(seconds=10.5))
        await shop.hass.async_block_till_done()  # not waiting for the stuck snapshot
        for _ in range(20):
            await asyncio.sleep(0.01)
    prusa = shop.printer("prusa")
    assert prusa.detector.current_frame_num == 0
    assert shop.printer("bambu").detector.current_frame_num >= 4
    # 50 s passed: the snapshot's own 20 s timeout ended stuck polls, one at a time.
    assert camera.max_waiting == 1
    assert prusa.health.camera_errors == camera.asked - 1
    stuck.set()
    camera.hang = None
    await shop.hass.async_block_till_done(wait_background_tasks=True)
    await shop.frames(1)
    assert prusa.detector.current_frame_num >= 1


async def test_a_script_or_switch_can_pause(make_shop: MakeShop) -> None:
    shop = await make_shop(
        ("prusa", {"action": "pause", "pause_entity": "switch.prusa_power"}),
        ("bambu", {"action": "pause", "pause_entity": "script.pause_bambu"}),
    )
    hass = shop.hass
    assert await async_setup_component(
        hass,
        "script",
        {"script": {"pause_bambu": {"sequence": [{"event": "bambu_paused"}]}}},
    )
    paused: list[Event] = []
    hass.bus.async_listen("bambu_paused", paused.append)
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.prusa_power"}, blocking=True
    )
    for name in ("prusa", "bambu"):
        await shop.status(name, "printing")
    await shop.frames(40)
    for detections in [failure(1.5)] * 30:
        shop.ml_api.detections.append(detections)
    await shop.frames(15)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get("switch.prusa_power").state == "on"  # switched on to pause
    assert len(paused) == 1


async def test_the_ml_api_health_is_checked_every_minute(make_shop: MakeShop) -> None:
    shop = await make_shop("prusa")
    checks = shop.ml_api.requests.count("/hc/")
    async_fire_time_changed(shop.hass, dt_util.utcnow() + timedelta(seconds=61))
    await shop.hass.async_block_till_done(wait_background_tasks=True)
    assert shop.ml_api.requests.count("/hc/") == checks + 1
    shop.ml_api.health_status = 503
    async_fire_time_changed(shop.hass, dt_util.utcnow() + timedelta(seconds=122))
    await shop.hass.async_block_till_done(wait_background_tasks=True)
    api = er.async_get(shop.hass).async_get_entity_id(
        "binary_sensor", DOMAIN, f"{shop.entry.entry_id}_hub_ml_api"
    )
    assert shop.hass.states.get(api).state == "off"


async def test_a_broken_camera_is_counted_and_never_a_failure(make_shop: MakeShop) -> None:
    shop = await make_shop("prusa")
    shop.world["cameras"]["prusa"].broken = True
    await shop.status("prusa", "printing")
    await shop.frames(3)
    assert shop.state("sensor", "prusa", "camera_errors").state == "4"
    assert "camera unplugged" in shop.state("sensor", "prusa", "last_error").state
    assert shop.printer("prusa").detector.current_frame_num == 0
    shop.world["cameras"]["prusa"].broken = False
    await shop.frames(1)
    assert shop.printer("prusa").detector.current_frame_num == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, "oops"), (200, "not json"), (200, '{"detections": [["failure", 7, []]]}'), (200, "{}")],
)
async def test_a_broken_ml_api_makes_detection_unavailable(
    make_shop: MakeShop, status: int, body: str
) -> None:
    shop = await make_shop("prusa")
    await shop.status("prusa", "printing")
    await shop.frames(2)
    shop.ml_api.predict_status = status if status != 200 else None
    shop.ml_api.predict_body = body
    await shop.frames(3)
    hub_api = er.async_get(shop.hass).async_get_entity_id(
        "binary_sensor", DOMAIN, f"{shop.entry.entry_id}_hub_ml_api"
    )
    assert shop.hass.states.get(hub_api).state == "off"
    for platform, key in (("binary_sensor", "print_failure"), ("sensor", "detection")):
        assert shop.state(platform, "prusa", key).state == "unavailable"
    assert shop.printer("prusa").detector.current_frame_num == 3  # nothing fed
    shop.ml_api.predict_status = shop.ml_api.predict_body = None
    await shop.frames(1)
    assert shop.hass.states.get(hub_api).state == "on"
    assert shop.state("sensor", "prusa", "detection").state == "warming_up"


async def test_a_rejected_token_raises_a_repair_issue(make_shop: MakeShop) -> None:
    shop = await make_shop("prusa", token="right")
    shop.ml_api.token = "changed-on-the-server"
    await shop.status("prusa", "printing")
    await shop.frames(1)
    issue = ir.async_get(shop.hass).async_get_issue(
        DOMAIN, f"ml_api_token_rejected_{shop.entry.entry_id}"
    )
    assert issue is not None
    assert shop.state("sensor", "prusa", "detection").state == "unavailable"
    shop.ml_api.token = "right"
    await shop.frames(1)
    assert (
        ir.async_get(shop.hass).async_get_issue(
            DOMAIN, f"ml_api_token_rejected_{shop.entry.entry_id}"
        )
        is None
    )


async def test_an_unreachable_snapshot_url_raises_a_repair_issue(make_shop: MakeShop) -> None:
    shop = await make_shop("prusa", snapshot_base_url="http://127.0.0.1:9")
    await shop.status("prusa", "printing")
    await shop.frames(1)
    issue = ir.async_get(shop.hass).async_get_issue(
        DOMAIN, f"ml_api_cannot_fetch_snapshots_{shop.entry.entry_id}"
    )
    assert issue is not None
    assert shop.printer("prusa").detector.current_frame_num == 0


async def test_the_baseline_survives_a_restart(make_shop: MakeShop) -> None:
    shop = await make_shop("prusa")
    hass, entry = shop.hass, shop.entry
    await shop.status("prusa", "printing")
    shop.ml_api.detections.extend([failure(0.5)] * 20)
    await shop.frames(20)
    await shop.status("prusa", "paused")
    baseline = shop.printer("prusa").detector.as_dict()
    assert baseline["rolling_mean_long"] > 0.4
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.data[DATA_STORAGE] = StateStorage(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    printer = shop.printer("prusa")
    assert printer.detector.as_dict() == baseline
    assert printer.job.active  # still the same (paused) print
    assert float(shop.state("sensor", "prusa", "baseline").state) > 0.4
    fired: list[str] = []
    printer.async_add_event_listener(lambda kind, _data: fired.append(kind))
    await shop.status("prusa", "printing")
    await shop.frames(1)
    assert fired == []  # resuming is not a new print
    assert printer.detector.current_frame_num == baseline["current_frame_num"] + 2


async def test_frames_are_served_once_and_expire(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    config_dir: Path,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_hub(hass, make_hub_entry())
    client = await hass_client_no_auth()
    frames = hass.data[DATA_FRAMES]
    nonce = frames.add(JPEG, "image/jpeg")
    assert len(nonce) >= 40  # secrets.token_urlsafe(32)
    response = await client.get(f"/api/makerspace_hub/frame/{nonce}")
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.content_type == "image/jpeg"
    assert await response.read() == JPEG
    assert (await client.get(f"/api/makerspace_hub/frame/{nonce}")).status == 404
    assert (await client.get("/api/makerspace_hub/frame/guess")).status == 404

    old = frames.add(JPEG, "image/jpeg")
    freezer.tick(timedelta(seconds=31))
    assert (await client.get(f"/api/makerspace_hub/frame/{old}")).status == 404
    assert len(frames) == 0


async def test_the_printers_diagnostics(make_shop: MakeShop) -> None:
    shop = await make_shop("prusa")
    shop.world["cameras"]["prusa"].broken = True
    await shop.status("prusa", "printing", filename="benchy.gcode")
    shop.world["cameras"]["prusa"].broken = False
    await shop.frames(40)
    shop.ml_api.detections.extend([failure(1.5)] * 15)
    await shop.frames(15)
    printer = shop.printer("prusa")
    diagnostics = printer.diagnostics()
    frames = diagnostics.pop("recent_frames")
    assert diagnostics == {
        "name": "prusa",
        "available": True,
        "detection": "failure",
        "print": printer.job.as_dict() | {"verdict": "failure"},
        "detector": printer.detector.as_dict(),
        "probability": printer.job.probability,
        "camera_errors": 1,
        "last_error": "camera: camera unplugged",
    }
    assert diagnostics["print"]["acted"] is True
    assert len(frames) == len(printer.health.history) > 0
    assert frames[-1] == {
        "at": printer.health.history[-1].at.isoformat(),
        "score": 1.5,
        "verdict": "failure",
        "probability": printer.job.probability,
    }


def test_the_watch_knows_home_assistants_words_for_no_word() -> None:
    # print_watch is pure, so it spells the two states itself: they must stay
    # Home Assistant's (an unavailable printer holds its print, it does not end it).
    assert set(NO_WORD_STATES) == {STATE_UNAVAILABLE, STATE_UNKNOWN}
