"""Enrollment meets oops and lockout, and leaves an audit trail (`card_enrolled`).

The pure rules first (`enrollment`), then the action through a real hub: real board
posts to the webhook, real actions, the machine's Access event entity.
"""

from aiohttp.test_utils import TestClient
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.makerspace_hub.const import DOMAIN
from custom_components.makerspace_hub.machines.board_protocol import (
    CARD_CAPTURED,
    ENROLL_WAITING,
    LOCKED_OUT,
    OOPSED,
    BoardUpdate,
)
from custom_components.makerspace_hub.machines.enrollment import CARD_ENROLLED, Enrollment
from custom_components.makerspace_hub.machines.installation import async_get_fob_keys
from custom_components.makerspace_hub.machines.rules import MachineState
from custom_components.makerspace_hub.machines.sessions import HOME_ASSISTANT, AccessEvent

from ..makerspace import ADA, RITA, UNKNOWN, Board, machine_of
from .test_enrollment import (
    ADA_CODE,
    CAPTURED_DISPLAY,
    KEYS,
    MILL,
    NEW_CODE,
    NOW,
    WAITING_DISPLAY,
    access_event,
    roster,
    start_enrolling,
    waiting_at,
)

# --- the pure rules ----------------------------------------------------------------------


def post(
    enrollment: Enrollment, state: MachineState, fob: str | None, *, oops: bool = False
) -> list[AccessEvent]:
    """Post as the board, and end the enrollment where the machine would."""
    update = BoardUpdate(machine_name="mill", oops=oops, fob=fob, uptime=100)
    events, _card = enrollment.apply_update(state, update, MILL, roster(), NOW)
    if enrollment.over(state, MILL, events) is not None:
        enrollment.end()
    return events


def test_a_capture_is_recorded_with_the_tag_and_the_member_never_the_code() -> None:
    state = MachineState(card=None)
    enrollment = waiting_at(state)
    events = post(enrollment, state, ADA_CODE)
    assert events == [
        AccessEvent(
            type=CARD_ENROLLED,
            source=HOME_ASSISTANT,
            member="Ada Tester",
            account_id="1",
            fob=KEYS.tag(ADA_CODE),
        )
    ]
    assert ADA_CODE not in repr(events)
    # No login, no session, not counted as one.
    assert (state.session, state.sessions, state.relay_on_since) == (None, 0, None)
    enrollment = waiting_at(state := MachineState(card=None))
    (event,) = post(enrollment, state, NEW_CODE)
    assert (event.type, event.member, event.account_id) == (CARD_ENROLLED, None, None)


@pytest.mark.parametrize("captured", [False, True])
def test_an_oops_pressed_at_the_board_ends_the_enrollment(captured: bool) -> None:
    state = MachineState(card=None)
    enrollment = waiting_at(state)
    if captured:
        post(enrollment, state, NEW_CODE)
        assert enrollment.reply(state, MILL).screen == CARD_CAPTURED
    update = BoardUpdate(
        machine_name="mill", oops=True, fob=NEW_CODE if captured else None, uptime=100
    )
    events, _card = enrollment.apply_update(state, update, MILL, roster(), NOW)
    refused = enrollment.over(state, MILL, events)
    assert refused is not None
    assert refused.reason == "enroll_oopsed"
    # Even before the machine ends it, the board is told the Oops screen.
    assert enrollment.reply(state, MILL).screen == OOPSED
    assert enrollment.end() is True
    assert enrollment.reply(state, MILL).screen == OOPSED


def test_a_card_in_the_oops_post_is_judged_not_captured() -> None:
    state = MachineState(card=None)
    enrollment = waiting_at(state)
    update = BoardUpdate(machine_name="mill", oops=True, fob=NEW_CODE, uptime=100)
    events, card = enrollment.apply_update(state, update, MILL, roster(), NOW)
    assert card is None
    assert [event.type for event in events] == ["oops", "unknown_fob"]
    assert enrollment.over(state, MILL, events) is not None


@pytest.mark.parametrize("flag", ["oopsed", "locked_out"])
@pytest.mark.parametrize("captured", [False, True])
def test_an_admins_oops_or_lockout_ends_the_enrollment(flag: str, captured: bool) -> None:
    state = MachineState(card=None)
    enrollment = waiting_at(state)
    if captured:
        post(enrollment, state, NEW_CODE)
    events = state.set_flags(MILL, NOW, **{flag: True})
    refused = enrollment.over(state, MILL, events)
    assert refused is not None
    assert refused.reason == "enroll_oopsed"
    enrollment.end()
    assert enrollment.reply(state, MILL).screen == (OOPSED if flag == "oopsed" else LOCKED_OUT)


def test_an_enrollment_may_start_on_a_flagged_machine_and_gives_its_screen_back() -> None:
    # The relay is off anyway; the Oops LED stays on; the flag's screen comes back.
    state = MachineState(card=None, oopsed=True, locked_out=True)
    enrollment = waiting_at(state)
    reply = enrollment.reply(state, MILL)
    assert (reply.relay, reply.screen, reply.oops_led) == (False, ENROLL_WAITING, True)
    # An unlock meanwhile raises no flag: the enrollment goes on.
    events = state.set_flags(MILL, NOW, locked_out=False)
    assert enrollment.over(state, MILL, events) is None
    assert [event.type for event in post(enrollment, state, ADA_CODE)] == [CARD_ENROLLED]
    assert state.session is None  # captured, not judged: no login
    assert enrollment.reply(state, MILL).screen == CARD_CAPTURED
    post(enrollment, state, None)
    assert not enrollment.active
    assert enrollment.reply(state, MILL).screen == OOPSED
    # A lockout raised again while an enrollment waits ends it, as on any machine.
    enrollment = waiting_at(state)
    assert enrollment.over(state, MILL, state.set_flags(MILL, NOW, locked_out=True)) is not None
    # So does an Oops pressed again on the oopsed machine (no new oops event).
    enrollment = waiting_at(state)
    assert post(enrollment, state, None, oops=True) == []
    assert not enrollment.active


# --- through a real hub ------------------------------------------------------------------

OOPSED_DISPLAY = "Oops!! Please\ncheck/post Slack"
LOCKED_DISPLAY = "Down for\nmaintenance"


async def test_the_access_entity_records_a_capture(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    board = Board(client, "metal-mill")
    await board.post()
    machine = machine_of(hub, "metal-mill")
    sessions = machine.state.sessions
    task = await start_enrolling(hass, hub)
    await board.post(ADA)
    await task
    await hass.async_block_till_done()
    event = access_event(hass, hub)
    keys = await async_get_fob_keys(hass)
    assert {key: event.attributes[key] for key in ("event_type", "fob", "source")} == {
        "event_type": "card_enrolled",
        "fob": keys.tag("0012345678"),
        "source": "home_assistant",
    }
    assert (event.attributes["member"], event.attributes["account_id"]) == ("Ada Tester", "1")
    assert "0012345678" not in str(event.attributes)
    assert (machine.state.session, machine.state.sessions) == (None, sessions)


async def test_an_oops_at_the_board_ends_a_waiting_enrollment(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    board = Board(client, "metal-mill")
    await board.post()
    task = await start_enrolling(hass, hub)
    reply = await board.post(oops=True)
    assert (reply["relay"], reply["display"], reply["oops_led"]) == (False, OOPSED_DISPLAY, True)
    with pytest.raises(ServiceValidationError) as err:
        await task
    assert err.value.translation_key == "enroll_oopsed"
    assert str(err.value) == (
        "metal-mill was oopsed or locked out during the enrollment; it shows that screen"
        " again. No card was enrolled"  # (Home Assistant drops the final full stop)
    )
    # A card now is judged as on any oopsed machine.
    assert (await board.post(UNKNOWN))["display"] == OOPSED_DISPLAY


@pytest.mark.parametrize(
    ("action", "display"), [("oops", OOPSED_DISPLAY), ("lockout", LOCKED_DISPLAY)]
)
async def test_an_admins_oops_or_lockout_ends_a_waiting_enrollment(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient, action: str, display: str
) -> None:
    board = Board(client, "metal-mill")
    await board.post()
    task = await start_enrolling(hass, hub)
    await hass.services.async_call(DOMAIN, action, {"machine": "metal-mill"}, blocking=True)
    with pytest.raises(ServiceValidationError) as err:
        await task
    assert err.value.translation_key == "enroll_oopsed"
    assert (await board.post())["display"] == display


async def test_an_oops_while_the_captured_card_is_shown_shows_the_oops(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    board = Board(client, "metal-mill")
    await board.post()
    task = await start_enrolling(hass, hub)
    assert (await board.post(UNKNOWN))["display"] == CAPTURED_DISPLAY
    assert (await task)["fob_code"] == UNKNOWN  # type: ignore[index]
    await hass.services.async_call(DOMAIN, "oops", {"machine": "metal-mill"}, blocking=True)
    assert (await board.post(UNKNOWN))["display"] == OOPSED_DISPLAY


async def test_a_card_is_enrolled_at_a_locked_out_machine_which_stays_locked_out(
    hass: HomeAssistant, hub: MockConfigEntry, client: TestClient
) -> None:
    board = Board(client, "metal-mill")
    await board.post()
    await hass.services.async_call(DOMAIN, "lockout", {"machine": "metal-mill"}, blocking=True)
    assert (await board.post())["display"] == LOCKED_DISPLAY
    task = await start_enrolling(hass, hub)
    reply = await board.post()
    assert (reply["relay"], reply["display"]) == (False, WAITING_DISPLAY)
    # Rita may override a locked-out machine: her card is captured, not judged.
    reply = await board.post(RITA)
    assert (reply["relay"], reply["display"]) == (False, CAPTURED_DISPLAY)
    response = await task
    assert response is not None
    assert response["member"] == {"full_name": "Rita Tester", "account_id": "3"}
    assert machine_of(hub, "metal-mill").state.locked_out
    assert (await board.post())["display"] == LOCKED_DISPLAY
