"""Does feedback make alerts better? A simulation on the shared evaluation set.

Each topic query becomes a subscription (normal strictness). The papers are shuffled and
split into a stream that arrives a few papers a day, and held-out papers that arrive
later. Each day the stream's new papers are matched as the bot would match them, and the
subscriber judges every alert it was sent, as a user would (relevant when the judgments
give grade >= 1), through `record_feedback`, the function the Slack buttons call. Each
time a subscription reaches 2, 4, 6, 8 judged alerts (and at the end, for 10 or more), its
alerts on the held-out papers are measured: precision and recall at its threshold.

On this small corpus a subscription is sent only two or three alerts from the stream, so
`--judge ranked` also simulates a subscriber who reviews more: each round they judge the
best-scored stream paper they have not judged, alerted or not (as from "More like this"
or a search), up to 12 papers.

Subscriptions that collect many judgments are not the same as those that collect few, so
each row also shows the same subscriptions' figures before any feedback ("at 0").
Pooled over several random splits.

    .venv/bin/python bench/feedback_curve.py [--eval-dir ../shared/eval] [--splits 5]
"""

from __future__ import annotations

import argparse
import logging
import random
import tempfile
from pathlib import Path

import numpy as np
from eval_matching import subscribe_all
from evalset import DEFAULT_EVAL_DIR, EvalSet, load_eval

from bot.feedback import record_feedback
from bot.match import evidence, threshold_for

CHECKPOINTS = (2, 4, 6, 8)
MANY = 10
PAPERS_PER_DAY = 6
RANKED_JUDGMENTS = 12


def held_out_alerts(evalset: EvalSet, subscription_id: int, held_out: list[str]) -> set[str]:
    """The held-out papers that alert for this subscription now (it has no filters)."""
    services = evalset.services
    subscription = services.store.subscriptions.get(subscription_id)
    corpus = services.matcher.corpus()
    scores = evidence(services.store, subscription, corpus).score
    threshold = threshold_for(subscription, services.matcher.config)
    return {p for p in held_out if scores[corpus.index[p]] >= threshold}


def run_split(evalset: EvalSet, seed: int, stream_share: float, judge: str) -> list[tuple]:
    """(bucket, subscription, alerts, hits, relevant) measurements on the held-out papers."""
    services = evalset.services
    ids = sorted(evalset.ids_by_title.values())
    random.Random(seed).shuffle(ids)
    cut = round(len(ids) * stream_share)
    stream, held_out = ids[:cut], ids[cut:]
    grades = subscribe_all(evalset, "normal")
    relevant = {s: {p for p in g if p in held_out} for s, g in grades.items()}

    def measure(bucket: int | str, subscription_id: int) -> tuple:
        alerts = held_out_alerts(evalset, subscription_id, held_out)
        hits = len(alerts & relevant[subscription_id])
        return (bucket, subscription_id, len(alerts), hits, len(relevant[subscription_id]))

    rows = [measure(0, s) for s in grades]
    judged: dict[int, set[str]] = {s: set() for s in grades}

    def judge_one(s: int, paper_id: str) -> None:
        value = 1 if paper_id in grades[s] else -1
        record_feedback(services.store, "USIM", paper_id, s, value, matcher=services.matcher)
        judged[s].add(paper_id)
        if len(judged[s]) in CHECKPOINTS:
            rows.append(measure(len(judged[s]), s))

    if judge == "alerts":
        for day in range(0, len(stream), PAPERS_PER_DAY):
            for alert in services.matcher.score(stream[day : day + PAPERS_PER_DAY]):
                for match in alert.matches:
                    judge_one(match.subscription_id, alert.paper_id)
    else:
        for s in grades:
            while len(judged[s]) < RANKED_JUDGMENTS:
                judge_one(s, best_unjudged(evalset, s, set(stream) - judged[s]))
    rows += [measure(f"{MANY}+", s) for s, papers in judged.items() if len(papers) >= MANY]
    return rows


def best_unjudged(evalset: EvalSet, subscription_id: int, candidates: set[str]) -> str:
    """The best-scored stream paper the subscriber has not judged yet."""
    services = evalset.services
    subscription = services.store.subscriptions.get(subscription_id)
    corpus = services.matcher.corpus()
    scores = evidence(services.store, subscription, corpus).score
    return min(candidates, key=lambda p: (-scores[corpus.index[p]], p))


def summarise(rows: list[tuple]) -> list[tuple]:
    """Per bucket: subscriptions, alerts, precision, recall, and the same at 0 judged."""
    at_zero = {(split, s): (a, h, r) for split, (b, s, a, h, r) in rows if b == 0}
    table = []
    for bucket in (0, *CHECKPOINTS, f"{MANY}+"):
        mine = [(split, s, a, h, r) for split, (b, s, a, h, r) in rows if b == bucket]
        if not mine:
            continue
        now = np.sum([(a, h, r) for _, _, a, h, r in mine], axis=0)
        before = np.sum([at_zero[(split, s)] for split, s, *_ in mine], axis=0)
        table.append((bucket, len(mine), *ratios(now), *ratios(before)))
    return table


def ratios(totals) -> tuple[int, float, float]:
    alerts, hits, relevant = (int(x) for x in totals)
    return alerts, hits / alerts if alerts else 0.0, hits / relevant if relevant else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--config", help="A paperbot TOML file laid over the defaults.")
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--stream-share", type=float, default=0.67, help="Papers judged.")
    parser.add_argument(
        "--judge",
        choices=("alerts", "ranked"),
        default="alerts",
        help="Judge only the alerts sent, or also the best-scored papers not alerted.",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        evalset = load_eval(args.eval_dir, Path(tmp) / "eval.db", args.config)
        for seed in range(args.splits):
            rows += [(seed, row) for row in run_split(evalset, seed, args.stream_share, args.judge)]
        evalset.services.store.close()
    print(
        f"judging {args.judge}; held-out papers matched as new; "
        f"{args.splits} random splits, pooled\n"
    )
    print(
        f"{'judged':>6} {'subs':>5} {'alerts':>6} {'precision':>9} {'recall':>6} "
        f"{'| at 0:':>7} {'alerts':>6} {'precision':>9} {'recall':>6}"
    )
    for bucket, subs, alerts, precision, recall, alerts0, precision0, recall0 in summarise(rows):
        print(
            f"{bucket!s:>6} {subs:5d} {alerts:6d} {precision:9.3f} {recall:6.3f} "
            f"{'':7} {alerts0:6d} {precision0:9.3f} {recall0:6.3f}"
        )


if __name__ == "__main__":
    main()
