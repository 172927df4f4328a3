"""Signatures, stale timestamps, the health check, and Slack's 429 retried."""

import http.client
import json
import logging
import time
import urllib.request


def test_bad_signature_is_refused(slack_app):
    assert slack_app.command("help", secret="wrong-secret").status == 401
    assert slack_app.fake.responses == []


def test_timestamp_older_than_five_minutes_is_refused(slack_app):
    assert slack_app.command("help", timestamp=int(time.time()) - 301).status == 401


def test_healthz(slack_app):
    with urllib.request.urlopen(slack_app.url + "/healthz", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read())["ok"] is True


def test_rate_limited_views_publish_is_retried(slack_app):
    slack_app.fake.fail_next("views.publish", status=429, retry_after=1)
    slack_app.event({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"})
    slack_app.wait_for_call("views.publish")
    assert len(slack_app.fake.calls_to("views.publish", include_failed=True)) == 2


def test_rate_limited_response_url_is_retried(slack_app):
    slack_app.fake.fail_next("respond", status=429, retry_after=1)
    slack_app.command("help")
    assert "/papers search" in json.dumps(slack_app.next_response())


def test_a_failure_inside_a_listener_apologises(slack_app, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(slack_app.services.search, "search", broken)
    slack_app.command("search sparse attention")
    text = json.dumps(slack_app.next_response())
    assert "Sorry" in text and "database on fire" not in text


def test_a_timestamp_that_is_not_a_number_is_refused(slack_app):
    assert slack_app.command("help", timestamp="soon").status == 401
    assert slack_app.fake.responses == []


def test_a_large_body_is_refused_before_it_is_sent(slack_app):
    """300 MB announced: the answer comes from the headers alone, with no body sent."""
    host, port = slack_app.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/slack/events")
    connection.putheader("Content-Type", "application/x-www-form-urlencoded")
    connection.putheader("Content-Length", str(300 * 1024 * 1024))
    connection.endheaders()

    assert connection.getresponse().status == 413
    connection.close()
    # The app still answers.
    assert slack_app.command("help").status == 200


def test_a_refused_body_is_never_logged(slack_app, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="slack_bolt.RequestVerification")
    body = b"text=SECRET-BODY-MARKER\nINFO forged log line"

    answer = slack_app.post(body, "application/x-www-form-urlencoded", secret="wrong-secret")

    assert answer.status == 401
    assert "SECRET-BODY-MARKER" not in caplog.text and "forged" not in caplog.text
