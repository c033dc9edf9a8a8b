"""The benchmark's results, and `docs/benchmarks.md` written from them."""

from dataclasses import dataclass, field
import math
from typing import Any

from .stats import Latencies
from .usage import ROUNDS, SWITCH_WARM_UP_SEC, UsageComparison, UsageRound

BOARD_P99_TARGET_MS = 25.0
HUNG_P99_TARGET_MS = 2 * BOARD_P99_TARGET_MS
LOOP_LAG_TARGET_MS = 50.0
SLOT_LATENESS_TARGET_SEC = 1.0
STARTUP_TARGET_SEC = 5.0
USAGE_P99_TOLERANCE = 0.10  # the p99 with usage records, off that without by at most


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
    usage: UsageComparison | None = None  # paired rounds, usage records off and on
    hung: Latencies | None = None
    hung_lag: dict[str, Any] = field(default_factory=dict)
    hung_locked: int = 0  # state files whose writes were blocked
    hung_timeouts: int = 0  # save timeouts the hub counted meanwhile
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


def _ms(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1f} ms"


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
                _ms(boards.p99),
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
    if (usage := results.usage) is not None:
        rows += _usage_targets(usage)
    if (hung := results.hung) is not None:
        rows.append(
            (
                "Board reply p99, disk hung",
                _ms(hung.p99),
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
                    _ms(_lag_max(lag)),
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


def _usage_targets(usage: UsageComparison) -> list[tuple[str, str, str, bool]]:
    failed = sum(each.errors + each.wrong for each in (usage.on, usage.off))
    on, off = usage.recorded(True), usage.recorded(False)
    return [
        (
            "Board reply p99 with usage records vs without",
            f"{_ms(usage.on.p99)} vs {_ms(usage.off.p99)} ({_change(usage.change)})",
            f"within {USAGE_P99_TOLERANCE * 100:.0f} %",
            abs(usage.change) <= USAGE_P99_TOLERANCE and failed == 0,
        ),
        (
            "Sessions recorded with usage records on / off",
            f"{on} / {off}",
            "> 0 / 0, all written",
            on > 0 and off == 0 and usage.all_written,
        ),
    ]


def _change(change: float) -> str:
    return "-" if math.isnan(change) else f"{change * 100:+.1f} %"


def _latency_row(label: str, figures: Latencies | None) -> str:
    if figures is None:
        return f"| {label} | - | - | - | - | - | - | - |"
    return (
        f"| {label} | {figures.count} | {figures.per_second:.1f} | {_ms(figures.p50)} | "
        f"{_ms(figures.p95)} | {_ms(figures.p99)} | {_ms(figures.max)} | "
        f"{figures.errors} / {figures.wrong} |"
    )


def _lag_row(label: str, lag: dict[str, Any]) -> str:
    if not lag:
        return f"| {label} | - | - | - | - |"
    return (
        f"| {label} | {_ms(lag.get('p50_ms'))} | {_ms(lag.get('p99_ms'))} | "
        f"{_ms(lag.get('max_ms'))} | {_ms(lag.get('gc_max_ms'))} |"
    )


def markdown(results: Results, command: str) -> str:
    """Return `docs/benchmarks.md`."""
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` on {results.date}; run it again to refresh this page.",
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
        _latency_row(f"{results.machines} boards, disk hung", results.hung),
        "",
        f"Home Assistant used {results.boards_cpu:.0%} of one core with the boards posting",
        f"(idle: {results.idle_cpu:.0%}).",
        "",
        f"With the disk hung, writes of {results.hung_locked} state files were blocked for the",
        f"whole phase; the hub counted {results.hung_timeouts} save timeouts meanwhile (and",
        "alerted), and no reply waited for the disk.",
        "",
        *_usage_section(results.usage, results.machines),
        "## Event loop lag",
        "",
        "How late a callback due every 20 ms ran, measured inside Home Assistant, and the",
        "longest pause of Python's garbage collector (which stops every thread) meanwhile.",
        "",
        "| Phase | p50 | p99 | max | longest GC pause |",
        "|---|---|---|---|---|",
        _lag_row("boards", results.boards_lag),
        _lag_row("boards, disk hung", results.hung_lag),
        _lag_row("idle (sensors recording)", results.idle_lag),
        _lag_row(f"{results.printers} printers printing", results.printers_lag),
        "",
        "## Printers",
        "",
        f"{results.printers} printers printing at once, each polled every 5 s, against a fake",
        f"ML API on loopback: {results.frames} frames scored in {results.seconds:.0f} s. Time",
        "spent in Home Assistant per frame (snapshot, serving the frame to the ML API, the",
        "request, the detector, the entity updates), measured as the process's CPU time",
        f"above idle divided by the frames: **{_ms(results.frame_cpu_ms)}** per frame. The",
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


def _usage_section(usage: UsageComparison | None, machines: int) -> list[str]:
    """Return the section on usage records (nothing if they were not measured)."""
    if usage is None:
        return []
    order = ", ".join("on" if recording else "off" for recording in ROUNDS)
    rounds = [_round_row(str(number), each) for number, each in enumerate(usage.rounds, 1)]
    pooled = [
        _round_row(
            "all",
            UsageRound(
                recording=recording,
                replies=replies,
                lag={"gc_max_ms": max((_gc_ms(each) for each in chosen), default=math.nan)},
                cpu=sum(each.cpu for each in chosen) / len(chosen) if chosen else math.nan,
                sessions=sum(each.sessions for each in chosen),
                rows=sum(each.rows for each in chosen),
            ),
        )
        for recording, replies in ((False, usage.off), (True, usage.on))
        for chosen in [[each for each in usage.rounds if each.recording is recording]]
    ]
    return [
        "## Usage records",
        "",
        "Every machine session that ends is recorded into SQLite by a worker thread (the",
        "hub's `record_usage` option). The same boards and pattern as above ran in paired",
        f"rounds with usage records off and on, in the order {order},",
        "so that a drift over the run weighs on both alike. Before each round the option",
        "was switched through the hub's options flow (which reloads the hub; where it",
        "stayed, the hub was reloaded all the same), then the boards posted for",
        f"{SWITCH_WARM_UP_SEC:.0f} s before the round was measured. The rounds of each",
        "condition are pooled. Sessions recorded: those that ended from the reload to the",
        "round's end, counted in `usage.db` once nothing waited to be written (and by the",
        "`usage_report` action, in brackets where it disagrees).",
        "",
        (
            "| Round | Usage records | Replies | p50 | p95 | p99 | max | Errors / wrong | "
            "Longest GC pause | CPU | Sessions recorded |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *rounds,
        *pooled,
        "",
        f"With usage records the {machines} boards' p99 was **{_ms(usage.on.p99)}**, without",
        f"**{_ms(usage.off.p99)}** ({_change(usage.change)}). Writing the records counted",
        f"{usage.save_timeouts} save timeouts; last write error: {usage.last_error or 'none'}.",
        "",
    ]


def _gc_ms(each: UsageRound) -> float:
    value = each.lag.get("gc_max_ms")
    return math.nan if value is None else float(value)


def _round_row(label: str, each: UsageRound) -> str:
    replies = each.replies
    sessions = str(each.rows) + (f" ({each.sessions})" if each.sessions != each.rows else "")
    cpu = "-" if math.isnan(each.cpu) else f"{each.cpu:.0%}"
    return (
        f"| {label} | {'on' if each.recording else 'off'} | {replies.count} | "
        f"{_ms(replies.p50)} | {_ms(replies.p95)} | {_ms(replies.p99)} | {_ms(replies.max)} | "
        f"{replies.errors} / {replies.wrong} | {_ms(_gc_ms(each))} | {cpu} | {sessions} |"
    )


def _gc_note(results: Results) -> str:
    """Explain the loop lags that a garbage collection pause accounts for."""
    phases = {
        "boards": results.boards_lag,
        "disk hung": results.hung_lag,
        "printers": results.printers_lag,
    }
    explained = [
        f"{phase} ({_ms(_lag_max(lag))} worst lag, {_ms(lag.get('gc_max_ms'))} GC pause)"
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
