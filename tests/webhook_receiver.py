"""A fake webhook receiver on 127.0.0.1 (the edge of the world): per delivery id it answers 500 to the
first ``failures`` POSTs, then 200, and keeps what it accepted."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DELIVERY_HEADER = "X-Yunshang-Delivery"


@dataclass
class Receiver:
    failures: int
    url: str = ""
    attempts: Counter[str] = field(default_factory=Counter)  # per delivery id
    accepted: list[tuple[str, bytes, Message]] = field(default_factory=list)  # (delivery id, body, headers)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def requests(self) -> int:
        return sum(self.attempts.values())


@contextmanager
def receiver(failures: int = 2) -> Iterator[Receiver]:
    state = Receiver(failures)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            delivery = self.headers.get(DELIVERY_HEADER, "")
            with state.lock:
                state.attempts[delivery] += 1
                ok = state.attempts[delivery] > state.failures
                if ok:
                    state.accepted.append((delivery, body, self.headers))
            self.send_response(200 if ok else 500)
            self.end_headers()
            self.wfile.write(b"ok" if ok else b"busy, try again")

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/yunshang"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
