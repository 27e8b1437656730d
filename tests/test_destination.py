"""`FINOPS_DESTINATION` sends every loader, and the `meta` load log, to dlt's Snowflake destination with the
credentials dlt reads from the environment, the same way the dbt `snowflake` target reads its own.

Nothing here connects: building the destination client resolves the configuration, which is what a missing
or misspelt variable would break. fakesnow cannot stand in for the load itself, because dlt loads Snowflake
through a stage and COPY INTO, which fakesnow does not emulate.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("snowflake.connector")

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dlt.destinations.impl.snowflake.snowflake import SnowflakeClient

from ingestion.destination import DESTINATION_ENV, warehouse_destination
from ingestion.errors import LoadError
from ingestion.pipeline import make_pipeline

CREDENTIALS = {
    "HOST": "myorg-myaccount",
    "DATABASE": "FINOPS",
    "USERNAME": "FINOPS_DLT",
    "ROLE": "FINOPS_LOADER",
    "WAREHOUSE": "FINOPS_WH",
}


@pytest.fixture
def snowflake_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv(DESTINATION_ENV, "snowflake")
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(f"DESTINATION__SNOWFLAKE__CREDENTIALS__{key}", value)
    return monkeypatch


def test_duckdb_is_the_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(DESTINATION_ENV, raising=False)
    pipeline = make_pipeline("aws-cur", tmp_path / "finops.duckdb")
    assert pipeline.destination.destination_type == "dlt.destinations.duckdb"


def _snowflake_client(tmp_path: Path) -> SnowflakeClient:
    pipeline = make_pipeline("gcp", tmp_path / "finops.duckdb")
    client = pipeline.destination_client()
    assert pipeline.destination.destination_type == "dlt.destinations.snowflake"
    return client


def test_loaders_write_to_snowflake_with_password_auth(snowflake_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    snowflake_env.setenv("DESTINATION__SNOWFLAKE__CREDENTIALS__PASSWORD", "s3cret")
    client = _snowflake_client(tmp_path)
    credentials = client.config.credentials
    assert (credentials.host, credentials.database, credentials.username) == ("myorg-myaccount", "FINOPS", "FINOPS_DLT")
    assert (credentials.role, credentials.warehouse, credentials.password) == ("FINOPS_LOADER", "FINOPS_WH", "s3cret")
    # Upper case, as the staging models read the raw tables on Snowflake.
    assert client.sql_client.fully_qualified_dataset_name() == '"RAW_GCP_BILLING"'


def test_loaders_write_to_snowflake_with_an_encrypted_key_pair(
    snowflake_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
    (tmp_path / "finops_dlt.p8").write_bytes(pem)
    snowflake_env.setenv("DESTINATION__SNOWFLAKE__CREDENTIALS__PRIVATE_KEY_PATH", str(tmp_path / "finops_dlt.p8"))
    snowflake_env.setenv("DESTINATION__SNOWFLAKE__CREDENTIALS__PRIVATE_KEY_PASSPHRASE", "passphrase")
    params = _snowflake_client(tmp_path).config.credentials.to_connector_params()
    assert (params["account"], params["user"], params["role"]) == ("myorg-myaccount", "FINOPS_DLT", "FINOPS_LOADER")
    # The connector gets the decrypted key, which is the one in the file.
    decrypted = serialization.load_der_private_key(params["private_key"], password=None)
    assert decrypted.private_numbers() == key.private_numbers()


def test_the_load_log_goes_to_the_same_destination(snowflake_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert warehouse_destination(tmp_path / "finops.duckdb").destination_type == "dlt.destinations.snowflake"


def test_an_unknown_destination_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(DESTINATION_ENV, "bigquery")
    with pytest.raises(LoadError, match="FINOPS_DESTINATION='bigquery' is not a destination; expected one of: duckdb"):
        make_pipeline("azure", tmp_path / "finops.duckdb")
