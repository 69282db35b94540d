from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.support import Stack, running_stack, wait_until
from workflows.api.app import create_app
from workflows.intake import tokens


@dataclass
class Api:
    stack: Stack
    url: str
    admin: str
    operator: str
    source: str  # may emit toy.submitted only

    def client(self, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # running in a thread
        pass


def serve(stack: Stack) -> Iterator[Api]:
    rt = stack.runtime
    made = {
        kind: tokens.create(
            rt.db,
            rt.clock,
            f"test-{kind}",
            kind,  # type: ignore[arg-type]
            types,
            sources=["/s"] if kind == "source" else None,
        )
        for kind, types in (("admin", ["*"]), ("operator", []), ("source", ["toy.submitted"]))
    }
    port = free_port()
    server = Server(uvicorn.Config(create_app(rt), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 20, "the API server to start")
    try:
        yield Api(stack, f"http://127.0.0.1:{port}", made["admin"], made["operator"], made["source"])
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def api(stack_kind: str, tmp_path: Path) -> Iterator[Api]:
    with running_stack(stack_kind, tmp_path) as stack:
        yield from serve(stack)
