"""Write the ownership seeds from the demo company, the single source of truth for the org chart.

    .venv/bin/python scripts/generate_org_seeds.py

writes seeds/allocation/org_hierarchy.csv (team -> business unit -> cost center) and
seeds/allocation/org_sub_accounts.csv (which team owns each AWS account, Azure subscription and GCP project;
shared ones have no owner). tests/test_allocation.py fails when the committed seeds and company.py disagree,
so run this after changing the company.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from finops_warehouse.demo.company import COMPANY, Company

REPO_ROOT = Path(__file__).resolve().parents[1]
SEED_DIR = REPO_ROOT / "seeds" / "allocation"
HIERARCHY_COLUMNS = (
    "team",
    "team_name",
    "business_unit",
    "business_unit_name",
    "cost_center",
    "cost_center_name",
)
SUB_ACCOUNT_COLUMNS = ("provider", "sub_account_id", "sub_account_name", "sub_account_kind", "owner_team", "env")


def org_hierarchy_rows(company: Company = COMPANY) -> list[dict[str, str]]:
    """One row per team: its business unit and cost center, with display names."""
    units = {unit.key: unit.name for unit in company.business_units}
    centers = {center.code: center.name for center in company.cost_centers}
    return [
        {
            "team": team.key,
            "team_name": team.name,
            "business_unit": team.business_unit,
            "business_unit_name": units[team.business_unit],
            "cost_center": team.cost_center,
            "cost_center_name": centers[team.cost_center],
        }
        for team in sorted(company.teams, key=lambda t: t.key)
    ]


def org_sub_account_rows(company: Company = COMPANY) -> list[dict[str, str]]:
    """One row per AWS account (payers included), Azure subscription and GCP project, with its owner.

    Payer accounts and shared accounts have an empty owner: their costs go to shared-cost rules.
    """
    rows = [_sub_account("aws", payer.account_id, payer.name, "aws_payer", None, "") for payer in company.aws_payers]
    rows += [
        _sub_account("aws", account.account_id, account.name, "aws_account", account.team, account.env)
        for account in company.aws_accounts
    ]
    rows += [
        _sub_account("azure", sub.subscription_id, sub.name, "azure_subscription", sub.team, sub.env)
        for sub in company.azure_subscriptions
    ]
    rows += [
        _sub_account("gcp", project.project_id, project.name, "gcp_project", project.team, project.env)
        for project in company.gcp_projects
    ]
    return sorted(rows, key=lambda row: (row["provider"], row["sub_account_id"]))


def _sub_account(provider: str, sub_id: str, name: str, kind: str, team: str | None, env: str) -> dict[str, str]:
    return {
        "provider": provider,
        "sub_account_id": sub_id,
        "sub_account_name": name,
        "sub_account_kind": kind,
        "owner_team": team or "",
        "env": env,
    }


def render_csv(columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    """The seed file's text: a header and one line per row, `\\n` line endings."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def seed_texts(company: Company = COMPANY) -> dict[Path, str]:
    """Each generated seed's path and the text it must hold."""
    return {
        SEED_DIR / "org_hierarchy.csv": render_csv(HIERARCHY_COLUMNS, org_hierarchy_rows(company)),
        SEED_DIR / "org_sub_accounts.csv": render_csv(SUB_ACCOUNT_COLUMNS, org_sub_account_rows(company)),
    }


def main() -> None:
    for path, text in seed_texts().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
