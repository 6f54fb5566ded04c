"""The simulator as a real HTTP server, for a runner in another process.

`serve` loads the study, plans it and serves its faces on 127.0.0.1 (X, and Mastodon and
Bluesky when its targets use them; `probes.sim.dispatch`), writing `DIR/sim/port`. A study
without `[channels.x]` gets no X face: paths no face owns are answered 404.
Its clock is held at the start time until the first request arrives; from then on virtual
time runs `speed` times faster than real time. The clock's anchor is written to
`DIR/sim/clock.json` at that moment and served at `GET /__sim/clock`: a runner in another
process that reads it computes the same virtual time.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType

import httpx

from probes.sim.dispatch import Dispatch, dispatch_for
from probes.sim.faults import HUGE_BYTES, Decision, Fault, Faults, HugeStream, answer
from probes.sim.ledger import Ledger
from probes.sim.profiles import study_settings
from probes.sim.x.face import XPlatform
from study.atomic import write_atomic
from study.clock import ClockAnchor, HeldClock, SystemClock
from study.paths import ledger_path, sim_dir

CLOCK_PATH = "/__sim/clock"
_HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "keep-alive"}


@dataclass
class RunningSimulator:
    """A simulator serving in a background thread; `stop()` ends it and closes the ledger."""

    port: int
    platform: XPlatform | None  # the X face; None for a study without [channels.x]
    clock: HeldClock
    faults: Faults
    _server: ThreadingHTTPServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    routes: Dispatch = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def anchor(self) -> ClockAnchor:
        """The running clock's anchor (starting the clock if no client has yet)."""
        return self.clock.release()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self.routes.close()


def serve(
    study_dir: Path,
    port: int,
    *,
    speed: float = 1.0,
    faults: float = 0.0,
    start: datetime | None = None,
    ready: Callable[[int], None] | None = None,
    lenient: bool = False,
) -> None:
    """Serve the study's simulator on 127.0.0.1:`port` (0 picks one) until SIGINT/SIGTERM.

    `ready(port)` is called once it serves. Signals are caught only in the main thread;
    elsewhere (tests) use `start_background` or `running`, which can be stopped.
    """
    stopping = threading.Event()
    previous: dict[signal.Signals, Callable[[int, FrameType | None], object] | int | None] = {}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        sim = start_background(
            study_dir, port=port, speed=speed, faults=faults, start=start, lenient=lenient
        )
        try:
            print(
                f"simulator: {sim.url}  speed x{speed:g}  faults {faults:g}  "
                f"ledger {ledger_path(study_dir)}",
                file=sys.stderr,
                flush=True,
            )
            if ready is not None:
                ready(sim.port)
            while not stopping.wait(0.1):
                pass
        finally:
            sim.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def start_background(
    study_dir: Path,
    *,
    port: int = 0,
    speed: float = 1.0,
    faults: float = 0.0,
    start: datetime | None = None,
    fault_weights: Mapping[Fault, float] | None = None,
    lenient: bool = False,
) -> RunningSimulator:
    """Load and plan the study, then serve its simulator from a background thread.
    `fault_weights` picks the kinds of faults (probes.sim.faults.HOSTILE for a hostile
    server's); `lenient` turns the platforms' rules off (rate limits, duplicate content)."""
    from study.load import load_study
    from study.plan import make_plan

    study = load_study(study_dir)
    # simulator.toml is checked before anything is written: a bad one leaves no sim/ folder.
    seed = study_settings(study).seed
    if start is None:
        plan = make_plan(study)
        first = min((p.slot_start_at for p in plan), default=SystemClock().now())
        start = first - timedelta(hours=1)
    folder = sim_dir(study_dir)
    (folder / "clock.json").unlink(missing_ok=True)
    # Virtual time stands at `start` until the first request, then runs `speed` times faster:
    # the seconds a runner takes to start cost no virtual hours. clock.json appears then.
    clock = HeldClock(start, speed, lambda a: write_atomic(folder / "clock.json", a.to_json()))
    ledger = Ledger(ledger_path(study_dir))
    routes = dispatch_for(study, clock, ledger, lenient=lenient)
    injected = Faults(faults, seed, weights=fault_weights)
    sim = serve_platform(routes, clock, injected, port=port)
    write_atomic(folder / "port", f"{sim.port}\n")
    return sim


def serve_platform(
    platform: XPlatform | Dispatch,
    clock: HeldClock | ClockAnchor,
    faults: Faults,
    *,
    port: int = 0,
) -> RunningSimulator:
    """Serve an already built X face, or the faces of `probes.sim.dispatch.dispatch_for`, on
    127.0.0.1 from a background thread. `clock` is the faces' held clock (released by the
    first request) or the anchor of a running one."""
    if isinstance(clock, ClockAnchor):
        clock = HeldClock.running(clock)
    routes = platform if isinstance(platform, Dispatch) else Dispatch(platform)
    x = routes.fallback if isinstance(routes.fallback, XPlatform) else None
    server = _Server(("127.0.0.1", port), routes, clock, faults)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="simulator", daemon=True
    )
    thread.start()
    return RunningSimulator(server.server_address[1], x, clock, faults, server, thread, routes)


@contextlib.contextmanager
def running(
    study_dir: Path,
    *,
    port: int = 0,
    speed: float = 1.0,
    faults: float = 0.0,
    start: datetime | None = None,
    lenient: bool = False,
) -> Iterator[RunningSimulator]:
    """`with running(DIR) as sim:` a simulator in the background, stopped on exit."""
    sim = start_background(
        study_dir, port=port, speed=speed, faults=faults, start=start, lenient=lenient
    )
    try:
        yield sim
    finally:
        sim.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        platform: Dispatch,
        clock: HeldClock,
        faults: Faults,
    ) -> None:
        self.platform = platform
        self.clock = clock
        self.faults = faults
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    """Turns each HTTP request into an `httpx.Request` for the platform, faults applied."""

    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle's algorithm on, the second waits for
    # the client's delayed ACK: 40 ms a request, hours of virtual time at demo speeds.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line at start is the simulator's whole log; the ledger says the rest

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header on the simulator's clock, as a platform's is on its own.
        return formatdate(self.server.clock.now().timestamp(), usegmt=True)

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        anchor = self.server.clock.release()  # the first request starts virtual time
        if self.command == "GET" and self.path.split("?")[0] == CLOCK_PATH:
            self._send(httpx.Response(200, text=anchor.to_json()), Decision(Fault.NONE))
            return
        request = httpx.Request(
            self.command,
            f"http://{self.headers.get('host') or '127.0.0.1'}{self.path}",
            headers=[(k, v) for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP],
            content=body,
        )
        decision: Decision = self.server.faults.next(self.command)
        try:
            response = answer(self.server.platform, request, decision)
        except httpx.RemoteProtocolError:
            # Close without a word: the client sees the connection drop.
            self.close_connection = True
            return
        try:
            self._send(response, decision)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up reading (HUGE, DRIP)

    def _send(self, response: httpx.Response, decision: Decision) -> None:
        huge = decision.fault is Fault.HUGE
        content = b"" if huge else response.content
        self.send_response(200 if huge else response.status_code)
        for key, value in response.headers.multi_items():
            if key.lower() not in _HOP_BY_HOP:
                self.send_header(key, value)
        if huge:  # no length: the body runs until the connection closes
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if huge:
            self._write_huge()
        elif decision.fault is Fault.DRIP:
            for i in range(len(content)):
                self.wfile.write(content[i : i + 1])
                self.wfile.flush()
                time.sleep(decision.delay)
        else:
            self.wfile.write(content)

    def _write_huge(self) -> None:
        chunk = b" " * HugeStream.CHUNK
        for _ in range(HUGE_BYTES // len(chunk)):
            self.wfile.write(chunk)
            self.server.faults.huge_bytes_sent += len(chunk)
