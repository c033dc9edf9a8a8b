"""The ML API client against a real fake server on loopback."""

import aiohttp
import pytest

from custom_components.makerspace_hub.ml_api import (
    MlApiClient,
    MlApiNotObicoError,
    MlApiTokenRejectedError,
    MlApiUnreachableError,
)

from .ml_api_server import FakeMlApi


async def test_validate_sends_the_bearer_token(ml_api: FakeMlApi) -> None:
    ml_api.token = "tok"
    async with aiohttp.ClientSession() as session:
        await MlApiClient(session, ml_api.url + "/", "tok").async_validate()
        with pytest.raises(MlApiTokenRejectedError):
            await MlApiClient(session, ml_api.url, "bad").async_validate()


async def test_a_slow_server_counts_as_unreachable(ml_api: FakeMlApi) -> None:
    ml_api.delay = 2.0
    ml_api.health_status = 200
    async with aiohttp.ClientSession() as session:
        client = MlApiClient(session, ml_api.url, timeout_sec=0.2)
        await client.async_health()  # /hc/ is not delayed
        with pytest.raises(MlApiUnreachableError, match="timed out"):
            await client.async_validate()


async def test_a_url_aiohttp_cannot_use_is_unreachable(socket_enabled: None) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(MlApiUnreachableError):
            await MlApiClient(session, "http://exa mple.invalid:notaport").async_health()


async def test_redirects_are_not_followed(ml_api: FakeMlApi) -> None:
    ml_api.health_status = 302
    async with aiohttp.ClientSession() as session:
        with pytest.raises(MlApiNotObicoError):
            await MlApiClient(session, ml_api.url).async_health()
