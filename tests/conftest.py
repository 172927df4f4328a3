"""Shared fixtures: one real embedding model per test session, a fresh database per test."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from bot.embed import Embedder
from bot.papers import Paper
from bot.services import build_services
from bot.settings import load_settings
from tests.fake_slack import FakeSlack
from tests.postgres import EmbeddedServer

FIXTURES = Path(__file__).parent / "fixtures"
BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc):
    """The storage tests (tests/storage/) and the modules marked `both_backends` (pipeline,
    delivery, crash recovery) run on SQLite and on PostgreSQL: their database comes from
    the `backend` parameter. Tests marked `sqlite_only` (SQLite's own files and features)
    run on SQLite alone. No test is skipped: a PostgreSQL variant is simply not generated."""
    if "backend" not in metafunc.fixturenames:
        return
    definition = metafunc.definition
    both = "storage" in definition.path.parts or definition.get_closest_marker("both_backends")
    if both and not definition.get_closest_marker("sqlite_only"):
        metafunc.parametrize("backend", BACKENDS)


@pytest.fixture
def backend() -> str:
    """The database system of the test's database: SQLite unless parametrized above."""
    return "sqlite"


@pytest.fixture
def location(backend, request, tmp_path) -> str:
    """Where the test's database is: a SQLite file, or a fresh PostgreSQL database."""
    if backend == "postgresql":
        return request.getfixturevalue("postgresql_url")
    return str(tmp_path / "paperbot.db")


class RememberingEmbedder(Embedder):
    """The real model, which encodes each text once per test session: the tests store the
    same papers (and their sentences) again and again."""

    def __init__(self):
        super().__init__("bundled")
        self.remembered: dict[tuple[str, str], np.ndarray] = {}

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return super()._encode(texts)
        new = [t for t in dict.fromkeys(texts) if (self.precision.name, t) not in self.remembered]
        if new:
            for text, vector in zip(new, super()._encode(new), strict=True):
                self.remembered[(self.precision.name, text)] = vector
        return np.stack([self.remembered[(self.precision.name, t)] for t in texts])


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real bundled model, loaded once: matching and search are never tested on fakes."""
    model = RememberingEmbedder()
    model.load()
    return model


@pytest.fixture
def settings(location, monkeypatch):
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "PAPERBOT_CONFIG", "PAPERBOT_DB"):
        monkeypatch.delenv(name, raising=False)
    return load_settings(db_path=location, env={})


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
