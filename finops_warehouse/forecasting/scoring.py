"""Anomaly scores for every series of a long daily frame, resuming from the scores stored last time.

Scoring a day needs the weeks before it, and the detector carries state from day to day, so rescoring all
history on every delivery would grow with history. Instead each series resumes at its first day whose cost
differs from the stored one (usually the day just delivered), from the stored state; only the days from
there on, and any earlier day of an episode still open then, are returned to replace the stored rows.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from finops_warehouse.forecasting.anomalies import (
    Detection,
    DetectionSettings,
    detect,
    first_day_to_write,
    resume_day,
)
from finops_warehouse.forecasting.frames import typed_frame
from finops_warehouse.forecasting.series import as_date, day_grid, dense_daily

KEY = "anomaly_series_key"
DTYPES = {
    KEY: "str",
    "charge_date": "datetime64[ns]",
    **dict.fromkeys(["actual_cost", "expected_cost", "lower_bound", "upper_bound", "robust_score"], "float64"),
    "is_flagged": "bool",
    "direction": "str",
    "anomaly_start_date": "datetime64[ns]",
    "anomaly_end_date": "datetime64[ns]",
    "run_start_date": "datetime64[ns]",
    "rebaselined_on": "datetime64[ns]",
    "detector_settings": "str",
}


def settings_fingerprint(settings: DetectionSettings) -> str:
    """The settings as text: stored scores made with other settings are not resumed from."""
    return repr(settings)


def score_frame(daily: pd.DataFrame, settings: DetectionSettings, stored: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows to write for every series: all of them, or with `stored` only those that changed.

    Args:
        daily: One row per series and day with charges: anomaly_series_key, charge_date, actual_cost.
        settings: Detector settings.
        stored: The rows written by earlier runs (DTYPES columns), or None for a full scoring.

    Returns:
        Rows in DTYPES: per series, every day from the first one whose result may have changed.
    """
    if daily.empty:
        return typed_frame([], DTYPES)
    data_through = as_date(daily["charge_date"].max())
    fingerprint = settings_fingerprint(settings)
    previous_by_key = _usable_previous(stored, fingerprint)
    parts = []
    for key, group in daily.groupby(KEY, sort=True):
        start = as_date(group["charge_date"].min())
        values = dense_daily(group["charge_date"], group["actual_cost"], start, data_through)
        previous = previous_by_key.get(key)
        part = _score_series(key, start, values, settings, previous)
        if part is not None:
            parts.append(part.assign(detector_settings=fingerprint))
    if not parts:
        return typed_frame([], DTYPES)
    return pd.concat(parts, ignore_index=True)[list(DTYPES)].astype(DTYPES)


def _usable_previous(stored: pd.DataFrame | None, fingerprint: str) -> dict[str, pd.DataFrame]:
    """Stored rows per series, when they were made with these settings."""
    # Rows from before the settings were stored (an older version of this model) are rescored too.
    if stored is None or stored.empty or "detector_settings" not in stored:
        return {}
    if (stored["detector_settings"] != fingerprint).any():
        return {}
    return {key: group.sort_values("charge_date") for key, group in stored.groupby(KEY, sort=False)}


def _score_series(
    key: str, start: dt.date, values: np.ndarray, settings: DetectionSettings, previous: pd.DataFrame | None
) -> pd.DataFrame | None:
    """Rows to write for one series; None when nothing about it changed."""
    resume_from, earlier = 0, None
    if previous is not None and as_date(previous["charge_date"].iloc[0]) == start and len(previous) <= len(values):
        earlier = _detection(previous, start)
        resume_from = resume_day(previous["actual_cost"].to_numpy(dtype=float), values, earlier)
        if resume_from == len(values):
            return None
    found = detect(values, start.weekday(), settings, earlier, resume_from)
    return _rows(key, start, values, found, first_day_to_write(found, resume_from))


def _detection(previous: pd.DataFrame, start: dt.date) -> Detection:
    """A stored series' rows back as the Detection they were written from."""
    flagged = previous["is_flagged"].to_numpy(dtype=bool)
    return Detection(
        expected=previous["expected_cost"].to_numpy(dtype=float),
        lower=previous["lower_bound"].to_numpy(dtype=float),
        upper=previous["upper_bound"].to_numpy(dtype=float),
        score=previous["robust_score"].to_numpy(dtype=float),
        direction=np.where(flagged, previous["direction"].fillna("").to_numpy(dtype=object), ""),
        is_anomaly=flagged,
        episode_start=_day_index(previous["anomaly_start_date"], start),
        episode_end=_day_index(previous["anomaly_end_date"], start),
        run_start=_day_index(previous["run_start_date"], start),
        rebaselined_on=_day_index(previous["rebaselined_on"], start),
    )


def _day_index(dates: pd.Series, start: dt.date) -> np.ndarray:
    """Days since `start`, -1 where there is no date."""
    return np.array([-1 if pd.isna(day) else (as_date(day) - start).days for day in dates], dtype=int)


def _rows(key: str, start: dt.date, values: np.ndarray, found: Detection, first: int) -> pd.DataFrame:
    dates = day_grid(start, len(values))
    kept = slice(first, len(values))

    def day(indexes: np.ndarray) -> list[dt.date | None]:
        return [dates[index] if index >= 0 else None for index in indexes[kept]]

    return pd.DataFrame(
        {
            KEY: key,
            "charge_date": dates[first:],
            "actual_cost": values[kept],
            "expected_cost": found.expected[kept],
            "lower_bound": found.lower[kept],
            "upper_bound": found.upper[kept],
            "robust_score": found.score[kept],
            "is_flagged": found.is_anomaly[kept],
            "direction": np.where(found.is_anomaly[kept], found.direction[kept], None),
            "anomaly_start_date": day(found.episode_start),
            "anomaly_end_date": day(found.episode_end),
            "run_start_date": day(found.run_start),
            "rebaselined_on": day(found.rebaselined_on),
        }
    )
