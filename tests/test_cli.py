"""The paperbot command as a user runs it: output text, JSON and exit codes."""

import json

import pytest
from click.testing import CliRunner

from bot.cli import cli


@pytest.fixture
def run(tmp_path, monkeypatch, embedder):
    for name in ("PAPERBOT_CONFIG", "PAPERBOT_DB", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    # Share the session's loaded model instead of loading it again per command.
    monkeypatch.setattr("bot.services.Embedder", lambda *args, **kwargs: embedder)
    db = str(tmp_path / "cli.db")

    def invoke(*args):
        return CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)

    return invoke


def test_demo_shows_alerts_then_nothing_new(run):
    first = run("demo")
    assert first.exit_code == 0
    assert "── to #llm-systems" in first.output
    assert "[ Relevant ] [ Not relevant ] [ Save ]" in first.output
    summary = first.output.strip().splitlines()[-1]
    assert summary.startswith("Summary: 2 feeds read, 322 papers new,")
    assert '"blocks"' not in first.output and '"type"' not in first.output

    second = run("demo")
    assert "Nothing is new since the last run" in second.output
    assert "── to" not in second.output
    assert second.output.strip().endswith("0 papers new, 0 matches, 0 alerts shown.")

    fresh = run("demo", "--fresh")
    assert "322 papers new" in fresh.output


def test_search_json_after_demo_ranks_on_topic_first(run):
    run("demo")
    result = run("search", "federated learning clients", "--json")
    hits = json.loads(result.output)
    assert len(hits) == 5
    assert set(hits[0]) >= {"id", "title", "url", "score"}
    assert "federated" in hits[0]["title"].lower()


def test_subscribe_list_unsubscribe(run):
    added = json.loads(run("subscribe", "graph neural networks", "--user", "U1", "--json").output)
    assert added["target"] == "U1" and added["topic"] == "graph neural networks"
    listed = json.loads(run("subscriptions", "--json").output)
    assert [s["id"] for s in listed] == [added["id"]]
    assert "Removed" in run("unsubscribe", str(added["id"])).output
    missing = run("unsubscribe", str(added["id"]))
    assert missing.exit_code == 1 and "no subscription" in missing.output


def test_empty_topic_is_refused(run):
    result = run("subscribe", "  ", "--user", "U1")
    assert result.exit_code == 1 and "needs a topic" in result.output


def test_ingest_reports_a_broken_file_and_keeps_going(run, tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text("<html><body>Service unavailable</body></html>")
    from tests.conftest import FIXTURES

    good = FIXTURES / "feeds" / "arxiv_rss2" / "arxiv_rss2_cs.CL_2026-08-21.xml"
    result = run("ingest", str(broken), str(good))
    assert result.exit_code == 1
    assert "parse_error" in result.output and "109 items, 109 new" in result.output


def test_cycle_without_token_says_what_to_do(run):
    result = run("cycle")
    assert result.exit_code == 1 and "SLACK_BOT_TOKEN" in result.output


def test_cycle_dry_run_json_lists_alerts_without_queueing(run):
    from tests.conftest import FIXTURES

    run("ingest", str(FIXTURES / "feeds" / "arxiv_rss2" / "arxiv_rss2_cs.CL_2026-08-21.xml"))
    run("subscribe", "KV cache compression for long-context LLM inference", "--user", "U1")
    first = json.loads(run("cycle", "--dry-run", "--json").output)
    assert first["alerts"] and first["queued"] == 0
    assert {"target", "paper", "score", "matches"} <= set(first["alerts"][0])
    again = json.loads(run("cycle", "--dry-run", "--json").output)
    assert [a["paper"]["id"] for a in again["alerts"]] == [
        a["paper"]["id"] for a in first["alerts"]
    ]


def test_bad_settings_file_names_the_key(run, tmp_path):
    config = tmp_path / "mine.toml"
    config.write_text("[matching]\nthreshold = 0.3\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "subscriptions"])
    assert result.exit_code == 1
    assert "matching.threshold" in result.output and str(config) in result.output
