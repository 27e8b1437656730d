"""The calendar of a demo run: the day window, billing periods and when each export was delivered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

UTC = dt.UTC


@dataclass(frozen=True)
class Period:
    """A calendar-month billing period that overlaps the window.

    Attributes:
        index: Position among the window's periods (0 = oldest).
        start: First day of the month.
        end: First day of the next month (exclusive bound, as AWS writes it).
        first_day: Window day index of the period's first day inside the window.
        last_day: Window day index of the period's last day inside the window (inclusive).
        is_open: True for the month that contains the window's end (not invoiced yet).
    """

    index: int
    start: dt.date
    end: dt.date
    first_day: int
    last_day: int
    is_open: bool

    @property
    def label(self) -> str:
        """'YYYY-MM', as used in the expected totals."""
        return self.start.strftime("%Y-%m")

    @property
    def compact(self) -> str:
        """'YYYYMM', as GCP writes invoice.month."""
        return self.start.strftime("%Y%m")

    @property
    def days_in_month(self) -> int:
        """Number of calendar days in the month."""
        return (self.end - self.start).days

    @property
    def last_date(self) -> dt.date:
        """The month's inclusive last day (Azure's billingPeriodEndDate)."""
        return self.end - dt.timedelta(days=1)


@dataclass(frozen=True)
class Delivery:
    """One delivery (assembly, execution, run or extract) of a period's month-to-date data.

    Attributes:
        period: The billing period.
        last_day: Last window day index the delivery covers (may precede period.first_day when the
            delivery holds only month-start charges).
        partial_last_day: True when the provider had not finished processing the last day, so its
            amounts are lower than in the next delivery (a restatement).
        delivered_at: When the provider wrote it (UTC).
        current: True if this is the delivery a loader must use.
    """

    period: Period
    last_day: int
    partial_last_day: bool
    delivered_at: dt.datetime
    current: bool


class Window:
    """The `days` days ending on `end_date` inclusive, with per-day calendar helpers."""

    def __init__(self, end_date: dt.date, days: int) -> None:
        """Build the window.

        Args:
            end_date: Last day with data (inclusive).
            days: Number of days.
        """
        self.end_date = end_date
        self.days = days
        self.start_date = end_date - dt.timedelta(days=days - 1)
        self.dates = [self.start_date + dt.timedelta(days=i) for i in range(days)]
        self.weekday = np.array([d.weekday() for d in self.dates], dtype=np.int8)
        self.ordinal = np.array([d.toordinal() for d in self.dates], dtype=np.int64)
        self.periods = self._periods()

    def _periods(self) -> list[Period]:
        periods: list[Period] = []
        month = self.start_date.replace(day=1)
        while month <= self.end_date:
            nxt = (month + dt.timedelta(days=32)).replace(day=1)
            first = max(month, self.start_date)
            last = min(nxt - dt.timedelta(days=1), self.end_date)
            periods.append(
                Period(
                    index=len(periods),
                    start=month,
                    end=nxt,
                    first_day=(first - self.start_date).days,
                    last_day=(last - self.start_date).days,
                    is_open=nxt > self.end_date,
                )
            )
            month = nxt
        return periods

    def period_of_day(self, day: int) -> Period:
        """Return the period containing a window day.

        Args:
            day: Window day index.

        Returns:
            The period.
        """
        return next(p for p in self.periods if p.first_day <= day <= p.last_day)

    def timestamp(self, day: int) -> dt.datetime:
        """Midnight UTC at the start of a window day (the day may lie outside the window).

        Args:
            day: Window day index.

        Returns:
            Aware datetime.
        """
        return dt.datetime.combine(self.start_date + dt.timedelta(days=day), dt.time(), UTC)

    def deliveries(self, period: Period, salt: int) -> list[Delivery]:
        """List a period's deliveries, oldest first.

        Closed months have one final delivery. The open month has an older delivery that stops one day
        earlier (with that last day still incomplete) and the current one.

        Args:
            period: The billing period.
            salt: Small integer that varies the delivery minute between providers.

        Returns:
            The deliveries; exactly one has current=True.
        """
        minute, second = (7 + 11 * salt + 3 * period.index) % 60, (13 * salt + 29) % 60
        if not period.is_open:
            day = min(period.end + dt.timedelta(days=2), self.end_date + dt.timedelta(days=1))
            at = dt.datetime.combine(day, dt.time(6, minute, second), UTC)
            return [Delivery(period, period.last_day, False, at, True)]
        today = self.end_date + dt.timedelta(days=1)
        older_at = dt.datetime.combine(self.end_date, dt.time(5, minute, second), UTC)
        current_at = dt.datetime.combine(today, dt.time(5, minute, second), UTC)
        return [
            Delivery(period, period.last_day - 1, True, older_at, False),
            Delivery(period, period.last_day, False, current_at, True),
        ]


def iso_z(moment: dt.datetime | dt.date, millis: bool = False) -> str:
    """Format a UTC instant as '2026-08-01T00:00:00Z' (or with '.000Z').

    Args:
        moment: Aware datetime or date (midnight).
        millis: Include milliseconds.

    Returns:
        The text.
    """
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, dt.time(), UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.000Z" if millis else f"{text}Z"
