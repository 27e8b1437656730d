"""The project on Snowflake, proven without a Snowflake account.

- The SQL dbt compiles for the `snowflake` target is Snowflake SQL: every model and data test parses with
  sqlglot's Snowflake dialect and calls no DuckDB-only function.
- On a local fakesnow server (target `fakesnow`), `dbt seed` and `dbt build` of the SQL models over the raw
  tables of a DuckDB build of the real samples pass and give the DuckDB build's FOCUS totals.

The Python models (forecasts, anomalies) and the marts built on them need Snowpark, which fakesnow does not
emulate, so the fakesnow build leaves out `tag:snowpark+`; the SQL of those marts is still checked by the
compile test, and the Snowpark config (packages, imports) by its own test.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("dbt.adapters.snowflake")
pytest.importorskip("fakesnow")
sqlglot = pytest.importorskip("sqlglot")

from conftest import REPO_ROOT, SAMPLES  # noqa: E402
from fakesnow_support import (  # noqa: E402
    copy_raw_tables,
    fakesnow_server,
    focus_totals_duckdb,
    focus_totals_snowflake,
)
from sqlglot import exp  # noqa: E402
from sqlglot.errors import ParseError  # noqa: E402
from sqlglot.tokens import TokenType  # noqa: E402

DBT = str(Path(sys.executable).with_name("dbt"))
FINOPS = [sys.executable, "-m", "finops_warehouse.cli"]
SNOWPARK_ZIP = "@finops.public.snowpark/finops_warehouse.zip"

# Functions DuckDB has and Snowflake does not (or has under another name or with other arguments). A model
# that calls one of these outside an engine macro's duckdb/default variant would not run on Snowflake.
DUCKDB_ONLY_FUNCTIONS = {
    "approx_quantile", "arg_max", "arg_min", "array_length", "bool_and", "bool_or", "date_diff", "date_sub",
    "datepart", "epoch", "epoch_ms", "ends_with", "from_json", "generate_series", "generate_subscripts",
    "group_concat", "json_extract", "json_extract_string", "len", "list", "list_aggregate", "list_value",
    "make_date", "make_timestamp", "map_entries", "map_from_entries", "now", "printf", "quantile_cont",
    "quantile_disc", "range", "read_csv", "read_csv_auto", "read_json", "read_parquet", "regexp_extract",
    "regexp_full_match", "regexp_matches", "str_split", "strftime", "string_agg", "string_split", "strptime",
    "struct_pack", "timezone", "to_days", "to_months", "today", "try_strptime", "unnest",
}  # fmt: skip
DUCKDB_ONLY_TYPES = {"hugeint", "uhugeint", "ubigint", "uinteger", "usmallint", "utinyint"}
# String literals and comments, where `//` is text rather than DuckDB's integer division.
LITERALS_AND_COMMENTS = re.compile(r"'(?:[^'\\]|\\.|'')*'|--[^\n]*|/\*.*?\*/", re.DOTALL)

# Snowflake functions sqlglot's Snowflake dialect does not model (it parses them as anonymous calls). Any other
# anonymous call is a function sqlglot does not know as Snowflake's: it fails the check until it is listed
# here, after checking the Snowflake documentation.
SNOWFLAKE_FUNCTIONS_UNMODELLED = {
    "convert_timezone", "object_agg", "to_variant", "try_parse_json", "try_to_timestamp_ntz", "try_to_timestamp_tz",
}  # fmt: skip


def snowflake_sql_problems(sql: str) -> list[str]:
    """Why `sql` is not Snowflake SQL: a parse error, a DuckDB-only function, operator or type."""
    try:
        tokens = sqlglot.Dialect.get_or_raise("snowflake").tokenize(sql)
    except sqlglot.errors.TokenError as error:
        return [f"does not tokenize as Snowflake SQL: {str(error)[:300]}"]
    problems = []
    for index, token in enumerate(tokens[:-1]):
        called = tokens[index + 1].token_type == TokenType.L_PAREN and token.token_type != TokenType.IDENTIFIER
        if called and token.text.lower() in DUCKDB_ONLY_FUNCTIONS:
            problems.append(f"DuckDB-only function {token.text}() on line {token.line}")
        if token.token_type != TokenType.STRING and token.text.lower() in DUCKDB_ONLY_TYPES:
            problems.append(f"DuckDB-only type {token.text} on line {token.line}")
    # `a // b` is DuckDB's integer division; to Snowflake `//` starts a comment, silently dropping the rest.
    if "//" in LITERALS_AND_COMMENTS.sub("", sql):
        problems.append("`//` (DuckDB integer division) starts a comment in Snowflake")
    try:
        statements = [statement for statement in sqlglot.parse(sql, read="snowflake") if statement is not None]
    except ParseError as error:
        return sorted({*problems, f"does not parse as Snowflake SQL: {str(error)[:300]}"})
    for statement in statements:
        for call in statement.find_all(exp.Anonymous):
            if call.name.lower() not in SNOWFLAKE_FUNCTIONS_UNMODELLED | DUCKDB_ONLY_FUNCTIONS:
                problems.append(f"function {call.name}() is not one sqlglot knows in Snowflake")
    return sorted(set(problems))


def dbt(args: list[str], work: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`dbt <args>` on this project, writing its target and logs under `work` (never the shared target/)."""
    return subprocess.run(
        [
            DBT,
            "--no-use-colors",
            *args,
            "--project-dir",
            str(REPO_ROOT),
            "--profiles-dir",
            str(REPO_ROOT),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def failures(result: subprocess.CompletedProcess[str]) -> str:
    """dbt's own summary of what failed (printed after "Completed with"), or the tail of its output."""
    summary = result.stdout.rpartition("Completed with")
    return (summary[1] + summary[2] if summary[1] else result.stdout[-3000:] + result.stderr[-2000:])[-6000:]


@pytest.fixture(scope="module")
def duckdb_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real AWS and Azure samples loaded and built on DuckDB, as `finops` does it."""
    warehouse = tmp_path_factory.mktemp("duckdb") / "finops.duckdb"
    for source, folder in (("aws-cur", "aws"), ("azure", "azure")):
        loaded = subprocess.run(
            [*FINOPS, "--warehouse", str(warehouse), "load", source, str(SAMPLES / folder)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    built = subprocess.run(
        [*FINOPS, "--warehouse", str(warehouse), "build"], capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-2000:]
    return warehouse


@pytest.fixture(scope="module")
def fakesnow_port(tmp_path_factory: pytest.TempPathFactory, duckdb_build: Path) -> Iterator[int]:
    """A fakesnow server holding the DuckDB build's raw tables."""
    root = tmp_path_factory.mktemp("fakesnow")
    (root / "db").mkdir()
    with fakesnow_server(root / "db") as port:
        copy_raw_tables(duckdb_build, port)
        yield port


@pytest.fixture(scope="module")
def fakesnow_build(tmp_path_factory: pytest.TempPathFactory, fakesnow_port: int) -> list[str]:
    """`dbt seed` and `dbt build` of everything but the Python models and what depends on them, on fakesnow;
    the output of each failing command."""
    work, env = tmp_path_factory.mktemp("fakesnow_build"), fakesnow_env(fakesnow_port)
    seeded = dbt(["seed", "--target", "fakesnow"], work, env)
    if seeded.returncode != 0:
        return [failures(seeded)]
    exclude = ["--exclude", "tag:snowpark+", "resource_type:seed"]
    built = dbt(["build", "--target", "fakesnow", *exclude], work, env)
    return [] if built.returncode == 0 else [failures(built)]


def fakesnow_env(port: int) -> dict[str, str]:
    import os

    return {**os.environ, "FAKESNOW_PORT": str(port), "FINOPS_TARGET": "fakesnow"}


def snowflake_env(port: int) -> dict[str, str]:
    """The `snowflake` target, as production configures it, pointed at the fakesnow server."""
    import os

    env = {key: value for key, value in os.environ.items() if not key.startswith("SNOWFLAKE_")}
    return {
        **env,
        "FINOPS_TARGET": "snowflake",
        "SNOWFLAKE_ACCOUNT": "fakesnow",
        "SNOWFLAKE_USER": "fake",
        "SNOWFLAKE_PASSWORD": "snow",
        "SNOWFLAKE_DATABASE": "FINOPS",
        "SNOWFLAKE_HOST": "localhost",
        "SNOWFLAKE_PORT": str(port),
        "SNOWFLAKE_PROTOCOL": "http",
    }


@pytest.fixture(scope="module")
def snowflake_manifest(tmp_path_factory: pytest.TempPathFactory, fakesnow_port: int, fakesnow_build: list[str]) -> dict:
    """The manifest of `dbt compile --full-refresh` for the `snowflake` target, with the Snowpark package zip
    configured. Some models read the columns of their inputs while compiling, so it compiles against the
    fakesnow build's relations (the ones it could build)."""
    work = tmp_path_factory.mktemp("compile")
    variables = json.dumps({"snowpark_imports": [SNOWPARK_ZIP]})
    result = dbt(
        ["compile", "--full-refresh", "--target", "snowflake", "--vars", variables],
        work,
        snowflake_env(fakesnow_port),
    )
    assert result.returncode == 0, failures(result)
    return json.loads((work / "target" / "manifest.json").read_text())


@pytest.mark.parametrize(
    ("duckdb_sql", "reason"),
    [
        ("""select json_extract_string(tags, '$."team"') as team from t""", "json_extract_string()"),
        ("select try_strptime(day, '%m/%d/%Y') as day from t", "try_strptime()"),
        ("select cast(a * 1000 as hugeint) as units from t", "type hugeint"),
        ("select a // b as quotient,\n c from t", "`//`"),
        ("select list(struct_pack(k := key) order by key) as keys from t", "struct_pack()"),
        ("select unnest(map_entries(m)) as entry from t", "map_entries()"),
        ("select some_duckdb_macro(a) from t", "some_duckdb_macro() is not one sqlglot knows"),
    ],
)
def test_the_checker_rejects_duckdb_sql(duckdb_sql: str, reason: str) -> None:
    problems = snowflake_sql_problems(duckdb_sql)
    assert any(reason in problem for problem in problems), problems


def test_the_checker_accepts_snowflake_sql() -> None:
    sql = """
        select
            get(try_parse_json(src.tags), 'team')::varchar as team,
            convert_timezone('UTC', try_to_timestamp_tz(src.day))::timestamp_ntz as day,
            entry.key::varchar as tag_key,
            datediff(day, src.a, src.b) as days
        from t as src, lateral flatten(input => try_parse_json(src.tags)) as entry
    """
    assert snowflake_sql_problems(sql) == []


def test_every_model_and_test_compiles_to_snowflake_sql(snowflake_manifest: dict) -> None:
    checked, problems = 0, {}
    for node in snowflake_manifest["nodes"].values():
        if node["resource_type"] not in ("model", "test") or node.get("language", "sql") != "sql":
            continue
        assert node.get("compiled_code"), f"{node['unique_id']} was not compiled"
        checked += 1
        found = snowflake_sql_problems(node["compiled_code"])
        if found:
            problems[node["original_file_path"] + " " + node["name"]] = found
    assert checked > 100
    assert problems == {}, json.dumps(problems, indent=1)


def test_snowflake_grants_the_analyst_role_the_marts_only(snowflake_manifest: dict) -> None:
    models = [node for node in snowflake_manifest["nodes"].values() if node["resource_type"] == "model"]
    for node in models:
        grants = node["config"].get("grants") or {}
        if node["fqn"][1] == "marts":
            assert grants == {"select": ["FINOPS_ANALYST"]}, node["unique_id"]
        else:
            assert not grants.get("select"), f"{node['unique_id']} is not a mart but grants {grants}"


def test_snowpark_models_import_the_staged_package(snowflake_manifest: dict) -> None:
    python_models = [node for node in snowflake_manifest["nodes"].values() if node.get("language") == "python"]
    assert len(python_models) == 3
    for node in python_models:
        assert node["config"]["imports"] == [SNOWPARK_ZIP], node["unique_id"]
        assert {"pandas", "numpy", "statsmodels"} <= set(node["config"]["packages"])
        assert "import finops_warehouse" in node["compiled_code"] or "from finops_warehouse" in node["compiled_code"]


def test_fakesnow_build_gives_the_duckdb_focus_totals(
    duckdb_build: Path, fakesnow_port: int, fakesnow_build: list[str]
) -> None:
    assert not fakesnow_build, "\n".join(fakesnow_build)
    duckdb_totals = focus_totals_duckdb(duckdb_build)
    assert len(duckdb_totals) == 3
    assert focus_totals_snowflake(fakesnow_port) == duckdb_totals
