"""Group commit: writers that arrive while another holds the write lock ride in its transaction.

Every append takes the log's one write lock and pays one commit (an fsync at ``synchronous=FULL``,
a WAL write and the connection's round trips in any case). Threads of one process that append at
the same time would queue for the lock one commit after another. Instead, the first becomes the
leader; those that arrive meanwhile queue their work, and the leader runs everything queued in ONE
transaction, then hands the lead to the first writer that queued after it took its group. Each
writer still gets its own outcome: its result, or its own error (a conflict of its expected
version fails only that writer, and writes nothing of it).

What a group is and how it is written is the store's (``SqlEventStore._append_group``): this
module only gathers the writers, hands out the lead and returns each one's outcome.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

Work = TypeVar("Work")
Result = TypeVar("Result")


class Ticket(Generic[Work, Result]):
    """One writer's work and, once its group ran, its outcome."""

    __slots__ = ("done", "error", "lead", "result", "work")

    def __init__(self, work: Work) -> None:
        self.work = work
        self.result: Result | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.lead = False  # woken to lead the next group rather than with an outcome

    def outcome(self) -> Result:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


class GroupCommit(Generic[Work, Result]):
    """Runs queued work in groups, one group at a time, in the thread of one of its writers.

    ``run_group(tickets)`` must give every ticket its ``result`` or ``error``; an exception it
    lets out becomes the error of every ticket of the group that has no outcome yet.
    """

    def __init__(self, run_group: Callable[[list[Ticket[Work, Result]]], None], most: int = 64) -> None:
        self._run_group = run_group
        self._most = most
        self._mutex = threading.Lock()
        self._queue: list[Ticket[Work, Result]] = []
        self._leading = False

    def submit(self, work: Work) -> Result:
        ticket: Ticket[Work, Result] = Ticket(work)
        with self._mutex:
            self._queue.append(ticket)
            follow, self._leading = self._leading, True
        if follow:
            ticket.done.wait()
            if not ticket.lead:
                return ticket.outcome()
            ticket.lead = False  # handed the lead: its own ticket heads the queue
            ticket.done.clear()
        self._lead()
        return ticket.outcome()

    def _lead(self) -> None:
        with self._mutex:
            group = self._queue[: self._most]
            del self._queue[: self._most]
        try:
            self._run_group(group)
        except BaseException as error:
            for ticket in group:
                if ticket.result is None and ticket.error is None:
                    ticket.error = error
        finally:
            with self._mutex:
                successor = self._queue[0] if self._queue else None
                if successor is None:
                    self._leading = False
                else:
                    successor.lead = True
            for ticket in group:
                ticket.done.set()
            if successor is not None:
                successor.done.set()
