"""Refit bot/relevance.py's weights on dev_day's judged pairs, through paperbot's own features.

Every judged (subscription, paper) pair of the day (grade >= 1 relevant, 0 not) gives the
eight features as matching computes them for a new subscription: the cosine of the topic and
the paper's closest sentence (or, for the SEARCH weights, its whole text), the whole text's
z-score against the topic moved towards its anchors (match.evidence_features: chosen with
the shipped weights, so a refit moves them a little), the three word coverages, the topic's
breadth (the same for all of a topic's papers, so SEARCH ships with none: it cannot change a
ranking) and the mean rarity of the words of the topic's best part that the paper holds
(SEARCH ships with none either: search ranks worse with it), and the share of the paper's
nearest papers among the topic's best (SEARCH ships with none: search has no such feature).
The word coverages are the alerts' (companion words discounted, relevance.companion_shares),
which search's are not, so the SEARCH rows are a guide only; bench/dev_day.py measures
search. An L2-penalised logistic regression (penalty 0.01 on the weights, none on the bias)
is fitted to them, and its weights are printed beside the shipped ones with precision /
recall at the default threshold and precision at recall 0.60 (the ranking, whatever the
threshold), on the day itself and on the held-out second to sixth days (bench/second_day,
bench/third_day, bench/fourth_day, bench/fifth_day, bench/sixth_day).

Two more tables say where the alerts' errors come from. Leave one day out: weights fitted on
all the days but one, each day left out in turn, and on all of them, scored on each day, so whether
more judged days would make a better model shows on the day each fit did not see. In
hindsight: each topic cut at the score that serves it best (F0.7, precision weighed over
recall, as ../shared/eval/FINDINGS.md chooses), with the shipped weights: what a perfect
choice of each subscription's threshold would reach with the same scores.

    .venv/bin/python bench/fit_relevance.py
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
from dev_day import (
    DEFAULT_DIR,
    HELD_OUT_DAYS,
    fresh_services,
    load_papers,
    store,
)
from scipy.optimize import minimize

from bot import relevance
from bot.match import base_profile, evidence_features, sentences_by_row
from bot.settings import load_settings
from bot.subscriptions import subscribe

PENALTY = 0.01
DEFAULT_THRESHOLD = load_settings(env={}).matching.default_threshold
RECALL = 0.6
# F-beta with beta 0.7: the hindsight cutoff weighs precision a little over recall.
BETA = 0.7


class JudgedPairs(NamedTuple):
    """Every judged pair of a day: its features (pairs x 8) for each form of the cosine
    feature ("closest", "whole"), whether it is relevant, and its topic (the position of its
    subscription among the day's)."""

    features: dict[str, np.ndarray]
    labels: np.ndarray
    topics: np.ndarray


def judged_features(day: Path, tmp: Path) -> JudgedPairs:
    """The day's judged pairs, as matching computes them for new subscriptions."""
    topics = json.loads((day / "judgments.json").read_text())["subscriptions"]
    services = fresh_services(tmp, day.name, None)
    store(services, load_papers(day))
    corpus = services.matcher.corpus()
    sentences = sentences_by_row(services.store, corpus, np.arange(len(corpus.ids)))
    rows = {"closest": [], "whole": []}
    relevant, topic_of = [], []
    for position, topic in enumerate(topics):
        subscription = subscribe(services.store, services.embedder, topic=topic["query"], owner="U")
        vector = base_profile(subscription, corpus)
        cosine, others, _ = evidence_features(services.store, subscription, corpus)
        judged = [corpus.index[p] for p in topic["judged"] if p in corpus.index]
        ids = [corpus.ids[row] for row in judged]
        on_topic = np.zeros(len(judged), dtype=np.intp)
        closest = relevance.closest_sentence(
            sentences, np.array(judged), vector[None], on_topic, cosine[0, judged]
        )
        rest = [feature[0, judged] for feature in others]
        rows["closest"].append(np.column_stack([closest, *rest]))
        rows["whole"].append(np.column_stack([cosine[0, judged], *rest]))
        relevant.extend(topic["judged"][p] >= 1 for p in ids)
        topic_of.extend([position] * len(ids))
    services.store.close()
    return JudgedPairs(
        {form: np.vstack(parts) for form, parts in rows.items()},
        np.array(relevant, dtype=float),
        np.array(topic_of),
    )


def fit(features: np.ndarray, labels: np.ndarray) -> relevance.Weights:
    """The penalised logistic regression's weights."""
    design = np.column_stack([np.ones(len(features)), features])
    penalty = PENALTY * np.r_[0.0, np.ones(features.shape[1])]

    def loss(w):
        t = design @ w
        return np.sum(np.logaddexp(0, t) - labels * t) + w @ (penalty * w)

    def gradient(w):
        return design.T @ (relevance.logistic(design @ w) - labels) + 2 * penalty * w

    start = np.zeros(design.shape[1])
    found = minimize(loss, start, jac=gradient, method="L-BFGS-B").x
    return relevance.Weights(*(round(float(v), 3) for v in found))


def precision_recall(weights: relevance.Weights, features: np.ndarray, labels: np.ndarray):
    alerts = relevance.logistic(relevance.log_odds(*features.T, weights)) >= DEFAULT_THRESHOLD
    hits = np.sum(alerts & (labels == 1))
    return hits / max(alerts.sum(), 1), hits / labels.sum()


def precision_at_recall(weights: relevance.Weights, features: np.ndarray, labels: np.ndarray):
    """The precision of the best-scored pairs that hold RECALL of the relevant ones."""
    order = np.argsort(-relevance.log_odds(*features.T, weights), kind="stable")
    hits = np.cumsum(labels[order])
    alerts = int(np.searchsorted(hits, RECALL * labels.sum())) + 1
    return hits[alerts - 1] / alerts


def in_hindsight(weights: relevance.Weights, features, labels, topics) -> tuple[float, float]:
    """Precision / recall with each topic cut at the score that gives it the best F-beta."""
    scores = relevance.log_odds(*features.T, weights)
    hits = alerts = 0
    for topic in np.unique(topics):
        mine = topics == topic
        relevant = labels[mine] == 1
        best = (-1.0, 0, 0)
        for cutoff in np.unique(scores[mine]):
            alerting = scores[mine] >= cutoff
            found = int(np.sum(alerting & relevant))
            precision, recall = found / alerting.sum(), found / max(relevant.sum(), 1)
            f = (1 + BETA**2) * precision * recall / max(BETA**2 * precision + recall, 1e-9)
            best = max(best, (f, found, int(alerting.sum())))
        hits, alerts = hits + best[1], alerts + best[2]
    return hits / max(alerts, 1), hits / labels.sum()


def measured(weights: relevance.Weights, features: np.ndarray, labels: np.ndarray) -> str:
    """Precision / recall at the default threshold, then precision at RECALL."""
    precision, recall = precision_recall(weights, features, labels)
    return f"{precision:.3f} / {recall:.3f}, {precision_at_recall(weights, features, labels):.3f}"


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    # "second day" and so on, as the tables name them.
    days = {"dev_day": DEFAULT_DIR} | {d.name.replace("_", " "): d for d in HELD_OUT_DAYS}
    with tempfile.TemporaryDirectory() as tmp:
        data = {name: judged_features(day, Path(tmp)) for name, day in days.items()}
    print("judged pairs:", ", ".join(f"{name} {len(d.labels)}" for name, d in data.items()))
    print(
        f"precision / recall over judged pairs at {DEFAULT_THRESHOLD} (unjudged pairs left out), "
        f"precision at recall {RECALL}"
    )
    for form, shipped in (("closest", relevance.ALERTS), ("whole", relevance.SEARCH)):
        fitted = fit(data["dev_day"].features[form], data["dev_day"].labels)
        for label, weights in (("shipped", shipped), ("refitted", fitted)):
            cells = [
                f"{name} {measured(weights, d.features[form], d.labels)}"
                for name, d in data.items()
            ]
            print(f"{form:8} {label:9} {tuple(weights)}  " + "; ".join(cells))
    print("leave one day out (closest), the same figures:")
    names = list(data)
    for left_out in [*names, None]:
        kept = [name for name in names if name != left_out]
        weights = fit(
            np.vstack([data[name].features["closest"] for name in kept]),
            np.concatenate([data[name].labels for name in kept]),
        )
        cells = [
            f"{name}{' (held out)' if name == left_out else ''} "
            f"{measured(weights, data[name].features['closest'], data[name].labels)}"
            for name in names
        ]
        print(f"  fitted on {' + '.join(kept)}: " + "; ".join(cells))
    cells = [
        "{} {:.3f} / {:.3f}".format(
            name, *in_hindsight(relevance.ALERTS, d.features["closest"], d.labels, d.topics)
        )
        for name, d in data.items()
    ]
    print(f"shipped weights, each topic cut in hindsight (best F{BETA}): " + "; ".join(cells))


if __name__ == "__main__":
    main()
