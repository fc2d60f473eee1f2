"""A case history as CSV, JSON and PDF, with the chain hashes.

The JSON export carries, per event, exactly the fields the hash covers
(`fields`), the predecessor's hash and the event's hash, so that
`audit/verify_export.py` (standard library only) can recompute the chain
offline. CSV and PDF carry the same hashes for reading and filing.
Read accesses are listed for information; they are not hash-chained.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.utils import timezone

from audit.models import AuditEvent, ReadAccess
from audit.selectors import case_events, case_read_accesses
from audit.services import GENESIS_HASH, hashed_fields

EXPORT_FORMAT = "lotse-audit-export/1"
Describe = Callable[[AuditEvent], str]


def case_history_json(
    *, case_id: int, exported_by: Any, now: datetime, describe: Describe
) -> dict[str, Any]:
    """Return the case's whole chain and read log as one JSON document."""
    events = list(case_events(case_id=case_id).select_related("actor"))
    return {
        "format": EXPORT_FORMAT,
        "chain_key": f"case:{case_id}",
        "case_id": case_id,
        "exported_at": timezone.localtime(now).isoformat(),
        "exported_by": exported_by.pk,
        "genesis_hash": GENESIS_HASH,
        "head_hash": events[-1].hash if events else GENESIS_HASH,
        "events": [
            {
                "fields": hashed_fields(event),
                "prev_hash": event.prev_hash,
                "hash": event.hash,
                "line": describe(event),
            }
            for event in events
        ],
        "read_accesses": [
            {
                "accessed_at": timezone.localtime(read.accessed_at).isoformat(),
                "user_id": read.user_id,
                "user_role": read.user_role,
                "view": read.view,
            }
            for read in case_read_accesses(case_id=case_id)
        ],
    }


def json_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=1, default=str).encode()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


def csv_cell(value: Any) -> str:
    """Return `value` as a CSV cell that a spreadsheet will not run."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


CSV_COLUMNS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_role",
    "event_type",
    "object_type",
    "object_id",
    "transition",
    "from_state",
    "to_state",
    "reason",
    "line",
    "data",
    "prev_hash",
    "hash",
)


def case_history_csv(*, document: dict[str, Any]) -> bytes:
    """Return the events of a JSON export as CSV (UTF-8 with BOM, `;`)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for event in document["events"]:
        fields = event["fields"]
        values = {
            **fields,
            # Local time, as on screen; the JSON keeps the hashed value.
            "occurred_at": timezone.localtime(
                datetime.fromisoformat(fields["occurred_at"])
            ).isoformat(),
            "line": event["line"],
            "data": json.dumps(fields["data"], sort_keys=True, ensure_ascii=False),
            "prev_hash": event["prev_hash"],
            "hash": event["hash"],
        }
        writer.writerow([csv_cell(values[column]) for column in CSV_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode()


def rows_csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> bytes:
    """Return a report table as CSV (UTF-8 with BOM, `;`)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(list(header))
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode()


def _local(iso: str) -> str:
    return timezone.localtime(datetime.fromisoformat(iso)).strftime("%d.%m.%Y %H:%M:%S")


def case_history_pdf(*, document: dict[str, Any], texts: dict[str, str]) -> bytes:
    """Return the export as a readable PDF (A4 landscape, German texts
    from `texts`), each event with its hash and its predecessor's."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7.5, leading=9)
    mono = styles["Code"].clone("mono", fontSize=6, leading=7.5)

    def para(text: str, style: Any = small) -> Paragraph:
        safe = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return Paragraph(safe.replace("→", "-&gt;"), style)

    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=texts["title"],
    )
    story: list[Any] = [
        para(texts["title"], styles["Title"]),
        para(texts["intro"]),
        para(f"{texts['head']}: {document['head_hash']}", mono),
        Spacer(1, 4 * mm),
    ]
    rows: list[list[Any]] = [
        [para(texts[key]) for key in ("seq", "time", "actor", "event", "hashes")]
    ]
    for event in document["events"]:
        fields = event["fields"]
        actor = (
            f"{fields['actor_id']} ({fields['actor_role']})"
            if fields["actor_id"] is not None
            else fields["actor_role"]
        )
        rows.append(
            [
                para(str(fields["seq"])),
                para(_local(fields["occurred_at"])),
                para(actor),
                para(event["line"]),
                [para(event["hash"], mono), para(f"{texts['prev']}: {event['prev_hash']}", mono)],
            ]
        )
    table = Table(rows, colWidths=[12 * mm, 28 * mm, 28 * mm, 130 * mm, 75 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3ecf6")),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c0c6ce")),
            ]
        )
    )
    story.append(table)
    story.append(Spacer(1, 4 * mm))
    story.append(para(texts["verify"]))
    pdf.build(story)
    return buffer.getvalue()


def read_rows(reads: Iterable[ReadAccess]) -> list[list[Any]]:
    return [
        [timezone.localtime(r.accessed_at).isoformat(), r.user_id, r.user_role, r.case_id, r.view]
        for r in reads
    ]
