"""The call relayed through an intranet TURN server: Debian's coturn, started here with a config in a temporary
folder (127.0.0.1, loopback peers allowed, `use-auth-secret` with VIDEO_TURN_SECRET), and two Chromium pages
forced to relay (VIDEO_ICE_TRANSPORT_POLICY=relay) that reach `connected` with the TURN-REST credentials our
server gives the two parties: the selected candidate pair is a relayed one."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import expect

from .conftest import World
from .test_call import both_parties

pytestmark = pytest.mark.browser

SECRET = "turn-test-secret-9f3c"


def free_port() -> int:
    """A port free for both TCP and UDP: coturn listens on both, and a port free only for UDP can leave it retrying
    its TCP bind past the wait (seen once in a full run)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


def start_turnserver(binary: str, tmp_path: Path, attempt: int) -> tuple[subprocess.Popen, int, Path] | None:
    """One try at starting coturn on a fresh port; None (its log kept) when it does not listen within 10 s."""
    port = free_port()
    low = 50000 + (port % 1000) * 10
    log = tmp_path / f"turn-{attempt}.log"
    config = tmp_path / f"turnserver-{attempt}.conf"
    config.write_text("\n".join([
        "listening-ip=127.0.0.1", "relay-ip=127.0.0.1", f"listening-port={port}",
        f"min-port={low}", f"max-port={low + 9}", "fingerprint", "use-auth-secret",
        f"static-auth-secret={SECRET}", "realm=safety.test", "no-tls", "no-dtls", "no-cli", "no-multicast-peers",
        "allow-loopback-peers", "verbose", f"log-file={log}", "simple-log", f"pidfile={tmp_path / 'turn.pid'}",
        f"userdb={tmp_path / 'turndb'}", ""]), encoding="utf-8")
    process = subprocess.Popen([binary, "-c", str(config), "--allow-loopback-peers"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process, port, log
        assert process.poll() is None, f"turnserver exited: {log.read_text(errors='replace') if log.exists() else ''}"
        time.sleep(0.1)
    process.terminate()
    process.wait(timeout=5)
    return None


@pytest.fixture
def turn_server(tmp_path: Path) -> Iterator[dict]:
    """coturn on 127.0.0.1 with the shared secret, its log in the temporary folder; stopped after the test."""
    binary = shutil.which("turnserver") or "/usr/bin/turnserver"
    if not Path(binary).exists():
        pytest.exit("Debian's coturn is missing: apt-get install coturn (./scripts/test does this)", returncode=3)
    for attempt in range(3):
        started = start_turnserver(binary, tmp_path, attempt)
        if started:
            break
    else:
        logs = "\n".join(f.read_text(errors="replace")[-2000:] for f in sorted(tmp_path.glob("turn-*.log")))
        pytest.fail(f"turnserver did not listen within 10 s on three ports; its logs:\n{logs}")
    process, port, log = started
    yield {"port": port, "log": log}
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()


def test_call_relayed_through_coturn_with_our_credentials(web_world: World, call_browser, live_server, tmp_path,
                                                          turn_server) -> None:
    world = web_world
    config = world.app.config
    saved = {k: config.get(k) for k in ("VIDEO_TURN_URLS", "VIDEO_TURN_SECRET", "VIDEO_ICE_TRANSPORT_POLICY")}
    config.update(VIDEO_TURN_URLS=[f"turn:127.0.0.1:{turn_server['port']}?transport=udp"], VIDEO_TURN_SECRET=SECRET,
                  VIDEO_ICE_TRANSPORT_POLICY="relay")
    try:
        url, regulator, company = both_parties(world, call_browser, live_server, tmp_path)
        # what our server hands the party: the TURN URL, a user valid for VIDEO_TURN_TTL, relay only
        ice = regulator.evaluate("""(path) => fetch(path, {method: 'POST', credentials: 'same-origin',
            headers: {'X-CSRFToken': document.getElementById('video-check').dataset.csrf}}).then(r => r.json())""",
                                 f"/video_check/{world.application}/ice")
        assert ice["iceTransportPolicy"] == "relay", ice
        [server] = ice["iceServers"]
        assert server["urls"] == [f"turn:127.0.0.1:{turn_server['port']}?transport=udp"]
        assert server["username"].endswith(f":{world.regulator}") and server["credential"]
        regulator.click("#call-start")
        company.click("#call-start")
        for page in (regulator, company):
            expect(page.locator("#call-state")).to_have_attribute("data-state", "connected", timeout=30_000)
        kinds = regulator.evaluate("""async () => {
            const stats = await window.videoCheck.peer().getStats(); const byId = {}; let pair = null;
            stats.forEach(s => { byId[s.id] = s; });
            stats.forEach(s => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId[s.selectedCandidatePairId]; });
            if (!pair) stats.forEach(s => { if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s; });
            return pair ? [byId[pair.localCandidateId].candidateType, byId[pair.remoteCandidateId].candidateType] : null;
        }""")
        assert kinds is not None and kinds[0] == "relay", kinds
        regulator.wait_for_function("""async () => {
            const stats = await window.videoCheck.peer().getStats(); let frames = 0;
            stats.forEach(s => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames = s.framesDecoded || 0; });
            return frames > 0; }""", timeout=15_000)
        # coturn saw our TURN-REST user (expiry:user id) allocate its relay
        deadline = time.monotonic() + 5
        while f":{world.regulator}" not in turn_server["log"].read_text(errors="replace"):
            assert time.monotonic() < deadline, turn_server["log"].read_text(errors="replace")[-2000:]
            time.sleep(0.2)
        for page in (regulator, company):
            page.context.close()
    finally:
        config.update(saved)
