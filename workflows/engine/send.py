"""Commands into the outbox, sent after commit: one message each, many per message, or gathered
while a block runs (``Engine.batching``) — the sending half of the engine."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy.orm import Session

from workflows.engine.commands import Command
from workflows.engine.rows import Gathered, command_message, command_messages
from workflows.store.db import Database
from workflows.store.rows import OutboxRow, Pending, pending, stamped
from workflows.store.sql import OUTBOX_TABLE
from workflows.time.clock import Clock

#: ``session.info`` key of the commands gathered by ``Sender.batching``
_GATHERED = "yunshang.gathered"


class Sender:
    """Mixed into ``Engine``: writes commands to the outbox in the caller's transaction."""

    clock: Clock
    db: Database

    def enqueue(self, session: Session, command: Command) -> str:
        """Write the command to the outbox in the caller's transaction; send it after commit. Inside
        ``batching`` the command joins a message of many, written when that block ends."""
        gathered: Gathered | None = session.info.get(_GATHERED)
        if gathered is not None:
            return gathered.add(command)
        message = command_message(str(uuid.uuid4()), command.flow, [command])
        self.write_messages(session, [message])
        return message.id

    def enqueue_many(self, session: Session, commands: Sequence[Command], batch: int) -> list[str]:
        """Write commands to the outbox as messages of up to ``batch`` commands of one flow each (the
        ``<flow>.advance_many`` actor applies one such message in one transaction; a lone command
        goes as a plain ``<flow>.advance`` message). Returns each command's message id, in the
        commands' order (the commands of one message share it)."""
        ids = [""] * len(commands)
        messages = command_messages(commands, batch)
        for message, positions in messages:
            for i in positions:
                ids[i] = message.id
        self.write_messages(session, [message for message, _ in messages])
        return ids

    @contextmanager
    def batching(self, session: Session, batch: int) -> Iterator[None]:
        """Inside the block, commands ``enqueue``d on ``session`` are gathered into messages of up to
        ``batch`` commands per flow, written to the outbox when the block ends (not if it raises)."""
        if session.info.get(_GATHERED) is not None:  # already gathering: the outer block writes
            yield
            return
        gathered = Gathered(batch)
        session.info[_GATHERED] = gathered
        try:
            yield
        finally:
            del session.info[_GATHERED]
        self.write_messages(session, gathered.messages())

    def write_messages(self, session: Session, messages: Sequence[Pending]) -> None:
        """Write ready-made messages to the outbox in the caller's transaction; sent after commit."""
        if not messages:
            return
        now = self.clock.now()
        rows = [row.values() for row in stamped(session, [OutboxRow.of(m, now) for m in messages])]
        self.db.statements.insert_rows(session.connection(), OUTBOX_TABLE, rows)
        pending(session).extend(messages)
