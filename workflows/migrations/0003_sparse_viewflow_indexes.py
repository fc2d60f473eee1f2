"""viewflow's single-column indexes on columns Lotse leaves empty, made
partial (docs/FASTPATHS.md).

Every case change outside a guided task writes a new process with seven
task rows (`workflows.fastpaths`). viewflow indexes several columns that
stay NULL in almost every Lotse row (the generic artifact and seed links,
external task ids, object permissions, the parent task of a subprocess,
the owner of gateway rows, the due time of non-timer rows), so each row
added an entry to each of those indexes. Here each such index is rebuilt
under its own name with `WHERE <column> IS NOT NULL`: it serves every
lookup by a value as before (`column = value` implies the column is not
NULL), viewflow's and Django's later migrations find it by its name and
column as before, and a row with the column empty no longer writes to it.
On PostgreSQL only, each rebuilt CONCURRENTLY; the reverse rebuilds them
whole.
"""

from django.db import migrations

SPARSE = {
    "viewflow_task": (
        "artifact_content_type_id",
        "external_task_id",
        "owner_permission_content_type_id",
        "seed_content_type_id",
        "owner_id",
        "scheduled",
    ),
    "viewflow_process": ("artifact_content_type_id", "seed_content_type_id", "parent_task_id"),
}


def _indexes(cursor, table, column):
    """(name, definition, predicate) of the plain indexes whose first
    column is `column` (the pattern-ops twin included)."""
    cursor.execute(
        """
        SELECT c.relname, pg_get_indexdef(i.indexrelid), pg_get_expr(i.indpred, i.indrelid)
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND NOT i.indisprimary
          AND a.attname = %s
        """,
        [table, column],
    )
    return cursor.fetchall()


def _rebuild(schema_editor, *, partial):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, columns in SPARSE.items():
            for column in columns:
                for name, definition, predicate in _indexes(cursor, table, column):
                    if (predicate is not None) == partial:
                        continue  # already as wanted
                    if partial:
                        definition = f"{definition} WHERE ({column} IS NOT NULL)"
                    else:
                        definition = definition.split(" WHERE ")[0]
                    definition = definition.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY", 1)
                    cursor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
                    cursor.execute(definition)


def make_partial(apps, schema_editor):
    _rebuild(schema_editor, partial=True)


def make_whole(apps, schema_editor):
    _rebuild(schema_editor, partial=False)


class Migration(migrations.Migration):
    atomic = False  # CONCURRENTLY runs outside a transaction

    dependencies = [("workflows", "0002_restart_indexes")]

    operations = [migrations.RunPython(make_partial, make_whole)]
