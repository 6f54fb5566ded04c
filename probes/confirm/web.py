"""The confirmation page (`replybench run --confirm`): a local web page on which a person sees
what is due now and next and presses confirm or skip.

It is served on 127.0.0.1 only, on a port the runner prints, under a random token
(`http://127.0.0.1:PORT/TOKEN/`): another user of the machine can reach the port but cannot
guess the path, so cannot press send. A request for another host name is refused (a web page
elsewhere cannot rebind a name of its own to 127.0.0.1 and reach it), and so is a decision
not sent as JSON by the page itself (a form on another site cannot send JSON without asking
first). The page fills itself from `state` with `textContent`, never as HTML, so a brand's
name or a handle cannot inject markup; its content security policy allows no other script.
It polls every few seconds, so it can stay open for the weeks of a campaign.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from typing import Any

from probes.confirm.queue import ConfirmationQueue, Decision
from study.clock import Clock

ASSETS = {"": "text/html", "page.js": "text/javascript", "page.css": "text/css"}
FILES = {"": "page.html", "page.js": "page.js", "page.css": "page.css"}
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
MAX_BODY = 4096


@dataclass
class ConfirmPage:
    """The page's server, running on its own thread until `stop()`."""

    queue: ConfirmationQueue
    clock: Clock
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the page first"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.token}/"

    def start(self, port: int = 0) -> ConfirmPage:
        """Serve on 127.0.0.1:`port` (0: a free port the system picks)."""
        page = self

        class Handler(_Handler):
            owner = page

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, name="confirm-page", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    owner: ConfirmPage
    server_version = "replybench-confirm"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the runner's own log says what happens (and the token stays out of logs)."""

    def _asset(self) -> str | None:
        """The asset a request's path names under the token, or None (a wrong token too)."""
        token, _, rest = self.path.partition("?")[0].lstrip("/").partition("/")
        if not hmac.compare_digest(token.encode(), self.owner.token.encode()):
            return None
        return rest

    def _refuse(self, status: int, message: str) -> None:
        self._send(status, "text/plain", message.encode("utf-8"))

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Security-Policy", POLICY)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        self.wfile.write(body)

    def _own_host(self) -> bool:
        host = self.headers.get("Host", "")
        return host in (f"127.0.0.1:{self.owner.port}", f"localhost:{self.owner.port}")

    def do_GET(self) -> None:
        rest = self._asset()
        if not self._own_host() or rest is None:
            return self._refuse(404, "not found")
        if rest == "state":
            state = self.owner.queue.state(self.owner.clock.now())
            return self._send(200, "application/json", json.dumps(state).encode("utf-8"))
        if rest not in FILES:
            return self._refuse(404, "not found")
        body = files("probes.confirm").joinpath(FILES[rest]).read_bytes()
        return self._send(200, ASSETS[rest], body)

    def do_POST(self) -> None:
        rest = self._asset()
        if not self._own_host() or rest != "decide":
            return self._refuse(404, "not found")
        origin = self.headers.get("Origin")
        if origin is not None and origin != f"http://{self.headers.get('Host')}":
            return self._refuse(403, "refused: the request came from another site")
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return self._refuse(415, "refused: send the decision as application/json")
        size = int(self.headers.get("Content-Length") or 0)
        if not 0 < size <= MAX_BODY:
            return self._refuse(400, "refused: no decision, or too long a one")
        try:
            asked = json.loads(self.rfile.read(size))
            probe_id, decision = str(asked["probe_id"]), Decision(asked["decision"])
        except (ValueError, KeyError, TypeError):
            return self._refuse(400, 'refused: send {"probe_id": ..., "decision": "confirm"}')
        why = self.owner.queue.decide(probe_id, decision, self.owner.clock.now())
        answer = {"ok": why is None, "message": why or f"{decision.value}: {probe_id}"}
        self._send(200 if why is None else 409, "application/json", json.dumps(answer).encode())
