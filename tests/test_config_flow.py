"""The hub's config flow and options flow: every step, error and abort."""

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.makerspace_hub.const import (
    CONF_EXPIRY_GRACE_DAYS,
    CONF_MIN_FREE_GB,
    CONF_ML_API_TOKEN,
    CONF_ML_API_URL,
    CONF_NAME,
    CONF_NON_ADMINS_MAKE_USABLE,
    CONF_NOTIFY_SERVICES,
    CONF_OOPS_ALERTS,
    CONF_PRINT_WARNING_ALERTS,
    CONF_RECORD_USAGE,
    CONF_RECORDINGS_DIR,
    CONF_SNAPSHOT_BASE_URL,
    CONF_USAGE_RETENTION_DAYS,
    CONF_USERS_FILE,
    CONF_WEBHOOK_ID,
    CONF_WEBHOOKS_ALLOW_INTERNET,
    DEFAULT_EXPIRY_GRACE_DAYS,
    DEFAULT_RECORDINGS_DIR,
    DEFAULT_USAGE_RETENTION_DAYS,
    DEFAULT_USERS_FILE,
    DOMAIN,
)
from custom_components.makerspace_hub.machines.board_ids import CONF_RETIRED_WEBHOOK_IDS
from tools.fake_ml_api import FakeMlApi

from .conftest import make_hub_entry, setup_hub

type StartMlApi = Callable[..., Awaitable[FakeMlApi]]


async def test_user_step_creates_hub_with_default_options(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "  Decatur Makers  "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.title == "Decatur Makers"
    assert entry.unique_id == "decatur_makers"
    assert entry.data[CONF_NAME] == "Decatur Makers"
    # A fresh 256-bit board webhook id.
    assert len(entry.data[CONF_WEBHOOK_ID]) == 64
    int(entry.data[CONF_WEBHOOK_ID], 16)
    assert entry.options == {
        CONF_USERS_FILE: DEFAULT_USERS_FILE,
        CONF_NOTIFY_SERVICES: [],
        CONF_EXPIRY_GRACE_DAYS: DEFAULT_EXPIRY_GRACE_DAYS,
        CONF_RECORDINGS_DIR: DEFAULT_RECORDINGS_DIR,
        CONF_MIN_FREE_GB: 0.0,
        CONF_OOPS_ALERTS: False,
        CONF_PRINT_WARNING_ALERTS: False,
        CONF_WEBHOOKS_ALLOW_INTERNET: False,
        CONF_NON_ADMINS_MAKE_USABLE: False,
        CONF_RECORD_USAGE: True,
        CONF_USAGE_RETENTION_DAYS: DEFAULT_USAGE_RETENTION_DAYS,
    }


async def test_user_step_rejects_a_blank_name(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_NAME: "   "})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_NAME: "name_required"}


async def test_user_step_aborts_for_the_same_makerspace(hass: HomeAssistant) -> None:
    make_hub_entry(name="Decatur Makers").add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "decatur makers"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_two_different_makerspaces_get_different_webhooks(hass: HomeAssistant) -> None:
    ids = []
    for name in ("North Shop", "South Shop"):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_NAME: name}
        )
        ids.append(result["result"].data[CONF_WEBHOOK_ID])
    assert ids[0] != ids[1]


def _register_notify(hass: HomeAssistant, *names: str) -> list[ServiceCall]:
    calls: list[ServiceCall] = []

    async def handler(call: ServiceCall) -> None:
        calls.append(call)

    for name in names:
        hass.services.async_register("notify", name, handler)
    return calls


def _options_input(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        CONF_USERS_FILE: DEFAULT_USERS_FILE,
        CONF_EXPIRY_GRACE_DAYS: 7.0,
        CONF_RECORDINGS_DIR: DEFAULT_RECORDINGS_DIR,
        CONF_OOPS_ALERTS: False,
        CONF_PRINT_WARNING_ALERTS: False,
        CONF_WEBHOOKS_ALLOW_INTERNET: False,
        CONF_NON_ADMINS_MAKE_USABLE: False,
    }
    return {key: value for key, value in (base | changes).items() if value is not None}


async def _options(hass: HomeAssistant, user_input: dict[str, Any]) -> dict[str, Any]:
    entries = hass.config_entries.async_entries(DOMAIN)
    entry = entries[0] if entries else await setup_hub(hass, make_hub_entry())
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()  # saved options reload the hub
    return dict(result)


async def test_options_form_shows_current_values_and_notify_services(
    hass: HomeAssistant,
) -> None:
    _register_notify(hass, "mobile_app_pixel_8", "send_message", "shop_channel")
    entry = await setup_hub(hass, make_hub_entry({CONF_EXPIRY_GRACE_DAYS: 3}))
    result = await hass.config_entries.options.async_init(entry.entry_id)
    schema = result["data_schema"].schema
    suggested = {str(key): (key.description or {}).get("suggested_value") for key in schema}
    assert suggested[CONF_USERS_FILE] == DEFAULT_USERS_FILE
    assert suggested[CONF_EXPIRY_GRACE_DAYS] == 3
    assert suggested[CONF_RECORDINGS_DIR] == DEFAULT_RECORDINGS_DIR
    notify_selector = next(schema[key] for key in schema if str(key) == CONF_NOTIFY_SERVICES)
    # The entity-targeted send_message service cannot be used for alerts.
    assert notify_selector.config["options"] == [
        "notify.mobile_app_pixel_8",
        "notify.shop_channel",
    ]


async def test_options_let_non_admins_make_machines_usable(hass: HomeAssistant) -> None:
    entry = await setup_hub(hass, make_hub_entry())
    result = await hass.config_entries.options.async_init(entry.entry_id)
    schema = result["data_schema"].schema
    suggested = {str(key): (key.description or {}).get("suggested_value") for key in schema}
    assert suggested[CONF_NON_ADMINS_MAKE_USABLE] is False  # off unless an admin turns it on
    result = await _options(hass, _options_input(**{CONF_NON_ADMINS_MAKE_USABLE: True}))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_NON_ADMINS_MAKE_USABLE] is True
    assert entry.runtime_data.options.non_admins_make_usable is True  # reloaded with it


async def test_options_from_a_client_without_the_non_admin_option_keep_it_off(
    hass: HomeAssistant,
) -> None:
    entry = await setup_hub(hass, make_hub_entry({CONF_NON_ADMINS_MAKE_USABLE: True}))
    # Such a client (the demo's provisioning) never sends it: answering it turns it off.
    result = await _options(hass, _options_input(**{CONF_NON_ADMINS_MAKE_USABLE: None}))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_NON_ADMINS_MAKE_USABLE] is False


async def test_options_save_everything(hass: HomeAssistant, ml_api: FakeMlApi) -> None:
    _register_notify(hass, "mobile_app_pixel_8")
    result = await _options(
        hass,
        _options_input(
            **{
                CONF_USERS_FILE: "members/users.json",
                CONF_EXPIRY_GRACE_DAYS: 14.0,
                CONF_NOTIFY_SERVICES: ["notify.mobile_app_pixel_8"],
                CONF_ML_API_URL: ml_api.url + "/",
                CONF_SNAPSHOT_BASE_URL: "http://192.168.1.5:8123/",
                CONF_RECORDINGS_DIR: "media/hives",
                CONF_MIN_FREE_GB: 2.5,
                CONF_OOPS_ALERTS: True,
                CONF_RECORD_USAGE: False,
                CONF_USAGE_RETENTION_DAYS: 365.0,
            }
        ),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_USERS_FILE: "members/users.json",
        CONF_NOTIFY_SERVICES: ["notify.mobile_app_pixel_8"],
        CONF_EXPIRY_GRACE_DAYS: 14,
        CONF_ML_API_URL: ml_api.url,
        CONF_SNAPSHOT_BASE_URL: "http://192.168.1.5:8123",
        CONF_RECORDINGS_DIR: "media/hives",
        CONF_MIN_FREE_GB: 2.5,
        CONF_OOPS_ALERTS: True,
        CONF_PRINT_WARNING_ALERTS: False,
        CONF_WEBHOOKS_ALLOW_INTERNET: False,
        CONF_NON_ADMINS_MAKE_USABLE: False,
        CONF_RECORD_USAGE: False,
        CONF_USAGE_RETENTION_DAYS: 365,
    }
    assert ml_api.requests == ["/hc/", "/p/"]


async def test_options_accept_a_token_the_ml_api_accepts(
    hass: HomeAssistant, start_ml_api: StartMlApi
) -> None:
    server = await start_ml_api(token="s3cret-token")
    result = await _options(
        hass,
        _options_input(**{CONF_ML_API_URL: server.url, CONF_ML_API_TOKEN: "s3cret-token"}),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_ML_API_TOKEN] == "s3cret-token"


async def test_options_reject_a_token_the_ml_api_refuses(
    hass: HomeAssistant, start_ml_api: StartMlApi
) -> None:
    server = await start_ml_api(token="right")
    result = await _options(
        hass, _options_input(**{CONF_ML_API_URL: server.url, CONF_ML_API_TOKEN: "wrong"})
    )
    assert result["errors"] == {CONF_ML_API_TOKEN: "ml_api_invalid_token"}


async def test_options_reject_a_missing_token_when_the_ml_api_requires_one(
    hass: HomeAssistant, start_ml_api: StartMlApi
) -> None:
    server = await start_ml_api(token="right")
    result = await _options(hass, _options_input(**{CONF_ML_API_URL: server.url}))
    assert result["errors"] == {CONF_ML_API_TOKEN: "ml_api_invalid_token"}


@pytest.mark.parametrize(
    ("health_status", "health_body", "predict_status", "error"),
    [
        (200, "not ok", None, "ml_api_not_obico"),
        (404, "Not Found", None, "ml_api_not_obico"),
        (200, "ok", 500, "ml_api_not_obico"),
        (200, "ok", 200, "ml_api_not_obico"),
    ],
)
async def test_options_reject_a_server_that_is_not_an_ml_api(
    hass: HomeAssistant,
    ml_api: FakeMlApi,
    health_status: int,
    health_body: str,
    predict_status: int | None,
    error: str,
) -> None:
    ml_api.health_status = health_status
    ml_api.health_body = health_body
    ml_api.predict_status = predict_status
    result = await _options(hass, _options_input(**{CONF_ML_API_URL: ml_api.url}))
    assert result["errors"] == {CONF_ML_API_URL: error}


async def test_options_reject_an_unreachable_ml_api(hass: HomeAssistant, ml_api: FakeMlApi) -> None:
    url = ml_api.url
    await ml_api.stop()  # nothing listens on that port any more
    result = await _options(hass, _options_input(**{CONF_ML_API_URL: url}))
    assert result["errors"] == {CONF_ML_API_URL: "ml_api_cannot_connect"}


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({CONF_ML_API_URL: "192.168.1.20:3333"}, {CONF_ML_API_URL: "invalid_url"}),
        ({CONF_ML_API_URL: "ftp://host/"}, {CONF_ML_API_URL: "invalid_url"}),
        ({CONF_ML_API_URL: "http://[::1"}, {CONF_ML_API_URL: "invalid_url"}),
        ({CONF_ML_API_TOKEN: "lonely"}, {CONF_ML_API_TOKEN: "ml_api_token_without_url"}),
        ({CONF_SNAPSHOT_BASE_URL: "not a url"}, {CONF_SNAPSHOT_BASE_URL: "invalid_url"}),
        (
            {CONF_NOTIFY_SERVICES: ["notify.nobody_home"]},
            {CONF_NOTIFY_SERVICES: "notify_service_not_found"},
        ),
        (
            {CONF_NOTIFY_SERVICES: ["light.turn_on"]},
            {CONF_NOTIFY_SERVICES: "notify_service_not_found"},
        ),
        ({CONF_EXPIRY_GRACE_DAYS: 2.5}, {CONF_EXPIRY_GRACE_DAYS: "invalid_value"}),
    ],
)
async def test_options_errors(
    hass: HomeAssistant, changes: dict[str, Any], errors: dict[str, str]
) -> None:
    result = await _options(hass, _options_input(**changes))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors


async def test_options_error_names_the_missing_notify_service(hass: HomeAssistant) -> None:
    _register_notify(hass, "mobile_app_pixel_8")
    result = await _options(
        hass,
        _options_input(
            **{CONF_NOTIFY_SERVICES: ["notify.mobile_app_pixel_8", "notify.mobile_app_gone"]}
        ),
    )
    assert result["errors"] == {CONF_NOTIFY_SERVICES: "notify_service_not_found"}
    assert result["description_placeholders"] == {"service": "notify.mobile_app_gone"}


async def test_options_reject_a_folder_as_users_file(hass: HomeAssistant, config_dir: Path) -> None:
    (config_dir / "members").mkdir()
    result = await _options(hass, _options_input(**{CONF_USERS_FILE: "members"}))
    assert result["errors"] == {CONF_USERS_FILE: "users_file_is_directory"}


async def test_options_accept_an_absolute_users_file(hass: HomeAssistant, tmp_path: Path) -> None:
    users = tmp_path / "crm-export" / "users.json"
    result = await _options(hass, _options_input(**{CONF_USERS_FILE: str(users)}))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_USERS_FILE] == str(users)


async def test_options_reject_a_recordings_dir_outside_the_allowlist(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    result = await _options(hass, _options_input(**{CONF_RECORDINGS_DIR: str(outside)}))
    assert result["errors"] == {CONF_RECORDINGS_DIR: "recordings_dir_not_allowed"}
    assert result["description_placeholders"] == {"path": str(outside)}


async def test_options_accept_an_allowlisted_absolute_recordings_dir(
    hass: HomeAssistant, config_dir: Path
) -> None:
    target = config_dir / "www" / "hives"
    result = await _options(hass, _options_input(**{CONF_RECORDINGS_DIR: str(target)}))
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_options_recordings_dir_media_prefix_follows_the_media_folder(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    # On Home Assistant OS the media folder is not inside the config folder.
    media = tmp_path / "os-media"
    media.mkdir()
    hass.config.media_dirs = {"local": str(media)}
    hass.config.allowlist_external_dirs = {str(media)}
    result = await _options(hass, _options_input(**{CONF_RECORDINGS_DIR: "media/hives"}))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    result = await _options(hass, _options_input(**{CONF_RECORDINGS_DIR: "recordings"}))
    assert result["errors"] == {CONF_RECORDINGS_DIR: "recordings_dir_not_allowed"}


async def test_options_clearing_the_ml_api_removes_it(
    hass: HomeAssistant, ml_api: FakeMlApi
) -> None:
    entry = await setup_hub(
        hass, make_hub_entry({CONF_ML_API_URL: ml_api.url, CONF_ML_API_TOKEN: "t0ken"})
    )
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], _options_input())
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_ML_API_URL not in entry.options
    assert CONF_ML_API_TOKEN not in entry.options


async def test_reconfigure_issues_a_new_hub_board_url(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> None:
    hass.config.internal_url = "http://192.168.1.10:8123"
    entry = await setup_hub(hass, make_hub_entry())
    old = entry.data[CONF_WEBHOOK_ID]
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["description_placeholders"] == {
        "hub_url": f"http://192.168.1.10:8123/api/webhook/{old}"
    }
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"new_board_url": False}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "board_url_kept"
    assert entry.data[CONF_WEBHOOK_ID] == old

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"new_board_url": True}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "new_board_url"
    new = entry.data[CONF_WEBHOOK_ID]
    assert len(new) == 64
    assert new != old
    assert result["description_placeholders"] == {
        "hub_url": f"http://192.168.1.10:8123/api/webhook/{new}"
    }
    assert entry.data[CONF_RETIRED_WEBHOOK_IDS] == [[old, None]]
    assert entry.state is ConfigEntryState.LOADED

    client = await hass_client_no_auth()
    response = await client.post(f"/api/webhook/{old}", json={"machine_name": "any"})
    assert (await response.json())["display"] == "New URL\nneeded"
    response = await client.post(f"/api/webhook/{new}", json={"machine_name": "any"})
    # The hub answers: it has no machine of that name.
    assert (await response.json())["display"] == "Unknown machine\ncheck its name"


async def test_options_without_a_disk_floor_keep_none(hass: HomeAssistant) -> None:
    # A client that predates the option (the demo's provisioning) leaves it out.
    result = await _options(hass, _options_input())
    assert result["data"][CONF_MIN_FREE_GB] == 0
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert entry.runtime_data.options.min_free_gb == 0
