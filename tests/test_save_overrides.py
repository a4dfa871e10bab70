"""Guard (issue 16, item 5): no ``save()`` override carries workflow.

The initiative status move used to run inside ``Initiative.save()``: validation queries on
every save, the history row written by ``save``, who moved it passed through a private
attribute. A rule hidden in ``save`` runs on every write whether the caller means it or not,
and is skipped by every bulk write. Workflow belongs to a service (``initiatives.services.
initiative_move``); ``save`` may only fill in fields derived from the row itself.

This module reads every ``def save(`` of a class in the project (models, their mixins and
forms alike). Its body may hold only

- a docstring;
- assignments to ``self.<field>`` of a value that calls nothing (``self.maker =
  self.model.maker``);
- ``if`` blocks whose test calls nothing, holding the same;
- the call to ``super().save(...)`` (as a statement or returned).

Anything else (a query, ``objects.``, ``create(``, a call to ``clean``, a task queued, an
exception raised) is reported unless the save is in ``ALLOWED`` with the reason it is not
workflow, or the item that owns it. An entry that no longer exists or no longer does more
than the above fails too, so the list stays true.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_SCANNED = {"tests", "static", "templates", "docs", "node_modules", "migrations"}

# "Class.save": why it may do more than set derived fields.
ALLOWED = {
    "EditGuard.save": "optimistic locking (schools/models.py): after the conditional UPDATE "
    "it raises when another person saved first; it reads nothing and writes nothing more",
    "AuditEvent.save": "the audit log is append-only: a rewrite is refused, nothing is read",
    "DeviceEvent.save": "device history is append-only: a rewrite is refused, nothing is read",
    # Validation on save, left to the apps that own them (issue 16: equity is being split
    # by another item; readiness's targets have one writer, readiness.services.save_targets).
    "IndicatorTarget.save": "full_clean against the indicator registry (readiness); its one "
    "writer, save_targets, validates first already",
    "StationEvent.save": "full_clean of a station's grades against its school (equity's "
    "device year, being split in issue 16 item 1)",
    "Acceptance.save": "checks the signature's bytes (equity's device year, item 1)",
    "Charge.save": "checks the charge's student and device share a school (equity's device "
    "year, item 1)",
    "PasswordResetForm.save": "the form's save queues the reset e-mail (accounts), as "
    "Django's own PasswordResetForm.save sends it",
}


def _calls_nothing(node: ast.AST) -> bool:
    return not any(isinstance(n, ast.Call) for n in ast.walk(node))


def _is_super_save(node: ast.AST) -> bool:
    """``super().save(...)`` whose arguments call nothing."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "save"
        and isinstance(node.func.value, ast.Call)
        and isinstance(node.func.value.func, ast.Name)
        and node.func.value.func.id == "super"
        and all(_calls_nothing(a) for a in [*node.args, *node.keywords])
    )


def _sets_self(target: ast.AST) -> bool:
    if isinstance(target, ast.Tuple):
        return all(_sets_self(t) for t in target.elts)
    return (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    )


def _extra(statements: list[ast.stmt]) -> list[ast.stmt]:
    """The statements that do more than set derived fields and call ``super().save``."""
    found = []
    for i, node in enumerate(statements):
        if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.Expr | ast.Return) and node.value and _is_super_save(node.value):
            continue
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if all(_sets_self(t) for t in targets) and _calls_nothing(node.value):
                continue
        if isinstance(node, ast.If) and _calls_nothing(node.test):
            found += _extra(node.body) + _extra(node.orelse)
            continue
        if isinstance(node, ast.Pass):
            continue
        found.append(node)
    return found


def save_overrides() -> dict[str, tuple[str, list[str]]]:
    """Every ``save`` defined on a class of the project: "Class.save" → (where, the
    statements that do more than set derived fields)."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if NOT_SCANNED.intersection(relative.parts) or relative.parts[0].startswith("."):
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for cls in ast.walk(tree):
            if not isinstance(cls, ast.ClassDef):
                continue
            for node in cls.body:
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "save":
                    name = f"{cls.name}.save"
                    assert name not in found, f"two classes named {cls.name} define save()"
                    where = f"{relative}:{node.lineno}"
                    found[name] = (where, [ast.unparse(s) for s in _extra(node.body)])
    return found


def test_no_save_override_carries_workflow():
    offenders = [
        f"{where} {name}: {statements}"
        for name, (where, statements) in save_overrides().items()
        if statements and name not in ALLOWED
    ]
    assert not offenders, (
        "save() may only set fields derived from the row itself; move the rest to a service "
        f"(or, if it is not workflow, add it to ALLOWED with the reason): {offenders}"
    )


def test_every_allowed_save_still_exists_and_needs_its_place():
    overrides = save_overrides()
    gone = sorted(set(ALLOWED) - set(overrides))
    assert not gone, f"these no longer exist; remove them from ALLOWED: {gone}"
    plain = sorted(name for name in ALLOWED if not overrides[name][1])
    assert not plain, f"these only set derived fields now; remove them from ALLOWED: {plain}"


def test_the_initiative_workflow_is_not_in_any_save():
    overrides = save_overrides()
    for name in ("Initiative.save", "BudgetLine.save", "ComplianceItem.save"):
        assert name not in overrides or not overrides[name][1], name


def test_the_guard_sees_workflow_and_lets_derived_fields_through():
    source = '''
class Initiative:
    def save(self, *args, **kwargs):
        """Save, recording the move."""
        previous = type(self)._base_manager.filter(pk=self.pk).first()
        super().save(*args, **kwargs)
        StatusChange.objects.create(initiative=self, from_status=previous)

class Line:
    def save(self, *args, **kwargs):
        self.clean()
        return super().save(*args, **kwargs)

class Device:
    def save(self, *args, **kwargs):
        if self.model_id:
            self.maker = self.model.maker
        if self.school_id and not self.district_id:
            self.district_id = self.school.district_id
        else:
            pass
        super().save(*args, **kwargs)

class Sneaky:
    def save(self, *args, **kwargs):
        if self.pk is None:
            self.code = make_code()
        super().save(*args, **{**kwargs, "update_fields": fields()})
'''
    saves = {
        cls.name: _extra(cls.body[0].body)
        for cls in ast.parse(source).body
        if isinstance(cls, ast.ClassDef)
    }
    assert [ast.unparse(s) for s in saves["Initiative"]] == [
        "previous = type(self)._base_manager.filter(pk=self.pk).first()",
        "StatusChange.objects.create(initiative=self, from_status=previous)",
    ]
    assert [ast.unparse(s) for s in saves["Line"]] == ["self.clean()"]
    assert saves["Device"] == []
    assert len(saves["Sneaky"]) == 2
