"""A small client of Home Assistant's HTTP API, as the frontend uses it.

It onboards a new Home Assistant (the owner account, then the remaining steps) or
logs in to an onboarded one, keeps its access token fresh, drives config flows
step by step and reads and writes entity states.
"""

import asyncio
from typing import Any

import aiohttp

ENTRIES = "/api/config/config_entries/entry"
FLOWS = "/api/config/config_entries/flow"
OPTIONS_FLOWS = "/api/config/config_entries/options/flow"
SUBENTRY_FLOWS = "/api/config/config_entries/subentries/flow"
START_TIMEOUT_SEC = 600.0  # a first start installs what the frontend needs


class DemoSetupError(Exception):
    """Home Assistant did not answer as the demo expects."""


class HomeAssistantApi:
    """Talk to one Home Assistant as an admin user."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        """Use Home Assistant at `base_url` (e.g. http://127.0.0.1:8123)."""
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.client_id = f"{self.base_url}/"
        self.access_token: str | None = None
        self._refresh_token: str | None = None

    async def wait_until_up(self) -> None:
        """Wait until Home Assistant's HTTP server answers."""
        async with asyncio.timeout(START_TIMEOUT_SEC):
            while True:
                try:
                    # Before onboarding this answers 400 (onboarding required): up too.
                    async with self.session.get(f"{self.base_url}/auth/providers") as response:
                        if response.status < 500:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(1)

    async def wait_until_running(self) -> None:
        """Wait until Home Assistant has started (signed in)."""
        async with asyncio.timeout(START_TIMEOUT_SEC):
            while (await self.request("GET", "/api/config")).get("state") != "RUNNING":  # noqa: ASYNC110 - polling another process
                await asyncio.sleep(1)

    async def sign_in(self, username: str, password: str) -> None:
        """Onboard with this owner account if nobody has yet, else log in."""
        async with self.session.get(f"{self.base_url}/api/onboarding") as response:
            # Once onboarding is over, its API is gone (404).
            steps = (
                {step["step"]: step["done"] for step in await response.json()}
                if response.status == 200
                else {}
            )
        if not steps.get("user", True):
            answer = await self._post_json(
                "/api/onboarding/users",
                {
                    "client_id": self.client_id,
                    "name": username.title(),
                    "username": username,
                    "password": password,
                    "language": "en",
                },
            )
            await self._token({"grant_type": "authorization_code", "code": answer["auth_code"]})
        else:
            await self._log_in(username, password)
        done = {
            "core_config": {},
            "analytics": {},
            "integration": {"client_id": self.client_id, "redirect_uri": self.client_id},
        }
        for step, body in done.items():
            if not steps.get(step, True):
                await self.request("POST", f"/api/onboarding/{step}", body)

    async def _log_in(self, username: str, password: str) -> None:
        code = await self.login_code(username, password)
        await self._token({"grant_type": "authorization_code", "code": code})

    async def login_code(self, username: str, password: str) -> str:
        """Return a fresh authorization code (what the login page gives the frontend)."""
        flow = await self._post_json(
            "/auth/login_flow",
            {
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": self.client_id,
            },
        )
        result = await self._post_json(
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": self.client_id, "username": username, "password": password},
        )
        if result.get("type") != "create_entry":
            raise DemoSetupError(f"cannot log in as {username}: {result.get('errors')}")
        return str(result["result"])

    async def _token(self, grant: dict[str, str]) -> None:
        async with self.session.post(
            f"{self.base_url}/auth/token", data={**grant, "client_id": self.client_id}
        ) as response:
            if response.status != 200:
                raise DemoSetupError(f"no token: HTTP {response.status} {await response.text()}")
            tokens = await response.json()
        self.access_token = tokens["access_token"]
        self._refresh_token = tokens.get("refresh_token", self._refresh_token)

    async def _post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.session.post(f"{self.base_url}{path}", json=body) as response:
            if response.status != 200:
                raise DemoSetupError(f"{path}: HTTP {response.status} {await response.text()}")
            answer: dict[str, Any] = await response.json()
            return answer

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        """Call the API as the signed-in user; a stale token is refreshed once."""
        for attempt in (1, 2):
            async with self.session.request(
                method,
                f"{self.base_url}{path}",
                json=body,
                headers={"Authorization": f"Bearer {self.access_token}"},
            ) as response:
                if response.status == 401 and attempt == 1 and self._refresh_token:
                    await self._token(
                        {"grant_type": "refresh_token", "refresh_token": self._refresh_token}
                    )
                    continue
                if response.status >= 300:
                    text = await response.text()
                    raise DemoSetupError(f"{method} {path}: HTTP {response.status} {text}")
                if response.content_type == "application/json":
                    return await response.json()
                return await response.text()
        raise DemoSetupError(f"{method} {path}: not authorized")

    async def flow(self, index: str, start: dict[str, Any], *answers: dict[str, Any]) -> Any:
        """Start a flow at `index`, answer its steps in order; return the last result."""
        result = await self.request("POST", index, start)
        for answer in answers:
            if result.get("type") not in ("form", "menu") or result.get("errors"):
                raise DemoSetupError(f"{index}: unexpected {result}")
            result = await self.request("POST", f"{index}/{result['flow_id']}", answer)
        if result.get("errors"):
            raise DemoSetupError(f"{index}: {result['errors']} in step {result.get('step_id')}")
        return result

    async def set_state(self, entity_id: str, state: str, attributes: dict[str, Any]) -> None:
        """Set an entity's state (an entity the demo plays, not an integration's)."""
        await self.request(
            "POST", f"/api/states/{entity_id}", {"state": state, "attributes": attributes}
        )

    async def state(self, entity_id: str) -> dict[str, Any] | None:
        """Return an entity's state object, or None if it does not exist."""
        try:
            answer: dict[str, Any] = await self.request("GET", f"/api/states/{entity_id}")
        except DemoSetupError as err:
            if "HTTP 404" in str(err):
                return None
            raise
        return answer
