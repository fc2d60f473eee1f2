"""Indexes for the flow restart's reads of one case (docs/FASTPATHS.md).

Every case change outside a guided task reads the case's open tasks and
gateway facts and cancels its open processes (`workflows.fastpaths`). Each
gathers the case's processes (`workflows.facts.case_processes`) and then
probes every one of them: a case that has moved often has dozens. The
partial indexes below hold only the rows those probes look for (open
tasks, open processes, done extension checks), so a probe of an old
process finds nothing without reading its rows; the covering index on the
case processes gives their ids without reading the table.

viewflow's tables belong to viewflow: these indexes are additive, named
`lotse_*`, and listed in docs/FASTPATHS.md. The states and the node's
reference are written out as they were when this migration was written
(the queries name them as literals too, see `workflows.facts.sql_literal`);
on PostgreSQL they are built CONCURRENTLY, so that a live installation
keeps writing while they are built.
"""

from django.db import migrations, models

OPEN_TASKS = "'NEW', 'ASSIGNED', 'STARTED', 'SCHEDULED', 'ERROR'"
INDEXES = {
    "lotse_task_open_by_process": (
        f"viewflow_task (process_id) WHERE status IN ({OPEN_TASKS})"
    ),
    "lotse_task_check_done_by_process": (
        "viewflow_task (process_id) WHERE status = 'DONE'"
        " AND flow_task = 'workflows/flows.CaseFlow.extension_check'"
    ),
    "lotse_process_open": "viewflow_process (id) WHERE status NOT IN ('DONE', 'CANCELED')",
}


def create(apps, schema_editor):
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX{concurrently} IF NOT EXISTS {name} ON {definition}")


def drop(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("workflows", "0001_initial"),
        ("viewflow", "0015_task_scheduled"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="caseprocess",
            index=models.Index(fields=["case", "process_ptr"], name="caseprocess_case_process"),
        ),
        migrations.RunPython(create, drop),
    ]
