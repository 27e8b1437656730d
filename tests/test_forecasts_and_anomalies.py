"""Forecasts, anomaly flags, their scores and alerts on the default demo (issue 6's acceptance)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner
from conftest import DEMO_END_DATE, query

from finops_warehouse.alerts import alerts_command


def test_total_spend_forecast_beats_seasonal_naive_by_a_fifth_with_calibrated_intervals(
    demo_warehouse: tuple[Path, Path],
) -> None:
    rows = query(
        demo_warehouse[0],
        """
        select model, is_selected, mape, coverage_80, horizon_days, origins
        from marts.forecast_accuracy where series_type = 'total'
        """,
    )
    by_model = {
        model: (selected, mape, coverage, horizon, origins)
        for model, selected, mape, coverage, horizon, origins in rows
    }
    assert set(by_model) == {"seasonal_naive", "ets", "theta"}
    [(chosen, (_, mape, coverage, horizon, origins))] = [(m, v) for m, v in by_model.items() if v[0]]
    assert horizon == 30 and origins >= 2
    assert mape <= 0.8 * by_model["seasonal_naive"][1], (chosen, mape, by_model["seasonal_naive"][1])
    assert 0.75 <= coverage <= 0.85, (chosen, coverage)


def test_every_series_is_forecast_daily_through_the_end_of_next_month(demo_warehouse: tuple[Path, Path]) -> None:
    series = query(
        demo_warehouse[0],
        """
        select series_type, count(distinct series_key || currency), min(forecast_date), max(forecast_date),
               count(*) / count(distinct series_key || currency)
        from marts.cost_forecasts group by 1 order by 1
        """,
    )
    types = {row[0]: row[1:] for row in series}
    assert set(types) == {"business_unit", "provider", "service_category", "team", "total"}
    assert types["provider"][0] == 3 and types["total"][0] == 1
    for _, first, last, days_per_series in types.values():
        assert first == DEMO_END_DATE + dt.timedelta(days=1)
        # The data ends with October, so "next month" is November.
        assert last == dt.date(2026, 11, 30)
        assert days_per_series == 30


def test_open_month_budgets_get_a_forecast_month_end(demo_warehouse: tuple[Path, Path]) -> None:
    rows = query(
        demo_warehouse[0],
        """
        select scope_type, count(*), count(forecast_month_end_cost),
               bool_and(forecast_month_end_cost = actual_effective_cost_mtd)
        from marts.budget_vs_actual
        where charge_month = date '2026-10-01' and actual_effective_cost_mtd <> 0
        group by 1
        """,
    )
    # The demo ends on the month's last day, so the month is closed and its forecast is its actual.
    assert {scope: (total, forecast, equal) for scope, total, forecast, equal in rows} == {
        scope: (total, total, True) for scope, total, *_ in rows
    }


def test_anomaly_detection_scores_at_least_point_nine_against_the_demo_labels(
    demo_warehouse: tuple[Path, Path],
) -> None:
    [(labels, detected, precision, recall, spikes, first_day, leaks, slowest)] = query(
        demo_warehouse[0],
        """
        select labels, labels_detected, precision, recall, spikes, spikes_flagged_first_day, leaks,
               slowest_leak_days_to_detect
        from marts.anomaly_detection_scores
        """,
    )
    assert labels == 6 and detected == 6
    assert precision >= 0.9 and recall >= 0.9
    assert first_day == spikes == 4
    assert leaks == 1 and slowest <= 5


def test_weekends_and_month_start_fees_raise_no_flags(demo_warehouse: tuple[Path, Path]) -> None:
    unlabelled = query(
        demo_warehouse[0],
        """
        select anomaly_id from marts.cost_anomalies
        where is_anomaly
          and anomaly_id not in (
              select a.anomaly_id from marts.cost_anomalies as a
              inner join marts.anomaly_label_matches as m
                  on a.provider = m.provider and a.service_name = m.service_name and a.team = m.team
                  and a.charge_date between m.start_date and m.end_date
          )
        """,
    )
    assert unlabelled == []
    month_starts = query(
        demo_warehouse[0],
        "select count(*) from marts.cost_anomalies where is_anomaly and extract(day from charge_date) = 1",
    )
    assert month_starts == [(0,)]


class Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Webhook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    Webhook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def test_alerts_send_each_demo_anomaly_once(demo_warehouse: tuple[Path, Path], tmp_path: Path, webhook: str) -> None:
    warehouse = tmp_path / "copy.duckdb"
    warehouse.write_bytes(demo_warehouse[0].read_bytes())
    first = CliRunner().invoke(alerts_command, ["--webhook", webhook], obj=warehouse)
    assert first.exit_code == 0, first.output
    assert len(Webhook.received) == 6
    assert all("anomalies?anomaly=" in json.dumps(payload) for payload in Webhook.received)
    second = CliRunner().invoke(alerts_command, ["--webhook", webhook], obj=warehouse)
    assert second.exit_code == 0, second.output
    assert len(Webhook.received) == 6
