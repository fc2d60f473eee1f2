"""Checks of an uploaded XLSX archive before it is parsed.

An XLSX file is a ZIP archive of XML parts. A few megabytes can unpack to
gigabytes (a "zip bomb"), or hold one cell of hundreds of megabytes, and
openpyxl would build all of it in memory. Before openpyxl sees the file,
`xlsx_archive_check` reads only the archive's directory and then streams
the worksheet and shared-strings parts (at most the allowed unpacked size)
to count rows and cells and measure the longest text. Limits (settings,
documented in .env.example and the README):

- LOTSE_IMPORT_MAX_UNPACKED_BYTES: all parts together, unpacked;
- LOTSE_IMPORT_MAX_CELLS: cells of the first worksheet;
- LOTSE_IMPORT_MAX_CELL_CHARS: characters of the longest cell text;
- LOTSE_HANDOVER_IMPORT_MAX_ROWS (+1 header row): rows.

Python's zipfile never yields more bytes of a part than its declared size,
so a part that lies about its size cannot unpack beyond the limit either.
"""

from __future__ import annotations

import io
import re
import zipfile

from django.conf import settings
from django.utils.translation import gettext as _

_ROW = re.compile(rb"<(?:\w+:)?row[\s>/]")
_CELL = re.compile(rb"<(?:\w+:)?c[\s>/]")
_TEXT = re.compile(rb"<(?:\w+:)?(?:t|v)(?:\s[^>]*)?>([^<]*)<")
_CHUNK = 1 << 20


def _scan(archive: zipfile.ZipFile, name: str) -> tuple[int, int, int]:
    """Stream one XML part: (rows, cells, longest text in characters)."""
    rows = cells = longest = 0
    tail = b""
    with archive.open(name) as part:
        while True:
            chunk = part.read(_CHUNK)
            if not chunk:
                break
            data = tail + chunk
            # Keep an unfinished tag or text for the next round.
            cut = data.rfind(b"<")
            cut = cut if cut > 0 else len(data)
            window, tail = data[:cut], data[cut:]
            rows += len(_ROW.findall(window))
            cells += len(_CELL.findall(window))
            for match in _TEXT.finditer(window):
                longest = max(longest, len(match.group(1).decode("utf-8", "replace")))
            if len(tail) > settings.LOTSE_IMPORT_MAX_CELL_CHARS * 4 + 1024:
                # One text longer than any allowed cell, still running.
                longest = max(longest, len(tail))
                tail = tail[-1024:]
    return rows, cells, longest


def xlsx_archive_check(content: bytes) -> str | None:
    """Return why the XLSX file must not be parsed (German), or None."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None  # not an archive: openpyxl's own error message follows
    limit = settings.LOTSE_IMPORT_MAX_UNPACKED_BYTES
    if len(members) > 1000 or sum(m.file_size for m in members) > limit:
        return _("The XLSX file unpacks to more than %(mb)d MB; split it into smaller files.") % {
            "mb": limit // (1024 * 1024)
        }
    names = {m.filename for m in members}
    sheets = sorted(n for n in names if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
    parts = sheets[:1] + (["xl/sharedStrings.xml"] if "xl/sharedStrings.xml" in names else [])
    rows = cells = longest = 0
    try:
        for name in parts:
            part_rows, part_cells, part_longest = _scan(archive, name)
            if name in sheets:
                rows, cells = part_rows, part_cells
            longest = max(longest, part_longest)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
        return _("The file could not be read as an XLSX workbook.")
    if rows > settings.LOTSE_HANDOVER_IMPORT_MAX_ROWS + 1:
        return _("The file has more than %(n)d rows; split it into smaller files.") % {
            "n": settings.LOTSE_HANDOVER_IMPORT_MAX_ROWS
        }
    if cells > settings.LOTSE_IMPORT_MAX_CELLS:
        return _("The worksheet has more than %(n)d cells; remove empty or extra columns.") % {
            "n": settings.LOTSE_IMPORT_MAX_CELLS
        }
    if longest > settings.LOTSE_IMPORT_MAX_CELL_CHARS:
        return _("A cell holds more than %(n)d characters; shorten it.") % {
            "n": settings.LOTSE_IMPORT_MAX_CELL_CHARS
        }
    return None
