"""Check FOCUS 1.2 conformance with the FinOps Foundation's focus-validator.

The validator needs Python >= 3.12 while this project runs on 3.11, so it lives in a venv of its own
(see /work/shared/focus/VALIDATOR.md for the observed behaviour of version 2.2.1 this module relies on).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VENV_DIR = REPO_ROOT / ".venv-validator"

VALIDATOR_REQUIREMENTS = ("focus-validator==2.2.1", "pyarrow==25.0.1")
PYENV_PYTHON_VERSION = "3.12.1"
FOCUS_VERSION = "1.2"

# The install is done only when this marker exists, so an interrupted pip run is retried next time.
_INSTALLED_MARKER = ".focus-validator-installed"
_SITE_PACKAGES = Path("lib") / "python3.12" / "site-packages"
# The rule model shipped inside focus-validator 2.2.1; it tells which rules are composites of others.
_RULE_MODEL = Path("focus_validator") / "rules" / "model-1.2.0.1.json"

# False failures of focus-validator 2.2.1, whatever the data (FOCUS_Spec #2394, focus_validator #142):
# - InvoiceId-C-004-C / -C-005-C: the unused branch of an OR rule is counted as a failure.
# - CapacityReservationStatus-C-004-C and CommitmentDiscountStatus-C-004-C (only run with
#   --applicability-criteria ALL): fire on rows without a capacity reservation / commitment discount.
KNOWN_VALIDATOR_BUGS: frozenset[str] = frozenset(
    {
        "InvoiceId-C-004-C",
        "InvoiceId-C-005-C",
        "CapacityReservationStatus-C-004-C",
        "CommitmentDiscountStatus-C-004-C",
    }
)

_DATA_FORMATS = {".parquet": "parquet", ".csv": "csv"}


class FocusValidatorError(RuntimeError):
    """The validator could not be installed or run (not: the data failed validation)."""


@dataclass(frozen=True)
class ValidationResult:
    """Outcome of one validator run.

    A composite rule (an AND over other rules) fails whenever a rule beneath it fails, so the known
    validator bugs drag their parents down too; those parents are kept apart in `cascaded_failures`.
    """

    data_file: Path
    total: int
    passed: int
    failed: int
    skipped: int
    failed_rules: list[str] = field(default_factory=list)
    known_bug_failures: list[str] = field(default_factory=list)
    cascaded_failures: list[str] = field(default_factory=list)
    unexpected_failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unexpected_failures

    def summary_line(self) -> str:
        verdict = "OK" if self.ok else "FAILED"
        line = (
            f"FOCUS {FOCUS_VERSION} validation of {self.data_file.name}: {verdict} - "
            f"{self.total} rules, {self.passed} passed, {self.failed} failed "
            f"({len(self.known_bug_failures)} known validator bugs, "
            f"{len(self.cascaded_failures)} composites failing only because of them, "
            f"{len(self.unexpected_failures)} unexpected), {self.skipped} skipped"
        )
        if self.unexpected_failures:
            line += f"; unexpected: {', '.join(self.unexpected_failures)}"
        return line


def ensure_validator(venv_dir: Path = DEFAULT_VENV_DIR) -> Path:
    """Create the validator venv if needed and return the path of the `focus-validator` executable."""
    venv_dir = venv_dir.resolve()
    executable = venv_dir / "bin" / "focus-validator"
    if (venv_dir / _INSTALLED_MARKER).exists() and executable.exists():
        return executable
    if not (venv_dir / "bin" / "python").exists():
        _create_venv(venv_dir)
    _run_or_raise(
        [str(venv_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", *VALIDATOR_REQUIREMENTS],
        what=f"pip install {' '.join(VALIDATOR_REQUIREMENTS)} into {venv_dir}",
    )
    if not executable.exists():
        raise FocusValidatorError(f"pip install finished but {executable} is missing")
    (venv_dir / _INSTALLED_MARKER).write_text(" ".join(VALIDATOR_REQUIREMENTS) + "\n")
    return executable


def _create_venv(venv_dir: Path) -> None:
    if shutil.which("python3.12") is None:
        raise FocusValidatorError(
            f"python3.12 not found on PATH: focus-validator needs Python 3.12 (expected pyenv {PYENV_PYTHON_VERSION})"
        )
    # The pyenv shim only resolves python3.12 when the version is named explicitly.
    env = {**os.environ, "PYENV_VERSION": PYENV_PYTHON_VERSION}
    _run_or_raise(
        ["python3.12", "-m", "venv", str(venv_dir)],
        what=f"PYENV_VERSION={PYENV_PYTHON_VERSION} python3.12 -m venv {venv_dir}",
        env=env,
    )


def _run_or_raise(
    cmd: list[str], what: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise FocusValidatorError(f"{what}: {exc}") from exc
    if proc.returncode != 0:
        raise FocusValidatorError(f"{what} exited {proc.returncode}: {_last_error_line(proc.stderr)}")
    return proc


def _last_error_line(stderr: str) -> str:
    # pip and the validator print many warnings first; the cause is in the last non-blank line.
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else "(no error output)"


def validate_focus_file(
    path: Path, applicability_all: bool = True, venv_dir: Path = DEFAULT_VENV_DIR
) -> ValidationResult:
    """Validate a FOCUS 1.2 Parquet (preferred) or CSV file and classify the failing rules.

    The validator exits 0 even when rules fail, so the verdict comes from its JUnit report.
    """
    data_file = path.resolve()
    data_format = _DATA_FORMATS.get(data_file.suffix.lower())
    if data_format is None:
        raise FocusValidatorError(f"{data_file}: expected a .parquet or .csv file")
    if not data_file.is_file():
        raise FocusValidatorError(f"{data_file}: no such file")
    executable = ensure_validator(venv_dir)
    site_packages = venv_dir.resolve() / _SITE_PACKAGES

    with tempfile.TemporaryDirectory(prefix="focus-validator-") as tmp:
        junit_file = Path(tmp) / "results.xml"
        cmd = [
            str(executable),
            "--data-file", str(data_file),
            "--data-format", data_format,
            "--validate-version", FOCUS_VERSION,
            "--block-download",
            "--output-type", "unittest",
            "--output-destination", str(junit_file),
        ]  # fmt: skip
        if applicability_all:
            cmd += ["--applicability-criteria", "ALL"]
        # It reads focus_validator/rules/currency_codes.csv relative to the working directory.
        _run_or_raise(cmd, what=f"focus-validator on {data_file}", cwd=site_packages)
        if not junit_file.exists():
            raise FocusValidatorError(f"focus-validator on {data_file} wrote no report")
        counts, failed_rules = _parse_junit(junit_file)

    known = [rule for rule in failed_rules if rule in KNOWN_VALIDATOR_BUGS]
    cascaded = _cascaded_from(known, failed_rules, _composite_dependencies(site_packages / _RULE_MODEL))
    explained = set(known) | set(cascaded)
    return ValidationResult(
        data_file=data_file,
        total=counts["tests"],
        passed=counts["tests"] - counts["failed"] - counts["skipped"],
        failed=counts["failed"],
        skipped=counts["skipped"],
        failed_rules=failed_rules,
        known_bug_failures=known,
        cascaded_failures=cascaded,
        unexpected_failures=[rule for rule in failed_rules if rule not in explained],
    )


def _parse_junit(junit_file: Path) -> tuple[dict[str, int], list[str]]:
    """Totals and failing rule ids; a rule that errored (e.g. its column is missing) counts as failed."""
    root = ET.parse(junit_file).getroot()
    counts = {
        "tests": int(root.get("tests", "0")),
        "failed": int(root.get("failures", "0")) + int(root.get("errors", "0")),
        "skipped": int(root.get("skipped", "0")),
    }
    failed_rules = sorted(
        # Test case names read "<rule id> :: <check type>".
        testcase.get("name", "").split(" :: ")[0]
        for testcase in root.iter("testcase")
        if testcase.find("failure") is not None or testcase.find("error") is not None
    )
    return counts, failed_rules


def _composite_dependencies(rule_model: Path) -> dict[str, set[str]]:
    try:
        rules = json.loads(rule_model.read_text())["ModelRules"]
    except (OSError, ValueError, KeyError) as exc:
        raise FocusValidatorError(f"{rule_model}: cannot read the validator's rule model: {exc}") from exc
    return {
        rule_id: set(rule["ValidationCriteria"].get("Dependencies", []))
        for rule_id, rule in rules.items()
        if rule.get("Function") == "Composite"
    }


def _cascaded_from(known: list[str], failed_rules: list[str], composites: dict[str, set[str]]) -> list[str]:
    """Failing composites whose failing dependencies are all known bugs or such composites themselves."""
    failed = set(failed_rules)
    explained = set(known)
    changed = True
    while changed:  # composites nest (column -> dataset), so repeat until nothing new is explained
        changed = False
        for rule in failed - explained:
            failing_deps = composites.get(rule, set()) & failed
            if failing_deps and failing_deps <= explained:
                explained.add(rule)
                changed = True
    return sorted(explained - set(known))
