"""The simulator over real HTTP on loopback: the X face, the clock endpoint, dropped
connections, the files a runner in another process reads, and a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from probes.channels.x.credentials import sim_auth
from probes.sim.faults import Fault, Faults
from probes.sim.ledger import read_ledger
from probes.sim.server import RunningSimulator, running, serve_platform
from probes.sim.x.face import XPlatform
from study.clock import ClockAnchor, ScaledClock, anchor_now
from tests.probes.test_sim_platform import START, small_study

AUTH = sim_auth()  # the enforcing simulator checks OAuth 1.0a signatures


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    anchor = anchor_now(START, speed=60)
    platform = XPlatform(small_study(), ScaledClock(anchor), bots=False)
    running_sim = serve_platform(platform, anchor, Faults(0.0, 1))
    yield running_sim
    running_sim.stop()


def test_a_real_request_on_loopback(sim: RunningSimulator) -> None:
    with httpx.Client(base_url=sim.url, auth=AUTH, timeout=5) as c:
        me = c.get("/2/users/me")
        assert me.status_code == 200 and me.json()["data"]["username"] == "probe_acct"
        assert me.headers["x-rate-limit-limit"] == "75"
        created = c.post("/2/tweets", json={"text": "@Acme_DE über alles?"})
        assert created.status_code == 201
        assert created.json()["data"]["text"] == "@Acme_DE über alles?"
        assert created.headers["location"].startswith(sim.url)
        assert c.get("/2/users/me", auth=None).status_code == 401


def test_the_clock_endpoint_gives_the_anchor(sim: RunningSimulator) -> None:
    with httpx.Client(base_url=sim.url, timeout=5) as c:
        anchor = ClockAnchor.from_json(c.get("/__sim/clock").text)
    assert anchor == sim.anchor
    # The anchor itself, not the virtual time now: how far that has run depends on how long a
    # busy machine took to get here.
    assert (anchor.virtual_start, anchor.speed) == (START, 60)
    assert ScaledClock(anchor).now() >= START


def test_a_dropped_connection_is_a_protocol_error(sim: RunningSimulator) -> None:
    probe = Faults(1.0, 1)
    first_drop = next(i for i in range(1000) if probe.next("GET").fault is Fault.DROP)
    sim.faults.rate = 1.0
    sim.faults.count = first_drop
    with httpx.Client(base_url=sim.url, auth=AUTH, timeout=5) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.get("/2/users/me")
        sim.faults.rate = 0.0
        assert c.get("/2/users/me").status_code == 200  # the next connection is fine


def test_running_a_study_folder_writes_what_a_runner_reads(example_copy: Path) -> None:
    from study.load import load_study
    from study.plan import make_plan

    plan = make_plan(load_study(example_copy))
    with running(example_copy, speed=100) as sim:
        folder = example_copy / "sim"
        assert int((folder / "port").read_text()) == sim.port
        # The clock is held until the first request: no anchor yet, and time stands still.
        assert not (folder / "clock.json").exists()
        assert sim.platform.clock.now() == min(p.slot_start_at for p in plan) - timedelta(hours=1)
        with httpx.Client(base_url=sim.url, timeout=5) as c:
            served = ClockAnchor.from_json(c.get("/__sim/clock").text)
        anchor = ClockAnchor.read(folder / "clock.json")
        assert anchor == sim.anchor == served
        assert anchor.virtual_start == min(p.slot_start_at for p in plan) - timedelta(hours=1)
        with httpx.Client(base_url=sim.url, auth=AUTH, timeout=5) as c:
            assert c.post("/2/tweets", json={"text": plan[0].text}).status_code == 201
    [entry] = read_ledger(folder / "ledger.jsonl")
    assert entry["text"] == plan[0].text and entry["role"] == "probe"


@pytest.mark.slow
def test_serve_stops_cleanly_on_sigterm(example_copy: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from probes.sim.server import serve; "
        "serve(Path(sys.argv[1]), 0, speed=60, faults=0.1)"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(example_copy)],
        stderr=subprocess.PIPE,
        env=env,
        cwd=root,
    )
    port_file = example_copy / "sim" / "port"
    try:
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert proc.poll() is None, "the simulator died"
            assert time.monotonic() < deadline, "the simulator did not start"
            time.sleep(0.05)
        port = int(port_file.read_text())
        clock = httpx.get(f"http://127.0.0.1:{port}/__sim/clock", timeout=5)
        assert ClockAnchor.from_json(clock.text).speed == 60
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    [line] = err.decode().strip().splitlines()
    assert line.startswith(f"simulator: http://127.0.0.1:{port}  speed x60  faults 0.1  ledger ")
