"""Candidate forecasters for one daily series, each with 80% and 95% prediction intervals.

Every forecaster takes the history as a float array and a horizon in days, and returns a Forecast. They
differ in what they assume: the seasonal-naive baseline repeats last week, ETS smooths level, damped
trend and weekly season, Theta drifts a deseasonalised line. The backtest picks one per series.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.forecasting.theta import ThetaModel

SEASON = 7
Z80 = 1.2815515655446004
Z95 = 1.959963984540054


class SeriesTooShort(ValueError):
    """The history is too short for the model to be fitted."""


@dataclass(frozen=True)
class Forecast:
    """Point forecast and interval bounds, one value per future day."""

    mean: np.ndarray
    lower_80: np.ndarray
    upper_80: np.ndarray
    lower_95: np.ndarray
    upper_95: np.ndarray

    def shifted(self, offset: np.ndarray) -> Forecast:
        """The same forecast plus a known amount per day (interval widths unchanged).

        Args:
            offset: Amount to add per day.

        Returns:
            The shifted forecast.
        """
        return Forecast(*(values + offset for values in self.bands()))

    def calibrated(self, scale_80: float, scale_95: float) -> Forecast:
        """The same point forecast with each interval's half-width multiplied by its backtest scale.

        Args:
            scale_80: Factor for the 80% interval.
            scale_95: Factor for the 95% interval.

        Returns:
            The recalibrated forecast.
        """
        half_80 = (self.upper_80 - self.lower_80) / 2 * scale_80
        # The two scales are fitted apart on a few cuts; on a short history they can cross, and a 95%
        # interval narrower than the 80% one would be a contradiction, so it is at least as wide.
        half_95 = np.maximum((self.upper_95 - self.lower_95) / 2 * scale_95, half_80)
        return Forecast(self.mean, self.mean - half_80, self.mean + half_80, self.mean - half_95, self.mean + half_95)

    def bands(self) -> tuple[np.ndarray, ...]:
        """(mean, lower_80, upper_80, lower_95, upper_95)."""
        return self.mean, self.lower_80, self.upper_80, self.lower_95, self.upper_95


def _normal_bands(mean: np.ndarray, sd: np.ndarray) -> Forecast:
    return Forecast(mean, mean - Z80 * sd, mean + Z80 * sd, mean - Z95 * sd, mean + Z95 * sd)


def _constant(value: float, horizon: int) -> Forecast:
    mean = np.full(horizon, value)
    return Forecast(mean, mean, mean, mean, mean)


def seasonal_naive(history: np.ndarray, horizon: int) -> Forecast:
    """Repeat the last week; the spread grows with the number of weeks ahead.

    Args:
        history: Daily values, oldest first.
        horizon: Days to forecast.

    Returns:
        The forecast.

    Raises:
        SeriesTooShort: Fewer than one week of history.
    """
    if len(history) < SEASON:
        raise SeriesTooShort(f"seasonal naive needs {SEASON} days, got {len(history)}")
    steps = np.arange(horizon)
    mean = history[-SEASON:][steps % SEASON]
    weekly_changes = history[SEASON:] - history[:-SEASON]
    sigma = float(np.std(weekly_changes, ddof=1)) if len(weekly_changes) > 1 else 0.0
    weeks_ahead = steps // SEASON + 1
    return _normal_bands(mean.astype(float), sigma * np.sqrt(weeks_ahead))


def ets(history: np.ndarray, horizon: int) -> Forecast:
    """ETS with additive errors, damped additive trend and weekly seasonality.

    The season is multiplicative when the series is strictly positive (weekend dips scale with the
    level as spend grows) and additive otherwise, where a ratio is undefined.

    Args:
        history: Daily values, oldest first.
        horizon: Days to forecast.

    Returns:
        The forecast.

    Raises:
        SeriesTooShort: Fewer than two weeks of history.
    """
    if len(history) < 2 * SEASON:
        raise SeriesTooShort(f"ETS needs {2 * SEASON} days, got {len(history)}")
    if np.ptp(history[-2 * SEASON :]) == 0:
        return _constant(float(history[-1]), horizon)
    seasonal = "mul" if history.min() > 0 else "add"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = ETSModel(
            pd.Series(history), error="add", trend="add", damped_trend=True, seasonal=seasonal, seasonal_periods=SEASON
        ).fit(disp=False)
        # One prediction serves both bands. A multiplicative season has no analytic interval, so statsmodels
        # simulates paths; a fixed generator makes the same history give the same bands on every build.
        prediction = fitted.get_prediction(
            start=len(history), end=len(history) + horizon - 1, rng=np.random.default_rng(0)
        )
        band_80 = prediction.summary_frame(alpha=0.2)
        band_95 = prediction.summary_frame(alpha=0.05)
    return Forecast(
        band_80["mean"].to_numpy(),
        band_80["pi_lower"].to_numpy(),
        band_80["pi_upper"].to_numpy(),
        band_95["pi_lower"].to_numpy(),
        band_95["pi_upper"].to_numpy(),
    )


def theta(history: np.ndarray, horizon: int) -> Forecast:
    """The Theta method on the weekly-deseasonalised series.

    Args:
        history: Daily values, oldest first.
        horizon: Days to forecast.

    Returns:
        The forecast.

    Raises:
        SeriesTooShort: Fewer than two weeks of history.
    """
    if len(history) < 2 * SEASON:
        raise SeriesTooShort(f"Theta needs {2 * SEASON} days, got {len(history)}")
    if np.ptp(history[-2 * SEASON :]) == 0:
        return _constant(float(history[-1]), horizon)
    index = pd.date_range("2000-01-03", periods=len(history), freq="D")
    method = "multiplicative" if history.min() > 0 else "additive"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = ThetaModel(pd.Series(history, index=index), period=SEASON, method=method).fit()
        mean = fitted.forecast(horizon).to_numpy()
        band_80 = fitted.prediction_intervals(horizon, alpha=0.2)
        band_95 = fitted.prediction_intervals(horizon, alpha=0.05)
    return Forecast(
        mean,
        band_80["lower"].to_numpy(),
        band_80["upper"].to_numpy(),
        band_95["lower"].to_numpy(),
        band_95["upper"].to_numpy(),
    )


def level(history: np.ndarray, horizon: int) -> Forecast:
    """The mean of what there is: the fallback for a series shorter than one week.

    Args:
        history: Daily values, oldest first (at least one).
        horizon: Days to forecast.

    Returns:
        The forecast.

    Raises:
        SeriesTooShort: No history at all.
    """
    if len(history) == 0:
        raise SeriesTooShort("no history")
    sigma = float(np.std(history, ddof=1)) if len(history) > 1 else 0.0
    return _normal_bands(np.full(horizon, float(np.mean(history))), np.full(horizon, sigma))


Forecaster = Callable[[np.ndarray, int], Forecast]
CANDIDATES: dict[str, Forecaster] = {"seasonal_naive": seasonal_naive, "ets": ets, "theta": theta}
BASELINE = "seasonal_naive"


def fallback_model(history_days: int) -> str:
    """The model to use when the backtest could not choose.

    Args:
        history_days: Length of the history.

    Returns:
        A key of CANDIDATES, or "level" for less than a week.
    """
    return BASELINE if history_days >= SEASON else "level"


def forecaster(name: str) -> Forecaster:
    """Look a forecaster up by name (the CANDIDATES plus "level")."""
    return level if name == "level" else CANDIDATES[name]
