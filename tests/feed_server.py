"""A local feed server whose routes answer from a script, for fetch and ingest tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """One scripted response. Without Content-Length the body ends when the connection closes."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_length: bool = True
    # Seconds between bytes of the body: a server that drips its answer.
    drip: float = 0.0


Script = list[Reply] | Callable[[dict[str, str]], Reply]


class FeedServer:
    """A ThreadingHTTPServer whose routes answer from a script and record each request."""

    def __init__(self) -> None:
        self.routes: dict[str, Script] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._guard = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def _next_reply(self, path: str, headers: dict[str, str]) -> Reply:
        script = self.routes.get(path)
        if script is None:
            return Reply(404, b"no such route")
        if callable(script):
            return script(headers)
        # The last reply repeats, so a script of one answers every request.
        return script.pop(0) if len(script) > 1 else script[0]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                with server._guard:
                    server.requests.append((self.path, headers))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    reply = server._next_reply(self.path, headers)
                    time.sleep(reply.delay)
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    if reply.content_length:
                        self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if reply.status != 304 and reply.drip:
                        for byte in reply.body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(reply.drip)
                    elif reply.status != 304:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout or size limit), as the test intends
                finally:
                    with server._guard:
                        server.in_flight -= 1

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
