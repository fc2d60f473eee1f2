"""The file import (CSV, XLSX): a row-by-row report, all rows or none."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from time import monotonic
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Gemeinde, User
from handover.limits import xlsx_archive_check
from handover.models import Handover, HandoverMember
from handover.services.cleaning import (
    Cleaned,
    _build,
    _members_of,
    _open_identities,
    _text,
    handover_clean,
    identity_key,
)
from handover.services.common import (
    MEMBER_CONTENT,
    MEMBER_FACTS,
    MESSAGES,
    ImportInvalid,
    _audit,
)
from handover.services.lifecycle import (
    _require_sender,
)
from notifications.services import (
    notification_handovers_imported,
)

# --- file import -----------------------------------------------------------

# The documented column layout (README "Handover import"), in template order.
COLUMNS = [
    "external_reference",
    "gemeinde_ags",
    "au_allocation_date",
    "relation",
    "family_name",
    "given_names",
    "date_of_birth",
    "sex",
    "nationality",
    "languages",
    "authority_reference",
    "consent_given",
    "consent_form",
    "consent_language",
    "consent_interpreter",
    "consent_given_on",
    "known_needs",
    "open_matters",
    "notes",
    "phone",
    "address",
    "gu_facility",
    "gu_contact_name",
    "gu_contact_phone",
    "gu_contact_email",
]
REQUIRED_COLUMNS = (
    "external_reference",
    "gemeinde_ags",
    "au_allocation_date",
    "family_name",
    "consent_given",
    "gu_contact_name",
)
MEMBER_COLUMNS = frozenset({*MEMBER_FACTS, *MEMBER_CONTENT})
HANDOVER_COLUMNS = [c for c in COLUMNS if c not in MEMBER_COLUMNS]
TEMPLATE_ROWS = [
    {
        "external_reference": "GU-2026-0001",
        "gemeinde_ags": "08999001",
        "au_allocation_date": "2025-12-01",
        "relation": "HEAD",
        "family_name": "Beispiel",
        "given_names": "Amal",
        "date_of_birth": "1990-03-01",
        "sex": "FEMALE",
        "nationality": "SY",
        "languages": "ar, en",
        "consent_given": "ja",
        "consent_form": "SIGNED_PAPER",
        "consent_language": "ar",
        "consent_given_on": "2025-11-20",
        "known_needs": "Sprachkurs",
        "gu_facility": "GU Musterstadt",
        "gu_contact_name": "Gül Demo",
        "gu_contact_email": "gu@demo.invalid",
    },
    {
        "external_reference": "GU-2026-0001",
        "relation": "CHILD",
        "family_name": "Beispiel",
        "given_names": "Sami",
        "date_of_birth": "2015-06-10",
        "sex": "MALE",
    },
]
_FORMULA = re.compile(r"^[=@\t\r]|^[+\-](?![0-9 ()/.\-]*$)")


# --- progress and time bound (the worker's import job) ----------------------


class ImportTimedOut(Exception):
    """The import ran past its time bound (LOTSE_IMPORT_TIME_LIMIT_SECONDS)."""


@dataclass(frozen=True)
class _Watch:
    report: Callable[[str, int, int], None]  # phase, done, total
    deadline: float  # time.monotonic()


_watch: ContextVar[_Watch | None] = ContextVar("lotse_import_watch", default=None)
TICK_ROWS = 200


@contextmanager
def import_watched(report: Callable[[str, int, int], None], *, seconds: float) -> Iterator[None]:
    """Within this block an import reports its progress to `report` and
    raises ImportTimedOut once it has run `seconds`."""
    token = _watch.set(_Watch(report=report, deadline=monotonic() + seconds))
    try:
        yield
    finally:
        _watch.reset(token)


def _tick(phase: str, done: int, total: int = 0) -> None:
    watch = _watch.get()
    if watch is None:
        return
    if monotonic() > watch.deadline:
        raise ImportTimedOut
    watch.report(phase, done, total)


@dataclass
class ImportReport:
    """What an import does (dry run) or did: the same for both."""

    dry_run: bool
    rows: int = 0
    handovers: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def error(self, line: int, column: str, message: Any) -> None:
        self.errors.append({"line": line, "field": column, "message": str(message)})

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "rows": self.rows,
            "handovers": self.handovers,
            "errors": sorted(self.errors, key=lambda e: (e["line"], e["field"], e["message"])),
        }


def _decode(content: bytes, report: ImportReport) -> str | None:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        report.error(0, "file", gettext("UTF-16 is not supported; save the file as UTF-8 or CSV."))
        return None
    if b"\x00" in content:
        report.error(
            0, "file", gettext("The file contains binary data; upload a CSV or XLSX file.")
        )
        return None
    if content.startswith(b"\xef\xbb\xbf"):
        try:
            return content[3:].decode("utf-8")
        except UnicodeDecodeError:
            report.error(0, "file", gettext("The file says UTF-8 but is not valid UTF-8."))
            return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError:
        report.error(
            0, "file", gettext("The encoding is not recognised; save as UTF-8 or Windows-1252.")
        )
        return None


def _csv_rows(content: bytes, report: ImportReport) -> list[tuple[int, list[Any]]] | None:
    text = _decode(content, report)
    if text is None:
        return None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    if first_line.count(";") == first_line.count(",") == 0:
        report.error(1, "file", gettext("No column separator found; separate columns with ; or ,."))
        return None
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for cells in reader:
            rows.append((reader.line_num, cells))
            if len(rows) % TICK_ROWS == 0:
                _tick("READING", len(rows))
            if len(rows) > settings.LOTSE_HANDOVER_IMPORT_MAX_ROWS + 1:
                break
    except csv.Error:
        report.error(reader.line_num, "file", gettext("The CSV structure is broken (quotes?)."))
        return None
    return rows


def _xlsx_rows(content: bytes, report: ImportReport) -> list[tuple[int, list[Any]]] | None:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
        rows = []
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            rows.append((number, list(cells)))
            if number % TICK_ROWS == 0:
                _tick("READING", number)
            if len(rows) > settings.LOTSE_HANDOVER_IMPORT_MAX_ROWS + 1:
                break
        workbook.close()
    except ImportTimedOut:
        raise
    except Exception:  # noqa: BLE001 - openpyxl raises many types for broken files
        report.error(0, "file", gettext("The file could not be read as an XLSX workbook."))
        return None
    return rows


def _cell(value: Any) -> Any:
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


def _table(content: bytes, filename: str, report: ImportReport) -> list[tuple[int, dict[str, Any]]]:
    if not content.strip():
        report.error(0, "file", gettext("The file is empty."))
        return []
    if len(content) > settings.LOTSE_HANDOVER_IMPORT_MAX_BYTES:
        report.error(
            0,
            "file",
            gettext("The file is larger than %(n)d kB.")
            % {"n": settings.LOTSE_HANDOVER_IMPORT_MAX_BYTES // 1024},
        )
        return []
    is_xlsx = content.startswith(b"PK\x03\x04") or filename.lower().endswith(".xlsx")
    refused = xlsx_archive_check(content) if is_xlsx else None
    if refused:
        report.error(0, "file", refused)
        return []
    raw = _xlsx_rows(content, report) if is_xlsx else _csv_rows(content, report)
    if not raw:
        if raw is not None:
            report.error(0, "file", gettext("The file is empty."))
        return []
    (header_line, header_cells), body = raw[0], raw[1:]
    header = [_text(cell).lstrip("\ufeff").lower() for cell in header_cells]
    while header and header[-1] == "":
        header.pop()
    for index, name in enumerate(header):
        if name not in COLUMNS:
            report.error(header_line, name or f"#{index + 1}", gettext("Unknown column."))
        elif header.index(name) != index:
            report.error(header_line, name, gettext("The column appears twice."))
    for name in REQUIRED_COLUMNS:
        if name not in header:
            report.error(header_line, name, gettext("The column is missing."))
    if len(body) > settings.LOTSE_HANDOVER_IMPORT_MAX_ROWS:
        report.error(
            0,
            "file",
            gettext("At most %(n)d rows per file.")
            % {"n": settings.LOTSE_HANDOVER_IMPORT_MAX_ROWS},
        )
        return []
    if report.errors:
        return []
    rows = []
    for line, cells in body:
        values = [_cell(cell) for cell in cells]
        if not any(value != "" for value in values):
            continue
        report.rows += 1
        while len(values) > len(header) and values[-1] == "":
            values.pop()
        if len(values) != len(header):
            report.error(
                line,
                "file",
                gettext("The row has %(n)d values, the header %(m)d columns.")
                % {"n": len(values), "m": len(header)},
            )
            continue
        row = dict(zip(header, values, strict=True))
        bad = False
        for name, value in row.items():
            if isinstance(value, str) and _FORMULA.search(value):
                report.error(line, name, MESSAGES["formula"])
                bad = True
        if not bad:
            rows.append((line, row))
    if not report.rows and not report.errors:
        report.error(0, "file", gettext("The file has a header but no rows."))
    return rows


@dataclass
class _Planned:
    lines: list[int]
    cleaned: Cleaned


def _plan_import(
    *, actor: User, now: datetime, content: bytes, filename: str, dry_run: bool
) -> tuple[ImportReport, list[_Planned]]:
    report = ImportReport(dry_run=dry_run)
    rows = _table(content, filename, report)
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for line, row in rows:
        reference = _text(row.get("external_reference"))
        if not reference:
            report.error(line, "external_reference", MESSAGES["required"])
            continue
        groups.setdefault(reference, []).append((line, row))
    today = timezone.localdate(now)
    used = dict(
        Handover.objects.filter(
            submitted_by=actor, external_reference__in=list(groups)
        ).values_list("external_reference", "pk")
    )
    waiting = _open_identities(actor)
    seen_in_file: dict[tuple[Any, ...], tuple[str, int]] = {}
    gemeinden: dict[str, tuple[Gemeinde | None, bool]] = {}
    planned = []
    for index, (reference, group) in enumerate(groups.items()):
        if index % TICK_ROWS == 0:
            _tick("CHECKING", index, len(groups))
        first_line, first = group[0]
        for line, row in group[1:]:
            for name in HANDOVER_COLUMNS:
                value = row.get(name, "")
                if value not in ("", first.get(name, "")):
                    report.error(
                        line,
                        name,
                        gettext("Differs from line %(line)d of the same handover; leave it empty.")
                        % {"line": first_line},
                    )
        if reference in used:
            for line, _row in group:
                report.error(
                    line,
                    "external_reference",
                    MESSAGES["duplicate_reference"] % {"id": used[reference]},
                )
            continue
        cleaned = handover_clean(
            data=first,
            members=[{k: v for k, v in row.items() if k in MEMBER_COLUMNS} for _line, row in group],
            today=today,
            gemeinden=gemeinden,
        )
        lines = [line for line, _row in group]
        for name, messages in cleaned.errors.items():
            line = first_line
            column = name
            if name.startswith("members."):
                _prefix, position, column = name.split(".", 2)
                line = lines[int(position)]
            elif name == "members":
                column = "family_name"
            for message in messages:
                report.error(line, column, message)
        for member, line in zip(cleaned.members, lines, strict=False):
            key = identity_key(member)
            if not member["family_name"]:
                continue
            if key in waiting:
                report.error(line, "family_name", MESSAGES["duplicate_open"] % {"id": waiting[key]})
            elif key in seen_in_file and seen_in_file[key][0] != reference:
                report.error(
                    line,
                    "family_name",
                    gettext("The same person is already in line %(line)d of this file.")
                    % {"line": seen_in_file[key][1]},
                )
            seen_in_file.setdefault(key, (reference, line))
        if not cleaned.errors:
            planned.append(_Planned(lines=lines, cleaned=cleaned))
            report.handovers.append(
                {
                    "external_reference": reference,
                    "lines": lines,
                    "persons": len(cleaned.members),
                    "gemeinde_ags": cleaned.values["gemeinde"].ags,
                    "consent_given": cleaned.values["consent_given"],
                    "withheld_fields": sorted(cleaned.withheld),
                }
            )
    return report, planned


def handover_import(
    *, actor: User, now: datetime, content: bytes, filename: str, dry_run: bool
) -> ImportReport:
    """Import handovers from a CSV or XLSX file (layout: `COLUMNS`).

    All or nothing: with any bad row nothing is written and ImportInvalid
    (400) carries the report (line, field, German message per problem).
    The dry run checks exactly as the real run and reports what it would
    create; the real run creates one submitted handover per reference (rows
    with the same `external_reference` are one household) with one audit
    event each.
    """
    _require_sender(actor)
    # Checking only reads, so it runs before the transaction: a worker's
    # progress (import_watched) is committed and seen while it checks.
    report, planned = _plan_import(
        actor=actor, now=now, content=content, filename=filename, dry_run=dry_run
    )
    if report.errors:
        raise ImportInvalid(
            _("The file was not imported: %(n)d problems. Nothing was saved.")
            % {"n": len(report.errors)},
            report=report,
        )
    if dry_run:
        return report
    _tick("SAVING", len(planned), len(planned))
    with transaction.atomic():
        handovers = [
            _build(item.cleaned, actor=actor, now=now, source=Handover.Source.IMPORT, submit=True)
            for item in planned
        ]
        Handover.objects.bulk_create(handovers, batch_size=1000)
        HandoverMember.objects.bulk_create(
            (
                member
                for handover, item in zip(handovers, planned, strict=True)
                for member in _members_of(handover, item.cleaned)
            ),
            batch_size=2000,
        )
        for index, (handover, item, entry) in enumerate(
            zip(handovers, planned, report.handovers, strict=True)
        ):
            entry["id"] = handover.pk
            _audit(
                # The first append takes the global chain's advisory lock;
                # it is held to the commit, so the others need not ask.
                chain_locked=index > 0,
                batch=True,
                handover=handover,
                actor=actor,
                now=now,
                event_type="handover.handover.created",
                transition="submit",
                reason=Handover.Source.IMPORT,
                data={
                    "members": len(item.cleaned.members),
                    "consent_given": handover.consent_given,
                },
            )
        by_gemeinde: dict[int, list[int]] = {}
        for handover in handovers:
            by_gemeinde.setdefault(handover.gemeinde_id, []).append(handover.pk)
        for gemeinde_id, ids in sorted(by_gemeinde.items()):
            notification_handovers_imported(
                handover_ids=ids, gemeinde_id=gemeinde_id, now=now, link=reverse("handover:list")
            )
    return report


def import_template_csv() -> bytes:
    """Return the CSV template (UTF-8 with BOM, `;`) with two sample rows."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in TEMPLATE_ROWS:
        writer.writerow([row.get(name, "") for name in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def import_template_xlsx() -> bytes:
    """Return the XLSX template with the same columns and sample rows."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Übergaben"
    sheet.append(COLUMNS)
    for row in TEMPLATE_ROWS:
        sheet.append([row.get(name, "") for name in COLUMNS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
