"""Take a picture of the demo's dashboard with a real headless browser.

    python -m tools.demo.screenshot [--out docs/dashboard.png] [--url URL]

Needs the demo running (`scripts/develop`) and Chromium. It signs in as the demo
user, hands the frontend an authorization code the way the login page does (the
`auth_callback` redirect), and lets Chromium render the dashboard into a PNG.
"""

import argparse
import asyncio
import base64
import json
from pathlib import Path
import shutil
import subprocess
import sys

import aiohttp
from yarl import URL

from .homeassistant_api import DemoSetupError, HomeAssistantApi
from .makerspace import PASSWORD, USERNAME

DASHBOARD_PATH = "/makerspace-demo/shop"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


async def signed_in_url(base_url: str) -> str:
    """Return the dashboard's URL with a fresh login for the frontend."""
    async with aiohttp.ClientSession() as session:
        api = HomeAssistantApi(session, base_url)
        code = await api.login_code(USERNAME, PASSWORD)
        state = {"hassUrl": api.base_url, "clientId": api.client_id}
    encoded = base64.b64encode(json.dumps(state).encode()).decode()
    return str(
        URL(base_url + DASHBOARD_PATH).with_query(auth_callback="1", code=code, state=encoded)
    )


def shoot(browser: str, url: str, out: Path, width: int, height: int) -> None:
    """Render `url` into `out` with headless Chromium (blocking)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603 - our own arguments, a browser found on PATH
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={out.parent / '.chromium'}",
            f"--window-size={width},{height}",
            "--virtual-time-budget=8000",
            f"--screenshot={out}",
            url,
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    shutil.rmtree(out.parent / ".chromium", ignore_errors=True)


def main() -> int:
    """Parse the command line and take the picture."""
    parser = argparse.ArgumentParser(prog="python -m tools.demo.screenshot")
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    parser.add_argument("--out", type=Path, default=Path("docs/dashboard.png"))
    parser.add_argument("--size", default="1600x1200")
    args = parser.parse_args()
    browser = next((b for b in BROWSERS if shutil.which(b)), None)
    if browser is None:
        print("screenshot: no Chromium found (apt-get install chromium)", file=sys.stderr)
        return 1
    try:
        url = asyncio.run(signed_in_url(args.url))
    except (DemoSetupError, aiohttp.ClientError) as err:
        print(f"screenshot: is the demo running (scripts/develop)? {err}", file=sys.stderr)
        return 1
    width, height = (int(n) for n in args.size.split("x"))
    shoot(browser, url, args.out, width, height)
    print(f"screenshot: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
