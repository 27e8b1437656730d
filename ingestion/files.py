"""Find export files in a local folder or a bucket, and hand DuckDB a local path to read.

Remote paths (s3://, gs://, az://) go through dlt's filesystem source, so credentials come from dlt's
usual places (env vars or `.dlt/secrets.toml`). Remote files are copied to a temporary folder first:
DuckDB then reads every source the same way, and nothing provider-specific is needed per cloud.
"""

from __future__ import annotations

import fnmatch
import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ingestion.errors import LoadError

REMOTE_SCHEMES = ("s3://", "gs://", "gcs://", "az://", "abfs://", "abfss://")


@dataclass(frozen=True)
class ExportFile:
    """One file of an export, addressed relative to the root the user gave."""

    root: str
    relative_path: str

    @property
    def uri(self) -> str:
        return f"{self.root.rstrip('/')}/{self.relative_path}"

    @property
    def name(self) -> str:
        return PurePosixPath(self.relative_path).name

    @property
    def parent(self) -> str:
        return str(PurePosixPath(self.relative_path).parent)


def is_remote(location: str) -> bool:
    return location.startswith(REMOTE_SCHEMES)


def list_files(location: str, patterns: tuple[str, ...]) -> list[ExportFile]:
    """List files under `location` (a folder, a single file, or a bucket prefix) matching any pattern."""
    if is_remote(location):
        return _list_remote(location, patterns)
    path = Path(location).expanduser()
    if not path.exists():
        raise LoadError(f"{location}: no such file or folder")
    if path.is_file():
        return [ExportFile(str(path.parent.resolve()), path.name)]
    found = [
        ExportFile(str(path.resolve()), p.relative_to(path).as_posix())
        for p in sorted(path.rglob("*"))
        if p.is_file() and _matches(p.name, patterns)
    ]
    return found


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    lowered = name.lower()
    return any(fnmatch.fnmatch(lowered, pattern) for pattern in patterns)


def _list_remote(location: str, patterns: tuple[str, ...]) -> list[ExportFile]:
    from dlt.sources.filesystem import filesystem

    root = location.rstrip("/")
    items = filesystem(bucket_url=root, file_glob="**")
    found = []
    for batch in items:
        for item in batch:
            relative = item["relative_path"]
            if _matches(PurePosixPath(relative).name, patterns):
                found.append(ExportFile(root, relative))
    return sorted(found, key=lambda f: f.relative_path)


@contextmanager
def local_copies(files: list[ExportFile]) -> Iterator[dict[str, Path]]:
    """Yield a local path for every file, downloading remote ones into a temporary folder."""
    remote = [f for f in files if is_remote(f.root)]
    local = {f.uri: Path(f.root) / f.relative_path for f in files if not is_remote(f.root)}
    if not remote:
        yield local
        return
    with tempfile.TemporaryDirectory(prefix="finops-") as tmp:
        for f in remote:
            target = Path(tmp) / f.relative_path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_read_remote(f))
            local[f.uri] = target
        yield local


def _read_remote(f: ExportFile) -> bytes:
    """Read one remote file through dlt's filesystem source, so credentials resolve as for listing."""
    from dlt.sources.filesystem import filesystem

    for batch in filesystem(bucket_url=f.root, file_glob=f.relative_path):
        for item in batch:
            return item.read_bytes()
    raise LoadError(f"{f.uri}: listed but could not be read")


def read_text(file: ExportFile, local_paths: dict[str, Path]) -> str:
    return local_paths[file.uri].read_text(encoding="utf-8-sig")


def content_hash(paths: list[Path]) -> str:
    """SHA-256 over the files' bytes, in order: identifies a delivery that has no id of its own."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
