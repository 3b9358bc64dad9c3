"""Requirements as data (validation/requirements.toml) and their trace to rules and tests (issue 23).

Pure: reads the requirements file and the source of the code and tests (no Flask, no database), so
the unit tests can check the trace. A test proves a requirement with the pytest marker
`@pytest.mark.requirement("ER-AUDIT-TRAIL", …)`, on a test or as a module's `pytestmark`.
"""

from __future__ import annotations

import ast
import fnmatch
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS_FILE = ROOT / "validation" / "requirements.toml"
CODE = ("bank", "donors", "lots", "release", "doses", "biovigilance")
TESTS = ROOT / "tests"
MARKER = "requirement"


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    anchor: str
    rules: tuple[str, ...] = ()  # glob patterns of rule ids


@dataclass(frozen=True)
class Requirements:
    items: tuple[Requirement, ...]
    installation: dict = field(default_factory=dict)

    @property
    def ids(self) -> set[str]:
        return {r.id for r in self.items}

    def get(self, requirement_id: str) -> Requirement | None:
        return next((r for r in self.items if r.id == requirement_id), None)


def load(path: Path = REQUIREMENTS_FILE) -> Requirements:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    items = tuple(
        Requirement(r["id"], r["title"], r["anchor"], tuple(r.get("rules", ()))) for r in data["requirement"]
    )
    seen: set[str] = set()
    for r in items:
        if r.id in seen:
            raise ValueError(f"requirement {r.id} is listed twice in {path.name}")
        seen.add(r.id)
    return Requirements(items, data.get("installation", {}))


def call_name(node: ast.Call) -> str:
    """The name a call is made by: `f(...)` and `x.f(...)` both give `f`."""
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def rule_ids_in_code(root: Path = ROOT) -> set[str]:
    """Every rule id written in the code: the first argument (or `rule_id=`) of a `Problem` or
    `Refused.rule`, and the donor criteria's ids (`DON-…` constants of the donors package)."""
    found: set[str] = set()
    for folder in CODE:
        for path in (root / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and call_name(node) in ("Problem", "rule"):
                    first = node.args[0] if node.args else None
                    first = next((k.value for k in node.keywords if k.arg == "rule_id"), first)
                    if isinstance(first, ast.Constant) and isinstance(first.value, str):
                        found.add(first.value)
                elif (
                    folder == "donors"
                    and isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and node.value.startswith("DON-")
                    and node.value.replace("-", "").isalnum()
                ):
                    found.add(node.value)
    return found


def _marker_ids(decorator) -> list[str]:
    """The ids of a `pytest.mark.requirement(...)` expression, else []."""
    if isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute):
        if decorator.func.attr == MARKER:
            return [a.value for a in decorator.args if isinstance(a, ast.Constant)]
    return []


def markers_in_tests(tests: Path = TESTS) -> dict[str, set[str]]:
    """requirement id -> the tests (file::name, or file for a module's pytestmark) that carry it."""
    traced: dict[str, set[str]] = {}
    for path in sorted(tests.rglob("test_*.py")):
        rel = path.relative_to(tests.parent).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
            ):
                values = node.value.elts if isinstance(node.value, ast.List | ast.Tuple) else [node.value]
                for value in values:
                    for rid in _marker_ids(value):
                        traced.setdefault(rid, set()).add(rel)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                for decorator in node.decorator_list:
                    for rid in _marker_ids(decorator):
                        traced.setdefault(rid, set()).add(f"{rel}::{node.name}")
    return traced


@dataclass(frozen=True)
class TraceProblems:
    untested: list[str]  # requirements no test carries
    unknown_markers: list[str]  # marker ids that name no requirement
    unmapped_rules: list[str]  # rule ids of the code no requirement claims
    dead_patterns: list[str]  # rule patterns that match no rule id

    @property
    def ok(self) -> bool:
        return not (self.untested or self.unknown_markers or self.unmapped_rules or self.dead_patterns)

    def lines(self) -> list[str]:
        return [
            *(f"requirement without a test: {r}" for r in self.untested),
            *(f"marker names an unknown requirement: {m}" for m in self.unknown_markers),
            *(f"rule id mapped to no requirement: {r}" for r in self.unmapped_rules),
            *(f"rule pattern matches no rule id: {p}" for p in self.dead_patterns),
        ]


def rules_of(requirement: Requirement, rule_ids: set[str]) -> list[str]:
    return sorted(r for r in rule_ids if any(fnmatch.fnmatchcase(r, p) for p in requirement.rules))


def check_trace(
    requirements: Requirements, markers: dict[str, set[str]], rule_ids: set[str]
) -> TraceProblems:
    claimed = {r for req in requirements.items for r in rules_of(req, rule_ids)}
    return TraceProblems(
        untested=[r.id for r in requirements.items if not markers.get(r.id)],
        unknown_markers=sorted(set(markers) - requirements.ids),
        unmapped_rules=sorted(rule_ids - claimed),
        dead_patterns=[
            f"{req.id}: {p}"
            for req in requirements.items
            for p in req.rules
            if not any(fnmatch.fnmatchcase(r, p) for r in rule_ids)
        ],
    )
