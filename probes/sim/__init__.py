"""The built-in simulator of the X API v2: a stateful fake platform with brand bots.

In-process (tests): `httpx.MockTransport(XPlatform(study, clock).handle)`, or
`faulty(platform, Faults(rate, seed))` for failures. As a server for a runner in another
process: `serve(study_dir, port, speed=..., faults=...)` (`replybench sim`), or
`start_background(...)` / `running(...)` in tests. See docs/simulator.md.
"""

from probes.sim.faults import Fault, Faults, faulty
from probes.sim.ledger import Ledger, read_ledger
from probes.sim.profiles import Profile, ServiceHours, SimSettings, load_settings
from probes.sim.server import (
    RunningSimulator,
    running,
    serve,
    serve_platform,
    start_background,
)
from probes.sim.x.brands import probe_index
from probes.sim.x.face import XPlatform

__all__ = [
    "Fault",
    "Faults",
    "Ledger",
    "Profile",
    "RunningSimulator",
    "ServiceHours",
    "SimSettings",
    "XPlatform",
    "faulty",
    "load_settings",
    "probe_index",
    "read_ledger",
    "running",
    "serve",
    "serve_platform",
    "start_background",
]
