"""The hub's options (pure): defaults, validation and the stored shape; config paths."""

import pytest

from custom_components.makerspace_hub.hub_options import HubOptions
from custom_components.makerspace_hub.validation import InvalidConfigError, resolve_config_path


def test_hub_options_defaults_round_trip() -> None:
    settings = HubOptions.from_options({})
    assert settings == HubOptions()
    assert HubOptions.from_options(settings.as_options()) == settings
    assert "ml_api_token" not in repr(HubOptions(ml_api_token="secret-token"))


def test_hub_options_keep_make_usable_for_admins_by_default() -> None:
    assert HubOptions.from_options({}).non_admins_make_usable is False
    settings = HubOptions.from_options({"non_admins_make_usable": True})
    assert settings.non_admins_make_usable is True
    assert settings.as_options()["non_admins_make_usable"] is True
    assert HubOptions.from_options(settings.as_options()) == settings


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_hub_options_reject_a_non_boolean_non_admin_option(value: object) -> None:
    with pytest.raises(InvalidConfigError) as err:
        HubOptions.from_options({"non_admins_make_usable": value})
    assert err.value.field == "non_admins_make_usable"


@pytest.mark.parametrize("days", [-1, 366, 7.5, True])
def test_hub_options_reject_bad_grace_periods(days: object) -> None:
    with pytest.raises(InvalidConfigError):
        HubOptions.from_options({"expiry_grace_days": days})


def test_hub_options_record_usage_for_three_years_by_default() -> None:
    options = HubOptions.from_options({})
    assert options.record_usage is True
    assert options.usage_retention_days == 1096
    kept = HubOptions.from_options({"record_usage": False, "usage_retention_days": 30.0})
    assert (kept.record_usage, kept.usage_retention_days) == (False, 30)
    assert HubOptions.from_options(kept.as_options()) == kept


@pytest.mark.parametrize("days", [0, -5, 36526, 2.5, "a year", None])
def test_hub_options_reject_bad_usage_retention(days: object) -> None:
    with pytest.raises(InvalidConfigError) as err:
        HubOptions.from_options({"usage_retention_days": days})
    assert err.value.field == "usage_retention_days"


def test_resolve_config_path() -> None:
    assert (
        resolve_config_path("makerspace_hub/users.json", "/config")
        == "/config/makerspace_hub/users.json"
    )
    assert resolve_config_path("/srv/users.json", "/config") == "/srv/users.json"


def test_hub_options_keep_no_disk_floor_unless_asked() -> None:
    assert HubOptions.from_options({}).min_free_gb == 0.0
    kept = HubOptions.from_options({"min_free_gb": 2})
    assert kept.min_free_gb == 2.0
    assert kept.as_options()["min_free_gb"] == 2.0
    assert HubOptions.from_options(kept.as_options()) == kept


@pytest.mark.parametrize("gb", [-0.1, "2", True, float("nan"), 1_000_001])
def test_hub_options_reject_bad_disk_floors(gb: object) -> None:
    with pytest.raises(InvalidConfigError) as err:
        HubOptions.from_options({"min_free_gb": gb})
    assert err.value.field == "min_free_gb"
