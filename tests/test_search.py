import threading
from dataclasses import replace

import numpy as np
import pytest

from bot.papers import Paper
from bot.search import (
    query_facets,
    query_phrases,
    query_terms,
    respelled,
    respellings,
    subject,
)

# The same behaviour on both database systems (tests/conftest.py).
pytestmark = pytest.mark.both_backends


def test_query_terms_are_plain_words_whatever_is_typed():
    assert query_terms('NEAR(a b) "x* -y OR z') == ["near", "b", "x", "y", "z"]
    assert query_terms("the and") == ["the", "and"]
    assert query_terms("  *** ") == []


def test_query_facets_split_a_topic_at_and_or_and_commas():
    assert query_facets("retrieval-augmented generation and agentic search") == [
        ["retrieval", "augmented", "generation"],
        ["agentic", "search"],
    ]
    assert query_facets("ECG, EEG or EMG signals") == [["ecg"], ["eeg"], ["emg", "signals"]]
    assert query_facets("speculative decoding") == [["speculative", "decoding"]]
    # Only stopwords between the separators: the topic stays whole.
    assert query_facets("the and of") == [["the", "and", "of"]]
    assert query_facets('"') == [[]]


def test_as_matching_reads_them_a_topic_s_parts_hold_their_hyphenated_compounds():
    topic = "in-context learning and vision-language models"
    assert query_facets(topic, compounds=True) == [
        ["context", "learning", "in-context"],
        ["vision", "language", "models", "vision-language"],
    ]
    assert query_facets(topic) == [["context", "learning"], ["vision", "language", "models"]]
    # The "and" inside a compound joins no parts.
    assert query_facets("vision-and-language navigation and pick-and-place") == [
        ["vision", "language", "navigation"],
        ["pick", "place"],
    ]


@pytest.mark.parametrize(
    "joined",
    [
        "speech / audio LLMs",
        "speech/audio LLMs",
        "speech & audio LLMs",
        "speech&audio LLMs",
        "speech + audio LLMs",
    ],
)
def test_ampersands_slashes_and_plus_signs_written_for_and_split_a_topic(joined):
    assert query_facets(joined) == query_facets("speech and audio LLMs")


@pytest.mark.parametrize("phrase", ["Q&A systems", "w/o labels", "C++ code generation"])
def test_ampersands_slashes_and_plus_signs_inside_a_word_do_not_split_a_topic(phrase):
    assert len(query_facets(phrase)) == 1


def test_words_that_introduce_examples_are_no_part_of_a_topic():
    assert query_facets("LLM reasoning (e.g. chain-of-thought)") == [
        ["llm", "reasoning", "chain", "thought"]
    ]
    assert query_facets("efficient inference, especially speculative decoding") == [
        ["efficient", "inference"],
        ["speculative", "decoding"],
    ]


def test_what_brackets_hold_belongs_to_the_part_before_them():
    assert query_facets("medical image segmentation (CT, MRI)") == [
        ["medical", "image", "segmentation", "ct", "mri"]
    ]
    assert query_facets("speech models (ASR or TTS) and audio LLMs") == [
        ["speech", "models", "asr", "tts"],
        ["audio", "llms"],
    ]
    assert query_facets("agents [tools, memory]; planning") == [
        ["agents", "tools", "memory"],
        ["planning"],
    ]
    # A bracket closed that was never opened holds nothing.
    assert query_facets("agents), tools") == [["agents"], ["tools"]]


def test_query_phrases_are_neighbouring_words_within_each_part_of_a_topic():
    assert query_phrases("speculative decoding") == {("specul", "decod")}
    assert query_phrases("text-to-SQL and code agents") == {("text", "sql"), ("code", "agent")}
    assert query_phrases("autonomous driving, ECG") == {("autonom", "drive")}
    assert query_phrases("ECG") == set()


@pytest.mark.parametrize(
    "typed",
    [
        "papers about speculative decoding",
        "I am interested in speculative decoding",
        "I'm looking for recent papers on speculative decoding",
        "I am interested in papers about speculative decoding",
        "new research on speculative decoding",
        "speculative decoding papers",
        "Papers related to speculative decoding",
        "Papers about: speculative decoding",
        "research on - speculative decoding",
        "Topic: speculative decoding",
        "Show me speculative decoding",
        "I'd like papers on speculative decoding",
        "Keep me posted on speculative decoding",
        "I am looking for speculative decoding",
        "new methods for speculative decoding",
        "speculative decoding related papers",
        "speculative decoding, please.",
        "speculative decoding?",
        "speculative decoding research",
        "Latest speculative decoding",
        "all things speculative decoding",
        "speculative decoding (broadly)",
        "speculative decoding and related topics",
        "Any speculative decoding",
        "Good papers on speculative decoding",
        "Interesting speculative decoding",
        "Papers in the area of speculative decoding",
        "Stuff about speculative decoding",
        "speculative decoding, not for vision",
        "papers on speculative decoding but not surveys",
        "speculative decoding except for diffusion models",
        "speculative decoding excluding hardware",
        '"speculative decoding"',
        "\u201cspeculative decoding\u201d",
        "- speculative decoding",
        "#speculative decoding",
        "\U0001f916 speculative decoding \U0001f680",
        "speculative decoding and its applications",
        "Papers on speculative decoding and similar topics",
        "speculative decoding and the like",
        "speculative decoding, etc.",
        "What's new in speculative decoding?",
        "Follow speculative decoding",
        "Track speculative decoding",
        "I want to monitor speculative decoding",
        "Subscribe me to speculative decoding",
        "Studies of speculative decoding",
        "I'm working on speculative decoding",
        "My research is on speculative decoding",
        "We study speculative decoding",
        "Our group works on speculative decoding",
        "My PhD research focuses on speculative decoding",
        "I research speculative decoding",
        "speculative decoding (not surveys)",
        "speculative decoding -surveys -hardware",
        "arxiv papers on speculative decoding",
        "speculative decoding papers on arXiv",
        "State of the art in speculative decoding",
        "SOTA speculative decoding",
        "Mainly speculative decoding",
        "Broadly: speculative decoding",
        "Hot topics in speculative decoding",
        "Trends in speculative decoding",
        "speculative decoding stuff",
        "Hi! Please send me papers on speculative decoding",
        "Hey, speculative decoding please",
        "speculative decoding, thanks!",
        "speculative decoding pls",
        "Can you send me papers on speculative decoding?",
        "Could you find speculative decoding?",
        "Need papers on speculative decoding",
        "Papers: speculative decoding",
    ],
)
def test_the_subject_of_a_request_for_papers_is_what_it_asks_about(typed):
    assert subject(typed) == "speculative decoding"


@pytest.mark.parametrize(
    "typed",
    [
        "research agents",
        "operations research",
        "LLMs that work on edge devices",
        "papers",
        "topic modeling",
        "user research",
        "teaching agents when not to answer",
        "best arm identification",
        "field of view estimation",
        "vision and language",
        "Bayes' rule",
        "instruction following",
        "tracking of cells",
        "working memory in LLMs",
        "study design in clinical trials",
        "state space models",
        "GPT-4 evaluation",
        "X-ray imaging",
        "daily activity recognition",
        "high-resolution image synthesis",
        "hi-fi audio",
        "CAN bus intrusion detection",
    ],
)
def test_a_subject_that_names_papers_or_research_is_kept_whole(typed):
    assert subject(typed) == typed


def test_versus_joins_the_words_of_a_topic():
    assert query_terms("RL vs SFT for reasoning") == ["rl", "sft", "reasoning"]
    assert query_terms("RL versus SFT") == ["rl", "sft"]


def test_quotes_inside_a_topic_are_no_part_of_its_subject():
    assert subject('"world models" for robotics') == "world models for robotics"
    assert subject("'world models' and 'robot learning'") == "world models and robot learning"
    assert subject("\u2018world models\u2019 for robotics") == "world models for robotics"
    assert subject("Alzheimer's disease and LLMs") == "Alzheimer's disease and LLMs"


def test_a_word_joined_to_a_request_word_by_a_dash_is_the_subject_s():
    assert subject("latest on-device LLMs") == "on-device LLMs"


@pytest.fixture
def corpus(eval_corpus):
    return eval_corpus


def test_hybrid_search_ranks_on_topic_paper_first(services, corpus):
    hits = services.search.search("3D point cloud understanding", limit=5)
    assert corpus[hits[0].paper.id].startswith("ULIP-2")
    assert hits[0].bm25_rank is not None and hits[0].vector_rank is not None


def test_asking_for_papers_about_a_topic_finds_what_the_topic_alone_finds(services, corpus):
    wrapped = services.search.search("I am interested in papers about 3D point cloud understanding")
    plain = services.search.search("3D point cloud understanding")
    assert [hit.paper.id for hit in wrapped] == [hit.paper.id for hit in plain]


@pytest.mark.parametrize("query", ['"', "*", "NEAR(", "-", "OR", "(", "🙂 <!channel>", "x" * 5000])
def test_hostile_queries_do_not_break_search(services, corpus, query):
    """FTS syntax in a query is searched as words, not run: the closest papers come back
    as for any other query, five of them, each once."""
    hits = services.search.search(query, limit=5)
    assert len(hits) == 5
    assert len({hit.paper.id for hit in hits}) == 5


def test_empty_query_finds_nothing(services, corpus):
    assert services.search.search("   ") == []


@pytest.fixture
def tagged(services):
    """Three papers with dates, categories and authors, to test the filters."""
    papers = [
        Paper(
            id="p.old",
            title="Sparse attention for long context language models",
            abstract="We propose sparse attention that scales to long context.",
            url="",
            authors=["Ada Lovelace"],
            categories=["cs.CL"],
            published="2024-01-10",
        ),
        Paper(
            id="p.new",
            title="Long context attention with sparse kernels",
            abstract="A sparse attention kernel for long sequences in language models.",
            url="",
            authors=["Alan Turing", "Grace Hopper"],
            categories=["cs.LG"],
            published="2026-08-20",
        ),
        Paper(
            id="p.vision",
            title="Diffusion models for video generation",
            abstract="We generate videos with a latent diffusion model.",
            url="",
            authors=["Grace Hopper"],
            categories=["cs.CV"],
            published="2026-08-21",
        ),
    ]
    services.store.papers.upsert(papers)
    services.pipeline.embed_missing()


def ids(hits):
    return [hit.paper.id for hit in hits]


def test_filters_since_categories_and_authors(services, tagged):
    search = services.search
    query = "sparse attention long context"
    assert set(ids(search.search(query, limit=2))) == {"p.old", "p.new"}
    assert "p.old" not in ids(search.search(query, since="2026-01-01"))
    assert ids(search.search(query, categories=["cs.CL"])) == ["p.old"]
    assert set(ids(search.search(query, authors=["grace hopper"]))) == {"p.new", "p.vision"}
    assert search.search(query, categories=["q-bio.GN"]) == []


def test_hostile_text_in_filters_is_harmless(services, tagged):
    hits = services.search.search('"OR NEAR(', authors=["%' or 1=1 --"], categories=["'; drop"])
    assert hits == []
    assert services.store.papers.count() == 3


def test_similar_finds_related_papers_but_not_itself(services, corpus):
    ulip = next(i for i, t in corpus.items() if t.startswith("ULIP-2"))
    hits = services.search.similar(ulip, limit=5)
    assert ulip not in ids(hits) and len(hits) == 5
    titles = [corpus[i] for i in ids(hits)]
    assert any("Meta-Transformer" in t or "3D" in t for t in titles[:3])


def test_a_small_collection_is_searched_without_pseudo_relevance_feedback(services, corpus):
    """Under 100 papers, the first ten would be much of the collection: the scores are the
    relevance model's for the query itself, with its phrase evidence."""
    from bot import relevance
    from bot.search import load_corpus, phrase_evidence, relevance_features

    query = "3D point cloud understanding"
    hits = services.search.search(query, limit=3)
    matrix = load_corpus(services.store, services.embedder.name)
    vector = services.embedder.encode_one(query)
    cosine = matrix.matrix @ vector
    facets = query_facets(query)
    features = relevance_features(services.store, facets, matrix, cosine, {}, vector)
    log_odds = relevance.log_odds(cosine, *features, nearby=0.0, weights=relevance.SEARCH)
    everything = np.ones(len(matrix.ids), dtype=bool)
    raised = phrase_evidence(services.store, query_phrases(query), matrix, log_odds, everything)
    expected = relevance.logistic(raised)
    for hit in hits:
        assert hit.score == pytest.approx(expected[matrix.index[hit.paper.id]], abs=1e-5)


def test_a_paper_naming_the_query_as_a_phrase_ranks_above_one_with_its_words_apart(
    services, corpus
):
    """Both papers have both words in the title, and the embedding puts the second closer to
    the query; only the first says "speculative decoding"."""
    abstract = "Drafts from a small model are checked by the large one, so decoding runs faster."
    papers = [
        Paper(
            id="2608.00010",
            title="Faster decoding: speculative drafts from a small model",
            abstract=abstract,
            url="",
        ),
        Paper(
            id="2608.00011",
            title="Speculative decoding with small drafts",
            abstract=abstract,
            url="",
        ),
    ]
    services.store.papers.upsert(papers)
    services.pipeline.embed_missing()
    hits = services.search.search("speculative decoding", limit=2)
    assert [hit.paper.title for hit in hits] == [
        "Speculative decoding with small drafts",
        "Faster decoding: speculative drafts from a small model",
    ]


def test_similar_of_unknown_paper_is_empty(services, corpus):
    assert services.search.similar("nope") == []


@pytest.mark.parametrize("method", ["hybrid", "rrf", "bm25", "cosine"])
def test_every_method_ranks_the_obvious_paper_first(services, corpus, method):
    hits = services.search.search("3D point cloud understanding", method=method)
    assert corpus[hits[0].paper.id].startswith("ULIP-2")


def test_a_paper_embedded_by_another_thread_is_found_by_the_next_search(services, corpus):
    """The kept embedding matrix is re-read after a write made on another connection."""
    assert services.search.search("sheep herding with quadcopters", limit=3)
    paper = Paper(
        id="2608.00001",
        title="Herding sheep with a swarm of quadcopters",
        abstract="We steer a flock of sheep with quadcopter drones using a learned policy.",
        url="",
    )

    def ingest():
        services.store.papers.upsert([paper])
        services.pipeline.embed_missing()
        services.store.close()

    worker = threading.Thread(target=ingest)
    worker.start()
    worker.join()
    hits = services.search.search("sheep herding with quadcopters", limit=3)
    assert hits[0].paper.id == "2608.00001"
    assert hits[0].vector_rank == 1 and hits[0].bm25_rank == 1


def test_writes_after_ingest_leave_the_full_text_index_alone(services, corpus):
    """Summaries, embeddings and matched_at are written later; they must not re-index."""
    store = services.store
    terms = "select * from paper_terms order by term, paper"
    before = (store.database.tuples(terms), store.fulltext.search(["point", "cloud"], 10))
    paper_ids = list(corpus)[:10]
    for paper_id in paper_ids:
        store.papers.set_summary(paper_id, "A summary with the words point cloud and zebra.")
    store.papers.mark_matched(paper_ids)
    store.papers.set_embeddings("other-model", {paper_id: [0.5, 0.5] for paper_id in paper_ids})
    assert (store.database.tuples(terms), store.fulltext.search(["point", "cloud"], 10)) == before
    assert store.fulltext.search(["zebra"], 10) == []


def test_search_finds_the_new_words_of_an_updated_abstract(services, corpus):
    store = services.store
    first = Paper(
        id="2608.00002",
        title="Flocking control",
        abstract="We steer a flock of pigeons with a learned policy.",
        url="",
        version=1,
    )
    store.papers.upsert([first])
    store.papers.upsert(
        [replace(first, abstract="We herd sheep with quadcopter drones instead.", version=2)]
    )
    services.pipeline.embed_missing()
    hits = services.search.search("quadcopter sheep", limit=3)
    assert hits[0].paper.id == "2608.00002" and hits[0].bm25_rank == 1
    assert store.fulltext.search(["pigeons"], 10) == []


@pytest.fixture
def spelling_store(services, monkeypatch):
    """A store whose papers write "autonomous" and, more often, "automated" (stem "autom"),
    and "jailbreak" but never "jailbreaks"."""
    monkeypatch.setattr("bot.search.WORD_CHECK_PAPERS", 1)
    abstracts = ["Autonomous driving with world models."] * 3 + ["Automated captions."] * 5
    abstracts += ["A jailbreak attack."] * 2
    services.store.papers.upsert(
        [Paper(id=f"s.{i}", title="", abstract=text, url="") for i, text in enumerate(abstracts)]
    )
    return services.store


def test_a_misspelt_word_is_read_as_the_word_one_edit_away_that_papers_write(spelling_store):
    # "automous" is one edit from "autonmous" too, and its stem is that of "automated".
    assert respellings(spelling_store, "autonmous driving") == {"autonmous": "autonomous"}
    assert respellings(spelling_store, "autonomuos driving") == {"autonomuos": "autonomous"}
    assert respelled("the autonmous car", {"autonmous": "autonomous"}) == "the autonomous car"
    # "jailbreaks" is one edit away, and papers write it "jailbreak".
    assert respellings(spelling_store, "jailberaks") == {"jailberaks": "jailbreak"}


def test_of_words_with_one_stem_a_misspelling_is_read_as_the_one_papers_write_most(
    services, monkeypatch
):
    monkeypatch.setattr("bot.search.WORD_CHECK_PAPERS", 1)
    # "retrievl" is one edit from "retrieval", "retrieve" and "retriev", all stemmed "retriev".
    abstracts = ["Retrieval augmented generation."] * 3 + ["We retrieve passages."] * 2
    services.store.papers.upsert(
        [Paper(id=f"r.{i}", title="", abstract=text, url="") for i, text in enumerate(abstracts)]
    )
    assert respellings(services.store, "retrievl augmented generation") == {"retrievl": "retrieval"}
    services.store.papers.upsert(
        [Paper(id=f"v.{i}", title="", abstract="To retrieve is all.", url="") for i in range(2)]
    )
    assert respellings(services.store, "retrievl augmented generation") == {"retrievl": "retrieve"}


@pytest.mark.parametrize("typed", ["wrld models", "autonmous2 driving", "Jailberaks"])
def test_short_words_words_with_digits_and_names_of_rare_words_are_not_respelled(
    spelling_store, typed
):
    # A capitalised word may be a name ("Gemma" is not "gamma"): it is read as another only
    # if 1% of the papers or more hold that, and "jailbreak" is in 2 of 310.
    spelling_store.papers.upsert(
        [Paper(id=f"f.{i}", title="", abstract="Filler text.", url="") for i in range(300)]
    )
    assert respellings(spelling_store, typed) == {}


def test_a_capitalised_misspelling_of_a_common_word_is_respelled_in_its_case(spelling_store):
    assert respellings(spelling_store, "Autonmous driving") == {"autonmous": "autonomous"}
    assert respelled("Autonmous driving", {"autonmous": "autonomous"}) == "Autonomous driving"
    assert respelled("AUTONMOUS driving", {"autonmous": "autonomous"}) == "AUTONOMOUS driving"
