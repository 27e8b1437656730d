"""The fictional company behind the demo data: the single source of truth.

Every provider generator, the anomaly labels and (later) the ownership seed read the org chart and the
cloud estate from here, so a team, a cost center or an account id is spelled the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BusinessUnit:
    """A top-level business unit.

    Attributes:
        key: Stable lower-case identifier.
        name: Display name.
    """

    key: str
    name: str


@dataclass(frozen=True)
class CostCenter:
    """A finance cost center; each team books to exactly one.

    Attributes:
        code: Finance code, e.g. "CC-1110".
        name: Display name.
        business_unit: Key of the owning business unit.
    """

    code: str
    name: str
    business_unit: str


@dataclass(frozen=True)
class Team:
    """An engineering team that owns cloud spend.

    Attributes:
        key: Canonical tag value (what a clean `team` tag says).
        name: Display name.
        business_unit: Key of the business unit.
        cost_center: Code of the team's cost center.
        email: Team distribution list (not a person).
    """

    key: str
    name: str
    business_unit: str
    cost_center: str
    email: str


@dataclass(frozen=True)
class AwsPayer:
    """An AWS management (payer) account and how it exports billing data.

    Attributes:
        account_id: 12-digit payer account id.
        name: Account name.
        layout: "aws_cur" (legacy CUR CSV) or "aws_cur2" (CUR 2.0 Parquet).
    """

    account_id: str
    name: str
    layout: str


@dataclass(frozen=True)
class AwsAccount:
    """An AWS linked (member) account.

    Attributes:
        account_id: 12-digit account id.
        name: Account name.
        payer_id: Payer account id it bills to.
        team: Owning team key, or None for a shared account.
        env: Environment tag value.
        purpose: Workload profile key used to pick its services.
    """

    account_id: str
    name: str
    payer_id: str
    team: str | None
    env: str
    purpose: str


@dataclass(frozen=True)
class AzureBilling:
    """The Microsoft Customer Agreement billing account and its single billing profile.

    Attributes:
        billing_account_id: MCA billing account id.
        billing_account_name: Its name.
        billing_profile_id: Billing profile id.
        billing_profile_name: Its name.
        billing_currency: Invoice currency.
        pricing_currency: Price-sheet currency.
    """

    billing_account_id: str
    billing_account_name: str
    billing_profile_id: str
    billing_profile_name: str
    billing_currency: str
    pricing_currency: str


@dataclass(frozen=True)
class InvoiceSection:
    """An MCA invoice section (one per business unit).

    Attributes:
        section_id: Invoice section id.
        name: Its name.
        business_unit: Key of the business unit.
    """

    section_id: str
    name: str
    business_unit: str


@dataclass(frozen=True)
class AzureSubscription:
    """An Azure subscription.

    Attributes:
        subscription_id: Subscription GUID.
        name: Subscription name.
        team: Owning team key, or None for a shared subscription.
        env: Environment tag value.
        invoice_section: Business unit key of its invoice section.
        purpose: Workload profile key used to pick its services.
    """

    subscription_id: str
    name: str
    team: str | None
    env: str
    invoice_section: str
    purpose: str


@dataclass(frozen=True)
class GcpProject:
    """A Google Cloud project.

    Attributes:
        project_id: Project id.
        number: Project number (12 digits, as a string).
        name: Display name.
        team: Owning team key, or None for a shared project.
        env: Environment label value.
        folder: Business unit key of its folder.
        purpose: Workload profile key used to pick its services.
    """

    project_id: str
    number: str
    name: str
    team: str | None
    env: str
    folder: str
    purpose: str


@dataclass(frozen=True)
class Product:
    """A customer-facing product that emits business events.

    Attributes:
        key: Product key as it appears in events.
        business_unit: Key of the business unit that sells it.
        team: Team that runs it.
    """

    key: str
    business_unit: str
    team: str


@dataclass(frozen=True)
class Company:
    """The whole fictional company.

    Attributes:
        name: Legal name.
        domain: Email domain (reserved example domain).
        business_units: Business units.
        cost_centers: Cost centers.
        teams: Teams.
        aws_payers: AWS payer accounts.
        aws_accounts: AWS linked accounts.
        azure_billing: The MCA billing account.
        azure_invoice_sections: Invoice sections.
        azure_subscriptions: Subscriptions.
        gcp_billing_account_id: The GCP billing account.
        gcp_organization_number: The GCP organization number.
        gcp_folders: Folder number per business unit key.
        gcp_projects: Projects.
        products: Products that emit business events.
    """

    name: str
    domain: str
    business_units: tuple[BusinessUnit, ...]
    cost_centers: tuple[CostCenter, ...]
    teams: tuple[Team, ...]
    aws_payers: tuple[AwsPayer, ...]
    aws_accounts: tuple[AwsAccount, ...]
    azure_billing: AzureBilling
    azure_invoice_sections: tuple[InvoiceSection, ...]
    azure_subscriptions: tuple[AzureSubscription, ...]
    gcp_billing_account_id: str
    gcp_organization_number: str
    gcp_folders: dict[str, str] = field(default_factory=dict)
    gcp_projects: tuple[GcpProject, ...] = ()
    products: tuple[Product, ...] = ()

    def team(self, key: str) -> Team:
        """Return the team with this key.

        Args:
            key: Team key.

        Returns:
            The team.

        Raises:
            KeyError: If no team has that key.
        """
        for team in self.teams:
            if team.key == key:
                return team
        raise KeyError(key)

    def payer(self, layout: str) -> AwsPayer:
        """Return the AWS payer that exports in this layout.

        Args:
            layout: "aws_cur" or "aws_cur2".

        Returns:
            The payer.
        """
        return next(p for p in self.aws_payers if p.layout == layout)

    def accounts_of(self, payer_id: str) -> tuple[AwsAccount, ...]:
        """Return the linked accounts billed to a payer, in definition order.

        Args:
            payer_id: Payer account id.

        Returns:
            The linked accounts.
        """
        return tuple(a for a in self.aws_accounts if a.payer_id == payer_id)


def _teams() -> tuple[Team, ...]:
    spec = [
        ("storefront", "Storefront", "commerce"),
        ("checkout", "Checkout", "commerce"),
        ("payments", "Payments", "commerce"),
        ("catalog", "Catalog", "commerce"),
        ("identity", "Identity", "platform"),
        ("sre", "Site Reliability", "platform"),
        ("developer-tools", "Developer Tools", "platform"),
        ("security", "Security", "platform"),
        ("data-engineering", "Data Engineering", "data"),
        ("analytics", "Analytics", "data"),
        ("ml-platform", "ML Platform", "data"),
        ("search", "Search", "data"),
    ]
    bu_base = {"commerce": 1100, "platform": 2100, "data": 3100}
    teams = []
    seen: dict[str, int] = {}
    for key, name, bu in spec:
        seen[bu] = seen.get(bu, 0) + 1
        code = f"CC-{bu_base[bu] + 10 * seen[bu]}"
        teams.append(Team(key, name, bu, code, f"{key}@northwind.example"))
    return tuple(teams)


TEAMS = _teams()

COMPANY = Company(
    name="Northwind Commerce Inc.",
    domain="northwind.example",
    business_units=(
        BusinessUnit("commerce", "Commerce"),
        BusinessUnit("platform", "Platform"),
        BusinessUnit("data", "Data"),
    ),
    cost_centers=(
        *(CostCenter(t.cost_center, f"{t.name} ({t.business_unit.title()})", t.business_unit) for t in TEAMS),
        CostCenter("CC-2000", "Platform shared infrastructure", "platform"),
        CostCenter("CC-9000", "Corporate overhead", "platform"),
    ),
    teams=TEAMS,
    aws_payers=(
        AwsPayer("111111111111", "northwind-management", "aws_cur"),
        AwsPayer("222222222222", "searchly-management", "aws_cur2"),
    ),
    aws_accounts=(
        AwsAccount("210987654321", "commerce-storefront-prod", "111111111111", "storefront", "prod", "web"),
        AwsAccount("298765432101", "commerce-checkout-prod", "111111111111", "checkout", "prod", "web"),
        AwsAccount("305419896123", "commerce-payments-prod", "111111111111", "payments", "prod", "database"),
        AwsAccount("318273645500", "platform-identity-prod", "111111111111", "identity", "prod", "service"),
        AwsAccount("327465918273", "platform-devtools", "111111111111", "developer-tools", "dev", "ci"),
        AwsAccount("336699112244", "data-lake-prod", "111111111111", "data-engineering", "prod", "datalake"),
        AwsAccount("345678901234", "shared-networking", "111111111111", None, "prod", "network"),
        AwsAccount("354321098765", "shared-eks", "111111111111", None, "prod", "kubernetes"),
        AwsAccount("401234567890", "searchly-prod", "222222222222", "search", "prod", "search"),
        AwsAccount("412345678901", "searchly-ml", "222222222222", "ml-platform", "prod", "ml"),
    ),
    azure_billing=AzureBilling(
        billing_account_id="8a3f2c1e-5b7d-4e90-a1c2-3d4e5f607182:0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9_2019-05-31",
        billing_account_name="Northwind Commerce Inc.",
        billing_profile_id="NW7K-Q2XA-BG7-PGB",
        billing_profile_name="Northwind Europe",
        billing_currency="EUR",
        pricing_currency="USD",
    ),
    azure_invoice_sections=(
        InvoiceSection("KX4M-2ZTR-PJA-PGB", "Commerce", "commerce"),
        InvoiceSection("LM8Q-7WPD-PJA-PGB", "Platform", "platform"),
        InvoiceSection("NB3V-9HSC-PJA-PGB", "Data", "data"),
    ),
    azure_subscriptions=(
        AzureSubscription(
            "5c1e7b3a-2f44-4d6e-9a01-7e3c2b9d4f10", "catalog-prod", "catalog", "prod", "commerce", "appservice"
        ),
        AzureSubscription(
            "9d2f0a6b-8c13-4b57-b2e4-1a6f3c8d5e21", "analytics-prod", "analytics", "prod", "data", "analytics"
        ),
        AzureSubscription(
            "3a7c5e9f-1b2d-4c8e-8f60-2d4b6a8c0e32", "security-prod", "security", "prod", "platform", "security"
        ),
        AzureSubscription("e4b6d8f0-7a9c-4e1b-a3d5-5f7b9d1e3a43", "connectivity-hub", None, "prod", "platform", "hub"),
    ),
    gcp_billing_account_id="01AB23-45CD67-89EF01",
    gcp_organization_number="508812345678",
    gcp_folders={"commerce": "611200000101", "platform": "611200000202", "data": "611200000303"},
    gcp_projects=(
        GcpProject("nw-analytics-bq", "731904215566", "Analytics BigQuery", "analytics", "prod", "data", "bq"),
        GcpProject("nw-ml-training", "731904215577", "ML Training", "ml-platform", "prod", "data", "ml"),
        GcpProject(
            "nw-data-pipelines", "731904215588", "Data Pipelines", "data-engineering", "prod", "data", "pipelines"
        ),
        GcpProject("nw-observability", "731904215599", "Observability", "sre", "prod", "platform", "observability"),
        GcpProject("nw-catalog-api", "731904215600", "Catalog API", "catalog", "prod", "commerce", "serverless"),
        GcpProject("nw-shared-gke", "731904215611", "Shared GKE", None, "prod", "platform", "gke"),
    ),
    products=(
        Product("storefront", "commerce", "storefront"),
        Product("payments-api", "commerce", "payments"),
        Product("search-api", "data", "search"),
        Product("analytics-suite", "data", "analytics"),
    ),
)
