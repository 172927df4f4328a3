"""Scores new papers against subscriptions and explains each match."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Match:
    """Why one paper matched one subscription."""

    subscription_id: int
    topic: str
    score: float
