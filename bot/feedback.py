"""Learning from the relevant / not relevant buttons.

Every judgment re-learns its subscription from all of its judgments, so changing a vote
is the same as casting it:

- Rocchio: the profile vector becomes topic (and seed papers) + 0.75 x the mean of the
  relevant papers - 0.5 x the mean of the not relevant ones, normalised. Matching uses it
  in place of the topic's embedding from the first judgment on.
- Once a subscription has at least 5 relevant and 3 not relevant judgments, a small
  logistic model is fitted over the matching features (calibrated similarity to the
  profile, BM25 share, closeness to the relevant and to the not relevant papers). Its
  probability becomes the subscription's score (bot/match.py).
- Threshold: the judged papers are re-scored with what was learned, and the threshold
  rises to the lowest score at which they are at least `feedback_precision` relevant
  (never below the strictness level's). With n judgments the move, in log-odds, is
  shrunk by n / (n + `feedback_prior_judgments`), so one vote cannot silence a
  subscription. Not relevant votes thus cut the alerts like the ones judged, which a
  moved profile alone does not: the profile's scores are re-calibrated against the
  corpus, so about as many papers clear the threshold as before.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bot.match import (
    Matcher,
    base_profile,
    evidence,
    logistic,
    logit,
    model_features,
    strictness_threshold,
    threshold_for,
    unit,
)
from bot.store import Store, Subscription

ROCCHIO_POSITIVE = 0.75
ROCCHIO_NEGATIVE = 0.5
MIN_POSITIVE = 5
MIN_NEGATIVE = 3
# Logistic regression: L2 penalty, and gradient-descent steps and rate. The features are
# already on comparable scales (z-scores and 0-1 shares), so plain descent converges.
L2_PENALTY = 0.1
STEPS = 500
LEARNING_RATE = 0.5
# How far (log-odds) above the best-scored not relevant paper a threshold goes when no
# threshold makes the judged alerts precise enough.
ABOVE_NEGATIVE = 0.1


def record_feedback(
    store: Store, user: str, paper_id: str, subscription_id: int, value: int, *, matcher: Matcher
) -> Subscription | None:
    """Store +1 / -1 from `user` on a paper alerted for a subscription, and re-learn it.

    Returns the updated subscription, or None when it no longer exists.
    """
    if value not in (1, -1):
        raise ValueError(f"feedback is +1 or -1, not {value!r}")
    store.set_feedback(user, paper_id, subscription_id, value)
    return relearn(matcher, subscription_id)


def relearn(matcher: Matcher, subscription_id: int) -> Subscription | None:
    """Recompute a subscription's profile and linear model from all its judgments."""
    store = matcher.store
    subscription = store.get_subscription(subscription_id)
    if subscription is None or subscription.embedding is None:
        return None
    corpus = matcher.corpus()
    judged = {p: v for p, v in store.subscription_feedback(subscription_id).items()}
    index = corpus.index
    positive = [index[p] for p, v in judged.items() if v > 0 and p in index]
    negative = [index[p] for p, v in judged.items() if v < 0 and p in index]
    if not positive and not negative:
        store.set_subscription_learning(subscription_id, None, None)
        return store.get_subscription(subscription_id)
    profile = base_profile(subscription, corpus)
    if positive:
        profile = profile + ROCCHIO_POSITIVE * corpus.matrix[positive].mean(axis=0)
    if negative:
        profile = profile - ROCCHIO_NEGATIVE * corpus.matrix[negative].mean(axis=0)
    profile = unit(profile).astype(np.float32)
    model = None
    if len(positive) >= MIN_POSITIVE and len(negative) >= MIN_NEGATIVE:
        model = fit_model(matcher, replace(subscription, profile=profile, model=None), judged)
    learned = replace(subscription, profile=profile, model=model)
    shift = threshold_shift(matcher, learned, judged)
    store.set_subscription_learning(subscription_id, profile, model, shift)
    return store.get_subscription(subscription_id)


def threshold_shift(matcher: Matcher, subscription: Subscription, judged: dict[str, int]) -> float:
    """How far (log-odds) to raise the strictness threshold, from the judged papers' scores.

    The raw shift reaches the lowest threshold at which the judged papers scoring at or
    above it are at least `feedback_precision` relevant; it is then shrunk towards 0 by
    the number of judgments.
    """
    config = matcher.config
    corpus = matcher.corpus()
    scores = evidence(matcher.store, subscription, corpus).score
    level = strictness_threshold(subscription, config)
    judged_scores = sorted(
        ((float(scores[corpus.index[p]]), v) for p, v in judged.items() if p in corpus.index),
        reverse=True,
    )
    if not judged_scores:
        return 0.0
    wanted = precise_threshold(judged_scores, level, config.feedback_precision)
    weight = len(judged_scores) / (len(judged_scores) + config.feedback_prior)
    return round(weight * (logit(wanted) - logit(level)), 6)


def precise_threshold(judged_scores: list[tuple[float, int]], level: float, target: float) -> float:
    """The lowest threshold >= level at which the judged alerts reach `target` precision.

    `judged_scores` are (score, +1/-1), best first. A threshold is placed half-way (in
    log-odds) between the last paper it keeps and the first it drops, so it does not sit
    on one judged paper's score. When no threshold reaches the target, it goes just above
    the best-scored not relevant paper.
    """
    alerted = [(score, verdict) for score, verdict in judged_scores if score >= level]
    if not alerted:
        return level
    cut = None
    relevant = 0
    for seen, (_, verdict) in enumerate(alerted, start=1):
        relevant += verdict > 0
        if relevant / seen >= target:
            cut = seen
    if cut == len(alerted):
        return level
    if cut is None:
        return float(logistic(logit(alerted[0][0]) + ABOVE_NEGATIVE))
    midpoint = (logit(alerted[cut - 1][0]) + logit(alerted[cut][0])) / 2
    return max(level, float(logistic(midpoint)))


def fit_model(matcher: Matcher, subscription: Subscription, judged: dict[str, int]) -> dict:
    """A logistic model on the judged papers, anchored by the papers matching left out.

    Judgments come only from papers that were alerted, so on their own they say nothing
    about the many papers that never scored high; unjudged papers below the threshold are
    added as negatives, weighted in total like the judged negatives.
    """
    corpus = matcher.corpus()
    found = evidence(matcher.store, subscription, corpus)
    features = np.column_stack(model_features(found, corpus, judged))
    index = corpus.index
    rows = [index[p] for p in judged if p in index]
    labels = [1.0 if judged[corpus.ids[r]] > 0 else 0.0 for r in rows]
    weights = [1.0] * len(rows)
    below = found.score < threshold_for(subscription, matcher.config)
    anchors = [r for r in np.flatnonzero(below) if corpus.ids[r] not in judged]
    if anchors:
        negatives = labels.count(0.0)
        rows += anchors
        labels += [0.0] * len(anchors)
        weights += [negatives / len(anchors)] * len(anchors)
    coefficients, bias = logistic_regression(features[rows], np.array(labels), np.array(weights))
    return {"weights": [round(float(c), 6) for c in coefficients], "bias": round(bias, 6)}


def logistic_regression(
    features: np.ndarray, labels: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, float]:
    """Weighted L2-penalised logistic regression by gradient descent (deterministic)."""
    coefficients = np.zeros(features.shape[1])
    bias = 0.0
    total = weights.sum()
    for _ in range(STEPS):
        predicted = 1.0 / (1.0 + np.exp(-(features @ coefficients + bias)))
        error = (predicted - labels) * weights
        coefficients -= LEARNING_RATE * (features.T @ error / total + L2_PENALTY * coefficients)
        bias -= LEARNING_RATE * float(error.sum() / total)
    return coefficients, float(bias)
