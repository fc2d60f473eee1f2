"""The case domain's fast paths: what the hottest writes do without the
ORM's machinery, and the private library APIs they rely on
(docs/FASTPATHS.md).

What this module relies on beyond the libraries' public API, reviewed for
the versions in `REVIEWED_PINS` (the system check `lotse.E001` fails when
an installed version differs, until this list is reviewed and the pins
updated):

Django:
- `select_case_for_update` reads the case row with plain SQL and applies
  the value converters by hand, as the ORM's compiler does:
  `connection.ops.get_db_converters(column)` then
  `Field.get_db_converters(connection)`, each called as
  `converter(value, expression, connection)` with the column expression
  `Field.get_col(table)`; then builds the instance with `Model.from_db`
  from the concrete fields' `attname`s in field order.

Not pinned (public API only, listed in docs/FASTPATHS.md): `case_update_sql`,
the conditional UPDATE of `cases.services._save` as plain SQL.

django-fsm-2:
- `fsm_state_saved` calls `ConcurrentTransitionMixin._update_initial_state()`
  (private): after the services' conditional UPDATE (`cases.services._save`,
  `handover.services._save`) it records the new state as the one the row
  was read with, as the mixin's own `save()` does, so a later `save()` of
  the same instance filters on the right state.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import connection
from django_fsm import ConcurrentTransitionMixin

from cases.models import Case

# The versions this module (and docs/FASTPATHS.md) was last reviewed for.
REVIEWED_PINS = {"Django": "5.2.19", "django-viewflow": "2.4.0", "django-fsm-2": "4.2.4"}

_CASE_COLUMNS = [model_field.attname for model_field in Case._meta.concrete_fields]
_LOCK_SQL = "SELECT {} FROM cases_case WHERE id = %s{}".format(  # noqa: S608 - constant
    ", ".join(f'"{column}"' for column in _CASE_COLUMNS),
    " FOR UPDATE" if connection.features.has_select_for_update else "",
)


def select_case_for_update(case_pk: int) -> Case | None:
    """Lock and load one case row with plain SQL.

    The ORM's query compilation costs more than the lock itself on the
    hottest path of Lotse (see `make bench`).
    """
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_SQL, [case_pk])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, column, converters in _case_converters(connection.vendor):
        for converter in converters:
            values[index] = converter(values[index], column, connection)
    return Case.from_db(connection.alias, _CASE_COLUMNS, values)


@functools.cache
def _case_converters(vendor: str) -> list[tuple[int, Any, list[Any]]]:
    """Return the backend's value converters per column (as the ORM applies
    them: SQLite hands back text for datetimes, for instance)."""
    result = []
    for index, model_field in enumerate(Case._meta.concrete_fields):
        column = model_field.get_col(Case._meta.db_table)
        converters = connection.ops.get_db_converters(column) + model_field.get_db_converters(
            connection
        )
        if converters:
            result.append((index, column, converters))
    return result


def fsm_state_saved(obj: ConcurrentTransitionMixin) -> None:
    """Record `obj`'s states as saved after a conditional UPDATE wrote them."""
    obj._update_initial_state()


def case_update_sql(
    pk: int, values: dict[str, Any], *, expected_status: str
) -> tuple[str, list[Any]]:
    """The conditional UPDATE of `cases.services._save` as plain SQL (with
    RETURNING, for `audit.services.Preceding`): `values` by attname, each
    adapted by its field's `get_db_prep_save` as `QuerySet.update` does."""
    fields = [Case._meta.get_field(name) for name in values]
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    sql = f"UPDATE cases_case SET {assignments} WHERE id = %s AND status = %s RETURNING id"  # noqa: S608
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values.values(), strict=True)
    ]
    return sql, [*params, pk, expected_status]
