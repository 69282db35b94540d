"""A malformed command is bad input: refused at the edge naming the field, or, arriving as a message,
dead-lettered at once (it can never succeed) with an error line naming the field. On both stacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support import Stack, running_stack, wait_until
from workflows.engine.commands import Cause
from workflows.errors import BadInput, InstanceNotFound
from workflows.messaging.deadletters import list_dead
from workflows.store.rows import Pending


def test_a_command_naming_no_instance_is_bad_input_naming_the_fields(stack: Stack) -> None:
    with pytest.raises(BadInput) as caught:
        stack.runtime.engine.command("toy", "archive", cause=Cause(kind="operator"), dedupe_key="k")
    assert not isinstance(caught.value, InstanceNotFound)
    assert caught.value.http_status == 422
    assert "instance_id" in str(caught.value) and "business_key" in str(caught.value)


CAUSE = {"kind": "event", "id": "m"}


@pytest.mark.parametrize(
    ("command", "named"),
    [
        ({"flow": "toy", "trigger": "decide", "instance_id": 1, "cause": CAUSE}, "dedupe_key"),
        ({"flow": "toy", "trigger": "archive", "cause": CAUSE, "dedupe_key": "m"}, "instance_id"),
        (
            {"flow": "toy", "trigger": "archive", "instance_id": "one", "cause": CAUSE, "dedupe_key": "m"},
            "instance_id",
        ),
    ],
    ids=["no dedupe key", "no instance", "instance id not a number"],
)
def test_a_malformed_message_is_dead_lettered_at_once_naming_the_field(
    stack_kind: str, tmp_path: Path, command: dict[str, Any], named: str
) -> None:
    with running_stack(stack_kind, tmp_path, max_retries=5) as stack:  # retries allowed, none used
        message = Pending("00000000-0000-4000-8000-0000000bad01", "toy", "toy.advance", command)
        with stack.runtime.transaction() as session:
            stack.runtime.engine.write_messages(session, [message])
        wait_until(lambda: len(list_dead(stack.runtime.db)) == 1, what="the malformed command's dead letter")
        (dead,) = list_dead(stack.runtime.db)
        assert (dead.actor, dead.attempts, dead.message["args"][0]) == ("toy.advance", 1, command)
        assert "InvalidCommand" in dead.error_line and named in dead.error_line, dead.error
        assert dead.as_json()["error"] == dead.error_line
