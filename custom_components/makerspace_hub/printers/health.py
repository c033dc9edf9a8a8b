"""A printer's recent health: camera errors and the frames that were not plain safe (pure).

What the printer's diagnostics and its error sensors show; nothing here decides
anything about a print (that is `print_watch`).
"""

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

HISTORY_LENGTH = 50


@dataclass(slots=True)
class Frame:
    """One analysed frame that was not plain safe (for diagnostics)."""

    at: datetime
    score: float
    verdict: str
    probability: float

    def as_dict(self) -> dict[str, Any]:
        """Return the frame as diagnostics show it."""
        return {
            "at": self.at.isoformat(),
            "score": self.score,
            "verdict": self.verdict,
            "probability": self.probability,
        }


@dataclass(slots=True)
class PrinterHealth:
    """What went wrong lately."""

    camera_errors: int = 0
    camera_failing: bool = False
    last_error: str | None = None
    history: deque[Frame] = field(default_factory=lambda: deque(maxlen=HISTORY_LENGTH))

    def camera_failed(self, error: str) -> bool:
        """Count a snapshot that failed; return True when the camera just began failing."""
        self.camera_errors += 1
        self.last_error = f"camera: {error}"
        began = not self.camera_failing
        self.camera_failing = True
        return began

    def camera_works(self) -> bool:
        """Take a good snapshot; return True when the camera just stopped failing."""
        ended = self.camera_failing
        self.camera_failing = False
        return ended
