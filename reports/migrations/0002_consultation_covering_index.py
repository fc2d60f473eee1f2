"""A covering index for the Kennzahlen (PostgreSQL only).

The report reads a unit's consultations of a period through the case:
(case_id, held_on) with status, form, setting and duration included lets
PostgreSQL answer K2, K2a, K2c and K2d from the index alone. The index
lives on a table of `cases` but serves only the reports, so it is created
here; on SQLite (no INCLUDE) the existing (case_id, held_on) index serves.
"""

from django.db import migrations

INDEX = "reports_consultation_cover"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON cases_consultation (case_id, held_on) "
            "INCLUDE (status, form_id, setting_id, duration_minutes)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial"), ("cases", "0004_case_handover_accepted_at")]

    operations = [migrations.RunPython(create, drop)]
