"""Anomaly detection on one daily cost series: a robust, weekday-aware baseline and a score against it.

For each day the baseline comes from the previous weeks only: a median level of the last week times the
weekday's median factor, so weekends are expected to be cheaper and do not flag. The spread is the median
absolute deviation of that history from its own smoothed line, floored so a flat series does not call a
cent a spike.

Two rules flag a day. A point anomaly scores at least `score_threshold` on its own: a spike or a drop,
flagged on its first day. A drift is `drift_days` days in a row scoring at least `drift_threshold` the
same way and still moving away from the baseline by `drift_rise`: a leak, caught within days although no single day is
extreme, while a one-off step (a new resource) that stops moving is not.

A flagged day is replaced by its expected value in the history that later days see, so an ongoing
anomaly (a leak) keeps being measured against the level before it began, until it has lasted long enough
and settled enough to be accepted as the new normal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from finops_warehouse.forecasting.models import SEASON

MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class DetectionSettings:
    """Knobs of the detector; the dbt project sets them from vars.

    Attributes:
        window_days: Days of history the baseline looks at.
        min_history_days: Days of history before a day can be scored.
        score_threshold: Robust score (deviation over spread) that makes a single day anomalous.
        drift_threshold: Lower score that flags a day when the drift_days up to it all reach it, the same
            way, and the last is at least drift_rise further out than the first.
        drift_days: Length of that run.
        drift_rise: How much further out (in score) the run's last day must be than its first: a leak
            keeps moving away from the baseline, a step to a new level does not.
        min_impact: Smallest absolute cost deviation worth flagging, in the series' currency.
        relative_spread_floor: The spread is at least this fraction of the expected cost.
        rebaseline_days: After this many flagged days in a row, a level that has stopped moving becomes
            the baseline (a leak that is still growing does not).
    """

    window_days: int = 28
    min_history_days: int = 14
    score_threshold: float = 6.0
    drift_threshold: float = 2.5
    drift_days: int = 3
    drift_rise: float = 1.0
    min_impact: float = 50.0
    relative_spread_floor: float = 0.05
    rebaseline_days: int = 14


@dataclass(frozen=True)
class Detection:
    """Per-day results for one series; nan where a day has too little history to be scored.

    Day indexes are -1 where they do not apply. `run_start` and `rebaselined_on` are the detector's own
    state: the first day of the run of flagged days a day belongs to, and the day that run was accepted as
    the new normal. With them a later run can resume at any day instead of rescoring the whole history.
    """

    expected: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    score: np.ndarray
    direction: np.ndarray
    is_anomaly: np.ndarray
    episode_start: np.ndarray
    episode_end: np.ndarray
    run_start: np.ndarray
    rebaselined_on: np.ndarray

    def __len__(self) -> int:
        return len(self.expected)


def _weekday_factors(history: np.ndarray, weekdays: np.ndarray) -> np.ndarray:
    """Median of each weekday over the overall weekday median; 1 where that is undefined."""
    medians = np.array(
        [np.median(history[weekdays == day]) if np.any(weekdays == day) else np.nan for day in range(SEASON)]
    )
    overall = np.nanmedian(medians)
    if not np.isfinite(overall) or overall <= 0:
        return np.ones(SEASON)
    factors = medians / overall
    return np.where(np.isfinite(factors) & (factors > 0), factors, 1.0)


def _smoothed(values: np.ndarray) -> np.ndarray:
    """Centred rolling median over a week (shorter at the edges)."""
    half = SEASON // 2
    return np.array([np.median(values[max(0, i - half) : i + half + 1]) for i in range(len(values))])


def baseline(history: np.ndarray, history_weekdays: np.ndarray, weekday: int, floor: float) -> tuple[float, float]:
    """Expected value and spread of the next day from its history.

    Args:
        history: Past values, oldest first.
        history_weekdays: Weekday (0-6) of each past value.
        weekday: Weekday of the day to predict.
        floor: Relative floor of the spread.

    Returns:
        (expected, spread).
    """
    factors = _weekday_factors(history, history_weekdays)
    deseasonalised = history / factors[history_weekdays]
    level = float(np.median(deseasonalised[-SEASON:]))
    expected = level * factors[weekday]
    residuals = deseasonalised - _smoothed(deseasonalised)
    mad = float(np.median(np.abs(residuals - np.median(residuals))))
    return expected, max(MAD_TO_SIGMA * mad * factors[weekday], floor * abs(expected))


def _is_drifting(score: np.ndarray, day: int, settings: DetectionSettings) -> bool:
    """The drift_days up to `day` all score at least drift_threshold one way, and still move away."""
    first = day - settings.drift_days + 1
    if first < 0 or not np.all(np.isfinite(score[first : day + 1])):
        return False
    run = score[first : day + 1] * np.sign(score[day])
    return bool(np.all(run >= settings.drift_threshold) and run[-1] - run[0] >= settings.drift_rise)


def _has_settled(actual: np.ndarray, expected: np.ndarray, floor: float) -> bool:
    """Whether a long run of flagged days sits at a new, steady level rather than still moving.

    A level shift (a new workload) settles and becomes the baseline; a leak keeps growing and stays
    measured against the level before it. Compares the actual/expected ratio of the run's last three days
    with that of the three days before them.
    """
    if len(actual) < 7 or np.any(expected[-7:] <= 0):
        return True
    ratio = actual[-7:] / expected[-7:]
    change = np.median(ratio[-3:]) / np.median(ratio[:3])
    return bool(change > 0 and abs(np.log(change)) < np.log1p(2 * floor))


class _State:
    """The detector's working arrays: the previous detection's days before `resume_from`, blank after."""

    def __init__(self, values: np.ndarray, previous: Detection | None, resume_from: int) -> None:
        size = len(values)
        self.expected, self.lower, self.upper, self.score = (np.full(size, np.nan) for _ in range(4))
        self.direction = np.full(size, "", dtype=object)
        self.flagged = np.zeros(size, dtype=bool)
        self.run_start = np.full(size, -1)
        self.rebaselined_on = np.full(size, -1)
        self.history = values.astype(float).copy()
        self.open_run = -1
        if previous is None or resume_from == 0:
            return
        kept = slice(0, resume_from)
        for mine, theirs in (
            (self.expected, previous.expected),
            (self.lower, previous.lower),
            (self.upper, previous.upper),
            (self.score, previous.score),
            (self.direction, previous.direction),
            (self.flagged, previous.is_anomaly),
            (self.run_start, previous.run_start),
            (self.rebaselined_on, previous.rebaselined_on),
        ):
            mine[kept] = theirs[kept]
        # A run accepted on a later day was not accepted yet when `resume_from` is scored; it may not be now.
        self.rebaselined_on[kept] = np.where(self.rebaselined_on[kept] >= resume_from, -1, self.rebaselined_on[kept])
        # The history later days see: flagged days stand in at their expected value until their run is accepted.
        replaced = self.flagged[kept] & (self.rebaselined_on[kept] < 0)
        self.history[kept] = np.where(replaced, self.expected[kept], self.history[kept])
        last = resume_from - 1
        if self.flagged[last] and self.rebaselined_on[last] < 0:
            self.open_run = int(self.run_start[last])


def detect(
    values: np.ndarray,
    first_weekday: int,
    settings: DetectionSettings,
    previous: Detection | None = None,
    resume_from: int = 0,
) -> Detection:
    """Score every day of a series against the baseline of the days before it.

    Scoring is causal: a day's result depends on the days up to it only. So when the values before
    `resume_from` are the ones `previous` was computed from, only the days from there on are scored, and
    the result equals scoring the whole series again.

    Args:
        values: Daily cost, oldest first, on a dense grid (zeros for days without charges).
        first_weekday: Weekday (0 = Monday) of values[0].
        settings: Detector settings.
        previous: An earlier detection of this series, at least `resume_from` days long.
        resume_from: First day to score; the days before it are taken from `previous`.

    Returns:
        The per-day detection.
    """
    state = _State(values, previous, resume_from)
    weekdays = (np.arange(len(values)) + first_weekday) % SEASON
    for day in range(max(settings.min_history_days, resume_from), len(values)):
        _score_day(state, values, weekdays, day, settings)
    episode_start, episode_end = episodes(state.flagged, state.direction)
    return Detection(
        state.expected,
        state.lower,
        state.upper,
        state.score,
        state.direction,
        state.flagged,
        episode_start,
        episode_end,
        state.run_start,
        state.rebaselined_on,
    )


def _score_day(state: _State, values: np.ndarray, weekdays: np.ndarray, day: int, settings: DetectionSettings) -> None:
    start = max(0, day - settings.window_days)
    expected, spread = baseline(
        state.history[start:day], weekdays[start:day], weekdays[day], settings.relative_spread_floor
    )
    # A flat or empty history has no spread; this floor makes a deviation of min_impact score exactly the
    # threshold there, so the impact rule alone decides and no score is infinite.
    spread = max(spread, settings.min_impact / settings.score_threshold)
    deviation = values[day] - expected
    state.expected[day] = expected
    state.lower[day] = expected - settings.score_threshold * spread
    state.upper[day] = expected + settings.score_threshold * spread
    state.score[day] = deviation / spread
    if abs(deviation) < settings.min_impact or not (
        abs(state.score[day]) >= settings.score_threshold or _is_drifting(state.score, day, settings)
    ):
        state.open_run = -1
        return
    state.flagged[day] = True
    state.direction[day] = "spike" if deviation > 0 else "drop"
    state.open_run = day if state.open_run < 0 else state.open_run
    state.run_start[day] = state.open_run
    state.history[day] = expected
    run = slice(state.open_run, day + 1)
    if day - state.open_run + 1 >= settings.rebaseline_days and _has_settled(
        values[run], state.expected[run], settings.relative_spread_floor
    ):
        state.history[run] = values[run]
        state.rebaselined_on[run] = day
        state.open_run = -1


def resume_day(previous_values: np.ndarray, values: np.ndarray, previous: Detection) -> int:
    """The first day whose value differs from the one `previous` was computed from; len(values) if none.

    Args:
        previous_values: The values `previous` scored.
        values: The series now, on the same grid start.
        previous: The earlier detection.

    Returns:
        The day to resume scoring at.
    """
    common = min(len(previous_values), len(values), len(previous))
    changed = np.flatnonzero(previous_values[:common] != values[:common])
    return int(changed[0]) if len(changed) else common


def first_day_to_write(detection: Detection, resume_from: int) -> int:
    """The first day whose stored result a resumed detection may have changed.

    A day before `resume_from` keeps its score, but the episode it belongs to may now end later, and its
    run may now be accepted as the new normal.
    """
    if resume_from == 0 or resume_from > len(detection) or not detection.is_anomaly[resume_from - 1]:
        return resume_from
    last = resume_from - 1
    return int(min(detection.episode_start[last], max(detection.run_start[last], 0)))


def episodes(flagged: np.ndarray, direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last day index of the run of same-direction flagged days each flagged day belongs to.

    Args:
        flagged: Whether each day is anomalous.
        direction: "spike" or "drop" on flagged days.

    Returns:
        (start index, end index) per day; -1 on days that are not flagged.
    """
    start = np.full(len(flagged), -1)
    end = np.full(len(flagged), -1)
    day = 0
    while day < len(flagged):
        if not flagged[day]:
            day += 1
            continue
        last = day
        while last + 1 < len(flagged) and flagged[last + 1] and direction[last + 1] == direction[day]:
            last += 1
        start[day : last + 1] = day
        end[day : last + 1] = last
        day = last + 1
    return start, end
