"""AWS legacy Cost and Usage Report (CSV, gzip, assemblies + manifest) for payer 111111111111.

Layout, as S3 would hold it with OUT/aws/cur/ as the bucket root::

    finops-demo/cur-daily/20260801-20260901/cur-daily-Manifest.json      names the current assembly
    finops-demo/cur-daily/20260801-20260901/<assemblyId>/cur-daily-00001.csv.gz
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from finops_warehouse.demo import aws
from finops_warehouse.demo.aws import NULL, AwsBlock, AwsModel, Ledger
from finops_warehouse.demo.encode import (
    CsvPartWriter,
    base32_ids,
    csv_column,
    csv_field,
    decimal_strings,
    join_lines,
    stable_guid,
    take_columns,
    take_strings,
)
from finops_warehouse.demo.output import InvoiceTotal, Progress, ProviderOutput, Ticker, chunks_in, write_json
from finops_warehouse.demo.timeline import Delivery, Period, Window, iso_z

BUCKET = "northwind-billing-cur"
PREFIX = "finops-demo"
REPORT = "cur-daily"
TAG_COLUMNS = (
    ("user:team", "team"),
    ("user:Team", "Team"),
    ("user:TEAM", "TEAM"),
    ("user:owner_team", "owner_team"),
)

# (category, name, manifest type) in file order; names and order follow the real legacy CUR.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("identity", "LineItemId", "String"),
    ("identity", "TimeInterval", "Interval"),
    ("bill", "InvoiceId", "String"),
    ("bill", "InvoicingEntity", "String"),
    ("bill", "BillingEntity", "String"),
    ("bill", "BillType", "String"),
    ("bill", "PayerAccountId", "String"),
    ("bill", "BillingPeriodStartDate", "DateTime"),
    ("bill", "BillingPeriodEndDate", "DateTime"),
    ("lineItem", "UsageAccountId", "String"),
    ("lineItem", "LineItemType", "String"),
    ("lineItem", "UsageStartDate", "DateTime"),
    ("lineItem", "UsageEndDate", "DateTime"),
    ("lineItem", "ProductCode", "String"),
    ("lineItem", "UsageType", "String"),
    ("lineItem", "Operation", "String"),
    ("lineItem", "AvailabilityZone", "String"),
    ("lineItem", "ResourceId", "String"),
    ("lineItem", "UsageAmount", "BigDecimal"),
    ("lineItem", "NormalizationFactor", "OptionalBigDecimal"),
    ("lineItem", "NormalizedUsageAmount", "OptionalBigDecimal"),
    ("lineItem", "CurrencyCode", "String"),
    ("lineItem", "UnblendedRate", "OptionalBigDecimal"),
    ("lineItem", "UnblendedCost", "BigDecimal"),
    ("lineItem", "BlendedRate", "OptionalBigDecimal"),
    ("lineItem", "BlendedCost", "BigDecimal"),
    ("lineItem", "LineItemDescription", "String"),
    ("lineItem", "TaxType", "String"),
    ("lineItem", "LegalEntity", "String"),
    ("product", "ProductName", "String"),
    ("product", "productFamily", "String"),
    ("product", "region", "String"),
    ("product", "regionCode", "String"),
    ("product", "location", "String"),
    ("product", "instanceType", "String"),
    ("product", "servicecode", "String"),
    ("product", "sku", "String"),
    ("product", "usagetype", "String"),
    ("product", "operation", "String"),
    ("pricing", "RateCode", "String"),
    ("pricing", "RateId", "String"),
    ("pricing", "currency", "String"),
    ("pricing", "publicOnDemandCost", "BigDecimal"),
    ("pricing", "publicOnDemandRate", "BigDecimal"),
    ("pricing", "term", "String"),
    ("pricing", "unit", "String"),
    ("pricing", "PurchaseOption", "String"),
    ("reservation", "ReservationARN", "String"),
    ("reservation", "EffectiveCost", "BigDecimal"),
    ("reservation", "AmortizedUpfrontFeeForBillingPeriod", "BigDecimal"),
    ("reservation", "RecurringFeeForUsage", "BigDecimal"),
    ("reservation", "UnusedAmortizedUpfrontFeeForBillingPeriod", "BigDecimal"),
    ("reservation", "UnusedRecurringFee", "BigDecimal"),
    ("reservation", "TotalReservedUnits", "BigDecimal"),
    ("reservation", "UnusedQuantity", "BigDecimal"),
    ("savingsPlan", "SavingsPlanARN", "String"),
    ("savingsPlan", "SavingsPlanRate", "BigDecimal"),
    ("savingsPlan", "SavingsPlanEffectiveCost", "BigDecimal"),
    ("savingsPlan", "TotalCommitmentToDate", "BigDecimal"),
    ("savingsPlan", "UsedCommitment", "BigDecimal"),
    ("savingsPlan", "RecurringCommitmentForBillingPeriod", "BigDecimal"),
    ("savingsPlan", "AmortizedUpfrontCommitmentForBillingPeriod", "BigDecimal"),
    *(("resourceTags", name, "OptionalString") for name, _ in TAG_COLUMNS),
    ("resourceTags", "user:env", "OptionalString"),
    ("resourceTags", "user:cost-center", "OptionalString"),
    ("resourceTags", "aws:createdBy", "OptionalString"),
)
HEADER = [f"{category}/{name}" for category, name, _ in COLUMNS]

# Integer column -> (legacy header, scale).
_INT_HEADERS = {
    "amount": ("lineItem/UsageAmount", 6),
    "nf": ("lineItem/NormalizationFactor", 0),
    "normalized": ("lineItem/NormalizedUsageAmount", 6),
    "rate": ("lineItem/UnblendedRate", 10),
    "cost": ("lineItem/UnblendedCost", 10),
    "od_cost": ("pricing/publicOnDemandCost", 10),
    "od_rate": ("pricing/publicOnDemandRate", 10),
    "ri_eff": ("reservation/EffectiveCost", 10),
    "ri_amortized_upfront_bp": ("reservation/AmortizedUpfrontFeeForBillingPeriod", 10),
    "ri_recurring_for_usage": ("reservation/RecurringFeeForUsage", 10),
    "ri_unused_upfront": ("reservation/UnusedAmortizedUpfrontFeeForBillingPeriod", 10),
    "ri_unused_recurring": ("reservation/UnusedRecurringFee", 10),
    "ri_total_units": ("reservation/TotalReservedUnits", 6),
    "ri_unused_qty": ("reservation/UnusedQuantity", 6),
    "sp_rate": ("savingsPlan/SavingsPlanRate", 10),
    "sp_eff": ("savingsPlan/SavingsPlanEffectiveCost", 10),
    "sp_total": ("savingsPlan/TotalCommitmentToDate", 10),
    "sp_used": ("savingsPlan/UsedCommitment", 10),
    "sp_recurring_bp": ("savingsPlan/RecurringCommitmentForBillingPeriod", 10),
    "sp_amortized_upfront_bp": ("savingsPlan/AmortizedUpfrontCommitmentForBillingPeriod", 10),
}
# Static text attribute -> legacy header.
_STATIC_HEADERS = {
    "usage_account_id": "lineItem/UsageAccountId",
    "product_code": "lineItem/ProductCode",
    "usage_type": "lineItem/UsageType",
    "operation": "lineItem/Operation",
    "availability_zone": "lineItem/AvailabilityZone",
    "resource_id": "lineItem/ResourceId",
    "tax_type": "lineItem/TaxType",
    "product_name": "product/ProductName",
    "product_family": "product/productFamily",
    "region": "product/region",
    "location": "product/location",
    "instance_type": "product/instanceType",
    "servicecode": "product/servicecode",
    "sku": "product/sku",
    "rate_id": "pricing/RateId",
    "unit": "pricing/unit",
    "bill_type": "bill/BillType",
    "env": "resourceTags/user:env",
    "cost_center": "resourceTags/user:cost-center",
    "created_by": "resourceTags/aws:createdBy",
}


def format_ints(values: np.ndarray, scale: int) -> pa.Array:
    """Render an integer column with NULL sentinels as decimal strings / empty cells.

    Sparse columns are formatted on their filled cells only, then scattered back.

    Args:
        values: int64 with NULL for empty.
        scale: Decimal places of the units.

    Returns:
        Arrow string array.
    """
    valid = values != NULL
    filled = int(valid.sum())
    if filled == len(values):
        return decimal_strings(values, scale)
    if filled == 0:
        return pa.nulls(len(values), pa.string())
    position = np.where(valid, np.cumsum(valid) - 1, -1)
    return take_strings(decimal_strings(values[valid], scale), position)


class LegacyEncoder:
    """Turns AwsBlocks into CSV bytes for one payer (static columns are encoded once)."""

    def __init__(self, model: AwsModel) -> None:
        """Pre-encode every static column.

        Args:
            model: The payer model.
        """
        self.model = model
        text = model.static.text
        n = len(model.static)
        static = {header: csv_column(pa.array(text[key], pa.string())) for key, header in _STATIC_HEADERS.items()}
        static["product/regionCode"] = static["product/region"]
        static["product/usagetype"] = static["lineItem/UsageType"]
        static["product/operation"] = static["lineItem/Operation"]
        for header, key in TAG_COLUMNS:
            values = [v if k == key else None for k, v in zip(text["tag_key"], text["tag_value"], strict=True)]
            static[f"resourceTags/{header}"] = csv_column(pa.array(values, pa.string()))
        self.static = pa.table(static)
        descriptions = text["desc_usage"] + text["desc_negation"] + text["desc_ri"]
        self.descriptions = csv_column(pa.array(descriptions, pa.string()))
        self.rate_codes = csv_column(pa.array(text["rate_code"] + text["rate_code_ri"], pa.string()))
        self.n_static = n
        self.line_types = pa.array(aws.LINE_TYPES)
        self.terms = pa.array(aws.PRICING_TERM, pa.string())
        self.purchase = pa.array(aws.PURCHASE_OPTION, pa.string())
        self.ri_arns = pa.array([r.arn for r in model.reservations])
        self.sp_arns = pa.array([model.savings_plan.arn])

    def encode(self, block: AwsBlock, period: Period, invoice_id: str | None) -> bytes:
        """Render rows in HEADER order.

        Args:
            block: Rows.
            period: Their billing period.
            invoice_id: Invoice id (closed months) or None.

        Returns:
            CSV bytes without header.
        """
        m = self.model
        cols: dict[str, pa.Array | str | None] = dict(take_columns(self.static, block.static))
        starts = self._timestamps(block.start_day)
        ends = self._timestamps(block.end_day)
        cols["identity/LineItemId"] = base32_ids(m.line_item_ids(block))
        cols["identity/TimeInterval"] = pc.binary_join_element_wise(starts, ends, "/")
        cols["bill/InvoiceId"] = invoice_id
        cols["bill/InvoicingEntity"] = csv_field(aws.LEGAL_ENTITY)
        cols["bill/BillingEntity"] = "AWS"
        cols["bill/PayerAccountId"] = m.payer.account_id
        cols["bill/BillingPeriodStartDate"] = iso_z(period.start)
        cols["bill/BillingPeriodEndDate"] = iso_z(period.end)
        cols["lineItem/LineItemType"] = take_strings(self.line_types, block.line_type)
        cols["lineItem/UsageStartDate"] = starts
        cols["lineItem/UsageEndDate"] = ends
        cols["lineItem/CurrencyCode"] = "USD"
        cols["lineItem/LegalEntity"] = csv_field(aws.LEGAL_ENTITY)
        for key, (header, scale) in _INT_HEADERS.items():
            cols[header] = format_ints(block.ints[key], scale)
        cols["lineItem/BlendedRate"] = cols["lineItem/UnblendedRate"]
        cols["lineItem/BlendedCost"] = cols["lineItem/UnblendedCost"]
        variant = np.select([block.line_type == aws.SP_NEGATION, block.line_type == aws.DISCOUNTED], [1, 2], default=0)
        cols["lineItem/LineItemDescription"] = take_strings(self.descriptions, block.static + variant * self.n_static)
        reserved = (block.line_type == aws.DISCOUNTED) | (block.line_type == aws.RI_FEE)
        cols["pricing/RateCode"] = take_strings(self.rate_codes, block.static + reserved * self.n_static)
        cols["pricing/currency"] = pc.if_else(
            pa.array(block.ints["od_rate"] != NULL), "USD", pa.scalar(None, pa.string())
        )
        cols["pricing/term"] = take_strings(self.terms, block.line_type)
        cols["pricing/PurchaseOption"] = take_strings(self.purchase, block.line_type)
        cols["reservation/ReservationARN"] = take_strings(self.ri_arns, block.ri)
        cols["savingsPlan/SavingsPlanARN"] = take_strings(self.sp_arns, block.sp)
        return join_lines([cols[h] if cols[h] is not None else "" for h in HEADER], ",")

    def _timestamps(self, days: np.ndarray) -> pa.Array:
        unique, inverse = np.unique(days, return_inverse=True)
        texts = pa.array([iso_z(self.model.window.timestamp(int(d))) for d in unique])
        return take_strings(texts, inverse)


def write_aws_cur(model: AwsModel, out: Path, window: Window, progress: Progress | None) -> ProviderOutput:
    """Write every period's assemblies and manifests.

    Args:
        model: The legacy payer's model.
        out: OUT directory.
        window: Run window.
        progress: Optional progress callback.

    Returns:
        Files, row counts and expected totals.
    """
    result = ProviderOutput()
    encoder = LegacyEncoder(model)
    root = out / "aws" / "cur"
    deliveries = [d for p in window.periods for d in window.deliveries(p, salt=1)]
    ticker = Ticker(progress, "aws_cur", chunks_in(deliveries))
    for delivery in deliveries:
        _write_assembly(model, encoder, root, delivery, result, ticker)
    return result


def _write_assembly(
    model: AwsModel, encoder: LegacyEncoder, root: Path, delivery: Delivery, result: ProviderOutput, ticker: Ticker
) -> None:
    period = delivery.period
    period_dir = f"{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    assembly_id = stable_guid(model.seed, "aws_cur", period.label, delivery.delivered_at.isoformat())
    key_prefix = f"{PREFIX}/{REPORT}/{period_dir}"
    header = (",".join(HEADER) + "\n").encode()
    writer = CsvPartWriter(header, lambda part: root / key_prefix / assembly_id / f"{REPORT}-{part:05d}.csv.gz")
    ledger = Ledger()
    invoice_id = model.invoice_id(period)
    for block in model.deliver(delivery, ledger):
        writer.write(encoder.encode(block, period, invoice_id), len(block))
        ticker.tick()
    parts = writer.close()
    manifest = _manifest(model, period, assembly_id, [p.relative_to(root).as_posix() for p, _, _ in parts])
    result.files += [p for p, _, _ in parts]
    if delivery.current:
        result.files.append(write_json(root / key_prefix / f"{REPORT}-Manifest.json", manifest))
        result.totals.append(
            InvoiceTotal(
                "aws_cur", model.payer.account_id, period.label, "USD", ledger.billed, ledger.effective, ledger.rows
            )
        )
    result.count("current" if delivery.current else "superseded", ledger.rows)


def _manifest(model: AwsModel, period: Period, assembly_id: str, keys: list[str]) -> dict[str, object]:
    return {
        "assemblyId": assembly_id,
        "account": model.payer.account_id,
        "columns": [{"category": c, "name": n, "type": t} for c, n, t in COLUMNS],
        "charset": "UTF-8",
        "compression": "GZIP",
        "contentType": "text/csv",
        "reportId": stable_guid(model.seed, "aws_cur", "report").replace("-", "") * 2,
        "reportName": REPORT,
        "billingPeriod": {"start": f"{period.start:%Y%m%d}T000000.000Z", "end": f"{period.end:%Y%m%d}T000000.000Z"},
        "bucket": BUCKET,
        "reportKeys": keys,
        "additionalArtifactKeys": [],
    }
