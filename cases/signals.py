"""Signals of the case domain.

`case_changed` is sent inside the transaction of every change that can
alter which guided work is open for a case: its creation, each transition
and each step of an extension request. Receivers run under the case row
lock the sender holds, in the same transaction: what they write commits or
rolls back with the change (the workflow layer keeps its tasks in step this
way without the domain importing it).

Arguments: `case` (the locked row), `change` ("created",
"transition:<name>", "extension:<status>"), `actor` (None: the system),
`now`.
"""

from django.dispatch import Signal

case_changed = Signal()
