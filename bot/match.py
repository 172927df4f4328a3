"""Scores new papers against subscriptions and explains each match."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bot.store import Store, Subscription


@dataclass
class Match:
    """Why one paper matched one subscription."""

    subscription_id: int
    topic: str
    score: float


@dataclass
class Alert:
    """One paper for one target, with every subscription of that target it matched."""

    target: str
    paper_id: str
    matches: list[Match] = field(default_factory=list)

    @property
    def score(self) -> float:
        return max(match.score for match in self.matches)


@dataclass
class MatchResult:
    alerts: list[Alert]
    over_cap: list[Alert]


class Matcher:
    """Scores papers against the active subscriptions by cosine similarity of embeddings."""

    def __init__(self, store: Store, model_name: str, default_threshold: float, cap: int):
        self.store = store
        self.model_name = model_name
        self.default_threshold = default_threshold
        self.cap = cap

    def threshold(self, subscription: Subscription) -> float:
        if subscription.threshold is None:
            return self.default_threshold
        return subscription.threshold

    def match(self, paper_ids: list[str]) -> MatchResult:
        """Alerts for these papers, at most `cap` per target (the best), the rest over cap."""
        subscriptions = [
            s for s in self.store.list_subscriptions(active_only=True) if s.embedding is not None
        ]
        ids, papers = self.store.paper_vectors(paper_ids, self.model_name)
        if not subscriptions or not ids:
            return MatchResult(alerts=[], over_cap=[])
        topics = np.vstack([s.embedding for s in subscriptions])
        thresholds = np.array([self.threshold(s) for s in subscriptions])
        scores = papers @ topics.T
        alerts: dict[tuple[str, str], Alert] = {}
        for row, col in zip(*np.nonzero(scores >= thresholds), strict=True):
            subscription = subscriptions[col]
            key = (subscription.target, ids[row])
            alert = alerts.setdefault(key, Alert(target=key[0], paper_id=key[1]))
            alert.matches.append(
                Match(subscription.id, subscription.topic, round(float(scores[row, col]), 4))
            )
        return self._apply_cap(list(alerts.values()))

    def _apply_cap(self, alerts: list[Alert]) -> MatchResult:
        by_target: dict[str, list[Alert]] = {}
        for alert in alerts:
            alert.matches.sort(key=lambda m: -m.score)
            by_target.setdefault(alert.target, []).append(alert)
        kept, over = [], []
        for target_alerts in by_target.values():
            target_alerts.sort(key=lambda a: -a.score)
            kept += target_alerts[: self.cap]
            over += target_alerts[self.cap :]
        return MatchResult(alerts=kept, over_cap=over)
