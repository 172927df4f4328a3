"""Shared fixtures: one real embedding model per test session, a fresh database per test."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest

from bot.embed import Embedder
from bot.papers import Paper
from bot.services import build_services
from bot.settings import load_settings
from tests.fake_slack import FakeSlack
from tests.postgres import EmbeddedServer

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real bundled model, loaded once: matching and search are never tested on fakes."""
    model = Embedder("bundled")
    model.load()
    return model


@pytest.fixture
def settings(tmp_path, monkeypatch):
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "PAPERBOT_CONFIG", "PAPERBOT_DB"):
        monkeypatch.delenv(name, raising=False)
    return load_settings(db_path=str(tmp_path / "paperbot.db"), env={})


@pytest.fixture
def services(settings, embedder):
    return build_services(settings, embedder=embedder)


@pytest.fixture
def slack():
    """A local fake of the Slack Web API (tests/fake_slack.py), recording every call."""
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def eval_corpus(services) -> dict[str, str]:
    """The 54 papers of tests/fixtures/eval_papers.json, stored and embedded; id -> title."""
    papers = json.loads((FIXTURES / "eval_papers.json").read_text())
    services.store.papers.upsert(
        [
            Paper(id=f"eval.{i:03d}", title=p["title"], abstract=p["abstract"], url="")
            for i, p in enumerate(papers)
        ]
    )
    services.pipeline.embed_missing()
    return {f"eval.{i:03d}": p["title"] for i, p in enumerate(papers)}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def feed_server(tmp_path):
    """A local HTTP server serving the files put in its `root` folder."""
    root = tmp_path / "served"
    root.mkdir()

    def handler(*args, **kwargs):
        return _QuietHandler(*args, directory=str(root), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.root = root
    server.url = f"http://127.0.0.1:{server.server_address[1]}/"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """The session's embedded PostgreSQL server (tests/postgres.py), started on first use."""
    server = EmbeddedServer(tmp_path_factory.mktemp("postgres"))
    yield server
    server.stop()


@pytest.fixture
def postgresql_url(postgres_server):
    """The URL of a fresh, empty PostgreSQL database for this test; fails if there is none."""
    url = postgres_server.new_database()
    yield url
    postgres_server.drop_database(url)
