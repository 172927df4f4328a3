import pytest

from bot.papers import Paper
from bot.storage import Store


def make_paper(pid="2608.00001", version=1, title="A paper", abstract="About things.", **kw):
    return Paper(
        id=pid,
        title=title,
        abstract=abstract,
        url=f"https://arxiv.org/abs/{pid}",
        version=version,
        authors=kw.pop("authors", ["Ada Lovelace", "Alan Turing"]),
        categories=kw.pop("categories", ["cs.CL", "cs.AI"]),
        **kw,
    )


BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc):
    """Tests that use `store` run on both backends, except those marked `sqlite_only`
    (SQLite's own features: FTS5 search, files, migrations of old files), which run on
    SQLite alone. No test is skipped: a PostgreSQL variant is simply not generated."""
    if "backend" in metafunc.fixturenames:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize("backend", ("sqlite",) if sqlite_only else BACKENDS)


@pytest.fixture
def location(backend, request, tmp_path):
    """Where the test's database is: a SQLite file, or a fresh PostgreSQL database."""
    if backend == "postgresql":
        return request.getfixturevalue("postgresql_url")
    return str(tmp_path / "p.db")


@pytest.fixture
def store(location):
    store = Store(location)
    yield store
    store.close()
