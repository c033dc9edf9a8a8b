"""Several runs of the benchmark, and the worst of them (`scripts/bench --runs 3`).

A run's figures depend on where Home Assistant's full garbage collections land, so
one run can be lucky. With `--runs N` every run starts its own Home Assistant on a
fresh config, and each headline figure reported is the worst any run measured: the
highest p99s and loop lags, the fewest replies per second, the most state rows. The
rest of the page (latency percentiles beside the p99, garbage collection, usage
records, printers) is that of the run with the worst p99 at 100 boards, so that its
figures belong together.
"""

from collections.abc import Callable, Sequence
from dataclasses import replace
import math
from typing import Any

from .report import Results
from .stats import Latencies


def _p99(figures: Latencies | None) -> float:
    """Return a p99 to rank runs by: a phase without replies ranks worst."""
    if figures is None or math.isnan(figures.p99):
        return math.inf
    return figures.p99


def _rate(figures: Latencies | None) -> float:
    return math.inf if figures is None else figures.per_second


def _lag_max(lag: dict[str, Any]) -> float:
    value = lag.get("max_ms")
    return math.inf if lag and value is None else float(value or 0.0)


def _rows(results: Results) -> float:
    rows = results.state_rows
    return -math.inf if rows is None else rows.worst_machine_minute


def _worst[T](
    runs: Sequence[Results], get: Callable[[Results], T], rank: Callable[[T], float]
) -> T:
    """Return the value of `get` of the run that `rank` puts highest."""
    return get(max(runs, key=lambda run: rank(get(run))))


def worst_of(runs: Sequence[Results]) -> Results:
    """Return the page's results: the worst run's, with each headline figure's worst."""
    if not runs:
        raise ValueError("no runs")
    base = max(runs, key=lambda run: _p99(run.boards))
    return replace(
        base,
        runs=len(runs),
        single=_worst(runs, lambda run: run.single, lambda each: -_rate(each)),
        ten=_worst(runs, lambda run: run.ten, lambda each: -_rate(each)),
        hung=_worst(runs, lambda run: run.hung, _p99),
        boards_lag=_worst(runs, lambda run: run.boards_lag, _lag_max),
        hung_lag=_worst(runs, lambda run: run.hung_lag, _lag_max),
        printers_lag=_worst(runs, lambda run: run.printers_lag, _lag_max),
        quiet_lag=_worst(runs, lambda run: run.quiet_lag, _lag_max),
        boards_cpu=max(run.boards_cpu for run in runs),
        state_rows=max(runs, key=_rows).state_rows,
        startups=max((run.startups for run in runs), key=lambda each: max(each, default=0.0)),
    )


def _ms(value: float) -> str:
    return "-" if math.isnan(value) or math.isinf(value) else f"{value:.1f} ms"


def _per_second(figures: Latencies | None) -> str:
    return "-" if figures is None else f"{figures.per_second:,.0f}"


def runs_section(runs: Sequence[Results]) -> list[str]:
    """Return the table of each run's headline figures (nothing for a single run)."""
    if len(runs) < 2:
        return []
    lines = [
        "## Runs",
        "",
        f"The headline figures of each of the {len(runs)} runs; the page reports the worst.",
        "",
        (
            "| Run | p99, boards | Replies/s, 1 board | Replies/s, 10 boards | p99, disk hung | "
            "Worst loop lag (boards) | Longest GC pause (boards) | State rows per machine-minute |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for number, run in enumerate(runs, 1):
        rows = "-" if run.state_rows is None else f"{run.state_rows.per_machine_minute:.2f}"
        lines.append(
            f"| {number} | {_ms(_p99(run.boards))} | {_per_second(run.single)} | "
            f"{_per_second(run.ten)} | {_ms(_p99(run.hung))} | "
            f"{_ms(float(run.boards_lag.get('max_ms') or math.nan))} | "
            f"{_ms(float(run.boards_lag.get('gc_max_ms') or math.nan))} | {rows} |"
        )
    return [*lines, ""]
