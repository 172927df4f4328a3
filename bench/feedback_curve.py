"""Does feedback make alerts better? A simulation on the shared evaluation set.

Each topic query becomes a subscription (normal strictness). The papers are split at
random into a stream the subscriber sees and judges, and held-out papers that arrive
later. The subscriber judges the stream's papers best-scored first (relevant when the
judgments give grade >= 1), through `record_feedback`, the function the Slack buttons
call; after each round the held-out papers are matched as new, and the precision and
recall of "would alert" at the subscription's threshold are printed against the number
of judged alerts per subscription. Averaged over several random splits.

    .venv/bin/python bench/feedback_curve.py [--eval-dir ../shared/eval] [--splits 5]
"""

from __future__ import annotations

import argparse
import logging
import random
import tempfile
from pathlib import Path

from eval_matching import subscribe_all
from evalset import DEFAULT_EVAL_DIR, EvalSet, load_eval

from bot.feedback import record_feedback

JUDGMENT_COUNTS = (0, 2, 4, 6, 8, 10, 12)


def run_split(evalset: EvalSet, seed: int) -> list[tuple[int, int, int, int]]:
    """(judged, alerts, hits, relevant) on the held-out papers after each round."""
    services = evalset.services
    ids = sorted(evalset.ids_by_title.values())
    random.Random(seed).shuffle(ids)
    stream, held_out = set(ids[: len(ids) // 2]), ids[len(ids) // 2 :]
    judged_grades = subscribe_all(evalset, "normal")
    judged: dict[int, set[str]] = {s: set() for s in judged_grades}
    rows = []
    for count in JUDGMENT_COUNTS:
        for subscription_id, grades in judged_grades.items():
            while len(judged[subscription_id]) < count:
                paper_id = next_to_judge(evalset, subscription_id, stream - judged[subscription_id])
                if paper_id is None:
                    break
                value = 1 if paper_id in grades else -1
                record_feedback(
                    services.store,
                    "USIM",
                    paper_id,
                    subscription_id,
                    value,
                    matcher=services.matcher,
                )
                judged[subscription_id].add(paper_id)
        alerts = services.matcher.score(held_out)
        pairs = {(m.subscription_id, a.paper_id) for a in alerts for m in a.matches}
        held = {
            s: {p: g for p, g in grades.items() if p in held_out}
            for s, grades in judged_grades.items()
        }
        relevant = {(s, p) for s, grades in held.items() for p in grades}
        rows.append((count, len(pairs), len(pairs & relevant), len(relevant)))
    return rows


def next_to_judge(evalset: EvalSet, subscription_id: int, candidates: set[str]) -> str | None:
    """The best-scored stream paper not yet judged: the alert the subscriber sees next."""
    from bot.match import evidence

    services = evalset.services
    subscription = services.store.get_subscription(subscription_id)
    corpus = services.matcher.corpus()
    scores = evidence(services.store, subscription, corpus, services.matcher.config).score
    ranked = sorted(candidates, key=lambda p: (-scores[corpus.index[p]], p))
    return ranked[0] if ranked else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--config", help="A paperbot TOML file laid over the defaults.")
    parser.add_argument("--splits", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    totals: dict[int, list[int]] = {count: [0, 0, 0] for count in JUDGMENT_COUNTS}
    with tempfile.TemporaryDirectory() as tmp:
        evalset = load_eval(args.eval_dir, Path(tmp) / "eval.db", args.config)
        for seed in range(args.splits):
            for count, alerts, hits, relevant in run_split(evalset, seed):
                totals[count][0] += alerts
                totals[count][1] += hits
                totals[count][2] += relevant
        evalset.services.store.close()
    print(f"held-out papers matched as new; {args.splits} random splits, pooled\n")
    print(f"{'judged':>6} {'alerts':>6} {'precision':>9} {'recall':>6}")
    for count, (alerts, hits, relevant) in totals.items():
        precision = hits / alerts if alerts else 0.0
        print(f"{count:6d} {alerts:6d} {precision:9.3f} {hits / relevant:6.3f}")


if __name__ == "__main__":
    main()
