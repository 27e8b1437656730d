"""AWS Data Exports CUR 2.0 (Parquet) for payer 222222222222, the acquired subsidiary.

Layout, with OUT/aws/cur2/ as the bucket root (no S3 prefix, export name "finops-demo")::

    finops-demo/data/BILLING_PERIOD=2026-08/<deliveryTs>-00001.snappy.parquet
    finops-demo/metadata/BILLING_PERIOD=2026-08/finops-demo-Manifest.json   names the current files

An older delivery of the open month keeps its files beside the current ones; only the manifest tells
them apart, as with "create new export version" deliveries.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from finops_warehouse.demo import aws
from finops_warehouse.demo.aws import NULL, AwsBlock, AwsModel, Ledger
from finops_warehouse.demo.aws_cur import format_ints
from finops_warehouse.demo.encode import MAX_ROWS_PER_FILE, base32_ids, stable_guid, take_columns, take_strings
from finops_warehouse.demo.output import InvoiceTotal, Progress, ProviderOutput, Ticker, chunks_in, write_json
from finops_warehouse.demo.timeline import Delivery, Period, Window, iso_z

EXPORT = "finops-demo"
_ROW_GROUP = 128_000
S, TS, D = pa.string(), pa.timestamp("ms"), pa.float64()
MAP = pa.map_(pa.string(), pa.string())
SCHEMA = pa.schema(
    [
        ("bill_bill_type", S),
        ("bill_billing_entity", S),
        ("bill_billing_period_end_date", TS),
        ("bill_billing_period_start_date", TS),
        ("bill_invoice_id", S),
        ("bill_invoicing_entity", S),
        ("bill_payer_account_id", S),
        ("bill_payer_account_name", S),
        ("identity_line_item_id", S),
        ("identity_time_interval", S),
        ("line_item_availability_zone", S),
        ("line_item_blended_cost", D),
        ("line_item_blended_rate", S),
        ("line_item_currency_code", S),
        ("line_item_legal_entity", S),
        ("line_item_line_item_description", S),
        ("line_item_line_item_type", S),
        ("line_item_net_unblended_cost", D),
        ("line_item_normalization_factor", D),
        ("line_item_normalized_usage_amount", D),
        ("line_item_operation", S),
        ("line_item_product_code", S),
        ("line_item_resource_id", S),
        ("line_item_tax_type", S),
        ("line_item_unblended_cost", D),
        ("line_item_unblended_rate", S),
        ("line_item_usage_account_id", S),
        ("line_item_usage_account_name", S),
        ("line_item_usage_amount", D),
        ("line_item_usage_end_date", TS),
        ("line_item_usage_start_date", TS),
        ("line_item_usage_type", S),
        ("pricing_currency", S),
        ("pricing_public_on_demand_cost", D),
        ("pricing_public_on_demand_rate", S),
        ("pricing_rate_code", S),
        ("pricing_rate_id", S),
        ("pricing_term", S),
        ("pricing_unit", S),
        ("product", MAP),
        ("product_product_family", S),
        ("product_region_code", S),
        ("product_servicecode", S),
        ("product_sku", S),
        ("reservation_amortized_upfront_fee_for_billing_period", D),
        ("reservation_effective_cost", D),
        ("reservation_recurring_fee_for_usage", D),
        ("reservation_reservation_a_r_n", S),
        ("reservation_total_reserved_units", D),
        ("reservation_unused_amortized_upfront_fee_for_billing_period", D),
        ("reservation_unused_quantity", D),
        ("reservation_unused_recurring_fee", D),
        ("resource_tags", MAP),
        ("savings_plan_amortized_upfront_commitment_for_billing_period", D),
        ("savings_plan_recurring_commitment_for_billing_period", D),
        ("savings_plan_savings_plan_a_r_n", S),
        ("savings_plan_savings_plan_effective_cost", D),
        ("savings_plan_savings_plan_rate", D),
        ("savings_plan_total_commitment_to_date", D),
        ("savings_plan_used_commitment", D),
    ]
)
# Integer column -> (CUR 2.0 column, scale).
_DOUBLES = {
    "amount": ("line_item_usage_amount", 6),
    "nf": ("line_item_normalization_factor", 0),
    "normalized": ("line_item_normalized_usage_amount", 6),
    "cost": ("line_item_unblended_cost", 10),
    "od_cost": ("pricing_public_on_demand_cost", 10),
    "ri_eff": ("reservation_effective_cost", 10),
    "ri_amortized_upfront_bp": ("reservation_amortized_upfront_fee_for_billing_period", 10),
    "ri_recurring_for_usage": ("reservation_recurring_fee_for_usage", 10),
    "ri_unused_upfront": ("reservation_unused_amortized_upfront_fee_for_billing_period", 10),
    "ri_unused_recurring": ("reservation_unused_recurring_fee", 10),
    "ri_total_units": ("reservation_total_reserved_units", 6),
    "ri_unused_qty": ("reservation_unused_quantity", 6),
    "sp_rate": ("savings_plan_savings_plan_rate", 10),
    "sp_eff": ("savings_plan_savings_plan_effective_cost", 10),
    "sp_total": ("savings_plan_total_commitment_to_date", 10),
    "sp_used": ("savings_plan_used_commitment", 10),
    "sp_recurring_bp": ("savings_plan_recurring_commitment_for_billing_period", 10),
    "sp_amortized_upfront_bp": ("savings_plan_amortized_upfront_commitment_for_billing_period", 10),
}
# Rates are strings in CUR 2.0, like in the Athena-integrated CUR.
_RATE_STRINGS = {"rate": "line_item_unblended_rate", "od_rate": "pricing_public_on_demand_rate"}
_STATIC = {
    "usage_account_id": "line_item_usage_account_id",
    "usage_account_name": "line_item_usage_account_name",
    "product_code": "line_item_product_code",
    "usage_type": "line_item_usage_type",
    "operation": "line_item_operation",
    "availability_zone": "line_item_availability_zone",
    "resource_id": "line_item_resource_id",
    "tax_type": "line_item_tax_type",
    "product_family": "product_product_family",
    "region": "product_region_code",
    "servicecode": "product_servicecode",
    "sku": "product_sku",
    "rate_id": "pricing_rate_id",
    "unit": "pricing_unit",
    "bill_type": "bill_bill_type",
}
_POWERS = np.array([10**k for k in range(19)], dtype=np.int64)


def exact_doubles(values: np.ndarray, scale: int) -> pa.Array:
    """Convert scaled integers to DOUBLE, refusing any value a DECIMAL(38,10) cast could not recover.

    A decimal with at most 15 significant digits survives the round trip through binary64 exactly, and
    int/10**scale is the correctly rounded double of it.

    Args:
        values: int64 with NULL for empty.
        scale: Decimal places of the units.

    Returns:
        float64 Arrow array with nulls.

    Raises:
        ValueError: If a value needs more than 15 significant digits.
    """
    valid = values != NULL
    v = np.abs(np.where(valid, values, 0))
    digits = np.searchsorted(_POWERS, v, side="right")
    trailing = np.zeros(len(v), dtype=np.int64)
    for k in range(1, 19):
        trailing += (v % _POWERS[k] == 0) & (v != 0)
    if np.any(digits - trailing > 15):
        raise ValueError("a CUR 2.0 money value needs more than 15 significant digits")
    return pa.array(np.where(valid, values, 0) / 10**scale, mask=~valid)


class Cur2Encoder:
    """Turns AwsBlocks into Arrow tables of the CUR 2.0 schema."""

    def __init__(self, model: AwsModel) -> None:
        """Pre-build static columns and maps.

        Args:
            model: The payer model.
        """
        self.model = model
        text = model.static.text
        self.n_static = len(model.static)
        self.static = pa.table({col: pa.array(text[key], S) for key, col in _STATIC.items()})
        self.descriptions = pa.array(text["desc_usage"] + text["desc_negation"] + text["desc_ri"], S)
        self.rate_codes = pa.array(text["rate_code"] + text["rate_code_ri"], S)
        self.products = self._product_maps(text)
        self.tags = pa.array([_tag_map(text, i) for i in range(self.n_static)], MAP)
        self.line_types = pa.array(aws.LINE_TYPES)
        self.terms = pa.array(aws.PRICING_TERM, S)
        self.ri_arns = pa.array([r.arn for r in model.reservations], S)
        self.sp_arns = pa.array([model.savings_plan.arn], S)

    def _product_maps(self, text: dict[str, list[str | None]]) -> pa.Array:
        maps = []
        for option in ("On-Demand", "Reserved Instances"):
            for i in range(self.n_static):
                entries = {
                    "product_name": text["product_name"][i],
                    "region": text["region"][i],
                    "location": text["location"][i],
                    "instance_type": text["instance_type"][i],
                    "usagetype": text["usage_type"][i],
                    "operation": text["operation"][i],
                    "purchase_option": option if text["sku"][i] and text["operation"][i] else None,
                }
                maps.append([(k, v) for k, v in entries.items() if v is not None])
        return pa.array(maps, MAP)

    def encode(self, block: AwsBlock, period: Period, invoice_id: str | None) -> pa.Table:
        """Build the rows' table.

        Args:
            block: Rows.
            period: Billing period.
            invoice_id: Invoice id or None.

        Returns:
            Arrow table with SCHEMA.
        """
        m = self.model
        n = len(block)
        cols: dict[str, pa.Array] = take_columns(self.static, block.static)
        start_ms = self._millis(block.start_day)
        end_ms = self._millis(block.end_day)
        starts = self._iso(block.start_day)
        ends = self._iso(block.end_day)
        cols["bill_billing_entity"] = _const("AWS", n)
        cols["bill_billing_period_start_date"] = _const_ts(period.start, m, n)
        cols["bill_billing_period_end_date"] = _const_ts(period.end, m, n)
        cols["bill_invoice_id"] = _const(invoice_id, n)
        cols["bill_invoicing_entity"] = _const(aws.LEGAL_ENTITY, n)
        cols["bill_payer_account_id"] = _const(m.payer.account_id, n)
        cols["bill_payer_account_name"] = _const(m.payer.name, n)
        cols["identity_line_item_id"] = base32_ids(m.line_item_ids(block))
        cols["identity_time_interval"] = pc.binary_join_element_wise(starts, ends, "/")
        cols["line_item_currency_code"] = _const("USD", n)
        cols["line_item_legal_entity"] = _const(aws.LEGAL_ENTITY, n)
        variant = np.select([block.line_type == aws.SP_NEGATION, block.line_type == aws.DISCOUNTED], [1, 2], 0)
        cols["line_item_line_item_description"] = take_strings(
            self.descriptions, block.static + variant * self.n_static
        )
        cols["line_item_line_item_type"] = take_strings(self.line_types, block.line_type)
        cols["line_item_net_unblended_cost"] = pa.nulls(n, D)
        cols["line_item_usage_start_date"] = pa.array(start_ms, TS)
        cols["line_item_usage_end_date"] = pa.array(end_ms, TS)
        for key, (col, scale) in _DOUBLES.items():
            cols[col] = exact_doubles(block.ints[key], scale)
        cols["line_item_blended_cost"] = cols["line_item_unblended_cost"]
        for key, col in _RATE_STRINGS.items():
            cols[col] = format_ints(block.ints[key], 10)
        cols["line_item_blended_rate"] = cols["line_item_unblended_rate"]
        cols["pricing_currency"] = pc.if_else(pa.array(block.ints["od_rate"] != NULL), "USD", pa.scalar(None, S))
        reserved = (block.line_type == aws.DISCOUNTED) | (block.line_type == aws.RI_FEE)
        cols["pricing_rate_code"] = take_strings(self.rate_codes, block.static + reserved * self.n_static)
        cols["pricing_term"] = take_strings(self.terms, block.line_type)
        cols["product"] = self.products.take(pa.array(block.static + reserved * self.n_static))
        cols["resource_tags"] = self.tags.take(pa.array(block.static))
        cols["reservation_reservation_a_r_n"] = take_strings(self.ri_arns, block.ri)
        cols["savings_plan_savings_plan_a_r_n"] = take_strings(self.sp_arns, block.sp)
        return pa.Table.from_arrays([cols[f.name] for f in SCHEMA], schema=SCHEMA)

    def _millis(self, days: np.ndarray) -> np.ndarray:
        epoch_day = (self.model.window.start_date.toordinal() - 719163) + days
        return epoch_day.astype(np.int64) * 86_400_000

    def _iso(self, days: np.ndarray) -> pa.Array:
        unique, inverse = np.unique(days, return_inverse=True)
        texts = pa.array([iso_z(self.model.window.timestamp(int(d))) for d in unique])
        return take_strings(texts, inverse)


def _const(value: str | None, n: int) -> pa.Array:
    return pa.array([value], S).take(pa.array(np.zeros(n, dtype=np.int64)))


def _const_ts(day: object, model: AwsModel, n: int) -> pa.Array:
    offset = (day - model.window.start_date).days
    epoch_day = model.window.start_date.toordinal() - 719163 + offset
    return pa.array(np.full(n, epoch_day * 86_400_000, dtype=np.int64), TS)


def _tag_map(text: dict[str, list[str | None]], i: int) -> list[tuple[str, str]]:
    entries = []
    if text["tag_key"][i] is not None:
        entries.append((f"user_{text['tag_key'][i]}", text["tag_value"][i]))
    for key, name in (("env", "user_env"), ("cost_center", "user_cost_center"), ("created_by", "aws_createdBy")):
        if text[key][i] is not None:
            entries.append((name, text[key][i]))
    return entries


def write_aws_cur2(model: AwsModel, out: Path, window: Window, progress: Progress | None) -> ProviderOutput:
    """Write every period's executions and manifests.

    Args:
        model: The CUR 2.0 payer's model.
        out: OUT directory.
        window: Run window.
        progress: Optional progress callback.

    Returns:
        Files, row counts and expected totals.
    """
    result = ProviderOutput()
    encoder = Cur2Encoder(model)
    root = out / "aws" / "cur2"
    deliveries = [d for p in window.periods for d in window.deliveries(p, salt=2)]
    ticker = Ticker(progress, "aws_cur2", chunks_in(deliveries))
    for delivery in deliveries:
        _write_execution(model, encoder, root, delivery, result, ticker)
    return result


class _ParquetParts:
    """Parquet files of one execution, rolled over every MAX_ROWS_PER_FILE rows."""

    def __init__(self, folder: Path, stem: str) -> None:
        self.folder = folder
        self.stem = stem
        self.paths: list[Path] = []
        self._writer: pq.ParquetWriter | None = None
        self._rows_in_file = 0
        self._pending: list[pa.Table] = []
        self._pending_rows = 0

    def add(self, table: pa.Table) -> None:
        if self._writer is None or self._rows_in_file + self._pending_rows + len(table) > MAX_ROWS_PER_FILE:
            self._flush()
            self._open()
        self._pending.append(table)
        self._pending_rows += len(table)
        if self._pending_rows >= _ROW_GROUP:
            self._flush()

    def _open(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.stem}-{len(self.paths) + 1:05d}.snappy.parquet"
        self.paths.append(path)
        self._writer = pq.ParquetWriter(path, SCHEMA, compression="snappy")
        self._rows_in_file = 0

    def _flush(self) -> None:
        if self._pending and self._writer is not None:
            self._writer.write_table(pa.concat_tables(self._pending), row_group_size=_ROW_GROUP)
            self._rows_in_file += self._pending_rows
        self._pending, self._pending_rows = [], 0

    def close(self) -> list[Path]:
        if self._writer is None:
            self._open()
        self._flush()
        assert self._writer is not None
        self._writer.close()
        return self.paths


def _write_execution(
    model: AwsModel, encoder: Cur2Encoder, root: Path, delivery: Delivery, result: ProviderOutput, ticker: Ticker
) -> None:
    period = delivery.period
    partition = f"BILLING_PERIOD={period.label}"
    stem = delivery.delivered_at.strftime("%Y%m%dT%H%M%SZ")
    parts = _ParquetParts(root / EXPORT / "data" / partition, stem)
    ledger = Ledger()
    invoice_id = model.invoice_id(period)
    for block in model.deliver(delivery, ledger):
        parts.add(encoder.encode(block, period, invoice_id))
        ticker.tick()
    paths = parts.close()
    result.files += paths
    result.count("current" if delivery.current else "superseded", ledger.rows)
    if not delivery.current:
        return
    execution_id = stable_guid(model.seed, "aws_cur2", period.label, delivery.delivered_at.isoformat())
    manifest = {
        "executionId": execution_id,
        "dataExportName": EXPORT,
        "exportArn": f"arn:aws:bcm-data-exports:us-east-1:{model.payer.account_id}:export/{EXPORT}-"
        + stable_guid(model.seed, "aws_cur2", "export"),
        "billingPeriod": {"start": iso_z(period.start, millis=True), "end": iso_z(period.end, millis=True)},
        "deliveryTime": iso_z(delivery.delivered_at, millis=True),
        "dataFiles": [p.relative_to(root).as_posix() for p in paths],
        "columns": [{"name": f.name, "type": _athena_type(f.type)} for f in SCHEMA],
        "queryStatement": "SELECT " + ", ".join(f.name for f in SCHEMA) + " FROM COST_AND_USAGE_REPORT",
        "tableConfigurations": {
            "COST_AND_USAGE_REPORT": {
                "TIME_GRANULARITY": "DAILY",
                "INCLUDE_RESOURCES": "TRUE",
                "INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY": "FALSE",
                "INCLUDE_SPLIT_COST_ALLOCATION_DATA": "FALSE",
            }
        },
    }
    result.files.append(write_json(root / EXPORT / "metadata" / partition / f"{EXPORT}-Manifest.json", manifest))
    result.totals.append(
        InvoiceTotal(
            "aws_cur2", model.payer.account_id, period.label, "USD", ledger.billed, ledger.effective, ledger.rows
        )
    )


def _athena_type(arrow_type: pa.DataType) -> str:
    if arrow_type == TS:
        return "timestamp"
    if arrow_type == D:
        return "double"
    if arrow_type == MAP:
        return "map<string,string>"
    return "string"
