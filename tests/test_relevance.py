"""The word features of the relevance model (bot/relevance.py), on stand-in embeddings."""

import numpy as np
import pytest

from bot.relevance import Coverage, companion_shares
from bot.search import query_facets
from bot.storage import Store
from tests.stand_in import DIMENSION, no_closeness, stand_in_corpus, store_papers

INTERPRETABILITY = [
    "Interpretability of transformer circuits.",
    "Saliency maps for interpretability.",
]
NEURAL_NETWORKS = ["Neural networks for weather.", "Neural networks for traffic."]
BOTH = "Interpretability of neural networks."
OTHERS = [f"Experiments on benchmark suite number {n}." for n in range(40)]
TOPIC = "interpretability of neural networks"


@pytest.fixture
def store(location):
    store = Store(location)
    yield store
    store.close()


def unit(k: int) -> np.ndarray:
    return np.eye(DIMENSION, dtype=np.float32)[k]


def coverage_for(
    store, closest_to: np.ndarray, judged=None, topic=TOPIC, discount_companions=False
) -> Coverage:
    """The topic's word features, the topic embedded at `closest_to`: the interpretability
    papers at unit(0), the neural network papers at unit(1), the paper on both between.
    `judged` holds the positions of the papers judged relevant and not relevant."""
    ids = store_papers(store, [*INTERPRETABILITY, *NEURAL_NETWORKS, BOTH, *OTHERS])
    between = (unit(0) + unit(1)) / np.sqrt(2)
    others = [unit(2 + n % 6) for n in range(len(OTHERS))]
    corpus = stand_in_corpus(
        store, ids, np.array([unit(0)] * 2 + [unit(1)] * 2 + [between] + others)
    )
    rows = np.arange(len(ids))
    taught = judged and {0: tuple(corpus.rowids[positions] for positions in judged)}
    return Coverage(
        store,
        [query_facets(topic)],
        corpus,
        rows,
        topics=closest_to[None],
        judged=taught,
        discount_companions=discount_companions,
    )


def coverage_of(store, closest_to: np.ndarray, judged=None) -> tuple[float, float]:
    """The topic's coverage of an interpretability paper and of a neural network paper."""
    words = coverage_for(store, closest_to, judged)
    return words.coverage()[0, 0], words.coverage()[0, 2]


def test_a_topic_word_weighs_as_much_as_the_papers_holding_it_are_close_to_the_topic(store):
    """ "interpretability", "neural" and "networks" are each in two papers, as rare: where
    the topic means the interpretability papers, theirs is the word that counts."""
    interpretability, neural_networks = coverage_of(store, unit(0))
    assert interpretability > 0.9 and neural_networks < 0.1


def test_the_same_words_weigh_the_other_way_for_a_topic_meaning_the_other_papers(store):
    interpretability, neural_networks = coverage_of(store, unit(1))
    assert neural_networks > 0.9 and interpretability < 0.1


def test_a_topic_close_to_no_paper_weighs_its_words_by_rarity_alone(store):
    interpretability, neural_networks = coverage_of(store, np.zeros(DIMENSION, np.float32))
    assert interpretability == pytest.approx(1 / 3, abs=0.01)
    assert neural_networks == pytest.approx(2 / 3, abs=0.01)


def test_for_alerts_the_words_of_one_phrase_weigh_about_as_one_word(store):
    """ "neural" and "networks" always come together: discounted as companions, the two
    weigh as much as "interpretability", which is as rare."""
    words = coverage_for(store, np.zeros(DIMENSION, np.float32), discount_companions=True)
    interpretability, neural_networks = words.coverage()[0, 0], words.coverage()[0, 2]
    assert interpretability == pytest.approx(1 / 2, abs=0.01)
    assert neural_networks == pytest.approx(1 / 2, abs=0.01)


def test_a_word_counts_less_the_more_surely_a_rarer_word_of_the_topic_comes_with_it():
    rowids_of = {
        "speculative": np.array([1, 2, 3]),
        "decoding": np.array([1, 2, 3, 7, 8, 9]),
        "fast": np.array([1, 7, 8, 9, 10, 11, 12]),
    }
    shares = companion_shares(["fast", "decoding", "speculative"], rowids_of, {})
    # Each share as if one more paper held the rarer word: 3 of 4, and 4 of 7 (with decoding).
    assert shares == {"speculative": 0.0, "decoding": 3 / 4, "fast": 4 / 7}


def test_a_word_no_paper_holds_takes_no_share_of_the_topic(store):
    """ "please" tells no stored paper from another: the paper holding every other word of
    the topic is covered whole, as if it had not been typed."""
    words = coverage_for(store, unit(0), topic=f"{TOPIC} please")
    assert words.coverage()[0, 4] == pytest.approx(1.0)


def test_rarity_tells_a_topic_of_rare_words_from_one_of_common_words(store):
    """Coverage is a share: the paper holding every word of either topic covers it whole.
    Rarity is the mean rarity of the topic's words, those the paper lacks counting 0: each
    word of the first topic is in 3 of the 45 papers, each word of the second in 40 of them,
    which weigh nothing."""
    rare = coverage_for(store, np.zeros(DIMENSION, np.float32))
    common = coverage_for(
        store, np.zeros(DIMENSION, np.float32), topic="experiments on benchmark suite"
    )
    both, interpretability, experiments = 4, 0, 5
    assert rare.coverage()[0, both] == pytest.approx(1.0)
    assert common.coverage()[0, experiments] == pytest.approx(1.0)
    in_three = np.log((45 - 3 + 0.5) / (3 + 0.5))
    assert rare.rarity()[0, both] == pytest.approx(in_three)
    assert rare.rarity()[0, interpretability] == pytest.approx(in_three / 3)
    assert common.rarity()[0, experiments] == 0.0


def test_rarity_is_that_of_the_part_the_paper_holds_best(store):
    """Of "interpretability, neural networks", the interpretability paper holds all of its
    first part, so its rarity is that part's: the rarity of "interpretability" alone."""
    words = coverage_for(
        store, np.zeros(DIMENSION, np.float32), topic="interpretability, neural networks"
    )
    interpretability, neural_networks = 0, 2
    in_three = np.log((45 - 3 + 0.5) / (3 + 0.5))
    assert words.rarity()[0, interpretability] == pytest.approx(in_three)
    assert words.rarity()[0, neural_networks] == pytest.approx(in_three)


def test_judgments_weigh_more_the_words_the_papers_judged_relevant_hold(store):
    """By rarity alone "interpretability" has a third of the weight; a subscriber who judged
    the interpretability papers relevant and the neural network ones not relevant has shown
    which word carries the topic."""
    relevant, not_relevant = [0, 1], [2, 3]
    interpretability, neural_networks = coverage_of(
        store, np.zeros(DIMENSION, np.float32), judged=(relevant, not_relevant)
    )
    assert interpretability > 0.6 and neural_networks < 0.4


def test_one_judgment_moves_the_weights_only_part_of_the_way(store):
    interpretability, _ = coverage_of(store, np.zeros(DIMENSION, np.float32), judged=([0], []))
    assert 1 / 3 < interpretability < 0.5


def test_an_explanation_cites_first_the_word_that_weighs_most_for_the_topic(store):
    on_both = len(INTERPRETABILITY) + len(NEURAL_NETWORKS)
    assert coverage_for(store, unit(0)).distinctive_words(0, on_both)[0] == "interpretability"


def test_the_same_paper_cites_the_other_words_first_for_a_topic_meaning_the_other_papers(store):
    on_both = len(INTERPRETABILITY) + len(NEURAL_NETWORKS)
    cited = coverage_for(store, unit(1)).distinctive_words(0, on_both)
    assert cited[:2] == ["neural", "networks"] and cited[2] == "interpretability"


def test_a_topic_s_compound_is_found_however_the_papers_write_it_and_nowhere_else(store):
    """ "in-context learning" is not about long context: the papers on it write
    "in-context", "incontext" or "in context"."""
    written = ["In-context learning.", "In context learning.", "Long-context learning."]
    ids = store_papers(store, [*written, *OTHERS])
    corpus = stand_in_corpus(store, ids)
    hyphenated, apart, long_context = (corpus.index[paper_id] for paper_id in ids[:3])
    for compounds in (False, True):
        facets = [query_facets("in-context learning", compounds=compounds)]
        words = Coverage(store, facets, corpus, np.arange(len(ids)), topics=no_closeness(1))
        coverage = words.coverage()[0]
        assert coverage[hyphenated] == coverage[apart] == pytest.approx(1.0)
        # Read as "context" and "learning" alone, the topic is all in the long-context paper.
        assert coverage[long_context] == pytest.approx(1.0 if not compounds else 0.64, abs=0.01)


def phrases_cited(store, topic: str, text: str, others: list[str]) -> list[list[str]]:
    """Coverage.phrases_in() for `topic` and the paper of `text`, stored among `others`."""
    from bot.search import index_terms, word_pairs
    from bot.storage import fulltext

    ids = store_papers(store, [text, *others])
    corpus = stand_in_corpus(store, ids)
    facets = [query_facets(topic, compounds=True)]
    words = Coverage(store, facets, corpus, np.arange(len(ids)), topics=no_closeness(1))
    written = fulltext.words(text)
    return words.phrases_in(0, word_pairs(written, index_terms(written)))


def test_a_phrase_cited_from_part_of_a_topic_does_not_end_in_a_word_that_weighs_nothing(store):
    """ "that" is in every paper: "LLM agents that play chess" holds "LLM agents" of "LLM
    agents that use tools", not "LLM agents that"."""
    others = [f"A study that runs suite {n}." for n in range(40)]
    assert phrases_cited(
        store, "LLM agents that use tools", "LLM agents that play chess.", others
    ) == [["llm", "agents"]]


def test_a_phrase_cited_from_part_of_a_topic_holds_a_compound_whole_or_not_at_all(store):
    """A paper on single-agent reinforcement learning writes "agent reinforcement learning"
    side by side, but not "multi-agent"."""
    single = "Single-agent reinforcement learning for games."
    assert phrases_cited(store, "multi-agent reinforcement learning", single, OTHERS) == [
        ["reinforcement", "learning"]
    ]


def test_a_word_in_many_papers_is_placed_by_a_thousand_of_them_spread_over_all():
    from bot.relevance import CLOSENESS_SAMPLE, spread_out

    few = np.arange(10)
    assert spread_out(few).tolist() == few.tolist()
    many = np.arange(0, 2 * CLOSENESS_SAMPLE + 5)
    taken = spread_out(many)
    assert len(taken) == CLOSENESS_SAMPLE and len(set(taken.tolist())) == CLOSENESS_SAMPLE
    assert taken[0] == many[0] and taken[-1] == many[-1]


def test_a_profile_moves_towards_the_five_papers_it_scores_highest():
    from bot.relevance import best_papers, towards_anchors

    vectors = np.tile(unit(2), (500, 1))
    vectors[[3, 50, 70, 90, 400]] = unit(1)
    raw = np.zeros((1, 500))
    raw[0, [3, 50, 70, 90, 400]] = [2.0, 1.5, 1.4, 1.3, 1.2]
    raw[0, 10] = 1.1
    moved = towards_anchors(unit(0)[None], best_papers(raw), vectors)
    assert moved[0] == pytest.approx((unit(0) + unit(1)) / np.sqrt(2))


def test_a_store_of_fewer_than_twenty_papers_gives_a_profile_no_anchors():
    from bot.relevance import best_papers, towards_anchors

    vectors = np.tile(unit(1), (19, 1))
    moved = towards_anchors(unit(0)[None], best_papers(np.ones((1, 19))), vectors)
    assert moved[0] == pytest.approx(unit(0))


def test_a_paper_is_its_own_neighbour_never():
    from bot.relevance import NEIGHBOURS, nearest

    vectors = np.array([unit(0)] * 3 + [unit(1)] * (NEIGHBOURS + 3), dtype=np.float32)
    found = nearest(vectors, vectors[[0, 3]], np.array([0, 3]))
    assert sorted(found[0].tolist())[:2] == [1, 2] and 0 not in found[0]
    assert 3 not in found[1] and set(found[1].tolist()) <= set(range(4, len(vectors)))


def test_a_paper_is_nearby_by_the_share_of_its_neighbours_among_the_topics_best():
    from bot.relevance import BEST_PAPERS, NEIGHBOURS, best_papers, nearby_shares

    raw = np.zeros((1, 500))
    raw[0, :BEST_PAPERS] = 1.0
    neighbours = np.array(
        [
            np.arange(NEIGHBOURS),  # all among the best twenty
            np.arange(300, 300 + NEIGHBOURS),  # none
            [0, 1, 300, 301, 302],  # two of five
        ]
    )
    assert nearby_shares(best_papers(raw), neighbours, 500)[0] == pytest.approx([1.0, 0.0, 0.4])


def test_in_a_store_of_fewer_than_twenty_papers_no_paper_is_nearby():
    from bot.relevance import best_papers, nearby_shares

    shares = nearby_shares(best_papers(np.ones((2, 19))), np.zeros((3, 5), dtype=np.intp), 19)
    assert shares.tolist() == [[0.0] * 3] * 2
