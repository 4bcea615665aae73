"""A real webhook receiver on loopback for the tests: an http.server in a thread that checks every delivery with
the Standard Webhooks reference library (`standardwebhooks.Webhook(secret).verify`), refuses a webhook-id it has
already accepted (a replay), and records what it accepted and what it refused and why."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    message_id: str
    timestamp: str
    body: bytes
    headers: dict[str, str]
    payload: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.payload["type"])

    @property
    def data(self) -> dict[str, Any]:
        return self.payload["data"]  # type: ignore[no-any-return]


@dataclass
class Receiver:
    """Start with `start()` (port 0: any free one, or a given port to come back on), stop with `stop()`."""

    secret: str | None = None
    port: int = 0
    answer: int | None = None  # answer every request with this status, without looking (a broken receiver)
    accepted: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/lms"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {key.lower(): value for key, value in self.headers.items()}
                status, text = receiver.receive(self.path, headers, body)
                encoded = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def receive(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        with self._lock:
            self.requests.append((headers, body))
            if self.answer is not None:
                return self.answer, "broken on purpose"
            if path != "/hooks/lms":
                return 404, "no such hook"
            assert self.secret, "the test did not give the receiver its secret"
            try:
                payload = Webhook(self.secret).verify(body, headers)
            except WebhookVerificationError as error:
                self.refused.append(str(error))
                return 400, f"refused: {error}"
            message_id = headers["webhook-id"]
            if any(seen.message_id == message_id for seen in self.accepted):
                self.refused.append(f"replayed {message_id}")
                return 409, "already received"
            self.accepted.append(Received(message_id, headers["webhook-timestamp"], body, headers, payload))
            return 204, ""

    def of_type(self, event_type: str) -> list[Received]:
        return [received for received in self.accepted if received.type == event_type]
