"""Scores new papers against subscriptions, applies filters, thresholds and caps, explains.

A paper's score for a subscription is the probability, from bot/relevance.py's model, that
the subscriber would have picked it: from the cosine of the topic and the paper's closest
sentence, the cosine of the paper and the subscription's profile moved towards its anchors
as a z-score against every stored paper, and from how much of the topic's rare vocabulary
the paper's abstract and title contain. The anchors are the few papers the model scores
highest among the latest stored, with the profile unmoved: scoring takes two passes, the
first over the latest stored papers to find them, the second over the new papers. The
profile is the topic's embedding averaged with the seed papers' ("like this paper"), then
moved by feedback (Rocchio, bot/feedback.py), which also shifts the subscription's
threshold. A learned profile sits closer to papers than a topic's words do, so its raw
cosines run higher; where the model needs one (a paper stored without its
sentences), it takes it at the topic's own mean and spread (the same z-score), so feedback
changes which papers pass more than how many.

A paper alerts when score >= the threshold of the subscription's strictness (strict,
normal, broad; or the subscription's own threshold), it contains every required keyword
and no excluded one, and it is in one of the subscription's categories if any are set.
A paper by a followed author always alerts, whatever its score. A paper someone has already
judged for one of a target's subscriptions (a preview in its subscribe reply, say) never
alerts that target.
"""

from __future__ import annotations

import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from bot import acronyms, relevance
from bot.papers import Paper
from bot.search import (
    PRIOR_MEAN,
    PRIOR_STD,
    PRIOR_WEIGHT,
    Corpus,
    index_terms,
    load_corpus,
    moments,
    query_facets,
    relevance_features,
    subject,
    word_pairs,
    zscore,
)
from bot.settings import MatchingSettings
from bot.storage import Store, Subscription, fulltext

STRICTNESS_LEVELS = ("strict", "normal", "broad")
# How far above its threshold a score must be for each band; the rest is "borderline".
BAND_MARGINS = (("strong", 1.5), ("good", 0.5))
OVER_CAP_REASON = "over the daily cap"
MAX_KEYWORD_REASONS = 3
# The brackets a phrase cited from a topic keeps balanced, closing to opening.
CLOSING = {")": "(", "]": "["}
BY_MEANING = "similar in meaning (no word of the topic in its text)"
BY_MEANING_COMMON_WORDS = (
    "similar in meaning (the words it shares with the topic are common in the papers)"
)
# Corpus rows per step when summing the Gram matrix in float64 (bounds the memory it takes).
GRAM_CHUNK = 8192
# Matching works on matrices of at most about this many floats (subscriptions x papers),
# which bounds its memory and lets the allocator reuse the same blocks. Scoring 2,000
# papers x 10,000 subscriptions (bench/run_all.py's rows, three runs each) took 1.68 s and
# 354 MB at 2 million, against 1.93 s and 434 MB at 4 million, 1.85 s at 1 million and
# 2.15 s at half a million.
MATRIX_CELLS = 2_000_000
# Threads scoring blocks of subscriptions: numpy and BLAS release the GIL.
WORK_THREADS = 2


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
            daily_cap_dm=matching.daily_cap_dm,
            daily_cap_channel=matching.daily_cap_channel,
            cycle_cap=matching.max_alerts_per_cycle,
        )


@dataclass
class Evidence:
    """A subscription's log-odds for every paper of the corpus."""

    raw: np.ndarray

    @property
    def score(self) -> np.ndarray:
        return relevance.logistic(self.raw)


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def margin(score: float, threshold: float) -> float:
    """How far a score is above its threshold, in log-odds (comparable across levels)."""
    return logit(score) - logit(threshold)


def band_for(margin_above: float) -> str:
    """strong / good / borderline, from how far a score is above its threshold (margin())."""
    for band, least in BAND_MARGINS:
        if margin_above >= least:
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


def topic_matrix(subscriptions: list[Subscription], corpus: Corpus) -> np.ndarray:
    """Every subscription's base_profile() as the rows of one matrix.

    Most subscriptions have no seed papers: theirs is the topic's unit embedding,
    normalised for all of them at once.
    """
    topics = np.vstack([s.embedding for s in subscriptions]).astype(np.float32)
    norms = np.linalg.norm(topics, axis=1, keepdims=True)
    topics /= np.where(norms > 0, norms, 1)
    for i, subscription in enumerate(subscriptions):
        if subscription.seed_papers:
            topics[i] = base_profile(subscription, corpus)
    return topics


def profile_matrix(subscriptions: list[Subscription], topics: np.ndarray) -> np.ndarray:
    """Every subscription's profile: the one feedback taught it, else its row of `topics`."""
    profiles = topics.copy()
    for i, subscription in enumerate(subscriptions):
        if subscription.profile is not None:
            profiles[i] = subscription.profile
    return profiles


def unit(vector: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else vector


def topic_features(
    store: Store, subscription: Subscription, corpus: Corpus, cosine: np.ndarray, topic: np.ndarray
) -> tuple[np.ndarray, ...]:
    """search.relevance_features for a subscription's topic as matching reads it: the parts
    of its subject (search.subject), so "papers about X" is matched on X, how the papers
    may write its words otherwise (acronyms.word_forms), and the papers judged for it;
    `topic` is its base_profile()."""
    text = subject(subscription.topic)
    judged = judged_rowids(store.subscriptions.feedback(subscription.id), corpus)
    return relevance_features(
        store,
        query_facets(text, compounds=True),
        corpus,
        cosine,
        acronyms.word_forms(store, text),
        topic,
        judged,
        discount_companions=True,
    )


def judged_rowids(verdicts: dict[str, int], corpus: Corpus) -> tuple[np.ndarray, np.ndarray] | None:
    """The rowids of the corpus papers judged relevant (+1 in `verdicts`, by paper id) and
    not relevant (-1), each sorted, or None when none of them is in the corpus."""
    index = corpus.index
    judged = sorted((corpus.rowids[index[p]], v > 0) for p, v in verdicts.items() if p in index)
    if not judged:
        return None
    rowids = np.array([rowid for rowid, _ in judged], dtype=np.int64)
    relevant = np.array([verdict for _, verdict in judged])
    return rowids[relevant], rowids[~relevant]


def evidence(store: Store, subscription: Subscription, corpus: Corpus) -> Evidence:
    """Score every corpus paper for one subscription (see the module docstring)."""
    cosine, others, sentences = evidence_features(store, subscription, corpus)
    topic = base_profile(subscription, corpus)
    return Evidence(raw=relevance.scored(cosine, others, sentences, topic[None])[0])


def evidence_features(
    store: Store, subscription: Subscription, corpus: Corpus
) -> tuple[np.ndarray, tuple[np.ndarray, ...], dict[int, np.ndarray]]:
    """For one subscription, every corpus paper's whole-text cosine and the model's other
    features (relevance.log_odds()'s after the cosine, each 1 x papers), with the sentence
    embeddings (by row) of the papers whose closest sentence counts (relevance.scored)."""
    topic = base_profile(subscription, corpus)
    learned = subscription.profile is not None
    profile = subscription.profile if learned else topic
    cosine = corpus.matrix @ profile
    z, *words = topic_features(store, subscription, corpus, cosine, topic)
    if learned:
        mean, spread = moments(corpus.matrix @ topic)
        cosine = mean + spread * z
    cosine, z, words = cosine[None], z[None], [w[None] for w in words]
    sentences: dict[int, np.ndarray] = {}

    def read_sentences(others: tuple) -> None:
        """Add to `sentences` those of the papers whose closest sentence counts with these
        features and not read yet: the two passes share most of them."""
        candidates = np.flatnonzero(
            relevance.log_odds(cosine, *others) >= relevance.CANDIDATE_LOG_ODDS
        )
        sentences.update(sentences_by_row(store, corpus, np.setdiff1d(candidates, list(sentences))))

    no_nearby = np.zeros_like(cosine)
    unmoved_features = (z, *words, no_nearby)
    read_sentences(unmoved_features)
    unmoved = relevance.scored(cosine, unmoved_features, sentences, topic[None])
    start = max(0, len(corpus.ids) - relevance.ANCHOR_WINDOW)
    latest = corpus.matrix[start:]
    best = relevance.best_papers(unmoved[:, start:])
    moved = relevance.towards_anchors(profile[None], best, latest)
    anchored = zscore(corpus.matrix @ moved[0])[None]
    nearby = np.zeros_like(cosine)
    if best.shape[1]:
        # Only papers that a share of 1 would lift to the candidate cut get theirs: the
        # others are far below any threshold, and finding the neighbours of every stored
        # paper takes seconds.
        at_most = relevance.log_odds(cosine, anchored, *words, np.ones_like(cosine))
        rows = np.flatnonzero(at_most[0] >= relevance.CANDIDATE_LOG_ODDS)
        own = np.where(rows >= start, rows - start, -1)
        neighbours = relevance.nearest(latest, corpus.matrix[rows], own)
        nearby[0, rows] = relevance.nearby_shares(best, neighbours, len(latest))[0]
    anchored_features = (anchored, *words, nearby)
    read_sentences(anchored_features)
    return cosine, anchored_features, sentences


def sentences_by_row(store: Store, corpus: Corpus, rows: np.ndarray) -> dict[int, np.ndarray]:
    """The stored sentence embeddings of the corpus papers at `rows`, by row."""
    ids = [corpus.ids[row] for row in rows]
    found = store.papers.sentence_embeddings(ids, corpus.model)
    return {int(row): found[i] for row, i in zip(rows, ids, strict=True) if i in found}


class DenseScorer:
    """Cosines and their z-scores, (corpus.matrix @ profile)[rows] and zscore() of it, for
    many profiles at once (profiles x rows), with a learned profile's cosines kept at its
    topic's mean and spread (see the module docstring).

    The corpus mean and spread of each profile's cosines come from the corpus's mean
    vector and covariance matrix, computed once, so scoring a block of profiles does not
    grow with corpus size. The covariance is centred in float64, which lets the product
    with the profiles run in float32 without cancellation.
    """

    def __init__(self, corpus: Corpus, rows: np.ndarray):
        matrix = corpus.matrix
        self.n = len(matrix)
        self.centre = corpus.centre
        gram = np.zeros((matrix.shape[1], matrix.shape[1]))
        for start in range(0, self.n, GRAM_CHUNK):
            chunk = matrix[start : start + GRAM_CHUNK].astype(np.float64)
            gram += chunk.T @ chunk
        self.covariance = (gram / self.n - np.outer(self.centre, self.centre)).astype(np.float32)
        self.papers = np.ascontiguousarray(matrix[rows].T)

    def moments(self, profiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each profile's search.moments() of its cosines with every corpus paper."""
        n = self.n
        average = (profiles @ self.centre.astype(np.float32)).astype(np.float64)
        mean = (n * average + PRIOR_WEIGHT * PRIOR_MEAN) / (n + PRIOR_WEIGHT)
        # Squared deviations from `mean`: the cosines' own spread plus the mean's shift.
        own = np.einsum("sd,sd->s", profiles @ self.covariance, profiles)
        deviations = n * (own + (average - mean) ** 2)
        variance = (deviations + PRIOR_WEIGHT * PRIOR_STD**2) / (n + PRIOR_WEIGHT)
        return mean, np.sqrt(variance)

    def scores(
        self, profiles: np.ndarray, topics: np.ndarray, learned: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The cosines and z-scores of `profiles`; rows where `learned` is true get the
        cosines their z-scores would have at the mean and spread of their `topics` row's."""
        cosine, dense = self.zscores(profiles)
        if learned.any():
            topic_mean, topic_spread = self.moments(topics[learned])
            cosine[learned] = topic_mean[:, None] + topic_spread[:, None] * dense[learned]
        return cosine, dense

    def zscores(self, profiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The cosines of `profiles` and their z-scores, as they are."""
        mean, spread = self.moments(profiles)
        cosine = profiles @ self.papers
        dense = cosine - mean[:, None].astype(np.float32)
        dense *= (1 / spread).astype(np.float32)[:, None]
        return cosine, dense


def threshold_for(subscription: Subscription, config: MatchingConfig) -> float:
    """The subscription's own threshold, else its strictness level's moved by feedback."""
    if subscription.threshold is not None:
        return subscription.threshold
    level = strictness_threshold(subscription, config)
    if subscription.threshold_shift:
        return float(relevance.logistic(logit(level) + subscription.threshold_shift))
    return level


def strictness_threshold(subscription: Subscription, config: MatchingConfig) -> float:
    """The threshold of the subscription's strictness level."""
    return config.thresholds.get(subscription.strictness, config.thresholds["normal"])


def contains_keyword(text: str, keyword: str) -> bool:
    """Whole-word, case-insensitive; a keyword of several words matches as a phrase."""
    words = keyword.lower().split()
    if not words:
        return False
    pattern = r"\b" + r"\s+".join(re.escape(w) for w in words) + r"\b"
    return re.search(pattern, text.lower()) is not None


def followed_author(paper: Paper, followed: list[str]) -> str | None:
    """The first author of the paper that the subscription follows, if any: in any case and
    with or without accents, as people type names ("Seamus Lankford" is "Séamus Lankford")."""
    for name in followed:
        wanted = folded_name(name)
        for author in paper.authors:
            if wanted and wanted == folded_name(author):
                return author
    return None


def folded_name(name: str) -> str:
    """A person's name in lower case, without accents, its spaces squashed."""
    letters = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in letters if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def has_filters(subscription: Subscription) -> bool:
    """Whether it asks for required or excluded keywords, or categories."""
    return bool(subscription.excluded or subscription.required or subscription.categories)


def passes_filters(paper: Paper, subscription: Subscription) -> bool:
    """Required and excluded keywords, and the category filter."""
    if not has_filters(subscription):
        return True
    text = f"{paper.title} {paper.abstract}"
    if any(contains_keyword(text, k) for k in subscription.excluded):
        return False
    if not all(contains_keyword(text, k) for k in subscription.required):
        return False
    if subscription.categories:
        if not categories_of(paper) & {c.lower() for c in subscription.categories}:
            return False
    return True


def categories_of(paper: Paper) -> set[str]:
    """The paper's categories in lower case: "CS.cr" names cs.CR, as arXiv's own search
    takes it."""
    return {c.lower() for c in [*paper.categories, paper.primary_category] if c}


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
    keywords: list[str],
    closest_seed: str | None,
    shares_words: bool,
    compound_parts: list[str],
) -> list[str]:
    """The evidence an alert shows: topic, closest seed paper, `keywords` (the topic's phrases
    the paper writes side by side, relevance.Coverage.phrases_in, then its distinctive words
    the paper contains, Coverage.distinctive_words), required keywords.

    With no distinctive word in common, the match is by meaning alone, and it says so, and
    whether the paper has words the topic writes only inside its hyphenated compounds
    (`compound_parts`: "speech" of "text-to-speech"), the topic's common words
    (`shares_words`: "LLM" in a day of LLM papers) or none of its words at all.
    """
    reasons = ["topic"]
    if closest_seed:
        reasons.append("like: " + closest_seed)
    keywords = cited_once(keywords)
    if keywords:
        reasons.append("keywords: " + ", ".join(keywords[:MAX_KEYWORD_REASONS]))
    elif compound_parts and not closest_seed:
        reasons.append(by_meaning_with_parts(subject(subscription.topic), compound_parts))
    elif not closest_seed:
        reasons.append(BY_MEANING_COMMON_WORDS if shares_words else BY_MEANING)
    if subscription.required:
        text = f"{paper.title} {paper.abstract}"
        required = [k for k in subscription.required if contains_keyword(text, k)]
        if required:
            reasons.append("required: " + ", ".join(required))
    return reasons


def by_meaning_with_parts(topic: str, parts: list[str]) -> str:
    """The reason of a match by meaning whose paper holds `parts`, words the topic writes only
    inside its compounds, and not the compounds: 'similar in meaning (it has "speech", not
    "text-to-speech")'."""
    compounds = [
        compound
        for compound in dict.fromkeys(fulltext.COMPOUND.findall(topic))
        if set(fulltext.words(compound)) & set(parts)
    ]
    return f"similar in meaning (it has {quoted(parts, 'and')}, not {quoted(compounds, 'or')})"


def quoted(words: list[str], conjunction: str) -> str:
    """`words` in double quotes, the last two joined by `conjunction`: '"a", "b" and "c"'."""
    quotes = [f'"{word}"' for word in words]
    if len(quotes) == 1:
        return quotes[0]
    return f"{', '.join(quotes[:-1])} {conjunction} {quotes[-1]}"


def cited_once(keywords: list[str]) -> list[str]:
    """`keywords` without repeats, whatever their case, nor those another one holds
    (holds_keyword), in their order."""
    distinct: dict[str, str] = {}
    for keyword in keywords:
        distinct.setdefault(keyword.casefold(), keyword)
    kept = list(distinct.values())
    return [k for k in kept if not any(holds_keyword(other, k) for other in kept)]


def holds_keyword(longer: str, keyword: str) -> bool:
    """Whether `longer` is another keyword holding `keyword` as whole words: "vision" and
    "vision-language" are cited once, in "vision-language models"."""
    if longer.casefold() == keyword.casefold():
        return False
    # Most pairs share no letters in a row: the test saves compiling a pattern for each. Only
    # in ASCII, where lower() is what IGNORECASE compares (outside it, "İ" matches "i").
    if longer.isascii() and keyword.isascii() and keyword.lower() not in longer.lower():
        return False
    return fulltext.whole_word(keyword).search(longer) is not None


def as_written(topic: str, words: list[str]) -> str:
    """A run of the topic's `words` (lower case) as the topic writes it, hyphens, small words
    between them and the rest of a compound it starts or ends in included: "test-time
    adaptation", "hallucination in vision-language models", "in-context learning"."""
    # The words a phrase leaves out of a compound at its ends are stopwords (phrases hold a
    # compound whole, Coverage.phrases_in): "in-context learning", not "context learning".
    starts, ends = r"(?<![^\W_])(?:[^\W_]+[-\u2010\u2011])*", r"(?:[-\u2010\u2011][^\W_]+)*"
    # Fewest words between first: "speech recognition" of "text-to-speech and speech
    # recognition", not "speech and speech recognition".
    for between in (r"\W+", r"\W+(?:\w+\W+)?", r"\W+(?:\w+\W+){0,2}?"):
        phrase = between.join(re.escape(word) for word in words)
        found = re.search(starts + phrase + ends, topic, re.IGNORECASE)
        if found:
            return balanced(found.group())
    return " ".join(words)


def balanced(text: str) -> str:
    """`text` without the closing brackets it does not open, and with those it opens closed:
    a phrase of "speech recognition (ASR) for low-resource languages" reads "ASR for
    low-resource languages", one of "Mixture of Experts (MoE)" ends with its bracket."""
    kept, opened = [], []
    for char in text:
        if char in CLOSING:
            if not opened or opened[-1] != CLOSING[char]:
                continue
            opened.pop()
        elif char in CLOSING.values():
            opened.append(char)
        kept.append(char)
    closers = {opening: closing for closing, opening in CLOSING.items()}
    return "".join(kept) + "".join(closers[char] for char in reversed(opened))


def as_typed(topic: str, word: str) -> str:
    """The topic's `word` (lower case) in the case the topic writes it on its own, outside a
    compound (as fulltext.only_in_compounds reads them): "LoRA", "ECG"; as given when the
    topic has it only inside one."""
    alone = fulltext.COMPOUND.sub(" ", topic)
    found = fulltext.whole_word(word).search(alone)
    return found.group() if found else word


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


@dataclass
class Decisions:
    """What matching decided for a batch of papers, as arrays (no per-pair objects yet).

    Row i is `subscriptions[i]`, column k is `papers[columns[k]]`; the alerting pairs are
    (rows[j], cols[j]) with their score and margin, and `groups` gather them into
    one alert per (target, paper).
    """

    corpus: Corpus
    subscriptions: list[Subscription]
    columns: list[str]
    papers: dict[str, Paper]
    thresholds: np.ndarray
    followed: dict[int, np.ndarray]
    rows: np.ndarray
    cols: np.ndarray
    pair_scores: np.ndarray
    coverage: relevance.Coverage
    pair_margins: np.ndarray
    # Per alert group: its target's position in `targets`, its column, its best margin,
    # whether any of its subscriptions is instant, and the slice of `rows`/`cols` it owns.
    targets: list[str]
    group_target: np.ndarray
    group_column: np.ndarray
    group_margin: np.ndarray
    group_instant: np.ndarray
    group_start: np.ndarray
    group_end: np.ndarray


class Matcher:
    """Scores papers against the active subscriptions and decides what alerts."""

    def __init__(
        self,
        store: Store,
        model_name: str,
        config: MatchingConfig,
        matrix_cells: int = MATRIX_CELLS,
    ):
        self.store = store
        self.model_name = model_name
        self.config = config
        self.matrix_cells = matrix_cells

    def corpus(self) -> Corpus:
        return load_corpus(self.store, self.model_name)

    def match(self, paper_ids: list[str], now: datetime | None = None) -> MatchResult:
        """Alerts for these papers, one per (target, paper), within each target's daily cap.

        The cap is applied to the decision arrays, so Alert objects (and their reasons)
        are built only for the alerts kept and the ones held over the cap.
        """
        decisions = self.decide(paper_ids)
        if decisions is None:
            return MatchResult(alerts=[], over_cap=[])
        kept = self._within_cap(decisions, now or datetime.now(UTC))
        builder = AlertBuilder(self.store, decisions)
        order = np.lexsort(
            (
                self._paper_rank(decisions)[decisions.group_column],
                -decisions.group_margin,
                decisions.group_target,
            )
        )
        alerts = [builder.alert(g) for g in order if kept[g]]
        over_cap = [builder.alert(g) for g in order if not kept[g]]
        return MatchResult(alerts=alerts, over_cap=over_cap)

    def score(self, paper_ids: list[str]) -> list[Alert]:
        """Every (target, paper) alert these papers earn, before the daily cap."""
        decisions = self.decide(paper_ids)
        if decisions is None:
            return []
        builder = AlertBuilder(self.store, decisions)
        return [builder.alert(g) for g in range(len(decisions.group_target))]

    def decide(self, paper_ids: list[str]) -> Decisions | None:
        """Score every active subscription against these papers and decide, in arrays.

        Thresholds, keyword and category filters and followed authors are applied to
        score matrices of a block of subscriptions at a time; None when there is nothing
        to match.
        """
        subscriptions = [
            s for s in self.store.subscriptions.all(active_only=True) if s.embedding is not None
        ]
        corpus = self.corpus()
        wanted = [paper_id for paper_id in paper_ids if paper_id in corpus.index]
        if not subscriptions or not wanted:
            return None
        papers = self.store.papers.get_many(wanted)
        columns = list(papers)
        thresholds = np.array([threshold_for(s, self.config) for s in subscriptions])
        # Compared in log-odds, so probabilities are computed only for the pairs that alert;
        # in float32 like the scores, so a pair alerts exactly when its margin is >= 0.
        raw_thresholds = log_odds(thresholds).astype(np.float32)
        followed = self._followed_columns(subscriptions, papers, columns)
        judged = self._judged_columns(subscriptions, columns)
        rows, cols, pair_raw, coverage = self._alerting_pairs(
            subscriptions, corpus, papers, columns, raw_thresholds, followed, judged
        )
        return self._grouped(
            corpus=corpus,
            subscriptions=subscriptions,
            columns=columns,
            papers=papers,
            thresholds=thresholds,
            followed=followed,
            rows=rows,
            cols=cols,
            pair_scores=relevance.logistic(pair_raw),
            coverage=coverage,
            margins=pair_raw - raw_thresholds[rows].astype(np.float64),
        )

    @staticmethod
    def _grouped(*, rows, cols, pair_scores, margins, **fields) -> Decisions:
        """Gather the alerting pairs into one group per (target, paper), best match first."""
        subscriptions, columns = fields["subscriptions"], fields["columns"]
        targets, target_of = np.unique([s.target for s in subscriptions], return_inverse=True)
        keys = target_of[rows].astype(np.int64) * len(columns) + cols
        # Stable, so each group's pairs stay in subscription order (np.nonzero's);
        # AlertBuilder orders the few pairs of each alert it builds by margin.
        order = np.argsort(keys, kind="stable")
        rows, cols, keys, margins = rows[order], cols[order], keys[order], margins[order]
        pair_scores = pair_scores[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else keys
        ends = np.r_[starts[1:], len(keys)].astype(np.int64)
        instant = np.array([s.cadence == "instant" for s in subscriptions])
        return Decisions(
            **fields,
            rows=rows,
            cols=cols,
            pair_scores=pair_scores,
            pair_margins=margins,
            targets=[str(t) for t in targets],
            group_target=target_of[rows[starts]] if len(starts) else starts,
            group_column=cols[starts],
            group_margin=np.maximum.reduceat(margins, starts) if len(starts) else margins,
            group_instant=np.logical_or.reduceat(instant[rows], starts)
            if len(starts)
            else starts.astype(bool),
            group_start=starts,
            group_end=ends,
        )

    @staticmethod
    def _paper_rank(decisions: Decisions) -> np.ndarray:
        """Each column's rank by paper id: the tie-break between equal margins."""
        return np.argsort(np.argsort(np.array(decisions.columns, dtype=object)))

    def _within_cap(self, decisions: Decisions, now: datetime) -> np.ndarray:
        """Per group: kept (True) or held over the cap (False).

        Each target keeps instant alerts within the cycle cap and what is left of its
        daily cap, taken in turns from its subscriptions: every subscription's best alert
        (by margin) first, then every one's second best, and so on, so a narrow topic's
        one paper is not crowded out by a broad topic of the same person. An alert counts
        for the subscription it matched best. Digest alerts are not capped here: a digest
        is one message however long.
        """
        since = day_start(now)
        left = np.array(
            [
                max(
                    0,
                    min(
                        self.config.cycle_cap,
                        daily_cap(target, self.config)
                        - self.store.alerts.count_since(target, since),
                    ),
                )
                for target in decisions.targets
            ]
        )
        kept = ~decisions.group_instant
        instant = np.flatnonzero(decisions.group_instant)
        paper_rank = self._paper_rank(decisions)[decisions.group_column[instant]]
        margin = decisions.group_margin[instant]
        best = self._best_subscription(decisions)[instant]
        by_subscription = np.lexsort((paper_rank, -margin, best))
        turn = np.empty(len(instant), dtype=np.int64)
        ordered = best[by_subscription]
        turn[by_subscription] = np.arange(len(ordered)) - np.searchsorted(ordered, ordered)
        order = np.lexsort((paper_rank, -margin, turn, decisions.group_target[instant]))
        target = decisions.group_target[instant][order]
        rank = np.arange(len(order)) - np.searchsorted(target, target)
        kept[instant[order]] = rank < left[target]
        return kept

    @staticmethod
    def _best_subscription(decisions: Decisions) -> np.ndarray:
        """Per group: the row of the subscription it matched with the largest margin."""
        sizes = decisions.group_end - decisions.group_start
        group_of_pair = np.repeat(np.arange(len(sizes)), sizes)
        best_pairs = np.flatnonzero(decisions.pair_margins == decisions.group_margin[group_of_pair])
        _, first = np.unique(group_of_pair[best_pairs], return_index=True)
        return decisions.rows[best_pairs[first]]

    def _alerting_pairs(
        self,
        subscriptions: list[Subscription],
        corpus: Corpus,
        papers: dict[str, Paper],
        columns: list[str],
        raw_thresholds: np.ndarray,
        followed: dict[int, np.ndarray],
        judged: dict[int, np.ndarray],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, relevance.Coverage]:
        """The (subscription row, paper column) pairs that alert, with their log-odds
        scores, and the word coverage of every topic in every paper (for the reasons).

        Subscriptions are scored a block at a time (at most `matrix_cells` scores), so
        the memory taken does not grow with their number, on WORK_THREADS threads (numpy
        and BLAS release the GIL).
        """
        # The papers scored: the new ones (the columns), then the latest stored, among
        # which each subscription finds its anchors (relevance.towards_anchors).
        new_rows = np.array([corpus.index[paper_id] for paper_id in columns])
        latest = np.arange(max(0, len(corpus.ids) - relevance.ANCHOR_WINDOW), len(corpus.ids))
        rows = np.r_[new_rows, np.setdiff1d(latest, new_rows)]
        new = slice(0, len(columns))
        # Each topic read as topic_features() reads it (acronyms.word_forms), the acronyms
        # looked up once for all.
        subjects = [subject(s.topic) for s in subscriptions]
        facets_of = [query_facets(text, compounds=True) for text in subjects]
        every_subject = "\n".join(subjects)
        defined = acronyms.defined(self.store, every_subject)
        shortened = acronyms.shortened(self.store, every_subject)
        forms_of = [acronyms.forms_in(defined, shortened, text) for text in subjects]
        verdicts = self.store.subscriptions.verdicts()
        taught = {
            i: found
            for i, subscription in enumerate(subscriptions)
            if subscription.id in verdicts
            and (found := judged_rowids(verdicts[subscription.id], corpus)) is not None
        }
        size = max(1, self.matrix_cells // len(rows))
        starts = range(0, len(subscriptions), size)
        # The FTS lookups run on their own thread while the cosines of the first blocks
        # are computed: SQLite and BLAS work without holding the GIL, so the two cores
        # share the work.
        topics = topic_matrix(subscriptions, corpus)
        with ThreadPoolExecutor(max_workers=1) as lookup:
            coverage_ready = lookup.submit(
                relevance.Coverage,
                self.store,
                facets_of,
                corpus,
                rows,
                forms_of,
                topics=topics,
                judged=taught,
                discount_companions=True,
            )
            profiles = profile_matrix(subscriptions, topics)
            learned = np.array([s.profile is not None for s in subscriptions])
            dense = DenseScorer(corpus, rows)
            filters = PaperFilters(papers, columns)
            ahead = {}
            for start in starts:
                if coverage_ready.done():
                    break
                block = slice(start, start + size)
                ahead[start] = dense.scores(profiles[block], topics[block], learned[block])
            coverage = coverage_ready.result()
        sentences = sentences_by_row(self.store, corpus, rows)
        # By column, as the score matrices are laid out.
        sentences = {column: sentences[row] for column, row in enumerate(rows) if row in sentences}
        vectors = dense.papers.T
        # Each new paper's nearest among the papers scored, for the nearby feature.
        neighbours = relevance.nearest(vectors, vectors[new], np.arange(len(columns)))

        def score_block(start: int) -> tuple[np.ndarray, ...]:
            block = slice(start, start + size)
            cosine, z = ahead.pop(start, None) or dense.scores(
                profiles[block], topics[block], learned[block]
            )
            words = coverage.features(block)
            no_nearby = np.zeros_like(cosine)
            unmoved = relevance.scored(cosine, (z, *words, no_nearby), sentences, topics[block])
            best = relevance.best_papers(unmoved)
            moved = relevance.towards_anchors(profiles[block], best, vectors)
            _, anchored = dense.zscores(moved)
            others = [
                *(feature[:, new] for feature in (anchored, *words)),
                relevance.nearby_shares(best, neighbours, len(rows)),
            ]
            raw = relevance.scored(cosine[:, new], others, sentences, topics[block])
            alerting = raw >= raw_thresholds[block, None]
            filters.apply(alerting, subscriptions[block])
            # A followed author's paper alerts whatever its score, unless it was judged (or
            # is a seed paper).
            for columns_of, alerts in ((followed, True), (judged, False)):
                for i, hits in columns_of.items():
                    if start <= i < start + size:
                        alerting[i - start, hits] = alerts
            block_rows, block_cols = np.divmod(np.flatnonzero(alerting), alerting.shape[1])
            return block_rows + start, block_cols, raw[block_rows, block_cols]

        with ThreadPoolExecutor(max_workers=WORK_THREADS) as pool:
            found = list(pool.map(score_block, starts))
        pair_rows, pair_cols, pair_raw = (
            np.concatenate(arrays) for arrays in zip(*found, strict=True)
        )
        return pair_rows, pair_cols, pair_raw, coverage

    def _judged_columns(
        self, subscriptions: list[Subscription], columns: list[str]
    ) -> dict[int, np.ndarray]:
        """Subscription position -> the columns of papers already judged for a subscription
        of its target (one paper is one alert per target: a paper judged as one topic's
        preview has been seen there), and of its seed papers (`like`)."""
        judged = self.store.subscriptions.judged_papers()
        column_of = {paper_id: k for k, paper_id in enumerate(columns)}
        found = {}
        for i, subscription in enumerate(subscriptions):
            known = {*judged.get(subscription.target, ()), *subscription.seed_papers}
            hits = [column_of[p] for p in known if p in column_of]
            if hits:
                found[i] = np.array(sorted(hits))
        return found

    @staticmethod
    def _followed_columns(
        subscriptions: list[Subscription], papers: dict[str, Paper], columns: list[str]
    ) -> dict[int, np.ndarray]:
        """Subscription position -> the columns of papers by an author it follows, names
        compared as followed_author() compares them (folded_name)."""
        by_author: dict[str, list[int]] = {}
        for k, paper_id in enumerate(columns):
            for author in papers[paper_id].authors:
                by_author.setdefault(folded_name(author), []).append(k)
        followed = {}
        for i, subscription in enumerate(subscriptions):
            hits = [
                k for name in subscription.authors for k in by_author.get(folded_name(name), [])
            ]
            if hits:
                followed[i] = np.array(sorted(set(hits)))
        return followed


def log_odds(p: np.ndarray) -> np.ndarray:
    p = np.clip(p.astype(np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


class PaperFilters:
    """Keyword and category filters over a batch of papers, each distinct keyword and
    category list checked once against every paper."""

    def __init__(self, papers: dict[str, Paper], columns: list[str]):
        self.texts = [f"{papers[p].title} {papers[p].abstract}" for p in columns]
        self.categories = [categories_of(papers[p]) for p in columns]
        self.keyword_masks: dict[str, np.ndarray] = {}
        self.category_masks: dict[tuple, np.ndarray] = {}

    def has(self, keyword: str) -> np.ndarray:
        if keyword not in self.keyword_masks:
            self.keyword_masks[keyword] = np.array(
                [contains_keyword(t, keyword) for t in self.texts]
            )
        return self.keyword_masks[keyword]

    def in_categories(self, categories: list[str]) -> np.ndarray:
        wanted = tuple(sorted(c.lower() for c in categories))
        if wanted not in self.category_masks:
            self.category_masks[wanted] = np.array([bool(c & set(wanted)) for c in self.categories])
        return self.category_masks[wanted]

    def apply(self, alerting: np.ndarray, subscriptions: list[Subscription]) -> None:
        """Clear, in place, the alerts of row i that fail subscriptions[i]'s filters."""
        for i, subscription in enumerate(subscriptions):
            for keyword in subscription.excluded:
                alerting[i] &= ~self.has(keyword)
            for keyword in subscription.required:
                alerting[i] &= self.has(keyword)
            if subscription.categories:
                alerting[i] &= self.in_categories(subscription.categories)


class AlertBuilder:
    """Turns decision groups into Alert objects with their reasons, caching per paper."""

    def __init__(self, store: Store, decisions: Decisions):
        self.corpus = decisions.corpus
        self.decisions = decisions
        subscriptions = decisions.subscriptions
        seed_ids = {p for s in subscriptions for p in s.seed_papers if p in self.corpus.index}
        self.seeds = store.papers.get_many(sorted(seed_ids)) if seed_ids else {}
        # Python lists: reading one element of a list is much cheaper than of an array.
        self.rows, self.cols = decisions.rows.tolist(), decisions.cols.tolist()
        self.scores = decisions.pair_scores.tolist()
        self._word_pairs: dict[str, set[tuple[str, str]]] = {}
        # Per subscription (by row), worked out once for all its alerts; phrases as written
        # per topic, which many subscriptions share.
        self._topics: dict[int, str] = {}
        self._not_alone: dict[int, set[str]] = {}
        self._written: dict[tuple, str] = {}
        self.margins, self.thresholds = (
            decisions.pair_margins.tolist(),
            decisions.thresholds.tolist(),
        )

    def alert(self, group: int) -> Alert:
        """The Alert of one group, its matches best first."""
        d = self.decisions
        start, end = int(d.group_start[group]), int(d.group_end[group])
        paper = d.papers[d.columns[d.group_column[group]]]
        alert = Alert(target=d.targets[d.group_target[group]], paper_id=paper.id)
        best_first = sorted(range(start, end), key=lambda j: -self.margins[j])
        alert.matches = [self.match(j) for j in best_first]
        alert.cadence = sooner_cadence([d.subscriptions[i].cadence for i in self.rows[start:end]])
        return alert

    def match(self, j: int) -> Match:
        """The Match of alerting pair j: subscription row rows[j], paper column cols[j]."""
        d = self.decisions
        i = self.rows[j]
        subscription = d.subscriptions[i]
        paper = d.papers[d.columns[self.cols[j]]]
        author = followed_author(paper, subscription.authors) if i in d.followed else None
        reasons = [f"author: {author}"] if author is not None else []
        if self.margins[j] >= 0:
            reasons += self.reasons(i, paper, self.cols[j])
        return Match(
            subscription_id=subscription.id,
            topic=subscription.topic,
            score=round(self.scores[j], 4),
            band="strong" if author is not None else band_for(self.margins[j]),
            reasons=reasons,
            threshold=round(self.thresholds[i], 4),
        )

    def reasons(self, i: int, paper: Paper, column: int) -> list[str]:
        """reasons_for() subscription i and the paper at `column` of the batch."""
        subscription = self.decisions.subscriptions[i]
        seeds = {p: self.seeds[p] for p in subscription.seed_papers if p in self.seeds}
        closest = closest_seed(self.corpus, self.corpus.index[paper.id], seeds) if seeds else None
        coverage = self.decisions.coverage
        phrases = coverage.phrases_in(i, self.word_pairs_of(paper))
        in_phrases = {word for phrase in phrases for word in phrase}
        not_alone = self.not_alone(i)
        distinctive = [w for w in coverage.distinctive_words(i, column) if w not in in_phrases]
        keywords = [self.written(i, phrase) for phrase in phrases] + [
            self.written(i, [word]) for word in distinctive if word not in not_alone
        ]
        return reasons_for(
            paper,
            subscription,
            keywords,
            closest,
            coverage.shares_a_word(i, column),
            [word for word in distinctive if word in not_alone],
        )

    def not_alone(self, i: int) -> set[str]:
        """The words of subscription i's topic never cited on their own, cached: "long"
        alone does not say a paper is on "long-context" inference, its compound does."""
        if i not in self._not_alone:
            self._not_alone[i] = fulltext.only_in_compounds(self.topic(i))
        return self._not_alone[i]

    def written(self, i: int, phrase: list[str]) -> str:
        """A phrase of subscription i's topic as the topic writes it (as_written(), or
        as_typed() for a word alone), cached by topic."""
        topic = self.topic(i)
        key = (topic, *phrase)
        if key not in self._written:
            self._written[key] = (
                as_typed(topic, phrase[0]) if len(phrase) == 1 else as_written(topic, phrase)
            )
        return self._written[key]

    def topic(self, i: int) -> str:
        """Subscription i's topic as matched (search.subject), cached."""
        if i not in self._topics:
            self._topics[i] = subject(self.decisions.subscriptions[i].topic)
        return self._topics[i]

    def word_pairs_of(self, paper: Paper) -> set[tuple[str, str]]:
        """The paper's neighbouring words as index terms (search.word_pairs), cached."""
        if paper.id not in self._word_pairs:
            title, abstract = fulltext.words(paper.title), fulltext.words(paper.abstract)
            terms = index_terms(title + abstract)
            self._word_pairs[paper.id] = word_pairs(title, terms) | word_pairs(abstract, terms)
        return self._word_pairs[paper.id]
