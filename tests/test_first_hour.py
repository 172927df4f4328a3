"""A new user's first hour (issue 14): every mistake gets one sentence saying what to do,
never a traceback."""

import json
import os
import re
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
from bot.storage import Store

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


def test_a_slack_address_that_is_not_a_web_address_is_one_sentence(tmp_path):
    slack = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_BASE_URL": "notaurl"}
    db = str(tmp_path / "p.db")
    line = one_error_line(paperbot("--db", db, "cycle", **slack))
    assert "SLACK_API_BASE_URL is 'notaurl', which is not a web address" in line
    doctor = paperbot("--db", db, "doctor", **slack)
    assert doctor.exit_code == 1 and "Traceback" not in doctor.output
    assert "[FAIL] settings: SLACK_API_BASE_URL is 'notaurl'" in doctor.output


def test_run_in_socket_mode_without_network_says_slack_is_unreachable(tmp_path):
    where = f"http://127.0.0.1:{closed_port()}/api/"
    result = paperbot(
        "--db",
        str(tmp_path / "p.db"),
        "run",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_APP_TOKEN="xapp-test",
        SLACK_API_BASE_URL=where,
    )
    line = one_error_line(result)
    assert f"could not reach Slack at {where}" in line and "network" in line


READING_COMMANDS = [
    ("status",),
    ("search", "attention"),
    ("subscriptions",),
    ("feeds",),
    ("feedback", "1", "2401.00001", "relevant"),
    ("cycle", "--dry-run"),
]
WRITING_COMMANDS = [
    ("subscribe", "attention", "--user", "U1"),
    ("demo",),
]


def test_alerts_slack_did_not_take_wait_and_status_says_why(db):
    paperbot("--db", db, "ingest", str(SAMPLE_FEED))
    paperbot("--db", db, "subscribe", "speech recognition", "--user", "U1")
    cycle = paperbot(
        "--db",
        db,
        "cycle",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_API_BASE_URL=f"http://127.0.0.1:{closed_port()}/api/",
    )
    assert cycle.exit_code == 0 and "Traceback" not in cycle.output
    assert "to be posted: `paperbot status` says why and when each is tried next." in cycle.output
    status = paperbot("--db", db, "status").output
    assert "(last try: could not reach Slack" in status


def test_a_database_that_stops_answering_mid_command_is_one_sentence(db, monkeypatch):
    import psycopg
    from sqlalchemy.exc import OperationalError

    def server_gone(*args, **kwargs):
        cause = psycopg.OperationalError("server closed the connection\nunexpectedly")
        raise OperationalError("select 1", {}, cause)

    Store(db).close()
    monkeypatch.setattr("bot.status.status_report", server_gone)
    line = one_error_line(paperbot("--db", db, "status"))
    assert line == (
        "Error: The database stopped answering (server closed the connection unexpectedly): "
        "check that it runs, then run the command again."
    )


COMMANDS_ON_THE_DATABASE = READING_COMMANDS[:2] + WRITING_COMMANDS


@pytest.mark.parametrize("command", READING_COMMANDS, ids=lambda c: c[0])
def test_a_command_that_reads_says_there_is_no_database_and_makes_none(tmp_path, command):
    missing = tmp_path / "typo" / "p.db"
    line = one_error_line(paperbot("--db", str(missing), *command))
    assert f"There is no database at {missing}: give --db (or PAPERBOT_DB) the file" in line
    assert not missing.parent.exists()


@pytest.mark.parametrize("command", WRITING_COMMANDS, ids=lambda c: c[0])
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
    Store(tmp_path / "p.db").close()
    line = one_error_line(
        paperbot("--db", str(tmp_path / "p.db"), "--config", str(config), "search", "attention")
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


@pytest.mark.both_backends
def test_run_says_where_it_listens_and_no_bolt_warning(tmp_path, location, slack):
    config = tmp_path / "mine.toml"
    config.write_text('[server]\nhost = "127.0.0.1"\n')
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="secret",
        SLACK_API_BASE_URL=slack.base_url,
    )
    port = closed_port()
    # faulthandler: a run that does not stop is sent SIGABRT and prints where each thread is.
    process = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-c", "from bot.cli import main; main()"]
        + ["--db", location, "--config", str(config), "run", "--port", str(port)],
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
        try:
            _, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            _, stderr = process.communicate(timeout=30)
            pytest.fail(f"paperbot run did not stop within 60 s of SIGTERM:\n{stderr}")
    assert first_line.strip() == (
        f"paperbot is listening on http://127.0.0.1:{port}/slack/events "
        "(health check: /healthz). Ctrl-C stops it."
    )
    assert process.returncode == 0
    assert "WARNING" not in stderr and "Traceback" not in stderr


# -- (b) input is checked, and the message says what to write ----------------------------


def test_run_port_must_be_from_1_to_65535(db):
    for port in ("0", "99999"):
        line = usage_error(paperbot("--db", db, "run", "--port", port))
        assert "is not in the range 1<=x<=65535" in line


def test_an_unknown_feed_kind_is_refused_before_anything_is_fetched(db, feed_server):
    (feed_server.root / "cs.CL.xml").write_bytes(SAMPLE_FEED.read_bytes())
    url = feed_server.url + "cs.CL.xml"
    for command in (("ingest", url), ("feeds", "add", url)):
        line = usage_error(paperbot("--db", db, *command, "--kind", "bogus"))
        assert "'bogus' is not one of 'arxiv_listing', 'arxiv_api', 'hf_daily', 'rss'" in line
    assert not Path(db).exists()


def own_process(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`paperbot ARGS` in a process of its own, whose log lines go to its real stderr."""
    clean = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ingest_says_a_feed_could_not_be_read_once(db, tmp_path):
    result = own_process("--db", db, "ingest", str(tmp_path / "missing.xml"))
    assert result.returncode == 1
    assert (result.stdout + result.stderr).count("No such file or directory") == 1


def test_cycle_says_slack_did_not_take_the_alerts_without_the_sdks_log_lines(db):
    paperbot("--db", db, "ingest", str(SAMPLE_FEED))
    paperbot("--db", db, "subscribe", "speech recognition", "--user", "U1")
    where = f"http://127.0.0.1:{closed_port()}/api/"
    result = own_process("--db", db, "cycle", SLACK_BOT_TOKEN="x", SLACK_API_BASE_URL=where)
    assert result.returncode == 0
    assert "alerts wait to be posted" in result.stdout
    assert result.stderr == ""


def test_ingest_json_exits_1_when_a_feed_could_not_be_read(db, tmp_path):
    result = paperbot("--db", db, "ingest", "--json", str(tmp_path / "missing.xml"))
    assert result.exit_code == 1
    (feed,) = json.loads(result.stdout)["feeds"]
    assert feed["status"] == "network_error" and "No such file" in feed["error"]


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "p.db")


def usage_error(result) -> str:
    """click's answer to a bad option: exit code 2 and one `Error: ...` line."""
    assert result.exit_code == 2 and "Traceback" not in result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    return line


@pytest.mark.parametrize("since", ["2024-13-45", "yesterday", "2024/01/01"])
def test_search_since_must_be_a_date(db, since):
    line = usage_error(paperbot("--db", db, "search", "attention", "--since", since))
    assert f"'{since}' is not a date: write it as YYYY-MM-DD" in line


@pytest.mark.parametrize("limit", ["0", "-3", "101"])
def test_search_limit_must_be_from_1_to_100(db, limit):
    line = usage_error(paperbot("--db", db, "search", "attention", "--limit", limit))
    assert "--limit" in line and "1<=x<=100" in line


def test_subscribe_channel_must_be_an_id_not_a_name(db):
    line = usage_error(
        paperbot("--db", db, "subscribe", "x", "--user", "U1", "--channel", "general")
    )
    assert "'general' is not a channel id" in line and "C0123456789" in line
    assert not Path(db).exists()


def test_subscribe_user_must_be_an_id(db):
    line = usage_error(paperbot("--db", db, "subscribe", "x", "--user", "ana"))
    assert "'ana' is not a user id" in line


@pytest.mark.parametrize(
    "options, says",
    [
        (["--like", "9999.99999"], "No stored paper has the id '9999.99999'"),
        (["--like", ""], "No stored paper has the id ''"),
        (["--require", ""], "A required or excluded keyword is empty"),
        (["--exclude", "  "], "A required or excluded keyword is empty"),
        (["--category", ""], "An author or category is empty"),
        (["--author", " "], "An author or category is empty"),
        (
            ["--require", "attention", "--exclude", "Attention"],
            "'attention' is both required and excluded",
        ),
        (["--exclude", "Attention"], "The topic itself names 'Attention', so excluding it"),
    ],
)
def test_subscribe_refuses_what_could_never_match(db, options, says):
    line = one_error_line(
        paperbot("--db", db, "subscribe", "sparse attention", "--user", "U1", *options)
    )
    assert says in line
    listed = paperbot("--db", db, "subscriptions")
    assert "No subscriptions yet" in listed.output


def test_subscribe_to_a_category_no_paper_is_in_says_so_and_any_case_works(db):
    paperbot("--db", db, "ingest", str(SAMPLE_FEED))
    typo = paperbot("--db", db, "subscribe", "speech", "--user", "U1", "--category", "cs.CLL")
    assert typo.exit_code == 0
    assert "no stored paper is in the category 'cs.CLL'" in typo.stderr
    upper = paperbot("--db", db, "subscribe", "speech", "--user", "U2", "--category", "CS.cl")
    assert upper.exit_code == 0 and upper.stderr == ""


def test_subscribe_names_the_words_no_stored_paper_contains(db):
    few = paperbot("--db", db, "subscribe", "lerning from human feedbak", "--user", "U0")
    assert few.exit_code == 0 and few.stderr == ""
    paperbot(
        "--db", db, "ingest", str(FEEDS / "arxiv_rss2_cs.LG_2024-05-15_oldstyle_id_crosslist.xml")
    )
    unknown = paperbot("--db", db, "subscribe", "learning from human qzxwv", "--user", "U1")
    assert unknown.exit_code == 0
    assert unknown.stderr.startswith("No stored paper contains the word 'qzxwv' yet")
    spelt = paperbot("--db", db, "subscribe", "learning from human feedback", "--user", "U2")
    assert spelt.exit_code == 0 and spelt.stderr == ""


def test_subscribe_reads_a_misspelt_word_as_the_stored_word_one_letter_away(db):
    paperbot(
        "--db", db, "ingest", str(FEEDS / "arxiv_rss2_cs.LG_2024-05-15_oldstyle_id_crosslist.xml")
    )
    typo = paperbot("--db", db, "subscribe", "lerning from human feedbak", "--json", "--user", "U1")
    assert typo.exit_code == 0
    assert typo.stderr == (
        "No stored paper contains the words 'lerning' and 'feedbak': read as 'learning' and "
        "'feedback'.\n"
    )
    answer = json.loads(typo.stdout)
    assert answer["topic"] == "learning from human feedback"
    assert answer["respelled"] == {"lerning": "learning", "feedbak": "feedback"}
    again = paperbot("--db", db, "subscribe", "learning from human feedback", "--user", "U1")
    assert again.exit_code == 1 and "already delivers this topic" in again.stderr


def test_search_names_the_words_no_stored_paper_contains(db):
    paperbot(
        "--db", db, "ingest", str(FEEDS / "arxiv_rss2_cs.LG_2024-05-15_oldstyle_id_crosslist.xml")
    )
    for output in ((), ("--json",)):
        typo = paperbot("--db", db, "search", "lerning from human qzxwv", *output)
        assert typo.exit_code == 0
        assert typo.stderr == (
            "No stored paper contains the word 'lerning': read as 'learning'. "
            "No stored paper contains the word 'qzxwv': check the spelling.\n"
        )
    typo = paperbot("--db", db, "search", "lerning from human feedbak", "--json")
    spelt = paperbot("--db", db, "search", "learning from human feedback", "--json")
    assert [hit["id"] for hit in json.loads(typo.stdout)] == [
        hit["id"] for hit in json.loads(spelt.stdout)
    ]
    spelt = paperbot("--db", db, "search", "learning from human feedback")
    assert spelt.exit_code == 0 and spelt.stderr == ""


@pytest.mark.parametrize("query", ["", "the and of", "papers about"])
def test_search_needs_words_to_search_for(db, query):
    line = usage_error(paperbot("--db", db, "search", query))
    assert "Invalid value for QUERY: give the words to search for" in line


def test_search_says_a_category_or_author_is_empty_or_has_no_papers(db):
    paperbot("--db", db, "ingest", str(SAMPLE_FEED))
    for option in ("--category", "--author"):
        line = usage_error(paperbot("--db", db, "search", "speech", option, " "))
        assert f"Invalid value for '{option}': it is empty" in line
    typo = paperbot("--db", db, "search", "speech", "--category", "cs.CLL")
    assert typo.exit_code == 0
    assert typo.output.splitlines() == [
        "No stored paper matches that query.",
        "No stored paper is in the category 'cs.CLL'.",
    ]
    as_json = paperbot("--db", db, "search", "speech", "--category", "cs.CLL", "--json")
    assert json.loads(as_json.stdout) == []
    assert as_json.stderr.splitlines() == ["No stored paper is in the category 'cs.CLL'."]


def test_search_category_is_case_insensitive(db):
    paperbot("--db", db, "ingest", str(SAMPLE_FEED))
    found = paperbot("--db", db, "search", "speech", "--category", "CS.cl", "--json")
    assert found.exit_code == 0 and len(json.loads(found.stdout)) == 5


@pytest.mark.parametrize("topic", ["the and of", "papers about", "I'm interested in"])
def test_subscribe_refuses_a_topic_that_names_no_subject(db, topic):
    line = one_error_line(paperbot("--db", db, "subscribe", topic, "--user", "U1"))
    assert "That topic names no subject to find papers on" in line


@pytest.mark.parametrize("topic", ["https://arxiv.org/abs/2608.19942v2", "arXiv:2608.19942"])
def test_subscribe_to_a_paper_instead_of_a_topic_is_shown_like(db, topic):
    line = one_error_line(paperbot("--db", db, "subscribe", topic, "--user", "U1"))
    assert line == (
        "Error: That topic is a paper, 2608.19942, not the words of a topic: subscribe with the "
        "words of its subject (in Slack, `/papers like 2608.19942` follows papers like it)."
    )


@pytest.mark.parametrize("topic", ["GPT-4", "Llama-3.1", "1.58-bit", "10.1000/2301.00001"])
def test_a_one_word_topic_with_digits_is_not_taken_for_a_paper(db, topic):
    result = paperbot("--db", db, "subscribe", topic, "--user", "U1")
    assert result.exit_code == 0, result.output


def test_subscribe_refuses_a_topic_of_5000_characters(db):
    line = one_error_line(paperbot("--db", db, "subscribe", "word " * 1000, "--user", "U1"))
    assert "That topic is 4,999 characters; keep it to 500 or fewer" in line


def test_subscribe_refuses_an_exact_duplicate_but_not_a_variant(db):
    first = paperbot("--db", db, "subscribe", "sparse attention", "--user", "U1", "--channel", "C1")
    assert first.exit_code == 0
    again = paperbot(
        "--db", db, "subscribe", "Sparse  attention", "--user", "U1", "--channel", "C1"
    )
    assert (
        "already delivers this topic, typed there as 'sparse attention', with these settings; "
        "nothing was added" in one_error_line(again)
    )
    daily = ("--cadence", "daily")
    variant = paperbot(
        "--db", db, "subscribe", "sparse attention", "--user", "U1", "--channel", "C1", *daily
    )
    assert variant.exit_code == 0
    assert (
        "Subscription #1 already delivers this topic here, typed there as 'sparse attention', "
        "with other settings: if one is enough, `paperbot unsubscribe 1` removes it."
    ) in variant.output
    rows = paperbot("--db", db, "subscriptions").output.strip().splitlines()
    assert len(rows) == 2


def test_subscribe_refuses_a_duplicate_whose_category_differs_only_in_case(db):
    topic = ("subscribe", "sparse attention", "--user", "U1", "--category")
    assert paperbot("--db", db, *topic, "CS.cl").exit_code == 0
    again = paperbot("--db", db, *topic, "cs.CL")
    assert "already delivers this topic" in one_error_line(again)


def test_subscribe_refuses_the_same_parts_joined_another_way(db):
    assert paperbot("--db", db, "subscribe", "speech/audio", "--user", "U1").exit_code == 0
    for typed in ("speech and audio", "Audio & Speech", "audio, speech"):
        again = paperbot("--db", db, "subscribe", typed, "--user", "U1")
        assert "already delivers this topic, typed there as 'speech/audio'" in one_error_line(again)
    assert paperbot("--db", db, "subscribe", "speech", "--user", "U1").exit_code == 0
    rows = paperbot("--db", db, "subscriptions").output.strip().splitlines()
    assert len(rows) == 2


def test_subscribe_refuses_a_request_for_papers_on_a_topic_already_subscribed(db):
    assert paperbot("--db", db, "subscribe", "sparse attention", "--user", "U1").exit_code == 0
    again = paperbot("--db", db, "subscribe", "papers about sparse attention", "--user", "U1")
    assert "already delivers this topic" in one_error_line(again)
    rows = paperbot("--db", db, "subscriptions").output.strip().splitlines()
    assert len(rows) == 1


@pytest.mark.parametrize(
    "toml, says",
    [
        (
            "[schedule]\ndigest_hour = 25",
            "'schedule.digest_hour' in {file} must be from 0 to 23, like digest_hour = 8; got 25.",
        ),
        (
            '[schedule]\nweekly_digest_day = "monday"',
            "'schedule.weekly_digest_day' in {file} must be one of 'mon',",
        ),
        (
            '[schedule]\nchannel_timezone = "Mars/Base"',
            "'schedule.channel_timezone' in {file} must be an IANA timezone name",
        ),
        (
            "[matching]\ndefault_threshold = 7",
            "'matching.default_threshold' in {file} must be from 0 to 1",
        ),
        (
            "[matching]\nbroad_threshold = 0.6",
            "With the settings of {file}, 'matching.default_threshold' (0.41) is below "
            "'matching.broad_threshold' (0.6): keep strict_threshold >= default_threshold",
        ),
        (
            "[matching]\ndaily_cap_dm = -1",
            "'matching.daily_cap_dm' in {file} must be from 1 to 1000, like daily_cap_dm = 10",
        ),
        ("[server]\nport = 70000", "'server.port' in {file} must be from 1 to 65535"),
        (
            'feeds = ["https://rss.arxiv.org/rss/cs.CL"]',
            "'feeds' in {file} must be a table; write [[feeds]] on a line of its own, "
            "then url = 'https://rss.arxiv.org/rss/cs.CL' on the next",
        ),
    ],
)
def test_doctor_names_the_setting_the_file_and_what_to_write(db, tmp_path, toml, says):
    config = tmp_path / "mine.toml"
    config.write_text(toml + "\n")
    result = paperbot("--db", db, "--config", str(config), "doctor")
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    assert first.startswith("[FAIL] settings: ") and says.format(file=config) in first


def test_a_long_bad_setting_is_not_echoed_in_full(db, tmp_path):
    config = tmp_path / "mine.toml"
    config.write_text(f'[schedule]\nweekly_digest_day = "{"x" * 3000}"\n')
    line = one_error_line(paperbot("--db", db, "--config", str(config), "status"))
    assert len(line) < 400


# -- (c) output that tells the truth -------------------------------------------------------


def test_demo_summary_and_status_agree(db, tmp_path):
    # A cap of one alert a day per target, so that the demo's cap holds some back.
    config = tmp_path / "cap.toml"
    config.write_text("[matching]\ndaily_cap_dm = 1\ndaily_cap_channel = 1\n")
    demo = paperbot("--db", db, "--config", str(config), "demo")
    summary = demo.output.strip().splitlines()[-1]
    found = re.fullmatch(
        r"Summary: 2 feeds read, 322 papers new, (\d+) matches, 3 alerts shown, (\d+) held "
        r'back by the daily cap \(in Slack, offered as "N more matched today"\)\.',
        summary,
    )
    assert found, summary
    matches, held = int(found[1]), int(found[2])
    assert matches == 3 + held
    status = paperbot("--db", db, "status").output
    assert "Last cycle: none yet" not in status
    assert f"2 of 2 feeds read, 322 papers new, {matches} matches, 3 sent" in status
    assert f"3 sent, 0 failed, {held} dropped" in status
    assert f"{held} dropped: over the daily cap (each target was offered them once" in status


def test_status_after_a_cycle_shows_it(db, slack):
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_BASE_URL": slack.base_url}
    assert paperbot("--db", db, "cycle", **env).exit_code == 0
    status = paperbot("--db", db, "status").output
    assert status.startswith("Last cycle: 20") and "no feed due" in status


def test_doctor_counts_feeds_added_at_run_time(db, feed_server, tmp_path):
    from tests.conftest import FIXTURES

    sample = FIXTURES / "feeds" / "arxiv_rss2" / "arxiv_rss2_cs.CL_2026-08-21.xml"
    (feed_server.root / "cs.CL.xml").write_bytes(sample.read_bytes())
    # The feed server is on loopback, which feeds added at run time may use only when allowed.
    config = tmp_path / "mine.toml"
    config.write_text("[fetch]\nallow_private_addresses = true\n")
    settings = ("--db", db, "--config", str(config))
    added = paperbot(*settings, "feeds", "add", feed_server.url + "cs.CL.xml")
    assert added.exit_code == 0, added.output
    doctor = paperbot(*settings, "doctor").output
    assert "[ok  ] feeds: 1 configured" in doctor


def test_search_scores_are_on_the_readmes_0_to_1_scale(db):
    paperbot("--db", db, "demo")
    result = paperbot("--db", db, "search", "KV cache compression")
    scores = [float(s) for s in re.findall(r"\(score (\S+)\)", result.output)]
    assert len(scores) == 5 and all(0 <= s <= 1 for s in scores)
    assert scores == sorted(scores, reverse=True)


# -- (d) the demo keeps to its own database -------------------------------------------------


def test_demo_uses_its_own_database_not_the_configured_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    service_db = tmp_path / "service.db"
    result = paperbot("demo", PAPERBOT_DB=str(service_db))
    assert result.exit_code == 0
    assert result.output.startswith("paperbot demo: database data/demo.db;")
    assert 'paperbot --db data/demo.db search "KV cache compression"' in result.output
    assert not service_db.exists()
    assert Store(tmp_path / "data" / "demo.db").papers.count() == 322


@pytest.fixture
def someones_db(tmp_path, embedder) -> Path:
    """A database with a user's own subscription in it, not made by the demo."""
    path = tmp_path / "mine.db"
    store = Store(path)
    store.subscriptions.add(
        owner="U1", target="U1", topic="my work", embedding=embedder.encode_one("my work")
    )
    store.close()
    return path


def test_demo_fresh_never_deletes_a_database_it_did_not_make(someones_db):
    line = one_error_line(paperbot("--db", str(someones_db), "demo", "--fresh"))
    assert f"{someones_db} was not made by `paperbot demo`, so --fresh will not delete it" in line
    assert [s.topic for s in Store(someones_db).subscriptions.all()] == ["my work"]


def test_demo_refuses_a_database_it_did_not_make(someones_db):
    refused = paperbot("--db", str(someones_db), "demo")
    line = one_error_line(refused)
    assert not refused.output.startswith("paperbot demo:")
    assert f"{someones_db} holds papers or subscriptions that `paperbot demo` did not make" in line
    store = Store(someones_db)
    assert [s.topic for s in store.subscriptions.all()] == ["my work"]
    assert store.papers.count() == 0


def test_demo_runs_again_on_its_own_database_given_with_db(tmp_path):
    own = str(tmp_path / "own.db")
    assert paperbot("--db", own, "demo").exit_code == 0
    again = paperbot("--db", own, "demo")
    assert again.exit_code == 0
    assert "Nothing is new since the last run" in again.output


# -- (e) progress on a terminal, silence elsewhere --------------------------------------------


FEEDS = Path(__file__).parent / "fixtures" / "feeds" / "arxiv_rss2"
SAMPLE_FEED = FEEDS / "arxiv_rss2_cs.CL_2026-08-21.xml"


def test_ingest_on_a_terminal_shows_embedding_progress(db):
    # TTY_COMPATIBLE=1 tells rich that stderr is a terminal, as it is for a person typing.
    result = paperbot("--db", db, "ingest", str(SAMPLE_FEED), TTY_COMPATIBLE="1")
    assert result.exit_code == 0
    assert "Embedding papers" in result.stderr and "109/109" in result.stderr
    assert "papers/s" in result.stderr
    assert "109 items, 109 new" in result.stdout and "Embedding" not in result.stdout


def test_ingest_json_on_a_terminal_draws_nothing(db):
    result = paperbot("--db", db, "ingest", str(SAMPLE_FEED), "--json", TTY_COMPATIBLE="1")
    assert result.exit_code == 0 and result.stderr == ""
    assert json.loads(result.stdout)["embedded"] == 109


def test_ingest_into_a_pipe_draws_nothing(db):
    result = paperbot("--db", db, "ingest", str(SAMPLE_FEED), TTY_COMPATIBLE="0")
    assert result.exit_code == 0 and result.stderr == ""


def test_search_on_a_terminal_shows_a_spinner_while_the_model_loads(db):
    Store(db).close()
    result = paperbot("--db", db, "search", "attention", TTY_COMPATIBLE="1")
    assert "Loading the embedding model" in result.stderr
    quiet = paperbot("--db", db, "search", "attention", "--json", TTY_COMPATIBLE="1")
    assert quiet.stderr == "" and json.loads(quiet.stdout) == []


def test_subscribe_threshold_out_of_range_is_a_wrong_option(db):
    line = usage_error(
        paperbot("--db", db, "subscribe", "speech", "--user", "U1", "--threshold", "1.5")
    )
    assert "Invalid value for '--threshold': 1.5 is not in the range 0<=x<=1." in line
