"""The records the store hands out, and how values are kept in a row.

Times are ISO 8601 text in UTC, lists JSON text, vectors float32 blobs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)


def sentences_to_blob(matrix: np.ndarray | None) -> bytes | None:
    """Sentence embeddings as stored: float16, which keeps a cosine within about 1e-3 at
    half the room of float32 (a paper has eight or so sentences)."""
    if matrix is None or len(matrix) == 0:
        return None
    return np.asarray(matrix, dtype=np.float16).tobytes()


def sentences_from_blob(blob: bytes, dimension: int) -> np.ndarray:
    """The sentences x dimension float32 matrix of a stored blob."""
    return np.frombuffer(blob, dtype=np.float16).astype(np.float32).reshape(-1, dimension)


def json_list(text: str | None) -> list:
    """A stored JSON list.

    The common empty list skips the JSON parser: matching loads every active subscription
    each cycle, five lists apiece.
    """
    return json.loads(text) if text and text != "[]" else []


@dataclass
class Subscription:
    id: int
    owner: str
    target: str
    topic: str
    threshold: float | None
    cadence: str
    paused: bool
    paused_reason: str | None
    created: str
    team: str = ""
    embedding: np.ndarray | None = None
    # The text the embedding was made from, acronyms spelled out (bot/acronyms.py); None for
    # the topic's subject.
    embedded_as: str | None = None
    # What the subscription means beyond its topic (issue 5); lists are empty when unused.
    seed_papers: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    strictness: str = "normal"
    # Learned from feedback: the Rocchio profile vector.
    profile: np.ndarray | None = None
    # Learned from feedback: log-odds added to the strictness threshold (0 = unchanged).
    threshold_shift: float = 0.0


@dataclass
class Delivery:
    id: int
    target: str
    paper_id: str
    subscription_id: int
    score: float
    matches: list[dict]
    status: str
    attempts: int
    last_error: str | None
    slack_ts: str | None
    # Set when a post may have reached Slack without us hearing back (issue 6).
    uncertain: bool = False
    attempted_at: str | None = None
    created: str | None = None
    claim: str | None = None


@dataclass
class UpsertResult:
    new: list[str]
    updated: list[str]
    unchanged: int


@dataclass
class DigestRun:
    """One digest being posted: the rows it carries have its id (deliveries.digest_id).

    `parts_posted` messages of it are in Slack already, the first at `slack_ts`; the rest
    are replies in its thread.
    """

    id: int
    target: str
    cadence: str
    day: str
    warnings: list[str]
    status: str
    attempts: int
    parts_posted: int
    slack_channel: str | None
    slack_ts: str | None
    uncertain: bool
    attempted_at: str | None
    created: str
    claim: str | None


@dataclass
class Notice:
    """A DM to a user that must reach them once, such as "your subscription was paused"."""

    id: int
    user: str
    text: str
    status: str
    attempts: int
    last_error: str | None
    uncertain: bool
    attempted_at: str | None
    created: str
