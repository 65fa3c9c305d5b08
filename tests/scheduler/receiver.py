"""A real webhook receiver that can kill -9 the process posting to it.

Apprise ``json://host:port/path`` posts ``{"title", "message", "type", ...}``.
Each request is answered by a thread of a stdlib ``ThreadingHTTPServer``.
The sender is the process that owns the client end of the TCP connection
(found with psutil from the request's source port), so the receiver can kill
it at two exact points of a delivery:

- ``before_answer``: while it holds the request, before any answer. The
  channel never accepted this message, so it is *not* counted as received.
- ``after_answer``: right after the 200 answer is written and flushed, so
  the channel accepted it but the sender has not recorded that: the
  documented at-least-once window.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from procs import kill9, socket_owner


@dataclass(frozen=True)
class Delivery:
    """One request: where, what, and what became of it."""

    path: str
    title: str
    body: str
    #: ``accepted`` (answered 200), ``killed_before_answer`` or ``accepted_then_killed``.
    outcome: str
    sender_pid: int | None


#: Decides, per request (path, title, sender pid), ``None`` or a kill point.
Plan = Callable[[str, str, int | None], str | None]


class Receiver:
    """Loopback webhook receiver; ``deliveries`` lists every request in arrival order."""

    def __init__(self, plan: Plan | None = None) -> None:
        self.plan = plan
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def accepted(self) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.outcome != "killed_before_answer"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        payload = json.loads(handler.rfile.read(length) or b"{}")
        title, body = str(payload.get("title", "")), str(payload.get("message", ""))
        pid = socket_owner(int(handler.client_address[1]), self.port)
        point = self.plan(handler.path, title, pid) if self.plan is not None else None
        if point == "before_answer" and pid is not None:
            kill9(pid)
            self._record(Delivery(handler.path, title, body, "killed_before_answer", pid))
            handler.close_connection = True
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"ok")
        handler.wfile.flush()
        if point == "after_answer" and pid is not None:
            kill9(pid)
            self._record(Delivery(handler.path, title, body, "accepted_then_killed", pid))
            return
        self._record(Delivery(handler.path, title, body, "accepted", pid))

    def _record(self, delivery: Delivery) -> None:
        with self._lock:
            self.deliveries.append(delivery)
