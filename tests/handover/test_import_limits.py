"""Finding 3 of issue 22: an XLSX upload is checked before it is parsed.

A small file that unpacks to much more than the limit, a worksheet with
too many cells, a cell with too long a text and too many rows are refused
with a clear German message, and openpyxl never opens them.
"""

from __future__ import annotations

import io
import zipfile
from unittest import mock

import pytest
from rest_framework.test import APIClient

from handover.models import Handover
from tests.handover.factories import world
from tests.handover.test_import import _named, xlsx_bytes

pytestmark = pytest.mark.django_db


def _bomb(unpacked: int) -> bytes:
    """A valid-looking XLSX whose worksheet unpacks to `unpacked` bytes."""
    base = zipfile.ZipFile(io.BytesIO(xlsx_bytes([["family_name"], ["A"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in base.infolist():
            data = base.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * unpacked, 1)
            bomb.writestr(item.filename, data)
    return out.getvalue()


def _upload(content: bytes) -> dict:
    w = world()
    client = APIClient()
    client.force_authenticate(w.gu)
    with mock.patch("openpyxl.load_workbook", side_effect=AssertionError("parsed")) as parse:
        response = client.post(
            "/api/v1/handovers/import/?dry_run=true",
            {"file": _named(content, "u.xlsx")},
            format="multipart",
        )
    assert response.status_code == 400, response.content
    assert parse.call_count == 0
    assert Handover.objects.count() == 0
    [error] = response.json()["errors"]
    assert (error["line"], error["field"]) == (0, "file")
    return error


def test_an_archive_that_unpacks_beyond_the_limit_is_not_parsed(settings) -> None:
    settings.LOTSE_IMPORT_MAX_UNPACKED_BYTES = 5 * 1024 * 1024
    content = _bomb(6 * 1024 * 1024)
    assert len(content) < 100 * 1024  # small on the wire

    error = _upload(content)

    assert error["message"] == (
        "Die XLSX-Datei ist entpackt größer als 5 MB; teilen Sie sie in kleinere Dateien auf."
    )


def test_a_cell_with_too_long_a_text_is_not_parsed(settings) -> None:
    settings.LOTSE_IMPORT_MAX_CELL_CHARS = 1000
    content = xlsx_bytes([["family_name", "notes"], ["A", "x" * 1001]])

    error = _upload(content)

    assert error["message"] == "Eine Zelle enthält mehr als 1000 Zeichen; kürzen Sie sie."


def test_too_many_cells_are_not_parsed(settings) -> None:
    settings.LOTSE_IMPORT_MAX_CELLS = 50
    content = xlsx_bytes([[f"c{i}" for i in range(30)], ["v"] * 30])

    error = _upload(content)

    assert error["message"] == (
        "Das Arbeitsblatt hat mehr als 50 Zellen; entfernen Sie leere oder zusätzliche Spalten."
    )


def test_too_many_rows_are_not_parsed(settings) -> None:
    settings.LOTSE_HANDOVER_IMPORT_MAX_ROWS = 3
    content = xlsx_bytes([["family_name"]] + [["A"]] * 5)

    error = _upload(content)

    assert error["message"] == (
        "Die Datei hat mehr als 3 Zeilen; teilen Sie sie in kleinere Dateien auf."
    )
