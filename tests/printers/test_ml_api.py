"""The ML API client against a real fake server on loopback (no Home Assistant)."""

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.makerspace_hub.printers.ml_api import (
    MAX_DETECTIONS,
    Detection,
    MlApiBadResponseError,
    MlApiClient,
    MlApiImageError,
    MlApiNotObicoError,
    MlApiTokenRejectedError,
    MlApiUnreachableError,
    read_prediction,
    summed_confidence,
)
from tools.fake_ml_api import FakeMlApi


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


async def test_predict_encodes_the_image_url_and_sums_confidences(
    ml_api: FakeMlApi, socket_enabled: None
) -> None:
    async def snapshot(_request: web.Request) -> web.Response:
        return web.Response(body=b"jpeg")

    app = web.Application()
    app.router.add_get("/snap", snapshot)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    # A URL that breaks when pasted into a query unencoded.
    image_url = f"http://127.0.0.1:{port}/snap?token=a+b&x=1#frag"
    ml_api.detections.append([["failure", 0.5, [1, 2, 3, 4]], ["failure", 0.75, [5, 6, 7, 8]]])
    try:
        async with aiohttp.ClientSession() as session:
            predicted = await MlApiClient(session, ml_api.url).async_predict(image_url)
    finally:
        await runner.cleanup()
    assert predicted.score == 1.25
    # The boxes come along, the most confident first (they draw the pictures).
    assert predicted.detections == (
        Detection("failure", 0.75, (5.0, 6.0, 7.0, 8.0)),
        Detection("failure", 0.5, (1.0, 2.0, 3.0, 4.0)),
    )
    assert ml_api.image_urls == [image_url]
    assert ml_api.fetched_images == [b"jpeg"]


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, None, MlApiImageError),
        (401, None, MlApiTokenRejectedError),
        (503, None, MlApiBadResponseError),  # reachable, but the model failed
        (404, None, MlApiBadResponseError),
        (None, "[]", MlApiBadResponseError),
        (None, '{"detections": [["failure"]]}', MlApiBadResponseError),
        (None, '{"detections": [["failure", true, []]]}', MlApiBadResponseError),
        (None, "not json", MlApiBadResponseError),
    ],
)
async def test_predict_errors(
    ml_api: FakeMlApi, status: int | None, body: str | None, error: type[Exception]
) -> None:
    ml_api.predict_status = status
    ml_api.predict_body = body
    async with aiohttp.ClientSession() as session:
        client = MlApiClient(session, ml_api.url)
        with pytest.raises(error):
            await client.async_predict("http://127.0.0.1:9/never-fetched")
    ml_api.predict_status = None
    ml_api.predict_body = None


async def test_an_answer_too_large_is_not_read_to_the_end(ml_api: FakeMlApi) -> None:
    ml_api.predict_body = "[" * (2 * 1024 * 1024)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(MlApiBadResponseError, match="too large"):
            await MlApiClient(session, ml_api.url).async_predict("http://127.0.0.1:9/x")


async def test_an_image_error_keeps_the_snapshot_url_out_of_the_message(
    ml_api: FakeMlApi,
) -> None:
    image_url = "http://127.0.0.1:9/snap?nonce=secret-nonce"
    ml_api.predict_status = 400
    ml_api.predict_body = f"Failed to fetch {image_url}: refused"
    async with aiohttp.ClientSession() as session:
        with pytest.raises(MlApiImageError) as caught:
            await MlApiClient(session, ml_api.url).async_predict(image_url)
    assert "secret-nonce" not in str(caught.value)
    assert "Failed to fetch <snapshot>" in str(caught.value)


async def test_predict_times_out(ml_api: FakeMlApi) -> None:
    ml_api.delay = 2.0
    async with aiohttp.ClientSession() as session:
        client = MlApiClient(session, ml_api.url, predict_timeout_sec=0.2)
        with pytest.raises(MlApiUnreachableError, match="timed out"):
            await client.async_predict("http://127.0.0.1:9/x")
        with pytest.raises(MlApiUnreachableError):
            await MlApiClient(session, "http://exa mple:x").async_predict("http://x")


@pytest.mark.parametrize(
    ("document", "total"),
    [
        ({"detections": []}, 0.0),
        ({"detections": [["failure", 1, [0, 0, 1, 1]], ["failure", 0, [0, 0, 1, 1]]]}, 1.0),
        ({"detections": [("failure", 0.25, []), ["failure", 0.5]]}, 0.75),
        # Not capped: three sure boxes are more than one.
        ({"detections": [["failure", 1.0, []]] * 3}, 3.0),
    ],
)
def test_summed_confidence(document: Any, total: float) -> None:
    assert summed_confidence(document) == total


@pytest.mark.parametrize(
    ("box", "read"),
    [
        ([10, 20.5, 30, 40], (10.0, 20.5, 30.0, 40.0)),
        ((1, 2, 3, 4), (1.0, 2.0, 3.0, 4.0)),
        ([], None),
        ([1, 2, 3], None),
        ([1, 2, 3, "4"], None),
        ([1, 2, True, 4], None),
        ([1, 2, -3, 4], None),
        ([1, float("inf"), 3, 4], None),
        ("box", None),
    ],
)
def test_a_detections_box_is_read_or_left_out(box: Any, read: Any) -> None:
    predicted = read_prediction({"detections": [["failure", 0.5, box]]})
    # A box that cannot be drawn still counts: the score is the model's, not the picture's.
    assert predicted.score == 0.5
    assert predicted.detections == (Detection("failure", 0.5, read),)


def test_a_prediction_keeps_the_most_confident_boxes_and_sums_them_all() -> None:
    document = {"detections": [["failure", (i % 100) / 100, [i, i, 5, 5]] for i in range(120)]}
    predicted = read_prediction(document)
    assert predicted.score == summed_confidence(document)
    assert len(predicted.detections) == MAX_DETECTIONS
    confidences = [found.confidence for found in predicted.detections]
    assert confidences == sorted(confidences, reverse=True)
    assert confidences[0] == 0.99
    assert read_prediction({"detections": [[7, 0.5]]}).detections == (
        Detection("failure", 0.5, None),
    )


@pytest.mark.parametrize(
    "document",
    [
        [],
        None,
        {},
        {"detections": None},
        {"detections": ["failure"]},
        {"detections": [["failure"]]},
        {"detections": [["failure", 1.01, []]]},
        {"detections": [["failure", -0.01, []]]},
        {"detections": [["failure", "0.5", []]]},
        {"detections": [["failure", False, []]]},
        {"detections": [["failure", float("nan"), []]]},
    ],
)
def test_a_malformed_prediction_is_refused(document: Any) -> None:
    with pytest.raises(MlApiBadResponseError):
        summed_confidence(document)


@pytest.mark.parametrize(("status", "body"), [(200, "ok\n"), (200, " ok ")])
async def test_health_accepts_ok(ml_api: FakeMlApi, status: int, body: str) -> None:
    ml_api.health_status, ml_api.health_body = status, body
    async with aiohttp.ClientSession() as session:
        await MlApiClient(session, ml_api.url).async_health()
    assert ml_api.requests == ["/hc/"]


@pytest.mark.parametrize(("status", "body"), [(200, "okay"), (200, ""), (503, "ok"), (404, "")])
async def test_health_refuses_anything_else(ml_api: FakeMlApi, status: int, body: str) -> None:
    ml_api.health_status, ml_api.health_body = status, body
    async with aiohttp.ClientSession() as session:
        with pytest.raises(MlApiNotObicoError, match=f"/hc/ answered {status}"):
            await MlApiClient(session, ml_api.url).async_health()


async def test_a_server_that_is_gone_is_unreachable(
    start_ml_api: Callable[..., Awaitable[FakeMlApi]],
) -> None:
    server = await start_ml_api()
    await server.stop()
    async with aiohttp.ClientSession() as session:
        client = MlApiClient(session, server.url)
        with pytest.raises(MlApiUnreachableError):
            await client.async_health()
        with pytest.raises(MlApiUnreachableError):
            await client.async_predict("http://127.0.0.1:9/x")
        with pytest.raises(MlApiUnreachableError):
            await client.async_validate()


async def test_validate_needs_the_token_the_server_wants(ml_api: FakeMlApi) -> None:
    ml_api.token = "tok"
    async with aiohttp.ClientSession() as session:
        for token in (None, ""):  # no token sent at all
            with pytest.raises(MlApiTokenRejectedError):
                await MlApiClient(session, ml_api.url, token).async_validate()
    assert ml_api.requests == ["/hc/", "/p/", "/hc/", "/p/"]


async def test_validate_refuses_a_server_that_is_not_obico(ml_api: FakeMlApi) -> None:
    ml_api.predict_status = 200  # /p/ without an image must answer 422
    async with aiohttp.ClientSession() as session:
        with pytest.raises(MlApiNotObicoError, match="without an image answered 200"):
            await MlApiClient(session, ml_api.url).async_validate()
