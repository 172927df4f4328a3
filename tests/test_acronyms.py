"""A topic typed with an acronym ("RAG", "VLMs") reads as the stored papers spell it out."""

import numpy as np
import pytest

from bot.acronyms import (
    LongForm,
    compound_forms,
    defined,
    of_topic,
    short_forms,
    shortened,
    spelled_out,
    typed_in,
    word_forms,
)
from bot.relevance import Coverage
from bot.search import query_facets
from bot.storage import Store
from bot.subscriptions import like, respell_topics, subscribe
from tests.stand_in import no_closeness, stand_in_corpus, store_papers
from tests.storage.conftest import make_paper

RAG_PAPERS = [
    "We study retrieval-augmented generation (RAG) for open-domain questions.",
    "Retrieval Augmented Generation (RAG) grounds a model in documents; RAG helps.",
    "A survey of retrieval-augmented generation (RAG) systems in industry.",
    "Traffic lights read as red, amber, green (RAG) ratings in project reports.",
]
SPELLED_OUT_ONLY = "Retrieval-augmented generation for code, without the acronym."
# With RAG_PAPERS, enough papers write "RAG" for the word typed in lower case to read as it.
ANOTHER_RAG = "Evaluating RAG pipelines for legal search (https://github.com/lab/rag-legal)."
OTHER_TOPICS = [
    "Diffusion models for image synthesis.",
    "Graph neural networks for molecules.",
    "Speech recognition in noisy rooms.",
    "Protein structure prediction with transformers.",
    "Robot grasping from point clouds.",
    "Time series forecasting for energy demand.",
    "Federated learning under label skew.",
    "Music generation with symbolic tokens.",
    "Weather forecasting with neural operators.",
    "Anomaly detection in network traffic.",
    "Causal discovery from observational data.",
    "Image compression with learned entropy models.",
    "Machine translation for low-resource languages.",
    "Reinforcement learning for chip placement.",
    "Tabular data generation with language models.",
    "Continual learning without forgetting.",
    "Sign language recognition from video.",
    "Watermarking generated images.",
    "Optical flow estimation at night.",
    "Legal document summarization.",
    "Mammography screening with deep learning.",
    "Antibody design with protein language models.",
    "Semantic occupancy prediction for driving.",
    "Concept bottleneck models for medical images.",
    *(f"Experiments on benchmark suite number {n}." for n in range(40)),
]


def long_forms(store, text):
    """The long forms of the acronyms `text` is typed with, as the stored papers give them."""
    return of_topic(defined(store, text), text)


@pytest.fixture
def store(location):
    store = Store(location)
    yield store
    store.close()


def test_a_topic_s_words_typed_with_two_capitals_are_typed_as_acronyms():
    typed = typed_in("RAG and agentic search for VLMs, MoE, LoRA; saliency maps and rag")
    assert [word for word, in_capitals in typed.items() if in_capitals] == [
        "rag",
        "vlms",
        "moe",
        "lora",
    ]
    assert typed["maps"] is False


def test_an_acronym_reads_as_most_papers_spell_it(store):
    store_papers(store, [*RAG_PAPERS, *OTHER_TOPICS])
    assert long_forms(store, "RAG for code") == {"rag": ["retrieval", "augmented", "generation"]}


def test_an_acronym_typed_in_lower_case_reads_as_the_papers_spell_it(store):
    store_papers(store, [*RAG_PAPERS, ANOTHER_RAG, *OTHER_TOPICS])
    rag = ["retrieval", "augmented", "generation"]
    assert long_forms(store, "rag for code") == {"rag": rag}
    spelled = "retrieval augmented generation (rag) for code"
    assert spelled_out("rag for code", defined(store, "rag for code")) == spelled


def test_a_hostile_abstract_beside_the_acronym_is_read_once(store):
    # A long run of hyphenated letters, tried as a web address from each of its words, took
    # minutes to read.
    hostile = "RAG pipelines, " + "a-" * 500_000
    store_papers(store, [*RAG_PAPERS, ANOTHER_RAG, hostile, *OTHER_TOPICS])
    assert long_forms(store, "rag for code") == {"rag": ["retrieval", "augmented", "generation"]}


def test_a_word_the_papers_write_in_lower_case_reads_as_an_acronym_in_capitals_only(store):
    clip = [f"Contrastive Language-Image Pre-training (CLIP) for task {n}." for n in range(10)]
    store_papers(store, [*clip, "Gradient clipping for stable training.", *OTHER_TOPICS * 2])
    forms = {"clip": ["contrastive", "language", "image", "pre", "training"]}
    assert long_forms(store, "CLIP for retrieval") == forms
    # One paper in eleven writes a word of its term otherwise: "clip" is the acronym, but
    # "clipping" is not how the papers write it.
    assert long_forms(store, "clip for retrieval") == forms
    assert long_forms(store, "gradient clipping") == {}
    # Three in thirteen: "clip" is a word too.
    clips = [f"Short video clips of sport number {n}." for n in range(2)]
    store.papers.upsert([make_paper(f"2608.0990{n}", abstract=a) for n, a in enumerate(clips)])
    for topic in ("video clips", "clip for retrieval"):
        assert long_forms(store, topic) == {}
    assert long_forms(store, "CLIP for retrieval") == forms


def test_a_word_few_of_its_papers_define_reads_as_an_acronym_in_capitals_only(store):
    """Two papers define ALL, but "all" is a word in the other 25 that hold it."""
    leukemia = ["Relapse of acute lymphoblastic leukemia (ALL) in children."] * 2
    own_sense = [f"We release all code for task {n}." for n in range(25)]
    store_papers(store, [*leukemia, *own_sense, *OTHER_TOPICS * 4])
    spelled = ["acute", "lymphoblastic", "leukemia"]
    assert long_forms(store, "ALL relapse") == {"all": spelled}
    assert long_forms(store, "all code releases") == {}
    # Looked up for many topics at once, each topic is read as typed.
    forms = defined(store, "ALL relapse\nall code releases")
    assert of_topic(forms, "ALL relapse") == {"all": spelled}
    assert of_topic(forms, "all code releases") == {}
    assert spelled_out("all code releases", forms) == "all code releases"
    # Nor is every paper that writes "all" on acute lymphoblastic leukemia.
    assert word_forms(store, "acute lymphoblastic leukemia relapse") == {}


def test_an_acronym_one_paper_defines_is_left_as_typed(store):
    store_papers(store, [RAG_PAPERS[0], *OTHER_TOPICS])
    assert long_forms(store, "RAG for code") == {}


def test_an_acronym_papers_define_two_ways_is_left_as_typed(store):
    quantum = [
        "Variational quantum algorithms (VQA) on noisy hardware.",
        "Barren plateaus of variational quantum algorithms (VQA).",
    ]
    store_papers(store, [*RAG_PAPERS[:2], *quantum, *OTHER_TOPICS])
    assert long_forms(store, "VQA benchmarks") == {"vqa": ["variational", "quantum", "algorithms"]}
    visual = "Visual question answering (VQA) with charts, and VQA on maps."
    store.papers.upsert([make_paper(f"2608.0999{n}", abstract=visual) for n in (1, 2)])
    assert long_forms(store, "VQA benchmarks") == {}


def test_an_acronym_in_more_than_a_tenth_of_the_papers_is_embedded_as_typed(store):
    """As the model knows "LLM" and "AI" well, and spelling them out cost precision; a paper
    that spells it out still holds it, for the word features."""
    store_papers(store, [*RAG_PAPERS, *OTHER_TOPICS[:10]])
    assert spelled_out("RAG for code", defined(store, "RAG for code")) == "RAG for code"
    assert long_forms(store, "RAG for code") == {"rag": ["retrieval", "augmented", "generation"]}


def test_a_topic_is_embedded_with_its_acronyms_spelled_out():
    forms = {
        "rag": LongForm(["retrieval", "augmented", "generation"], in_lower_case=True),
        "map": LongForm(["maximum", "a", "posteriori"], in_lower_case=False),
    }
    assert spelled_out("RAG and saliency maps", forms) == (
        "retrieval augmented generation (RAG) and saliency maps"
    )
    # Where it is typed as an acronym: in capitals, or in lower case where that reads so.
    assert spelled_out("map building and MAP inference", forms) == (
        "map building and maximum a posteriori (MAP) inference"
    )
    assert spelled_out("rag for code", forms) == "retrieval augmented generation (rag) for code"
    # Once, and not where the topic spells it out itself.
    assert spelled_out("RAG or RAG", forms) == "retrieval augmented generation (RAG) or RAG"
    spelled = "retrieval-augmented generation (RAG) for code"
    assert spelled_out(spelled, forms) == spelled


def test_a_paper_that_spells_an_acronym_out_holds_it(services):
    store = services.store
    ids = store_papers(store, [*RAG_PAPERS, SPELLED_OUT_ONLY, *OTHER_TOPICS])
    corpus = stand_in_corpus(store, ids)
    rows = np.arange(len(ids))
    spelled = corpus.index[ids[len(RAG_PAPERS)]]
    as_typed = Coverage(store, [query_facets("RAG")], corpus, rows, topics=no_closeness(1))
    assert as_typed.coverage()[0, spelled] == 0
    words = Coverage(
        store,
        [query_facets("RAG")],
        corpus,
        rows,
        [long_forms(store, "RAG")],
        topics=no_closeness(1),
    )
    assert words.coverage()[0, spelled] == 1
    # The alert's explanation cites the acronym the subscriber typed.
    assert words.distinctive_words(0, spelled) == ["rag"]
    # Four papers name RAG, one more spells it out: the topic is that broad.
    assert words.breadth()[0, 0] == pytest.approx(np.log(5.5 / (len(ids) + 1)))


def test_a_long_form_a_topic_spells_out_reads_as_its_acronym_too(store):
    """Over a third of the papers of an arXiv day that write "LLMs" never write "large
    language models"."""
    store_papers(store, [*RAG_PAPERS, ANOTHER_RAG, *OTHER_TOPICS])
    rag = ["rag"]
    assert word_forms(store, "retrieval-augmented generation for code") == {
        "retrieval": rag,
        "augmented": rag,
        "generation": rag,
        "retrieval-augmented": rag,
    }
    # Looked up for many topics at once, each topic is read as typed.
    forms = shortened(store, "retrieval augmented generation\nretrieval of augmented data")
    assert forms == {"retrieval augmented generation": "rag"}
    assert short_forms(forms, "retrieval of augmented data") == {}


def test_a_compound_within_a_long_form_a_topic_spells_out_reads_as_its_acronym_too():
    forms = {"vision language models": "vlm", "vision language action": "vla"}
    assert compound_forms(forms, "hallucination in vision-language models") == {
        "vision-language": ["vlm"]
    }
    assert compound_forms(forms, "vision-language navigation") == {}


def test_a_paper_that_writes_the_acronym_holds_the_long_form_a_topic_spells_out(services):
    store = services.store
    acronym_only = "We evaluate RAG pipelines for legal search."
    ids = store_papers(store, [*RAG_PAPERS, acronym_only, *OTHER_TOPICS])
    corpus = stand_in_corpus(store, ids)
    rows = np.arange(len(ids))
    only_the_acronym = corpus.index[ids[len(RAG_PAPERS)]]
    topics = ["retrieval-augmented generation", "music generation"]
    facets = [query_facets(topic) for topic in topics]
    as_typed = Coverage(store, facets, corpus, rows, topics=no_closeness(2))
    assert as_typed.coverage()[0, only_the_acronym] == 0
    forms = [word_forms(store, topic) for topic in topics]
    words = Coverage(store, facets, corpus, rows, forms, topics=no_closeness(2))
    assert words.coverage()[0, only_the_acronym] == 1
    # Another topic's "generation" is not found in it.
    assert words.coverage()[1, only_the_acronym] == 0


def test_an_acronym_one_topic_is_typed_with_is_no_word_of_another(services):
    """ "CLIP for retrieval" finds the papers that spell CLIP out; "video clips" does not."""
    store = services.store
    clip = [
        "Contrastive Language-Image Pre-training (CLIP) aligns images and text.",
        "We fine-tune Contrastive Language-Image Pre-training (CLIP) for retrieval.",
        "Contrastive language-image pre-training for retrieval of products.",
        "Short video clips for action recognition.",
    ]
    ids = store_papers(store, [*clip, *OTHER_TOPICS])
    corpus = stand_in_corpus(store, ids)
    topics = ["CLIP for retrieval", "video clips"]
    forms = [long_forms(store, topic) for topic in topics]
    assert forms[1] == {}
    facets = [query_facets(t) for t in topics]
    rows = np.arange(len(ids))
    words = Coverage(store, facets, corpus, rows, forms, topics=no_closeness(len(topics)))
    spelled, video = corpus.index[ids[2]], corpus.index[ids[3]]
    assert words.coverage()[0, spelled] == 1
    assert words.coverage()[1, spelled] == 0 and words.coverage()[1, video] == 1


def test_search_finds_the_papers_that_spell_out_the_acronym_it_is_given(services):
    ids = store_papers(services.store, [*RAG_PAPERS[:3], SPELLED_OUT_ONLY, *OTHER_TOPICS])
    services.pipeline.embed_missing()
    found = [hit.paper.id for hit in services.search.search("RAG", 4)]
    assert sorted(found) == sorted(ids[:4])


def test_a_topic_is_embedded_again_once_papers_spell_out_its_acronym(services):
    store, embedder = services.store, services.embedder
    sub = subscribe(store, embedder, topic="RAG for code", owner="U1")
    lower = subscribe(store, embedder, topic="rag for code", owner="U3")
    assert sub.embedded_as == "RAG for code"
    store_papers(store, [*RAG_PAPERS, ANOTHER_RAG, SPELLED_OUT_ONLY, *OTHER_TOPICS])
    services.pipeline.embed_missing()
    liked = like(store, embedder, services.matcher, store.papers.get("2608.00001"), owner="U2")
    assert respell_topics(store, embedder) == 2
    sub = store.subscriptions.get(sub.id)
    spelled = "retrieval augmented generation (RAG) for code"
    assert sub.embedded_as == spelled
    assert np.allclose(sub.embedding, embedder.encode_one(spelled), atol=1e-3)
    lower = store.subscriptions.get(lower.id)
    assert lower.embedded_as == "retrieval augmented generation (rag) for code"
    # Once is enough; and a subscription made from a paper keeps the paper's embedding.
    assert respell_topics(store, embedder) == 0
    assert np.array_equal(store.subscriptions.get(liked.id).embedding, liked.embedding)
