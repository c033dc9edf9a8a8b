"""Obico's smoothing (no Home Assistant), checked frame by frame against a separate,
literal transcription of the spec's formulas."""

import random

import pytest

from custom_components.makerspace_hub.printers.detector import (
    FAILURE,
    SAFE,
    WARNING,
    FailureDetector,
)


class Reference:
    """The spec, line by line, kept apart from the implementation."""

    def __init__(self) -> None:
        self.cur = self.life = 0
        self.ewm = self.short = self.long = 0.0

    def new_print(self) -> None:
        self.cur = 0
        self.ewm = self.short = 0.0

    def frame(self, p: float, s: float) -> str:
        alpha = 2 / (12 + 1)
        self.cur += 1
        self.life += 1
        self.ewm = p * alpha + self.ewm * (1 - alpha)
        m = self.short
        self.short = m + (p - m) / (310 if self.cur >= 310 else self.cur + 1)
        m = self.long
        self.long = m + (p - m) / (7200 if self.life >= 7200 else self.life + 1)
        if self.failing(s, 1.75):
            return "failure"
        if self.failing(s, 1):
            return "warning"
        return "safe"

    def failing(self, s: float, esc: float) -> bool:
        if self.cur < 30:
            return False
        adj = (self.ewm - self.long) * s / esc
        if adj < 0.38:
            return False
        if adj > 0.78:
            return True
        return adj > (self.short - self.long) * 3.8

    def probability(self, s: float) -> float:
        tw = min(max((self.short - self.long) * 3.8, 0.38), 0.78)
        tf = tw * 1.75
        x = (self.ewm - self.long) * s

        def scale(x: float, a: float, b: float, c: float, d: float) -> float:
            return min(max(c + (x - a) / (b - a) * (d - c), c), d)

        if x > tf:
            return scale(x, tf, 1.5 * tf, 2 / 3, 1)
        if x > tw:
            return scale(x, tw, tf, 1 / 3, 2 / 3)
        return scale(x, 0, tw, 0, 1 / 3)


def _stream(rng: random.Random, length: int) -> list[float]:
    kind = rng.choice(["quiet", "noisy", "spaghetti", "stain", "spikes"])
    frames = []
    for i in range(length):
        if kind == "quiet":
            p = rng.random() * 0.05
        elif kind == "noisy":
            p = rng.random() * 0.6
        elif kind == "spaghetti":
            p = 0.0 if i < length / 3 else rng.uniform(0.5, 2.5)
        elif kind == "stain":
            p = 0.5 + rng.uniform(-0.05, 0.05)
        else:
            p = 3.0 if rng.random() < 0.03 else 0.0
        frames.append(p)
    return frames


@pytest.mark.parametrize("seed", range(40))
def test_verdicts_and_probabilities_match_the_reference(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible test streams
    detector, reference = FailureDetector(), Reference()
    for _ in range(rng.randint(1, 4)):  # a few prints: the baseline carries over
        sensitivity = rng.choice([0.8, 1.0, 1.15, 1.2])
        for p in _stream(rng, rng.randint(20, 400)):
            assert detector.add_frame(p, sensitivity) == reference.frame(p, sensitivity)
            assert detector.probability(sensitivity) == pytest.approx(
                reference.probability(sensitivity)
            )
        detector.new_print()
        reference.new_print()
    assert detector.lifetime_frame_num == reference.life


def test_warm_up_never_alarms() -> None:
    detector = FailureDetector()
    for _ in range(100):  # an earlier, clean print
        detector.add_frame(0.0)
    detector.new_print()
    verdicts = [detector.add_frame(2.0) for _ in range(29)]
    assert set(verdicts) == {SAFE}
    assert detector.warming_up
    assert detector.add_frame(2.0) == FAILURE  # the 30th frame may judge
    assert not detector.warming_up


def test_a_single_spike_does_not_fire() -> None:
    detector = FailureDetector()
    verdicts = [detector.add_frame(0.0) for _ in range(60)]
    verdicts.append(detector.add_frame(3.0))
    verdicts += [detector.add_frame(0.0) for _ in range(20)]
    assert FAILURE not in verdicts


def test_a_sustained_failure_fires() -> None:
    detector = FailureDetector()
    for _ in range(60):
        detector.add_frame(0.0)
    verdicts = [detector.add_frame(1.2) for _ in range(10)]
    assert verdicts[0] == SAFE  # one frame is smoothed away...
    assert verdicts[-1] == FAILURE  # ...ten are not
    assert WARNING in verdicts or verdicts.index(FAILURE) > 0
    assert detector.probability() > 2 / 3


def test_a_harmless_constant_detection_is_learned_and_kept_across_prints() -> None:
    detector = FailureDetector()
    first = [detector.add_frame(0.5) for _ in range(200)]
    assert FAILURE not in first
    assert detector.rolling_mean_long == pytest.approx(0.5, abs=0.01)
    detector.new_print()
    second = [detector.add_frame(0.5) for _ in range(200)]
    assert set(second) == {SAFE}
    # Kept per print (bambuddy's mistake), the same stain keeps warning:
    fresh = FailureDetector(lifetime_frame_num=0)
    for _ in range(40):
        fresh.add_frame(0.0)
    fresh.new_print()
    assert FAILURE not in [fresh.add_frame(0.5) for _ in range(40)]


def test_sensitivity_multiplies_the_signal() -> None:
    low, high = FailureDetector(), FailureDetector()
    for _ in range(40):
        low.add_frame(0.0, 0.8)
        high.add_frame(0.0, 1.2)
    for _ in range(3):
        low_verdict = low.add_frame(0.9, 0.8)
        high_verdict = high.add_frame(0.9, 1.2)
    assert high.probability(1.2) > low.probability(0.8)
    assert (low_verdict, high_verdict) != (FAILURE, SAFE)


def test_saved_state() -> None:
    detector = FailureDetector()
    for p in (0.1, 0.2, 0.3):
        detector.add_frame(p)
    assert FailureDetector.from_dict(detector.as_dict()) == detector
    assert FailureDetector.from_dict({}) == FailureDetector()
    for bad in (
        {"ewm_mean": "x"},
        {"lifetime_frame_num": 1.5},
        {"rolling_mean_long": -1},
        {"ewm_mean": True},
    ):
        with pytest.raises(ValueError, match=r"must be a number|out of range"):
            FailureDetector.from_dict(bad)


def test_saved_numbers_are_read_as_their_kind() -> None:
    detector = FailureDetector.from_dict({"current_frame_num": 3.0, "ewm_mean": 1})
    assert detector.current_frame_num == 3
    assert isinstance(detector.current_frame_num, int)
    assert detector.ewm_mean == 1.0
    assert isinstance(detector.ewm_mean, float)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_saved_non_finite_numbers_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match="out of range"):
        FailureDetector.from_dict({"rolling_mean_short": value})


def test_a_fresh_detector_is_safe_and_warming_up() -> None:
    detector = FailureDetector()
    assert detector.warming_up
    assert detector.verdict() == SAFE
    assert detector.probability() == 0.0


def test_the_probability_stays_between_zero_and_one() -> None:
    detector = FailureDetector()
    for p in [0.0] * 40 + [5.0] * 40:
        detector.add_frame(p, 1.2)
        assert 0.0 <= detector.probability(1.2) <= 1.0
    assert detector.probability(1.2) == 1.0
