"""Find export files in a local folder or a bucket, and hand DuckDB a local path to read.

Remote paths (s3://, gs://, az://) go through dlt's filesystem source, so credentials come from dlt's
usual places (env vars or `.dlt/secrets.toml`). Remote files are copied to a temporary folder first:
DuckDB then reads every source the same way, and nothing provider-specific is needed per cloud.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from ingestion.errors import LoadError

REMOTE_SCHEMES = ("s3://", "gs://", "gcs://", "az://", "abfs://", "abfss://")


@dataclass(frozen=True)
class ExportFile:
    """One file of an export, addressed relative to the root the user gave."""

    root: str
    relative_path: str
    # For a file listed in a bucket: dlt's file item, which opens it with the credentials used to list it.
    remote_item: Any = field(default=None, compare=False, hash=False, repr=False)

    @property
    def uri(self) -> str:
        return f"{self.root.rstrip('/')}/{self.relative_path}"

    @property
    def name(self) -> str:
        return PurePosixPath(self.relative_path).name

    @property
    def parent(self) -> str:
        return str(PurePosixPath(self.relative_path).parent)

    @property
    def modified_at(self) -> str:
        """When the file was written (a bucket object's LastModified; a local file's mtime, which
        `aws s3 sync` and `gsutil rsync` set to it), as ISO 8601 UTC."""
        if self.remote_item is not None:
            return self.remote_item["modification_date"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        stamp = os.path.getmtime(Path(self.root) / self.relative_path)
        return datetime.fromtimestamp(stamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
    """Every file under a bucket prefix, or the one file the location names."""
    root = location.rstrip("/")
    found = [
        ExportFile(root, item["relative_path"], item)
        for item in _remote_items(location, root, "**")
        if _matches(PurePosixPath(item["relative_path"]).name, patterns)
    ]
    if not found:
        # Not a prefix with files under it: maybe the location is one file.
        parent, _, name = root.rpartition("/")
        if name and "://" in parent and _matches(name, patterns):
            found = [
                ExportFile(parent, item["relative_path"], item)
                for item in _remote_items(location, parent, glob.escape(name))
                if item["relative_path"] == name
            ]
    return sorted(found, key=lambda f: f.relative_path)


def _remote_items(location: str, bucket_url: str, file_glob: str) -> Iterator[Any]:
    """dlt's file items for `file_glob` under `bucket_url`; errors name the location, in one line."""
    from dlt.sources.filesystem import filesystem

    try:
        # Iterating a dlt resource yields its items one by one (dlt flattens the pages of files).
        items = list(filesystem(bucket_url=bucket_url, file_glob=file_glob))
    except Exception as exc:
        raise LoadError(f"{location}: cannot list the bucket: {_root_cause(exc)}") from exc
    return iter(items)


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


@contextmanager
def local_copies(files: list[ExportFile]) -> Iterator[dict[str, Path]]:
    """Yield a local path for every file, downloading remote ones into a temporary folder."""
    remote = [f for f in files if is_remote(f.root)]
    local = {f.uri: Path(f.root) / f.relative_path for f in files if not is_remote(f.root)}
    if not remote:
        yield local
        return
    with tempfile.TemporaryDirectory(prefix="finops-") as tmp:
        for index, f in enumerate(remote):
            # One folder per file: two roots may hold the same relative path.
            target = Path(tmp) / str(index) / f.relative_path
            target.parent.mkdir(parents=True, exist_ok=True)
            _download(f, target)
            local[f.uri] = target
        yield local


def _download(f: ExportFile, target: Path) -> None:
    """Copy one remote file through dlt's filesystem source, so credentials resolve as for listing."""
    item = f.remote_item
    if item is None:
        items = [
            i
            for i in _remote_items(f.uri, f.root, glob.escape(f.relative_path))
            if i["relative_path"] == f.relative_path
        ]
        if not items:
            raise LoadError(f"{f.uri}: listed but could not be read")
        item = items[0]
    try:
        # Bytes as stored: a .csv.gz stays compressed, whatever the object's Content-Encoding says.
        with item.open(mode="rb", compression="disable") as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink, 1 << 20)
    except Exception as exc:
        raise LoadError(f"{f.uri}: cannot download: {_root_cause(exc)}") from exc


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
