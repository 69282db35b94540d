"""Group commit: the single-command messages that worker threads of one process hold at the same time
are applied together, in one transaction, through the one apply path (``apply_many``).

A worker thread hands its command (and the outbox row of its message) to ``GroupCommit.execute`` and
waits. The first thread of a flow to arrive leads: it takes every command of that flow waiting (up to
``most``), applies them in one transaction — each gets the outcome it would get alone, and every
message's outbox row is marked done in it — hands the lead to the next waiting thread, if any, and
returns its own outcome; the others wake with theirs. A lone message is a group of one: it waits for
nobody. Under load a transaction carries as many commands as there are busy threads, so the costs
that do not grow with the commands (a commit, the round trips, the rules read) are shared.

When a group's transaction fails (a command of an unknown instance, a bug in an effect, a deadlock,
the database gone), nothing of it was written, and each thread applies its own command alone: a bad
command fails alone, and its message is retried or dead-lettered alone, as without grouping.
"""

from __future__ import annotations

import logging
import threading
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

    def __init__(self, group: ApplyGroup, one: ApplyOne, most: int = 64) -> None:
        self._group, self._one, self.most = group, one, max(1, most)
        self._lock = threading.Lock()
        self._waiting: dict[str, list[_Slot]] = {}
        self._leading: set[str] = set()
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
        try:
            while not slot.settled:
                with self._lock:
                    lead = not slot.taken and flow not in self._leading
                    if lead:
                        self._leading.add(flow)
                if lead:
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
            if nxt is not None:
                nxt.ready.set()  # a hint: the lead is free
            for slot in group[1:]:
                slot.ready.set()
        if fatal is not None:
            raise fatal
