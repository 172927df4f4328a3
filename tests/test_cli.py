"""The paperbot command as a user runs it: output text, JSON and exit codes."""

import json
import re
import sqlite3

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


def test_a_search_longer_than_a_slash_command_takes_is_cut_and_says_so(run):
    run("demo")
    # Read whole, a query of commas took seconds per 20 KB to split into parts.
    result = run("search", "federated learning clients" + ", " * 10_000, "--json")
    assert result.exit_code == 0
    assert "federated" in json.loads(result.stdout)[0]["title"].lower()
    assert "The query was cut to its first 499 characters." in result.stderr


def test_subscribe_list_unsubscribe(run):
    added = json.loads(run("subscribe", "graph neural networks", "--user", "U1", "--json").output)
    assert added["target"] == "U1" and added["topic"] == "graph neural networks"
    listed = json.loads(run("subscriptions", "--json").output)
    assert [s["id"] for s in listed] == [added["id"]]
    assert "Removed" in run("unsubscribe", str(added["id"])).output
    missing = run("unsubscribe", str(added["id"]))
    assert missing.exit_code == 1 and "no subscription" in missing.output


def test_the_list_tells_apart_subscriptions_to_one_topic(run):
    run("subscribe", "llm agents", "--user", "U1")
    run("subscribe", "llm agents", "--user", "U1", "--category", "cs.AI", "--exclude", "survey")
    rows = run("subscriptions").output.splitlines()
    assert [row.split("\t")[-1] for row in rows] == [
        "llm agents",
        "llm agents (excludes 'survey'; category cs.AI)",
    ]


def test_subscribe_says_what_a_request_for_papers_is_matched_on(run):
    result = run("subscribe", "recent papers on graph neural networks", "--user", "U1")
    assert "Papers are matched on 'graph neural networks'." in result.output


def test_subscribe_says_that_what_a_topic_does_not_want_holds_back_no_paper(run):
    result = run("subscribe", "code generation -benchmarks", "--user", "U1")
    assert "Papers are matched on 'code generation'." in result.output
    assert (
        "'-benchmarks' is left out of the topic, but papers that mention it can still alert. "
        "To hold them back, subscribe with --exclude WORD."
    ) in result.output
    plain = run("subscribe", "code generation", "--user", "U2")
    assert "left out" not in plain.output


def test_a_topic_may_hold_words_that_start_with_a_dash(run):
    bullet = run("subscribe", "- speech recognition", "--user", "U1")
    assert bullet.exit_code == 0 and "'- speech recognition' to U1" in bullet.output
    words = run("subscribe", "code", "generation", "-benchmarks", "--user", "U1")
    assert words.exit_code == 0 and "'code generation -benchmarks' to U1" in words.output


def test_a_mistyped_option_is_not_taken_for_a_word_of_the_topic(run):
    result = run("subscribe", "speech recognition", "--strictnes", "strict", "--user", "U1")
    assert result.exit_code == 2
    assert "No such option '--strictnes'. Did you mean '--strictness'?" in result.output
    result = run("search", "speech", "--limt=3")
    assert (
        result.exit_code == 2
        and "No such option '--limt'. Did you mean '--limit'?" in result.output
    )


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
    assert "parse_error" in result.stderr and "parse_error" not in result.stdout
    assert "109 items, 109 new" in result.stdout


def test_ingest_refuses_an_empty_source(run):
    result = run("ingest", " ")
    assert result.exit_code == 2
    assert "a source is empty: give a feed URL or file path." in result.stderr


def test_a_folder_given_as_the_database_is_told_plainly(tmp_path):
    result = CliRunner().invoke(cli, ["--db", str(tmp_path), "subscriptions"])
    assert result.exit_code == 1
    assert (
        f"Error: {tmp_path} is a folder: give --db (or PAPERBOT_DB) a file in it, such as "
        f"{tmp_path / 'paperbot.db'}." in result.stderr
    )


def test_ingest_reads_a_gzipped_capture(run, tmp_path):
    import gzip

    from tests.conftest import FIXTURES

    good = FIXTURES / "feeds" / "arxiv_rss2" / "arxiv_rss2_cs.CL_2026-08-21.xml"
    capture = tmp_path / "2026-08-21-cs-cl.xml.gz"
    capture.write_bytes(gzip.compress(good.read_bytes()))
    result = run("ingest", str(capture))
    assert result.exit_code == 0
    assert result.output == f"{capture}: ok, 109 items, 109 new, 0 updated\n"


def test_ingest_keeps_every_item_of_a_broken_feed_and_names_the_damage(run, tmp_path):
    from tests.conftest import FIXTURES

    good = (FIXTURES / "feeds" / "arxiv_rss2" / "arxiv_rss2_cs.CL_2026-08-21.xml").read_bytes()
    # A bare "&" in the first abstract, and the document cut inside its last item.
    content = good.replace(b"Abstract: ", b"Abstract: A&T ", 1)[:-200]
    kept = content.count(b"</item>")
    broken = tmp_path / "broken.xml"
    broken.write_bytes(content)
    damage = f"malformed XML, kept {kept} complete items: 1 bare '&' read as text; unclosed token"
    result = run("ingest", str(broken))
    assert result.exit_code == 0
    assert result.output == f"{broken}: ok, {kept} items, {kept} new, 0 updated: {damage}\n"
    db = sqlite3.connect(tmp_path / "cli.db")
    assert db.execute("select count(*) from papers").fetchone() == (kept,)
    (abstract,) = db.execute("select abstract from papers where id = '2608.19199'").fetchone()
    assert abstract.startswith("A&T We describe the evolution of a virtual assistant")
    health = db.execute("select last_status, last_error from feeds where url = ?", [str(broken)])
    assert health.fetchone() == ("ok", damage)


def test_cycle_without_token_says_what_to_do(run):
    result = run("cycle")
    assert result.exit_code == 1 and "SLACK_BOT_TOKEN" in result.output


def test_cycle_dry_run_json_lists_alerts_without_queueing(run):
    from tests.conftest import FIXTURES

    feed = FIXTURES / "feeds" / "arxiv_rss2" / "arxiv_rss2_cs.CL_2026-08-21.xml"
    stored = re.search(r"(\d+) new", run("ingest", str(feed)).output)[1]
    run("subscribe", "KV cache compression for long-context LLM inference", "--user", "U1")
    first = json.loads(run("cycle", "--dry-run", "--json").output)
    assert first["alerts"] and first["queued"] == 0
    assert {"target", "paper", "score", "matches"} <= set(first["alerts"][0])
    again = json.loads(run("cycle", "--dry-run", "--json").output)
    assert [a["paper"]["id"] for a in again["alerts"]] == [
        a["paper"]["id"] for a in first["alerts"]
    ]
    shown = run("cycle", "--dry-run").output.splitlines()
    # A dry run leaves the papers to the next cycle: they are matched again.
    assert re.search(
        rf"0 papers new, \d+ matches among {stored} papers not matched before", shown[-2]
    )
    assert shown[-1].startswith("Dry run: nothing was queued or posted")
    assert "`paperbot status` tells of the cycles that deliver" in shown[-1]


def test_bad_settings_file_names_the_key(run, tmp_path):
    config = tmp_path / "mine.toml"
    config.write_text("[matching]\nthreshold = 0.3\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "subscriptions"])
    assert result.exit_code == 1
    assert "matching.threshold" in result.output and str(config) in result.output


def test_subscribe_shows_five_stored_papers_to_judge_and_feedback_sets_the_threshold(run):
    from tests.conftest import FIXTURES

    run("ingest", str(FIXTURES / "feeds" / "arxiv_rss2" / "arxiv_rss2_cs.CL_2026-08-21.xml"))
    added = json.loads(run("subscribe", "machine translation", "--user", "U1", "--json").output)
    previews = added["previews"]
    assert len(previews) == 5 and all(p["id"] and p["title"] and p["abstract"] for p in previews)
    # Best first: those it would alert on come before those it would not.
    sides = [p["would_alert"] for p in previews]
    assert sides == sorted(sides, reverse=True)
    assert added["latest_day_papers"] > added["would_alert_on"] >= sum(sides)
    # Scored as matching scores them: those it would alert on at its threshold or above.
    assert all((p["score"] >= added["effective_threshold"]) == p["would_alert"] for p in previews)
    [reach] = added["notes"]
    assert reach.startswith(
        f"Of the {added['latest_day_papers']} papers stored on the latest day, it would have "
        "alerted on "
    )
    shown = run("subscribe", "speech recognition", "--user", "U2")
    assert "Are these relevant?" in shown.output and "paperbot feedback" in shown.output
    assert f"Of the {added['latest_day_papers']} papers stored on the latest day, it would" in (
        shown.output
    )
    broad = run("subscribe", "language models", "--user", "U3").output
    advice = re.search(r"With a threshold of ([\d.]+) it would have .* on (\d+): (.*)\n", broad)
    assert advice and advice[3] == (
        f"`paperbot unsubscribe {int(added['id']) + 2}`, then subscribe again with "
        f"--threshold {advice[1]}."
    )
    narrower = run("subscribe", "language models", "--user", "U4", "--threshold", advice[1])
    assert f"it would have alerted on {advice[2]}.\n" in narrower.output
    sides = [line.split("  ")[2] for line in shown.output.splitlines() if line.startswith("  ")]
    assert len(sides) == 5 and sides == sorted(sides)
    assert set(sides) <= {"would alert", "would not"}

    replies = []
    for paper in previews:
        result = run("feedback", str(added["id"]), paper["id"], "not-relevant")
        assert result.exit_code == 0 and "not relevant" in result.output
        replies.append(result.output)
    # A vote on a paper far below the threshold leaves it where the others put it.
    assert any(
        re.search(
            r"Its threshold is now 0\.\d\d, up from 0\.\d\d: your judgments say papers scored "
            "near it are relevant less often than it assumed.",
            reply,
        )
        for reply in replies
    )
    threshold = float(re.search(r"threshold (?:is now|stays at) ([\d.]+\d)", replies[-1])[1])
    assert threshold > 0.4
    listed = {s["id"]: s for s in json.loads(run("subscriptions", "--json").output)}
    mine = listed[added["id"]]
    assert mine["threshold_shift"] > 0
    # The feedback reply rounds it to two decimals.
    assert f"{mine['effective_threshold']:.2f}" == f"{threshold:.2f}"
    assert mine["judgments"] == 5
    assert added["effective_threshold"] == 0.41 and added["judgments"] == 0
    row = run("subscriptions").output.splitlines()[0]
    assert f"\tthreshold {mine['effective_threshold']:.2f}\tmachine translation" in row


def test_a_preview_judged_in_the_subscribe_reply_never_comes_back_as_an_alert(run):
    from tests.conftest import FIXTURES

    run("ingest", str(FIXTURES / "feeds" / "arxiv_rss2" / "arxiv_rss2_cs.CL_2026-08-21.xml"))
    subscribed = run(
        "subscribe", "question answering", "--user", "U1", "--strictness", "broad", "--json"
    )
    added = json.loads(subscribed.output)
    previews = [p["id"] for p in added["previews"]]

    def alerted():
        cycle = json.loads(run("cycle", "--dry-run", "--json").output)
        return {a["paper"]["id"] for a in cycle["alerts"] + cycle["over_cap"]}

    judged = sorted(alerted() & set(previews))
    assert judged
    for paper_id in judged:
        run("feedback", str(added["id"]), paper_id, "relevant")
    after = alerted()
    assert not after & set(judged) and after


def test_feedback_and_like_take_a_paper_as_an_arxiv_id_or_url(run):
    from tests.conftest import FIXTURES

    run("ingest", str(FIXTURES / "feeds" / "arxiv_rss2" / "arxiv_rss2_cs.CL_2026-08-21.xml"))
    added = json.loads(run("subscribe", "speech recognition", "--user", "U1", "--json").output)
    first, second = (p["id"] for p in added["previews"][:2])
    for reference, paper_id in (
        (f"arXiv:{first}v2", first),
        (f"https://arxiv.org/abs/{second}", second),
    ):
        result = run("feedback", str(added["id"]), reference, "relevant")
        assert result.exit_code == 0
        assert result.output.startswith(f"Recorded {paper_id} as relevant")
    liked = run("subscribe", "speech", "--user", "U2", "--like", f"arxiv.org/pdf/{first}v1")
    assert liked.exit_code == 0
    (mine,) = [s for s in json.loads(run("subscriptions", "--json").output) if s["owner"] == "U2"]
    assert mine["seed_papers"] == [first]


def test_feedback_says_when_the_threshold_did_not_move(run):
    from tests.conftest import FIXTURES

    run("ingest", str(FIXTURES / "feeds" / "arxiv_rss2" / "arxiv_rss2_cs.CL_2026-08-21.xml"))
    added = json.loads(run("subscribe", "speech recognition", "--user", "U1", "--json").output)
    [best] = json.loads(run("search", "speech recognition", "--limit", "1", "--json").output)
    # The best match scores far above the threshold: a relevant vote on it moves nothing.
    result = run("feedback", str(added["id"]), best["id"], "relevant")
    said = re.search(
        r"Its threshold stays at 0.41: it scores this paper ([\d.]+), so it (.*)\n$", result.output
    )
    assert said and float(said[1]) > 0.41 and said[2] == "would alert on it already."
    [far] = json.loads(run("search", "sentiment analysis", "--limit", "1", "--json").output)
    result = run("feedback", str(added["id"]), far["id"], "not-relevant")
    said = re.search(r"it scores this paper ([\d.]+), so it (.*)\n$", result.output)
    assert said and float(said[1]) < 0.41 and said[2] == "would not alert on it anyway."


def test_feedback_says_a_threshold_set_by_hand_stays(run):
    from tests.conftest import FIXTURES

    run("ingest", str(FIXTURES / "feeds" / "arxiv_rss2" / "arxiv_rss2_cs.CL_2026-08-21.xml"))
    added = run("subscribe", "speech recognition", "--user", "U1", "--threshold", "0.3", "--json")
    subscription = json.loads(added.output)
    paper_id = subscription["previews"][0]["id"]
    result = run("feedback", str(subscription["id"]), paper_id, "not-relevant")
    assert result.exit_code == 0
    assert result.output.endswith(
        "Its threshold stays at 0.30, where it was set; judgments still teach it what you like.\n"
    )
    again = run("feedback", str(subscription["id"]), paper_id, "relevant")
    assert again.output.startswith(
        f"Recorded {paper_id} as relevant for subscription {subscription['id']}, in place of "
        "not relevant. "
    )


def test_feedback_on_unknown_subscription_or_paper_says_so(run):
    added = json.loads(run("subscribe", "graph neural networks", "--user", "U1", "--json").output)
    unknown_sub = run("feedback", "999", "2608.00001", "relevant")
    assert unknown_sub.exit_code == 1 and "no subscription 999" in unknown_sub.output
    unknown_paper = run("feedback", str(added["id"]), "2608.00001", "relevant")
    assert unknown_paper.exit_code == 1 and "No stored paper" in unknown_paper.output
    wrong_verdict = run("feedback", str(added["id"]), "2608.00001", "meh")
    assert wrong_verdict.exit_code == 2 and "relevant" in wrong_verdict.output


def test_copy_to_postgresql_prints_the_rows_of_each_table_and_hides_the_password(
    tmp_path, monkeypatch, postgresql_url
):
    import shutil

    from tests.storage.test_migrations import FIXTURE

    monkeypatch.delenv("PAPERBOT_CONFIG", raising=False)
    db = tmp_path / "old.db"
    shutil.copy(FIXTURE, db)
    # The test server does not ask for a password; a URL may still carry one.
    url = postgresql_url.replace("postgres:@", "postgres:sekret@")
    assert "sekret" in url
    copied = CliRunner().invoke(cli, ["--db", str(db), "copy-to", url])
    assert copied.exit_code == 0, copied.output
    lines = copied.output.strip().splitlines()
    assert lines[0].split() == ["about", "1", "row"]
    assert ["papers", "12", "rows"] in [line.split() for line in lines]
    masked = url.replace("sekret", "***")
    assert lines[-1] == (
        f"Copied 12 papers, 3 subscriptions and 1,819 other rows into {masked}. "
        f"Set PAPERBOT_DB={masked} (with the password in place of ***) to use it."
    )
    assert "sekret" not in copied.output

    again = CliRunner().invoke(cli, ["--db", str(db), "copy-to", url])
    assert again.exit_code == 1
    assert again.output.startswith(f"Error: {masked} already holds paperbot data (1 row in about")
    assert "Traceback" not in again.output and "sekret" not in again.output
    listed = CliRunner().invoke(cli, ["--db", url, "subscriptions"])
    assert listed.exit_code == 0 and len(listed.output.strip().splitlines()) == 3


def test_copy_to_counts_one_as_one_and_tells_of_papers_not_embedded_yet(
    tmp_path, monkeypatch, postgresql_url
):
    import numpy as np

    from bot.storage import Store
    from tests.storage.conftest import make_paper

    monkeypatch.delenv("PAPERBOT_CONFIG", raising=False)
    db = tmp_path / "one.db"
    store = Store(db)
    store.subscriptions.add(owner="U1", target="U1", topic="x", embedding=np.ones(4, np.float32))
    # Stored, not yet embedded: as an ingest running beside the copy leaves it.
    store.papers.upsert([make_paper("2608.00001")])
    store.close()
    copied = CliRunner().invoke(cli, ["--db", str(db), "copy-to", postgresql_url])
    assert copied.exit_code == 0, copied.output
    *_, note, summary = copied.output.strip().splitlines()
    assert note.startswith("1 of the papers had no embedding yet")
    assert summary.startswith("Copied 1 paper, 1 subscription and ")


def test_copy_to_needs_a_postgresql_url_and_an_existing_file(tmp_path, monkeypatch):
    monkeypatch.delenv("PAPERBOT_CONFIG", raising=False)
    missing = tmp_path / "missing.db"
    result = CliRunner().invoke(cli, ["--db", str(missing), "copy-to", "postgresql://u@h/db"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: There is no SQLite file {missing} to copy: choose it with --db PATH "
        "(or PAPERBOT_DB).\n"
    )
    result = CliRunner().invoke(cli, ["--db", str(missing), "copy-to", str(tmp_path / "x.db")])
    assert result.exit_code == 1 and "is not a PostgreSQL URL" in result.output


def test_copy_to_an_unreachable_server_names_no_option_to_change(tmp_path, monkeypatch):
    from bot.storage import Store

    monkeypatch.delenv("PAPERBOT_CONFIG", raising=False)
    Store(tmp_path / "one.db").close()
    target = "postgresql://nobody@127.0.0.1:1/paperbot"
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "one.db"), "copy-to", target])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: paperbot cannot use the database {target}: ")
    assert result.output.endswith(
        "Check that the server runs and the URL (user, password, host, database) is right.\n"
    )


def test_copy_to_waits_for_a_running_paperbot_to_stop(tmp_path, monkeypatch):
    from bot.instance import InstanceLock
    from bot.storage import Store

    monkeypatch.delenv("PAPERBOT_CONFIG", raising=False)
    db = tmp_path / "busy.db"
    Store(db).close()
    running = InstanceLock(f"{db}.lock")
    assert running.acquire()
    result = CliRunner().invoke(cli, ["--db", str(db), "copy-to", "postgresql://u@h/db"])
    running.release()
    assert result.exit_code == 1
    assert result.output == (
        f"Error: paperbot is running on {db} (it holds {db}.lock): stop it first, so that "
        "nothing it writes during the copy is lost.\n"
    )


def test_subscribe_says_how_it_reads_the_acronyms_of_a_topic(run):
    """The demo's papers define RAG three times, so a topic typed with it is read spelled out."""
    run("demo")
    result = run("subscribe", "RAG for code", "--user", "U1")
    assert "Papers are matched on 'retrieval augmented generation (RAG) for code'." in result.output
    listed = {s["topic"]: s for s in json.loads(run("subscriptions", "--json").output)}
    assert listed["RAG for code"]["embedded_as"] == "retrieval augmented generation (RAG) for code"
    # Typed in lower case too, as the demo's papers never write "rag" otherwise.
    result = run("subscribe", "rag for code", "--user", "U2")
    assert "Papers are matched on 'retrieval augmented generation (rag) for code'." in result.output


def test_a_global_option_after_the_command_is_told_where_it_goes():
    result = CliRunner().invoke(cli, ["search", "attention", "--db", "papers.db"])
    assert result.exit_code == 2
    assert "Error: --db goes before the command: paperbot --db PATH search ..." in result.stderr
