"""Matching quality on the shared evaluation set, measured through paperbot's own code.

Ranks the corpus for every judged query with `Search.search` (topic queries) and
`Search.similar` (liked-paper queries) under each method, and prints nDCG@5, recall@5 and
MRR. Then subscribes to each topic query at each strictness, treats all papers as new,
and prints the precision and recall of "would alert" (grade >= 1 is relevant), as
`Matcher.score` decides it before daily caps. Then the dev_day section (bench/dev_day.py),
when ../shared/eval/dev_day is there, and the same on the held-out bench/second_day,
bench/third_day, bench/fourth_day, bench/fifth_day and bench/sixth_day.

    .venv/bin/python bench/eval_matching.py [--eval-dir ../shared/eval] [--sweep]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
from pathlib import Path

from dev_day import HELD_OUT_DAYS, report
from evalset import DEFAULT_EVAL_DIR, EvalSet, load_eval, ndcg_at, recall_at, reciprocal_rank

from bot.match import STRICTNESS_LEVELS, threshold_for
from bot.search import METHODS
from bot.subscriptions import subscribe

LIMIT = 5


def ranking_table(evalset: EvalSet) -> list[tuple]:
    """(method, kind, nDCG@5, recall@5, MRR) for every method and query kind."""
    search = evalset.services.search
    rows = []
    for method in METHODS:
        for kind, queries in (("topic", evalset.topic_queries), ("liked", evalset.liked_queries)):
            ndcg, recall, mrr = [], [], []
            for query in queries:
                if kind == "topic":
                    hits = search.search(
                        query["query"], limit=len(evalset.ids_by_title), method=method
                    )
                else:
                    liked = evalset.ids_by_title[query["liked_title"]]
                    hits = search.similar(liked, limit=len(evalset.ids_by_title), method=method)
                ranked = [hit.paper.id for hit in hits]
                grades = evalset.relevant(query)
                ndcg.append(ndcg_at(ranked, grades, LIMIT))
                recall.append(recall_at(ranked, grades, LIMIT))
                mrr.append(reciprocal_rank(ranked, grades))
            rows.append(
                (method, kind, statistics.mean(ndcg), statistics.mean(recall), statistics.mean(mrr))
            )
    return rows


def subscribe_all(evalset: EvalSet, strictness: str) -> dict[int, dict[str, int]]:
    """One subscription per topic query, each for its own user; id -> judged grades."""
    services = evalset.services
    for subscription in services.store.subscriptions.all():
        services.store.subscriptions.remove(subscription.id)
    judged = {}
    for n, query in enumerate(evalset.topic_queries):
        subscription = subscribe(
            services.store,
            services.embedder,
            topic=query["query"],
            owner=f"UEVAL{n:03d}",
            strictness=strictness,
        )
        judged[subscription.id] = evalset.relevant(query)
    return judged


def alert_pairs(evalset: EvalSet) -> set[tuple[int, str]]:
    """(subscription id, paper id) of every would-be alert, all papers treated as new."""
    alerts = evalset.services.matcher.score(list(evalset.ids_by_title.values()))
    return {(m.subscription_id, a.paper_id) for a in alerts for m in a.matches}


def precision_recall(pairs: set, judged: dict[int, dict[str, int]]) -> tuple[float, float]:
    relevant = {(s, p) for s, grades in judged.items() for p in grades}
    hits = len(pairs & relevant)
    return hits / len(pairs) if pairs else 0.0, hits / len(relevant)


def alert_table(evalset: EvalSet) -> list[tuple]:
    """(strictness, threshold, alerts, precision, recall) for each strictness level."""
    rows = []
    for strictness in STRICTNESS_LEVELS:
        judged = subscribe_all(evalset, strictness)
        pairs = alert_pairs(evalset)
        some = evalset.services.store.subscriptions.get(next(iter(judged)))
        threshold = threshold_for(some, evalset.services.matcher.config)
        rows.append((strictness, threshold, len(pairs), *precision_recall(pairs, judged)))
    return rows


def sweep(evalset: EvalSet) -> list[tuple]:
    """Precision and recall at a range of thresholds (for choosing the defaults)."""
    judged = subscribe_all(evalset, "broad")
    services = evalset.services
    rows = []
    for threshold in [t / 100 for t in range(20, 85, 5)]:
        for subscription_id in judged:
            services.store.subscriptions.update(subscription_id, threshold=threshold)
        pairs = alert_pairs(evalset)
        rows.append((threshold, len(pairs), *precision_recall(pairs, judged)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--config", help="A paperbot TOML file laid over the defaults.")
    parser.add_argument("--sweep", action="store_true", help="Also sweep the threshold.")
    args = parser.parse_args()
    if not (args.eval_dir / "seed_papers.json").is_file():
        parser.error(f"no shared evaluation set in {args.eval_dir}; name its folder: --eval-dir")
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        evalset = load_eval(args.eval_dir, Path(tmp) / "eval.db", args.config)
        print(
            f"{len(evalset.ids_by_title)} papers, {len(evalset.topic_queries)} topic and "
            f"{len(evalset.liked_queries)} liked-paper queries\n"
        )
        print(f"{'method':8} {'queries':8} {'nDCG@5':>7} {'recall@5':>9} {'MRR':>6}")
        for method, kind, ndcg, recall, mrr in ranking_table(evalset):
            print(f"{method:8} {kind:8} {ndcg:7.3f} {recall:9.3f} {mrr:6.3f}")
        print(f"\n{'strictness':10} {'threshold':>9} {'alerts':>6} {'precision':>9} {'recall':>6}")
        for strictness, threshold, count, precision, recall in alert_table(evalset):
            print(f"{strictness:10} {threshold:9.2f} {count:6d} {precision:9.3f} {recall:6.3f}")
        if args.sweep:
            print(f"\n{'threshold':>9} {'alerts':>6} {'precision':>9} {'recall':>6}")
            for threshold, count, precision, recall in sweep(evalset):
                print(f"{threshold:9.2f} {count:6d} {precision:9.3f} {recall:6.3f}")
        evalset.services.store.close()
    dev_day = args.eval_dir / "dev_day"
    if (dev_day / "judgments.json").exists():
        print()
        report(dev_day, args.config)
    for held_out in HELD_OUT_DAYS:
        print()
        report(held_out, args.config)


if __name__ == "__main__":
    main()
