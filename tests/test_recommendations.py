"""marts.recommendations on the demo: every planted savings opportunity is found, with the saving computed
here by hand from the planted quantities and the price list, and every row names its owner and its rule."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from conftest import query

from finops_warehouse.demo.aws import AWS_SPECS
from finops_warehouse.demo.company import COMPANY
from finops_warehouse.demo.optimize import PLANTED

DAYS_PER_MONTH = Decimal(30)  # var recommendation_days_per_month
RIGHTSIZING_SAVING_SHARE = Decimal("0.5")  # var rightsizing_saving_share
ELASTICACHE_RI_DISCOUNT = Decimal("0.30")  # seeds/optimize/commitment_offers.csv, aws_elasticache_reserved_node
RULES = {
    "idle_unattached_address", "idle_storage_only", "idle_no_utilisation", "rightsize_low_cpu",
    "commitment_savings_plan", "commitment_reserved_instance", "commitment_reservation",
    "commitment_committed_use_discount",
}  # fmt: skip


def on_demand_rate(spec: str) -> Decimal:
    return Decimal(next(s.rate for s in AWS_SPECS if s.key == spec))


def planted(case: str) -> list:
    return [r for r in PLANTED if r.case == case]


def expected_savings() -> dict[tuple[str, str], Decimal]:
    """(rule, resource) -> monthly saving, from the planted figures: a fixed quantity every day x the rate."""
    expected: dict[tuple[str, str], Decimal] = {}
    for r in planted("idle_unattached_address") + planted("idle_no_utilisation"):
        expected[(r.case, r.resource_id)] = Decimal(r.quantity) * on_demand_rate(r.spec) * DAYS_PER_MONTH
    for r in planted("rightsize_low_cpu"):
        daily = Decimal(r.quantity) * on_demand_rate(r.spec)
        expected[(r.case, r.resource_id)] = daily * DAYS_PER_MONTH * RIGHTSIZING_SAVING_SHARE
    # The stopped database: only its storage still bills, and that is what deleting it saves.
    storage = next(r for r in PLANTED if r.case == "context" and r.spec == "rds_storage")
    stopped = planted("idle_storage_only")[0]
    assert storage.resource_id == stopped.resource_id
    expected[("idle_storage_only", stopped.resource_id)] = (
        Decimal(storage.quantity) * on_demand_rate(storage.spec) * DAYS_PER_MONTH
    )
    # Four steady cache nodes: the reservation costs (1 - discount) of what it covers, which is all of it.
    nodes = planted("commitment_reserved_instance")
    daily = sum(Decimal(r.quantity) * on_demand_rate(r.spec) for r in nodes)
    key = "111111111111/NodeUsage:cache.m6g.xlarge in us-east-1"
    expected[("commitment_reserved_instance", key)] = daily * ELASTICACHE_RI_DISCOUNT * DAYS_PER_MONTH
    return expected


def test_hand_computed_figures_are_the_ones_planted() -> None:
    savings = expected_savings()
    assert savings[("idle_unattached_address", planted("idle_unattached_address")[0].resource_id)] == Decimal("3.6")
    assert savings[("rightsize_low_cpu", "i-0a5c7e9b1d3f46802")] == Decimal("122.4")  # 24 h x 0.34 x 30 / 2
    assert savings[("commitment_reserved_instance", "111111111111/NodeUsage:cache.m6g.xlarge in us-east-1")] == (
        Decimal("266.112")  # 4 nodes x 24 h x 0.308 x 30% x 30 days
    )


def test_every_planted_case_is_found_with_its_hand_computed_saving(demo_warehouse: tuple[Path, Path]) -> None:
    warehouse, _ = demo_warehouse
    rows = query(warehouse, "select rule, resource_id, estimated_monthly_saving from marts.recommendations")
    found = {(rule, resource): saving for rule, resource, saving in rows}

    for key, saving in expected_savings().items():
        assert key in found, f"planted case not recommended: {key}"
        assert found[key] == saving, key


def test_no_resource_level_recommendation_without_a_planted_cause(demo_warehouse: tuple[Path, Path]) -> None:
    warehouse, out = demo_warehouse
    with open(out / "utilisation" / "utilisation.csv", encoding="utf-8") as handle:
        measured = {row["resource_id"] for row in csv.DictReader(handle)}
    planted_ids = {r.resource_id for r in PLANTED}
    busy = measured - planted_ids
    assert len(busy) == 3

    rows = query(
        warehouse, "select rule, resource_id from marts.recommendations where recommendation_type <> 'commitment'"
    )
    resource_cases = {r.resource_id for r in PLANTED if r.case.startswith(("idle", "right"))}
    assert {resource for _, resource in rows} == resource_cases
    assert not busy & {resource for _, resource in rows}


def test_every_recommendation_names_its_owner_and_rule(demo_warehouse: tuple[Path, Path]) -> None:
    warehouse, _ = demo_warehouse
    rows = query(
        warehouse,
        "select rule, resource_id, owner_team, confidence, evidence, first_seen_date from marts.recommendations",
    )
    teams = {t.key for t in COMPANY.teams} | {"unallocated"}
    assert rows
    for rule, _, owner, confidence, evidence, first_seen in rows:
        assert rule in RULES and owner in teams and confidence in ("high", "medium", "low")
        assert evidence.startswith("{") and first_seen is not None
    owners = {resource: owner for _, resource, owner, *_ in rows}
    accounts = {a.name: a.team for a in COMPANY.aws_accounts}
    for r in PLANTED:
        if r.case.startswith(("idle", "right")):
            assert owners[r.resource_id] == accounts[r.account_name], r.resource_id
    assert owners["111111111111/NodeUsage:cache.m6g.xlarge in us-east-1"] == "storefront"


def test_commitment_reports_break_even_risk_and_current_coverage(demo_warehouse: tuple[Path, Path]) -> None:
    warehouse, _ = demo_warehouse
    ((evidence, coverage, utilization),) = query(
        warehouse,
        "select evidence, current_coverage, current_utilization from marts.recommendations "
        "where resource_id = '111111111111/NodeUsage:cache.m6g.xlarge in us-east-1'",
    )
    # Steady usage: the reservation would be used in full, far above its break-even of 1 - 30%.
    assert '"expected_utilization":1.000000000000' in evidence
    assert '"break_even_utilization":0.700000000000' in evidence
    assert '"utilization_risk":"low"' in evidence
    assert coverage == 0  # nothing covers this node type yet
    assert utilization is not None and 0 < utilization <= 1  # the payer's existing RIs, from commitment_utilization
