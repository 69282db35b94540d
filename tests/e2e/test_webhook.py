"""The webhook channel end to end: a receiver on 127.0.0.1 that answers 500 twice to every push, then
200, gets each push exactly once, signed with HMAC-SHA256 over the exact body."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.e2e.conftest import PHARMACY, e2e_stack

SECRET = "e2e-webhook-secret-双告知"


@dataclass
class Receiver:
    """Per delivery id (``X-Yunshang-Delivery``): 500 to the first two POSTs, then 200."""

    url: str = ""
    attempts: Counter[str] = field(default_factory=Counter)
    accepted: list[tuple[str, bytes, str]] = field(default_factory=list)  # (delivery id, body, signature)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def receiver(failures: int = 2) -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            delivery = self.headers.get("X-Yunshang-Delivery", "")
            with state.lock:
                state.attempts[delivery] += 1
                ok = state.attempts[delivery] > failures
                if ok:
                    state.accepted.append((delivery, body, self.headers.get("X-Yunshang-Signature", "")))
            self.send_response(200 if ok else 500)
            self.end_headers()
            self.wfile.write(b"ok" if ok else b"busy, try again")

        def log_message(self, format: str, *args: object) -> None:
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


def signature(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_a_receiver_failing_twice_then_succeeding_gets_each_push_exactly_once(
    stack_kind: str, tmp_path: Path
) -> None:
    settings = dict(
        webhook_secret=SECRET, webhook_max_attempts=5, webhook_min_backoff_ms=10, webhook_max_backoff_ms=50
    )
    with receiver() as hook, e2e_stack(stack_kind, tmp_path, webhook_url=hook.url, **settings) as e2e:
        e2e.license(PHARMACY, "青岛崂山仁心大药房有限公司", "药品零售")
        e2e.stack.settle()

        rows = e2e.deliveries()
        assert sorted((d.kind, d.recipient) for d in rows) == [
            ("notice", "SCJG_YP/notice_handler"),
            ("reminder", f"enterprise/{PHARMACY}"),
        ]
        for row in rows:
            assert (row.channel, row.status, row.attempts, row.last_error) == ("webhook", "sent", 3, None)
            assert row.sent_at is not None
        assert dict(hook.attempts) == {row.dedupe_key: 3 for row in rows}
        assert sorted(d for d, _, _ in hook.accepted) == sorted(row.dedupe_key for row in rows)

        by_id = {row.dedupe_key: row for row in rows}
        for delivery, body, signed in hook.accepted:
            assert hmac.compare_digest(signed, signature(body))
            assert not hmac.compare_digest(
                signed, "sha256=" + hmac.new(b"wrong", body, hashlib.sha256).hexdigest()
            )
            message = json.loads(body)
            assert message == by_id[delivery].payload  # what was recorded is what was sent
            assert (message["id"], message["instance_id"]) == (delivery, by_id[delivery].instance_id)
        [notice] = [json.loads(b) for _, b, _ in hook.accepted if json.loads(b)["kind"] == "notice"]
        assert (notice["recipient"]["code"], notice["recipient"]["role"], notice["data"]["permit"]) == (
            "SCJG_YP",
            "notice_handler",
            "DRUG_RETAIL",
        )
        assert notice["flow"] == "dual_notification"
