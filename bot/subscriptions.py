"""Creating and removing subscriptions: the topic is embedded once, when it is stored."""

from __future__ import annotations

from bot.embed import Embedder
from bot.store import Store, Subscription

CADENCES = ("instant", "daily", "weekly")


class SubscriptionError(ValueError):
    """A subscription request that cannot be honoured; the message says why."""


def subscribe(
    store: Store,
    embedder: Embedder,
    *,
    topic: str,
    owner: str,
    target: str | None = None,
    threshold: float | None = None,
    cadence: str = "instant",
) -> Subscription:
    """Subscribe `target` (default: the owner's DM) to papers about `topic`."""
    topic = " ".join(topic.split())
    if not topic:
        raise SubscriptionError("A subscription needs a topic, e.g. 'diffusion models for video'.")
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise SubscriptionError(f"The threshold must be between 0 and 1, not {threshold}.")
    if cadence not in CADENCES:
        raise SubscriptionError(f"The cadence must be one of {', '.join(CADENCES)}.")
    return store.add_subscription(
        owner=owner,
        target=target or owner,
        topic=topic,
        embedding=embedder.encode_one(topic),
        threshold=threshold,
        cadence=cadence,
    )
