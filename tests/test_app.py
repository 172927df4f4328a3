"""How `paperbot run` waits for the signal that stops it (bot/app.py StopSignal), and how
its HTTP server stops (HttpServer)."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from bot.app import HttpServer, StopSignal, build_bolt_app
from bot.deliver import make_slack_client
from bot.services import build_services

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def handlers_restored():
    saved = {signum: signal.getsignal(signum) for signum in StopSignal.SIGNALS}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_a_signal_before_the_wait_is_not_lost(handlers_restored):
    stop = StopSignal()
    os.kill(os.getpid(), signal.SIGTERM)
    assert stop.wait() == signal.SIGTERM


def test_a_signal_during_the_wait_ends_it(handlers_restored):
    stop = StopSignal()
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
    assert stop.wait() == signal.SIGINT


def test_after_the_first_signal_a_second_one_kills_at_once(handlers_restored):
    stop = StopSignal()
    os.kill(os.getpid(), signal.SIGTERM)
    stop.wait()
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) == signal.SIG_DFL


# The main thread blocks SIGTERM, so the kernel hands it to the other thread: as when
# `paperbot run` sat in threading.Event.wait() and the signal never woke it.
SIGNAL_TO_ANOTHER_THREAD = """
import os, signal, threading
from bot.app import StopSignal
stop = StopSignal()
threading.Thread(target=threading.Event().wait, daemon=True).start()
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()
print(stop.wait().name)
"""


def test_a_signal_taken_by_another_thread_still_ends_the_wait():
    process = subprocess.run(
        [sys.executable, "-c", SIGNAL_TO_ANOTHER_THREAD],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (process.returncode, process.stdout, process.stderr) == (0, "SIGTERM\n", "")


def test_a_stopped_http_server_closes_its_connections_and_frees_its_port(settings, embedder):
    # Nothing is sent to Slack: the client only has to exist for bolt.
    client = make_slack_client("xoxb-test", "http://127.0.0.1:9/api/")
    services = build_services(settings, slack=client, embedder=embedder)
    server = HttpServer(build_bolt_app(services), services, "127.0.0.1", 0)
    port = server.server.effective_port
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        assert json.loads(response.read())["ok"] is True
    idle = socket.create_connection(("127.0.0.1", port), timeout=5)
    server.stop()
    assert closed_by_peer(idle)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)


def closed_by_peer(connection: socket.socket) -> bool:
    """Whether the other end closed `connection`: an end of stream, or a reset (as a server
    closing a connection with nothing read from it may send)."""
    try:
        return connection.recv(1) == b""
    except ConnectionResetError:
        return True
