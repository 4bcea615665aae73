"""A real webhook receiver on loopback for the tests: an http.server in a thread that checks every delivery with
the Standard Webhooks reference library (`standardwebhooks.Webhook(secret).verify`), refuses a webhook-id it has
already accepted (a replay), and records what it accepted and what it refused and why."""

from __future__ import annotations

import ssl
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
    location: str | None = None  # with `answer`, a Location header (a redirect)
    tls: ssl.SSLContext | None = None  # serve https (at https://localhost:PORT) with this server context
    accepted: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        if self.tls is not None:
            return f"https://localhost:{self.port}/hooks/lms"
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
                if receiver.answer is not None and receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
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


def self_signed(tmp_path: Any, name: str) -> tuple[ssl.SSLContext, str]:
    """A TLS server context with a self-signed certificate for the DNS name `name`, and the certificate's PEM file
    (to trust it as a certificate authority)."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, str(cert_file)
