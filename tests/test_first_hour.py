"""A new user's first hour (issue 14): every mistake gets one sentence saying what to do,
never a traceback."""

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.embed import Embedder
from bot.store import Store

REPO = Path(__file__).resolve().parent.parent
ENV_NAMES = (
    "PAPERBOT_CONFIG",
    "PAPERBOT_DB",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_API_BASE_URL",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, embedder):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    # Share the session's loaded model instead of loading it again per command.
    monkeypatch.setattr("bot.services.Embedder", lambda *args, **kwargs: embedder)
    monkeypatch.setattr("bot.doctor.Embedder", lambda *args, **kwargs: embedder)


def paperbot(*args, **env):
    """Run the command in this process as a user would; exceptions are not caught for us."""
    return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_error_line(result) -> str:
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    return line


# -- (a) tracebacks become one sentence --------------------------------------------------


def test_doctor_without_network_says_slack_is_unreachable(tmp_path):
    result = paperbot(
        "--db",
        str(tmp_path / "p.db"),
        "doctor",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_APP_TOKEN="xapp-test",
        SLACK_API_BASE_URL=f"http://127.0.0.1:{closed_port()}/api/",
    )
    assert result.exit_code == 1
    slack = [line for line in result.output.splitlines() if line.startswith("[FAIL] slack")]
    assert slack and "could not reach Slack" in slack[0] and "network" in slack[0]
    assert "Traceback" not in result.output


COMMANDS_ON_THE_DATABASE = [
    ("status",),
    ("search", "attention"),
    ("subscribe", "attention", "--user", "U1"),
    ("demo",),
]


@pytest.mark.parametrize("command", COMMANDS_ON_THE_DATABASE, ids=lambda c: c[0])
def test_a_database_in_a_folder_that_cannot_exist(tmp_path, command):
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("a file")
    line = one_error_line(paperbot("--db", str(not_a_folder / "p.db"), *command))
    assert f"{not_a_folder} is a file, not a folder" in line and "--db PATH" in line


@pytest.mark.parametrize("command", COMMANDS_ON_THE_DATABASE, ids=lambda c: c[0])
def test_a_file_that_is_not_a_database(tmp_path, command):
    junk = tmp_path / "p.db"
    junk.write_text("not sqlite at all " * 100)
    line = one_error_line(paperbot("--db", str(junk), *command))
    assert "file is not a database" in line and "--db PATH" in line


@pytest.fixture
def read_only_db():
    """A paperbot database that the user may read but not write, in a folder likewise."""
    # Not under pytest's tmp_path: its parents are closed to other users.
    folder = Path(tempfile.mkdtemp())
    Store(folder / "p.db").close()
    (folder / "p.db").chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    folder.chmod(0o555)
    yield folder / "p.db"
    folder.chmod(0o755)
    shutil.rmtree(folder)


def as_user(*args: str) -> subprocess.CompletedProcess:
    """`paperbot ARGS` in a fresh process, as a user who is not root (nobody, if we are root)."""
    drop = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to run as a user other than root")
        drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    return subprocess.run(
        [*drop, sys.executable, "-c", "from bot.cli import main; main()", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", COMMANDS_ON_THE_DATABASE, ids=lambda c: c[0])
def test_a_read_only_database(read_only_db, command):
    result = as_user("--db", str(read_only_db), *command)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "attempt to write a readonly database" in result.stderr
    assert "Make the file and its folder writable" in result.stderr


def test_config_pointing_at_a_folder(tmp_path):
    line = one_error_line(paperbot("--config", str(tmp_path), "status"))
    assert f"Settings file {tmp_path} is a folder" in line and "TOML file" in line


def test_search_with_a_model_path_that_is_not_a_folder(tmp_path, monkeypatch):
    monkeypatch.setattr("bot.services.Embedder", Embedder)  # the real one checks the path
    config = tmp_path / "mine.toml"
    config.write_text('[model]\npath = "/no/such/model"\n')
    line = one_error_line(
        paperbot("--db", str(tmp_path / "p.db"), "--config", str(config), "search", "x")
    )
    assert "[model] path = '/no/such/model' is not a folder" in line


def test_run_on_a_port_in_use(tmp_path):
    config = tmp_path / "mine.toml"
    config.write_text('[server]\nhost = "127.0.0.1"\n')
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = paperbot(
            "--db",
            str(tmp_path / "p.db"),
            "--config",
            str(config),
            "run",
            "--port",
            str(port),
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET="secret",
        )
    line = one_error_line(result)
    assert f"cannot listen on 127.0.0.1:{port}" in line and "--port N" in line


def test_run_says_where_it_listens_and_no_bolt_warning(tmp_path, slack):
    config = tmp_path / "mine.toml"
    config.write_text('[server]\nhost = "127.0.0.1"\n')
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="secret",
        SLACK_API_BASE_URL=slack.base_url,
    )
    port = closed_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", "--db", str(tmp_path / "p.db")]
        + ["--config", str(config), "run", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stdout.readline()
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert first_line.strip() == (
        f"paperbot is listening on http://127.0.0.1:{port}/slack/events "
        "(health check: /healthz). Ctrl-C stops it."
    )
    assert process.returncode == 0
    assert "WARNING" not in stderr and "Traceback" not in stderr
