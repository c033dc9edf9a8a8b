"""The usage-records phase in `docs/benchmarks.md`: its targets and its section."""

import math

from .stats import ms
from .usage import ROUNDS, SWITCH_WARM_UP_SEC, UsageComparison, UsageRound

USAGE_P99_TOLERANCE = 0.10  # the p99 with usage records, off that without by at most


def usage_targets(usage: UsageComparison) -> list[tuple[str, str, str, bool]]:
    """Return (figure, measured, target, met) of the usage records' targets."""
    failed = sum(each.errors + each.wrong for each in (usage.on, usage.off))
    on, off = usage.recorded(True), usage.recorded(False)
    return [
        (
            "Board reply p99 with usage records vs without",
            f"{ms(usage.on.p99)} vs {ms(usage.off.p99)} ({_change(usage.change)})",
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


def usage_section(usage: UsageComparison | None, machines: int) -> list[str]:
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
        f"With usage records the {machines} boards' p99 was **{ms(usage.on.p99)}**, without",
        f"**{ms(usage.off.p99)}** ({_change(usage.change)}). Writing the records counted",
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
        f"{ms(replies.p50)} | {ms(replies.p95)} | {ms(replies.p99)} | {ms(replies.max)} | "
        f"{replies.errors} / {replies.wrong} | {ms(_gc_ms(each))} | {cpu} | {sessions} |"
    )
