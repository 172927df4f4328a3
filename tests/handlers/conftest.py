"""The real bolt app served by waitress on loopback, its Web API pointed at FakeSlack.

Tests send requests shaped and signed the way Slack sends them, then wait (bounded) for
what the listener, running after its ack in bolt's thread pool, posts to FakeSlack.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import HttpServer, build_bolt_app
from bot.deliver import make_slack_client
from bot.services import Services, build_services
from bot.settings import SlackSettings, load_settings
from bot.sources import parse_feed
from tests.fake_slack import FakeSlack

SIGNING_SECRET = "test-signing-secret"
FEEDS = Path(__file__).parent.parent / "fixtures" / "feeds"
SAMPLE_FEED = FEEDS / "arxiv_rss2" / "arxiv_rss2_cs.CL_2026-08-21.xml"
WAIT_SECONDS = 15


@dataclass
class Answer:
    status: int
    body: str


class SlackApp:
    """A running paperbot Slack app and the ways a test talks to it like Slack does."""

    def __init__(self, services: Services, fake: FakeSlack, url: str):
        self.services = services
        self.fake = fake
        self.url = url
        self._responses = 0

    # -- sending ------------------------------------------------------------

    def post(self, body: bytes, content_type: str, timestamp: int | None = None, secret=None):
        """POST /slack/events signed with v0 HMAC-SHA256, as Slack does."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        base = f"v0:{timestamp}:".encode() + body
        key = (secret or SIGNING_SECRET).encode()
        signature = "v0=" + hmac.new(key, base, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            self.url + "/slack/events",
            data=body,
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": str(timestamp),
                "X-Slack-Signature": signature,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Answer(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read().decode())

    def command(self, text: str, user: str = "U1", channel: str = "C1", **signing) -> Answer:
        """`/papers <text>` as Slack posts it: form-encoded, with a response_url."""
        form = {
            "token": "verification-token-unused",
            "team_id": "T0001",
            "team_domain": "paperbot-test",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/papers",
            "text": text,
            "api_app_id": "A0001",
            "is_enterprise_install": "false",
            "response_url": self.fake.response_url("cmd"),
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
        body = urllib.parse.urlencode(form).encode()
        return self.post(body, "application/x-www-form-urlencoded", **signing)

    def click(
        self,
        action_id: str,
        value: str,
        user: str = "U1",
        channel: str = "C1",
        message: dict | None = None,
        view: dict | None = None,
        block_id: str = "b1",
    ) -> Answer:
        """A block_actions payload, form-encoded as `payload=<json>` like Slack sends it."""
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": "T0001"},
            "api_app_id": "A0001",
            "token": "verification-token-unused",
            "team": {"id": "T0001", "domain": "paperbot-test"},
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": block_id,
                    "value": value,
                    "text": {"type": "plain_text", "text": "x"},
                    "action_ts": str(time.time()),
                }
            ],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": "V1"}
            payload["view"] = view
        else:
            payload["container"] = {"type": "message", "channel_id": channel, "is_ephemeral": False}
            payload["channel"] = {"id": channel, "name": "general"}
            payload["response_url"] = self.fake.response_url("act")
            if message is not None:
                payload["container"]["message_ts"] = message["ts"]
                payload["message"] = message
        return self.send_payload(payload)

    def submit_view(self, view: dict, user: str = "U1") -> Answer:
        payload = {
            "type": "view_submission",
            "team": {"id": "T0001", "domain": "paperbot-test"},
            "user": {"id": user, "username": user.lower(), "team_id": "T0001"},
            "api_app_id": "A0001",
            "token": "verification-token-unused",
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
            "view": view,
        }
        return self.send_payload(payload)

    def send_payload(self, payload: dict) -> Answer:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded")

    def event(self, event: dict) -> Answer:
        """A JSON event callback."""
        envelope = {
            "token": "verification-token-unused",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{time.time_ns()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T0001", "user_id": "UBOT", "is_bot": True}],
        }
        return self.post(json.dumps(envelope).encode(), "application/json")

    # -- waiting for what the listener did -----------------------------------

    def next_response(self) -> dict:
        """The next respond() post this test has not looked at yet."""
        wait_until(lambda: len(self.fake.responses) > self._responses, "a response")
        self._responses += 1
        return self.fake.responses[self._responses - 1]

    def wait_for_call(self, method: str, count: int = 1) -> list[dict]:
        wait_until(lambda: len(self.fake.calls_to(method)) >= count, f"{count} {method}")
        return self.fake.calls_to(method)


def wait_until(condition, what: str) -> None:
    """Poll until `condition()` holds, failing after WAIT_SECONDS: it waits, it times nothing."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def response_text(response: dict) -> str:
    """Everything a person reads in a message: its text and every text in its blocks, plus
    the action ids of its buttons (button values, which nobody sees, are left out)."""
    found = [response.get("text", "")]

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "action_id") and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(response.get("blocks", []))
    return "\n".join(found)


def load_sample_papers(services: Services) -> list[str]:
    """Store and embed the bundled arXiv cs.CL listing; returns the paper ids."""
    papers = parse_feed(SAMPLE_FEED.read_bytes(), str(SAMPLE_FEED)).papers
    services.store.papers.upsert(papers)
    services.pipeline.embed_missing()
    return [p.id for p in papers]


@pytest.fixture(scope="session")
def sample_database(tmp_path_factory, embedder) -> Path:
    """A database holding the sample papers and their embeddings, made once: embedding is
    the slow part, and every test gets its own copy."""
    path = tmp_path_factory.mktemp("sample") / "sample.db"
    settings = load_settings(db_path=str(path), env={})
    services = build_services(settings, embedder=embedder)
    load_sample_papers(services)
    services.store.close()
    return path


def copy_database(source: Path, destination: str) -> None:
    """Copy with SQLite's backup API, which is safe for a database in WAL mode."""
    with sqlite3.connect(source) as old, sqlite3.connect(destination) as new:
        old.backup(new)


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def slack_app(settings, embedder, fake, sample_database, monkeypatch):
    """The whole Slack surface, over HTTP on 127.0.0.1, with the sample papers stored."""
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    slack = SlackSettings(
        bot_token="xoxb-test", signing_secret=SIGNING_SECRET, api_base_url=fake.base_url
    )
    settings = dataclasses.replace(settings, slack=slack)
    copy_database(sample_database, settings.database.path)
    client = make_slack_client("xoxb-test", fake.base_url)
    services = build_services(settings, slack=client, embedder=embedder)
    app = build_bolt_app(services)
    server = HttpServer(app, services, "127.0.0.1", 0, threads=4)
    yield SlackApp(services, fake, f"http://127.0.0.1:{server.server.effective_port}")
    server.stop()
