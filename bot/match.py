"""Scores new papers against subscriptions, applies filters, thresholds and caps, explains.

How a paper is scored for a subscription (also in the README, "How matching works"):

    dense    = cosine(paper, profile), as a z-score against every stored paper's cosine
               with the same profile. The profile is the topic's embedding averaged with
               the seed papers' ("like this paper"), then moved by feedback (Rocchio).
    lexical  = BM25 of the topic text for the paper, divided by the best BM25 any stored
               paper gets for it (0 to 1). It keeps the exact terms of narrow topics.
    raw      = dense + lexical_weight * lexical
    score    = logistic(raw - calibration_offset), from 0 to 1

Raw cosine is not comparable between topics (a broad topic is close to everything), so
the z-score calibrates each subscription against the corpus it is matched in. Once a
subscription has enough judgments (5 relevant, 3 not), a small logistic model over these
features and the closeness to the judged papers gives the score instead: the learned
probability that the paper is relevant. Either way thresholds are on the same 0-1 scale.

A paper alerts when score >= the threshold of the subscription's strictness (strict,
normal, broad; or the subscription's own threshold), it contains every required keyword
and no excluded one, and it is in one of the subscription's categories if any are set.
A paper by a followed author always alerts, whatever its score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from scipy import sparse

from bot.papers import Paper
from bot.search import (
    PRIOR_MEAN,
    PRIOR_STD,
    PRIOR_WEIGHT,
    Corpus,
    lexical_scores,
    load_corpus,
    query_terms,
    zscore,
)
from bot.settings import MatchingSettings
from bot.store import Store, Subscription
from bot.summarize import content_words

STRICTNESS_LEVELS = ("strict", "normal", "broad")
# How far above its threshold a score must be for each band; the rest is "borderline".
BAND_MARGINS = (("strong", 1.5), ("good", 0.5))
OVER_CAP_REASON = "over the daily cap"
MAX_KEYWORD_REASONS = 3
# Corpus rows per step when summing the Gram matrix in float64 (bounds the memory it takes).
GRAM_CHUNK = 8192


@dataclass
class Match:
    """Why one paper matched one subscription."""

    subscription_id: int
    topic: str
    score: float
    band: str = ""
    # Human-readable evidence: "topic", "like: <seed title>", "keywords: a, b", "author: X".
    reasons: list[str] = field(default_factory=list)
    threshold: float = 0.0

    @property
    def margin(self) -> float:
        """How far above its own threshold; comparable across subscriptions."""
        return margin(self.score, self.threshold)


@dataclass
class Alert:
    """One paper for one target, with every subscription of that target it matched."""

    target: str
    paper_id: str
    matches: list[Match] = field(default_factory=list)
    # "instant" when any matched subscription is instant, else the digest cadence.
    cadence: str = "instant"

    @property
    def score(self) -> float:
        return max(match.score for match in self.matches)

    @property
    def margin(self) -> float:
        return max(match.margin for match in self.matches)


@dataclass
class MatchResult:
    alerts: list[Alert]
    over_cap: list[Alert]


@dataclass(frozen=True)
class MatchingConfig:
    """The numbers matching runs on; the defaults live in config/settings.toml."""

    thresholds: dict[str, float]
    calibration_offset: float
    lexical_weight: float
    daily_cap_dm: int
    daily_cap_channel: int
    cycle_cap: int

    @classmethod
    def from_settings(cls, matching: MatchingSettings) -> MatchingConfig:
        return cls(
            thresholds={
                "strict": matching.strict_threshold,
                "normal": matching.default_threshold,
                "broad": matching.broad_threshold,
            },
            calibration_offset=matching.calibration_offset,
            lexical_weight=matching.lexical_weight,
            daily_cap_dm=matching.daily_cap_dm,
            daily_cap_channel=matching.daily_cap_channel,
            cycle_cap=matching.max_alerts_per_cycle,
        )


@dataclass
class Evidence:
    """A subscription's features for every paper of the corpus."""

    dense: np.ndarray
    lexical: np.ndarray
    score: np.ndarray


def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def margin(score: float, threshold: float) -> float:
    """How far a score is above its threshold, in log-odds (comparable across levels)."""
    return logit(score) - logit(threshold)


def band_for(score: float, threshold: float) -> str:
    """strong / good / borderline, from how far a score is above its threshold."""
    for band, least in BAND_MARGINS:
        if margin(score, threshold) >= least:
            return band
    return "borderline"


def base_profile(subscription: Subscription, corpus: Corpus) -> np.ndarray:
    """The topic's embedding averaged with its seed papers', as a unit vector."""
    vectors = [subscription.embedding]
    index = corpus.index
    seeds = [corpus.matrix[index[s]] for s in subscription.seed_papers if s in index]
    if seeds:
        vectors.append(np.mean(seeds, axis=0))
    return unit(np.mean(vectors, axis=0))


def unit(vector: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else vector


def model_features(dense: np.ndarray, lexical: np.ndarray, corpus: Corpus, judged: dict) -> list:
    """The linear model's inputs: the two features, and closeness to the judged papers."""
    index = corpus.index
    features = [dense, lexical]
    for verdict in (1, -1):
        rows = [index[p] for p, v in judged.items() if v == verdict and p in index]
        centroid = unit(corpus.matrix[rows].mean(axis=0))
        features.append(zscore(corpus.matrix @ centroid))
    return features


def evidence(
    store: Store, subscription: Subscription, corpus: Corpus, config: MatchingConfig
) -> Evidence:
    """Score every corpus paper for one subscription (see the module docstring)."""
    profile = subscription.profile
    if profile is None:
        profile = base_profile(subscription, corpus)
    dense = zscore(corpus.matrix @ profile)
    lexical = lexical_scores(store, subscription.topic, corpus)
    raw = dense + config.lexical_weight * lexical - config.calibration_offset
    model = subscription.model
    if model:
        judged = store.subscription_feedback(subscription.id)
        features = model_features(dense, lexical, corpus, judged)
        raw = model["bias"] + sum(w * f for w, f in zip(model["weights"], features, strict=True))
    return Evidence(dense=dense, lexical=lexical, score=logistic(raw))


def dense_matrix(corpus: Corpus, profiles: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """zscore(corpus.matrix @ profile)[rows] for every profile at once (profiles x rows).

    The corpus mean and spread of each profile's cosines come from the corpus's column
    sums and Gram matrix, so the cost does not grow with corpus size times subscriptions.
    """
    matrix = corpus.matrix
    n = len(matrix)
    profiles64 = profiles.astype(np.float64)
    sums = profiles64 @ matrix.sum(axis=0, dtype=np.float64)
    gram = np.zeros((matrix.shape[1], matrix.shape[1]))
    for start in range(0, n, GRAM_CHUNK):
        chunk = matrix[start : start + GRAM_CHUNK].astype(np.float64)
        gram += chunk.T @ chunk
    squares = np.einsum("sd,sd->s", profiles64 @ gram, profiles64)
    mean = (sums + PRIOR_WEIGHT * PRIOR_MEAN) / (n + PRIOR_WEIGHT)
    spread = squares - 2 * mean * sums + n * mean**2
    variance = (spread + PRIOR_WEIGHT * PRIOR_STD**2) / (n + PRIOR_WEIGHT)
    cosine = profiles @ matrix[rows].T
    return (cosine - mean[:, None].astype(np.float32)) / np.sqrt(variance)[:, None].astype(
        np.float32
    )


def lexical_matrix(store: Store, topics: list[str], corpus: Corpus, rows: np.ndarray):
    """lexical_scores(store, topic, corpus)[rows] for every topic at once (topics x rows).

    FTS5's BM25 of an OR of quoted words is the sum of each word's own BM25, so each
    distinct word is looked up once, however many topics share it.
    """
    terms_of = [query_terms(topic) for topic in topics]
    column = {term: j for j, term in enumerate(dict.fromkeys(t for ts in terms_of for t in ts))}
    topic_term = sparse.csr_matrix(
        (
            np.ones(sum(len(ts) for ts in terms_of)),
            [column[t] for ts in terms_of for t in ts],
            np.cumsum([0] + [len(ts) for ts in terms_of]),
        ),
        shape=(len(topics), len(column)),
    )
    term_rows, doc_rows, values = [], [], []
    for term, j in column.items():
        rowids, scores = store.fts_rowid_scores(f'"{term}"')
        found_rows, found = corpus.rows_of(rowids)
        term_rows.append(np.full(int(found.sum()), j))
        doc_rows.append(found_rows[found])
        values.append(scores[found])
    term_doc = sparse.csr_matrix(
        (
            np.concatenate(values or [[]]),
            (np.concatenate(term_rows or [[]]), np.concatenate(doc_rows or [[]])),
        ),
        shape=(len(column), len(corpus.ids)),
    )
    bm25 = (topic_term @ term_doc).tocsr()
    best = bm25.max(axis=1).toarray().ravel()
    wanted = bm25[:, rows].toarray()
    return np.divide(wanted, best[:, None], out=np.zeros_like(wanted), where=best[:, None] > 0)


def threshold_for(subscription: Subscription, config: MatchingConfig) -> float:
    """The subscription's own threshold, else the one of its strictness level."""
    if subscription.threshold is not None:
        return subscription.threshold
    return config.thresholds.get(subscription.strictness, config.thresholds["normal"])


def contains_keyword(text: str, keyword: str) -> bool:
    """Whole-word, case-insensitive; a keyword of several words matches as a phrase."""
    words = keyword.lower().split()
    if not words:
        return False
    pattern = r"\b" + r"\s+".join(re.escape(w) for w in words) + r"\b"
    return re.search(pattern, text.lower()) is not None


def followed_author(paper: Paper, followed: list[str]) -> str | None:
    """The first author of the paper that the subscription follows, if any."""
    for name in followed:
        wanted = " ".join(name.lower().split())
        for author in paper.authors:
            if wanted and wanted == " ".join(author.lower().split()):
                return author
    return None


def passes_filters(paper: Paper, subscription: Subscription) -> bool:
    """Required and excluded keywords, and the category filter."""
    if not (subscription.excluded or subscription.required or subscription.categories):
        return True
    text = f"{paper.title} {paper.abstract}"
    if any(contains_keyword(text, k) for k in subscription.excluded):
        return False
    if not all(contains_keyword(text, k) for k in subscription.required):
        return False
    if subscription.categories:
        categories = set(paper.categories) | {paper.primary_category}
        if not categories & set(subscription.categories):
            return False
    return True


def closest_seed(corpus: Corpus, row: int, seeds: dict[str, Paper]) -> str | None:
    """The title of the seed paper most similar to corpus paper `row`, if there are seeds."""
    index = corpus.index
    candidates = [p for p in seeds if p in index and index[p] != row]
    if not candidates:
        return None
    best = max(candidates, key=lambda p: float(corpus.matrix[index[p]] @ corpus.matrix[row]))
    return seeds[best].title


def reasons_for(
    paper: Paper,
    subscription: Subscription,
    lexical: float,
    closest_seed: str | None,
    text_words: set[str] | None = None,
) -> list[str]:
    """The evidence an alert shows: topic, closest seed paper, shared and required keywords.

    `text_words` are the paper's content words, when the caller has them already.
    """
    reasons = ["topic"]
    if closest_seed:
        reasons.append("like: " + closest_seed)
    text = f"{paper.title} {paper.abstract}"
    if text_words is None:
        text_words = content_words(text)
    shared = [w for w in content_words(subscription.topic) if w in text_words]
    if lexical > 0 and shared:
        reasons.append("keywords: " + ", ".join(sorted(shared)[:MAX_KEYWORD_REASONS]))
    required = [k for k in subscription.required if contains_keyword(text, k)]
    if required:
        reasons.append("required: " + ", ".join(required))
    return reasons


def sooner_cadence(cadences: list[str]) -> str:
    """Instant if any matched subscription is; otherwise the more frequent digest."""
    for cadence in ("instant", "daily", "weekly"):
        if cadence in cadences:
            return cadence
    return "instant"


def day_start(now: datetime) -> str:
    """The start of `now`'s UTC day, as stored timestamps are written."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0).isoformat()


def daily_cap(target: str, config: MatchingConfig) -> int:
    """A user id (U..., W...) is a DM; anything else a channel."""
    return config.daily_cap_dm if target.startswith(("U", "W")) else config.daily_cap_channel


class Matcher:
    """Scores papers against the active subscriptions and decides what alerts."""

    def __init__(self, store: Store, model_name: str, config: MatchingConfig):
        self.store = store
        self.model_name = model_name
        self.config = config

    def corpus(self) -> Corpus:
        return load_corpus(self.store, self.model_name)

    def match(self, paper_ids: list[str], now: datetime | None = None) -> MatchResult:
        """Alerts for these papers, one per (target, paper), within each target's daily cap."""
        alerts = self.score(paper_ids)
        return self.apply_cap(alerts, now or datetime.now(UTC))

    def score(self, paper_ids: list[str]) -> list[Alert]:
        """Every (target, paper) alert these papers earn, before the daily cap.

        All subscriptions are scored against all the papers in a few matrix operations;
        only the pairs that alert are then checked against filters and explained.
        """
        subscriptions = [
            s for s in self.store.list_subscriptions(active_only=True) if s.embedding is not None
        ]
        corpus = self.corpus()
        index = corpus.index
        wanted = [paper_id for paper_id in paper_ids if paper_id in index]
        if not subscriptions or not wanted:
            return []
        papers = self.store.get_papers(wanted)
        columns = list(papers)
        scores, lexical = self._score_matrix(subscriptions, corpus, columns)
        thresholds = np.array([threshold_for(s, self.config) for s in subscriptions])
        above = scores >= thresholds[:, None]
        followed = self._followed_columns(subscriptions, papers, columns)
        words: dict[str, set[str]] = {}
        alerts: dict[tuple[str, str], Alert] = {}
        for i, subscription in enumerate(subscriptions):
            hit_columns = np.flatnonzero(above[i])
            if i in followed:
                hit_columns = np.union1d(hit_columns, followed[i])
            if not len(hit_columns):
                continue
            seeds = self.store.get_papers([p for p in subscription.seed_papers if p in index])
            for k in hit_columns:
                paper = papers[columns[k]]
                if paper.id not in words:
                    words[paper.id] = content_words(f"{paper.title} {paper.abstract}")
                match = self._match(
                    subscription,
                    paper,
                    float(scores[i, k]),
                    float(lexical[i, k]),
                    thresholds[i],
                    closest_seed(corpus, index[paper.id], seeds),
                    words[paper.id],
                )
                if match is None:
                    continue
                key = (subscription.target, paper.id)
                alert = alerts.setdefault(key, Alert(target=key[0], paper_id=paper.id))
                alert.matches.append(match)
        cadence_of = {s.id: s.cadence for s in subscriptions}
        for alert in alerts.values():
            alert.matches.sort(key=lambda m: -m.margin)
            alert.cadence = sooner_cadence([cadence_of[m.subscription_id] for m in alert.matches])
        return list(alerts.values())

    def _score_matrix(
        self, subscriptions: list[Subscription], corpus: Corpus, columns: list[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores and lexical shares of the papers `columns` for every subscription.

        Subscriptions with a learned model are scored one by one through evidence().
        """
        rows = np.array([corpus.index[paper_id] for paper_id in columns])
        profiles = np.vstack(
            [s.profile if s.profile is not None else base_profile(s, corpus) for s in subscriptions]
        ).astype(np.float32)
        dense = dense_matrix(corpus, profiles, rows)
        lexical = lexical_matrix(self.store, [s.topic for s in subscriptions], corpus, rows)
        raw = dense + self.config.lexical_weight * lexical - self.config.calibration_offset
        scores = logistic(raw)
        for i, subscription in enumerate(subscriptions):
            if subscription.model:
                found = evidence(self.store, subscription, corpus, self.config)
                scores[i], lexical[i] = found.score[rows], found.lexical[rows]
        return scores, lexical

    @staticmethod
    def _followed_columns(
        subscriptions: list[Subscription], papers: dict[str, Paper], columns: list[str]
    ) -> dict[int, np.ndarray]:
        """Subscription position -> the columns of papers by an author it follows."""
        by_author: dict[str, list[int]] = {}
        for k, paper_id in enumerate(columns):
            for author in papers[paper_id].authors:
                by_author.setdefault(" ".join(author.lower().split()), []).append(k)
        followed = {}
        for i, subscription in enumerate(subscriptions):
            hits = [
                k
                for name in subscription.authors
                for k in by_author.get(" ".join(name.lower().split()), [])
            ]
            if hits:
                followed[i] = np.array(sorted(set(hits)))
        return followed

    @staticmethod
    def _match(
        subscription: Subscription,
        paper: Paper,
        score: float,
        lexical: float,
        threshold: float,
        closest: str | None,
        text_words: set[str],
    ) -> Match | None:
        """The Match of one paper for one subscription, or None if it does not alert."""
        author = followed_author(paper, subscription.authors)
        if author is not None:
            reasons = [f"author: {author}"]
            if score >= threshold:
                reasons += reasons_for(paper, subscription, lexical, closest, text_words)
            band = "strong"
        elif score >= threshold and passes_filters(paper, subscription):
            reasons = reasons_for(paper, subscription, lexical, closest, text_words)
            band = band_for(score, threshold)
        else:
            return None
        return Match(
            subscription_id=subscription.id,
            topic=subscription.topic,
            score=round(score, 4),
            band=band,
            reasons=reasons,
            threshold=round(float(threshold), 4),
        )

    def apply_cap(self, alerts: list[Alert], now: datetime) -> MatchResult:
        """Keep each target's best instant alerts within the cycle cap and its daily cap.

        Digest alerts are not capped here: a digest is one message however long.
        """
        since = day_start(now)
        by_target: dict[str, list[Alert]] = {}
        for alert in alerts:
            by_target.setdefault(alert.target, []).append(alert)
        kept, over = [], []
        for target, target_alerts in by_target.items():
            target_alerts.sort(key=lambda a: (-a.margin, a.paper_id))
            instant = [a for a in target_alerts if a.cadence == "instant"]
            kept += [a for a in target_alerts if a.cadence != "instant"]
            sent_today = self.store.count_alerts_since(target, since)
            left = max(0, min(self.config.cycle_cap, daily_cap(target, self.config) - sent_today))
            kept += instant[:left]
            over += instant[left:]
        return MatchResult(alerts=kept, over_cap=over)
