"""The project's fast path in the database driver (docs/FASTPATHS.md).

psycopg converts each statement's `%s` placeholders to PostgreSQL's `$n`
with a regular expression, and caches the result per statement text only
for statements of at most `MAX_CACHED_STATEMENT_LENGTH` characters and
`MAX_CACHED_STATEMENT_PARAMS` parameters (4,096 and 50). The flow restart's
one write (`workflows.fastpaths._write_in_one`: the change's UPDATE and
event, the cancel, the new process, its task rows and their events) is
longer and has about 140 parameters: parsing it again on every case
transition cost more client time than any other step of it (see
`make bench`, part core). `tune_psycopg` raises both limits, at start-up
(`config.apps.LotseConfig.ready`). The cache is psycopg's own (an LRU of
128 statement texts per process); Lotse's statements are a fixed set of
texts, so the larger limit keeps a few more of them parsed.

What this module relies on beyond psycopg's public API, reviewed for the
version in `REVIEWED_PINS` (the system check `lotse.E001` fails when the
installed version differs, until this list is reviewed and the pin
updated):

psycopg:
- the module `psycopg._queries`, its constants `MAX_CACHED_STATEMENT_LENGTH`
  and `MAX_CACHED_STATEMENT_PARAMS`, read on every conversion by
  `PostgresQuery.convert` and `PostgresClientQuery.convert` to choose the
  cached `_query2pg` over `_query2pg_nocache`.
"""

from __future__ import annotations

from psycopg import _queries

# The version this module (and docs/FASTPATHS.md) was last reviewed for.
REVIEWED_PINS = {"psycopg": "3.3.9"}

# Above the restart's write (about 4,500 characters, 140 parameters when
# several task events go with it), with room for a flow with more rows.
STATEMENT_LENGTH = 16_384
STATEMENT_PARAMS = 512


def tune_psycopg() -> None:
    """Let psycopg cache the conversion of Lotse's longest statements."""
    _queries.MAX_CACHED_STATEMENT_LENGTH = max(
        _queries.MAX_CACHED_STATEMENT_LENGTH, STATEMENT_LENGTH
    )
    _queries.MAX_CACHED_STATEMENT_PARAMS = max(
        _queries.MAX_CACHED_STATEMENT_PARAMS, STATEMENT_PARAMS
    )
