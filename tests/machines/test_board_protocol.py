"""The boards' wire format (`board_protocol`), without Home Assistant.

The webhook tests send the same bodies over HTTP; these pin the parser and the reply
on their own, so that a change of the wire format shows here first.
"""

import json
from typing import Any

import pytest

from custom_components.makerspace_hub.machines.board_protocol import (
    IDLE,
    MAX_BODY_BYTES,
    OOPSED,
    WELCOME,
    BoardRequestError,
    BoardUpdate,
    Reply,
    is_displayable,
    parse_board_update,
)


def parse(body: Any) -> BoardUpdate:
    return parse_board_update(json.dumps(body).encode())


def test_a_full_post_is_read() -> None:
    update = parse(
        {
            "machine_name": "metal-mill",
            "oops": True,
            "rfid_value": "12345678",
            "uptime": 59,
            "wifi_signal_db": -61,
            "wifi_signal_percent": 78.5,
            "internal_temperature_c": 41.2,
            "amps": 0,
            "second_relay_state": False,
            "firmware": "ignored",
        }
    )
    assert update == BoardUpdate(
        machine_name="metal-mill",
        oops=True,
        fob="0012345678",
        uptime=59.0,
        wifi_signal_db=-61.0,
        wifi_signal_percent=78.5,
        internal_temperature_c=41.2,
        amps=0.0,
        second_relay_state=False,
    )


@pytest.mark.parametrize("rfid", [None, ""])
def test_no_card_and_no_readings(rfid: str | None) -> None:
    assert parse({"rfid_value": rfid}) == BoardUpdate(machine_name=None, oops=False, fob=None)


@pytest.mark.parametrize(
    ("raw", "status", "message"),
    [
        (b"{", 400, "request body is not valid JSON"),
        (b'{"uptime": NaN}', 400, "request body is not valid JSON"),
        (b'{"uptime": Infinity}', 400, "request body is not valid JSON"),
        (b"[" * 5000 + b"]" * 5000, 400, "request body must be a JSON object"),
        (b"[]", 400, "request body must be a JSON object"),
        (b'{"machine_name": 7}', 400, "machine_name must be a string"),
        (b'{"oops": "yes"}', 400, "oops must be true or false"),
        (b'{"rfid_value": 12345678}', 400, "rfid_value must be a string"),
        (b'{"rfid_value": "12 34"}', 400, "rfid_value must be a decimal tag number"),
        (b'{"rfid_value": "\xd9\xa1\xd9\xa2"}', 400, "rfid_value must be a decimal tag number"),
        (b'{"rfid_value": "' + b"1" * 33 + b'"}', 400, "rfid_value must be a decimal tag number"),
        (b'{"uptime": "59"}', 400, "uptime must be a number"),
        (b'{"uptime": true}', 400, "uptime must be a number"),
        (b'{"uptime": -1}', 400, "uptime must not be negative"),
        (b'{"amps": 1' + b"0" * 400 + b"}", 400, "amps must be a number"),
        (b'{"wifi_signal_db": [1]}', 400, "wifi_signal_db must be a number"),
        (b'{"internal_temperature_c": 1e400}', 400, "internal_temperature_c must be a number"),
        (b'{"second_relay_state": 1}', 400, "second_relay_state must be true or false"),
        (b" " * (MAX_BODY_BYTES + 1), 413, f"larger than {MAX_BODY_BYTES} bytes"),
    ],
)
def test_a_bad_post_is_refused_with_a_status(raw: bytes, status: int, message: str) -> None:
    with pytest.raises(BoardRequestError) as err:
        parse_board_update(raw)
    assert err.value.status == status
    assert message in err.value.message


def test_a_post_of_exactly_the_limit_is_read() -> None:
    body = b'{"oops": false}'
    assert parse_board_update(body.ljust(MAX_BODY_BYTES)).oops is False


def test_the_reply_is_exactly_the_six_keys() -> None:
    reply = Reply(relay=True, screen=WELCOME, oops_led=False, second_relay=True, name="Ada")
    assert reply.as_json() == {
        "relay": True,
        "display": "Welcome,\nAda",
        "oops_led": False,
        "status_led_rgb": [0.0, 1.0, 0.0],
        "status_led_brightness": 0.5,
        "second_relay": True,
    }
    assert json.loads(json.dumps(reply.as_json())) == reply.as_json()


def test_screens_without_a_name_show_their_text() -> None:
    oopsed = Reply(relay=False, screen=OOPSED, oops_led=True, second_relay=False)
    assert oopsed.display == "Oops!! Please\ncheck/post Slack"
    assert Reply(relay=False, screen=IDLE, oops_led=False, second_relay=False).display == (
        "Please Insert\nRFID Card"
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("New blade", True),
        ("", True),
        (" !09AZaz{}~", True),  # the first and last printable ASCII characters
        ("Défaut", False),
        ("Saw \U0001f6e0", False),  # an emoji
        ("New\nblade", False),
        ("Blade\n", False),
        ("Tab\tbed", False),
        ("\x7f", False),  # DEL
        ("\x1f", False),
    ],
)
def test_the_display_shows_printable_ascii_only(text: str, shown: bool) -> None:
    assert is_displayable(text) is shown
