"""Daily series: dense day grids from sparse (day, amount) rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd


def dense_daily(days: pd.Series, amounts: pd.Series, start: dt.date, end: dt.date) -> np.ndarray:
    """Put amounts on every day from start to end, zero where a day has no row.

    A day without a billing row cost nothing: exports only carry days with charges, so a gap is a zero,
    not a missing value.

    Args:
        days: Charge dates of the rows.
        amounts: Amounts (Decimal or float) of the rows; several rows on one day are added.
        start: First day of the grid.
        end: Last day of the grid (inclusive).

    Returns:
        A float array with one value per day.
    """
    size = (end - start).days + 1
    values = np.zeros(max(size, 0))
    if size <= 0 or len(days) == 0:
        return values
    offsets = np.array([(pd.Timestamp(day).date() - start).days for day in days])
    amounts_float = np.array([float(amount) for amount in amounts])
    inside = (offsets >= 0) & (offsets < size)
    np.add.at(values, offsets[inside], amounts_float[inside])
    return values


def day_grid(start: dt.date, size: int) -> list[dt.date]:
    """The dates of a dense grid.

    Args:
        start: First day.
        size: Number of days.

    Returns:
        `size` consecutive dates.
    """
    return [start + dt.timedelta(days=offset) for offset in range(size)]


def as_date(value: object) -> dt.date:
    """A date from whatever the engine returned for a DATE column (date, datetime or Timestamp)."""
    return pd.Timestamp(value).date()


def usage_start(days: pd.Series, usage: pd.Series) -> dt.date:
    """The first day with usage, or the first day at all when there is none.

    Usage models start where usage starts: a monthly fee posted on the 1st before the first usage day
    would otherwise put weeks of zeros in front of the series.

    Args:
        days: Charge dates of a series' rows.
        usage: Usage amounts of those rows.

    Returns:
        The series' first day.
    """
    with_usage = days[usage.astype(float) != 0]
    return as_date((with_usage if len(with_usage) else days).min())
