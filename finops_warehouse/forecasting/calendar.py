"""Charges that follow the calendar, not usage: monthly fees, taxes, amortised commitments, purchases.

They land on fixed days of the month (a support fee or a tax line on the 1st, an amortised commitment
spread evenly over the month), so a usage model would read them as spikes. They are forecast apart from
usage: each future day repeats the same day of the previous month.
"""

from __future__ import annotations

import datetime as dt

import numpy as np


def month_back(day: dt.date) -> dt.date:
    """The same day of the previous month, or its last day when the previous month is shorter.

    Args:
        day: A date.

    Returns:
        The date one calendar month earlier.
    """
    first_of_month = day.replace(day=1)
    previous_month_end = first_of_month - dt.timedelta(days=1)
    return previous_month_end.replace(day=min(day.day, previous_month_end.day))


def scheduled_forecast(history: np.ndarray, start: dt.date, horizon: int) -> np.ndarray:
    """Forecast calendar-driven charges by repeating the previous month, day of month by day of month.

    A future day whose previous-month day is itself in the future repeats that forecast, so a horizon
    reaching past next month still carries a fee on each 1st. Days before the history start cost nothing.

    Args:
        history: Daily scheduled charges, oldest first, the first on `start`.
        start: Date of history[0].
        horizon: Days to forecast after the history.

    Returns:
        One amount per future day.
    """
    extended = np.concatenate([history.astype(float), np.zeros(horizon)])
    for offset in range(len(history), len(history) + horizon):
        source = (month_back(start + dt.timedelta(days=offset)) - start).days
        extended[offset] = extended[source] if source >= 0 else 0.0
    return extended[len(history) :]
