"""`status` changes only inside declared transitions (ARCHITECTURE.md traps).

`FSMField(protected=True)` is no security boundary: `update()`, bulk writes
and raw SQL bypass it. This lint fails on any other write of a status in
application code; the one sanctioned write is `cases.services._save`, the
conditional UPDATE at the end of every transition.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = (
    "accounts",
    "audit",
    "cases",
    "config",
    "handover",
    "notifications",
    "reports",
    "workflows",
    "workspace",
)


def _sources() -> list[Path]:
    return [
        path
        for app in APPS
        if (ROOT / app).is_dir()
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    ]


def _status_writes(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        lines += [t.lineno for t in targets if isinstance(t, ast.Attribute) and t.attr == "status"]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "status"
        ):
            lines.append(node.lineno)
    return lines


def _case_status_updates(source: str) -> list[int]:
    return [
        number
        for number, line in enumerate(source.splitlines(), start=1)
        if ("Case.objects" in line or "ExtensionRequest.objects" in line)
        and "update(" in line
        and "status=" in line.split("update(", 1)[1]
    ]


# A line may write the status of a viewflow task or process row (engine
# bookkeeping, not a case) when it says so.
VIEWFLOW_ROW = "# viewflow row, not a case"
# A consultation's status is a plain field, no state machine: the corrections
# service cancels one under the case lock and writes its report copies in the
# same transaction (tests/cases/test_corrections.py); that line says so.
CONSULTATION_ROW = "# consultation row, not a case"


def _unmarked(source: str, lines: list[int]) -> list[int]:
    text = source.splitlines()
    return [
        line
        for line in lines
        if not text[line - 1].rstrip().endswith((VIEWFLOW_ROW, CONSULTATION_ROW))
    ]


def test_no_status_is_assigned_outside_transitions() -> None:
    offenders = {
        str(path.relative_to(ROOT)): _unmarked(
            path.read_text(), _status_writes(ast.parse(path.read_text()))
        )
        for path in _sources()
    }

    assert {path: lines for path, lines in offenders.items() if lines} == {}


def test_no_queryset_update_writes_a_case_or_extension_status() -> None:
    offenders = {
        str(path.relative_to(ROOT)): _case_status_updates(path.read_text()) for path in _sources()
    }

    assert {path: lines for path, lines in offenders.items() if lines} == {}


def test_the_lint_finds_a_raw_status_write() -> None:
    tree = ast.parse("case.status = 'CLOSED'\nsetattr(case, 'status', 'X')\n")

    assert _status_writes(tree) == [1, 2]
    assert _case_status_updates("Case.objects.filter(pk=1).update(status='CLOSED')") == [1]
