"""Fixtures of the printer tests."""

from collections.abc import Awaitable, Callable
from pathlib import Path

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tools.fake_ml_api import FakeMlApi

from .shop import MakeShop, make_shop_factory


@pytest.fixture
async def make_shop(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client_no_auth: ClientSessionGenerator,
    start_ml_api: Callable[..., Awaitable[FakeMlApi]],
) -> MakeShop:
    """Build a makerspace with the given printers (name -> subentry changes)."""
    return make_shop_factory(hass, hass_client_no_auth, start_ml_api)
