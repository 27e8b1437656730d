"""Vectorised text encoding shared by the writers: exact decimals, ids, CSV lines and gzip parts.

Everything here works on whole columns (numpy in, Arrow strings out) because the generator writes
millions of cells; a Python loop per cell would blow the time budget.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from queue import Queue

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MAX_ROWS_PER_FILE = 500_000
_GZIP_LEVEL = 6
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def decimal_strings(values: np.ndarray, scale: int, valid: np.ndarray | None = None) -> pa.StringArray:
    """Render scaled integers as plain decimal strings ("12.5", "-0.0001", "0"), never with an exponent.

    Args:
        values: int64 array of units of 10**-scale.
        scale: Number of decimal places the integers carry.
        valid: Optional boolean mask; False cells become null.

    Returns:
        Arrow string array with trailing fractional zeros trimmed.
    """
    values = np.asarray(values, dtype=np.int64)
    magnitude = np.abs(values)
    unit = 10**scale
    whole = pa.array(magnitude // unit).cast(pa.string())
    frac = magnitude % unit
    # Adding `unit` keeps the leading zeros of the fraction; the guard digit is sliced off after trimming.
    frac_text = pc.utf8_slice_codeunits(pc.utf8_rtrim(pa.array(frac + unit).cast(pa.string()), characters="0"), start=1)
    text = pc.if_else(pa.array(frac == 0), whole, pc.binary_join_element_wise(whole, frac_text, "."))
    negative = values < 0
    if negative.any():
        text = pc.if_else(pa.array(negative), pc.binary_join_element_wise("-", text, ""), text)
    if valid is not None and not valid.all():
        text = pc.if_else(pa.array(valid), text, pa.scalar(None, pa.string()))
    return text


def decimal_text(value: int, scale: int) -> str:
    """Render one scaled integer as a plain decimal string.

    Args:
        value: Units of 10**-scale.
        scale: Decimal places.

    Returns:
        The decimal text, e.g. "-0.5".
    """
    whole, frac = divmod(abs(value), 10**scale)
    text = str(whole)
    if frac:
        text += "." + str(frac).rjust(scale, "0").rstrip("0")
    return "-" + text if value < 0 else text


def parse_decimal(text: str, scale: int) -> int:
    """Parse a decimal string into integer units of 10**-scale, exactly.

    Args:
        text: Decimal text such as "12.34".
        scale: Decimal places of the result units.

    Returns:
        The scaled integer.

    Raises:
        ValueError: If the text has more decimals than `scale`.
    """
    sign = -1 if text.startswith("-") else 1
    whole, _, frac = text.lstrip("-").partition(".")
    if len(frac) > scale:
        raise ValueError(f"{text!r} has more than {scale} decimals")
    return sign * (int(whole or "0") * 10**scale + int(frac.ljust(scale, "0") or "0"))


def round_units(values: np.ndarray | int, step: int) -> np.ndarray | int:
    """Round integers to a multiple of `step`, halves away from zero (how invoices round).

    Args:
        values: Integer or int64 array.
        step: Positive rounding step in the same units.

    Returns:
        Rounded value(s), same kind as the input.
    """
    if isinstance(values, int):
        sign = -1 if values < 0 else 1
        return sign * ((abs(values) + step // 2) // step) * step
    mag = (np.abs(values) + step // 2) // step * step
    return np.where(values < 0, -mag, mag)


def mix64(*keys: np.ndarray | int) -> np.ndarray:
    """Hash integer keys into well-mixed uint64 values (splitmix64 finaliser over a running state).

    Args:
        *keys: Integer arrays (broadcast together) or scalars.

    Returns:
        uint64 array.
    """
    arrays = [np.asarray(k).astype(np.uint64) for k in keys]
    state = np.zeros(np.broadcast(*arrays).shape, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for key in arrays:
            state = (state ^ key) + np.uint64(0x9E3779B97F4A7C15)
            state = (state ^ (state >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            state = (state ^ (state >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            state = state ^ (state >> np.uint64(31))
    return state & _MASK64


def stable_int(*parts: object) -> int:
    """Derive a stable 63-bit integer from arbitrary printable parts (seeds, names).

    Args:
        *parts: Values joined by their text form.

    Returns:
        A non-negative integer.
    """
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def stable_guid(*parts: object) -> str:
    """Derive a deterministic lower-case GUID from arbitrary parts.

    Args:
        *parts: Values joined by their text form.

    Returns:
        A GUID string (version-4 layout so validators accept it).
    """
    raw = bytearray(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).digest())
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def stable_token(alphabet: str, length: int, *parts: object) -> str:
    """Derive a deterministic token over an alphabet (SKUs, ids).

    Args:
        alphabet: Characters to draw from.
        length: Token length.
        *parts: Values joined by their text form.

    Returns:
        The token.
    """
    number = int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=32).digest(), "big")
    out = []
    for _ in range(length):
        number, index = divmod(number, len(alphabet))
        out.append(alphabet[index])
    return "".join(out)


def fixed_width_strings(chars: np.ndarray) -> pa.StringArray:
    """Turn an (n, width) uint8 array of ASCII codes into an Arrow string array without a Python loop.

    Args:
        chars: ASCII bytes, one row per string.

    Returns:
        Arrow string array.
    """
    n, width = chars.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(chars, dtype=np.uint8)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


_BASE32 = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz234567", dtype=np.uint8)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def base32_ids(seed: np.ndarray, length: int = 52) -> pa.StringArray:
    """Render hashes as fixed-length base32 ids (the shape of CUR identity/LineItemId).

    Args:
        seed: uint64 hashes, one per id; further words are derived from them (12 characters a word).
        length: Characters per id.

    Returns:
        Arrow string array.
    """
    n = len(seed)
    chars = np.empty((n, length), dtype=np.uint8)
    word = seed
    for i in range(length):
        if i % 12 == 0:
            word = mix64(seed, i)
        chars[:, i] = _BASE32[(word >> np.uint64((i % 12) * 5)) & np.uint64(31)]
    return fixed_width_strings(chars)


def uuid_strings(h1: np.ndarray, h2: np.ndarray) -> pa.StringArray:
    """Render hash pairs as UUID strings (version nibble 5: name-based and deterministic).

    Args:
        h1: uint64 high halves.
        h2: uint64 low halves.

    Returns:
        Arrow string array of 36-character UUIDs.
    """
    hi = (h1 & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x0000000000005000)
    lo = (h2 & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
    nibbles = np.empty((len(h1), 32), dtype=np.uint8)
    for i in range(16):
        shift = np.uint64(60 - 4 * i)
        nibbles[:, i] = ((hi >> shift) & np.uint64(15)).astype(np.uint8)
        nibbles[:, 16 + i] = ((lo >> shift) & np.uint64(15)).astype(np.uint8)
    chars = _HEX[nibbles]
    dash = np.full((len(h1), 1), ord("-"), dtype=np.uint8)
    parts = [chars[:, :8], dash, chars[:, 8:12], dash, chars[:, 12:16], dash, chars[:, 16:20], dash, chars[:, 20:]]
    return fixed_width_strings(np.hstack(parts))


def take_strings(values: Sequence[str | None] | pa.Array, indices: np.ndarray) -> pa.Array:
    """Gather strings by index; index -1 gives null.

    Args:
        values: Distinct values.
        indices: int array of positions into `values` (-1 for null).

    Returns:
        Arrow string array.
    """
    table = values if isinstance(values, pa.Array) else pa.array(list(values), type=pa.string())
    idx = np.asarray(indices, dtype=np.int64)
    missing = idx < 0
    return table.take(pa.array(idx, mask=missing) if missing.any() else pa.array(idx))


def take_columns(table: pa.Table, indices: np.ndarray) -> dict[str, pa.Array]:
    """Gather rows of all columns of a table in one Arrow call.

    Args:
        table: Aligned columns.
        indices: Row positions (no nulls).

    Returns:
        The gathered arrays by column name.
    """
    taken = table.take(pa.array(np.asarray(indices, dtype=np.int64))).combine_chunks()
    return {name: pa.concat_arrays(taken.column(name).chunks) for name in taken.column_names}


def csv_field(text: str | None) -> str | None:
    """Quote one CSV field only when it needs it (RFC 4180 minimal quoting, like the real exports).

    Args:
        text: Field text or None.

    Returns:
        The encoded field, or None.
    """
    if text is None or not any(ch in text for ch in ',"\n\r'):
        return text
    return '"' + text.replace('"', '""') + '"'


def csv_column(values: pa.Array) -> pa.Array:
    """Quote the cells of a string column that need it (commas, quotes, newlines), leave the rest bare.

    Args:
        values: Arrow string array.

    Returns:
        Encoded Arrow string array (nulls stay null).
    """
    needs = pc.match_substring_regex(values, r'[,"\n\r]')
    if not pc.any(needs).as_py():
        return values
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, values)


def join_lines(parts: Sequence[pa.Array | str], separator: str = "") -> bytes:
    """Concatenate columns and literals per row, then rows with newlines, in Arrow's C++ kernels.

    Args:
        parts: Arrow string arrays and literal strings, joined by `separator` within a row.
        separator: Text placed between parts.

    Returns:
        UTF-8 bytes, each row ending in a newline.
    """
    args = [pa.scalar(p, pa.string()) if isinstance(p, str) else p for p in parts]
    line = pc.binary_join_element_wise(*args, separator, null_handling="replace", null_replacement="")
    line = pc.binary_join_element_wise(line, "\n", "")
    if isinstance(line, pa.ChunkedArray):
        line = line.combine_chunks()
    if len(line) == 0:
        return b""
    offsets = np.frombuffer(line.buffers()[1], dtype=np.int32)
    start, end = offsets[line.offset], offsets[line.offset + len(line)]
    return line.buffers()[2].to_pybytes()[start:end]


class GzipWriter:
    """Gzip a byte stream on a background thread so compression overlaps generation (zlib drops the GIL).

    The gzip header carries no timestamp, so identical input gives identical files.
    """

    def __init__(self, path: Path) -> None:
        """Open the target file.

        Args:
            path: Output .gz path (parents are created).
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = path.open("wb")
        self._queue: Queue[bytes | None] = Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, 31)
        try:
            while (chunk := self._queue.get()) is not None:
                self._file.write(compressor.compress(chunk))
            self._file.write(compressor.flush())
        except BaseException as exc:  # surfaced to the caller in close()
            self._error = exc
            while self._queue.get() is not None:
                pass

    def write(self, data: bytes) -> None:
        """Queue bytes for compression.

        Args:
            data: Uncompressed bytes.
        """
        if data:
            self._queue.put(data)

    def close(self) -> int:
        """Finish the stream and close the file.

        Returns:
            The compressed size in bytes.

        Raises:
            BaseException: Whatever the compression thread raised.
        """
        self._queue.put(None)
        self._thread.join()
        self._file.close()
        if self._error is not None:
            raise self._error
        return self.path.stat().st_size


class CsvPartWriter:
    """Write a CSV export as numbered .csv.gz parts, starting a new part past `max_rows` rows.

    Each part repeats the header, as the providers' split files do.
    """

    def __init__(self, header: bytes, path_for_part: Callable[[int], Path], max_rows: int = MAX_ROWS_PER_FILE) -> None:
        """Prepare the writer; no file is created until rows arrive.

        Args:
            header: Encoded header line, newline-terminated.
            path_for_part: Callable taking the 1-based part number and returning its Path.
            max_rows: Rows per part before rolling over.
        """
        self._header = header
        self._path_for_part = path_for_part
        self._max_rows = max_rows
        self._current: GzipWriter | None = None
        self._rows_in_part = 0
        self.parts: list[tuple[Path, int, int]] = []  # (path, rows, compressed bytes)
        self.rows = 0

    def write(self, data: bytes, rows: int) -> None:
        """Append encoded rows, rolling to a new part when the current one is full.

        Args:
            data: Encoded CSV lines.
            rows: How many lines `data` holds.
        """
        if rows == 0:
            return
        if self._current is None or (self._rows_in_part and self._rows_in_part + rows > self._max_rows):
            self._roll()
        assert self._current is not None
        self._current.write(data)
        self._rows_in_part += rows
        self.rows += rows

    def _roll(self) -> None:
        self._finish_part()
        path = self._path_for_part(len(self.parts) + 1)
        self._current = GzipWriter(path)
        self._current.write(self._header)
        self._rows_in_part = 0

    def _finish_part(self) -> None:
        if self._current is not None:
            size = self._current.close()
            self.parts.append((self._current.path, self._rows_in_part, size))
            self._current = None

    def close(self) -> list[tuple[Path, int, int]]:
        """Close the last part (an empty export still gets one header-only part).

        Returns:
            (path, rows, compressed bytes) per part.
        """
        if self._current is None and not self.parts:
            self._roll()
        self._finish_part()
        return self.parts
