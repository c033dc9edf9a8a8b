"""Run the demo makerspace next to a Home Assistant that `scripts/develop` starts.

    python -m tools.demo prepare CONFIG_DIR   # before Home Assistant starts
    python -m tools.demo run CONFIG_DIR       # while it runs: set up, then simulate

`run` starts the fake Obico ML API, waits for Home Assistant, signs in (onboarding
a new one), sets the makerspace up if needed, then runs three boards and the shop
floor until it is stopped.
"""

import argparse
import asyncio
import contextlib
from pathlib import Path
import sys
import time

import aiohttp

from tools.fake_ml_api import FakeMlApi

from .boards import Board
from .homeassistant_api import DemoSetupError, HomeAssistantApi
from .makerspace import IMPORTED, LASER, ML_API_PORT, PASSWORD, USERNAME
from .provision import async_provision, camera_file, prepare
from .shop import Shop, judge


def say(text: str) -> None:
    """Print a line of what happens, with the time."""
    print(f"{time.strftime('%H:%M:%S')}  {text}", flush=True)


async def run(config_dir: Path, base_url: str) -> None:
    """Set up (once) and simulate until cancelled."""
    ml_api = FakeMlApi(judge=judge, history=False)
    await ml_api.start(ML_API_PORT)
    try:
        async with aiohttp.ClientSession() as session:
            api = HomeAssistantApi(session, base_url)
            say(f"waiting for Home Assistant at {base_url} ...")
            await api.wait_until_up()
            await api.sign_in(USERNAME, PASSWORD)
            await api.wait_until_running()
            setup = await async_provision(api, config_dir)
            say(f"Demo Makerspace is up: open {base_url} and log in as {USERNAME} / {PASSWORD}")
            boards = [
                Board(LASER, base_url + setup.laser_path, session, say),
                *(Board(machine, base_url + setup.hub_path, session, say) for machine in IMPORTED),
            ]
            shop = Shop(api, camera_file(config_dir), say)
            async with asyncio.TaskGroup() as group:
                for seed, board in enumerate(boards):
                    group.create_task(board.run(seed))
                group.create_task(shop.run())
    finally:
        await ml_api.stop()


def main() -> int:
    """Parse the command line and do it."""
    parser = argparse.ArgumentParser(prog="python -m tools.demo")
    parser.add_argument("command", choices=["prepare", "run"])
    parser.add_argument("config_dir", type=Path)
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.config_dir)
        return 0
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run(args.config_dir, args.url))
    except (DemoSetupError, TimeoutError, OSError) as err:
        print(f"demo: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
