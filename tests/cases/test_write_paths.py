"""Every write of case data goes through the case services (`cases/services/`).

An AST scan of the code outside `cases/services/` for calls that create,
update, save or delete a model of the `cases` app: a manager or queryset
method (`create`, `bulk_create`, `update`, `delete`, ...) on a chain that
starts at a cases model (`Case.objects.filter(...).update(...)`), or
`.save()` / `.delete()` on a name bound to such a chain or to a new model
instance (`person = Person(...); person.save()`). Migrations and tests are
not scanned; the few modules that may write anyway are listed with their
reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]

WRITE_METHODS = frozenset(
    {
        "create",
        "bulk_create",
        "bulk_update",
        "update",
        "delete",
        "get_or_create",
        "update_or_create",
        "save",
        "save_base",
    }
)

# Modules outside the case services that write cases models, and why.
ALLOWED: dict[str, str] = {
    "cases/demo.py": (
        "synthetic demo data for `make run` (seed_demo): creates the demo persons, whose "
        "cases then go through the case services; never runs in production"
    ),
    "bench/__main__.py": "benchmark data generator (make bench), never in production",
    "bench/load.py": "synthetic Kreis for the load test (make bench), never in production",
}


def _case_model_names() -> frozenset[str]:
    return frozenset(model.__name__ for model in apps.get_app_config("cases").get_models())


def _root(node: ast.AST) -> ast.AST:
    while True:
        if isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return node


def _root_name(node: ast.AST) -> str | None:
    root = _root(node)
    return root.id if isinstance(root, ast.Name) else None


def writes_in(source: str, filename: str) -> list[str]:
    """Return `line: code` of each write of a cases model in `source`."""
    models = _case_model_names()
    tree = ast.parse(source, filename=filename)
    bound: set[str] = set()  # local names of cases models
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "cases.models":
            bound |= {alias.asname or alias.name for alias in node.names if alias.name in models}
    if not bound:
        return []
    tainted = set(bound)
    # Names bound to a model's instance or queryset (any scope: coarse, on purpose).
    changed = True
    while changed:
        changed = False
        for node in ast.walk(tree):
            targets: list[ast.AST] = []
            value: ast.AST | None = None
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            elif isinstance(node, ast.For | ast.comprehension):
                targets, value = [node.target], node.iter
            if value is None or _root_name(value) not in tainted:
                continue
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name) and name.id not in tainted:
                        tainted.add(name.id)
                        changed = True
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in WRITE_METHODS
            and _root_name(node.func.value) in tainted
        ):
            found.append(f"{node.lineno}: {ast.unparse(node)[:80]}")
    return found


def _scanned() -> list[Path]:
    packages = [p for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name != "tests"]
    services = ROOT / "cases" / "services"
    return sorted(
        path
        for package in packages
        for path in package.rglob("*.py")
        if "migrations" not in path.parts and services not in path.parents
    )


def test_no_module_outside_the_case_services_writes_a_cases_model() -> None:
    offenders = {}
    for path in _scanned():
        name = path.relative_to(ROOT).as_posix()
        found = writes_in(path.read_text(), name)
        if found and name not in ALLOWED:
            offenders[name] = found
    assert offenders == {}


def test_every_allowed_module_still_needs_its_exception() -> None:
    assert [name for name in ALLOWED if not writes_in((ROOT / name).read_text(), name)] == []


def test_the_scan_finds_the_writes_it_is_meant_to_find() -> None:
    source = """
from cases.models import Consent, Household as H, Person
from other import Thing

def accept(data):
    H.objects.create(address="x")
    Consent.objects.filter(pk=1).update(language="de")
    person = Person(family_name="x")
    person.save()
    for row in Person.objects.filter(pk=2):
        row.delete()
    thing = Thing()
    thing.save()
    values = {}
    values.update(a=1)
"""
    assert [line.split(":")[0] for line in writes_in(source, "example.py")] == [
        "6",
        "7",
        "9",
        "11",
    ]
