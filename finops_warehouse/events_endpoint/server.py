"""The HTTP side of `finops serve-events`: routes, bearer-token auth, limits, one log line per request."""

from __future__ import annotations

import hmac
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from finops_warehouse.events_endpoint.batch import BatchRejected, parse_batch
from finops_warehouse.events_endpoint.landing import Landing

TOKEN_ENV = "FINOPS_EVENTS_TOKEN"
TOKEN_FILE = "events_token"
DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_EVENTS = 10_000
MAX_KEY_LENGTH = 255
# A client that stops sending mid-request frees its thread after this, and cannot hold up a shutdown.
REQUEST_TIMEOUT_SECONDS = 30
ROUTES = {"/events": ("POST",), "/health": ("GET",)}

log = logging.getLogger("finops.serve_events")


class NoToken(ValueError):
    """The server has no token to check requests against, so it does not start."""


@dataclass(frozen=True)
class Settings:
    landing: Path
    token: str = field(repr=False)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_events: int = DEFAULT_MAX_EVENTS


@dataclass(frozen=True)
class Response:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    events: int = 0


def events_token(secrets_dir: Path) -> str:
    """FINOPS_EVENTS_TOKEN, else the first line of `<secrets_dir>/events_token`; never generated."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        return token
    token_file = secrets_dir / TOKEN_FILE
    if token_file.is_file():
        token = token_file.read_text().strip()
        if token:
            return token
    raise NoToken(f"no events token: set {TOKEN_ENV} or write one to {token_file} (e.g. openssl rand -hex 32)")


class EventsServer(ThreadingHTTPServer):
    """One thread per request; closing waits for the requests in flight (ThreadingHTTPServer would not)."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], settings: Settings) -> None:
        self.settings = settings
        self.landing = Landing(settings.landing)
        super().__init__(address, EventsHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class EventsHandler(BaseHTTPRequestHandler):
    server: EventsServer
    timeout = REQUEST_TIMEOUT_SECONDS
    server_version = "finops-serve-events"
    sys_version = ""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        # The default line would go to stderr unformatted; `_handle` logs one line of its own per request.
        return

    def _handle(self, method: str) -> None:
        started = time.monotonic()
        path = urlsplit(self.path).path
        response = self._route(method, path)
        self._send(response)
        elapsed_ms = (time.monotonic() - started) * 1000
        # Never the body, the token or the key: the line says what happened, not what was sent.
        log.info("%s %s %d events=%d %.1fms", method, path, response.status, response.events, elapsed_ms)

    def _route(self, method: str, path: str) -> Response:
        if path not in ROUTES:
            return self._early(Response(404, {"error": f"no such path: {path} (POST /events, GET /health)"}))
        if method not in ROUTES[path]:
            allowed = ", ".join(ROUTES[path])
            return self._early(Response(405, {"error": f"{method} not allowed on {path}"}, {"Allow": allowed}))
        if path == "/health":
            return Response(200, {"status": "ok"})
        return self._post_events()

    def _post_events(self) -> Response:
        if not self._authorised():
            challenge = {"WWW-Authenticate": 'Bearer realm="finops-events"'}
            return self._early(Response(401, {"error": "missing or wrong bearer token"}, challenge))
        if self.headers.get_content_type() != "application/json":
            found = self.headers.get("Content-Type", "none")
            return self._early(Response(415, {"error": f"Content-Type must be application/json, not {found}"}))
        length = self._content_length()
        if isinstance(length, Response):
            return self._early(length)
        limit = self.server.settings.max_body_bytes
        if length > limit:
            return self._early(Response(413, {"error": f"body of {length} bytes is over the limit of {limit}"}))
        body = self.rfile.read(length)
        if len(body) < length:
            return Response(400, {"error": f"body ended after {len(body)} of {length} bytes"})
        key = self.headers.get("Idempotency-Key")
        if key is not None and not 0 < len(key.strip()) <= MAX_KEY_LENGTH:
            return Response(400, {"error": f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters"})
        return self._accept(body, key)

    def _accept(self, body: bytes, key: str | None) -> Response:
        try:
            batch = parse_batch(body, self.server.settings.max_events)
            receipt = self.server.landing.accept(batch.events, key or batch.batch_id)
        except BatchRejected as rejected:
            return Response(rejected.status, rejected.body())
        except OSError as exc:
            log.error("cannot write to the landing folder: %s", exc.strerror or exc)
            return Response(503, {"error": "the batch could not be written; nothing was accepted, retry later"})
        headers = {"Idempotent-Replayed": "true"} if receipt.replayed else {}
        return Response(202, receipt.body(), headers, receipt.accepted)

    def _authorised(self) -> bool:
        scheme, _, supplied = self.headers.get("Authorization", "").partition(" ")
        expected = self.server.settings.token
        # compare_digest takes as long for a near miss as for a wild guess: no timing hints about the token.
        return scheme.lower() == "bearer" and hmac.compare_digest(supplied.strip().encode(), expected.encode())

    def _content_length(self) -> int | Response:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return Response(411, {"error": "chunked bodies are not accepted; send Content-Length"})
        declared = self.headers.get("Content-Length")
        if declared is None:
            return Response(411, {"error": "Content-Length is required"})
        if not declared.isdigit():
            return Response(400, {"error": f"Content-Length is not a number: {declared}"})
        return int(declared)

    def _early(self, response: Response) -> Response:
        """Read and drop a body we will not use, so the client gets our answer instead of a reset connection.

        Closing a socket with unread data makes the kernel reset it, and the client may lose the response.
        Bodies far over the limit are not read: answering and closing is cheaper than reading gigabytes.
        """
        declared = self.headers.get("Content-Length", "")
        remaining = int(declared) if declared.isdigit() else 0
        if remaining <= 4 * self.server.settings.max_body_bytes:
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 1 << 16))
                if not chunk:
                    break
                remaining -= len(chunk)
        return response

    def _send(self, response: Response) -> None:
        payload = json.dumps(response.body).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def log_to_stderr() -> None:
    """One timestamped line per request on stderr, unbuffered, for a terminal or a process supervisor."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def serve(settings: Settings, host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT, then stop accepting and finish the requests in flight."""
    server = EventsServer((host, port), settings)

    def stop(signum: int, _frame: object) -> None:
        log.info("%s: finishing requests in flight, then stopping", signal.Signals(signum).name)
        # shutdown() waits for serve_forever to return, which runs on this (the main) thread: ask from another.
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        log.info("serving events on %s/events, landing in %s (Ctrl-C to stop)", server.url, settings.landing)
        server.serve_forever()
    finally:
        server.server_close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
