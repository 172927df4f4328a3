"""Load the shared matching evaluation set into a fresh paperbot database (for the benches).

Papers get ids `eval:NNN`; the queries are read from the files at run time, so nothing about
them lives in the product.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

from bot.papers import Paper
from bot.services import Services, build_services
from bot.settings import DatabaseSettings, load_settings

DEFAULT_EVAL_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"


@dataclass
class EvalSet:
    services: Services
    ids_by_title: dict[str, str]
    topic_queries: list[dict]
    liked_queries: list[dict]

    def relevant(self, query: dict) -> dict[str, int]:
        """Paper id -> grade (1 or 2) of the papers judged relevant to `query`."""
        return {self.ids_by_title[title]: grade for title, grade in query["relevant"].items()}


def load_eval(eval_dir: Path, db_path: Path, config: str | None = None, embedder=None) -> EvalSet:
    """A database holding the evaluation corpus, embedded, with the configured services.

    `embedder` replaces the configured one (the encoding benchmark passes its candidates).
    """
    settings = load_settings(config_path=config, env={})
    settings = replace(settings, database=DatabaseSettings(path=str(db_path)))
    services = build_services(settings, embedder=embedder)
    corpus = json.loads((eval_dir / "seed_papers.json").read_text())
    queries = json.loads((eval_dir / "dev_queries.json").read_text())
    papers = [
        Paper(id=f"eval:{i:03d}", title=p["title"], abstract=p["abstract"], url="")
        for i, p in enumerate(corpus)
    ]
    services.store.papers.upsert(papers)
    services.pipeline.embed_missing()
    return EvalSet(
        services=services,
        ids_by_title={p.title: p.id for p in papers},
        topic_queries=queries["topic_queries"],
        liked_queries=queries["liked_paper_queries"],
    )


def ndcg_at(ranked: list[str], grades: dict[str, int], k: int = 5) -> float:
    gains = sum(grades.get(p, 0) / math.log2(i + 2) for i, p in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return gains / best if best else 0.0


def recall_at(ranked: list[str], grades: dict[str, int], k: int = 5) -> float:
    return len(set(ranked[:k]) & set(grades)) / len(grades) if grades else 0.0


def reciprocal_rank(ranked: list[str], grades: dict[str, int]) -> float:
    for rank, paper_id in enumerate(ranked, start=1):
        if paper_id in grades:
            return 1.0 / rank
    return 0.0
