"""Allocation and showback on the demo warehouse: seeds agree with the demo company, every cent is conserved
(and the conservation test can fail), a rule change touches only the rows it covers, the analyses run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import REPO_ROOT, query

from finops_warehouse.dbt import DbtFailed, run_dbt
from finops_warehouse.paths import WAREHOUSE_ENV
from scripts.generate_org_seeds import seed_texts

DBT = Path(sys.executable).with_name("dbt")
PROJECT_PARTS = ("dbt_project.yml", "profiles.yml", "macros", "models", "seeds")
OWNED_METHODS = ("direct_tag", "virtual_tag", "sub_account_owner")


def test_org_seeds_are_generated_from_the_demo_company() -> None:
    for path, expected in seed_texts().items():
        assert path.read_text(encoding="utf-8") == expected, (
            f"{path.relative_to(REPO_ROOT)} disagrees with finops_warehouse/demo/company.py; "
            "run .venv/bin/python scripts/generate_org_seeds.py"
        )


def test_every_cent_is_allocated_per_day_provider_and_billing_account(demo_warehouse: tuple[Path, Path]) -> None:
    warehouse, _ = demo_warehouse
    grain = "x_SourceProvider, BillingAccountId, BillingCurrency"
    allocated = query(
        warehouse,
        f"select {grain}, charge_date, sum(allocated_billed_cost), sum(allocated_effective_cost) "
        f"from marts.allocated_costs group by all",
    )
    source = query(
        warehouse,
        f"select {grain}, cast(ChargePeriodStart as date), sum(BilledCost), sum(EffectiveCost) "
        f"from marts.focus_costs group by all",
    )
    assert len(source) > 300
    assert sorted(allocated) == sorted(source)
    assert all(isinstance(row[-1], Decimal) for row in allocated)


def test_every_row_names_its_rule_and_splits_use_every_method(demo_warehouse: tuple[Path, Path]) -> None:
    warehouse, _ = demo_warehouse
    methods = dict(query(warehouse, "select allocation_method, count(*) from marts.allocated_costs group by 1"))
    assert set(methods) >= {*OWNED_METHODS, "shared_proportional", "shared_even", "shared_fixed"}
    assert query(warehouse, "select count(*) from marts.allocated_costs where allocation_rule_id is null") == [(0,)]
    # A split row's truncated shares fall short of 1 by less than 1e-12 per consumer, never exceed it.
    bad_shares = query(
        warehouse,
        "select x_RowKey from marts.allocated_costs where allocation_method like 'shared%' group by x_RowKey "
        "having sum(share) > 1 or sum(share) <= 1 - count(*) * 0.000000000001",
    )
    assert bad_shares == []


def test_drifted_team_tags_reach_their_team(demo_warehouse: tuple[Path, Path]) -> None:
    warehouse, _ = demo_warehouse
    rows = query(
        warehouse,
        "select json_extract_string(f.Tags, '$.team'), a.team from marts.focus_costs as f "
        "inner join marts.allocated_costs as a using (x_RowKey) "
        "where a.allocation_method = 'direct_tag' and json_extract_string(f.Tags, '$.team') in "
        "('Payments', 'PAYMENTS', 'ml_platform') group by all",
    )
    assert sorted(rows) == [
        ("PAYMENTS", "payments"),
        ("Payments", "payments"),
        ("ml_platform", "ml-platform"),
    ]


def test_showback_and_budgets_add_up_to_the_allocation(demo_warehouse: tuple[Path, Path]) -> None:
    warehouse, _ = demo_warehouse
    allocated = query(
        warehouse,
        "select BillingCurrency, sum(allocated_effective_cost) from marts.allocated_costs group by 1 order by 1",
    )
    showback = query(
        warehouse, "select BillingCurrency, sum(effective_cost) from marts.showback_monthly group by 1 order by 1"
    )
    teams = query(
        warehouse,
        "select BillingCurrency, sum(actual_effective_cost_mtd) from marts.budget_vs_actual "
        "where scope_type = 'team' group by 1 order by 1",
    )
    assert allocated == showback == teams
    statuses = dict(query(warehouse, "select budget_status, count(*) from marts.budget_vs_actual group by 1"))
    assert statuses.get("over_budget", 0) > 0 and statuses.get("within_budget", 0) > 0
    # The demo ends on a month's last day: every month is closed, so its forecast is its actual.
    [(rows, forecasts, all_equal)] = query(
        warehouse,
        "select count(*), count(forecast_month_end_cost), "
        "bool_and(forecast_month_end_cost = actual_effective_cost_mtd) from marts.budget_vs_actual",
    )
    assert rows == forecasts and all_equal


def test_commitments_have_utilisation_coverage_and_savings(demo_warehouse: tuple[Path, Path]) -> None:
    warehouse, _ = demo_warehouse
    rows = query(
        warehouse,
        "select x_SourceProvider, CommitmentDiscountType, min(utilization), max(utilization), max(coverage), "
        "max(effective_savings_rate), bool_and(is_commitment_cost_linked) "
        "from marts.commitment_utilization group by 1, 2 order by 1, 2",
    )
    by_type = {(provider, kind): rest for provider, kind, *rest in rows}
    assert set(by_type) == {
        ("aws", "Reserved Instance"),
        ("aws", "Savings Plan"),
        ("azure", "Reservation"),
        ("azure", "Savings Plan"),
        ("gcp", "Committed Use Discount"),
    }
    low, high, coverage, savings, linked = by_type[("aws", "Savings Plan")]
    assert Decimal("0.5") < low <= high <= 1 and 0 < coverage <= 1 and 0 < savings < 1 and linked
    # GCP's commitment fee carries no CommitmentDiscountId in FOCUS: coverage only, flagged.
    low, high, coverage, savings, linked = by_type[("gcp", "Committed Use Discount")]
    assert low is None and savings is None and coverage > 0 and linked is False


def copy_warehouse(warehouse: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(warehouse, target)
    return target


def test_the_conservation_tests_fail_when_one_part_moves_by_1e_12(
    demo_warehouse: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse, _ = demo_warehouse
    monkeypatch.setenv(WAREHOUSE_ENV, os.environ.get(WAREHOUSE_ENV, str(warehouse)))
    tampered = copy_warehouse(warehouse, tmp_path / "tampered.duckdb")
    with duckdb.connect(str(tampered)) as con:
        # Move 1e-12 of billed cost from one day to the next on the same billing account: every total over
        # the whole period still matches; the day and row grains must not.
        first, second = con.sql(
            "select x_RowKey from marts.allocated_costs where BillingAccountId = '111111111111' "
            "and charge_date in ('2026-10-01', '2026-10-02') and allocation_method = 'direct_tag' "
            "qualify row_number() over (partition by charge_date order by x_RowKey) = 1 order by charge_date"
        ).fetchall()
        con.execute(
            "update marts.allocated_costs set allocated_billed_cost = allocated_billed_cost - 0.000000000001 "
            "where x_RowKey = ?",
            [first[0]],
        )
        con.execute(
            "update marts.allocated_costs set allocated_billed_cost = allocated_billed_cost + 0.000000000001 "
            "where x_RowKey = ?",
            [second[0]],
        )
    tests = ["allocated_costs_conserve_focus_costs", "allocated_costs_parts_add_up_to_each_row"]
    with pytest.raises(DbtFailed) as failed:
        run_dbt(["test", "--select", *tests], tampered, quiet=True)
    assert all(name in str(failed.value) for name in tests)


def build_in_project_copy(project: Path, warehouse: Path, seed: str) -> None:
    """Reload `seed` from a copy of the project and rebuild what lies between it and allocated_costs."""
    result = subprocess.run(
        [
            str(DBT),
            "--quiet",
            "--no-use-colors",
            "build",
            "--select",
            f"{seed}+,+allocated_costs",
            "--resource-type",
            "seed",
            "--resource-type",
            "model",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
        ],
        env={**os.environ, WAREHOUSE_ENV: str(warehouse)},
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def changed_parts(warehouse: Path) -> list[tuple]:
    """The parts that differ between main.allocated_before and marts.allocated_costs, either side."""
    return query(
        warehouse,
        "select 'before' as side, * from (select * from main.allocated_before except "
        "select * from marts.allocated_costs) "
        "union all select 'after' as side, * from (select * from marts.allocated_costs except "
        "select * from main.allocated_before)",
    )


def snapshot(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create or replace table main.allocated_before as select * from marts.allocated_costs")


def edit_seed(project: Path, name: str, old: str, new: str) -> None:
    path = project / "seeds" / "allocation" / f"{name}.csv"
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{name}.csv no longer holds {old!r}; update this test"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_changing_one_rule_changes_only_the_rows_it_covers(demo_warehouse: tuple[Path, Path], tmp_path: Path) -> None:
    warehouse, _ = demo_warehouse
    copy = copy_warehouse(warehouse, tmp_path / "warehouse" / "finops.duckdb")
    project = tmp_path / "project"
    project.mkdir()
    for part in PROJECT_PARTS:
        source = REPO_ROOT / part
        if source.is_dir():
            shutil.copytree(source, project / part)
        else:
            shutil.copyfile(source, project / part)
    columns = [name for name, *_ in query(copy, "describe marts.allocated_costs")]
    rule_column = columns.index("allocation_rule_id") + 1  # +1: the `side` column comes first
    method_column = columns.index("allocation_method") + 1
    team_column = columns.index("team") + 1

    # A fixed split: finance moves ten points of the Northwind support fee from sre to storefront.
    snapshot(copy)
    edit_seed(
        project,
        "shared_cost_fixed_shares",
        "sc-aws-support-northwind,sre,40\nsc-aws-support-northwind,storefront,20\n",
        "sc-aws-support-northwind,sre,30\nsc-aws-support-northwind,storefront,30\n",
    )
    build_in_project_copy(project, copy, "shared_cost_fixed_shares")
    changed = changed_parts(copy)
    assert changed, "editing the rule changed nothing"
    assert {row[rule_column] for row in changed} == {"sc-aws-support-northwind"}
    assert {row[team_column] for row in changed} == {"sre", "storefront"}
    edited_parts = query(
        copy,
        "select count(*) from main.allocated_before where allocation_rule_id = 'sc-aws-support-northwind' "
        "and team in ('sre', 'storefront')",
    )[0][0]
    assert len(changed) == 2 * edited_parts  # each edited part once as it was, once as it is

    # A virtual tag: shared-eks CloudWatch moves from sre to developer-tools. Its own rows change, and so
    # may proportional and even splits on the same provider, billing account and days, which weigh
    # consumers by the cost this rule assigns. Nothing else may move.
    snapshot(copy)
    edit_seed(
        project,
        "allocation_rules",
        "AmazonCloudWatch,,sre,",
        "AmazonCloudWatch,,developer-tools,",
    )
    build_in_project_copy(project, copy, "allocation_rules")
    changed = changed_parts(copy)
    rule_rows = query(
        copy,
        "select count(distinct x_RowKey) from main.allocated_before where allocation_rule_id = 'vt-eks-observability'",
    )[0][0]
    assert rule_rows > 0
    assert {row[rule_column] for row in changed if row[method_column] == "virtual_tag"} == {"vt-eks-observability"}
    assert {row[method_column] for row in changed} <= {"virtual_tag", "shared_proportional", "shared_even"}
    outside_scope = query(
        copy,
        """
        with scope as (
            select distinct x_SourceProvider, BillingAccountId, charge_date
            from main.allocated_before where allocation_rule_id = 'vt-eks-observability'
        ),
        changed as (
            select * from (select * from main.allocated_before except select * from marts.allocated_costs)
            union all
            select * from (select * from marts.allocated_costs except select * from main.allocated_before)
        )
        select distinct changed.x_RowKey
        from changed
        where changed.allocation_method like 'shared%' and not exists (
            select 1 from scope
            where scope.x_SourceProvider = changed.x_SourceProvider
                and scope.BillingAccountId = changed.BillingAccountId
                and scope.charge_date >= changed.charge_date
                and scope.charge_date < greatest(cast(changed.ChargePeriodEnd as date), changed.charge_date + 1)
        )
        """,
    )
    assert outside_scope == []
    moved = query(
        copy,
        "select count(*) from marts.allocated_costs where allocation_rule_id = 'vt-eks-observability' "
        "and team = 'developer-tools'",
    )[0][0]
    assert moved == rule_rows


def test_the_analyses_run_and_agree_with_the_marts(demo_warehouse: tuple[Path, Path], tmp_path: Path) -> None:
    warehouse, _ = demo_warehouse
    target = tmp_path / "target"
    run_dbt(["compile", "--select", "path:analyses", "--target-path", str(target)], warehouse, quiet=True)
    compiled = target / "compiled" / "finops_warehouse" / "analyses"
    results = {path.stem: query(warehouse, path.read_text(encoding="utf-8")) for path in compiled.glob("*.sql")}
    assert set(results) == {
        "top_10_movers_week_over_week_by_team",
        "untagged_spend_by_account",
        "chargeback_statement_for_business_unit",
        "commitment_coverage_by_service",
        "inspect_shared_cost_split",
    }
    assert all(results.values())

    movers = results["top_10_movers_week_over_week_by_team"]
    assert max(rank for _, rank, *_ in movers) == 10

    statement = results["chargeback_statement_for_business_unit"]
    expected = dict(
        query(
            warehouse,
            "select BillingCurrency, sum(effective_cost) from marts.showback_monthly where business_unit = 'commerce' "
            "and charge_month = (select max(charge_month) from marts.showback_monthly) group by 1",
        )
    )
    for line_type in ("business unit total", "team total", "line"):
        totals: dict[str, Decimal] = {}
        for row in statement:
            if row[7] == line_type:
                totals[row[2]] = totals.get(row[2], Decimal(0)) + row[9]
        assert totals == expected, line_type

    split = results["inspect_shared_cost_split"]
    assert len({row[0] for row in split}) == 1 and len(split) > 1
    assert sum(row[-1] for row in split) == split[0][12]  # the parts add up to the source EffectiveCost
    assert sum(row[-2] for row in split) == split[0][11]
