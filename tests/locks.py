"""Which row locks a test took, through which project functions, and whether a transaction
held each one.

A row lock outside a transaction is the bug that let two-factor sign-in answer 500 on
PostgreSQL: ``select_for_update`` needs ``transaction.atomic``, and the suite never saw it
because pytest-django wraps each test in a transaction. The ``row_locks`` fixture (in
``tests/conftest.py``) runs the test without that wrapping transaction and records every
lock any thread takes (the live server's too):

- ``QuerySet.select_for_update`` is recorded when it is called, on every database (SQLite
  ignores the lock, so only this record can see the mistake there);
- SQL that locks (``FOR UPDATE``, ``FOR SHARE``, ``pg_advisory_xact_lock``, ``LOCK TABLE``)
  is recorded when it runs, which covers raw SQL and a library's own queries.

``row_locks.assert_taken("equity.inventory.services:device_check_out")`` then proves that the test
really went through that function's lock, and the fixture fails the test if any lock was
taken outside a transaction. ``tests/test_row_locks.py`` lists, for every function that owns
the transaction around a lock, the tests that make this assertion.
"""

from __future__ import annotations

import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR).resolve()
NOT_PROJECT = (ROOT / "tests", ROOT / ".venv")
LOCKING_SQL = re.compile(
    r"\bFOR\s+(NO\s+KEY\s+)?UPDATE\b|\bFOR\s+(KEY\s+)?SHARE\b|\bpg_advisory_xact_lock"
    r"|\bLOCK\s+TABLE\b",
    re.IGNORECASE,
)


def _is_project_file(filename: str) -> bool:
    path = Path(filename)
    if not path.is_absolute():
        return False
    return path.is_relative_to(ROOT) and not any(path.is_relative_to(p) for p in NOT_PROJECT)


def project_stack(frame) -> tuple[str, ...]:
    """The project functions on the stack, innermost first, as ``module:qualname``."""
    names = []
    while frame is not None:
        if _is_project_file(frame.f_code.co_filename):
            module = frame.f_globals.get("__name__", "?")
            names.append(f"{module}:{frame.f_code.co_qualname}")
        frame = frame.f_back
    return tuple(names)


@dataclass(frozen=True)
class Lock:
    stack: tuple[str, ...]  # project functions, innermost first
    in_transaction: bool
    how: str  # "select_for_update" or the locking SQL's first words
    thread: str

    def __str__(self) -> str:
        where = " ← ".join(self.stack) or "(no project function on the stack)"
        state = "inside a transaction" if self.in_transaction else "OUTSIDE any transaction"
        return f"{self.how} {state} in {where} [{self.thread}]"


class RowLocks:
    def __init__(self):
        self.taken: list[Lock] = []
        self._guard = threading.Lock()

    def record(self, *, frame, in_transaction: bool, how: str) -> None:
        lock = Lock(project_stack(frame), in_transaction, how, threading.current_thread().name)
        with self._guard:
            self.taken.append(lock)

    def outside_transactions(self) -> list[Lock]:
        return [lock for lock in self.taken if not lock.in_transaction]

    def assert_taken(self, owner: str) -> None:
        """Some lock was taken through ``owner`` ("module:qualname"), and every lock so far
        was held by a transaction."""
        through = [lock for lock in self.taken if owner in lock.stack]
        seen = "\n  ".join(str(lock) for lock in self.taken) or "none"
        assert through, f"no row lock was taken through {owner}; locks taken:\n  {seen}"
        self.assert_all_in_transactions()

    def assert_all_in_transactions(self) -> None:
        outside = "\n  ".join(str(lock) for lock in self.outside_transactions())
        assert not outside, (
            "row locks taken outside a transaction (select_for_update needs "
            f"transaction.atomic; PostgreSQL refuses it):\n  {outside}"
        )


def install(locks: RowLocks, monkeypatch) -> None:
    """Record every lock taken while the test runs (every thread: the patch is on classes)."""
    from django.db import transaction
    from django.db.backends.utils import CursorWrapper
    from django.db.models.query import QuerySet

    select_for_update = QuerySet.select_for_update
    execute = CursorWrapper._execute_with_wrappers

    def recorded_select_for_update(self, *args, **kwargs):
        in_transaction = transaction.get_connection(self.db).in_atomic_block
        locks.record(frame=sys._getframe(1), in_transaction=in_transaction, how="select_for_update")
        return select_for_update(self, *args, **kwargs)

    def recorded_execute(self, sql, params, many, executor):
        if isinstance(sql, str) and LOCKING_SQL.search(sql):
            how = " ".join(LOCKING_SQL.search(sql).group(0).split()).upper()
            locks.record(frame=sys._getframe(1), in_transaction=self.db.in_atomic_block, how=how)
        return execute(self, sql, params, many, executor)

    monkeypatch.setattr(QuerySet, "select_for_update", recorded_select_for_update)
    monkeypatch.setattr(CursorWrapper, "_execute_with_wrappers", recorded_execute)


def wait_for_a_lock_wait(what: str, timeout: float = 60) -> None:
    """Return once some session of the test database waits on a lock (PostgreSQL): the
    second of two concurrent writers has reached the first's lock. ``what`` names the
    writer in the failure."""
    import time as clock

    from django.db import connection

    deadline = clock.monotonic() + timeout
    while clock.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
        clock.sleep(0.05)
    raise AssertionError(f"the second {what} never waited for the first")


def two_writers(first, second, *, what: str, timeout: float = 60) -> None:
    """Two writers of the same rows at once: ``first`` runs in a transaction held open
    (in a thread of its own) until ``second``, started in another thread, waits on a lock
    (``wait_for_a_lock_wait``); then the first commits and the second goes on. Either's
    error is raised here. The caller checks the outcome: that the second saw the first.

    On SQLite (one writer at a time, whole database; a shared in-memory database refuses a
    second writer outright, "table is locked") the two run one after the other, the first
    in its own transaction. ``what`` names the writers in a failure."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        with transaction.atomic():
            first()
        second()
        return

    holding, release, errors = threading.Event(), threading.Event(), []

    def run(work, hold: bool) -> None:
        try:
            if hold:
                with transaction.atomic():
                    work()
                    holding.set()
                    if not release.wait(timeout):
                        raise AssertionError(f"the first {what} was never released")
            else:
                work()
        except BaseException as exc:  # noqa: BLE001 - raised by the calling thread
            errors.append(exc)
        finally:
            holding.set()
            connection.close()

    a = threading.Thread(target=run, args=(first, True), name=f"first {what}")
    b = threading.Thread(target=run, args=(second, False), name=f"second {what}")
    a.start()
    try:
        assert holding.wait(timeout), f"the first {what} never finished its writes"
        if not errors:
            b.start()
            try:
                wait_for_a_lock_wait(what, timeout)
                assert b.is_alive(), f"the second {what} finished without waiting"
            finally:
                release.set()
                b.join(timeout)
    finally:
        release.set()
        a.join(timeout)
    if errors:
        raise errors[0]
