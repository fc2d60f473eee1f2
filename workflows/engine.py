"""The former home of the flow machinery, kept as names for callers.

Issue 17 split it by concern so the modules of `workflows` import each
other one way only (an import-linter contract in pyproject.toml checks it):

- `workflows.context`: who acts when, the case a task drives (`acting`,
  `current`, `is_driving`, `remember`, `remembered`, `task_event`);
- `workflows.selectors`: `open_process`, `open_tasks`, `OPEN_TASK_STATES`;
- `workflows.fastpaths`: the restart's planner and writer (`flow_plan`, ...);
- `workflows.services`: `case_flow_sync`, `case_flow_restart`,
  `case_flow_repair`, `review_timer_reschedule`.

Nothing inside `workflows` imports this module; new code imports from the
modules above.
"""

from workflows.context import (
    Acting,
    acting,
    current,
    is_driving,
    remember,
    remembered,
    task_event,
)
from workflows.fastpaths import (
    PlannedTask,
    TaskRow,
    flow_plan,
)
from workflows.fastpaths import (
    process_write as _write,
)
from workflows.selectors import OPEN_TASK_STATES, open_process, open_tasks
from workflows.services import (
    case_flow_repair,
    case_flow_restart,
    case_flow_sync,
    review_timer_reschedule,
)

__all__ = [
    "OPEN_TASK_STATES",
    "Acting",
    "PlannedTask",
    "TaskRow",
    "_write",
    "acting",
    "case_flow_repair",
    "case_flow_restart",
    "case_flow_sync",
    "current",
    "flow_plan",
    "is_driving",
    "open_process",
    "open_tasks",
    "remember",
    "remembered",
    "review_timer_reschedule",
    "task_event",
]
