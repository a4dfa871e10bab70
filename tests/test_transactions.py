"""Issue 15, item 5, the class: code that relies on a transaction must open one itself.

Production requests commit statement by statement (no ATOMIC_REQUESTS); only the test suite
wraps each test in a transaction, which hid a lock taken outside one (two-factor sign-in
answered 500 on PostgreSQL). This guard reads every service module: a public service that
writes more than once (directly or through the module's private helpers), or locks rows,
must run in ``transaction.atomic``, so it writes all or nothing whoever calls it.
The live-server browser tests run the flows themselves without a wrapping transaction.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = [
    *sorted(ROOT.glob("*/services.py")),
    *sorted(ROOT.glob("*/*/services.py")),  # an app's packages (equity/inventory, equity/year)
    ROOT / "accounts" / "two_factor.py",
    ROOT / "equity" / "year" / "rollover.py",
    ROOT / "equity" / "inventory" / "bulk.py",  # the set-based writes the importers call
    ROOT / "audit" / "purge.py",
]
WRITES = {
    "save",
    "create",
    "update",
    "delete",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
}
LOCKS = {"select_for_update"}
# Services that write in several transactions on purpose, and why.
SEVERAL_TRANSACTIONS = {
    # Each attendee is marked as asked right after their e-mail, so a retry after an SMTP
    # failure does not e-mail anyone twice.
    "pd/services.py:send_feedback_emails",
    # Each personal link is claimed before its e-mail leaves and given back if the SMTP
    # server refuses it, so a retry e-mails each person once.
    "stakeholders/services.py:send_person_invitations_email",
    # A run's status must be visible while it computes ("running"), and its failure stored
    # even though the computation rolled back.
    "readiness/services.py:execute_run",
}


def _is_atomic(node: ast.FunctionDef) -> bool:
    decorated = any("atomic" in ast.unparse(d) for d in node.decorator_list)
    return decorated or "transaction.atomic" in ast.unparse(node)


def _name(call: ast.Call) -> str:
    # django-otp locks a person's devices when asked ``for_verify=True``.
    if any(k.arg == "for_verify" for k in call.keywords):
        return "select_for_update"
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


def _calls(node) -> list[str]:
    return [_name(n) for n in ast.walk(node) if isinstance(n, ast.Call)]


def _effects(name, functions, seen=()) -> list[str]:
    """Writes and locks of a function, counting the module's private helpers it calls."""
    found = []
    for call in _calls(functions[name]):
        if call in WRITES or call in LOCKS:
            found.append(call)
        elif call.startswith("_") and call in functions and call not in seen:
            helper = functions[call]
            if not _is_atomic(helper):
                found += _effects(call, functions, (*seen, name))
            else:
                found.append(f"{call} (atomic)")
    return found


def offenders() -> list[str]:
    found = []
    for path in MODULES:
        tree = ast.parse(path.read_text())
        functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        for name, node in functions.items():
            where = f"{path.relative_to(ROOT)}:{name}"
            if name.startswith("_") or _is_atomic(node) or where in SEVERAL_TRANSACTIONS:
                continue
            effects = _effects(name, functions)
            if len(effects) > 1 or LOCKS.intersection(effects):
                found.append(f"{where} writes {effects} outside transaction.atomic")
    return found


def test_every_service_that_writes_more_than_once_or_locks_runs_in_one_transaction():
    assert not offenders()


def test_the_guard_sees_a_service_that_writes_twice_outside_a_transaction():
    # The guard itself: a service like the two-factor check before the fix is caught.
    source = (
        "def verify(user, token):\n"
        "    for device in devices_for_user(user, confirmed=True, for_verify=True):\n"
        "        device.verify_token(token)\n"
        "def locked_helper_user(x):\n"
        "    _helper(x)\n"
        "    x.save()\n"
        "def _helper(x):\n"
        "    X.objects.create(x=x)\n"
    )
    tree = ast.parse(source)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert _effects("verify", functions) == ["select_for_update"]
    assert len(_effects("locked_helper_user", functions)) == 2
