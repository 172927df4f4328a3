"""How `paperbot run` waits for the signal that stops it (bot/app.py StopSignal)."""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.app import StopSignal

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
