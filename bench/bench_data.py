"""Realistic synthetic papers for the benchmarks: real sentences recombined, seeded.

Sentences, titles, authors and categories come from the real arXiv and Hugging Face
captures in tests/fixtures/feeds and from tests/fixtures/eval_papers.json.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from xml.sax.saxutils import escape

from bot.papers import Paper
from bot.sources import parse_feed

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def real_papers() -> list[Paper]:
    """Every paper with an abstract in the fixture captures, once each."""
    found: dict[str, Paper] = {}
    for path in sorted((FIXTURES / "feeds").rglob("*")):
        if path.suffix in (".xml", ".json") and path.is_file():
            for paper in parse_feed(path.read_bytes(), url=str(path)).papers:
                if paper.abstract:
                    found.setdefault(paper.id, paper)
    for i, item in enumerate(json.loads((FIXTURES / "eval_papers.json").read_text())):
        found[f"eval.{i}"] = Paper(
            id=f"eval.{i}", title=item["title"], abstract=item["abstract"], url=""
        )
    return list(found.values())


def sentences_of(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if len(s) > 20]


def synthetic_papers(count: int, seed: int = 7) -> list[Paper]:
    """`count` papers whose abstracts mix the sentences of two real papers."""
    rng = random.Random(seed)
    real = real_papers()
    per_paper = [sentences_of(p.abstract) for p in real]
    papers = []
    for i in range(count):
        a, b = rng.randrange(len(real)), rng.randrange(len(real))
        pool = per_paper[a] + rng.sample(per_paper[b], min(3, len(per_paper[b])))
        abstract = " ".join(rng.sample(pool, min(len(pool), rng.randint(5, 9))))
        month, number = divmod(i, 90_000)
        papers.append(
            Paper(
                id=f"{2601 + month}.{number + 10_000:05d}",
                title=real[a].title,
                abstract=abstract,
                url=f"https://arxiv.org/abs/{2601 + month}.{number + 10_000:05d}",
                authors=real[a].authors or ["A. Author"],
                categories=real[a].categories or ["cs.LG"],
                primary_category=(real[a].categories or ["cs.LG"])[0],
                version=1,
                announce_type="new",
                published="2026-08-21",
            )
        )
    return papers


def arxiv_rss(papers: list[Paper]) -> bytes:
    """An arXiv listing RSS 2.0 document announcing `papers`, shaped like the real one."""
    items = []
    for p in papers:
        categories = "".join(f"<category>{escape(c)}</category>" for c in p.categories)
        items.append(
            f"<item><title>{escape(p.title)}</title>"
            f"<link>https://arxiv.org/abs/{p.id}</link>"
            f"<description>arXiv:{p.id}v1 Announce Type: new \nAbstract: "
            f"{escape(p.abstract)}</description>"
            f'<guid isPermaLink="false">oai:arXiv.org:{p.id}v1</guid>{categories}'
            "<pubDate>Fri, 21 Aug 2026 00:00:00 -0400</pubDate>"
            "<arxiv:announce_type>new</arxiv:announce_type>"
            f"<dc:creator>{escape(', '.join(p.authors))}</dc:creator></item>"
        )
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        '<rss xmlns:arxiv="http://arxiv.org/schemas/atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0"><channel>'
        "<title>cs.LG updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs.LG</link>"
        "<description>cs.LG updates on the arXiv.org e-print archive.</description>"
        f"<pubDate>Fri, 21 Aug 2026 00:00:00 -0400</pubDate>{''.join(items)}</channel></rss>"
    ).encode()


def topics(count: int, seed: int = 11) -> list[str]:
    """Subscription topics: two to five consecutive words of real titles."""
    rng = random.Random(seed)
    titles = [re.findall(r"[A-Za-z][\w-]*", p.title) for p in real_papers()]
    titles = [t for t in titles if len(t) >= 3]
    found = []
    for _ in range(count):
        words = rng.choice(titles)
        length = rng.randint(2, min(5, len(words)))
        start = rng.randrange(len(words) - length + 1)
        found.append(" ".join(words[start : start + length]).lower())
    return found
