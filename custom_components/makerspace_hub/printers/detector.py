"""Print-failure detection: Obico's smoothing of per-frame scores (detection spec).

Pure Python. `FailureDetector.add_frame(p)` takes one frame's summed confidence and
returns Obico's verdict for it (`failure`, `warning` or `safe`); `probability` is
the normalized 0..1 value for a gauge. The long mean and `lifetime_frame_num` are
the printer's learned baseline of harmless detections: they carry across prints
(and restarts); `new_print` resets only the per-print state.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass
import math
from typing import Any

# Obico's 1st-generation parameters, tuned for one frame every 10 s.
EWM_SPAN = 12
EWM_ALPHA = 2 / (EWM_SPAN + 1)
ROLLING_WIN_SHORT = 310
ROLLING_WIN_LONG = 7200
THRESHOLD_LOW = 0.38
THRESHOLD_HIGH = 0.78
INIT_SAFE_FRAME_NUM = 30
ROLLING_MEAN_SHORT_MULTIPLE = 3.8
ESCALATING_FACTOR = 1.75

FAILURE = "failure"
WARNING = "warning"
SAFE = "safe"
WARMING_UP = "warming_up"


def _rolling(mean: float, value: float, window: int, count: int) -> float:
    return mean + (value - mean) / (window if window <= count else count + 1)


def _scale(x: float, low_in: float, high_in: float, low_out: float, high_out: float) -> float:
    scaled = low_out + (x - low_in) / (high_in - low_in) * (high_out - low_out)
    return min(max(scaled, low_out), high_out)


@dataclass(slots=True, kw_only=True)
class FailureDetector:
    """The smoothing state of one printer."""

    current_frame_num: int = 0
    lifetime_frame_num: int = 0
    ewm_mean: float = 0.0
    rolling_mean_short: float = 0.0
    rolling_mean_long: float = 0.0

    def new_print(self) -> None:
        """Forget the previous print; keep the learned baseline."""
        self.current_frame_num = 0
        self.ewm_mean = 0.0
        self.rolling_mean_short = 0.0

    @property
    def warming_up(self) -> bool:
        """Return True until enough frames of this print were seen to judge."""
        return self.current_frame_num < INIT_SAFE_FRAME_NUM

    def add_frame(self, p: float, sensitivity: float = 1.0) -> str:
        """Take a frame's summed confidence; return its verdict."""
        self.current_frame_num += 1
        self.lifetime_frame_num += 1
        self.ewm_mean = p * EWM_ALPHA + self.ewm_mean * (1 - EWM_ALPHA)
        self.rolling_mean_short = _rolling(
            self.rolling_mean_short, p, ROLLING_WIN_SHORT, self.current_frame_num
        )
        self.rolling_mean_long = _rolling(
            self.rolling_mean_long, p, ROLLING_WIN_LONG, self.lifetime_frame_num
        )
        return self.verdict(sensitivity)

    def is_failing(self, sensitivity: float, escalating_factor: float) -> bool:
        """Return Obico's `is_failing` for the current state."""
        if self.current_frame_num < INIT_SAFE_FRAME_NUM:
            return False
        adjusted = (self.ewm_mean - self.rolling_mean_long) * sensitivity / escalating_factor
        if adjusted < THRESHOLD_LOW:
            return False
        if adjusted > THRESHOLD_HIGH:
            return True
        return (
            adjusted
            > (self.rolling_mean_short - self.rolling_mean_long) * ROLLING_MEAN_SHORT_MULTIPLE
        )

    def verdict(self, sensitivity: float = 1.0) -> str:
        """Return `failure`, `warning` or `safe`."""
        if self.is_failing(sensitivity, ESCALATING_FACTOR):
            return FAILURE
        if self.is_failing(sensitivity, 1):
            return WARNING
        return SAFE

    def probability(self, sensitivity: float = 1.0) -> float:
        """Return the normalized failure probability (0..1) for a gauge."""
        warning = min(
            max(
                (self.rolling_mean_short - self.rolling_mean_long) * ROLLING_MEAN_SHORT_MULTIPLE,
                THRESHOLD_LOW,
            ),
            THRESHOLD_HIGH,
        )
        failure = warning * ESCALATING_FACTOR
        x = (self.ewm_mean - self.rolling_mean_long) * sensitivity
        if x > failure:
            return _scale(x, failure, 1.5 * failure, 2 / 3, 1)
        if x > warning:
            return _scale(x, warning, failure, 1 / 3, 2 / 3)
        return _scale(x, 0, warning, 0, 1 / 3)

    def as_dict(self) -> dict[str, Any]:
        """Return the state to save."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FailureDetector":
        """Read a saved state; raise ValueError when it is unusable."""
        values: dict[str, Any] = {}
        for key, kind in (
            ("current_frame_num", int),
            ("lifetime_frame_num", int),
            ("ewm_mean", float),
            ("rolling_mean_short", float),
            ("rolling_mean_long", float),
        ):
            value = data.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{key} must be a number")
            if not math.isfinite(value) or value < 0 or (kind is int and value != int(value)):
                raise ValueError(f"{key} is out of range")
            values[key] = kind(value)
        return cls(**values)
