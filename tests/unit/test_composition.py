"""Services are wired by constructor only (issue 29, item 1).

The rule, checked over the source of ``billing_core``, ``handlers`` and ``bot``:

    No assignment ``<name>.<attr> = ...`` (or ``<name>.<a>.<b> = ...``, any depth; also ``+=`` and
    annotated assignments, and inside tuple targets) whose root ``<name>`` is not ``self`` or
    ``cls`` assigns a *service attribute*.

- A *service class* is a class defined in those packages that has its own ``__init__``, except
  plain data (dataclasses, ``NamedTuple``/``TypedDict``, ORM records, exceptions) and stand-ins for
  outside systems (subclasses of ``StandInServer``, e.g. the demo's Stripe Checkout, which is told
  where Stripe's webhook goes as one would tell Stripe). The service containers ``Services``,
  ``Payments`` and ``Deps`` are service classes although they are dataclasses.
- A *service attribute* is a name a service class assigns on ``self`` in its ``__init__`` (for the
  containers: their fields), unless some plain data class also declares a field of that name (so
  ``payment.status = ...`` on an ORM record stays allowed).

Assigning such an attribute from outside the class means wiring after construction (what
``bot/bootstrap.py`` (now ``bot/compose.py``),
``bot/server.py``, ``SlackNotifier.attach`` and ``handlers/escalations/listeners.py``
did before the composition root); pass the collaborator to the constructor instead.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("billing_core", "handlers", "bot")
CONTAINERS = {"Services", "Payments", "Deps"}
DATA_BASES = {"Base", "DeclarativeBase", "NamedTuple", "TypedDict", "Exception", "Protocol"}
STAND_IN_BASES = {"StandInServer"}


def _trees() -> dict[Path, ast.Module]:
    return {
        path: ast.parse(path.read_text(), filename=str(path))
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def _base_names(cls: ast.ClassDef) -> set[str]:
    return {base.id if isinstance(base, ast.Name) else getattr(base, "attr", "") for base in cls.bases}


def _is_dataclass(cls: ast.ClassDef) -> bool:
    for decorator in cls.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if (isinstance(target, ast.Name) and target.id == "dataclass") or (
            isinstance(target, ast.Attribute) and target.attr == "dataclass"
        ):
            return True
    return False


def _fields(cls: ast.ClassDef) -> Iterator[str]:
    for statement in cls.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            yield statement.target.id


def _targets(node: ast.AST) -> Iterator[ast.expr]:
    if isinstance(node, ast.Assign):
        pending = list(node.targets)
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        pending = [node.target]
    else:
        return
    while pending:
        target = pending.pop()
        if isinstance(target, ast.Tuple | ast.List):
            pending.extend(target.elts)
        else:
            yield target


def _root(target: ast.Attribute) -> ast.expr:
    value: ast.expr = target
    while isinstance(value, ast.Attribute):
        value = value.value
    return value


def service_attributes(trees: dict[Path, ast.Module]) -> dict[str, set[str]]:
    """Service attribute name -> the service classes that have it."""
    owned: dict[str, set[str]] = {}
    data_fields: set[str] = set()
    for tree in trees.values():
        for cls in (node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)):
            bases = _base_names(cls)
            if cls.name in CONTAINERS:
                for name in _fields(cls):
                    owned.setdefault(name, set()).add(cls.name)
                continue
            if bases & STAND_IN_BASES:
                continue
            plain_data = (
                _is_dataclass(cls)
                or cls.name.endswith("Record")
                or bool(bases & DATA_BASES)
                or any(base.endswith("Error") for base in bases)
            )
            if plain_data:
                data_fields.update(_fields(cls))
                continue
            init = next((s for s in cls.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"), None)
            if init is None:
                continue
            for node in ast.walk(init):
                for target in _targets(node):
                    if (
                        isinstance(target, ast.Attribute)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == "self"
                    ):
                        owned.setdefault(target.attr, set()).add(cls.name)
    return {name: classes for name, classes in owned.items() if name not in data_fields}


def assignments_from_outside(trees: dict[Path, ast.Module]) -> list[str]:
    attributes = service_attributes(trees)
    found = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            for target in _targets(node):
                if not isinstance(target, ast.Attribute) or target.attr not in attributes:
                    continue
                root = _root(target)
                if isinstance(root, ast.Name) and root.id in ("self", "cls"):
                    continue
                owners = ", ".join(sorted(attributes[target.attr]))
                line = getattr(node, "lineno", 0)
                found.append(f"{path.relative_to(ROOT)}:{line}: {ast.unparse(target)} = ... ({owners})")
    return found


def test_no_service_attribute_is_assigned_outside_its_class() -> None:
    assert assignments_from_outside(_trees()) == []


def test_the_rule_sees_wiring_after_construction() -> None:
    """The check itself: the shapes the composition root used to have are found."""
    source = """
class Reconciler:
    def __init__(self, alert_staff):
        self._alert_staff = alert_staff
        self.alert_staff = alert_staff

class Services:
    payments: object

class PaymentRecord(Base):
    status: str

def wire(services, payment, notifier):
    services.payments.reconciler.alert_staff = print
    services.payments = None
    notifier.outbox, other = None, None
    payment.status = "paid"
"""
    tree = ast.parse(source)
    found = assignments_from_outside({ROOT / "example.py": tree})
    assert [entry.split(": ", 1)[1] for entry in found] == [
        "services.payments.reconciler.alert_staff = ... (Reconciler)",
        "services.payments = ... (Services)",
    ]


def _forward_references(tree: ast.Module) -> list[str]:
    """Names a nested function of a top-level function reads that its enclosing function binds only
    after the nested function is defined (a closure used to reach something built later)."""
    found = []
    for outer in tree.body:
        if not isinstance(outer, ast.FunctionDef):
            continue
        bound: dict[str, int] = {}
        for node in ast.walk(outer):
            for target in _targets(node):
                if isinstance(target, ast.Name):
                    bound[target.id] = min(bound.get(target.id, target.lineno), target.lineno)
        for inner in ast.walk(outer):
            if inner is outer or not isinstance(inner, ast.FunctionDef | ast.Lambda):
                continue
            for name in ast.walk(inner):
                if (
                    isinstance(name, ast.Name)
                    and isinstance(name.ctx, ast.Load)
                    and bound.get(name.id, 0) > inner.lineno
                ):
                    found.append(f"{outer.name}: {name.id} (line {name.lineno}) is bound on line {bound[name.id]}")
    return found


def test_the_composition_root_builds_everything_before_it_is_used() -> None:
    compose = ROOT / "bot" / "compose.py"
    assert _forward_references(ast.parse(compose.read_text())) == []


def test_the_forward_reference_rule_sees_a_closure_over_something_built_later() -> None:
    source = """
def build():
    def refresh(user):
        deps.publish(user)
    notifier = Notifier(after=refresh)
    deps = make_deps(notifier)
    return deps
"""
    assert _forward_references(ast.parse(source)) == ["build: deps (line 4) is bound on line 6"]
