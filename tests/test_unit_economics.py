"""Unit economics on the default demo: exact costs, late events, and no personal data anywhere (issue 5)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import duckdb
from conftest import DEMO_END_DATE, query

from finops_warehouse.dbt import run_dbt
from ingestion.pipeline import run_load

PRODUCTS = {"storefront", "payments-api", "search-api", "analytics-suite"}


def test_every_product_has_daily_unit_costs_with_volumes_and_margin(demo_warehouse: tuple[Path, Path]) -> None:
    rows = query(
        demo_warehouse[0],
        """
        select product, count(*), sum(transactions), sum(api_calls), sum(case when transactions > 0 then 1 else 0 end),
               count(cost_per_transaction), count(gross_margin_ratio), min(allocated_cost)
        from marts.unit_costs_daily group by 1 order by 1
        """,
    )
    by_product = {row[0]: row[1:] for row in rows}
    assert set(by_product) == PRODUCTS
    days, transactions, api_calls, selling_days, with_unit_cost, with_margin, cheapest = by_product["storefront"]
    assert days >= 60 and transactions > 0 and api_calls > 0 and cheapest > 0
    # A day with cost but no sale (a fee dated before the first event) has no unit cost, not an infinite one.
    assert with_unit_cost == selling_days == with_margin and selling_days >= days - 1
    # search-api has API calls only: no transactions, so no cost per transaction and no margin at all.
    assert by_product["search-api"][1] == 0 and by_product["search-api"][4] == 0 and by_product["search-api"][5] == 0


def test_a_closed_months_product_costs_add_up_exactly_to_their_teams_shares(
    demo_warehouse: tuple[Path, Path],
) -> None:
    [(from_products, from_teams)] = query(
        demo_warehouse[0],
        """
        select
            (select sum(allocated_cost) from marts.unit_costs_daily
             where activity_date >= date '2026-09-01' and activity_date < date '2026-10-01'),
            (select sum(cast(cast(a.allocated_effective_cost * a.x_ExchangeRate as decimal(38, 12)) * s.share
                             as decimal(38, 12)))
             from marts.allocated_costs as a
             inner join seeds.product_cost_shares as s on a.team = s.team
             where a.charge_date >= date '2026-09-01' and a.charge_date < date '2026-10-01')
        """,
    )
    # Fees dated 2026-09-01 spread over September only, so the month holds exactly its teams' shares.
    assert abs(from_products - from_teams) <= Decimal("0.000001"), (from_products, from_teams)


def test_monthly_active_users_are_distinct_over_the_month_not_summed(demo_warehouse: tuple[Path, Path]) -> None:
    [(monthly, summed_daily)] = query(
        demo_warehouse[0],
        """
        select m.active_users, (select sum(d.active_users) from marts.unit_costs_daily as d
                                where d.product = m.product and date_trunc('month', d.activity_date) = m.activity_month)
        from marts.unit_costs_monthly as m
        where m.product = 'storefront' and m.activity_month = date '2026-09-01'
        """,
    )
    assert 0 < monthly < summed_daily


def test_the_trend_view_answers_for_every_product_and_metric(demo_warehouse: tuple[Path, Path]) -> None:
    rows = query(
        demo_warehouse[0], "select product, volume_metric, weeks, elasticity, trend from marts.unit_cost_trends"
    )
    assert {product for product, *_ in rows} == PRODUCTS
    assert all(weeks >= 10 and elasticity is not None for _, _, weeks, elasticity, _ in rows)
    assert {trend for *_, trend in rows} <= {
        "unit cost falls as volume grows", "cost grows in step with volume", "unit cost rises as volume grows"
    }  # fmt: skip


def unit_cost_rows(warehouse: Path) -> dict[tuple[str, dt.date], tuple]:
    rows = query(warehouse, "select * from marts.unit_costs_daily")
    return {(row[0], row[4]): row for row in rows}


def test_events_arriving_a_day_late_update_their_day_and_only_it(
    demo_warehouse: tuple[Path, Path], tmp_path: Path, monkeypatch
) -> None:
    warehouse = tmp_path / "warehouse" / "finops.duckdb"
    warehouse.parent.mkdir()
    warehouse.write_bytes(demo_warehouse[0].read_bytes())
    monkeypatch.setenv("FINOPS_WAREHOUSE", str(warehouse))
    before = unit_cost_rows(warehouse)

    late_day = DEMO_END_DATE - dt.timedelta(days=1)
    folder = tmp_path / "late" / f"date={DEMO_END_DATE + dt.timedelta(days=1)}"
    folder.mkdir(parents=True)
    late = [
        {
            "event_id": f"late-{index}",
            "event_type": "transaction",
            "occurred_at": f"{late_day}T23:{index:02d}:00Z",
            "product": "payments-api",
            "business_unit": "commerce",
            "quantity": 1,
            "revenue": "10.00",
            "currency": "USD",
            "user_id": f"late-user-{index}",
            "user_email": f"late{index}@example.net",
        }
        for index in range(3)
    ]
    (folder / "events-000.jsonl").write_text("".join(json.dumps(event) + "\n" for event in late))
    run_load("events", str(folder.parent), warehouse)
    run_dbt(["build", "-s", "int_events__daily_volumes+"], warehouse, quiet=True)

    after = unit_cost_rows(warehouse)
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert changed == {("payments-api", late_day)}
    transactions = 7  # the column position in unit_costs_daily
    assert after[("payments-api", late_day)][transactions] == before[("payments-api", late_day)][transactions] + 3


def test_no_clear_personal_value_reaches_any_table_or_view_of_the_built_demo(
    demo_warehouse: tuple[Path, Path],
) -> None:
    warehouse, demo_data = demo_warehouse
    first_file = sorted((demo_data / "events").rglob("*.jsonl"))[0]
    people = [json.loads(line) for line in first_file.read_text().splitlines()[:200]]
    clear = sorted({p["user_id"] for p in people if p.get("user_id")})[:5]
    clear += sorted({p["user_email"] for p in people if p.get("user_email")})[:5]
    assert len(clear) == 10 and sum("@" in value for value in clear) == 5
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, list(column_name) from information_schema.columns "
            "where data_type = 'VARCHAR' and table_schema not in ('information_schema', 'pg_catalog') "
            "group by 1, 2"
        ).fetchall()
        assert {schema for schema, *_ in columns} >= {"raw_events", "staging", "intermediate", "marts", "meta"}
        for schema, table, names in columns:
            condition = " or ".join(f'contains("{name}", ?)' for name in names for _ in clear)
            values = [value for _ in names for value in clear]
            hits = con.execute(f'select count(*) from "{schema}"."{table}" where {condition}', values).fetchall()
            assert hits == [(0,)], f"a clear personal value in {schema}.{table}"
