"""The profiler's eye inside Home Assistant: what a window of board posts cost.

`python -m tools.profile_posts` copies this integration into the config of the Home
Assistant it starts. `POST /api/post_profiler` with `{"action": "start", "mode": ...}`
opens a window, `{"action": "stop"}` closes it and answers what happened meanwhile:

- always: the event loop thread's CPU time (the view runs on the loop, so
  `time.thread_time` is the loop's), the whole process's, the garbage collections of
  each generation and the objects they promoted to the old generation (what brings
  the next full collection closer, even when reference counting frees them later);
- mode `cprofile`: every function's calls, own and cumulative time (cProfile sees
  every thread on Python 3.12+ and mixes their stacks up, so run it without the
  recorder for clean figures: `--no-recorder`);
- mode `tracemalloc`: the memory blocks allocated in the window and still alive at its
  end, by the line that allocated them (the innermost frame in makerspace_hub if any);
- mode `survivors`: the objects the garbage collector tracks (containers, the only
  ones it walks) created in the window and still alive at its end, by type.

It also answers the webhook FLOOR_WEBHOOK_ID like the cheapest board endpoint could:
read the body, parse it, answer a constant six-key reply. That is Home Assistant's
own cost of a webhook post, the floor under any integration.
"""

from collections import Counter
import cProfile
from dataclasses import dataclass, field
import gc
import json
import linecache
import pstats
import time
import tracemalloc
from typing import Any

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView
from homeassistant.helpers.typing import ConfigType

DOMAIN = "post_profiler"
FLOOR_WEBHOOK_ID = "post-profiler-floor"
OURS = "/makerspace_hub/"
TRACE_FRAMES = 12
FLOOR_REPLY = {
    "relay": False,
    "display": "Please Insert\nRFID Card",
    "oops_led": False,
    "status_led_rgb": [0.0, 0.0, 0.0],
    "status_led_brightness": 0.0,
    "second_relay": False,
}


@dataclass(slots=True)
class GcWatch:
    """Count the collections of each generation and what the young ones promoted."""

    collections: list[int] = field(default_factory=lambda: [0, 0, 0])
    collected: list[int] = field(default_factory=lambda: [0, 0, 0])
    promoted: int = 0  # objects moved to the old generation by generation-1 collections
    longest_full_ms: float = 0.0
    _young: int = 0
    _started: float = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        """Take a collection's start or stop (a `gc.callbacks` entry)."""
        generation = info["generation"]
        if phase == "start":
            self._started = time.perf_counter()
            if generation == 1:  # gen 0 and 1 are collected, and survivors go to gen 2
                self._young = len(gc.get_objects(0)) + len(gc.get_objects(1))
            return
        self.collections[generation] += 1
        self.collected[generation] += info["collected"]
        if generation == 1:
            self.promoted += max(self._young - info["collected"], 0)
        elif generation == 2:
            pause = (time.perf_counter() - self._started) * 1000
            self.longest_full_ms = max(self.longest_full_ms, pause)


@dataclass(slots=True)
class Window:
    """One measured window of posts."""

    mode: str
    loop_cpu: float = field(default_factory=time.thread_time)
    process_cpu: float = field(default_factory=time.process_time)
    wall: float = field(default_factory=time.perf_counter)
    old_objects: int = field(default_factory=lambda: len(gc.get_objects(2)))
    watch: GcWatch = field(default_factory=GcWatch)
    profile: cProfile.Profile | None = None
    known: set[int] = field(default_factory=set)  # ids of the tracked objects at the start

    def start(self) -> None:
        """Start watching (and profiling or tracing, per the mode)."""
        gc.callbacks.append(self.watch)
        if self.mode == "survivors":
            self.known = {id(item) for item in gc.get_objects()}
        elif self.mode == "tracemalloc":
            tracemalloc.start(TRACE_FRAMES)
        elif self.mode == "cprofile":
            self.profile = cProfile.Profile()
            self.profile.enable()

    def stop(self, top: int) -> dict[str, Any]:
        """Stop; return the figures of the window."""
        if self.profile is not None:
            self.profile.disable()
        loop_cpu = time.thread_time() - self.loop_cpu
        process_cpu = time.process_time() - self.process_cpu
        wall = time.perf_counter() - self.wall
        if self.watch in gc.callbacks:
            gc.callbacks.remove(self.watch)
        figures: dict[str, Any] = {
            "mode": self.mode,
            "seconds": wall,
            "loop_cpu": loop_cpu,
            "process_cpu": process_cpu,
            "gc_collections": self.watch.collections,
            "gc_collected": self.watch.collected,
            "gc_promoted": self.watch.promoted,
            "gc_longest_full_ms": round(self.watch.longest_full_ms, 1),
            "old_objects_growth": len(gc.get_objects(2)) - self.old_objects,
        }
        if self.profile is not None:
            figures["profile"] = _profile_rows(self.profile)
        if self.mode == "tracemalloc":
            figures["alive"] = _alive(tracemalloc.take_snapshot(), top)
            tracemalloc.stop()
        elif self.mode == "survivors":
            figures["survivors"] = _survivors(self.known, top)
        return figures


def _survivors(known: set[int], top: int) -> dict[str, Any]:
    """Count the tracked objects not among `known`, by type."""
    kinds: Counter[str] = Counter(
        f"{type(item).__module__}.{type(item).__qualname__}"
        for item in gc.get_objects()
        if id(item) not in known
    )
    return {"objects": kinds.total(), "kinds": kinds.most_common(top)}


def _where(frame: tracemalloc.Frame) -> str:
    return f"{frame.filename}:{frame.lineno}"


def _alive(snapshot: tracemalloc.Snapshot, top: int) -> dict[str, Any]:
    """Group the blocks still alive by their innermost frame of ours (else the innermost)."""
    snapshot = snapshot.filter_traces(
        [
            tracemalloc.Filter(inclusive=False, filename_pattern=tracemalloc.__file__),
            # Source lines read for stack samples (the bench probe samples stalls).
            tracemalloc.Filter(inclusive=False, filename_pattern=linecache.__file__),
        ]
    )
    sites: dict[str, list[int]] = {}
    ours: dict[str, list[int]] = {}
    blocks = size = 0
    for trace in snapshot.traces:
        frames = list(reversed(trace.traceback))  # innermost first
        mine = next((f for f in frames if OURS in f.filename), None)
        key = _where(frames[0])
        counts = sites.setdefault(key, [0, 0])
        counts[0] += 1
        counts[1] += trace.size
        if mine is not None:
            counts = ours.setdefault(f"{_where(mine)} (-> {key})", [0, 0])
            counts[0] += 1
            counts[1] += trace.size
        blocks += 1
        size += trace.size

    def biggest(groups: dict[str, list[int]]) -> list[list[Any]]:
        ranked = sorted(groups.items(), key=lambda item: -item[1][0])[:top]
        return [[where, count, nbytes] for where, (count, nbytes) in ranked]

    return {"blocks": blocks, "bytes": size, "sites": biggest(sites), "ours": biggest(ours)}


def _profile_rows(profile: cProfile.Profile) -> list[list[Any]]:
    """Return [file, line, function, calls, own s, cumulative s, callers] per function."""
    stats = pstats.Stats(profile)
    rows: list[list[Any]] = []
    for (filename, line, name), values in stats.stats.items():  # type: ignore[attr-defined]
        _, calls, own, cumulative, callers = values
        by = [
            [f"{cfile}:{cline}({cname})", ccalls[1] if isinstance(ccalls, tuple) else ccalls]
            for (cfile, cline, cname), ccalls in callers.items()
        ]
        rows.append([filename, line, name, calls, own, cumulative, by])
    return rows


class ProfilerView(HomeAssistantView):
    """Open and close measured windows."""

    url = "/api/post_profiler"
    name = "api:post_profiler"

    def __init__(self) -> None:
        """Measure nothing yet."""
        self.window: Window | None = None

    async def post(self, request: web.Request) -> web.Response:
        """Start or stop a window."""
        body = await request.json()
        if body["action"] == "start":
            if self.window is not None:
                self.window.stop(0)
            self.window = Window(mode=body.get("mode", "cpu"))
            self.window.start()
            return self.json({"started": self.window.mode})
        if self.window is None:
            return self.json({"error": "no window"}, status_code=409)
        window, self.window = self.window, None
        return self.json(window.stop(int(body.get("top", 30))))


async def _answer_floor(hass: HomeAssistant, webhook_id: str, request: web.Request) -> web.Response:
    json.loads(await request.read())
    return web.json_response(FLOOR_REPLY)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Serve the windows and the floor webhook."""
    hass.http.register_view(ProfilerView())
    webhook.async_register(
        hass,
        DOMAIN,
        "Profiler floor",
        FLOOR_WEBHOOK_ID,
        _answer_floor,
        local_only=False,
        allowed_methods=("POST",),
    )
    return True
