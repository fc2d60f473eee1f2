"""Copies for the Kennzahlen (see `cases.models._ConsultationLink`).

A consultation gets its case's Träger and Gemeinde; its topic and
participant links become models of their own (the tables stay where they
are: state only) and get the consultation's date and status and the case's
Träger and Gemeinde. The columns are added nullable, filled from the
consultations and cases, made NOT NULL (the Gemeinde stays optional, like
the case's), and indexed.
"""

import django.db.models.deletion
from django.db import migrations, models

STATUS_CHOICES = [("COMPLETED", "completed"), ("NO_SHOW", "no-show"), ("CANCELLED", "cancelled")]
LINKS = ("cases_consultation_topics", "cases_consultation_participants")

# PostgreSQL: one join per table (a million consultations and three
# million links at state scale: a minute or two).
FILL_CONSULTATIONS_POSTGRESQL = """
UPDATE cases_consultation SET traeger_id = c.traeger_id, gemeinde_id = c.gemeinde_id
FROM cases_case c WHERE c.id = cases_consultation.case_id
"""
FILL_LINKS_POSTGRESQL = """
UPDATE {table} SET held_on = k.held_on, status = k.status,
       traeger_id = k.traeger_id, gemeinde_id = k.gemeinde_id
FROM cases_consultation k WHERE k.id = {table}.consultation_id
"""
# Elsewhere (SQLite): correlated subqueries, fine at a development size.
FILL_CONSULTATIONS_PORTABLE = """
UPDATE cases_consultation SET
    traeger_id = (SELECT c.traeger_id FROM cases_case c WHERE c.id = cases_consultation.case_id),
    gemeinde_id = (SELECT c.gemeinde_id FROM cases_case c WHERE c.id = cases_consultation.case_id)
"""
FILL_LINKS_PORTABLE = """
UPDATE {table} SET
    held_on = (SELECT k.held_on FROM cases_consultation k WHERE k.id = {table}.consultation_id),
    status = (SELECT k.status FROM cases_consultation k WHERE k.id = {table}.consultation_id),
    traeger_id = (SELECT k.traeger_id FROM cases_consultation k
                  WHERE k.id = {table}.consultation_id),
    gemeinde_id = (SELECT k.gemeinde_id FROM cases_consultation k
                   WHERE k.id = {table}.consultation_id)
"""


def fill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        consultations, links = FILL_CONSULTATIONS_POSTGRESQL, FILL_LINKS_POSTGRESQL
    else:
        consultations, links = FILL_CONSULTATIONS_PORTABLE, FILL_LINKS_PORTABLE
    schema_editor.execute(consultations)
    for table in LINKS:
        schema_editor.execute(links.format(table=table))


def _place(null):
    """The Träger and Gemeinde copies (the Träger nullable while filled)."""
    return [
        (
            "traeger",
            models.ForeignKey(
                db_index=False,
                null=null,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.traeger",
            ),
        ),
        (
            "gemeinde",
            models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.gemeinde",
            ),
        ),
    ]


def _copies(null):
    """The four report columns of a link."""
    return [
        ("held_on", models.DateField(null=null, verbose_name="date")),
        (
            "status",
            models.CharField(
                choices=STATUS_CHOICES, max_length=10, null=null, verbose_name="status"
            ),
        ),
        *_place(null),
    ]


def _index(name, fields, counted):
    return models.Index(
        condition=models.Q(("status", "COMPLETED")), fields=fields, include=(counted,), name=name
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("cases", "0006_case_owner_status_end_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ConsultationTopic",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "consultation",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="cases.consultation",
                            ),
                        ),
                        (
                            "catalogueentry",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="cases.catalogueentry",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "consultation topic",
                        "verbose_name_plural": "consultation topics",
                        "db_table": "cases_consultation_topics",
                        "unique_together": {("consultation", "catalogueentry")},
                    },
                ),
                migrations.AlterField(
                    model_name="consultation",
                    name="topics",
                    field=models.ManyToManyField(
                        limit_choices_to={"catalogue": "CONSULTATION_TOPIC"},
                        related_name="+",
                        through="cases.ConsultationTopic",
                        to="cases.catalogueentry",
                        verbose_name="topics",
                    ),
                ),
                migrations.CreateModel(
                    name="ConsultationParticipant",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "consultation",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="cases.consultation",
                            ),
                        ),
                        (
                            "person",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="cases.person",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "consultation participant",
                        "verbose_name_plural": "consultation participants",
                        "db_table": "cases_consultation_participants",
                        "unique_together": {("consultation", "person")},
                    },
                ),
                migrations.AlterField(
                    model_name="consultation",
                    name="participants",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="consultations",
                        through="cases.ConsultationParticipant",
                        to="cases.person",
                        verbose_name="participants",
                    ),
                ),
            ],
            database_operations=[],
        ),
        *[
            migrations.AddField(model_name="consultation", name=name, field=field)
            for name, field in _place(null=True)
        ],
        *[
            migrations.AddField(model_name=model, name=name, field=field)
            for model in ("consultationtopic", "consultationparticipant")
            for name, field in _copies(null=True)
        ],
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        *[
            migrations.AlterField(model_name="consultation", name=name, field=field)
            for name, field in _place(null=False)[:1]
        ],
        *[
            migrations.AlterField(model_name=model, name=name, field=field)
            for model in ("consultationtopic", "consultationparticipant")
            for name, field in _copies(null=False)[:3]
        ],
        *[
            migrations.AddIndex(
                model_name="consultation",
                index=models.Index(
                    fields=[*key, "held_on"],
                    include=("status", "form", "setting", "duration_minutes"),
                    name=name,
                ),
            )
            for key, name in (
                ((), "cases_consult_day_idx"),
                (("traeger",), "cases_consult_traeger_idx"),
                (("gemeinde",), "cases_consult_gemeinde_idx"),
            )
        ],
        migrations.AddIndex(
            model_name="consultationtopic",
            index=_index("cases_ctopic_day_idx", ["held_on"], "catalogueentry"),
        ),
        migrations.AddIndex(
            model_name="consultationtopic",
            index=_index("cases_ctopic_traeger_idx", ["traeger", "held_on"], "catalogueentry"),
        ),
        migrations.AddIndex(
            model_name="consultationtopic",
            index=_index("cases_ctopic_gemeinde_idx", ["gemeinde", "held_on"], "catalogueentry"),
        ),
        migrations.AddIndex(
            model_name="consultationparticipant",
            index=_index("cases_cpart_day_idx", ["held_on"], "person"),
        ),
        migrations.AddIndex(
            model_name="consultationparticipant",
            index=_index("cases_cpart_traeger_idx", ["traeger", "held_on"], "person"),
        ),
        migrations.AddIndex(
            model_name="consultationparticipant",
            index=_index("cases_cpart_gemeinde_idx", ["gemeinde", "held_on"], "person"),
        ),
    ]
