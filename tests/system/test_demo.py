"""`monitor demo`: the story a newcomer sees, run fast."""

from __future__ import annotations

import os
import subprocess
import sys


def test_the_demo_shows_slots_an_anomaly_and_an_assisted_session_then_stops_by_itself() -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    done = subprocess.run(
        # The story's last step is at 20 intervals; the site's recovery then needs two
        # healthy probes of a legacy target whose four neighbours share its host, one probe
        # at a time: about 27 s here when quiet, later on a loaded CI machine.
        [sys.executable, "-m", "monitor", "demo", "--interval", "1", "--duration", "40"],
        capture_output=True,
        text=True,
        timeout=90,
        env=environment,
        check=False,
    )
    console = done.stdout + done.stderr
    assert done.returncode == 0, console
    # The events, as the daemon logs them, and the alerts as the console channel prints them.
    for kind in ("slots_opened", "anomaly_started", "anomaly_resolved"):
        assert kind in console, f"{kind} missing from:\n{console}"
    assert "Slots available" in done.stdout and "Site anomaly" in done.stdout
    assert "[demo] imitation site on http://127.0.0.1:" in done.stdout
    assert "[demo] demo stopped" in done.stdout
    # The assisted session: asked for, a wrong code rejected, the right one accepted, the
    # slot page read within the session.
    assert "assist_needed" in console
    assert "types a wrong code: rejected" in done.stdout
    assert "types the code the image shows: accepted" in done.stdout
    assert "38/sejour: session live, last read available/slots" in done.stdout
