"""File import of handovers: formats, the malformed corpus, dry run = real run.

Every file of the corpus below is broken in its own way and also carries
good rows: the import must refuse the whole file (0 partial imports),
answer 400 and never 500, and report every bad row with line and column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import Workbook
from rest_framework.test import APIClient

from audit.models import AuditEvent
from handover import services
from handover.models import Handover, HandoverMember, HandoverStatus
from tests.accounts.factories import GemeindeFactory
from tests.cases.factories import T0
from tests.handover.factories import World, member, submitted, world

pytestmark = pytest.mark.django_db


def row(w: World, **values: Any) -> dict[str, Any]:
    base = {
        "external_reference": "R-1",
        "gemeinde_ags": w.gemeinde.ags,
        "au_allocation_date": "2025-12-01",
        "relation": "",
        "family_name": "Haddad",
        "given_names": "Amal",
        "date_of_birth": "01.03.1990",
        "sex": "w",
        "nationality": "SY",
        "languages": "ar",
        "consent_given": "ja",
        "consent_form": "SIGNED_PAPER",
        "consent_language": "ar",
        "consent_given_on": "2025-11-20",
        "known_needs": "Sprachkurs",
        "gu_contact_name": "Gül Test",
        "gu_contact_email": "",
    }
    base.update(values)
    return base


def csv_bytes(
    rows: list[dict[str, Any]],
    *,
    columns: list[str] | None = None,
    delimiter: str = ";",
    encoding: str = "utf-8",
) -> bytes:
    columns = columns or list(rows[0])
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for values in rows:
        writer.writerow([values.get(c, "") for c in columns])
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def good_rows(w: World) -> list[dict[str, Any]]:
    return [
        row(w),
        row(
            w,
            relation="CHILD",
            given_names="Sami",
            date_of_birth="2015-06-10",
            sex="m",
            consent_given="",
            consent_form="",
            consent_language="",
            consent_given_on="",
            known_needs="",
            gemeinde_ags="",
            au_allocation_date="",
            gu_contact_name="",
        ),
        row(
            w,
            external_reference="R-2",
            family_name="Kovalenko",
            given_names="Olena",
            date_of_birth="1985-01-02",
            nationality="UA",
            consent_given="nein",
            consent_form="",
            consent_language="",
            consent_given_on="",
            known_needs="Wohnung",
        ),
    ]


def run(w: World, content: bytes, *, filename: str = "u.csv", dry_run: bool = False) -> Any:
    return services.handover_import(
        actor=w.gu, now=T0, content=content, filename=filename, dry_run=dry_run
    )


# --- what a good file does -----------------------------------------------------


def test_import_creates_one_handover_per_reference_with_its_household() -> None:
    w = world()

    report = run(w, csv_bytes(good_rows(w)))

    assert [(h["external_reference"], h["lines"], h["persons"]) for h in report.handovers] == [
        ("R-1", [2, 3], 2),
        ("R-2", [4], 1),
    ]
    first = Handover.objects.get(external_reference="R-1")
    assert (first.status, first.source, first.known_needs) == (
        HandoverStatus.SUBMITTED,
        Handover.Source.IMPORT,
        "Sprachkurs",
    )
    assert list(
        first.members.order_by("position").values_list(
            "relation", "given_names", "date_of_birth", "sex"
        )
    ) == [
        ("HEAD", "Amal", date(1990, 3, 1), "FEMALE"),
        ("CHILD", "Sami", date(2015, 6, 10), "MALE"),
    ]
    second = Handover.objects.get(external_reference="R-2")
    assert (second.consent_given, second.known_needs) == (False, "")
    assert list(second.members.values_list("date_of_birth", "nationality")) == [(None, "")]
    assert report.handovers[1]["withheld_fields"] == [
        "date_of_birth",
        "known_needs",
        "languages",
        "nationality",
        "sex",
    ]
    assert AuditEvent.objects.filter(event_type="handover.handover.created").count() == 2


@pytest.mark.parametrize(
    ("encoding", "delimiter", "bom"),
    [("utf-8", ";", False), ("utf-8", ",", True), ("cp1252", ";", False), ("cp1252", ",", False)],
)
def test_import_reads_the_documented_encodings_and_separators(
    encoding: str, delimiter: str, bom: bool
) -> None:
    w = world()
    content = csv_bytes(
        [row(w, family_name="Müßig-Größe", gu_contact_name="Gül Öz")],
        delimiter=delimiter,
        encoding=encoding,
    )

    run(w, (b"\xef\xbb\xbf" if bom else b"") + content)

    stored = HandoverMember.objects.get()
    assert stored.family_name == "Müßig-Größe"
    assert stored.handover.gu_contact_name == "Gül Öz"


def test_phone_numbers_with_a_plus_are_no_formulas() -> None:
    w = world()
    columns = [*row(w), "phone", "gu_contact_phone"]

    run(w, csv_bytes([row(w, phone="+49 711 123-45", gu_contact_phone="-")], columns=columns))

    stored = Handover.objects.get()
    assert (stored.phone, stored.gu_contact_phone) == ("+49 711 123-45", "-")


def test_import_reads_xlsx_with_date_cells() -> None:
    w = world()
    header = list(row(w))
    values = row(w, au_allocation_date=datetime(2025, 12, 1), date_of_birth=datetime(1990, 3, 1))

    report = run(w, xlsx_bytes([header, [values[c] for c in header]]), filename="u.xlsx")

    assert report.rows == 1
    stored = HandoverMember.objects.get()
    assert (stored.date_of_birth, stored.handover.au_allocation_date) == (
        date(1990, 3, 1),
        date(2025, 12, 1),
    )


def test_the_templates_import_cleanly_once_the_gemeinde_exists() -> None:
    w = world()
    GemeindeFactory(ags="08999001").traeger.add(w.manager.traeger)

    run(w, services.import_template_csv(), dry_run=True)
    report = run(w, services.import_template_xlsx(), filename="vorlage.xlsx")

    assert [h["persons"] for h in report.handovers] == [2]


def test_dry_run_reports_exactly_what_the_real_run_does() -> None:
    w = world()
    content = csv_bytes(good_rows(w))

    dry = run(w, content, dry_run=True).as_dict()
    assert Handover.objects.count() == 0
    real = run(w, content).as_dict()

    ids = [h.pop("id") for h in real["handovers"]]
    assert {**dry, "dry_run": False} == real
    stored = Handover.objects.filter(pk__in=ids).order_by("pk")
    assert [
        (h.external_reference, h.members.count(), h.consent_given, h.gemeinde.ags) for h in stored
    ] == [
        (h["external_reference"], h["persons"], h["consent_given"], h["gemeinde_ags"])
        for h in dry["handovers"]
    ]


def test_dry_run_of_a_bad_file_reports_the_same_errors_as_the_real_run() -> None:
    w = world()
    content = csv_bytes([row(w), row(w, external_reference="R-2", date_of_birth="1990-13-01")])

    with pytest.raises(services.ImportInvalid) as dry:
        run(w, content, dry_run=True)
    with pytest.raises(services.ImportInvalid) as real:
        run(w, content)

    assert dry.value.report.errors == real.value.report.errors
    assert Handover.objects.count() == 0


# --- the malformed corpus -------------------------------------------------------


@dataclass
class Bad:
    name: str
    build: Callable[[World], bytes]
    expected: set[tuple[int, str]]
    filename: str = "u.csv"
    settings: dict[str, int] | None = None


def _replace_header(content: bytes, old: str, new: str) -> bytes:
    head, rest = content.split(b"\r\n", 1)
    return head.replace(old.encode(), new.encode()) + b"\r\n" + rest


def _drop_column(w: World, name: str) -> bytes:
    rows = good_rows(w)
    return csv_bytes(rows, columns=[c for c in rows[0] if c != name])


def _xlsx(w: World, **values: Any) -> bytes:
    header = list(row(w))
    good = row(w, external_reference="R-0", family_name="Gut")
    bad = row(w, **values)
    return xlsx_bytes([header, [good[c] for c in header], [bad[c] for c in header]])


def _db_duplicate_reference(w: World) -> bytes:
    submitted(w, external_reference="R-1")
    return csv_bytes(good_rows(w))


def _db_duplicate_person(w: World) -> bytes:
    submitted(
        w,
        members=[
            member(family_name="Kowalenko", given_names="Olena", date_of_birth=None, nationality="")
        ],
        consent_given=False,
    )
    return csv_bytes(good_rows(w))


def _unserved(w: World) -> bytes:
    lonely = GemeindeFactory()
    return csv_bytes(
        [
            *good_rows(w),
            row(w, external_reference="R-3", gemeinde_ags=lonely.ags, family_name="Neu"),
        ]
    )


def _with(w: World, **values: Any) -> bytes:
    extra = row(w, **{"external_reference": "R-3", "family_name": "Neu", **values})
    return csv_bytes([*good_rows(w), extra])


CORPUS = [
    Bad("empty file", lambda w: b"", {(0, "file")}),
    Bad("only blank lines", lambda w: b"\r\n\r\n  \r\n", {(0, "file")}),
    Bad(
        "header without rows",
        lambda w: csv_bytes(good_rows(w))[: csv_bytes(good_rows(w)).index(b"\r\n") + 2],
        {(0, "file")},
    ),
    Bad(
        "over the size limit",
        lambda w: csv_bytes(good_rows(w) * 40),
        {(0, "file")},
        settings={"LOTSE_HANDOVER_IMPORT_MAX_BYTES": 2048},
    ),
    Bad(
        "too many rows",
        lambda w: csv_bytes(
            [row(w, external_reference=f"R-{i}", family_name=f"N{i}") for i in range(6)]
        ),
        {(0, "file")},
        settings={"LOTSE_HANDOVER_IMPORT_MAX_ROWS": 5},
    ),
    Bad("UTF-16", lambda w: csv_bytes(good_rows(w), encoding="utf-16"), {(0, "file")}),
    Bad("binary garbage", lambda w: bytes(range(256)) * 4, {(0, "file")}),
    Bad(
        "BOM but not UTF-8",
        lambda w: (
            b"\xef\xbb\xbf"
            + csv_bytes(good_rows(w), encoding="cp1252").replace(b"Haddad", b"H\xe4ddad")
        ),
        {(0, "file")},
    ),
    Bad(
        "undefined cp1252 byte",
        lambda w: csv_bytes(good_rows(w)).replace(b"Haddad", b"Ha\x81\x8ddad"),
        {(0, "file")},
    ),
    Bad("no separator", lambda w: b"family_name\r\nHaddad\r\n", {(1, "file")}),
    Bad(
        "missing column family_name", lambda w: _drop_column(w, "family_name"), {(1, "family_name")}
    ),
    Bad(
        "missing column consent_given",
        lambda w: _drop_column(w, "consent_given"),
        {(1, "consent_given")},
    ),
    Bad(
        "unknown extra column",
        lambda w: _replace_header(csv_bytes(good_rows(w)), "languages", "religion"),
        {(1, "religion")},
    ),
    Bad(
        "column twice",
        lambda w: _replace_header(csv_bytes(good_rows(w)), "languages", "nationality"),
        {(1, "nationality")},
    ),
    Bad(
        "row with extra values",
        lambda w: csv_bytes(good_rows(w)) + b"R-9;x;y;z;" + b"a;" * 30 + b"\r\n",
        {(5, "file")},
    ),
    Bad(
        "row with missing values",
        lambda w: csv_bytes(good_rows(w)) + b"R-9;" + w.gemeinde.ags.encode() + b";2025-12-01\r\n",
        {(5, "file")},
    ),
    Bad("broken quotes", lambda w: csv_bytes(good_rows(w)) + b'R-9;"unclosed;x\r\n', {(5, "file")}),
    Bad(
        "bad date format",
        lambda w: _with(w, au_allocation_date="2025/12/01"),
        {(5, "au_allocation_date")},
    ),
    Bad("impossible date", lambda w: _with(w, date_of_birth="31.02.1990"), {(5, "date_of_birth")}),
    Bad(
        "implausible allocation year",
        lambda w: _with(w, au_allocation_date="1899-01-01"),
        {(5, "au_allocation_date")},
    ),
    Bad(
        "birth in the future",
        lambda w: _with(w, date_of_birth="2030-01-01"),
        {(5, "date_of_birth")},
    ),
    Bad(
        "consent neither yes nor no",
        lambda w: _with(w, consent_given="vielleicht"),
        {(5, "consent_given")},
    ),
    Bad(
        "consent without form and language",
        lambda w: _with(w, consent_form="", consent_language=""),
        {(5, "consent_form"), (5, "consent_language")},
    ),
    Bad("unknown Gemeinde", lambda w: _with(w, gemeinde_ags="99999999"), {(5, "gemeinde_ags")}),
    Bad("Gemeinde nobody serves", _unserved, {(5, "gemeinde_ags")}),
    Bad(
        "formula =",
        lambda w: _with(w, given_names='=HYPERLINK("http://x","y")'),
        {(5, "given_names")},
    ),
    Bad("formula @", lambda w: _with(w, known_needs="@SUM(A1:A9)"), {(5, "known_needs")}),
    Bad("formula +", lambda w: _with(w, nationality="+cmd|' /C calc'!A0"), {(5, "nationality")}),
    Bad("formula -", lambda w: _with(w, languages="-2+3+cmd|' /C calc'!A0"), {(5, "languages")}),
    Bad(
        "same person twice in the file",
        lambda w: _with(w, family_name="Hadad", given_names="Amal", date_of_birth="1990-03-01"),
        {(5, "family_name")},
    ),
    Bad(
        "reference already sent",
        _db_duplicate_reference,
        {(2, "external_reference"), (3, "external_reference")},
    ),
    Bad("person waiting in an open handover", _db_duplicate_person, {(4, "family_name")}),
    Bad(
        "household rows disagree",
        lambda w: csv_bytes(
            [
                row(w),
                row(
                    w,
                    given_names="Sami",
                    relation="CHILD",
                    gemeinde_ags="08999999",
                    date_of_birth="2015-01-01",
                ),
            ]
        ),
        {(3, "gemeinde_ags")},
    ),
    Bad(
        "two contact persons",
        lambda w: csv_bytes(
            [row(w), row(w, given_names="Sami", relation="HEAD", date_of_birth="2015-01-01")]
        ),
        {(3, "relation")},
    ),
    Bad("unknown relation", lambda w: _with(w, relation="COUSIN"), {(5, "relation")}),
    Bad("unknown sex", lambda w: _with(w, sex="q"), {(5, "sex")}),
    Bad(
        "row without reference",
        lambda w: _with(w, external_reference=""),
        {(5, "external_reference")},
    ),
    Bad("name too long", lambda w: _with(w, family_name="X" * 201), {(5, "family_name")}),
    Bad("bad e-mail", lambda w: _with(w, gu_contact_email="nicht-mail"), {(5, "gu_contact_email")}),
    Bad("missing contact", lambda w: _with(w, gu_contact_name=""), {(5, "gu_contact_name")}),
    Bad(
        "broken XLSX",
        lambda w: b"PK\x03\x04" + b"\x00garbage" * 50,
        {(0, "file")},
        filename="u.xlsx",
    ),
    Bad(
        "XLSX formula cell",
        lambda w: _xlsx(w, family_name="=1+1"),
        {(3, "family_name")},
        filename="u.xlsx",
    ),
    Bad(
        "XLSX bad date",
        lambda w: _xlsx(w, au_allocation_date="morgen"),
        {(3, "au_allocation_date")},
        filename="u.xlsx",
    ),
    Bad("XLSX named .csv", lambda w: _xlsx(w, sex="q"), {(3, "sex")}),
]


def test_the_corpus_has_at_least_thirty_files() -> None:
    assert len(CORPUS) >= 30
    assert len({bad.name for bad in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("bad", CORPUS, ids=[bad.name for bad in CORPUS])
def test_malformed_file_is_refused_whole_with_every_bad_row_reported(bad: Bad, settings) -> None:
    w = world()
    for name, value in (bad.settings or {}).items():
        setattr(settings, name, value)
    content = bad.build(w)
    before = (Handover.objects.count(), HandoverMember.objects.count(), AuditEvent.objects.count())
    client = APIClient()
    client.force_authenticate(w.gu)

    for dry_run in ("true", "false"):
        response = client.post(
            f"/api/v1/handovers/import/?dry_run={dry_run}",
            {"file": io.BytesIO(content)}
            if not content
            else {"file": _named(content, bad.filename)},
            format="multipart",
        )

        assert response.status_code == 400, response.content
        body = response.json()
        assert body["code"] == "import_invalid"
        reported = {(e["line"], e["field"]) for e in body["errors"]}
        assert bad.expected <= reported, body["errors"]
        assert all(e["message"] for e in body["errors"])
        assert (
            Handover.objects.count(),
            HandoverMember.objects.count(),
            AuditEvent.objects.count(),
        ) == before


def _named(content: bytes, filename: str) -> io.BytesIO:
    upload = io.BytesIO(content)
    upload.name = filename
    return upload


def test_an_empty_upload_field_is_a_field_error() -> None:
    w = world()
    client = APIClient()
    client.force_authenticate(w.gu)

    response = client.post("/api/v1/handovers/import/", {}, format="multipart")

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "file": ["Bitte laden Sie eine CSV- oder XLSX-Datei hoch."]
    }


def test_a_manager_may_not_import() -> None:
    w = world()
    client = APIClient()
    client.force_authenticate(w.manager)

    response = client.post(
        "/api/v1/handovers/import/",
        {"file": _named(csv_bytes(good_rows(w)), "u.csv")},
        format="multipart",
    )

    assert response.status_code == 403
    assert Handover.objects.count() == 0


def test_import_api_answers_201_with_the_created_handovers() -> None:
    w = world()
    client = APIClient()
    client.force_authenticate(w.gu)

    dry = client.post(
        "/api/v1/handovers/import/?dry_run=true",
        {"file": _named(csv_bytes(good_rows(w)), "u.csv")},
        format="multipart",
    )
    real = client.post(
        "/api/v1/handovers/import/",
        {"file": _named(csv_bytes(good_rows(w)), "u.csv")},
        format="multipart",
    )

    assert (dry.status_code, real.status_code) == (200, 201)
    assert [h["id"] for h in real.json()["handovers"]] == list(
        Handover.objects.order_by("pk").values_list("pk", flat=True)
    )


def test_an_import_tells_the_gemeindes_managers_once_with_the_count() -> None:
    from notifications.models import Notification
    from notifications.selectors import notification_text

    w = world()
    rows = good_rows(w)
    services.handover_import(
        actor=w.gu, now=T0, content=csv_bytes(rows), filename="u.csv", dry_run=True
    )
    assert Notification.objects.count() == 0  # a dry run tells nobody

    services.handover_import(
        actor=w.gu, now=T0, content=csv_bytes(rows), filename="u.csv", dry_run=False
    )

    created = Handover.objects.count()
    assert created > 1
    told = Notification.objects.order_by("recipient_id")
    assert [n.recipient_id for n in told] == sorted([w.manager.pk, w.colleague.pk, w.supervisor.pk])
    assert {n.params["count"] for n in told} == {created}
    assert notification_text(told[0]).startswith(f"{created} ")
