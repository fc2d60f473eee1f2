"""Set up (or print) the PostgreSQL role layout of audit/db_roles.py.

Run as the owner role (the one that runs `migrate`), after every migrate:

    DATABASE_URL=postgresql://lotse_owner@db/lotse manage.py db_roles --app-role lotse_app
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from audit.db_roles import create_role_statement, layout_problems, role_layout_statements


class Command(BaseCommand):
    help = (
        "Grant the application role ordinary rights and only INSERT/SELECT on the "
        "audit tables (PostgreSQL). Run as the table owner after every migrate."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--app-role", required=True, help="role the application runs as")
        parser.add_argument(
            "--owner", default="", help="role owning the tables (default: the connected role)"
        )
        parser.add_argument(
            "--print", action="store_true", help="print the SQL instead of running it"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("db_roles needs PostgreSQL (DATABASE_URL=postgresql://...).")
        app_role = options["app_role"]
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            owner = options["owner"] or cursor.fetchone()[0]
            statements = role_layout_statements(app_role=app_role, owner=owner)
            raw = cursor.connection
            if options["print"]:
                for statement in statements:
                    self.stdout.write(statement.as_string(raw) + ";")
                return
            with transaction.atomic():
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_role])
                if cursor.fetchone() is None:
                    cursor.execute(create_role_statement(app_role=app_role).as_string(raw))
                problems = layout_problems(cursor, app_role=app_role, owner=owner)
                if problems:
                    raise CommandError(
                        "The role layout would not protect the audit tables: "
                        + "; ".join(problems)
                        + "."
                    )
                for statement in statements:
                    cursor.execute(statement.as_string(raw))
        self.stdout.write(
            f"{app_role}: ordinary rights on every table, INSERT and SELECT only on the "
            f"audit tables; owner {owner}."
        )
