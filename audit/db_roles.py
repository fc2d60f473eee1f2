"""The production role layout on PostgreSQL (README "Running it in production").

Two roles: the *owner* runs `migrate` and owns every table; the *application*
role serves web, worker and beat. The application role owns nothing, may
read and write the ordinary tables, and may only INSERT and SELECT on the
audit tables. So it can neither UPDATE, DELETE nor TRUNCATE an audit row,
nor disable, drop or alter the append-only triggers (that needs ownership).

`role_layout_statements` is the single source of the SQL; `manage.py
db_roles` runs it (or prints it for a DBA) and is safe to repeat: run it
after every `migrate`, so new tables get their grants.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

AUDIT_TABLES = ("audit_auditevent", "audit_readaccess", "audit_reportread")
SCHEMA = "public"


def role_layout_statements(*, app_role: str, owner: str) -> list[sql.Composed]:
    app = sql.Identifier(app_role)
    own = sql.Identifier(owner)
    schema = sql.Identifier(SCHEMA)
    statements = [
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(schema, app),
        sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(schema, app),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, app),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
            schema, app
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, app),
        # Tables the owner creates later (migrations) get ordinary DML at once;
        # this command, re-run after migrate, narrows audit tables again.
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} "
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
        ).format(own, schema, app),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} "
            "GRANT USAGE, SELECT ON SEQUENCES TO {}"
        ).format(own, schema, app),
    ]
    for table in AUDIT_TABLES:
        name = sql.Identifier(table)
        statements += [
            sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(name, app),
            sql.SQL("GRANT SELECT, INSERT ON TABLE {} TO {}").format(name, app),
        ]
    return statements


def create_role_statement(*, app_role: str) -> sql.Composed:
    """A login role without rights of its own; set its password separately."""
    return sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS").format(
        sql.Identifier(app_role)
    )


def layout_problems(cursor: Any, *, app_role: str, owner: str) -> list[str]:
    """Reasons the layout would not protect the audit tables, if any."""
    cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [app_role])
    row = cursor.fetchone()
    problems = []
    if row is None:
        return [f"role {app_role} does not exist"]
    if row[0]:
        problems.append(f"{app_role} is a superuser")
    if app_role == owner:
        problems.append(f"{app_role} is the owner role itself")
    cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [app_role, owner])
    if cursor.fetchone()[0]:
        problems.append(f"{app_role} is a member of the owner role {owner}")
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename = ANY(%s) "
        "AND pg_has_role(%s, tableowner, 'MEMBER')",
        [SCHEMA, list(AUDIT_TABLES), app_role],
    )
    problems += [f"{app_role} owns {name}" for (name,) in cursor.fetchall()]
    return problems
