"""The shape of the code (DESIGN.md): rules and states are pure, imports point one way
(doses → release → lots → donors → bank), no module imports itself back through others, and every
workflow step names a permission that the role table knows. Read from the source with `ast`, so the
check imports nothing it inspects."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

from bank.permissions import ALL_PERMISSIONS
from bank.workflow import Workflow

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = ("bank", "donors", "lots", "release", "doses", "biovigilance")  # lowest first
RANK = {name: i for i, name in enumerate(DOMAINS)}
FRAMEWORKS = ("flask", "flask_wtf", "wtforms", "sqlalchemy", "alembic", "werkzeug")
# bank knows the domains only where the app is put together (blueprints, signal receivers).
ALLOWED_UPWARD = {"bank.app"}
PURE_KERNEL = ("bank.workflow", "bank.permissions", "bank.refusals")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for top in DOMAINS:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module `name` imports, anywhere in the file (function-level imports count too)."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.add(full if full in MODULES else base)
    return out


IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def _pure_modules() -> list[str]:
    tails = ("rules", "states")
    return sorted(n for n in MODULES if n in PURE_KERNEL or any(part in tails for part in n.split(".")[1:]))


@pytest.mark.parametrize("module", _pure_modules())
def test_rules_and_states_import_no_framework(module):
    """Rules decide on plain values; states are tables. Neither may reach Flask or the database, not
    even through another project module."""
    seen, frontier, bad = set(), [module], []
    while frontier:
        current = frontier.pop()
        if current in seen:
            continue
        seen.add(current)
        for imported in IMPORTS.get(current, ()):
            if imported.split(".")[0] in FRAMEWORKS:
                bad.append(f"{current} imports {imported}")
            elif imported in MODULES:
                frontier.append(imported)
    assert not bad, bad


def test_domains_import_only_the_domains_below_them():
    upward = []
    for name, imported in IMPORTS.items():
        if name in ALLOWED_UPWARD:
            continue
        mine = RANK[name.split(".")[0]]
        for target in imported:
            top = target.split(".")[0]
            if top in RANK and RANK[top] > mine:
                upward.append(f"{name} imports {target}")
            if top == "demo":
                upward.append(f"{name} imports the demo ({target})")
    assert not upward, upward


def test_no_import_circles():
    """Tarjan's strongly connected components over the project's import graph."""
    index, low, stack, on_stack, circles = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in IMPORTS.get(v, ()):
            if w not in MODULES or w == v:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            # A package's __init__ re-exporting its own submodules is not a circle between modules.
            real = [m for m in component if not any(o != m and o.startswith(m + ".") for o in component)]
            if len(real) > 1:
                circles.append(sorted(component))

    for module in MODULES:
        if module not in index:
            visit(module)
    assert not circles, circles


def _workflows() -> list[tuple[str, Workflow]]:
    found = []
    for name in MODULES:
        if name.split(".")[-1] == "states" or name == "bank.workflow":
            module = importlib.import_module(name)
            found += [
                (f"{name}.{attr}", value)
                for attr, value in vars(module).items()
                if isinstance(value, Workflow)
            ]
    return found


def test_every_workflow_step_names_a_known_permission():
    workflows = _workflows()
    assert len(workflows) >= 8, [n for n, _ in workflows]
    unknown = [
        f"{name}: {t.source}->{t.target} needs {t.permission!r}"
        for name, wf in workflows
        for t in wf.transitions
        if t.permission not in ALL_PERMISSIONS
    ]
    assert not unknown, unknown


# The one function that sets a status (DESIGN.md: every status column goes through the workflow engine).
STATUS_WRITER = "bank.status"


def _status_writes(source: str, filename: str = "<source>") -> list[str]:
    """Every place `source` sets a `status` attribute: an assignment (plain, augmented, annotated, or
    unpacked) to `x.status`, `setattr(x, "status", …)`, or an update's `.values(status=…)`. A model
    constructor's `status=` (the creation state, recorded by bank.status.initial_status) is not one."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.NamedExpr)):
            targets = [node.target]
        elif isinstance(node, ast.withitem):
            targets = [node.optional_vars] if node.optional_vars else []
        elif isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            setter = (
                name == "setattr" and len(node.args) > 1 and getattr(node.args[1], "value", None) == "status"
            )
            values = name == "values" and any(k.arg == "status" for k in node.keywords)
            if setter or values:
                found.append(f"{filename}:{node.lineno}")
            continue
        else:
            continue
        found += [
            f"{filename}:{t.lineno}"
            for target in targets
            for t in ast.walk(target)
            if isinstance(t, ast.Attribute) and t.attr == "status" and isinstance(t.ctx, ast.Store)
        ]
    return found


@pytest.mark.parametrize(
    "source",
    [
        "lot.status = 'released'",
        "a.status, b.status = 'x', 'y'",
        "container.status: str = 'stored'",
        "for row.status in ('a',): pass",
        "setattr(lot, 'status', 'released')",
        "session.execute(update(Lot).values(status='released'))",
    ],
)
def test_the_status_scan_sees_a_direct_write(source):
    assert _status_writes(source)


@pytest.mark.parametrize(
    "source",
    [
        "Lot(din=din, status=LOT_WORKFLOW.initial)",
        "if lot.status == 'released': pass",
        "status = lot.status",
        "select(Lot).where(Lot.status == status)",
    ],
)
def test_the_status_scan_lets_reads_and_creation_states_pass(source):
    assert not _status_writes(source)


def test_no_status_is_written_outside_the_workflow_engine():
    """Every status change goes through bank.status.change_status (its workflow table, permission,
    reason, signature and history row): no other module of the domains or the kernel sets `.status`."""
    writes = [
        w
        for name, path in MODULES.items()
        if name != STATUS_WRITER
        for w in _status_writes(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert not writes, writes
    assert _status_writes(MODULES[STATUS_WRITER].read_text()), (
        "the scan no longer sees bank.status's own write"
    )


def test_the_layering_check_sees_the_whole_tree():
    """Guard against a check that passes because it read nothing."""
    packages = {m.name for m in pkgutil.iter_modules([str(ROOT)]) if m.name in DOMAINS}
    assert packages == set(DOMAINS)
    assert len(MODULES) > 60 and any(n.endswith(".rules") for n in MODULES)


def test_the_unit_layer_imports_no_database_or_web_code():
    """The unit layer runs on pure code: importing its conftest and every unit test module (in a fresh
    interpreter) loads neither SQLAlchemy nor Flask (database fixtures live in tests/fixtures.py)."""
    import subprocess
    import sys

    script = (
        "import sys, importlib, pathlib; sys.path.insert(0, '.'); import tests.conftest\n"
        "for p in sorted(pathlib.Path('tests/unit').glob('test_*.py')):\n"
        "    importlib.import_module('tests.unit.' + p.stem)\n"
        "print(sorted(m for m in ('sqlalchemy', 'flask', 'alembic', 'psycopg') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_production_password_hashing_keeps_argon2_defaults_while_tests_hash_cheaply():
    from argon2 import PasswordHasher

    from bank import passwords

    default = PasswordHasher()
    assert passwords.hashing_is_cheap()  # tests/conftest.py
    assert (passwords.PRODUCTION_HASHER.time_cost, passwords.PRODUCTION_HASHER.memory_cost) == (
        default.time_cost,
        default.memory_cost,
    )
    assert passwords.CHEAP_HASHER.memory_cost < default.memory_cost
