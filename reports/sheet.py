"""The Kennzahlen as rows of the official sheet "Auswertung Zeitraum", and
their CSV and XLSX files (read-only helpers of the views and the API).

The layout follows what DOMAIN.md §7 knows of the Land's workbook: a head
with the period and the unit, then one block per Kennzahl (K1-K6 official,
K2x-K9 internal) with its breakdowns, each row: ID, name, item, count,
share. Every text cell is neutralised against formula injection: a cell
that begins with = + - @, a tab or a line break gets a leading apostrophe,
so Excel and LibreOffice show it as text and never evaluate it.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.utils.translation import gettext as _

# The official (German) names of the Kennzahlen, DOMAIN.md §14.3.
NAMES = {
    "K1": "Anzahl beratene Personen",
    "K1a": "davon neu aufgenommen",
    "K2": "Anzahl Beratungsgespräche",
    "K2a": "Beratungen nach Form",
    "K2b": "Beratungen nach Thema",
    "K2c": "Beratungen nach Setting",
    "K2d": "Beratungsdauer (Minuten)",
    "K2x": "Nicht stattgefundene Termine",
    "K3": "Anzahl Integrationspläne",
    "K3a": "Fortschreibungen",
    "K3b": "Personen mit gültigem Plan (Stichtag)",
    "K3c": "Planquote",
    "K4": "Häufigste Ziele (Handlungsfelder)",
    "K4a": "Zielerreichung",
    "K5": "Verweisungen",
    "K5a": "Anteil wahrgenommener Verweisungen",
    "K6": "Netzwerkkontakte",
    "K7": "Verlängerungen",
    "K8": "Fallabschlüsse",
    "K9": "Bestand (Stichtag)",
    "K10": "Veränderung des Bedarfs seit der ersten Bedarfsermittlung",
}
CHANGE_TEXT = {"improved": "gesunken", "unchanged": "unverändert", "worsened": "gestiegen"}
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r", "\n")

Row = tuple[str, str, str, Any, Any]


def safe_cell(value: Any) -> Any:
    """Return `value` safe for a spreadsheet cell (text that could start a
    formula gets a leading apostrophe; numbers and None pass)."""
    if isinstance(value, str) and value.startswith(DANGEROUS_START):
        return "'" + value
    return value


def _block(kpi: str, rows: list[dict[str, Any]] | None, *, share: bool = False) -> list[Row]:
    return [
        (kpi, NAMES[kpi], row["label"], row["count"], row.get("share") if share else None)
        for row in rows or []
    ]


def goal_item(row: dict[str, Any]) -> str:
    """A K4 catalogue row's item: the field of action and the goal."""
    return f"{row['field_label']}: {row['label']}"


def _goal_rows(figures: dict[str, Any]) -> list[Row]:
    """K4 by the goal catalogue (free wording as "other" per field of
    action) and its five most frequent goals, as the Land's sheet lists
    them; empty for a snapshot frozen before the catalogue existed."""
    name = NAMES["K4"]
    top = figures.get("k4_top_catalogue_goals") or []
    return [
        *[
            (
                "K4",
                name,
                _("goal: %(goal)s") % {"goal": goal_item(row)},
                row["count"],
                row.get("share"),
            )
            for row in figures.get("k4_by_goal") or []
        ],
        *[
            (
                "K4",
                name,
                _("rank %(n)d: %(goal)s") % {"n": n, "goal": row["label"]},
                row["count"],
                None,
            )
            for n, row in enumerate(top, start=1)
        ],
    ]


# The year-on-year columns: (Kennzahl, figure, German heading).
DEVELOPMENT_COLUMNS = (
    ("K1", "k1_persons", "beratene Personen"),
    ("K2", "k2_consultations", "Beratungsgespräche"),
    ("K3", "k3_plans", "Integrationspläne"),
    ("K4", "k4_goals", "Ziele"),
    ("K5", "k5_referrals", "Verweisungen"),
    ("K6", "k6_network_contacts", "Netzwerkkontakte"),
)


def development_rows(figures: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The year-on-year table ("Entwicklung"): a head, one row per year."""
    rows = figures.get("development") or []
    if not rows:
        return []
    head = (_("Year"), *[f"{kpi} {label}" for kpi, _key, label in DEVELOPMENT_COLUMNS])
    return [
        head,
        *[(row["year"], *[row.get(key) for _k, key, _l in DEVELOPMENT_COLUMNS]) for row in rows],
    ]


def kennzahlen_rows(figures: dict[str, Any]) -> list[Row]:
    """The figures as the rows of the sheet's body, in its order."""
    f = figures
    total, detail = _("total"), _("detail")
    rows: list[Row] = [
        ("K1", NAMES["K1"], "", f["k1_persons"], None),
        ("K1a", NAMES["K1a"], "", f["k1a_new_persons"], None),
        ("K2", NAMES["K2"], "", f["k2_consultations"], None),
        *_block("K2a", f["k2a_by_official_form"]),
        *[
            ("K2a", NAMES["K2a"], f"{detail}: {row['label']}", row["count"], None)
            for row in f["k2a_by_form"]
        ],
        *_block("K2b", f["k2b_by_topic"]),
        *_block("K2c", f["k2c_by_setting"]),
        ("K2d", NAMES["K2d"], _("sum"), f["k2d_minutes_total"], None),
        ("K2d", NAMES["K2d"], _("median"), f["k2d_minutes_median"], None),
        ("K2x", NAMES["K2x"], _("no-show"), f["k2x_no_show"], None),
        ("K2x", NAMES["K2x"], _("cancelled"), f["k2x_cancelled"], None),
        ("K3", NAMES["K3"], "", f["k3_plans"], None),
        ("K3a", NAMES["K3a"], "", f["k3a_reviews"], None),
        ("K3b", NAMES["K3b"], "", f["k3b_persons_with_plan"], None),
        ("K3c", NAMES["K3c"], "", None, f["k3c_plan_rate"]),
        ("K4", NAMES["K4"], total, f["k4_goals"], None),
        *_block("K4", f["k4_by_field"], share=True),
        *_goal_rows(f),
        *_block("K4a", f["k4a_goal_outcomes"]),
        ("K5", NAMES["K5"], total, f["k5_referrals"], None),
        *_block("K5", f["k5_by_group"]),
        *[
            ("K5", NAMES["K5"], f"{detail}: {row['label']}", row["count"], None)
            for row in f["k5_by_target"]
        ],
        ("K5a", NAMES["K5a"], "", None, f["k5a_taken_up_share"]),
        ("K6", NAMES["K6"], total, f["k6_network_contacts"], None),
        *_block("K6", f["k6_by_category"]),
        *_block("K6", f["k6_by_format"]),
        ("K7", NAMES["K7"], total, f["k7_extensions"], None),
        *_block("K7", f["k7_by_decision"]),
        *_block("K7", f["k7_by_reason"]),
        ("K8", NAMES["K8"], total, f["k8_closures"], None),
        *_block("K8", f["k8_by_reason"]),
        ("K8", NAMES["K8"], _("mean duration (days)"), f["k8_mean_duration_days"], None),
        ("K9", NAMES["K9"], total, f["k9_open_cases"], None),
        *_block("K9", f["k9_by_status"]),
        ("K9", NAMES["K9"], _("ending within 6 months"), f["k9_ending_within_6_months"], None),
        *[
            (
                "K10",
                NAMES["K10"],
                f"{row['label']}: {CHANGE_TEXT[row['change']]}",
                row["count"],
                None,
            )
            for row in f.get("k10_needs_change") or []
        ],
    ]
    return rows


def sheet_head(figures: dict[str, Any]) -> list[tuple[Any, ...]]:
    period = figures["period"]
    state = (
        _("frozen on %(day)s") % {"day": figures["frozen_at"][:10]}
        if figures.get("frozen")
        else _("computed from the current data")
    )
    head: list[tuple[Any, ...]] = [
        ("Auswertung Zeitraum", f"{period['from']} – {period['to']}"),
        (_("Organisation unit"), figures["unit"]["label"]),
        (_("State of the figures"), state),
    ]
    if figures.get("small_cells_suppressed"):
        head.append((_("Note"), _("Counts of 1 or 2 are not shown (empty cells).")))
    head.append(())
    head.append((_("ID"), _("Kennzahl"), _("Item"), _("Count"), _("Share")))
    return head


def _all_rows(figures: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [*sheet_head(figures), *kennzahlen_rows(figures)]


def _development_block(figures: dict[str, Any]) -> list[tuple[Any, ...]]:
    table = development_rows(figures)
    return [(), (_("Development over the years"),), *table] if table else []


def kennzahlen_csv(figures: dict[str, Any]) -> bytes:
    """The sheet as CSV for German spreadsheets: UTF-8 with BOM, `;`."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in [*_all_rows(figures), *_development_block(figures)]:
        writer.writerow(["" if cell is None else safe_cell(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# The distributions drawn in the workbook: (title, figure).
CHARTS = (
    ("Beratungen nach Form", "k2a_by_form"),
    ("Beratungen nach Thema", "k2b_by_topic"),
    ("Verweisungen nach Ziel", "k5_by_target"),
    ("Häufigste Ziele (Zielkatalog)", "k4_top_catalogue_goals"),
    ("Ziele nach Handlungsfeld", "k4_by_field"),
)


def chart_rows(figures: dict[str, Any], key: str) -> list[tuple[str, Any]]:
    """(label, count) of a distribution, rows with a count only (a
    suppressed count, None, is left out like a zero)."""
    return [(row["label"], row["count"]) for row in figures.get(key) or [] if row.get("count")]


def _put(sheet: Any, row: int, values: list[Any]) -> None:
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row=row, column=column, value=safe_cell(value))
        if isinstance(cell.value, str):
            cell.data_type = "s"  # never a formula, whatever the text


def _charts_sheet(book: Any, figures: dict[str, Any]) -> None:
    """A sheet "Diagramme": each distribution as a small table and a bar
    chart beside it (openpyxl charts, drawn by Excel and LibreOffice)."""
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font

    sheet = book.create_sheet("Diagramme")
    sheet.column_dimensions["A"].width = 45
    sheet.column_dimensions["B"].width = 10
    row = 1
    for title, key in CHARTS:
        data = chart_rows(figures, key) or [(_("no entries in this period"), 0)]
        _put(sheet, row, [title, _("Count")])
        sheet.cell(row=row, column=1).font = Font(bold=True)
        for offset, (label, count) in enumerate(data, start=1):
            _put(sheet, row + offset, [label, count])
        last = row + len(data)
        chart = BarChart()
        chart.type = "bar"  # horizontal: long German labels stay readable
        chart.title = title
        chart.legend = None
        chart.add_data(
            Reference(sheet, min_col=2, min_row=row, max_row=last), titles_from_data=True
        )
        chart.set_categories(Reference(sheet, min_col=1, min_row=row + 1, max_row=last))
        chart.height = max(6.0, 0.6 * len(data) + 3)  # cm
        chart.width = 18
        sheet.add_chart(chart, f"D{row}")
        # the next block starts below the taller of table and chart (a row is ~0.5 cm)
        row = max(last + 2, row + int(chart.height * 2) + 2)


def _development_sheet(book: Any, figures: dict[str, Any]) -> None:
    """A sheet "Entwicklung": the main totals per year and a column chart
    comparing the years (seed 000: "eine Entwicklung aufzeigen")."""
    from openpyxl.chart import BarChart, Reference

    table = development_rows(figures)
    if not table:
        return
    sheet = book.create_sheet("Entwicklung")
    for row, values in enumerate(table, start=1):
        # the year as text: a category of the chart, not a value
        _put(sheet, row, [str(values[0]), *values[1:]])
    sheet.column_dimensions["A"].width = 10
    for index in range(2, len(table[0]) + 1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = 20
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "clustered"
    chart.title = _("Development over the years")
    chart.y_axis.title = _("Count")
    chart.add_data(
        Reference(sheet, min_col=2, max_col=len(table[0]), min_row=1, max_row=len(table)),
        titles_from_data=True,
    )
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=len(table)))
    chart.height, chart.width = 9.0, 20
    sheet.add_chart(chart, f"A{len(table) + 3}")


def kennzahlen_xlsx(figures: dict[str, Any]) -> bytes:
    """The sheet as an XLSX workbook: "Auswertung Zeitraum" (the official
    layout), "Diagramme" (the distributions as bar charts) and
    "Entwicklung" (the years compared, as a table and a chart)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.worksheets[0]  # a new workbook has one sheet
    sheet.title = "Auswertung Zeitraum"
    for row in _all_rows(figures):
        sheet.append([safe_cell(cell) for cell in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
    sheet["A1"].font = Font(bold=True)
    for column, width in zip("ABCDE", (8, 40, 50, 10, 10), strict=True):
        sheet.column_dimensions[column].width = width
    _charts_sheet(book, figures)
    _development_sheet(book, figures)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
