"""Azure cost details exports (Microsoft Customer Agreement, billed in EUR, priced in USD).

Two exports of the same data, ActualCost and AmortizedCost, with OUT/azure/ as the storage container::

    exports/finops-demo-actual/20260801-20260831/<runId>/part_0_0001.csv.gz
    exports/finops-demo-actual/20260801-20260831/<runId>/manifest.json
    exports/finops-demo-amortized/...same...

Both exports are month-to-date. The open month has two runs; the later runInfo.submittedTime is current.
Actual shows commitment purchases when billed and zero-cost covered usage; amortized spreads the
purchases over the covered usage and adds UnusedReservation / UnusedSavingsPlan rows, so for a fully
covered month both add up to the same total.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from finops_warehouse.demo.company import COMPANY, AzureSubscription
from finops_warehouse.demo.encode import (
    CsvPartWriter,
    csv_column,
    decimal_strings,
    decimal_text,
    join_lines,
    parse_decimal,
    round_units,
    stable_guid,
    stable_int,
    stable_token,
    take_columns,
    take_strings,
)
from finops_warehouse.demo.labels import AnomalyPlan, AnomalyTracker, anomaly_multiplier
from finops_warehouse.demo.output import InvoiceTotal, Progress, ProviderOutput, Ticker, chunks_in, write_json
from finops_warehouse.demo.streams import (
    CASE_DRIFT,
    Owner,
    SpecTable,
    UsageModel,
    UsageSpec,
    build_streams,
    cover_greedy,
)
from finops_warehouse.demo.timeline import Delivery, Period, Window

PROVIDER_CODE = 3
CONTAINER = "cost-exports"
ROOT_FOLDER = "exports"
EXPORTS = {"actual": ("finops-demo-actual", "ActualCost"), "amortized": ("finops-demo-amortized", "AmortizedCost")}
COLUMNS = (
    "invoiceId", "previousInvoiceId", "billingAccountId", "billingAccountName", "billingProfileId",
    "billingProfileName", "invoiceSectionId", "invoiceSectionName", "partnerName", "resellerName",
    "resellerMpnId", "costCenter", "billingPeriodEndDate", "billingPeriodStartDate", "servicePeriodEndDate",
    "servicePeriodStartDate", "date", "serviceFamily", "productOrderId", "productOrderName", "consumedService",
    "meterId", "meterName", "meterCategory", "meterSubCategory", "meterRegion", "ProductId", "ProductName",
    "SubscriptionId", "subscriptionName", "publisherType", "publisherId", "publisherName", "resourceGroupName",
    "ResourceId", "resourceLocation", "location", "effectivePrice", "quantity", "unitOfMeasure", "chargeType",
    "billingCurrency", "pricingCurrency", "costInBillingCurrency", "costInPricingCurrency", "costInUsd",
    "paygCostInBillingCurrency", "paygCostInUsd", "exchangeRatePricingToBilling", "exchangeRateDate",
    "isAzureCreditEligible", "serviceInfo1", "serviceInfo2", "additionalInfo", "tags", "PayGPrice", "frequency",
    "term", "reservationId", "reservationName", "pricingModel", "unitPrice", "costAllocationRuleName",
    "benefitId", "benefitName", "provider",
)  # fmt: skip

# Row kinds: (chargeType, pricingModel, frequency, isAzureCreditEligible, term, in actual, in amortized).
KINDS = (
    ("Usage", "OnDemand", "UsageBased", "True", None, True, True),
    ("Usage", "Reservation", "UsageBased", "True", "12", True, True),
    ("Usage", "SavingsPlan", "UsageBased", "True", "12", True, True),
    ("Purchase", "Reservation", "Recurring", "False", "12", True, False),
    ("Purchase", "SavingsPlan", "Recurring", "False", "12", True, False),
    ("UnusedReservation", "Reservation", "UsageBased", "False", "12", False, True),
    ("UnusedSavingsPlan", "SavingsPlan", "UsageBased", "False", "12", False, True),
    ("Purchase", "OnDemand", "Recurring", "False", None, True, True),
    ("Refund", "Reservation", "OneTime", "False", "12", True, True),
)
ON_DEMAND, RI_USAGE, SP_USAGE, RI_PURCHASE, SP_PURCHASE, RI_UNUSED, SP_UNUSED, MARKETPLACE, REFUND = range(len(KINDS))
_IN_ACTUAL = np.array([k[5] for k in KINDS])
_IN_AMORTIZED = np.array([k[6] for k in KINDS])

_H = "0.0001"
_F = "0.000001"


def _spec(key: str, service: str, category: str, sub: str, meter: str, unit: str, rate: str, quantum: str,
          base: float, profile: str, cap: float | None = None, **attrs: str) -> UsageSpec:  # fmt: skip
    attrs.update(category=category, subcategory=sub, meter=meter)
    return UsageSpec(key, service, meter, unit, rate, quantum, base, profile, cap, attrs)


AZURE_SPECS: tuple[UsageSpec, ...] = (
    _spec("vm_d4s_v5", "Microsoft.Compute", "Virtual Machines", "Dsv5 Series", "D4s v5", "1 Hour", "0.214", _H, 22,
          "business", 24, family="Compute", product="Virtual Machines Dsv5 Series - D4s v5 - EU West",
          rtype="Microsoft.Compute/virtualMachines", vm="Standard_D4s_v5", vcpus="4"),
    _spec("vm_e8s_v5", "Microsoft.Compute", "Virtual Machines", "Esv5 Series", "E8s v5", "1 Hour", "0.576", _H, 23,
          "flat", 24, family="Compute", product="Virtual Machines Esv5 Series - E8s v5 - EU West",
          rtype="Microsoft.Compute/virtualMachines", vm="Standard_E8s_v5", vcpus="8", sp="1"),
    _spec("vm_b2ms", "Microsoft.Compute", "Virtual Machines", "BS Series", "B2ms", "1 Hour", "0.0912", _H, 16,
          "batch", 24, family="Compute", product="Virtual Machines BS Series - B2ms - EU West",
          rtype="Microsoft.Compute/virtualMachines", vm="Standard_B2ms", vcpus="2", sp="1"),
    _spec("disk_p30", "Microsoft.Compute", "Storage", "Premium SSD Managed Disks", "P30 LRS Disk", "1/Month",
          "135.17", _F, 0.0333, "flat", family="Storage", product="Premium SSD Managed Disks - P30 LRS - EU West",
          rtype="Microsoft.Compute/disks"),
    _spec("blob_hot", "Microsoft.Storage", "Storage", "Tiered Block Blob", "Hot LRS Data Stored", "1 GB/Month",
          "0.0196", _F, 20, "flat", family="Storage", product="Blob Storage - Hot LRS - EU West",
          rtype="Microsoft.Storage/storageAccounts"),
    _spec("blob_reads", "Microsoft.Storage", "Storage", "Tiered Block Blob", "Hot Read Operations", "10K", "0.0052",
          _H, 400, "business", family="Storage", product="Blob Storage - Hot LRS - EU West",
          rtype="Microsoft.Storage/storageAccounts"),
    _spec("egress", "Microsoft.Network", "Bandwidth", "Inter-Region", "Standard Data Transfer Out", "1 GB", "0.087",
          _F, 60, "traffic", family="Networking", product="Rtn Preference: MGN - Standard Data Transfer Out",
          rtype="Microsoft.Network/publicIPAddresses"),
    _spec("sql_vcore", "Microsoft.Sql", "SQL Database", "General Purpose - Compute Gen5", "vCore", "1 Hour",
          "0.2525", _H, 96, "flat", family="Databases",
          product="SQL Database Single/Elastic Pool General Purpose - Compute Gen5 - EU West",
          rtype="Microsoft.Sql/servers/databases"),
    _spec("log_ingest", "Microsoft.OperationalInsights", "Log Analytics", "", "Analytics Logs Data Ingestion",
          "1 GB", "2.99", _F, 9, "business", family="Management and Governance",
          product="Log Analytics - Analytics Logs - EU West", rtype="Microsoft.OperationalInsights/workspaces"),
    _spec("func_exec", "Microsoft.Web", "Functions", "", "Standard Total Executions", "10", "0.000002", "1",
          60000, "traffic", family="Compute", product="Functions - Standard - EU West", rtype="Microsoft.Web/sites"),
    _spec("appsvc_p1v3", "Microsoft.Web", "Azure App Service", "Premium v3 Plan", "P1 v3 App", "1 Hour", "0.169",
          _H, 24, "flat", 24, family="Compute", product="Azure App Service Premium v3 Plan - P1 v3 - EU West",
          rtype="Microsoft.Web/serverFarms", sp="1"),
    _spec("cosmos_ru", "Microsoft.DocumentDB", "Azure Cosmos DB", "RUs", "100 RU/s", "100/Hour", "0.008", _H, 960,
          "business", family="Databases", product="Azure Cosmos DB - RUs - EU West",
          rtype="Microsoft.DocumentDB/databaseAccounts"),
    _spec("fw_deploy", "Microsoft.Network", "Azure Firewall", "Standard", "Standard Deployment", "1 Hour", "1.25",
          _H, 24, "flat", 24, family="Networking", product="Azure Firewall Standard - EU West",
          rtype="Microsoft.Network/azureFirewalls"),
    _spec("fw_data", "Microsoft.Network", "Azure Firewall", "Standard", "Standard Data Processed", "1 GB", "0.016",
          _F, 900, "traffic", family="Networking", product="Azure Firewall Standard - EU West",
          rtype="Microsoft.Network/azureFirewalls"),
    _spec("vpn_gw", "Microsoft.Network", "VPN Gateway", "VpnGw2", "VpnGw2", "1 Hour", "0.49", _H, 24, "flat", 24,
          family="Networking", product="VPN Gateway VpnGw2 - EU West",
          rtype="Microsoft.Network/virtualNetworkGateways"),
    _spec("kv_ops", "Microsoft.KeyVault", "Key Vault", "", "Operations", "10K", "0.03", _H, 40, "business",
          family="Security", product="Key Vault - Standard - EU West", rtype="Microsoft.KeyVault/vaults"),
    _spec("defender", "Microsoft.Security", "Microsoft Defender for Cloud", "Standard", "Standard Node", "1/Month",
          "15", _F, 0.6, "flat", family="Security", product="Microsoft Defender for Servers - Standard - EU West",
          rtype="Microsoft.Security/pricings"),
)  # fmt: skip

MIXES: dict[str, tuple[tuple[str, float], ...]] = {
    "appservice": (("appsvc_p1v3", 4), ("vm_d4s_v5", 5), ("disk_p30", 3), ("blob_hot", 2), ("blob_reads", 2),
                   ("sql_vcore", 2), ("cosmos_ru", 2), ("func_exec", 1), ("egress", 1), ("log_ingest", 1),
                   ("kv_ops", 0.5)),
    "analytics": (("vm_e8s_v5", 5), ("disk_p30", 3), ("blob_hot", 4), ("blob_reads", 2), ("sql_vcore", 1),
                  ("log_ingest", 1), ("egress", 0.5)),
    "security": (("log_ingest", 3), ("kv_ops", 2), ("defender", 2), ("vm_b2ms", 2), ("blob_hot", 1),
                 ("func_exec", 1)),
    "hub": (("fw_deploy", 1), ("fw_data", 1), ("vpn_gw", 1), ("egress", 2), ("log_ingest", 1), ("vm_b2ms", 1)),
}  # fmt: skip
# Workloads of these teams route through the shared hub, and some of its resources carry their tags.
SHARED_CONSUMERS = {"hub": ("security", "catalog", "analytics")}
SUBSCRIPTION_WEIGHT = {"catalog-prod": 1.3, "analytics-prod": 1.2, "security-prod": 0.6, "connectivity-hub": 0.35}
REGION = ("westeurope", "EU West")
RI_RATE = "0.131"  # D4s v5 one-year reservation, USD per hour
RI_MAX_COVERED = 10
SP_DISCOUNT_PERCENT = 65
SP_COMMIT_SHARE = 0.9
MARKETPLACE_USD = 12_500_000_000_000  # $1,250 a month
REFUND_EUR = -4_123_700_000_000  # EUR 412.37
_SKU_ALPHABET = "0123456789BCDFGHJKLMNPQRSTVWXZ"


@dataclass(frozen=True)
class Benefit:
    """A reservation or savings plan (or the cancelled one the refund is for).

    Attributes:
        benefit_id: ARM id.
        name: Display name.
        order_id: Product order GUID.
        order_name: Product order name.
        reservation_id: Reservation GUID (reservations only).
    """

    benefit_id: str
    name: str
    order_id: str
    order_name: str
    reservation_id: str | None


@dataclass
class AzureBlock:
    """Rows for both exports. Money is 1e-10 units, quantity 1e-6; `*_act` / `*_amo` differ per export.

    Attributes:
        static: Index into the static attribute table.
        kind: Index into KINDS.
        day: Charge date as a window day index.
        benefit: Benefit index, -1 when none.
        ints: Integer columns (see AzureModel.encode).
    """

    static: np.ndarray
    kind: np.ndarray
    day: np.ndarray
    benefit: np.ndarray
    ints: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.static)

    @staticmethod
    def concat(blocks: list[AzureBlock]) -> AzureBlock:
        """Stack blocks row-wise.

        Args:
            blocks: Blocks.

        Returns:
            One block.
        """
        cat = np.concatenate
        return AzureBlock(
            static=cat([b.static for b in blocks]),
            kind=cat([b.kind for b in blocks]),
            day=cat([b.day for b in blocks]),
            benefit=cat([b.benefit for b in blocks]),
            ints={k: cat([b.ints[k] for b in blocks]) for k in blocks[0].ints},
        )


INT_COLUMNS = ("quantity", "price_act", "price_amo", "unit_price", "usd_act", "usd_amo", "eur_act", "eur_amo",
               "payg_usd", "payg_eur")  # fmt: skip


def convert(usd: np.ndarray | int, fx: int) -> np.ndarray:
    """Convert pricing-currency units to billing currency at a 6-decimal rate, rounding half away from zero.

    Split into millions first so the product never overflows int64.

    Args:
        usd: Amounts in 1e-10 units.
        fx: Exchange rate in 1e-6 units.

    Returns:
        Billing-currency amounts in 1e-10 units.
    """
    usd = np.asarray(usd, dtype=np.int64)
    mag = np.abs(usd)
    high, low = np.divmod(mag, 10**6)
    out = high * fx + (low * fx + 500_000) // 10**6
    return np.where(usd < 0, -out, out)


@dataclass
class AzureLedger:
    """Totals of one run pair.

    Attributes:
        actual: Sum of costInBillingCurrency in the actual export.
        amortized: Same in the amortized export.
        rows_actual: Actual rows.
        rows_amortized: Amortized rows.
    """

    actual: int = 0
    amortized: int = 0
    rows_actual: int = 0
    rows_amortized: int = 0


class AzureModel:
    """The MCA estate: subscriptions, streams, a VM reservation and a compute savings plan."""

    def __init__(self, window: Window, seed: int, n_streams: int, plans: list[AnomalyPlan], tracker: AnomalyTracker):
        """Build the estate.

        Args:
            window: Run window.
            seed: Run seed.
            n_streams: Target stream count.
            plans: Anomaly plans.
            tracker: Anomaly baseline tracker.
        """
        self.window = window
        self.seed = seed
        self.tracker = tracker
        self.billing = COMPANY.azure_billing
        self.subs = COMPANY.azure_subscriptions
        owners = [
            Owner(
                s.subscription_id,
                s.team,
                s.env,
                s.purpose,
                SUBSCRIPTION_WEIGHT[s.name],
                SHARED_CONSUMERS.get(s.purpose, ()),
            )
            for s in self.subs
        ]
        rng = np.random.default_rng([seed, PROVIDER_CODE, 0])
        self.table = SpecTable(AZURE_SPECS)
        cost_centers = {t.key: t.cost_center for t in COMPANY.teams}
        self.streams = build_streams(rng, self.table, owners, MIXES, n_streams, window, CASE_DRIFT, cost_centers)
        self.ri_covered = self._reserve()
        self.ri_units = int(self.ri_covered.sum()) + 1
        self.ri_rate = parse_decimal(RI_RATE, 10)
        self.sp_rate = round_units(self.table.rate * SP_DISCOUNT_PERCENT // 100, 10**4)
        self.sp_eligible = np.array([self.table.specs[s].attrs.get("sp") == "1" for s in self.streams.spec])
        self.sp_eligible &= ~self.ri_covered
        self.sp_hourly = self._size_savings_plan()
        self.benefits = self._benefits()
        subs = [self.subs[o].subscription_id for o in self.streams.owner]
        services = [self.table.service[s] for s in self.streams.spec]
        multiplier, self.anomaly_targets = anomaly_multiplier(plans, "azure", subs, services)
        self.usage = UsageModel(self.streams, self.table, window, seed, PROVIDER_CODE, multiplier, self.ri_covered)
        self.static = _static_table(self)

    def _reserve(self) -> np.ndarray:
        owner = next(i for i, s in enumerate(self.subs) if s.purpose == "appservice")
        spec = self.table.index["vm_d4s_v5"]
        candidates = np.flatnonzero((self.streams.owner == owner) & (self.streams.spec == spec))[:RI_MAX_COVERED]
        self.streams.pin(candidates, self.window.days)
        covered = np.zeros(len(self.streams), dtype=bool)
        covered[candidates] = True
        return covered

    def _size_savings_plan(self) -> int:
        s = self.streams
        hours = np.minimum(s.base * 1.07, self.table.cap[s.spec])
        eligible = self.sp_eligible & (s.start == 0)
        daily = float(np.sum(hours[eligible] * self.sp_rate[s.spec][eligible])) * SP_COMMIT_SHARE
        return max(int(round_units(int(daily / 24), 10**7)), 10**9)

    def _benefits(self) -> list[Benefit]:
        def make(kind: str, label: str, order_name: str) -> Benefit:
            order = stable_guid(self.seed, "azure", label, "order")
            inner = stable_guid(self.seed, "azure", label)
            if kind == "ri":
                return Benefit(
                    f"/providers/Microsoft.Capacity/reservationOrders/{order}/reservations/{inner}",
                    label, order, order_name, inner,
                )  # fmt: skip
            return Benefit(
                f"/providers/Microsoft.BillingBenefits/savingsPlanOrders/{order}/savingsPlans/{inner}",
                label, order, order_name, None,
            )  # fmt: skip

        return [
            make("ri", "ri-d4sv5-catalog", "Reserved VM Instance, Standard_D4s_v5, EU West, 1 Year"),
            make("sp", "sp-compute-1y", "Compute savings plan, 1 Year"),
            make("ri", "ri-e8sv5-analytics-cancelled", "Reserved VM Instance, Standard_E8s_v5, EU West, 1 Year"),
        ]

    def fx(self, period: Period) -> int:
        """USD -> EUR rate of a month, 1e-6 units (varies a little month to month).

        Args:
            period: Billing period.

        Returns:
            The rate.
        """
        return 915_000 + stable_int("fx", period.label) % 12_000

    def invoice_id(self, period: Period) -> str | None:
        """MCA invoice id of a closed month.

        Args:
            period: Billing period.

        Returns:
            'G' + 9 digits, or None while open.
        """
        if period.is_open:
            return None
        return self.invoice_number(period.start.year, period.start.month)

    def invoice_number(self, year: int, month: int) -> str:
        """Deterministic invoice number of any month.

        Args:
            year: Year.
            month: Month.

        Returns:
            The invoice id.
        """
        return f"G{stable_int(self.billing.billing_profile_id, year, month) % 900_000_000 + 100_000_000}"

    # ----- rows ------------------------------------------------------------------------------------------

    def deliver(self, delivery: Delivery, ledger: AzureLedger) -> Iterator[AzureBlock]:
        """Yield one run's rows (both exports), one block per day after the month-start charges.

        Args:
            delivery: Which month and how far.
            ledger: Filled with totals.

        Yields:
            Row blocks.
        """
        period = delivery.period
        fx = self.fx(period)
        ri_daily, sp_daily, purchases = self._commitment_schedule(period, fx)
        blocks = [purchases]
        for day in range(period.first_day, delivery.last_day + 1):
            partial = 0
            if delivery.partial_last_day:
                partial = {delivery.last_day: 2, delivery.last_day - 1: 1}.get(day, 0)
            blocks.append(self._day_block(day, partial, fx, ri_daily, sp_daily, track=delivery.current))
        for block in blocks:
            ledger.actual += int(block.ints["eur_act"][_IN_ACTUAL[block.kind]].sum())
            ledger.amortized += int(block.ints["eur_amo"][_IN_AMORTIZED[block.kind]].sum())
            ledger.rows_actual += int(_IN_ACTUAL[block.kind].sum())
            ledger.rows_amortized += int(_IN_AMORTIZED[block.kind].sum())
            yield block

    def _commitment_schedule(self, period: Period, fx: int) -> tuple[np.ndarray, np.ndarray, AzureBlock]:
        """Monthly purchases (billed on the 1st) and their split over the days of the month, in EUR."""
        hours = period.days_in_month * 24
        ri_usd = self.ri_units * hours * self.ri_rate
        sp_usd = self.sp_hourly * hours
        ri_eur, sp_eur = int(convert(ri_usd, fx)), int(convert(sp_usd, fx))
        first = (period.start - self.window.start_date).days
        rows = [
            self._row(self.static.ri_purchase, RI_PURCHASE, first, 0, 1, ri_usd, ri_usd, ri_eur, ri_eur),
            self._row(self.static.sp_purchase, SP_PURCHASE, first, 1, 1, sp_usd, sp_usd, sp_eur, sp_eur),
        ]
        mp_eur = int(convert(MARKETPLACE_USD, fx))
        rows.append(
            self._row(
                self.static.marketplace, MARKETPLACE, first, -1, 1, MARKETPLACE_USD, MARKETPLACE_USD, mp_eur, mp_eur
            )
        )
        if period.index == self._refund_period():
            day = max(period.first_day, min(period.last_day, first + 11))
            usd = int(REFUND_EUR * 10**6 // fx)
            rows.append(self._row(self.static.refund, REFUND, day, 2, 1, usd, usd, REFUND_EUR, REFUND_EUR))
        return _split(ri_eur, period.days_in_month), _split(sp_eur, period.days_in_month), AzureBlock.concat(rows)

    def _refund_period(self) -> int:
        periods = self.window.periods
        return periods[-2].index if len(periods) >= 2 else periods[-1].index

    def _row(self, static: int, kind: int, day: int, benefit: int, quantity: int, usd_act: int, usd_amo: int,
             eur_act: int, eur_amo: int) -> AzureBlock:  # fmt: skip
        ints = {
            "quantity": np.array([quantity * 10**6]),
            "price_act": np.array([usd_act // quantity]),
            "price_amo": np.array([usd_amo // quantity]),
            "unit_price": np.array([max(usd_act, usd_amo) // quantity]),
            "usd_act": np.array([usd_act]),
            "usd_amo": np.array([usd_amo]),
            "eur_act": np.array([eur_act]),
            "eur_amo": np.array([eur_amo]),
            "payg_usd": np.array([max(usd_act, usd_amo)]),
            "payg_eur": np.array([max(eur_act, eur_amo)]),
        }
        return AzureBlock(
            np.array([static]), np.array([kind]), np.array([day]), np.array([benefit]),
            {k: v.astype(np.int64) for k, v in ints.items()},
        )  # fmt: skip

    def _day_block(
        self, day: int, partial: int, fx: int, ri_daily: np.ndarray, sp_daily: np.ndarray, track: bool
    ) -> AzureBlock:
        usage = self.usage.day(day, partial)
        spec = self.streams.spec[usage.index]
        rate = self.table.rate[spec]
        od_eur = convert(usage.cost, fx)
        if track:
            for plan, mask in self.anomaly_targets:
                sel = mask[usage.index]
                self.tracker.observe(plan, day, od_eur[sel], usage.anomaly[sel])
        day_of_month = (self.window.dates[day] - self.window.dates[day].replace(day=1)).days
        on_ri = self.ri_covered[usage.index]
        sp_usd = usage.amount * self.sp_rate[spec] // 10**6
        sp_eur = convert(sp_usd, fx)
        covered = cover_greedy(sp_eur, self.sp_eligible[usage.index], int(sp_daily[day_of_month]))
        ri_usd = usage.amount * self.ri_rate // 10**6
        ri_eur = convert(ri_usd, fx)
        kind = np.where(on_ri, RI_USAGE, np.where(covered, SP_USAGE, ON_DEMAND))
        committed = kind != ON_DEMAND
        amo_usd = np.where(on_ri, ri_usd, np.where(covered, sp_usd, usage.cost))
        amo_eur = np.where(on_ri, ri_eur, np.where(covered, sp_eur, od_eur))
        amo_price = np.where(on_ri, self.ri_rate, np.where(covered, self.sp_rate[spec], rate))
        ints = {
            "quantity": usage.amount,
            "price_act": np.where(committed, 0, rate),
            "price_amo": amo_price,
            "unit_price": rate,
            "usd_act": np.where(committed, 0, usage.cost),
            "usd_amo": amo_usd,
            "eur_act": np.where(committed, 0, od_eur),
            "eur_amo": amo_eur,
            "payg_usd": usage.cost,
            "payg_eur": od_eur,
        }
        benefit = np.where(on_ri, 0, np.where(covered, 1, -1))
        usage_block = AzureBlock(usage.index, kind, np.full(len(kind), day), benefit, ints)
        ri_unused_eur = int(ri_daily[day_of_month]) - int(ri_eur[on_ri].sum())
        ri_unused_hours = self.ri_units * 24 - int(on_ri.sum()) * 24
        sp_unused_eur = int(sp_daily[day_of_month]) - int(sp_eur[covered].sum())
        sp_unused_usd = max(0, self.sp_hourly * 24 - int(sp_usd[covered].sum()))
        unused = [
            self._unused(self.static.ri_unused, RI_UNUSED, day, 0, ri_unused_hours, self.ri_rate, ri_unused_eur),
            self._unused(self.static.sp_unused, SP_UNUSED, day, 1, 1, sp_unused_usd, sp_unused_eur),
        ]
        return AzureBlock.concat([usage_block, *unused])

    def _unused(
        self, static: int, kind: int, day: int, benefit: int, quantity: int, price: int, eur: int
    ) -> AzureBlock:
        block = self._row(static, kind, day, benefit, 1, 0, price * quantity, 0, eur)
        block.ints["quantity"][:] = quantity * 10**6
        block.ints["price_amo"][:] = price
        block.ints["unit_price"][:] = price
        block.ints["payg_usd"][:] = 0
        block.ints["payg_eur"][:] = 0
        return block


def _split(total: int, parts: int) -> np.ndarray:
    """Split an amount into `parts` daily shares that add up exactly (remainder on the first days)."""
    base, remainder = divmod(total, parts)
    shares = np.full(parts, base, dtype=np.int64)
    shares[:remainder] += 1
    return shares


@dataclass
class AzureStatic:
    """Text attributes per line (streams first, then pseudo-lines) and where the pseudo-lines are.

    Attributes:
        columns: Column name -> one value per line.
        ri_purchase: Line of the monthly reservation purchase.
        sp_purchase: Line of the monthly savings plan purchase.
        ri_unused: Line of the daily unused reservation.
        sp_unused: Line of the daily unused savings plan.
        marketplace: Line of the monthly marketplace purchase.
        refund: Line of the reservation refund.
    """

    columns: dict[str, list[str | None]]
    ri_purchase: int
    sp_purchase: int
    ri_unused: int
    sp_unused: int
    marketplace: int
    refund: int


def _static_table(model: AzureModel) -> AzureStatic:
    rows = [_stream_attrs(model, i) for i in range(len(model.streams))]
    by_purpose = {x.purpose: x for x in model.subs}
    vm = AZURE_SPECS[model.table.index["vm_d4s_v5"]]
    ri = "Reserved VM Instance, Standard_D4s_v5, EU West, 1 Year"
    sp = "Compute savings plan, 1 Year"
    cancelled = "Reserved VM Instance, Standard_E8s_v5, EU West, 1 Year"
    specs = {  # line -> (purpose, meterCategory, product, serviceFamily, consumedService, unitOfMeasure)
        "ri_purchase": ("appservice", "Virtual Machines", ri, "Compute", "Microsoft.Capacity", "1 Hour"),
        "sp_purchase": ("hub", "Savings Plan", sp, "Compute", "Microsoft.BillingBenefits", "1 Hour"),
        "ri_unused": ("appservice", vm.attrs["category"], vm.attrs["product"], "Compute", vm.service, "1 Hour"),
        "sp_unused": ("hub", "Savings Plan", sp, "Compute", "Microsoft.BillingBenefits", "1 Hour"),
        "marketplace": ("security", "SaaS", "Contoso Observability Pro - Monthly", "Management and Governance",
                        "Microsoft.SaaS", "1/Month"),
        "refund": ("analytics", "Virtual Machines", cancelled, "Compute", "Microsoft.Capacity", "1 Hour"),
    }  # fmt: skip
    pseudo = {key: _base(by_purpose[purpose], *attrs) for key, (purpose, *attrs) in specs.items()}
    security = by_purpose["security"].subscription_id
    pseudo["marketplace"].update(
        publisherType="Marketplace",
        publisherId="contoso-observability",
        publisherName="Contoso Observability Ltd",
        ResourceId=f"/subscriptions/{security}/resourceGroups/rg-observability/providers/"
        "Microsoft.SaaS/resources/contoso-observability-pro",
        resourceGroupName="rg-observability",
        productOrderId=stable_guid(model.seed, "azure", "marketplace-order"),
        productOrderName="Contoso Observability Pro",
    )
    index = {}
    for key, row in pseudo.items():
        index[key] = len(rows)
        rows.append(row)
    return AzureStatic(columns={k: [r[k] for r in rows] for k in rows[0]}, **index)


def _stream_attrs(model: AzureModel, i: int) -> dict[str, str | None]:
    s = model.streams
    spec = model.table.specs[s.spec[i]]
    sub = model.subs[s.owner[i]]
    serial = int(s.serial[i])
    rg = f"rg-{sub.name}-{serial % 7:02d}"
    name = f"{spec.key.replace('_', '-')}-{serial:05d}"
    tags = {}
    if s.tag_key[i] is not None:
        tags[s.tag_key[i]] = s.tag_value[i]
    tags["env"] = s.env[i]
    if s.cost_center[i] is not None:
        tags["cost-center"] = s.cost_center[i]
    additional = None
    if "vm" in spec.attrs:
        additional = json.dumps(
            {"UsageType": "ComputeHR", "ImageType": "Canonical", "ServiceType": spec.attrs["vm"],
             "VMName": name, "VCPUs": int(spec.attrs["vcpus"])},
            separators=(",", ":"),
        )  # fmt: skip
    row = _base(sub, spec.attrs["category"], spec.attrs["product"], spec.attrs["family"], spec.service, spec.unit)
    row.update(
        meterId=stable_guid("azure-meter", spec.key),
        meterName=spec.attrs["meter"],
        meterSubCategory=spec.attrs["subcategory"] or None,
        resourceGroupName=rg,
        ResourceId=f"/subscriptions/{sub.subscription_id}/resourceGroups/{rg}/providers/{spec.attrs['rtype']}/{name}",
        serviceInfo2="Canonical" if "vm" in spec.attrs else None,
        additionalInfo=additional,
        tags=json.dumps(tags, separators=(",", ":")) if tags else None,
    )
    return row


def _base(
    sub: AzureSubscription, category: str, product: str, family: str, service: str, unit: str
) -> dict[str, str | None]:
    """Attributes every line has, from its subscription and product."""
    section = next(x for x in COMPANY.azure_invoice_sections if x.business_unit == sub.invoice_section)
    cost_center = COMPANY.team(sub.team).cost_center if sub.team else "CC-2000"
    parts = product.split(" - ")
    return {
        "invoiceSectionId": section.section_id,
        "invoiceSectionName": section.name,
        "costCenter": cost_center,
        "serviceFamily": family,
        "productOrderId": None,
        "productOrderName": None,
        "consumedService": service,
        "meterId": stable_guid("azure-meter", product),
        "meterName": parts[1] if len(parts) > 1 else product,
        "meterCategory": category,
        "meterSubCategory": None,
        "meterRegion": REGION[1],
        "ProductId": f"{stable_token(_SKU_ALPHABET, 12, product)}/{stable_token(_SKU_ALPHABET, 4, product, 1)}",
        "ProductName": product,
        "SubscriptionId": sub.subscription_id,
        "subscriptionName": sub.name,
        "publisherType": "Microsoft",
        "publisherId": None,
        "publisherName": "Microsoft",
        "resourceGroupName": None,
        "ResourceId": None,
        "resourceLocation": REGION[0],
        "location": REGION[1],
        "unitOfMeasure": unit,
        "serviceInfo1": None,
        "serviceInfo2": None,
        "additionalInfo": None,
        "tags": None,
    }


# ----- writing ---------------------------------------------------------------------------------------------


class AzureEncoder:
    """Renders AzureBlocks as the MCA cost details CSV of either export."""

    def __init__(self, model: AzureModel) -> None:
        """Pre-encode static columns.

        Args:
            model: The Azure model.
        """
        self.model = model
        self.static = pa.table({k: csv_column(pa.array(v, pa.string())) for k, v in model.static.columns.items()})
        self.kind_columns = {
            name: csv_column(pa.array([k[i] for k in KINDS], pa.string()))
            for i, name in enumerate(("chargeType", "pricingModel", "frequency", "isAzureCreditEligible", "term"))
        }
        b = model.benefits
        self.benefit_columns = {
            "benefitId": pa.array([x.benefit_id for x in b]),
            "benefitName": pa.array([x.name for x in b]),
            "reservationId": pa.array([x.reservation_id for x in b], pa.string()),
            "reservationName": pa.array([x.name if x.reservation_id else None for x in b], pa.string()),
            "productOrderId": pa.array([x.order_id for x in b]),
            "productOrderName": csv_column(pa.array([x.order_name for x in b])),
        }

    def encode(self, block: AzureBlock, period: Period, export: str) -> tuple[bytes, int]:
        """Render the rows that belong to one export.

        Args:
            block: Rows of both exports.
            period: Billing period.
            export: "actual" or "amortized".

        Returns:
            (CSV bytes, rows).
        """
        keep = (_IN_ACTUAL if export == "actual" else _IN_AMORTIZED)[block.kind]
        idx = np.flatnonzero(keep)
        if len(idx) == 0:
            return b"", 0
        m = self.model
        suffix = "act" if export == "actual" else "amo"
        static = block.static[idx]
        kind = block.kind[idx]
        benefit = block.benefit[idx]
        ints = {k: v[idx] for k, v in block.ints.items()}
        cols: dict[str, pa.Array | str] = dict(take_columns(self.static, static))
        for name, values in self.kind_columns.items():
            cols[name] = take_strings(values, kind)
        for name, values in self.benefit_columns.items():
            from_benefit = take_strings(values, benefit)
            cols[name] = from_benefit if name not in cols else pc.coalesce(from_benefit, cols[name])
        invoice = m.invoice_id(period)
        previous = m.invoice_number(*_previous_month(period))
        cols["invoiceId"] = invoice or ""
        cols["previousInvoiceId"] = take_strings(pa.array([None, previous], pa.string()), (kind == REFUND).astype(int))
        cols["billingAccountId"] = m.billing.billing_account_id
        cols["billingAccountName"] = m.billing.billing_account_name
        cols["billingProfileId"] = m.billing.billing_profile_id
        cols["billingProfileName"] = m.billing.billing_profile_name
        cols["partnerName"] = cols["resellerName"] = cols["resellerMpnId"] = ""
        cols["billingPeriodStartDate"] = f"{period.start:%m/%d/%Y}"
        cols["billingPeriodEndDate"] = f"{period.last_date:%m/%d/%Y}"
        cols["servicePeriodStartDate"] = f"{period.start:%m/%d/%Y}"
        cols["servicePeriodEndDate"] = f"{period.last_date:%m/%d/%Y}"
        cols["date"] = self._dates(block.day[idx])
        cols["effectivePrice"] = decimal_strings(ints[f"price_{suffix}"], 10)
        cols["quantity"] = decimal_strings(ints["quantity"], 6)
        cols["billingCurrency"] = m.billing.billing_currency
        cols["pricingCurrency"] = m.billing.pricing_currency
        cols["costInBillingCurrency"] = decimal_strings(ints[f"eur_{suffix}"], 10)
        cols["costInPricingCurrency"] = decimal_strings(ints[f"usd_{suffix}"], 10)
        cols["costInUsd"] = cols["costInPricingCurrency"]
        cols["paygCostInBillingCurrency"] = decimal_strings(ints["payg_eur"], 10)
        cols["paygCostInUsd"] = decimal_strings(ints["payg_usd"], 10)
        cols["exchangeRatePricingToBilling"] = decimal_text(m.fx(period), 6)
        cols["exchangeRateDate"] = f"{period.start:%m/%d/%Y}"
        cols["PayGPrice"] = decimal_strings(ints["unit_price"], 10)
        cols["unitPrice"] = cols["PayGPrice"]
        cols["costAllocationRuleName"] = ""
        cols["provider"] = "Azure"
        return join_lines([cols[c] for c in COLUMNS], ","), len(idx)

    def _dates(self, days: np.ndarray) -> pa.Array:
        unique, inverse = np.unique(days, return_inverse=True)
        start = self.model.window.start_date
        texts = pa.array([f"{start.fromordinal(start.toordinal() + int(d)):%m/%d/%Y}" for d in unique])
        return take_strings(texts, inverse)


def _previous_month(period: Period) -> tuple[int, int]:
    year, month = period.start.year, period.start.month - 1
    return (year - 1, 12) if month == 0 else (year, month)


def write_azure(model: AzureModel, out: Path, window: Window, progress: Progress | None) -> ProviderOutput:
    """Write both exports' runs and manifests.

    Args:
        model: The Azure model.
        out: OUT directory.
        window: Run window.
        progress: Optional progress callback.

    Returns:
        Files, row counts and expected totals.
    """
    result = ProviderOutput()
    encoder = AzureEncoder(model)
    deliveries = [d for p in window.periods for d in window.deliveries(p, salt=3)]
    ticker = Ticker(progress, "azure", chunks_in(deliveries))
    for delivery in deliveries:
        _write_run(model, encoder, out / "azure", delivery, result, ticker)
    return result


def _write_run(
    model: AzureModel,
    encoder: AzureEncoder,
    container: Path,
    delivery: Delivery,
    result: ProviderOutput,
    ticker: Ticker,
) -> None:
    period = delivery.period
    folder = f"{period.start:%Y%m%d}-{period.last_date:%Y%m%d}"
    writers: dict[str, tuple[CsvPartWriter, str, Path]] = {}
    for export, (name, _) in EXPORTS.items():
        run_id = stable_guid(model.seed, "azure", name, delivery.delivered_at.isoformat())
        run_dir = container / ROOT_FOLDER / name / folder / run_id
        header = (",".join(COLUMNS) + "\n").encode()
        writer = CsvPartWriter(header, lambda part, d=run_dir: d / f"part_0_{part:04d}.csv.gz")
        writers[export] = (writer, run_id, run_dir)
    ledger = AzureLedger()
    for block in model.deliver(delivery, ledger):
        for export, (writer, _, _) in writers.items():
            data, rows = encoder.encode(block, period, export)
            writer.write(data, rows)
        ticker.tick()
    kind = "current" if delivery.current else "superseded"
    for export, (writer, run_id, run_dir) in writers.items():
        parts = writer.close()
        result.files += [p for p, _, _ in parts]
        manifest = _manifest(model, container, delivery, export, run_id, parts)
        result.files.append(write_json(run_dir / "manifest.json", manifest))
        result.count(f"{export}_{kind}", sum(r for _, r, _ in parts))
    if delivery.current:
        result.totals.append(
            InvoiceTotal("azure", model.billing.billing_account_id, period.label, model.billing.billing_currency,
                         ledger.actual, ledger.amortized, ledger.rows_actual)
        )  # fmt: skip


def _manifest(model: AzureModel, container: Path, delivery: Delivery, export: str, run_id: str,
              parts: list[tuple[Path, int, int]]) -> dict[str, object]:  # fmt: skip
    name, export_type = EXPORTS[export]
    b = model.billing
    period = delivery.period
    end = model.window.start_date.fromordinal(
        model.window.start_date.toordinal() + max(delivery.last_day, period.first_day)
    )
    return {
        "manifestVersion": "2024-04-01",
        "byteCount": sum(size for _, _, size in parts),
        "blobCount": len(parts),
        "dataRowCount": sum(rows for _, rows, _ in parts),
        "exportConfig": {
            "exportName": name,
            "resourceId": f"/providers/Microsoft.Billing/billingAccounts/{b.billing_account_id}/billingProfiles/"
            f"{b.billing_profile_id}/providers/Microsoft.CostManagement/exports/{name}",
            "dataVersion": "2023-12-01-preview",
            "apiVersion": "2023-07-01-preview",
            "type": export_type,
            "timeFrame": "MonthToDate",
            "granularity": "Daily",
        },
        "deliveryConfig": {
            "partitionData": True,
            "dataOverwriteBehavior": "CreateNewReport",
            "fileFormat": "Csv",
            "compressionMode": "gzip",
            "containerName": CONTAINER,
            "rootFolderPath": ROOT_FOLDER,
        },
        "runInfo": {
            "executionType": "Scheduled",
            "submittedTime": delivery.delivered_at.strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
            "runId": run_id,
            "startDate": f"{period.start:%Y-%m-%d}T00:00:00",
            "endDate": f"{end:%Y-%m-%d}T00:00:00",
        },
        "blobs": [
            {"blobName": p.relative_to(container).as_posix(), "byteCount": size, "dataRowCount": rows}
            for p, rows, size in parts
        ],
    }
