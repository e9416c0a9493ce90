"""Reading an uploaded CSV: its encoding, its delimiter, its header and its rows.

Framework-free. Files are read as streams, never whole into memory, so a 50 MB export costs
a few kilobytes of buffer however many rows it has.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

# Where the browser and the API refuse an upload; the worker never sees a larger file.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
DELIMITERS = ",;\t|"
SAMPLE_BYTES = 64 * 1024
# Cells of several megabytes are a broken file, not data; csv's default limit is 128 KB.
csv.field_size_limit(4 * 1024 * 1024)


class UnreadableFile(Exception):
    """The file cannot be read as a CSV; the message says why in words for the user."""


@dataclass(frozen=True)
class FileFormat:
    encoding: str
    delimiter: str
    headers: list[str]


# Signatures of files people upload by mistake instead of a CSV export.
_BINARY_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook (.xlsx) or another zip archive",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
}
_SAVE_AS_CSV = " Open it in your spreadsheet and save it as CSV (comma-separated values), then upload that file."


def detect_encoding(stream: BinaryIO) -> str:
    """The text encoding of the file: BOMs first (Excel's "Unicode text" is UTF-16 with a
    BOM), then UTF-8 if every byte decodes as UTF-8, else Windows-1252 (Excel's "CSV" on
    Western Windows). Raises UnreadableFile for binary data. Reads the whole stream once."""
    stream.seek(0)
    head = stream.read(SAMPLE_BYTES)
    if not head.strip():
        raise UnreadableFile("The file is empty. Export your leads again and upload the CSV file.")
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        # The "utf-16" codec reads the BOM and picks the byte order itself.
        encoding = "utf-16"
    else:
        for signature, what in _BINARY_SIGNATURES.items():
            if head.startswith(signature):
                raise UnreadableFile(f"This file is {what}, not a CSV." + _SAVE_AS_CSV)
        even, odd = head[0::2], head[1::2]
        if head and odd.count(0) > len(odd) * 0.4 and even.count(0) == 0:
            encoding = "utf-16-le"
        elif head and even.count(0) > len(even) * 0.4 and odd.count(0) == 0:
            encoding = "utf-16-be"
        elif b"\x00" in head or _looks_binary(head):
            raise UnreadableFile(
                "This file holds binary data, not text, so it is not a CSV." + _SAVE_AS_CSV
            )
        else:
            encoding = "utf-8" if _decodes(stream, "utf-8") else "cp1252"
            if encoding == "cp1252" and not _decodes(stream, "cp1252"):
                raise UnreadableFile(
                    "The file's text encoding is not one we can read (UTF-8, UTF-16 or "
                    "Windows-1252)." + _SAVE_AS_CSV
                )
    stream.seek(0)
    return encoding


def _looks_binary(head: bytes) -> bool:
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 13, 12))
    return controls > max(len(head) // 100, 2)


def _decodes(stream: BinaryIO, encoding: str) -> bool:
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := stream.read(1024 * 1024):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        stream.seek(0)
    return True


def text_stream(stream: BinaryIO, encoding: str) -> io.TextIOWrapper:
    stream.seek(0)
    # newline="" as the csv module asks: quoted cells keep their own line breaks.
    return io.TextIOWrapper(stream, encoding=encoding, newline="", errors="replace")


def detect_delimiter(sample: str) -> str:
    """Comma, semicolon, tab or pipe: csv.Sniffer first, and when it gives up (or finds a
    single column) the delimiter that splits the first lines into the most consistent
    number of columns."""
    lines = sample.splitlines()
    if len(sample) >= SAMPLE_BYTES - 1 and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut in the middle
    sample = "\n".join(line for line in lines if line.strip())
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed and len(_first_row(sample, sniffed)) > 1:
        return sniffed
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        rows = [row for row in csv.reader(io.StringIO(sample), delimiter=delimiter) if row][:50]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(1 for row in rows if len(row) == width), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _first_row(sample: str, delimiter: str) -> list[str]:
    for row in csv.reader(io.StringIO(sample), delimiter=delimiter):
        if any(cell.strip() for cell in row):
            return row
    return []


def unique_headers(raw: list[str]) -> list[str]:
    """Headers as shown and stored: trimmed, blanks named by position, repeats told apart
    ("Email", "Email (2)") so that no column is lost to another of the same name."""
    headers: list[str] = []
    seen: dict[str, int] = {}
    for position, header in enumerate(raw, start=1):
        name = " ".join(header.replace("\ufeff", "").split()) or f"Column {position}"
        key = name.lower()
        if key in seen:
            seen[key] += 1
            name = f"{name} ({seen[key]})"
            while name.lower() in seen:
                name = f"{name}*"
        seen.setdefault(name.lower(), 1)
        headers.append(name)
    return headers


def sniff(stream: BinaryIO) -> FileFormat:
    """Encoding, delimiter and header of an uploaded file. Raises UnreadableFile."""
    encoding = detect_encoding(stream)
    text = text_stream(stream, encoding)
    try:
        sample = text.read(SAMPLE_BYTES)
    finally:
        text.detach()
    delimiter = detect_delimiter(sample)
    records = iter_records(stream, encoding, delimiter)
    header = next(records, None)
    first_row = next(records, None)
    records.close()
    stream.seek(0)
    if header is None:
        raise UnreadableFile("The file has no rows. Export your leads again with a header row.")
    if first_row is None:
        raise UnreadableFile(
            "The file has a header but no rows of data. Check that you exported the leads, "
            "not an empty view."
        )
    headers = unique_headers(header[1])
    return FileFormat(encoding=encoding, delimiter=delimiter, headers=headers)


def iter_records(
    stream: BinaryIO, encoding: str, delimiter: str
) -> Iterator[tuple[int, list[str]]]:
    """(first line number, cells) of every non-blank record, header included. A quoted cell
    may span lines; the number is the line where its record starts, as an editor shows it."""
    text = text_stream(stream, encoding)
    reader = csv.reader(text, delimiter=delimiter, strict=False)
    line = 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not cells or (not any(cell.strip() for cell in cells) and len(cells) == 1):
                continue  # a blank line holds nothing to import
            yield start, [cell.replace("\x00", "") for cell in cells]
    except csv.Error as exc:
        raise UnreadableFile(f"Line {line}: the CSV is malformed ({exc}).") from exc
    finally:
        # Hand the binary stream back open; its owner closes it (and may have already).
        with contextlib.suppress(ValueError):
            text.detach()


def iter_data_rows(
    stream: BinaryIO, encoding: str, delimiter: str
) -> Iterator[tuple[int, list[str]]]:
    """The records after the header."""
    records = iter_records(stream, encoding, delimiter)
    next(records, None)
    yield from records


def count_data_rows(stream: BinaryIO, encoding: str, delimiter: str) -> int:
    """How many records iter_data_rows yields, without building them."""
    text = text_stream(stream, encoding)
    reader = csv.reader(text, delimiter=delimiter, strict=False)
    count, line = -1, 1  # -1: the header
    try:
        for cells in reader:
            line = reader.line_num + 1
            # What iter_records skips: nothing, or one blank cell.
            if len(cells) > 1 or (cells and cells[0].strip()):
                count += 1
    except csv.Error as exc:
        raise UnreadableFile(f"Line {line}: the CSV is malformed ({exc}).") from exc
    finally:
        with contextlib.suppress(ValueError):
            text.detach()
    return max(count, 0)
