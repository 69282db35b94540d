"""Group commit: the single-command messages that worker threads of one process hold at the same time
are applied together, in one transaction, through the one apply path (``apply_many``).

A worker thread hands its command (and the outbox row of its message) to ``GroupCommit.execute`` and
waits. The first thread of a flow to arrive leads: it takes every command of that flow waiting (up to
``most``), applies them in one transaction — each gets the outcome it would get alone, and every
message's outbox row is marked done in it — hands the lead to the next waiting thread, if any, and
returns its own outcome; the others wake with theirs. A lone message is a group of one: it waits for
nobody. Under load a transaction carries as many commands as there are busy threads, so the costs
that do not grow with the commands (a commit, the round trips, the rules read) are shared. A new
leader first waits, at most ``gather`` seconds (``YUNSHANG_GROUP_GATHER``), for the threads of the
groups just applied to come back with their next command, when the flow's last group held more than
one (under load they are back within a fraction of a millisecond, after their message's ack; without
the wait the first one back leads a group of one or two).

When a group's transaction fails (a command of an unknown instance, a bug in an effect, a deadlock,
the database gone), nothing of it was written, and each thread applies its own command alone: a bad
command fails alone, and its message is retried or dead-lettered alone, as without grouping.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from workflows.engine.apply import Outcome
from workflows.engine.commands import Command

log = logging.getLogger("yunshang.engine")

#: (commands of one flow, the outbox ids of their messages) → an outcome per command, in one
#: transaction that marks every id done
ApplyGroup = Callable[[Sequence[Command], Sequence[str | None]], list[Outcome]]
#: (command, outbox id) → its outcome, alone in its transaction
ApplyOne = Callable[[Command, str | None], Outcome]


@dataclass(eq=False)
class _Slot:
    command: Command
    outbox_id: str | None
    thread: int = field(default_factory=threading.get_ident)
    ready: threading.Event = field(default_factory=threading.Event)
    #: taken into a group (no longer waiting)
    taken: bool = False
    outcome: Outcome | None = None
    #: the group failed: apply the command alone
    alone: bool = False

    @property
    def settled(self) -> bool:
        return self.outcome is not None or self.alone


class GroupCommit:
    """Single commands of concurrent threads, applied in groups of one flow (``most`` at a time)."""

    #: seconds a waiting thread sleeps between looks at a vacant lead (a wake-up normally comes first)
    patience = 0.05

    def __init__(self, group: ApplyGroup, one: ApplyOne, most: int = 64, gather: float = 0.0) -> None:
        self._group, self._one, self.most = group, one, max(1, most)
        #: seconds a new leader waits for the threads of the groups just applied to come back with
        #: their next command (``_gather``); 0 leads at once
        self.gather = gather
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._waiting: dict[str, list[_Slot]] = {}
        self._leading: set[str] = set()
        #: threads of the groups applied lately that are not back yet: thread id → when its group was done
        self._away: dict[int, float] = {}
        #: the flows whose last group held more than one command (under load: worth gathering for)
        self._busy: set[str] = set()
        #: groups applied and the commands in them (read by benchmarks and tests)
        self.groups = 0
        self.commands = 0

    def waiting(self, flow: str) -> int:
        """Commands of ``flow`` waiting for a group (not taken into one yet)."""
        with self._lock:
            return len(self._waiting.get(flow, ()))

    def leading(self, flow: str) -> bool:
        """Whether a thread is applying a group of ``flow`` now."""
        with self._lock:
            return flow in self._leading

    def execute(self, command: Command, outbox_id: str | None = None) -> Outcome:
        """Apply ``command`` with the commands of its flow other threads hand in meanwhile."""
        slot = _Slot(command, outbox_id)
        flow = command.flow
        with self._lock:
            self._waiting.setdefault(flow, []).append(slot)
            self._back(slot.thread)
        try:
            while not slot.settled:
                with self._lock:
                    lead = not slot.taken and flow not in self._leading
                    if lead:
                        self._leading.add(flow)
                if lead:
                    self._gather_or_step_down(flow)
                    self._lead(flow, slot)
                    break
                slot.ready.wait(self.patience)
                slot.ready.clear()  # then look again: ``settled`` is set before the wake-up
        except BaseException:
            with self._lock:  # interrupted while waiting: leave the queue
                if not slot.taken:
                    self._waiting[flow].remove(slot)
            raise
        if slot.alone:
            return self._one(command, outbox_id)
        assert slot.outcome is not None
        return slot.outcome

    def _gather(self, flow: str) -> None:
        """Before taking its group, a leader waits while threads of the groups applied in the last
        ``gather`` seconds have not come back (each at most until ``gather`` seconds after its group
        was done) — only when the flow's last group held more than one command. Under load the
        threads return within a fraction of a millisecond with their next command (after their
        message's ack): a group that waits for them shares its transaction among more commands. A
        command after a quiet spell, or under a load light enough that groups are of one, waits for
        nobody."""
        if self.gather <= 0:
            return
        with self._lock:
            while flow in self._busy and len(self._waiting[flow]) < self.most:
                now = time.monotonic()
                for thread in [t for t, done in self._away.items() if done + self.gather <= now]:
                    del self._away[thread]  # not back in time: it took other work, or found none
                if not self._away:
                    break
                self._arrived.wait(min(self._away.values()) + self.gather - now)

    def _gather_or_step_down(self, flow: str) -> None:
        """``_gather``; interrupted (a time limit, a shutdown), the lead is left vacant for the next."""
        try:
            self._gather(flow)
        except BaseException:
            with self._lock:
                self._leading.discard(flow)
            raise

    def _back(self, thread: int) -> None:
        """(Under the lock.) ``thread`` brought its next command: no leader waits for it any more."""
        if self._away.pop(thread, None) is not None:
            self._arrived.notify_all()

    def _released(self, flow: str, group: list[_Slot]) -> None:
        """(Under the lock.) ``group`` was applied: its threads are away until their next command."""
        if self.gather <= 0:
            return
        done = time.monotonic()
        for slot in group:
            self._away[slot.thread] = done
        if len(group) > 1:
            self._busy.add(flow)
        else:
            self._busy.discard(flow)

    def _lead(self, flow: str, own: _Slot) -> None:
        """Apply ``own`` command with up to ``most - 1`` others waiting, then wake them and the next."""
        with self._lock:
            waiting = self._waiting[flow]
            waiting.remove(own)
            group = [own, *waiting[: self.most - 1]]
            del waiting[: self.most - 1]
            for slot in group:
                slot.taken = True
        fatal: BaseException | None = None
        try:
            outcomes = self._group([s.command for s in group], [s.outbox_id for s in group])
            for slot, outcome in zip(group, outcomes, strict=True):
                slot.outcome = outcome
            self.groups += 1
            self.commands += len(group)
        except BaseException as exc:  # nothing of the group was written: each applies its own alone
            if len(group) > 1:
                log.info("%s: a group of %d commands failed (%s); applied one by one", flow, len(group), exc)
            for slot in group:
                slot.alone = True
            if not isinstance(exc, Exception):
                fatal = exc  # an interrupt of the leading thread: the others go on, it stops
        finally:
            with self._lock:
                self._leading.discard(flow)
                nxt = waiting[0] if waiting else None
                self._released(flow, group)
            if nxt is not None:
                nxt.ready.set()  # a hint: the lead is free
            for slot in group[1:]:
                slot.ready.set()
        if fatal is not None:
            raise fatal
