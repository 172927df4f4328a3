"""`paperbot doctor`: what it says about the precision, the database and the feeds."""

import pytest

from bot.doctor import run_checks
from bot.embed import cpu_has_native_bf16


@pytest.fixture(autouse=True)
def no_slack_or_paperbot_env(monkeypatch):
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "PAPERBOT_CONFIG",
        "PAPERBOT_DB",
    ):
        monkeypatch.delenv(name, raising=False)


def checks_for(tmp_path, precision: str) -> dict:
    config = tmp_path / "mine.toml"
    config.write_text(f'[model]\nprecision = "{precision}"\n')
    return {c.name: c for c in run_checks(str(config), str(tmp_path / "paperbot.db"))}


def test_doctor_names_a_forced_precision(tmp_path):
    checks = checks_for(tmp_path, "float32")
    assert checks["model"].ok
    assert checks["precision"].ok
    assert checks["precision"].detail == "float32 (set by [model] precision)"


def test_doctor_says_what_auto_chose_on_this_cpu(tmp_path):
    detail = checks_for(tmp_path, "auto")["precision"].detail
    if cpu_has_native_bf16():
        assert detail.startswith("bfloat16 (auto: this CPU has native bfloat16")
    else:
        assert detail.startswith("float32 (auto: this CPU has no native bfloat16")


def test_doctor_reports_an_unknown_precision_as_a_settings_problem(tmp_path):
    checks = checks_for(tmp_path, "fast")
    assert list(checks) == ["settings"]
    assert not checks["settings"].ok
    assert "'model.precision'" in checks["settings"].detail
    assert "'fast'" in checks["settings"].detail


def test_doctor_says_the_added_feeds_could_not_be_read_when_the_database_cannot_open(tmp_path):
    junk = tmp_path / "paperbot.db"
    junk.write_text("not sqlite at all " * 100)
    checks = {c.name: c for c in run_checks(None, str(junk))}
    assert not checks["database"].ok
    assert not checks["feeds"].ok
    assert "could not be read, because the database could not be opened" in checks["feeds"].detail
    assert "none configured" not in checks["feeds"].detail


def test_doctor_says_there_is_no_database_yet_and_makes_none(tmp_path):
    missing = tmp_path / "typo" / "paperbot.db"
    checks = {c.name: c for c in run_checks(None, str(missing))}
    assert checks["database"].detail.startswith(f"none yet at {missing}: paperbot makes it")
    assert not missing.parent.exists()
