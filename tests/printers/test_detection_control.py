"""Controlling a printer's failure detection: the switch, snoozes, first-layer grace.

Through a real hub with the fake ML API; time moves with the freezer, so that the
wall clock a snooze and a grace period are measured against moves with the polls.
"""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.auth.models import User
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockUser, async_fire_time_changed

from custom_components.makerspace_hub.const import DOMAIN

from .shop import MakeShop, Shop, failure

POLL = timedelta(seconds=10.5)


@pytest.fixture
async def member_user(hass: HomeAssistant, hass_owner_user: MockUser) -> User:
    """A Home Assistant user who is not an admin (created after the owner)."""
    return await hass.auth.async_create_user("Shop tablet", group_ids=[GROUP_ID_USER])


async def _polls(shop: Shop, freezer: FrozenDateTimeFactory, count: int) -> None:
    """Let `count` poll intervals pass on the wall clock too."""
    for _ in range(count):
        assert await shop.entry.runtime_data.storage.async_flush()
        freezer.tick(POLL)
        async_fire_time_changed(shop.hass)
        await shop.hass.async_block_till_done(wait_background_tasks=True)


def _scored(shop: Shop) -> list[str]:
    """Return the ML API's scoring requests (its health checks left out)."""
    return [path for path in shop.ml_api.requests if path.startswith("/p/")]


async def _failing(shop: Shop, freezer: FrozenDateTimeFactory) -> None:
    """Warm the detector up on clean frames, then feed it a sustained failure."""
    await _polls(shop, freezer, 40)
    shop.ml_api.detections.extend([failure(1.5)] * 15)
    await _polls(shop, freezer, 15)


async def _switch(hass: HomeAssistant, shop: Shop, on: bool, user: User | None = None) -> None:
    await hass.services.async_call(
        "switch",
        "turn_on" if on else "turn_off",
        {"entity_id": shop.entity("switch", "prusa", "failure_detection")},
        blocking=True,
        context=Context(user_id=None if user is None else user.id),
    )


async def test_switching_detection_off_stops_every_ml_request(
    hass: HomeAssistant, make_shop: MakeShop, freezer: FrozenDateTimeFactory
) -> None:
    shop = await make_shop("prusa")
    await shop.status("prusa", "printing")
    await _polls(shop, freezer, 3)
    before = len(_scored(shop))
    assert before == 4  # one at the print's start, one per poll
    switch = shop.entity("switch", "prusa", "failure_detection")
    assert hass.states.get(switch).state == "on"

    await _switch(hass, shop, False)
    await _polls(shop, freezer, 5)
    assert len(_scored(shop)) == before  # no snapshot, no request
    assert hass.states.get(switch).state == "off"
    assert shop.state("sensor", "prusa", "detection").state == "off"
    assert [kind for kind, _ in shop.events["prusa"]][-1] == "detection_off"

    # A failure meanwhile goes unseen; back on, the print warms up again from scratch.
    await _switch(hass, shop, True)
    await _polls(shop, freezer, 2)
    since = len(_scored(shop)) - before
    assert since >= 2  # one per poll (and maybe one at once)
    # This print's frames count from the switch on: it warms up again.
    assert 1 <= shop.printer("prusa").detector.current_frame_num <= since
    assert shop.state("sensor", "prusa", "detection").state == "warming_up"


async def test_detection_stays_off_across_a_restart_of_the_hub(
    hass: HomeAssistant, make_shop: MakeShop, freezer: FrozenDateTimeFactory
) -> None:
    shop = await make_shop("prusa")
    await _switch(hass, shop, False)
    assert await shop.entry.runtime_data.storage.async_flush()
    await hass.config_entries.async_reload(shop.entry.entry_id)
    await hass.async_block_till_done()
    await shop.status("prusa", "printing")
    await _polls(shop, freezer, 3)
    assert _scored(shop) == []
    assert hass.states.get(shop.entity("switch", "prusa", "failure_detection")).state == "off"


async def test_only_admins_and_automations_switch_detection_off(
    hass: HomeAssistant,
    make_shop: MakeShop,
    hass_admin_user: MockUser,
    member_user: User,
) -> None:
    shop = await make_shop("prusa")
    with pytest.raises(ServiceValidationError) as err:
        await _switch(hass, shop, False, member_user)
    assert err.value.translation_key == "detection_admin_required"
    assert shop.printer("prusa").watch.detecting
    await _switch(hass, shop, False, hass_admin_user)
    assert not shop.printer("prusa").watch.detecting
    await _switch(hass, shop, True, member_user)  # watching again: anyone
    assert shop.printer("prusa").watch.detecting


async def _snooze(
    hass: HomeAssistant, minutes: float, user: User | None = None, **target: str
) -> None:
    await hass.services.async_call(
        DOMAIN,
        "snooze_detection",
        {"minutes": minutes, **(target or {"printer": "PRUSA"})},
        blocking=True,
        context=Context(user_id=None if user is None else user.id),
    )


async def test_a_snooze_holds_the_failure_until_it_ends(
    hass: HomeAssistant, make_shop: MakeShop, freezer: FrozenDateTimeFactory
) -> None:
    shop = await make_shop("prusa")
    await shop.status("prusa", "printing")
    await _snooze_after_warm_up(hass, shop, freezer)
    assert shop.state("sensor", "prusa", "detection").state == "failure"  # still scored
    assert shop.notifications == []  # nothing acts, nothing alerts
    assert shop.state("binary_sensor", "prusa", "print_failure").state == "off"
    assert shop.state("sensor", "prusa", "detection").attributes["snoozed_until"] is not None
    # Paused meanwhile (no polls): the failure acts when the snooze ends, without
    # waiting for a frame.
    await shop.status("prusa", "paused")
    requests = len(_scored(shop))
    freezer.tick(timedelta(minutes=18))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(_scored(shop)) == requests  # no frame was taken
    (alert,) = shop.notifications
    assert alert.data["title"] == "prusa may be failing"
    assert shop.state("binary_sensor", "prusa", "print_failure").state == "on"
    assert shop.state("sensor", "prusa", "detection").attributes["snoozed_until"] is None
    kinds = [kind for kind, _ in shop.events["prusa"]]
    assert kinds.count("failure") == 1
    assert kinds.index("snoozed") < kinds.index("failure")


async def _snooze_after_warm_up(
    hass: HomeAssistant, shop: Shop, freezer: FrozenDateTimeFactory
) -> None:
    await _polls(shop, freezer, 40)
    await _snooze(hass, 20)
    shop.ml_api.detections.extend([failure(1.5)] * 15)
    await _polls(shop, freezer, 15)  # 2.6 minutes of failure, snoozed


async def test_the_snooze_button_of_the_alert_snoozes(
    hass: HomeAssistant, make_shop: MakeShop, freezer: FrozenDateTimeFactory
) -> None:
    shop = await make_shop(("prusa", {"action": "pause"}))
    await shop.status("prusa", "printing")
    await _failing(shop, freezer)
    (alert,) = shop.notifications
    snooze = next(a for a in alert.data["data"]["actions"] if a["title"] == "Snooze 15 min")
    hass.bus.async_fire("mobile_app_notification_action", {"action": snooze["action"]})
    await hass.async_block_till_done()
    now = dt_util.utcnow().timestamp()
    assert shop.printer("prusa").watch.held(now + 14 * 60)
    assert not shop.printer("prusa").watch.held(now + 15 * 60)
    assert [kind for kind, _ in shop.events["prusa"]][-1] == "snoozed"


async def test_a_failure_in_the_first_layer_grace_acts_when_the_grace_ends(
    hass: HomeAssistant, make_shop: MakeShop, freezer: FrozenDateTimeFactory
) -> None:
    shop = await make_shop(("prusa", {"grace_minutes": 15}))
    await shop.status("prusa", "printing")
    await _failing(shop, freezer)  # 55 polls: 9.6 minutes into the print
    assert shop.state("sensor", "prusa", "detection").state == "failure"
    assert shop.notifications == []
    await shop.status("prusa", "paused")  # no polls: only the grace's end can act
    freezer.tick(timedelta(minutes=5, seconds=30))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    (alert,) = shop.notifications
    assert "failure probability" in alert.data["message"]


async def test_snoozing_needs_an_admin_and_a_print(
    hass: HomeAssistant,
    make_shop: MakeShop,
    hass_admin_user: MockUser,
    member_user: User,
) -> None:
    shop = await make_shop("prusa")
    with pytest.raises(ServiceValidationError) as err:
        await _snooze(hass, 15, hass_admin_user)
    assert err.value.translation_key == "snooze_not_printing"
    await shop.status("prusa", "printing")
    with pytest.raises(ServiceValidationError) as err:
        await _snooze(hass, 15, member_user)
    assert err.value.translation_key == "snooze_admin_required"
    with pytest.raises(ServiceValidationError) as err:
        await _snooze(hass, 15, printer="nope")
    assert err.value.translation_key == "unknown_printer"
    await _snooze(hass, 15, hass_admin_user)
    assert shop.printer("prusa").job.snoozed_until is not None
    await _snooze(hass, 0, entity_id=shop.entity("switch", "prusa", "failure_detection"))
    assert shop.printer("prusa").job.snoozed_until is None
