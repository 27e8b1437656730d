"""Rolling-origin backtest: how each candidate model would have done, and which one a series gets.

The history is cut at several origins a week apart, ending one horizon before the last day; each model
forecasts the horizon after each cut, and its errors against what really happened are pooled per model.
A series' forecast is the usage model plus the calendar forecast of its scheduled charges, and it is
scored on the total, which is what finance sees.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from finops_warehouse.forecasting.calendar import scheduled_forecast
from finops_warehouse.forecasting.models import (
    BASELINE,
    CANDIDATES,
    Forecast,
    SeriesTooShort,
    fallback_model,
    forecaster,
)
from finops_warehouse.forecasting.series import as_date, dense_daily, usage_start

SMAPE_TIE = 1e-9


@dataclass(frozen=True)
class DailySeries:
    """One series on a dense day grid, split into usage and calendar-driven (scheduled) charges."""

    start: dt.date
    usage: np.ndarray
    scheduled: np.ndarray

    @property
    def total(self) -> np.ndarray:
        """Usage plus scheduled, per day."""
        return self.usage + self.scheduled

    def __len__(self) -> int:
        return len(self.usage)

    def head(self, days: int) -> DailySeries:
        """The first `days` days."""
        return DailySeries(self.start, self.usage[:days], self.scheduled[:days])

    def tail(self, days: int) -> DailySeries:
        """The last `days` days (all of them when the series is shorter)."""
        dropped = max(len(self) - days, 0)
        return DailySeries(self.start + dt.timedelta(days=dropped), self.usage[dropped:], self.scheduled[dropped:])


def from_rows(days: pd.Series, usage: pd.Series, scheduled: pd.Series, data_through: dt.date) -> DailySeries:
    """A series on a dense grid from its sparse daily rows, starting where its usage starts.

    Args:
        days: Charge dates of the rows.
        usage: Usage amounts of the rows.
        scheduled: Scheduled amounts of the rows.
        data_through: Last day of the grid (the latest day of data over all series).

    Returns:
        The series.
    """
    start = usage_start(days, usage)
    return DailySeries(
        start, dense_daily(days, usage, start, data_through), dense_daily(days, scheduled, start, data_through)
    )


def forecast_series(series: DailySeries, model: str, horizon: int) -> Forecast:
    """Forecast a series' total with one usage model plus the calendar forecast of its scheduled charges.

    Args:
        series: The history.
        model: A CANDIDATES key or "level".
        horizon: Days to forecast.

    Returns:
        The forecast of the total.
    """
    usage = forecaster(model)(series.usage, horizon)
    return usage.shifted(scheduled_forecast(series.scheduled, series.start, horizon))


def origins(days: int, horizon: int, max_origins: int, step: int, min_train: int) -> list[int]:
    """Cut points for the backtest, newest first.

    Args:
        days: Length of the series.
        horizon: Days forecast after each cut.
        max_origins: At most this many cuts.
        step: Days between cuts.
        min_train: Shortest history a cut may leave.

    Returns:
        History lengths to forecast from; empty when the series is too short for one cut.
    """
    last = days - horizon
    return [cut for cut in range(last, min_train - 1, -step)][:max_origins] if last >= min_train else []


def _mean(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(np.mean(finite)) if len(finite) else None


def _interval_ratio(error: np.ndarray, half_width: np.ndarray) -> np.ndarray:
    """Error as a multiple of the nominal half-width; a zero-width interval only holds an exact hit."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(half_width > 0, error / half_width, np.where(error == 0, 0.0, np.inf))


@dataclass(frozen=True)
class _Cut:
    """One origin's forecast errors: absolute errors and their ratios to the nominal half-widths."""

    actual: np.ndarray
    predicted: np.ndarray
    error: np.ndarray
    ratio_80: np.ndarray
    ratio_95: np.ndarray


def _cut(actual: np.ndarray, forecast: Forecast) -> _Cut:
    error = np.abs(actual - forecast.mean)
    return _Cut(
        actual,
        forecast.mean,
        error,
        _interval_ratio(error, (forecast.upper_80 - forecast.lower_80) / 2),
        _interval_ratio(error, (forecast.upper_95 - forecast.lower_95) / 2),
    )


def interval_scale(ratios: np.ndarray, level: float) -> float:
    """The factor that makes a nominal interval hold `level` of the given errors (split conformal).

    Args:
        ratios: Errors as multiples of their nominal half-widths.
        level: Target coverage, e.g. 0.8.

    Returns:
        The scale for the nominal half-width; 1.0 when there is nothing to calibrate on.
    """
    finite = ratios[np.isfinite(ratios)]
    if len(finite) == 0 or len(finite) < len(ratios) * level:
        return 1.0
    return float(np.quantile(ratios, level, method="inverted_cdf"))


def _held_out_coverage(cuts: list[_Cut], level: float, ratio: str) -> float | None:
    """Coverage of calibrated intervals, each origin judged by a scale fitted on the other origins only.

    With a single origin there is nothing to hold out, so its nominal coverage is reported.
    """
    hits = []
    for held_out, cut in enumerate(cuts):
        others = [getattr(other, ratio) for index, other in enumerate(cuts) if index != held_out]
        scale = interval_scale(np.concatenate(others), level) if others else 1.0
        hits.append(getattr(cut, ratio) <= scale)
    return _mean(np.concatenate(hits).astype(float)) if hits else None


@dataclass(frozen=True)
class Accuracy:
    """Pooled backtest errors of one model on one series. Ratios are fractions (0.05 = 5%).

    Coverage is of the calibrated intervals and out of sample: each origin's hits are counted with a
    scale fitted on the other origins. The scales fitted on all origins widen or narrow the final
    forecast's intervals.
    """

    model: str
    origins: int
    horizon_days: int
    points: int
    mape: float | None
    smape: float | None
    mae: float | None
    coverage_80: float | None
    coverage_95: float | None
    interval_scale_80: float
    interval_scale_95: float


def _accuracy(model: str, horizon: int, cuts: list[_Cut]) -> Accuracy:
    actual = np.concatenate([cut.actual for cut in cuts])
    predicted = np.concatenate([cut.predicted for cut in cuts])
    error = np.concatenate([cut.error for cut in cuts])
    with np.errstate(divide="ignore", invalid="ignore"):
        ape = np.where(actual != 0, error / np.abs(actual), np.nan)
        denominator = np.abs(actual) + np.abs(predicted)
        sape = np.where(denominator != 0, 2 * error / denominator, 0.0)
    return Accuracy(
        model=model,
        origins=len(cuts),
        horizon_days=horizon,
        points=len(actual),
        mape=_mean(ape),
        smape=_mean(sape),
        mae=_mean(error),
        coverage_80=_held_out_coverage(cuts, 0.8, "ratio_80"),
        coverage_95=_held_out_coverage(cuts, 0.95, "ratio_95"),
        interval_scale_80=interval_scale(np.concatenate([cut.ratio_80 for cut in cuts]), 0.8),
        interval_scale_95=interval_scale(np.concatenate([cut.ratio_95 for cut in cuts]), 0.95),
    )


def backtest(
    series: DailySeries,
    horizon: int,
    max_origins: int = 4,
    step: int = 7,
    min_train: int = 28,
    max_train: int | None = None,
) -> list[Accuracy]:
    """Backtest every candidate model on one series.

    A series too short for the full horizon is tested on what it has (at least a week); a model that
    cannot be fitted at some origin is left out rather than scored on fewer cuts than its rivals.

    Args:
        series: The whole history.
        horizon: Days forecast after each cut.
        max_origins: At most this many cuts.
        step: Days between cuts.
        min_train: Shortest history a cut may leave.
        max_train: Each cut's model sees at most this many days before the cut (all when None), as the
            forecast itself does.

    Returns:
        One Accuracy per model that could be scored (empty when no cut fits).
    """
    horizon = min(horizon, len(series) - min_train)
    cuts = origins(len(series), horizon, max_origins, step, min_train) if horizon >= 7 else []
    results = []
    for model in CANDIDATES:
        try:
            scored = [
                _cut(
                    series.total[cut : cut + horizon],
                    forecast_series(_training(series, cut, max_train), model, horizon),
                )
                for cut in cuts
            ]
        except SeriesTooShort:
            continue
        if scored:
            results.append(_accuracy(model, horizon, scored))
    return results


def _training(series: DailySeries, cut: int, max_train: int | None) -> DailySeries:
    history = series.head(cut)
    return history if max_train is None else history.tail(max_train)


def choose_model(results: list[Accuracy], history_days: int) -> str:
    """The model with the lowest sMAPE; the baseline wins ties, so complexity must earn its place.

    Args:
        results: Backtest results of one series.
        history_days: Length of the series (for the fallback when nothing was scored).

    Returns:
        A model name.
    """
    scored = [result for result in results if result.smape is not None]
    if not scored:
        return fallback_model(history_days)
    best = min(scored, key=lambda result: (result.smape, result.model != BASELINE))
    baseline = next((result for result in scored if result.model == BASELINE), None)
    if baseline is not None and baseline.smape is not None and baseline.smape - best.smape <= SMAPE_TIE:
        return BASELINE
    return best.model


def keys_to_backtest(
    keys: list[tuple], stored: pd.DataFrame | None, key_columns: list[str], data_through: dt.date, refresh_days: int
) -> list[tuple]:
    """The series whose backtest must run now: all of them when the stored one is due, else the new ones.

    Backtesting fits every candidate at every cut, the most expensive step of a build, while the choice of
    model changes slowly. So a stored backtest is kept for `refresh_days` days of new data; series it does
    not cover yet are backtested at once.

    Args:
        keys: Every series key now.
        stored: The stored backtest rows (with key_columns and data_through), or None.
        key_columns: The columns of a key.
        data_through: The latest day of data now.
        refresh_days: Days of new data after which the whole backtest runs again.

    Returns:
        The keys to backtest.
    """
    if stored is None or stored.empty:
        return keys
    backtested_through = as_date(stored["data_through"].min())
    if (data_through - backtested_through).days >= refresh_days or data_through < backtested_through:
        return keys
    known = set(stored[key_columns].itertuples(index=False, name=None))
    return [key for key in keys if key not in known]
