"""Reading a caseload file: CSV (UTF-8 with or without BOM, Windows-1252;
`;` or `,` as German Excel writes it) or XLSX, and the values in it
(German dates, Excel serial dates, yes/no, choices by key or German label).

Rows are yielded one by one with their line number as the spreadsheet
shows it (the header is line 1), so the caller keeps only what it plans
to write (bounded memory). Limits are the handover import's
(`handover.limits`, LOTSE_HANDOVER_IMPORT_MAX_*).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from handover.limits import xlsx_archive_check


class FileRefused(Exception):
    """The file as a whole cannot be read; `message` says why (German)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


# Excel counts days from 1899-12-30 (with its 1900 leap-year bug folded in).
EXCEL_EPOCH = date(1899, 12, 30)
_SERIAL = re.compile(r"^\d{4,5}(\.0+)?$")
_GERMAN = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_FORMULA = re.compile(r"^[=@\t\r]|^[+\-](?![0-9 ()/.\-]*$)")
YES = {"ja", "j", "yes", "y", "x", "1", "wahr", "true"}
NO = {"nein", "n", "no", "0", "falsch", "false", ""}


def decode(content: bytes) -> str:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRefused(_("UTF-16 is not supported; save the file as UTF-8 or CSV."))
    if b"\x00" in content:
        raise FileRefused(_("The file contains binary data; upload a CSV or XLSX file."))
    if content.startswith(b"\xef\xbb\xbf"):
        try:
            return content[3:].decode("utf-8")
        except UnicodeDecodeError:
            raise FileRefused(_("The file says UTF-8 but is not valid UTF-8.")) from None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Windows-1252 as German Excel saves "CSV (Trennzeichen-getrennt)";
    # five byte values are undefined there and refused.
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError:
        raise FileRefused(
            _("The encoding is not recognised; save as UTF-8 or Windows-1252.")
        ) from None


def _csv_rows(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    text = decode(content)
    first_line = text.split("\n", 1)[0]
    if first_line.count(";") == first_line.count(",") == 0:
        raise FileRefused(_("No column separator found; separate columns with ; or ,."), 1)
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    try:
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error:
        raise FileRefused(_("The CSV structure is broken (quotes?)."), reader.line_num) from None


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    refused = xlsx_archive_check(content)
    if refused:
        raise FileRefused(refused)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many types for broken files
        raise FileRefused(_("The file could not be read as an XLSX workbook.")) from None
    try:
        for number, cells in enumerate(rows, start=1):
            yield number, list(cells)
    except Exception:  # noqa: BLE001
        raise FileRefused(_("The file could not be read as an XLSX workbook.")) from None
    finally:
        workbook.close()


def _cell(value: Any) -> Any:
    """A cell as text, a date (XLSX date cells) or a number as text."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def rows(content: bytes, filename: str) -> Iterator[tuple[int, list[str], dict[str, Any]]]:
    """Yield (line, header, row) for every non-empty row after the header.

    Raises FileRefused for a file that cannot be read at all: empty, too
    large, broken, too many rows. A row with more values than the header
    has columns yields the extra values under the key `""`.
    """
    if not content.strip():
        raise FileRefused(_("The file is empty."))
    if len(content) > settings.LOTSE_HANDOVER_IMPORT_MAX_BYTES:
        raise FileRefused(
            _("The file is larger than %(n)d kB.")
            % {"n": settings.LOTSE_HANDOVER_IMPORT_MAX_BYTES // 1024}
        )
    is_xlsx = content.startswith(b"PK\x03\x04") or filename.lower().endswith(".xlsx")
    source = _xlsx_rows(content) if is_xlsx else _csv_rows(content)
    header: list[str] | None = None
    count = 0
    for line, cells in source:
        values = [_cell(cell) for cell in cells]
        if header is None:
            header = [str(v).lstrip("\ufeff").strip().lower() for v in values]
            while header and header[-1] == "":
                header.pop()
            continue
        if not any(value != "" for value in values):
            continue
        count += 1
        if count > settings.LOTSE_HANDOVER_IMPORT_MAX_ROWS:
            raise FileRefused(
                _("At most %(n)d rows per file.") % {"n": settings.LOTSE_HANDOVER_IMPORT_MAX_ROWS}
            )
        while len(values) > len(header) and values[-1] == "":
            values.pop()
        row = dict(zip(header, values, strict=False))
        if len(values) > len(header):
            row[""] = values[len(header) :]
        yield line, header, row
    if header is None:
        raise FileRefused(_("The file is empty."))


# --- values ------------------------------------------------------------------


class BadValue(ValueError):
    """A value that cannot be read; the message is German."""


def text(value: Any, *, max_length: int) -> str:
    result = "" if value is None else str(value).strip()
    if _FORMULA.search(result):
        raise BadValue(
            _(
                "The value starts with =, +, - or @ and would be read as a spreadsheet formula; "
                "it was refused. Remove the leading character."
            )
        )
    if len(result) > max_length:
        raise BadValue(_("At most %(n)d characters.") % {"n": max_length})
    return result


def parse_date(value: Any) -> date | None:
    """31.12.2023, 31.12.23, 2023-12-31, an XLSX date cell or an Excel
    serial number (45291); empty: None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = "" if value is None else str(value).strip()
    if not raw:
        return None
    try:
        if match := _GERMAN.match(raw):
            day, month, year = (int(part) for part in match.groups())
            if year < 100:
                year += 2000 if year < 70 else 1900
            return date(year, month, day)
        if match := _ISO.match(raw):
            return date(*(int(part) for part in match.groups()))
        if _SERIAL.match(raw):
            serial = int(float(raw))
            if 1 <= serial <= 2958465:
                return EXCEL_EPOCH + timedelta(days=serial)
    except ValueError:
        raise BadValue(_("This date does not exist.")) from None
    raise BadValue(_("Not a date; write it as 31.12.2023."))


def parse_bool(value: Any, *, default: bool) -> bool:
    raw = "" if value is None else str(value).strip().lower()
    if raw == "":
        return default
    if raw in YES:
        return True
    if raw in NO:
        return False
    raise BadValue(_("Write ja or nein."))


def parse_int(value: Any, *, low: int, high: int) -> int | None:
    raw = "" if value is None else str(value).strip()
    if not raw:
        return None
    try:
        number = int(raw)
    except ValueError:
        raise BadValue(_("Not a whole number.")) from None
    if not low <= number <= high:
        raise BadValue(_("Between %(low)d and %(high)d.") % {"low": low, "high": high})
    return number


def fold(value: str) -> str:
    """Compare keys and labels without case, spaces, hyphens or umlaut spelling."""
    folded = value.strip().lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        folded = folded.replace(umlaut, plain)
    return re.sub(r"[\s_\-/()]+", "", folded)


def choice(value: Any, options: dict[str, str], *, default: str | None = None) -> str:
    """The stored value for a key or a label (`options`: folded -> value)."""
    raw = "" if value is None else str(value).strip()
    if not raw:
        if default is None:
            raise BadValue(_("This field is required."))
        return default
    found = options.get(fold(raw))
    if found is None:
        raise BadValue(_("Unknown value."))
    return found
