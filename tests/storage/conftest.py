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


@pytest.fixture
def store(location):
    store = Store(location)
    yield store
    store.close()
