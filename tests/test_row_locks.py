"""Guard: every row lock in the project is held by a transaction and tested without one.

Two-factor sign-in answered 500 on PostgreSQL because ``select_for_update`` ran outside
``transaction.atomic``, and no test noticed, since pytest-django wraps each test in a
transaction. This module reads the project's source (not the tests) and finds

- every lock: ``select_for_update(...)``, a library call that locks (``for_verify=True`` in
  django-otp), and SQL text that locks (``FOR UPDATE``, ``pg_advisory_xact_lock``, ...);
- every ``get_or_create`` / ``update_or_create``.

A lock must sit lexically inside ``transaction.atomic`` (a decorator or a ``with`` block), or
in a function whose docstring says it runs inside a transaction and whose every call site
does (``equity.inventory.services._locked``). The function that owns that transaction (the
lock's own function, or each atomic caller of such a helper) must be listed in
``LOCK_TESTS`` against transactional tests that really take the lock through it
(``row_locks.assert_taken``, see tests/locks.py), at least one of them outside the browser
tests.
A ``get_or_create`` must look up by a unique constraint, so that the database settles two
creations at once, or run after a row lock taken earlier in the same transaction.

What it cannot see: a check-then-insert written by hand (``exists()`` then ``create()``)
races the same way and needs a unique constraint too; this scan does not find it.

Why one long module: the source scan, its ``LOCK_TESTS`` registry and the transactional
tests that the registry names belong together, so a new lock is added in one place.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models

ROOT = Path(settings.BASE_DIR).resolve()
NOT_SCANNED = {"tests", "static", "templates", "docs", "node_modules", "migrations"}
LOCKING_SQL = re.compile(
    r"\bFOR\s+(NO\s+KEY\s+)?UPDATE\b|\bFOR\s+(KEY\s+)?SHARE\b|\bpg_advisory_xact_lock"
    r"|\bLOCK\s+TABLE\b",
    re.IGNORECASE,
)
LIBRARY_LOCKS = {"for_verify"}  # django-otp: ``for_verify=True`` loads devices FOR UPDATE
RACE_PRONE = {"get_or_create", "update_or_create"}
DOCUMENTED = re.compile(r"inside (a|the caller's) transaction|transaction\.atomic", re.IGNORECASE)

# Every function that owns the transaction around a row lock, and the transactional tests
# (no wrapping transaction, PostgreSQL on CI) that take the lock through it: each of them
# calls ``row_locks.assert_taken("<the function>")``. The browser tests run the flow through
# a live server, the others call the service directly so the guard holds without Chromium.
LOCK_TESTS: dict[str, list[str]] = {
    # The kept PD figures (pd/hours.py): one writer of a district's figures at a time.
    "pd.hours:sessions_tallied": [
        "tests/pd/test_locks.py::test_two_check_ins_at_once_are_both_counted_in_the_sessions_tally"
    ],
    "pd.hours:staff_changed": [
        "tests/pd/test_locks.py::test_two_check_ins_at_once_are_both_counted_in_the_sessions_tally"
    ],
    "pd.hours:keep_window": [
        "tests/pd/test_locks.py::"
        "test_the_nightly_recount_and_feedback_recount_take_the_districts_lock"
    ],
    # The district report's summary (pd/summary.py) is counted under the same lock.
    "pd.summary:refresh": [
        "tests/pd/test_summary.py::test_the_count_waits_for_a_writer_of_the_district"
    ],
    "pd.hours:feedback_tallied": [
        "tests/pd/test_locks.py::"
        "test_the_nightly_recount_and_feedback_recount_take_the_districts_lock"
    ],
    # The Google reports' AUE tally (googlesync/services.py): one count of a district at a time.
    "googlesync.services:count_aue": [
        "tests/googlesync/test_locks.py::test_two_counts_at_once_leave_one_tally"
    ],
    # The app register (software/services.py).
    **{
        f"software.services:{name}": [
            "tests/software/test_locks.py::"
            "test_a_request_and_its_review_lock_the_app_and_the_request",
        ]
        for name in (
            "request_app",
            "send_request_link_email",
            "send_request_update_email",
            "request_review",
            "request_withdraw",
            "app_decide",
        )
    },
    "software.services:send_dpa_reminder": [
        "tests/software/test_locks.py::test_the_expiry_reminder_locks_the_apps_it_marks",
    ],
    "accounts.two_factor:new_recovery_codes": [
        "tests/accounts/test_locks.py::test_it_replaces_recovery_codes_under_the_account_lock",
    ],
    # Sign-in with a second factor (the 500 of issue 15). The browser tests of that flow are
    # tests/browser/test_two_factor.py (written with the fix).
    "accounts.two_factor:verify": [
        "tests/accounts/test_locks.py::test_it_signs_in_with_a_code_and_a_recovery_code",
    ],
    "core.queue:flush": [
        "tests/core/test_queue_locks.py::test_it_flushes_held_tasks_one_locked_row_at_a_time",
    ],
    "equity.inventory.services:device_check_out": [
        "tests/equity/inventory/test_locks.py::test_it_checks_a_device_out_and_in",
        "tests/browser/test_device_desk.py::test_a_device_goes_out_and_back_with_the_keyboard_alone",
        "tests/browser/test_device_year.py::test_twenty_pairs_are_handed_out_with_the_keyboard_alone",
    ],
    "equity.inventory.services:device_check_in": [
        "tests/equity/inventory/test_locks.py::test_it_checks_a_device_out_and_in",
        "tests/browser/test_device_desk.py::test_a_device_goes_out_and_back_with_the_keyboard_alone",
        "tests/browser/test_device_year.py::test_a_collection_scan_closes_the_assignment_and_raises_a_charge",
    ],
    "equity.inventory.services:device_report_missing": [
        "tests/equity/inventory/test_locks.py::test_it_reports_a_device_missing_and_recovers_it",
    ],
    "equity.inventory.services:device_recover": [
        "tests/equity/inventory/test_locks.py::test_it_reports_a_device_missing_and_recovers_it",
    ],
    "equity.inventory.services:device_send_to_repair": [
        "tests/equity/inventory/test_locks.py::test_it_sends_a_device_to_repair_and_back",
    ],
    "equity.inventory.services:device_return_from_repair": [
        "tests/equity/inventory/test_locks.py::test_it_sends_a_device_to_repair_and_back",
    ],
    "equity.inventory.services:devices_move": [
        "tests/equity/inventory/test_locks.py::test_it_moves_and_retires_devices_in_bulk",
    ],
    "equity.inventory.services:devices_retire": [
        "tests/equity/inventory/test_locks.py::test_it_moves_and_retires_devices_in_bulk",
        "tests/browser/test_device_desk.py::test_select_all_ticks_every_device_on_the_page_and_the_bulk_action_runs",
    ],
    "equity.year.services:accept_signed": [
        "tests/equity/year/test_locks.py::test_it_accepts_an_agreement_signed_or_by_link",
    ],
    "equity.year.services:accept_by_link": [
        "tests/equity/year/test_locks.py::test_it_accepts_an_agreement_signed_or_by_link",
        "tests/browser/test_device_year.py::test_the_family_accepts_by_link_without_an_account",
    ],
    "equity.year.services:set_price": [
        "tests/equity/year/test_locks.py::test_it_sets_a_price_and_resolves_a_charge",
    ],
    "equity.year.services:charge_resolve": [
        "tests/equity/year/test_locks.py::test_it_sets_a_price_and_resolves_a_charge",
    ],
    "initiatives.services:initiative_move": [
        "tests/initiatives/test_locks.py::test_it_moves_an_initiative_refuses_rollout_then_overrides",
        "tests/browser/test_initiatives.py::test_the_wizard_then_rollout_waits_for_the_survey_to_close",
    ],
    "pd.services:session_update": [
        "tests/pd/test_locks.py::test_it_updates_a_session_under_its_lock",
    ],
    "pd.services:checkin_code_request": [
        "tests/pd/test_locks.py::test_it_checks_a_person_in_once_with_a_code",
    ],
    "pd.services:checkin_with_code": [
        "tests/pd/test_locks.py::test_it_checks_a_person_in_once_with_a_code",
    ],
    "pd.services:feedback_link_request": [
        "tests/pd/test_locks.py::test_it_sends_a_personal_feedback_link_once_per_wait",
    ],
    "equity.inventory.services:devices_release": [
        "tests/audit/test_purge_devices.py::test_each_purge_frees_the_devices_its_students_held",
    ],
    "readiness.services:claim_change_run": [
        "tests/readiness/test_locks.py::test_it_claims_one_waiting_run_per_district",
    ],
    "stakeholders.services:response_submit": [
        "tests/stakeholders/test_locks.py::test_it_takes_one_answer_per_person_link",
        "tests/browser/test_survey_respond.py::test_a_person_link_answers_once_without_an_account",
    ],
}


# --- reading the source ---------------------------------------------------------------


@dataclass
class Call:
    target: str  # dotted name the call resolves to ("equity.inventory.services._locked"), or ""
    lineno: int
    atomic: bool  # lexically inside transaction.atomic
    caller: str  # "module:qualname" of the enclosing function ("module:<module>" at top)


@dataclass
class Lock:
    function: str
    lineno: int
    atomic: bool
    how: str


@dataclass
class RaceCall:
    function: str
    lineno: int
    method: str
    model: str  # dotted path of the receiver's root name, or ""
    lookups: list[str]
    after_lock: bool  # a separate lock statement ran earlier in the same atomic function


@dataclass
class Function:
    key: str  # "module:qualname"
    dotted: str  # "module.qualname" for call resolution
    docstring: str
    decorated_atomic: bool
    lock_lines: list[int] = field(default_factory=list)


def _is_atomic(node: ast.expr) -> bool:
    """``transaction.atomic``, ``atomic``, either called with arguments or not."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr == "atomic"
    return isinstance(node, ast.Name) and node.id == "atomic"


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


class Scanner(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool):
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.aliases: dict[str, str] = {}
        self.functions: dict[str, Function] = {}
        self.calls: list[Call] = []
        self.locks: list[Lock] = []
        self.races: list[RaceCall] = []
        self.scope: list[str] = []  # qualname parts
        self.context: list[tuple[str, bool]] = [(f"{module}:<module>", False)]
        self.atomic_depth = [0]
        self.lock_statements: list[list[int]] = [[]]

    # imports: names bound to dotted paths, for resolving calls and model names
    def visit_Import(self, node):
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.aliases[top] = top

    def visit_ImportFrom(self, node):
        base = node.module or ""
        if node.level:
            parts = self.package.split(".")
            parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
            base = ".".join(p for p in [*parts, base] if p)
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{base}.{alias.name}"

    def _function(self, node, name: str):
        qualname = ".".join([*self.scope, name])
        key = f"{self.module}:{qualname}"
        decorated = any(_is_atomic(d) for d in getattr(node, "decorator_list", []))
        doc = ast.get_docstring(node) if not isinstance(node, ast.Lambda) else None
        self.functions[key] = Function(
            key, f"{self.module}.{qualname}", doc or "", decorated_atomic=decorated
        )
        for decorator in getattr(node, "decorator_list", []):
            self.visit(decorator)
        self.scope.extend([name, "<locals>"])
        self.context.append((key, decorated))
        self.atomic_depth.append(1 if decorated else 0)
        self.lock_statements.append([])
        body = node.body if isinstance(node.body, list) else [node.body]
        for child in [*getattr(node.args, "defaults", []), *body]:
            self.visit(child)
        self.lock_statements.pop()
        self.atomic_depth.pop()
        self.context.pop()
        del self.scope[-2:]

    def visit_FunctionDef(self, node):
        self._function(node, node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        self._function(node, "<lambda>")

    def visit_ClassDef(self, node):
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.scope.append(node.name)
        for child in node.body:
            self.visit(child)
        self.scope.pop()

    def visit_With(self, node):
        atomic = any(_is_atomic(item.context_expr) for item in node.items)
        for item in node.items:
            self.visit(item)
        self.atomic_depth[-1] += atomic
        for child in node.body:
            self.visit(child)
        self.atomic_depth[-1] -= atomic

    visit_AsyncWith = visit_With

    @property
    def _atomic(self) -> bool:
        return self.atomic_depth[-1] > 0

    def _lock(self, node, how: str):
        function = self.context[-1][0]
        self.locks.append(Lock(function, node.lineno, self._atomic, how))
        self.lock_statements[-1].append(node.lineno)
        if function in self.functions:
            self.functions[function].lock_lines.append(node.lineno)

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "select_for_update":
            self._lock(node, "select_for_update()")
        for keyword in node.keywords:
            if (
                keyword.arg in LIBRARY_LOCKS
                and isinstance(keyword.value, ast.Constant)
                and keyword.value.value is True
            ):
                self._lock(node, f"{keyword.arg}=True (a library call that locks rows)")
        if isinstance(func, ast.Attribute) and func.attr in RACE_PRONE:
            root = _root_name(func.value)
            model = self.aliases.get(root, f"{self.module}.{root}") if root else ""
            lookups = [k.arg for k in node.keywords if k.arg not in ("defaults", "create_defaults")]
            earlier = [line for line in self.lock_statements[-1] if line < node.lineno]
            self.races.append(
                RaceCall(
                    self.context[-1][0],
                    node.lineno,
                    func.attr,
                    model,
                    [k for k in lookups if k],
                    after_lock=bool(earlier) and self._atomic,
                )
            )
        dotted = _dotted(func)
        if dotted:
            head, _, rest = dotted.partition(".")
            if head in self.aliases:
                target = ".".join(p for p in [self.aliases[head], rest] if p)
            else:
                target = f"{self.module}.{dotted}"
            self.calls.append(Call(target, node.lineno, self._atomic, self.context[-1][0]))
        self.generic_visit(node)

    def visit_Expr(self, node):
        if isinstance(node.value, ast.Constant):
            return  # a docstring: prose, not SQL
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, str) and LOCKING_SQL.search(node.value):
            self._lock(node, f"SQL {LOCKING_SQL.search(node.value).group(0)!r}")


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0].startswith(".") or NOT_SCANNED & set(relative.parts):
            continue
        if len(relative.parts) == 1:
            continue  # manage.py
        parts = list(relative.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        yield ".".join(parts), is_package, path


@cache
def project():
    scanners = []
    for module, is_package, path in _modules():
        scanner = Scanner(module, is_package)
        scanner.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        scanners.append(scanner)
    functions = {k: f for s in scanners for k, f in s.functions.items()}
    calls = [c for s in scanners for c in s.calls]
    locks = [lock for s in scanners for lock in s.locks]
    races = [r for s in scanners for r in s.races]
    return functions, calls, locks, races


def _callers(function: Function, calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.target == function.dotted]


class Unheld(Exception):
    """A path reaches a lock without a transaction; the message says where from."""


def _owners(key: str, functions, calls, seen=frozenset()) -> set[str]:
    """The functions whose transaction holds a lock taken in ``key`` when it is not
    lexically atomic. Raises Unheld when some path reaches it without a transaction."""
    function = functions.get(key)
    if function is None or key in seen:
        raise Unheld(f"{key.replace(':', '.')} is not a function the scan can follow")
    callers = _callers(function, calls)
    if not callers:
        raise Unheld(f"{key.replace(':', '.')} is reached without a transaction")
    owners = set()
    for call in callers:
        if call.atomic:
            owners.add(call.caller)
            continue
        if call.caller.endswith(":<module>"):
            raise Unheld(f"{call.caller} calls it at line {call.lineno}")
        owners |= _owners(call.caller, functions, calls, seen | {key})
    return owners


def lock_owners() -> tuple[dict[str, set[str]], list[str]]:
    """{owner: {functions with the lock}} and the problems of locks held by no transaction."""
    functions, calls, locks, _ = project()
    owners: dict[str, set[str]] = defaultdict(set)
    problems = []
    for lock in locks:
        where = f"{lock.function.replace(':', '.')} (line {lock.lineno})"
        if lock.atomic:
            owners[lock.function].add(lock.function)
            continue
        function = functions.get(lock.function)
        try:
            found = _owners(lock.function, functions, calls)
        except Unheld as path:
            problems.append(
                f"{where} takes a row lock ({lock.how}) that no transaction holds ({path}): "
                "wrap it in `with transaction.atomic():` or decorate the function with "
                "@transaction.atomic (PostgreSQL refuses a lock outside a transaction, and "
                "tests inside pytest-django's transaction never see it)."
            )
            continue
        if function is None or not DOCUMENTED.search(function.docstring):
            problems.append(
                f"{where} takes a row lock ({lock.how}) held only by its callers' "
                'transactions: say so in its docstring ("Call it inside a transaction") '
                "or make it atomic itself."
            )
            continue
        for owner in found:
            owners[owner].add(lock.function)
    return dict(owners), problems


# --- reading the tests ----------------------------------------------------------------


TRANSACTIONAL_FIXTURES = {"live_server", "page", "phone", "transactional_db", "row_locks"}


def _is_transactional_mark(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "django_db"
        and any(
            k.arg == "transaction" and isinstance(k.value, ast.Constant) and k.value.value
            for k in node.keywords
        )
    )


@cache
def _test_module(path: str, root: Path = ROOT):
    file = root / path
    if not file.exists():
        return None
    tree = ast.parse(file.read_text(encoding="utf-8"))
    module_mark = any(
        _is_transactional_mark(n)
        for stmt in tree.body
        if isinstance(stmt, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in stmt.targets)
        for n in ast.walk(stmt.value)
    )
    tests = {
        stmt.name: stmt
        for stmt in tree.body
        if isinstance(stmt, ast.FunctionDef) and stmt.name.startswith("test")
    }
    return module_mark, tests


def check_test(node_id: str, owner: str, root: Path = ROOT) -> str | None:
    """What is wrong with ``node_id`` as a transactional test of ``owner``'s lock, or None."""
    path, _, name = node_id.partition("::")
    module = _test_module(path, root)
    if module is None:
        return f"{node_id}: no such test file"
    module_mark, tests = module
    test = tests.get(name)
    if test is None:
        return f"{node_id}: no such test in {path}"
    arguments = {a.arg for a in test.args.args}
    marked = module_mark or any(
        _is_transactional_mark(n) for d in test.decorator_list for n in ast.walk(d)
    )
    if not (marked or arguments & TRANSACTIONAL_FIXTURES):
        return (
            f"{node_id} runs inside pytest-django's transaction, where a lock outside "
            "transaction.atomic goes unseen: mark it django_db(transaction=True)"
        )
    asserted = any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "assert_taken"
        and _root_name(n.func) == "row_locks"
        and any(isinstance(a, ast.Constant) and a.value == owner for a in n.args)
        for n in ast.walk(test)
    )
    if "row_locks" not in arguments or not asserted:
        return (
            f"{node_id} does not prove it takes the lock: ask for the row_locks fixture and "
            f'call row_locks.assert_taken("{owner}") after the flow'
        )
    return None


# --- the guard ------------------------------------------------------------------------


def test_every_row_lock_is_held_by_a_transaction():
    _owners_found, problems = lock_owners()
    assert not problems, "\n".join(problems)


def test_every_transaction_around_a_lock_has_a_transactional_test():
    owners, _ = lock_owners()
    problems = []
    for owner, sites in sorted(owners.items()):
        tests = LOCK_TESTS.get(owner)
        if not tests:
            where = ", ".join(sorted(s.replace(":", ".") for s in sites))
            problems.append(
                f"{owner.replace(':', '.')} holds a row lock ({where}) but no transactional "
                f'test is listed for it: add "{owner}": ["tests/<app>/test_locks.py::test_it_…"] '
                "to LOCK_TESTS in tests/test_row_locks.py, with a test marked "
                "django_db(transaction=True) that asks for row_locks and calls "
                f'row_locks.assert_taken("{owner}")'
            )
            continue
        problems += filter(None, (check_test(node_id, owner) for node_id in tests))
        if all(node_id.startswith("tests/browser/") for node_id in tests):
            problems.append(
                f"{owner} is tested only in the browser: add a test that calls it directly "
                "(tests/<app>/test_locks.py), so the guard holds without Chromium"
            )
    _, _, locks, _ = project()
    stale = sorted(set(LOCK_TESTS) - set(owners) - {lock.function for lock in locks})
    problems += [f"LOCK_TESTS lists {key}, which holds no row lock any more" for key in stale]
    assert not problems, "\n".join(problems)


def _condition_fields(q: models.Q) -> set[str]:
    names = set()
    for child in q.children:
        if isinstance(child, models.Q):
            names |= _condition_fields(child)
        else:
            names.add(child[0].split("__")[0])
    return names


def _unique_sets(model: type[models.Model]) -> list[tuple[set[str], set[str]]]:
    """(fields, fields its condition reads) of each unique rule of ``model``."""
    meta = model._meta
    sets = [({f.name}, set()) for f in meta.concrete_fields if f.unique]
    sets += [(set(fields), set()) for fields in meta.unique_together]
    sets += [
        (set(c.fields), _condition_fields(c.condition) if c.condition else set())
        for c in meta.constraints
        if isinstance(c, models.UniqueConstraint) and c.fields
    ]
    return sets


def _model(dotted: str) -> type[models.Model] | None:
    module, _, name = dotted.rpartition(".")
    matches = [m for m in apps.get_models() if m.__name__ == name]
    exact = [m for m in matches if m.__module__ == module]
    if exact or len(matches) == 1:
        return (exact or matches)[0]
    return None


def _exact_fields(model: type[models.Model], lookups: list[str]) -> set[str]:
    names = set()
    for lookup in lookups:
        name, _, suffix = lookup.partition("__")
        if suffix not in ("", "exact"):
            continue
        if name == "pk":
            names.add(model._meta.pk.name)
            continue
        for f in model._meta.concrete_fields:
            if name in (f.name, f.attname):
                names.add(f.name)
    return names


def race_problems() -> list[str]:
    _, _, _, races = project()
    problems = []
    for race in races:
        where = f"{race.function.replace(':', '.')} (line {race.lineno})"
        if race.after_lock:
            continue  # serialised by the row lock taken before it in the same transaction
        model = _model(race.model) if race.model else None
        if model is None:
            problems.append(
                f"{where}: {race.method} on a receiver whose model cannot be read "
                f"({race.model or 'not a Model.objects chain'}); "
                f"call it as Model.objects.{race.method}"
            )
            continue
        # A conditional constraint counts when its condition reads only looked-up fields:
        # the values looked up then decide whether it applies (membership at a school, or
        # district-wide).
        fields = _exact_fields(model, race.lookups)
        if any(unique | reads <= fields for unique, reads in _unique_sets(model)):
            continue
        problems.append(
            f"{where}: {model.__name__}.{race.method}({', '.join(race.lookups)}) is not backed "
            "by a unique constraint, so two requests at once can both create a row. Add a "
            "UniqueConstraint on those fields (the database then settles the race), or take "
            "a row lock on the parent first, in the same transaction."
        )
    return problems


def test_every_get_or_create_is_settled_by_the_database():
    problems = race_problems()
    assert not problems, "\n".join(problems)


# --- the guard's own checks ---------------------------------------------------------------


def _scan(source: str, module: str = "fake.services"):
    scanner = Scanner(module, is_package=False)
    scanner.visit(ast.parse(source))
    return scanner


def test_it_sees_a_lock_outside_a_transaction_the_way_two_factor_had_it():
    scanner = _scan(
        "from django.db import transaction\n"
        "def verify(user, token):\n"
        "    for device in devices_for_user(user, for_verify=True):\n"
        "        pass\n"
        "@transaction.atomic\n"
        "def held(device):\n"
        "    Device.objects.select_for_update().get(pk=device.pk)\n"
        "def also_held():\n"
        "    with scopes_disabled(), transaction.atomic():\n"
        "        Device.objects.select_for_update().first()\n"
        "    Device.objects.select_for_update().first()\n"
    )
    assert [(lock.function, lock.atomic) for lock in scanner.locks] == [
        ("fake.services:verify", False),
        ("fake.services:held", True),
        ("fake.services:also_held", True),
        ("fake.services:also_held", False),
    ]


def test_it_follows_a_helper_to_the_transactions_of_its_callers():
    scanner = _scan(
        "from django.db import transaction\n"
        "def _locked(device):\n"
        '    """Call it inside a transaction."""\n'
        "    return Device.objects.select_for_update().get(pk=device.pk)\n"
        "@transaction.atomic\n"
        "def check_in(device):\n"
        "    _locked(device)\n"
        "def careless(device):\n"
        "    return lambda: _locked(device)\n"
    )
    functions, calls = scanner.functions, scanner.calls
    with pytest.raises(Unheld, match="careless.<locals>.<lambda> is reached without"):
        _owners("fake.services:_locked", functions, calls)
    calls = [c for c in calls if not c.caller.startswith("fake.services:careless")]
    assert _owners("fake.services:_locked", functions, calls) == {"fake.services:check_in"}


def test_it_sees_a_get_or_create_race_and_a_lock_that_settles_it():
    scanner = _scan(
        "from django.db import transaction\n"
        "from accounts.models import User\n"
        "@transaction.atomic\n"
        "def codes(user):\n"
        "    StaticDevice.objects.get_or_create(user=user, name='x')\n"
        "    User.objects.select_for_update().get(pk=user.pk)\n"
        "    StaticDevice.objects.get_or_create(user=user, name='x')\n"
        "    Attendance.objects.select_for_update().get_or_create(session=s, staff=t)\n"
    )
    assert [r.after_lock for r in scanner.races] == [False, True, True]
    chained = _scan(
        "from django.db import transaction\n"
        "@transaction.atomic\n"
        "def check_in(s, t):\n"
        "    Attendance.objects.select_for_update().get_or_create(session=s, staff=t)\n"
    )
    assert [r.after_lock for r in chained.races] == [False]  # a lock on no row settles nothing


@pytest.mark.parametrize(
    ("source", "fine"),
    [
        ("@pytest.mark.django_db(transaction=True)\ndef test_it(row_locks):\n"
         "    row_locks.assert_taken('a.b:c')\n", True),
        ("def test_it(db, row_locks):\n    row_locks.assert_taken('a.b:c')\n", True),
        ("@pytest.mark.django_db\ndef test_it(db):\n    pass\n", False),
        ("@pytest.mark.django_db(transaction=True)\ndef test_it(row_locks):\n"
         "    row_locks.assert_taken('a.b:other')\n", False),
    ],
)  # fmt: skip
def test_it_accepts_only_transactional_tests_that_prove_the_lock(tmp_path, source, fine):
    (tmp_path / "test_probe.py").write_text(source, encoding="utf-8")
    problem = check_test("test_probe.py::test_it", "a.b:c", root=tmp_path)
    assert (problem is None) is fine, problem
