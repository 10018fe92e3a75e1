"""A local fake of an outside HTTP API: a real HTTP server on 127.0.0.1 in a thread.

Each fake (a shop platform's: shops/tests/fakes/<platform>.py; the email services':
campaigns/tests/email_service_fakes.py) subclasses FakeHTTPAPI and answers the documented
endpoints, from its own in-memory data. The base adds the faults the outside services
document, injected per test:
- `fail_next(status, times=1, retry_after=None)`: the next requests answer `status` (429 with
  Retry-After, 500, 502, 503...);
- `slow_next(seconds, times=1)`: the next answers come late (timeouts);
- `expire_credentials()`: every request from now on is refused as the platform refuses
  expired or revoked credentials (the subclass's `auth_refused` answer);
- `requests`: every request received (method, path, query, headers), to assert on.
"""
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class FakeRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""

    def param(self, name: str, default: str = "") -> str:
        return self.query.get(name, [default])[0]

    def header(self, name: str, default: str = "") -> str:
        return {key.lower(): value for key, value in self.headers.items()}.get(
            name.lower(), default)


@dataclass
class FakeAnswer:
    status: int = 200
    body: Any = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)


class FakeHTTPAPI:
    """Start with `with FakeWoo() as api:` (or .start()/.stop()); `api.base_url`."""

    def __init__(self) -> None:
        self.requests: list[FakeRequest] = []
        self._faults: deque[tuple[str, Any]] = deque()
        self.credentials_expired = False
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- what a platform's fake implements --------------------------------------------------

    def handle(self, request: FakeRequest) -> FakeAnswer:
        raise NotImplementedError

    def authorised(self, request: FakeRequest) -> bool:
        """Whether the request carries the credentials this fake was set up with."""
        return True

    def auth_refused(self, request: FakeRequest) -> FakeAnswer:
        return FakeAnswer(401, {"errors": "[API] Invalid API key or access token"})

    # --- faults --------------------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None,
                  body: Any = None) -> None:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        for _ in range(times):
            self._faults.append(("fail", FakeAnswer(status, body or {"error": "fault"},
                                                    headers)))

    def slow_next(self, seconds: float, times: int = 1) -> None:
        for _ in range(times):
            self._faults.append(("slow", seconds))

    def expire_credentials(self) -> None:
        self.credentials_expired = True

    # --- the server ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeHTTPAPI":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet test output
                pass

            def _any(self) -> None:
                fake._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeHTTPAPI":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        request = FakeRequest(handler.command, parts.path, parse_qs(parts.query),
                              dict(handler.headers.items()),
                              handler.rfile.read(length) if length else b"")
        with self._lock:
            self.requests.append(request)
            fault = self._faults.popleft() if self._faults else None
        if fault and fault[0] == "slow":
            time.sleep(fault[1])
            fault = None
        if fault:
            answer = fault[1]
        elif self.credentials_expired or not self.authorised(request):
            answer = self.auth_refused(request)
        else:
            answer = self.handle(request)
        body = answer.body if isinstance(answer.body, bytes) else json.dumps(
            answer.body).encode()
        try:
            handler.send_response(answer.status)
            headers = {"Content-Type": "application/json; charset=utf-8", **answer.headers}
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            pass
