"""How likely a stored paper is to be one a subscriber would pick: one small logistic model.

Alerts and subscription previews decide with it; search ranks with the same features and
weights of its own (SEARCH).
Eight features, each computed against the papers stored so far:

    cosine    the embedding cosine of the topic and the paper's closest sentence: the best
              of its abstract's sentences, or its whole text where none are stored
    z         the cosine of the whole text (title and abstract) with the topic (or the
              subscription's profile) moved towards its anchors, as standard deviations
              above its mean over every stored paper; the anchors are the ANCHORS papers
              the model scores highest, with z taken against the topic itself, among the
              latest ANCHOR_WINDOW stored (towards_anchors: pseudo-relevance feedback, as
              search does)
    coverage  the share of the topic's words found in the paper's title or abstract, each word
              weighted by its rarity among the stored papers (BM25's IDF), by how close,
              in meaning, the papers holding it are to the topic (closeness_factors) and,
              for a subscription, by what it adds to the topic's rarer words
              (companion_shares) and by the papers judged for it (judged_word_factor);
              0 to 1
    title     the same share, counting only the words found in the title
    facet     the coverage of the topic's best-covered part, where "and", "or", commas
              and "&", "/" or "+" split it (search.PART_SEPARATOR): "RAG and agentic
              search" is about either (specific_parts: a part in a tenth of the papers is
              not one on its own; with_shared_words: a part of one word takes the words
              before it, "sign language recognition and translation" being about sign
              language translation)
    breadth   how broad the topic is, one number per topic: the log of the share of stored
              papers that contain all the words of one of its parts (after specific_parts),
              words that weigh nothing aside (Coverage._papers_naming)
    rarity    the mean rarity (BM25's IDF) of the words of the topic's part that gives the
              largest, those the paper lacks counting 0, with no other weighing: on dev_day,
              4.1 for a paper holding both words of "speculative decoding", 0.7 for one
              holding every word of "reasoning in large language models"
    nearby    the share of the paper's NEIGHBOURS nearest papers, by the embedding, among
              the latest stored that are among the topic's BEST_PAPERS there: those the
              model scores highest for it, as for the anchors (nearby_shares); 0 to 1

    probability = logistic(bias + w_cosine * cosine + w_z * z + w_coverage * coverage
                           + w_title * title + w_facet * facet + w_breadth * breadth
                           + w_rarity * rarity + w_nearby * nearby)

with one set of weights to decide alerts (ALERTS) and one to rank a search (SEARCH), whose
cosine is the whole text's.

Why these: a cosine says how close, but a broad topic is close to everything, and an
abstract spends most of its sentences on background and results, so one sentence that
states the paper's subject says more than the average of all of them; the z-score says how
unusual the closeness is for this topic, but taken alone it makes every topic alert the same
share of papers, and a topic of a few words is a blurred point that the papers the model
likes best for it place more surely; coverage asks for evidence of the rare words that make
a narrow topic narrow ("speculative", "SQL") while a word in half the papers weighs
nothing, and the words of one phrase ("large language models") count about as one, not as
three; coverage is a share, so holding every word of a topic made of common words counts
as much as holding every word of one made of rare words, and rarity tells the two apart;
the title is where a paper says what it is about; a paper on one part of a topic of several
misses the other parts' words, but covers its own part; and a topic many papers name ("time series
forecasting") has many relevant papers a day, while one that few name ("speculative
decoding") has a handful, so the same closeness is likelier a hit for the broad one; and
relevant papers lie near each other, so a paper whose nearest papers are the ones the model
likes best for the topic is likelier relevant than one as close to the topic on its own.

The weights are a logistic regression fitted on judged topic-paper pairs of a real arXiv day
(2,196 pairs, 30 topics from broad to narrow; bench/fit_relevance.py refits them,
bench/dev_day.py measures them). At the default threshold, over judged pairs, the whole
text's cosine (with weights fitted for it, before breadth) gave precision / recall 0.678 /
0.647 on that day and 0.672 / 0.611 on a second judged day; the closest sentence's gave
0.701 / 0.651 and 0.681 / 0.608, with breadth 0.701 / 0.662 and 0.716 / 0.608, and with the
topic's words weighed by closeness too 0.688 / 0.687 and 0.729 / 0.620
(bench/fit_relevance.py). Breadth's weight came out alike fitted on either day alone (0.25
on dev_day, 0.22 on the second). On the 54-paper set, all multimodal papers with no
distractors, breadth cost a relevant pair (0.741 / 0.588 against 0.778 / 0.618 without it,
bench/eval_matching.py); with closeness it alerts at 0.724 / 0.618.

With the words a rarer word of the topic brings along discounted (companion_shares), the
weights refitted, alerts went from 0.688 / 0.688 to 0.693 / 0.681 on dev_day, from 0.726 /
0.620 to 0.741 / 0.608 on the second day and from 0.541 / 0.559 to 0.566 / 0.545 on the
third (bench/fit_relevance.py; over the same pairs, precision at recall 0.60 went from 0.727
to 0.730, 0.742 to 0.745 and 0.512 to 0.539), and on the 54-paper set from 0.724 / 0.618 to
0.759 / 0.647. Search does not discount them: with the discount, its nDCG@5 fell on dev_day
(0.914 to 0.907), the third day (0.769 to 0.759) and the 54-paper set (0.826 to 0.805), and
rose on the second (0.879 to 0.889); with SEARCH refitted too, it was 0.898, 0.765 and 0.884.

Fitted on more judged days, the model does no better on a day it has not seen: precision at
recall 0.60 on the day left out was 0.719 (dev_day, fitted on the other two; 0.731 fitted on
it), 0.739 (the second day; 0.745 fitted on dev_day alone) and 0.539 (the third; 0.555),
bench/fit_relevance.py. Those figures are with the full-text index reading no sentence that
holds a web address (bot.papers.without_links), which moved precision at recall 0.60 over
the same pairs from 0.730 to 0.731, 0.745 to 0.745 and 0.539 to 0.555, the weights unchanged.

Rarity was added last, the weights refitted: over the judged pairs, precision / recall at the
default threshold went from 0.700 / 0.681 to 0.688 / 0.679 on dev_day, 0.741 / 0.608 to 0.750
/ 0.617 on the second day and 0.577 / 0.545 to 0.595 / 0.564 on the third, and precision at
recall 0.60 from 0.731, 0.745 and 0.555 to 0.730, 0.772 and 0.569; fitted on two days, on the
day left out 0.722, 0.745 and 0.574, against 0.719, 0.739 and 0.539 without it
(bench/fit_relevance.py). The mean over all the topic's words, not its best part's, gave
0.730, 0.751 and 0.581, and 0.723, 0.728 and 0.576 left out; their sum 0.734, 0.754 and
0.579, and 0.723, 0.714 and 0.568. Search ranks worse with it: at a weight of 0.25 (the mean
over all the words), nDCG@5 fell from 0.913 to 0.912 on dev_day, 0.879 to 0.876 and 0.766 to
0.762.

The weights were fitted again once a topic's words could be written otherwise: a typed
acronym's long form ("LLMs") and a spelled-out long form's acronym ("large language models"
in the papers that write "LLMs"; bot/acronyms.py). Over the judged pairs, precision / recall
at the default threshold went from 0.691 / 0.688 to 0.694 / 0.677 on dev_day, stayed at 0.755
/ 0.614 on the second day and went from 0.626 / 0.564 to 0.647 / 0.567 on the third; precision
at recall 0.60 from 0.730, 0.769 and 0.600 to 0.740, 0.766 and 0.626, and on the day left out
from 0.711, 0.763 and 0.600 to 0.715, 0.766 and 0.615 (bench/fit_relevance.py). With the
weights as they were, the long forms' acronyms gave 0.685 / 0.693, 0.752 / 0.614 and 0.625 /
0.582. The 54-paper set alerts at 0.793 / 0.676 (0.767 / 0.676 before).

Then z was taken against the topic moved towards its anchors, the weights fitted again.
Over the judged pairs, precision / recall at the default threshold went from 0.694 / 0.677 to
0.705 / 0.688 on dev_day, 0.755 / 0.614 to 0.754 / 0.611 on the second day and 0.647 / 0.567
to 0.647 / 0.582 on the third; precision at recall 0.60 from 0.740, 0.766 and 0.626 to 0.752,
0.779 and 0.631, and on the day left out from 0.715, 0.766 and 0.615 to 0.744, 0.772 and 0.612
(bench/fit_relevance.py). As an eighth feature beside z rather than in its place, it ranked
the judged pairs a little better (0.763, 0.782 and 0.645; left out 0.747, 0.763 and 0.617),
but z then weighed against, so a profile that feedback moved counted against the papers near
it: after five judged previews (bench/eval_matching.py, six splits), precision fell on dev_day
and the second day (0.756 and 0.770, against 0.767 and 0.790 with z anchored). Anchors taken
among the new papers of a cycle alone would be a handful in a cycle of a few: the latest
ANCHOR_WINDOW stored papers are one day of arXiv or more.

Last came the nearby feature, the weights fitted again. Over the judged pairs, precision /
recall at the default threshold went from 0.705 / 0.688 to 0.710 / 0.688 on dev_day, 0.754 /
0.611 to 0.762 / 0.627 on the second day and 0.647 / 0.582 to 0.651 / 0.592 on the third;
precision at recall 0.60 from 0.752, 0.779 and 0.631 to 0.750, 0.792 and 0.650, and on the day
left out from 0.744, 0.772 and 0.612 to 0.745, 0.798 and 0.657 (bench/fit_relevance.py). The
topic's best papers are chosen with z taken against the topic itself, by the scores that
choose the anchors, so the feature costs no third pass; chosen by the final scores, it did as
well.

The closest sentence is looked up only for the pairs whose log-odds, with the whole text's
cosine in its place, reach CANDIDATE_LOG_ODDS, below the broad level's threshold, so a paper's
sentences are read for the few topics it could alert, not for every stored paper.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from scipy import sparse

from bot.storage import Store, fulltext

if TYPE_CHECKING:
    from bot.search import Corpus


class Weights(NamedTuple):
    """The model's coefficients."""

    bias: float
    cosine: float
    z: float
    coverage: float
    title: float
    facet: float
    breadth: float
    rarity: float
    nearby: float


# Deciding alerts (and choosing previews, calibrating thresholds): the cosine is the
# closest sentence's.
ALERTS = Weights(
    bias=-3.266,
    cosine=2.881,
    z=0.762,
    coverage=0.648,
    title=0.613,
    facet=0.948,
    breadth=0.521,
    rarity=0.451,
    nearby=1.079,
)
# Ranking a search: the cosine is the whole text's; fitted on the same pairs. With ALERTS (as
# they were before breadth, which cannot change a ranking) and the closest sentences, search's
# nDCG@5 rose on the second judged day (0.880 to 0.893) and the 54-paper set (0.815 to 0.824)
# but fell on dev_day (0.900 to 0.879), with any weight of pseudo-relevance feedback and
# phrase evidence: ranking the top of a list and drawing a line under it are two jobs. Rarity
# has no weight in search, which ranked worse with it (see the module docstring).
SEARCH = Weights(
    bias=-5.431,
    cosine=2.283,
    z=0.637,
    coverage=0.814,
    title=1.023,
    facet=3.025,
    breadth=0.0,
    rarity=0.0,
    nearby=0.0,
)
# A probability of 0.047, 0.91 below the broad level's log-odds. With broad at 0.11, against no
# cut, it drops 5 of the five judged days' 6,087 broad alerts (1 relevant, 3 judged not) and
# alerts the same pairs at normal. Measured when broad was 0.15, on the three judged days,
# against looking up the closest sentence of every pair: it alerted the same pairs at strict
# and normal and dropped 1 of 3,248 broad alerts (a relevant one). At -2.5 it dropped 37 (3
# relevant, 14 judged not, 20 unjudged), at -3.5 none. Matching 2,000 papers x 10,000
# subscriptions (bench/run_all.py's row, two runs of each) took 4.25 and 4.37 s, against 3.75
# and 5.53 s at -2.5 and 4.92 and 4.86 s at -3.5.
CANDIDATE_LOG_ODDS = -3.0
# Anchors (towards_anchors): a subscription's ANCHORS best-scored papers among the latest
# ANCHOR_WINDOW stored (an arXiv day of cs.AI, cs.CL, cs.CV and cs.LG is about 1,100). Over
# the three judged days' pairs (scratch fits, the anchored z beside z), 3 or 7 anchors did
# less well than 5, and their mean weighed half or twice as much as the topic no better.
ANCHORS = 5
# At most one anchor per twenty stored papers: in a small store the best papers are much of
# it. On the 54-paper set (bench/eval_matching.py), alerts had precision / recall 0.808 /
# 0.618 with no anchors, 0.750 / 0.618 with one, 0.767 / 0.676 with two (this share) and
# 0.742 / 0.676 with five.
ANCHOR_SHARE = 0.05
ANCHOR_WINDOW = 2000
# The nearby feature (nearby_shares): the share of a paper's NEIGHBOURS nearest papers among
# the latest stored that are among a subscription's BEST_PAPERS there (scored with z taken
# against the topic itself, as for the anchors), at most one per twenty stored papers
# (ANCHOR_SHARE). Over the three judged days' pairs (scratch fits), 15 to 40 best papers and
# 4 to 6 neighbours all gave much the same.
BEST_PAPERS = 20
NEIGHBOURS = 5
# How much a topic word's weight in the coverage features grows with the closeness of the
# papers holding it to the topic (closeness_factors): for "recommender systems" the papers
# saying "systems" are hardly closer than any, and for "time series forecasting" those saying
# "time". Fitted on one judged day and measured on the other (bench/fit_relevance.py's pairs),
# precision at recall 0.60 rose from 0.736 to 0.742 (dev_day to the second day) and from
# 0.681 to 0.700 (the other way), against 0.731 and 0.703 at 3 and 0.751 and 0.693 at 9.
# Search's nDCG@5 rose on dev_day (0.902 to 0.915), and stayed on the second day (0.880 to
# 0.879) and the 54-paper set (0.826), whose papers are all alike. Its cost: a narrow topic
# whose rarest word the model finds closest weighs that word more ("quantum", in "machine
# learning decoders for quantum error correction", alerts 9 papers on dev_day instead of 5).
# 6 is 0.5 per typical spread (PRIOR_STD, 0.08) of a topic's cosines with the stored papers.
CLOSENESS_WEIGHT = 6.0
# Topic-word pairs whose closeness is worked out at once, bounding the memory it takes.
PAIR_CHUNK = 4096
# The most papers holding a word whose mean vector is taken, spread over all of them: the
# mean cosine of a thousand is within about 0.003 of all of them (a topic's cosines spread
# about 0.08). Matching 2,000 new papers of a 100,000-paper store for 10,000 subscriptions
# took 13.0 to 13.7 s with every paper holding the word counted.
CLOSENESS_SAMPLE = 1000
# The most papers holding a topic's rarer word that a companion share is taken over
# (companion_shares), spread over all of them: within about 0.035 of the share of all of them.
COMPANION_SAMPLE = 200
# How much a subscriber's judgments move the weight of each of the topic's words
# (judged_word_factor): a word that the papers judged relevant hold and those judged not
# relevant lack counts for more. For "GUI agents and computer-use agents", agent papers judged
# not relevant all say "agents", so "agents" weighs less and "GUI" more. After five judged
# previews (bench/dev_day.py, mean of six random splits), precision / recall on new papers went
# from 0.742 / 0.635 to 0.758 / 0.647 on dev_day, 0.787 / 0.630 to 0.781 / 0.635 on the second
# judged day and 0.632 / 0.497 to 0.661 / 0.500 on the third; on twelve other splits of each,
# 0.745 / 0.630 to 0.746 / 0.643, 0.804 / 0.620 to 0.794 / 0.631 and 0.624 / 0.480 to 0.646 /
# 0.489. At 0.5 and 2 recall moved less and more, precision on dev_day less.
JUDGED_WORD_WEIGHT = 1.0
# A word found in more than this share of the stored papers is generic ("model", "learning",
# "based" in a machine-learning corpus): an alert's explanation never cites it.
GENERIC_SHARE = 0.1


def log_odds(cosine, z, coverage, title, facet, breadth, rarity, nearby, weights: Weights = ALERTS):
    """The model's log-odds of relevance; arrays broadcast."""
    w = weights
    return (
        w.bias
        + w.cosine * cosine
        + w.z * z
        + w.coverage * coverage
        + w.title * title
        + w.facet * facet
        + w.breadth * breadth
        + w.rarity * rarity
        + w.nearby * nearby
    )


def logistic(x):
    """The probability of a log-odds; arrays too."""
    return 1.0 / (1.0 + np.exp(-x))


def idf(papers_with_word: np.ndarray, papers: int) -> np.ndarray:
    """BM25's inverse document frequency, floored at 0: a word in half the papers or more
    carries no weight, and neither does one that no paper holds ("please", a misspelling),
    which can tell no paper from another."""
    counts = np.asarray(papers_with_word, dtype=np.float64)
    weight = np.maximum(0.0, np.log((papers - counts + 0.5) / (counts + 0.5)))
    return np.where(counts > 0, weight, 0.0)


def closest_sentence(
    sentences: dict[int, np.ndarray],
    papers: np.ndarray,
    topics: np.ndarray,
    topic_rows: np.ndarray,
    whole: np.ndarray,
) -> np.ndarray:
    """For pairs k of a paper (`papers[k]`, a key of `sentences`, which holds the sentence
    embeddings of those papers that have them) and a topic (row `topic_rows[k]` of `topics`,
    unit vectors): the cosine of the topic with the paper's closest sentence, or `whole[k]`,
    the whole text's cosine, for a paper without sentences. Pairs are taken a paper at a
    time, so no array grows with the number of pairs times the dimension."""
    closest = np.array(whole, dtype=np.float32)
    if not len(papers):
        return closest
    order = np.argsort(papers, kind="stable")
    in_order = papers[order]
    starts = np.flatnonzero(np.r_[True, in_order[1:] != in_order[:-1]])
    for start, stop in zip(starts, np.r_[starts[1:], len(order)], strict=True):
        matrix = sentences.get(int(in_order[start]))
        if matrix is not None:
            pairs = order[start:stop]
            closest[pairs] = (topics[topic_rows[pairs]] @ matrix.T).max(axis=1)
    return closest


def scored(cosine, others, sentences, topics) -> np.ndarray:
    """The log-odds (topics x papers) from the whole text's `cosine` and the `others`
    features (log_odds()'s after the cosine), with the closest sentence's cosine wherever
    that reaches CANDIDATE_LOG_ODDS. `sentences` holds the papers' sentence embeddings by
    column, and `topics` the topics' vectors by row."""
    raw = log_odds(cosine, *others)
    pairs = np.nonzero(raw >= CANDIDATE_LOG_ODDS)
    closest = closest_sentence(sentences, pairs[1], topics, pairs[0], cosine[pairs])
    raw[pairs] = log_odds(closest, *(feature[pairs] for feature in others))
    return raw


def best_papers(raw: np.ndarray) -> np.ndarray:
    """Each row's best_count() papers (columns of `raw`, profiles x papers, the log-odds with
    z taken against the profile itself), best first: its anchors are the first ANCHORS of
    them (towards_anchors), and all of them count for the nearby feature (nearby_shares)."""
    count = best_count(raw.shape[1])
    if not count:
        return np.zeros((len(raw), 0), dtype=np.intp)
    best = np.argpartition(-raw, count - 1, axis=1)[:, :count]
    order = np.argsort(-np.take_along_axis(raw, best, axis=1), axis=1)
    return np.take_along_axis(best, order, axis=1)


def best_count(papers: int) -> int:
    """How many of `papers` stored papers are a subscription's best (BEST_PAPERS, fewer in
    a small store, where the best papers are much of it: one per twenty, ANCHOR_SHARE, which
    bounds its anchors too)."""
    return min(BEST_PAPERS, int(ANCHOR_SHARE * papers))


def towards_anchors(profiles: np.ndarray, best: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Each profile (row, a unit vector) moved towards its anchors: the mean vector of the
    first ANCHORS of its `best` papers (best_papers(), rows of `vectors`; fewer in a small
    store, which has fewer best papers), as a unit vector."""
    anchors = best[:, :ANCHORS]
    if not anchors.shape[1]:
        return profiles
    moved = profiles + vectors[anchors].mean(axis=1)
    return moved / np.linalg.norm(moved, axis=1, keepdims=True)


def nearest(vectors: np.ndarray, queries: np.ndarray, own: np.ndarray) -> np.ndarray:
    """The NEIGHBOURS rows of `vectors` (papers, unit vectors) closest to each of `queries`
    (queries x NEIGHBOURS, fewer if there are not that many others), a query's own row among
    them (`own`, -1 for none) left out."""
    count = min(NEIGHBOURS, len(vectors) - 1)
    if count < 1:
        return np.zeros((len(queries), 0), dtype=np.intp)
    similar = queries @ vectors.T
    mine = own >= 0
    similar[np.flatnonzero(mine), own[mine]] = -np.inf
    return np.argpartition(-similar, count - 1, axis=1)[:, :count]


def nearby_shares(best: np.ndarray, neighbours: np.ndarray, papers: int) -> np.ndarray:
    """The nearby feature (profiles x queries): the share of each query paper's `neighbours`
    (nearest(), among `papers` papers) that are among each profile's `best` papers
    (best_papers(), profiles x count). A paper whose nearest papers are the ones a topic
    likes best is likelier one it likes too."""
    if not best.shape[1]:
        return np.zeros((len(best), len(neighbours)), dtype=np.float32)
    among_best = np.zeros((len(best), papers), dtype=bool)
    np.put_along_axis(among_best, best, True, axis=1)
    return among_best[:, neighbours].mean(axis=2, dtype=np.float32)


def papers_with_all(rowids_of_words: list[np.ndarray]) -> np.ndarray:
    """The papers that hold every word, given each word's papers (sorted distinct rowids).

    The rarest word's papers are looked up in each other list by binary search: with 500
    and 40,000 papers, 0.01 ms against np.intersect1d's 0.2 ms, which sorts both lists
    again, and breadth intersects every part of every subscription.
    """
    shared = min(rowids_of_words, key=len)
    for rowids in rowids_of_words:
        if len(shared) == 0:
            break
        if rowids is not shared:
            at = np.minimum(np.searchsorted(rowids, shared), len(rowids) - 1)
            shared = shared[rowids[at] == shared]
    return shared


def breadth(papers_naming: int, papers: int) -> float:
    """The breadth feature: the log of the share of `papers` that name the topic, as if
    half a paper more did, so a topic no paper names yet is not infinitely narrow."""
    return float(np.log((papers_naming + 0.5) / (papers + 1)))


def specific_parts(facets: list[list[str]], common: Callable[[list[str]], bool]):
    """A topic's parts (search.query_facets) with none that is `common` (found in more than
    GENERIC_SHARE of the papers): a part that would match a tenth of all papers is not what
    anyone subscribes to on its own.

    Such a part takes the words before it that English lets it share: "image understanding
    and generation" is about image generation, not every paper on generation. A common part
    with none to take (the first part, or one after a part of one word) makes the topic one
    part again.
    """
    if len(facets) < 2:
        return facets
    specific = []
    for k, facet in enumerate(facets):
        if common(facet):
            if k == 0 or len(facets[k - 1]) < 2:
                return [list(dict.fromkeys(w for part in facets for w in part))]
            facet = with_words_before(facets[k - 1], facet)
        specific.append(facet)
    return specific


def with_shared_words(parts: list[list[str]]) -> list[list[str]]:
    """A topic's parts with each part of one word after another part taking the words
    before it that English lets it share, as a common part does in specific_parts():
    "sign language recognition and translation" is about sign language translation, and
    "object detection, segmentation and tracking" about object tracking too. A paper
    without the words a part takes covers it less. Breadth still counts the papers naming
    the part itself: counting those naming it with the words it takes, the third judged day
    lost relevant alerts as well as wrong ones (precision / recall 0.628 / 0.535 against
    0.626 / 0.554, and 0.595 / 0.564 before either).
    """
    shared: list[list[str]] = []
    for part in parts:
        if len(part) == 1 and shared:
            part = with_words_before(shared[-1], part)
        shared.append(part)
    return shared


def with_words_before(before: list[str], part: list[str]) -> list[str]:
    """`part` after the words of the part `before` it that English lets it share, all but
    that part's last word (its head) and the compounds holding it: "generation" after "image
    understanding" is image generation, "reasoning" after "in-context learning" in-context
    reasoning (query_facets puts a part's compounds after its words)."""
    words = [word for word in before if not fulltext.compound_words(word)]
    head = words[-1] if words else None
    shared = [word for word in before if word != head and head not in fulltext.compound_words(word)]
    return list(dict.fromkeys(shared + part))


def either(
    first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The papers of either of two term_hits() results, in the title where either has it."""
    rowids = np.union1d(first[0], second[0])
    in_title = np.concatenate([first[0][first[1]], second[0][second[1]]])
    return rowids, np.isin(rowids, in_title)


class IndexedWords:
    """What the full-text index says of words (term_hits() and papers_with()), kept once
    asked, and asked for many words together: Coverage looks up every word of thousands of
    topics. For bench/run_all.py's 10,000 subscriptions, scoring on PostgreSQL took 11.2 s
    with a query per word (about 5,100 of them), 6.9 s with the words asked together. The
    arrays it gives are shared between callers: read them, never change them in place."""

    def __init__(self, index: fulltext.FullText):
        self.fulltext = index
        self.papers = index.paper_count()
        self._hits: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._counts: dict[str, int] = {}

    def prefetch(self, words: list[str], forms: list[list[str]]) -> None:
        """Look up together what word_hits() of `words` and form_hits() of `forms` will."""
        compounds = [parts for w in words if (parts := fulltext.compound_words(w))]
        forms = forms + compounds
        self._counts.update(self.fulltext.document_frequencies([w for form in forms for w in form]))
        wanted = [w for w in words if not fulltext.compound_words(w)]
        wanted += ["".join(parts) for parts in compounds]
        wanted += [w for form in forms for w in self.kept(form)]
        self._hits.update(self.fulltext.hits_of([w for w in wanted if w not in self._hits]))

    def hits(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        if word not in self._hits:
            self._hits[word] = self.fulltext.term_hits(word)
        return self._hits[word]

    def kept(self, form: list[str]) -> list[str]:
        """The words of `form` that form_hits() looks up: those found in fewer than half the
        papers, or all of them if none is. A word such as "of", in almost every paper, costs
        much to look up and tells little."""
        for word in form:
            if word not in self._counts:
                self._counts[word] = self.fulltext.papers_with(word)
        return [w for w in form if 2 * self._counts[w] < self.papers] or form


def form_hits(lookups: IndexedWords, form: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """term_hits() for another way to write a word, an acronym's long form or a long form's
    acronym: the papers holding all its words (IndexedWords.kept), and which hold them all
    in the title."""
    hits = [lookups.hits(w) for w in lookups.kept(form)]
    anywhere = papers_with_all([rowids for rowids, _ in hits])
    in_title = papers_with_all([rowids[title] for rowids, title in hits])
    return anywhere, np.isin(anywhere, in_title)


def compound_hits(lookups: IndexedWords, compound: str) -> tuple[np.ndarray, np.ndarray]:
    """term_hits() for a hyphenated compound of a topic (fulltext.hyphenated): the papers
    that write it closed up or hyphenated (the index's closed-up term) or spaced, "in context
    learning" for "in-context"."""
    parts = fulltext.compound_words(compound)
    # Only the papers holding all its words (form_hits: "in", in almost every paper, aside, as
    # looking up its papers took longer than reading the texts) can write it spaced.
    holding_all, _ = form_hits(lookups, parts)
    written_apart = lookups.fulltext.written_apart(parts, holding_all)
    return either(lookups.hits("".join(parts)), written_apart)


def word_hits(lookups: IndexedWords, word: str) -> tuple[np.ndarray, np.ndarray]:
    """term_hits() for a topic's word or hyphenated compound (compound_hits)."""
    if fulltext.compound_words(word):
        return compound_hits(lookups, word)
    return lookups.hits(word)


def closeness_factors(
    corpus: Corpus,
    holding: list[np.ndarray],
    weighed: np.ndarray,
    topics: np.ndarray,
    words_of: list[list[str]],
    column: dict[str, int],
) -> list[dict[str, float]]:
    """For each topic, its words' factors in the coverage features: exp(CLOSENESS_WEIGHT x
    how much closer to the topic the papers holding the word are than the stored papers
    are on average), closeness being the embedding cosine.

    `holding[j]` gives the corpus rows of the papers holding word `column[w] == j`, and
    `weighed[j]` whether its weight counts at all (a word in half the papers or more, or in
    none, has none, and its factor is left at 1). A topic's mean cosine with a word's papers is its
    cosine with their mean vector, so the means are taken once per word, not per topic.
    """
    kept = [spread_out(found) if weighed[j] else found[:0] for j, found in enumerate(holding)]
    sizes = np.array([len(found) for found in kept], dtype=np.intp)
    holders = sparse.csr_matrix(
        (
            np.repeat(1.0 / np.maximum(sizes, 1), sizes).astype(np.float32),
            np.concatenate(kept) if kept else np.zeros(0, np.intp),
            np.r_[0, np.cumsum(sizes)],
        ),
        shape=(len(kept), len(corpus.ids)),
    )
    centre = corpus.centre
    # A word no paper holds, or one left unweighed, is as close as the average paper.
    offsets = np.where(sizes[:, None] > 0, holders @ corpus.matrix - centre, 0.0)
    per_topic = np.array([len(words) for words in words_of], dtype=np.intp)
    pair_topics = np.repeat(np.arange(len(words_of)), per_topic)
    pair_words = np.array([column[w] for words in words_of for w in words], dtype=np.intp)
    lift = np.zeros(len(pair_words), dtype=np.float32)
    for start in range(0, len(lift), PAIR_CHUNK):
        chunk = slice(start, start + PAIR_CHUNK)
        lift[chunk] = np.einsum("pd,pd->p", topics[pair_topics[chunk]], offsets[pair_words[chunk]])
    factors = np.exp(CLOSENESS_WEIGHT * lift).tolist()
    bounds = np.r_[0, np.cumsum(per_topic)]
    return [
        dict(zip(words, factors[bounds[i] : bounds[i + 1]], strict=True))
        for i, words in enumerate(words_of)
    ]


def judged_word_factor(
    holding: np.ndarray, relevant: np.ndarray, not_relevant: np.ndarray
) -> float:
    """How much a subscriber's judgments raise (above 1) or lower a topic word's weight:
    exp(JUDGED_WORD_WEIGHT x (the share of the papers judged relevant that hold it - the
    share of those judged not relevant that do)), each share taken as if one more paper had
    been judged and half of it held the word, so one judgment moves it part of the way.
    All three are sorted distinct rowids."""

    def share(judged: np.ndarray) -> float:
        return (len(papers_with_all([holding, judged])) + 0.5) / (len(judged) + 1)

    return float(np.exp(JUDGED_WORD_WEIGHT * (share(relevant) - share(not_relevant))))


def companion_shares(
    words: list[str], rowids_of: dict[str, np.ndarray], together: dict[tuple[str, str], float]
) -> dict[str, float]:
    """For each of a topic's distinct `words`, the largest share of the papers holding one of
    its rarer words that hold it too, as if one more paper held the rarer word: "networks"
    comes with "neural" in most papers, so in "interpretability of neural networks" it adds
    little to "neural", and "time" adds little to "series" in "time series forecasting".
    Coverage for alerts weighs each word by 1 less that share, so the words of one phrase
    count about as one (Coverage's discount_companions).

    `rowids_of` gives each word's papers (sorted distinct rowids); `together` keeps the shares
    worked out, by (rarer word, word), for the next topics sharing those words. A share is
    taken over at most COMPANION_SAMPLE of the rarer word's papers: for 10,000 topics of
    bench/bench_data.py, whose words were each held by up to 30,000 papers of 100,000, the
    shares took 3.3 s with every paper counted, 0.76 s with 1,000 and 0.51 s with 200.
    """
    rarest_first = sorted(words, key=lambda w: (len(rowids_of[w]), w))
    shares = {}
    for at, word in enumerate(rarest_first):
        shares[word] = 0.0
        for rarer in rarest_first[:at]:
            if (rarer, word) not in together:
                sample = spread_out(rowids_of[rarer], COMPANION_SAMPLE)
                both = papers_with_all([sample, rowids_of[word]])
                together[rarer, word] = len(both) / (len(sample) + 1)
            shares[word] = max(shares[word], together[rarer, word])
    return shares


def spread_out(rows: np.ndarray, most: int = CLOSENESS_SAMPLE) -> np.ndarray:
    """At most `most` of `rows`, evenly spread over them."""
    if len(rows) <= most:
        return rows
    return rows[np.linspace(0, len(rows) - 1, most).astype(np.intp)]


class PartWords(NamedTuple):
    """A part of a topic as Coverage.phrases_in reads it: its words, the compounds aside
    (`keys`, and `typed` as the topic writes them), the index terms of each neighbouring
    pair (`joins`), and for each word the first and last positions of the words of its
    compound (`compounds`; its own position twice for a word of none)."""

    keys: list[str]
    typed: list[str]
    joins: list[tuple[str, str]]
    compounds: list[tuple[int, int]]


class Coverage:
    """The coverage, title, facet and breadth features of many topics for chosen corpus rows.

    `facets_of` holds each topic's parts, each a list of words (search.query_facets); a
    topic's words are those of all its parts. `forms_of`, one per topic, holds how the papers
    may write some of its words otherwise (acronyms.word_forms: an acronym's long form, or a
    long form's acronym), and `topics` its embedding
    (unit vectors, topics x dimension). `judged` holds, for the topics whose subscriber judged
    papers (by position), the sorted rowids of those judged relevant and not relevant
    (judged_word_factor). With `discount_companions`, as for alerts, a word counts less the
    more surely a rarer word of its topic comes with it (companion_shares). Each distinct
    word of all the topics is looked up in the full-text index once (words the index reads
    as the same terms, like "model" and "models", once between them), all of them together
    (IndexedWords.prefetch).
    """

    def __init__(
        self,
        store: Store,
        facets_of: list[list[list[str]]],
        corpus: Corpus,
        rows: np.ndarray,
        forms_of: list[dict[str, list[str]]] | None = None,
        *,
        topics: np.ndarray,
        judged: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
        discount_companions: bool = False,
    ):
        # A word of a topic that the papers may write otherwise (acronyms.word_forms) is a
        # word of its own, held by the papers that write it either way: another topic's
        # "clips", read as a word, is not found in the papers on CLIP, nor another topic's
        # "models" in those that write "LLMs".
        self.typed_as: dict[str, tuple[str, list[str]]] = {}
        facets_of = [
            [[self._word_key(word, forms) for word in part] for part in facets]
            for facets, forms in zip(facets_of, forms_of or [{}] * len(facets_of), strict=True)
        ]
        words_of = [list(dict.fromkeys(w for part in facets for w in part)) for facets in facets_of]
        words = list(dict.fromkeys(w for ws in words_of for w in ws))
        looked_up = [w for w in words if w not in self.typed_as]
        plain = [w for w in looked_up if not fulltext.compound_words(w)]
        compounds = [w for w in looked_up if fulltext.compound_words(w)]
        lookups = IndexedWords(store.fulltext)
        typed = list(self.typed_as.values())
        lookups.prefetch(looked_up + [word for word, _ in typed], [form for _, form in typed])
        terms = dict(zip(plain, store.fulltext.terms_of(plain), strict=True))
        hits = {term: lookups.hits(word) for word, term in terms.items()}
        papers = lookups.papers
        # A hyphenated compound (query_facets) is a word of its own, its own term.
        for compound in compounds:
            terms[compound] = compound
            hits[compound] = compound_hits(lookups, compound)
        for key, (word, form) in self.typed_as.items():
            terms[key] = key
            hits[key] = either(word_hits(lookups, word), form_hits(lookups, form))
        # Found in more papers than this, a word (or a part of a topic) is generic.
        generic_count = GENERIC_SHARE * papers

        def common(part: list[str]) -> bool:
            # A part with a word in few papers is in as few at most: no intersection needed.
            found_in = [hits[terms[w]][0] for w in part]
            return min(map(len, found_in)) > generic_count and (
                len(papers_with_all(found_in)) > generic_count
            )

        facets_of = [specific_parts(facets, common) for facets in facets_of]
        self.parts_of, self._common = facets_of, common
        # Worked out when first asked for (phrases_in).
        self._phrase_parts: dict[int, list[PartWords]] = {}
        self._common_runs: dict[tuple[str, ...], bool] = {}
        anywhere = np.zeros((len(words), len(rows)), dtype=np.float32)
        in_title = np.zeros_like(anywhere)
        counts = np.zeros(len(words))
        holding = []
        position = np.full(len(corpus.ids), -1)
        position[rows] = np.arange(len(rows))
        for j, word in enumerate(words):
            rowids, title_mask = hits[terms[word]]
            counts[j] = len(rowids)
            corpus_rows, found = corpus.rows_of(rowids)
            holding.append(corpus_rows[found])
            at = position[corpus_rows]
            wanted = found & (at >= 0)
            anywhere[j, at[wanted]] = 1
            in_title[j, at[wanted & title_mask]] = 1
        self.words_of, self.terms = words_of, terms
        self.column = {w: j for j, w in enumerate(words)}
        self.weight = idf(counts, papers)
        self.generic = counts > generic_count
        self.topic_breadth = np.array(
            [breadth(self._papers_naming(facets, hits), papers) for facets in facets_of],
            dtype=np.float32,
        )
        # Each topic's closeness factor of each of its words (closeness_factors).
        self.factors = closeness_factors(
            corpus, holding, self.weight > 0, topics, words_of, self.column
        )
        if discount_companions:
            self._discount_companions(words_of, {w: hits[terms[w]][0] for w in words})
        for i, (relevant, not_relevant) in (judged or {}).items():
            factor = self.factors[i]
            for word in factor:
                factor[word] *= judged_word_factor(hits[terms[word]][0], relevant, not_relevant)
        self.topic_word = self._shares(words_of, self.factors)
        parts = [facet for facets in facets_of for facet in with_shared_words(facets)]
        self.facet_word = self._shares(
            parts, [self.factors[i] for i, facets in enumerate(facets_of) for _ in facets]
        )
        self.facet_rarity = self._mean_rarities(parts)
        # Topic i's parts are rows facet_offsets[i] to facet_offsets[i + 1] of facet_word.
        self.facet_offsets = np.cumsum([0] + [len(facets) for facets in facets_of])
        self.anywhere, self.in_title = anywhere, in_title

    def _discount_companions(
        self, words_of: list[list[str]], rowids_of: dict[str, np.ndarray]
    ) -> None:
        """Each topic's factor of each of its words times 1 less its companion_shares()."""
        together: dict[tuple[str, str], float] = {}
        for factor, words in zip(self.factors, words_of, strict=True):
            weighed = [w for w in words if self.weight[self.column[w]] > 0]
            for word, share in companion_shares(weighed, rowids_of, together).items():
                factor[word] *= 1 - share

    def _word_key(self, word: str, forms: dict[str, list[str]]) -> str:
        """`word`, or the word of its own it is where `forms` gives another way to write it."""
        if word not in forms:
            return word
        key = f"{word} ({' '.join(forms[word])})"
        self.typed_as[key] = (word, forms[word])
        return key

    def _papers_naming(self, facets: list[list[str]], hits: dict) -> int:
        """How many stored papers contain all the words of one of a topic's parts, the
        words that weigh nothing (idf(): in half the papers or more, or in none) aside, as
        coverage gives them no weight (_shares)."""
        named = []
        for facet in filter(None, facets):
            weighted = [w for w in facet if self.weight[self.column[w]] > 0] or facet
            named.append(papers_with_all([hits[self.terms[w]][0] for w in weighted]))
        if len(named) < 2:
            return len(named[0]) if named else 0
        return len(np.unique(np.concatenate(named)))

    def _shares(
        self, groups: list[list[str]], factors: list[dict[str, float]]
    ) -> sparse.csr_matrix:
        """Groups x words: each group's words weighted by rarity and by their factor in
        `factors` (one dict per group, by word), the weights of a group summing to 1. A
        group made only of words that weigh nothing (idf()) weighs them alike, as BM25
        search keeps them all then (search.weighted_terms): they still say what it is
        about."""
        columns_of = [[self.column[w] for w in group] for group in groups]
        shares = []
        for group, group_columns, factor in zip(groups, columns_of, factors, strict=True):
            weights = self.weight[group_columns] * [factor[w] for w in group]
            if weights.sum() == 0:
                weights = np.ones(len(group_columns))
            shares.append(weights / weights.sum())
        return self._by_group(columns_of, shares)

    def _mean_rarities(self, groups: list[list[str]]) -> sparse.csr_matrix:
        """Groups x words: each group's words weighted by their rarity (idf()) over the
        group's size, so that a row times a paper's words is the mean rarity of the group's
        words, those the paper lacks counting 0."""
        columns_of = [[self.column[w] for w in group] for group in groups]
        return self._by_group(columns_of, [self.weight[c] / len(c) for c in columns_of])

    def _by_group(
        self, columns_of: list[list[int]], values_of: list[np.ndarray]
    ) -> sparse.csr_matrix:
        """Groups x words, row i holding `values_of[i]` at the columns `columns_of[i]`.

        Built from its entries: a dense groups x words matrix for 10,000 subscriptions took
        0.3 s to make and search for them, as long as the rest of __init__.
        """
        rows = np.repeat(np.arange(len(columns_of)), [len(c) for c in columns_of])
        columns = [j for group_columns in columns_of for j in group_columns]
        values = np.concatenate([np.zeros(0), *values_of]).astype(np.float32)
        shape = (len(columns_of), len(self.column))
        return sparse.csr_matrix((values, (rows, columns)), shape=shape)

    def coverage(self, block: slice = slice(None)) -> np.ndarray:
        """Topics (of `block`) x rows: the weighted share of each topic's words in the paper."""
        return self.topic_word[block] @ self.anywhere

    def title(self, block: slice = slice(None)) -> np.ndarray:
        """Topics (of `block`) x rows: the same share, counting words in the title only."""
        return self.topic_word[block] @ self.in_title

    def facet(self, block: slice = slice(None)) -> np.ndarray:
        """Topics (of `block`) x rows: the coverage of each topic's best-covered part."""
        return self._best_part(self.facet_word, block)

    def _best_part(self, by_part: sparse.csr_matrix, block: slice) -> np.ndarray:
        """Topics (of `block`) x rows: the largest, over each topic's parts, of the part's
        words in `by_part` (parts x words) times the paper's words."""
        first, stop, _ = block.indices(len(self.words_of))
        offsets = self.facet_offsets[first : stop + 1]
        per_facet = by_part[offsets[0] : offsets[-1]] @ self.anywhere
        return np.maximum.reduceat(per_facet, offsets[:-1] - offsets[0], axis=0)

    def breadth(self, block: slice = slice(None)) -> np.ndarray:
        """Topics (of `block`) x rows: each topic's breadth, the same for every paper."""
        topics = self.topic_breadth[block]
        return np.broadcast_to(topics[:, None], (len(topics), self.anywhere.shape[1]))

    def rarity(self, block: slice = slice(None)) -> np.ndarray:
        """Topics (of `block`) x rows: the mean rarity of the words of each topic's part
        that gives the largest, those the paper lacks counting 0."""
        return self._best_part(self.facet_rarity, block)

    def features(self, block: slice = slice(None)) -> tuple[np.ndarray, ...]:
        """The word features of the topics of `block` (coverage, title, facet, breadth,
        rarity), each topics x rows, in log_odds()'s order."""
        return (
            self.coverage(block),
            self.title(block),
            self.facet(block),
            self.breadth(block),
            self.rarity(block),
        )

    def shares_a_word(self, topic: int, row: int) -> bool:
        """Whether the paper at position `row` holds any of the topic's words, generic or not."""
        return any(self.anywhere[self.column[word], row] for word in self.words_of[topic])

    def phrases_in(self, topic: int, pairs: set[tuple[str, str]]) -> list[list[str]]:
        """The longest runs of two words or more of the topic's parts that a paper holds side
        by side (`pairs`, as search.word_pairs() reads the paper), each without the words at
        its ends that weigh nothing (short of a whole part) and holding a compound whole or
        not at all; none whose words are all together in more than GENERIC_SHARE of the
        papers, nor one that another holds. Each as the topic's words (an acronym as typed).
        "test-time adaptation" is no distinctive word, but a phrase, and so is "KV cache" of
        "KV cache for long-context inference" in a paper on reusing the KV cache."""
        found: list[tuple[list[str], set[tuple[str, str]]]] = []
        for keys, typed, joins, compounds in self._parts_for_phrases(topic):
            start = 0
            for end in range(len(typed)):
                if end < len(joins) and joins[end] in pairs:
                    continue
                whole = start == 0 and end == len(typed) - 1
                first, last = (start, end) if whole else self._weighed_ends(keys, start, end)
                # A phrase holds a compound whole or not at all: "reinforcement learning", not
                # "agent reinforcement learning", of "multi-agent reinforcement learning".
                if compounds[first][0] < first:
                    first = compounds[first][1] + 1
                if compounds[last][1] > last:
                    last = compounds[last][0] - 1
                if last > first and not self._common_run(tuple(keys[first : last + 1])):
                    found.append((typed[first : last + 1], set(joins[first:last])))
                start = end + 1
        # "point clouds" is cited once, in "3D point cloud", of "3D point cloud understanding
        # and point clouds".
        return [
            typed
            for k, (typed, joined) in enumerate(found)
            if not any(
                joined < other or (joined == other and j < k) for j, (_, other) in enumerate(found)
            )
        ]

    def _weighed_ends(self, keys: list[str], first: int, last: int) -> tuple[int, int]:
        """The first and last positions of the run of `keys` from `first` to `last` less the
        words at its ends that weigh nothing (idf(): in half the papers or more), such as
        "that" of "LLM agents that use tools" in a paper on "LLM agents that play chess"."""
        while first < last and self.weight[self.column[keys[first]]] == 0:
            first += 1
        while last > first and self.weight[self.column[keys[last]]] == 0:
            last -= 1
        return first, last

    def _parts_for_phrases(self, topic: int) -> list[PartWords]:
        """The topic's parts as phrases_in reads them. A compound's words are in its part on
        their own too (query_facets), where the phrases are found."""
        if topic not in self._phrase_parts:
            self._phrase_parts[topic] = []
            for part in self.parts_of[topic]:
                keys = [word for word in part if not fulltext.compound_words(word)]
                typed = [self.typed_as.get(word, (word,))[0] for word in keys]
                compounds = [(k, k) for k in range(len(keys))]
                for compound in filter(fulltext.compound_words, part):
                    at = [keys.index(w) for w in fulltext.compound_words(compound) if w in keys]
                    for k in at:
                        compounds[k] = (min(at), max(at))
                joins = list(pairwise(fulltext.terms_of(typed)))
                self._phrase_parts[topic].append(PartWords(keys, typed, joins, compounds))
        return self._phrase_parts[topic]

    def _common_run(self, keys: tuple[str, ...]) -> bool:
        """Whether the words of `keys` are all together in more than GENERIC_SHARE of the
        papers, asked once for each run."""
        if keys not in self._common_runs:
            self._common_runs[keys] = self._common(list(keys))
        return self._common_runs[keys]

    def distinctive_words(self, topic: int, row: int) -> list[str]:
        """The topic's words found in the paper at position `row` that are not generic,
        heaviest first (by rarity and closeness, as the coverage weighs them): the words that
        carried the match. Words the index reads as one term ("point clouds" and "point
        cloud") are cited once."""
        found: dict[str, str] = {}
        for word in self.words_of[topic]:
            j = self.column[word]
            if self.anywhere[j, row] and not self.generic[j]:
                found.setdefault(self.terms[word], word)
        factor = self.factors[topic]
        heaviest_first = sorted(
            found.values(), key=lambda w: -self.weight[self.column[w]] * factor[w]
        )
        return [self.typed_as.get(w, (w,))[0] for w in heaviest_first]
