"""The benchmark's results, and `docs/benchmarks.md` written from them."""

from collections.abc import Sequence
from dataclasses import dataclass, field
import math
from typing import Any

from .heap import GcFigures, TraceFigures, gc_section
from .recorder import StateRows, state_rows_section
from .stats import Latencies, ms
from .usage import UsageComparison
from .usage_report import usage_section, usage_targets

BOARD_P99_TARGET_MS = 25.0
HUNG_P99_TARGET_MS = 2 * BOARD_P99_TARGET_MS
LOOP_LAG_TARGET_MS = 50.0
SLOT_LATENESS_TARGET_SEC = 1.0
STARTUP_TARGET_SEC = 5.0
TEN_BOARDS = 10  # posting back to back, side by side
TEN_BOARDS_TARGET_PER_SEC = 2000.0  # issue 19
STATE_ROWS_TARGET = 1.0  # per machine per minute, boards heart-beating (issue 18)


@dataclass(slots=True)
class Results:
    """Everything one run measured."""

    machine: str = ""
    home_assistant: str = ""
    python: str = ""
    date: str = ""
    members: int = 0
    machines: int = 0
    printers: int = 0
    sensors: int = 0
    seconds: float = 0.0
    boards: Latencies | None = None
    boards_lag: dict[str, Any] = field(default_factory=dict)
    boards_cpu: float = 0.0  # share of one core
    single: Latencies | None = None
    single_lag: dict[str, Any] = field(default_factory=dict)
    ten: Latencies | None = None  # TEN_BOARDS boards back to back, side by side
    ten_lag: dict[str, Any] = field(default_factory=dict)
    usage: UsageComparison | None = None  # paired rounds, usage records off and on
    hung: Latencies | None = None
    hung_lag: dict[str, Any] = field(default_factory=dict)
    hung_locked: int = 0  # state files whose writes were blocked
    hung_timeouts: int = 0  # save timeouts the hub counted meanwhile
    quiet: Latencies | None = None  # the boards heart-beating, no cards
    quiet_lag: dict[str, Any] = field(default_factory=dict)
    state_rows: StateRows | None = None  # the machines' rows meanwhile
    idle_cpu: float = 0.0
    idle_lag: dict[str, Any] = field(default_factory=dict)
    frames: int = 0
    frame_cpu_ms: float = math.nan
    printers_lag: dict[str, Any] = field(default_factory=dict)
    slots: int = 0
    slot_p99: float | None = None
    slot_max: float | None = None
    startups: list[float] = field(default_factory=list)
    heap_objects: int = 0  # objects Python's garbage collector tracks in Home Assistant
    trace: TraceFigures | None = None  # the allocation-tracing phase
    runs: int = 1  # more: each headline figure is the worst of them (`runs.worst_of`)
    minutes: float = 0.0  # how long the run took (the longest, of several)


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _lag_max(lag: dict[str, Any]) -> float:
    value = lag.get("max_ms")
    return math.nan if value is None else float(value)


def _below(value: float | None, limit: float) -> bool:
    return value is not None and not math.isnan(value) and value < limit


def targets(results: Results) -> list[tuple[str, str, str, bool]]:
    """Return (figure, measured, target, met) for each target of the benchmark."""
    rows: list[tuple[str, str, str, bool]] = []
    if (boards := results.boards) is not None:
        rows.append(
            (
                f"Board reply p99, {results.machines} boards x 1 Hz",
                ms(boards.p99),
                f"< {BOARD_P99_TARGET_MS:.0f} ms",
                _below(boards.p99, BOARD_P99_TARGET_MS),
            )
        )
        rows.append(
            (
                "Failed or wrong board replies",
                str(boards.errors + boards.wrong),
                "0",
                boards.errors + boards.wrong == 0 and boards.count > 0,
            )
        )
    if (ten := results.ten) is not None:
        rows.append(
            (
                f"Replies per second, {TEN_BOARDS} boards back to back (all checked)",
                f"{ten.per_second:,.0f} ({ten.errors + ten.wrong} failed or wrong)",
                f">= {TEN_BOARDS_TARGET_PER_SEC:,.0f}, none failed or wrong",
                ten.per_second >= TEN_BOARDS_TARGET_PER_SEC and ten.errors + ten.wrong == 0,
            )
        )
    if (state_rows := results.state_rows) is not None:
        rows.append(
            (
                "Recorder state rows per machine per minute, boards heart-beating",
                (
                    f"{state_rows.per_machine_minute:.2f} (worst machine "
                    f"{state_rows.worst_machine_minute:.2f})"
                ),
                f"<= {STATE_ROWS_TARGET:.0f}",
                state_rows.worst_machine_minute <= STATE_ROWS_TARGET,
            )
        )
    if (usage := results.usage) is not None:
        rows += usage_targets(usage)
    if (hung := results.hung) is not None:
        rows.append(
            (
                "Board reply p99, disk hung",
                ms(hung.p99),
                f"< {HUNG_P99_TARGET_MS:.0f} ms (2x)",
                _below(hung.p99, HUNG_P99_TARGET_MS) and hung.errors + hung.wrong == 0,
            )
        )
    lags = {
        "boards": results.boards_lag,
        "disk hung": results.hung_lag,
        "printers": results.printers_lag,
    }
    for phase, lag in lags.items():
        if lag:
            rows.append(
                (
                    f"Event loop worst lag ({phase})",
                    ms(_lag_max(lag)),
                    f"< {LOOP_LAG_TARGET_MS:.0f} ms",
                    _below(_lag_max(lag), LOOP_LAG_TARGET_MS),
                )
            )
    if results.slots:
        rows.append(
            (
                "Recording slot start lateness p99",
                _seconds(results.slot_p99),
                f"< {SLOT_LATENESS_TARGET_SEC:.0f} s",
                _below(results.slot_p99, SLOT_LATENESS_TARGET_SEC),
            )
        )
    if results.startups:
        slowest = max(results.startups)
        rows.append(
            (
                "Start-up (entry reload), slowest",
                f"{slowest:.2f} s",
                f"< {STARTUP_TARGET_SEC:.0f} s",
                slowest < STARTUP_TARGET_SEC,
            )
        )
    return rows


def _latency_row(label: str, figures: Latencies | None) -> str:
    if figures is None:
        return f"| {label} | - | - | - | - | - | - | - |"
    return (
        f"| {label} | {figures.count} | {figures.per_second:.1f} | {ms(figures.p50)} | "
        f"{ms(figures.p95)} | {ms(figures.p99)} | {ms(figures.max)} | "
        f"{figures.errors} / {figures.wrong} |"
    )


def _lag_row(label: str, lag: dict[str, Any]) -> str:
    if not lag:
        return f"| {label} | - | - | - | - |"
    return (
        f"| {label} | {ms(lag.get('p50_ms'))} | {ms(lag.get('p99_ms'))} | "
        f"{ms(lag.get('max_ms'))} | {ms(lag.get('gc_max_ms'))} |"
    )


def markdown(results: Results, command: str, appendix: Sequence[str] = ()) -> str:
    """Return `docs/benchmarks.md`; `appendix` (lines) goes before the method."""
    took = f" (a run took {results.minutes:.0f} min)" if results.minutes else ""
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` on {results.date}{took}; run it again to refresh this page.",
        *_runs_note(results.runs),
        "",
        f"- Machine: {results.machine}",
        f"- Home Assistant {results.home_assistant}, Python {results.python}, with a recorder",
        (
            f"- Makerspace: {results.members:,} members, {results.machines} machines, "
            f"{results.printers} printers, {results.sensors} recording sensors"
        ),
        "",
        "## Targets",
        "",
        "| Figure | Measured | Target | |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {figure} | {measured} | {target} | {_verdict(ok)} |"
        for figure, measured, target, ok in targets(results)
    ]
    if gc_note := _gc_note(results):
        lines += ["", gc_note]
    lines += [
        "",
        "## Board replies",
        "",
        f"Each phase ran {results.seconds:.0f} s. Latency is measured by the board, from",
        "sending the request to the end of the reply, over its keep-alive connection.",
        "",
        "| Phase | Replies | Per second | p50 | p95 | p99 | max | Errors / wrong |",
        "|---|---|---|---|---|---|---|---|",
        _latency_row(f"{results.machines} boards x 1 Hz + cards", results.boards),
        _latency_row("one board, back-to-back", results.single),
        _latency_row(f"{TEN_BOARDS} boards, back-to-back side by side", results.ten),
        _latency_row(f"{results.machines} boards, disk hung", results.hung),
        _latency_row(f"{results.machines} boards heart-beating, no cards", results.quiet),
        "",
        f"Home Assistant used {results.boards_cpu:.0%} of one core with the boards posting",
        f"(idle: {results.idle_cpu:.0%}).",
        "",
        f"With the disk hung, writes of {results.hung_locked} state files were blocked for the",
        f"whole phase; the hub counted {results.hung_timeouts} save timeouts meanwhile (and",
        "alerted), and no reply waited for the disk.",
        "",
        *state_rows_section(results.state_rows, results.seconds),
        *usage_section(results.usage, results.machines),
        "## Event loop lag",
        "",
        "How late a callback due every 20 ms ran, measured inside Home Assistant, and the",
        "longest pause of Python's garbage collector (which stops every thread) meanwhile.",
        "",
        "| Phase | p50 | p99 | max | longest GC pause |",
        "|---|---|---|---|---|",
        _lag_row("boards", results.boards_lag),
        _lag_row("one board, back-to-back", results.single_lag),
        _lag_row(f"{TEN_BOARDS} boards, back-to-back", results.ten_lag),
        _lag_row("boards, disk hung", results.hung_lag),
        _lag_row("boards heart-beating, no cards", results.quiet_lag),
        _lag_row("idle (sensors recording)", results.idle_lag),
        _lag_row(f"{results.printers} printers printing", results.printers_lag),
        "",
        *gc_section(_gc_phases(results), results.trace),
        "## Printers",
        "",
        f"{results.printers} printers printing at once, each polled every 5 s, against a fake",
        f"ML API on loopback: {results.frames} frames scored in {results.seconds:.0f} s. Time",
        "spent in Home Assistant per frame (snapshot, serving the frame to the ML API, the",
        "request, the detector, the entity updates), measured as the process's CPU time",
        f"above idle divided by the frames: **{ms(results.frame_cpu_ms)}** per frame. The",
        "fake ML API runs in the benchmark's process, so its own time is not counted.",
        "",
        "## Recording sensors",
        "",
        f"{results.sensors} sensors sampling an entity every 60 s, all through the run",
        f"(boards, disk hung and printers included): {results.slots} slots started,",
        f"lateness p99 {_seconds(results.slot_p99)}, max {_seconds(results.slot_max)}",
        "(the worst p99 of any sensor, and the worst slot of all).",
        "",
        "## Start-up",
        "",
        f"Reloading the hub (unload, then set up {results.machines} machines,",
        f"{results.printers} printers and {results.sensors} sensors with their state files),",
        "timed through the config entries API: "
        + ", ".join(f"{seconds:.2f} s" for seconds in results.startups)
        + ".",
        "",
        *appendix,
        "## Method",
        "",
        "`scripts/bench` generates a config in a temporary folder, starts Home Assistant",
        "from the project's virtualenv on a free loopback port, onboards it and sets the",
        "makerspace up through the config flows, like an admin, and lets the boards post",
        "for 30 s before measuring (setting up 140 devices leaves Home Assistant a large",
        "garbage collection to do first). A small probe integration",
        "measures the event loop's lag inside Home Assistant. Boards, fake ML API and the",
        "measurements run in the benchmark's own process on the same machine, so they",
        "compete with Home Assistant for the same cores. The disk is hung by holding the",
        "lock of every state file from the benchmark's process: each save of the hub then",
        "blocks in its worker thread exactly as on a hung disk. `scripts/bench --help`",
        "lists the knobs (boards, duration, printers, sensors).",
        "",
    ]
    return "\n".join(lines)


def _runs_note(runs: int) -> list[str]:
    if runs < 2:
        return []
    return [
        "",
        f"**Worst of {runs} runs**, each on its own fresh Home Assistant: every headline",
        "figure (p99s, replies per second, loop lags, state rows) is the worst any run",
        "measured; the other figures are those of the run with the worst p99 at the",
        "boards (see Runs below).",
    ]


def _posts(figures: Latencies | None) -> int:
    return 0 if figures is None else figures.count + figures.errors


def _gc_phases(results: Results) -> list[tuple[str, GcFigures | None]]:
    """Return each phase's garbage collection figures, in the order they ran."""

    def of(lag: dict[str, Any], replies: Latencies | None) -> GcFigures | None:
        seconds = results.seconds if replies is None else replies.seconds
        return GcFigures.of(lag, _posts(replies), seconds)

    rounds = results.usage.rounds if results.usage else []
    return [
        ("boards", of(results.boards_lag, results.boards)),
        ("one board, back-to-back", of(results.single_lag, results.single)),
        (f"{TEN_BOARDS} boards, back-to-back", of(results.ten_lag, results.ten)),
        *(
            (
                f"usage records {'on' if each.recording else 'off'}, round {n}",
                of(each.lag, each.replies),
            )
            for n, each in enumerate(rounds, 1)
        ),
        ("disk hung", of(results.hung_lag, results.hung)),
        ("heart-beating, no cards", of(results.quiet_lag, results.quiet)),
        ("idle", of(results.idle_lag, None)),
        ("printers", of(results.printers_lag, None)),
    ]


def _gc_note(results: Results) -> str:
    """Explain the loop lags that a garbage collection pause accounts for."""
    phases = {
        "boards": results.boards_lag,
        "disk hung": results.hung_lag,
        "printers": results.printers_lag,
    }
    explained = [
        f"{phase} ({ms(_lag_max(lag))} worst lag, {ms(lag.get('gc_max_ms'))} GC pause)"
        for phase, lag in phases.items()
        if lag
        and _lag_max(lag) >= LOOP_LAG_TARGET_MS
        and float(lag.get("gc_max_ms") or 0) >= 0.8 * _lag_max(lag)
    ]
    if not explained:
        return ""
    return (
        "**Reading the misses.** In " + ", ".join(explained) + " the worst event loop "
        "lag is a pause of Python's garbage collector: a full collection stops every "
        f"thread of Home Assistant while it walks the {results.heap_objects:,} objects "
        "the whole process holds (Home Assistant, the recorder and every integration)."
    )


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"
