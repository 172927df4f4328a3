import math
import sqlite3

import pytest

from bot.storage import Store, fulltext
from tests.storage.conftest import make_paper


def found_by_each(store, words: tuple[str, ...]) -> dict[str, list[str]]:
    """The ids of the papers a search for each of `words` alone finds, by word."""
    return {word: sorted(pid for pid, _ in store.fulltext.search([word], 5)) for word in words}


def test_finds_by_title_abstract_and_author(store):
    store.papers.upsert([make_paper(title="Sparse attention", abstract="Long context.")])
    for word in ("sparse", "context", "turing"):
        assert [pid for pid, _ in store.fulltext.search([word], 5)] == ["2608.00001"]


def test_words_are_case_folded_without_diacritics_or_underscores():
    assert fulltext.words("Énergie-based X_ray MODELS, naïve 3D") == [
        "energie",
        "based",
        "x",
        "ray",
        "models",
        "naive",
        "3d",
    ]


def test_words_with_the_same_term_find_the_same_papers(store):
    store.papers.upsert(
        [
            make_paper("2608.00001", abstract="Language models model language."),
            make_paper("2608.00002", abstract="A modeling study of images."),
        ]
    )
    terms = store.fulltext.terms_of(["models", "model", "modeling", "is", "images"])
    assert terms == ["model", "model", "model", "is", "imag"]
    scores = [store.fulltext.scores([word]) for word in ("models", "model", "modeling")]
    for rowids, values in scores[1:]:
        assert rowids.tolist() == scores[0][0].tolist() == [1, 2]
        assert values.tolist() == scores[0][1].tolist()


def test_a_word_of_the_ize_family_is_not_the_word_it_is_made_from(store):
    store.papers.upsert(
        [
            make_paper("2608.00001", title="A tokenizer for code", abstract="Tokenization."),
            make_paper("2608.00002", title="Fewer tokens", abstract="In general, shorter."),
            make_paper("2608.00003", title="Domain generalisation", abstract="It generalizes."),
        ]
    )
    words = ["tokenizers", "tokenization", "tokens", "generalization", "general", "precise"]
    assert store.fulltext.terms_of(words) == [
        "tokeniz",
        "tokeniz",
        "token",
        "generaliz",
        "gener",
        "precis",
    ]
    british = ["tokenisation", "tokenised", "tokeniser", "advertisers", "advertise"]
    assert store.fulltext.terms_of(british) == ["tokenis"] * 3 + ["advertis"] * 2
    assert found_by_each(store, ("tokenizers", "token", "generalization", "general")) == {
        "tokenizers": ["2608.00001"],
        "token": ["2608.00002"],
        "generalization": ["2608.00003"],
        "general": ["2608.00002"],
    }


def test_a_hyphenated_compound_is_found_closed_up_too(store):
    store.papers.upsert(
        [
            make_paper(
                "2608.00001", title="Pre-training at scale", abstract="Multi\u2010modal data."
            ),
            make_paper("2608.00002", title="Training", abstract="Pretraining, then fine-tuning."),
        ]
    )
    assert fulltext.compounds("Pre-training and multi-modal fine-tuning") == [
        "pretraining",
        "multimodal",
        "finetuning",
    ]
    assert found_by_each(store, ("pretraining", "pre", "multimodal", "finetuned")) == {
        "pretraining": ["2608.00001", "2608.00002"],
        "pre": ["2608.00001"],
        "multimodal": ["2608.00001"],
        "finetuned": ["2608.00002"],
    }


def test_a_hyphenated_compound_is_told_apart_from_a_word_by_its_words():
    [compound] = fulltext.hyphenated("In-Context learning")
    assert fulltext.compound_words(compound) == ["in", "context"]
    assert [fulltext.compound_words(w) for w in fulltext.words("In-Context learning")] == [
        [],
        [],
        [],
    ]


def test_the_words_a_text_writes_only_inside_its_compounds():
    assert fulltext.only_in_compounds("KV cache for Long-Context inference") == {"long", "context"}
    assert fulltext.only_in_compounds("long videos and long-context models") == {"context"}
    assert fulltext.only_in_compounds("text\u2010to\u2010speech") == {"text", "to", "speech"}
    assert fulltext.only_in_compounds("speech recognition") == set()
    # "agent" is "agents" on its own, as the index reads them.
    assert fulltext.only_in_compounds("multi-agent systems and agents") == {"multi"}


def test_a_compound_written_apart_is_found_by_reading_the_papers_given(store):
    assert fulltext.hyphenated("In-Context learning with vision\u2010language models") == [
        "in-context",
        "vision-language",
    ]
    store.papers.upsert(
        [
            make_paper("2608.00001", title="In-context learning", abstract="Demonstrations."),
            make_paper("2608.00002", title="Prompts", abstract="In context learning emerges."),
            make_paper("2608.00003", title="Long context", abstract="We begin context-free."),
            make_paper("2608.00004", title="Context", abstract="Learning in context windows."),
        ]
    )
    rowids, in_title = store.fulltext.written_apart(["in", "context"], [1, 2, 3])
    # Paper 3 writes "begin context"; paper 4 writes it, but is not among those given.
    assert rowids.tolist() == [1, 2] and in_title.tolist() == [True, False]
    rowids, _ = store.fulltext.written_apart(["in", "context", "learning"], [1, 2, 3, 4])
    assert rowids.tolist() == [1, 2]


def test_a_compound_is_found_after_a_match_inside_a_longer_word(store):
    store.papers.upsert([make_paper(title="Mapping", abstract="Someone to one to one maps.")])
    rowids, _ = store.fulltext.written_apart(["one", "to", "one"], [1])
    assert rowids.tolist() == [1]


def test_an_abstract_of_one_endless_word_is_indexed(store):
    # Read as a hyphenated compound from each of its letters, it took minutes to index, and
    # PostgreSQL refused its word as a term, failing the batch.
    endless = "x" * 1_000_000 + " " + "a-" * 100_000 + "a"
    store.papers.upsert([make_paper(title="Sparse attention", abstract=endless)])
    assert [pid for pid, _ in store.fulltext.search(["sparse"], 5)] == ["2608.00001"]
    assert fulltext.words("a " + "x" * 65) == ["a"]


def indexed_before(tmp_path, paper, undo: str, migration: str) -> Store:
    """The store of a database holding `paper` as it was before `migration`: `undo` run on
    its index and the migration not recorded, then opened again."""
    path = tmp_path / "paperbot.db"
    store = Store(path)
    store.papers.upsert([paper])
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute(undo)
        conn.execute("delete from schema_version where name = ?", (migration,))
    return Store(path)


def test_a_database_indexed_before_compounds_is_indexed_again_when_opened(tmp_path):
    store = indexed_before(
        tmp_path,
        make_paper(title="Pre-training at scale"),
        "delete from paper_terms where term = 'pretrain'",
        "index_compounds_closed_up",
    )
    assert [pid for pid, _ in store.fulltext.search(["pretraining"], 5)] == ["2608.00001"]
    store.close()


def test_a_sentence_holding_a_web_address_is_not_indexed(store):
    store.papers.upsert(
        [
            make_paper(
                "2608.00001",
                title="Sparse attention",
                abstract="Long context. Code is available at https://github.com/lab/sparse.",
            ),
            make_paper("2608.00002", title="Code generation", abstract="Programs from text."),
        ]
    )
    assert store.fulltext.papers_with("code") == 1
    assert [pid for pid, _ in store.fulltext.search(["code"], 5)] == ["2608.00002"]
    assert [pid for pid, _ in store.fulltext.search(["context"], 5)] == ["2608.00001"]


def test_a_database_indexed_with_web_addresses_is_indexed_again_when_opened(tmp_path):
    store = indexed_before(
        tmp_path,
        make_paper(abstract="Long context. Code: https://github.com/lab/x."),
        "insert into paper_terms (term, paper, title, abstract, authors, length) "
        "values ('code', 1, 0, 1, 0, 4)",
        "index_without_links",
    )
    assert store.fulltext.papers_with("code") == 0
    assert store.fulltext.papers_with("context") == 1
    store.close()


def test_a_database_indexed_before_the_ize_family_is_indexed_again_when_opened(tmp_path):
    store = indexed_before(
        tmp_path,
        make_paper(title="Tokenization"),
        "update paper_terms set term = 'token' where term = 'tokeniz'",
        "index_ize_family",
    )
    assert store.fulltext.papers_with("token") == 0
    assert store.fulltext.papers_with("tokenizer") == 1
    store.close()


def test_counts_for_bm25(store):
    store.papers.upsert(
        [
            make_paper("2608.00001", title="Speculative decoding", abstract="Faster."),
            make_paper("2608.00002", title="Decoding", abstract="Speculative sampling."),
            make_paper("2608.00003", title="Other", abstract="Nothing here."),
        ]
    )
    assert store.fulltext.paper_count() == 3
    assert store.fulltext.papers_with("speculative") == 2
    rowids, in_title = store.fulltext.term_hits("speculative")
    assert dict(zip(rowids.tolist(), in_title.tolist(), strict=True)) == {1: True, 2: False}
    # An author's name is found by search, but is not the paper's title or abstract.
    assert store.fulltext.papers_with("lovelace") == 3
    assert store.fulltext.term_hits("lovelace")[0].tolist() == []
    assert store.fulltext.in_any_text("speculative")
    assert not store.fulltext.in_any_text("lovelace")
    assert not store.fulltext.in_any_text("zyxwv")


def test_many_words_are_looked_up_in_a_few_queries_as_each_alone(store, monkeypatch):
    store.papers.upsert(
        [
            make_paper("2608.00001", title="Speculative decoding", abstract="Faster."),
            make_paper("2608.00002", title="Decoding", abstract="Speculative sampling."),
            make_paper("2608.00003", title="Other", abstract="Nothing here."),
        ]
    )
    monkeypatch.setattr(fulltext, "TERMS_PER_QUERY", 2)
    words = ["speculative", "decoding", "decode", "lovelace", "zyxwv", "sampling"]
    hits = {
        word: dict(zip(rowids.tolist(), in_title.tolist(), strict=True))
        for word, (rowids, in_title) in store.fulltext.hits_of(words).items()
    }
    assert hits == {
        "speculative": {1: True, 2: False},
        "decoding": {1: True, 2: True},
        "decode": {1: True, 2: True},
        "lovelace": {},
        "zyxwv": {},
        "sampling": {2: False},
    }
    assert store.fulltext.document_frequencies(words) == {
        "speculative": 2,
        "decoding": 2,
        "decode": 2,
        "lovelace": 3,
        "zyxwv": 0,
        "sampling": 1,
    }


TEXTS = [
    ("Retrieval-augmented generation", "Retrieval helps generation; retrieval is cheap."),
    ("Agentic search", "Agents search the web and call tools."),
    ("Speech recognition", "A corpus for speech recognition in Mizo."),
    ("Dense retrieval at scale", "Dense retrievers and sparse retrievers compared."),
]


def test_bm25_is_the_one_sqlite_fts5_computed(store):
    """The same scores on both backends, and the ones FTS5's bm25() gave before this index
    replaced it (on words the two read alike)."""
    store.papers.upsert(
        [
            make_paper(f"2608.0000{i}", title=title, abstract=abstract, authors=["A B"])
            for i, (title, abstract) in enumerate(TEXTS, start=1)
        ]
    )
    fts5 = sqlite3.connect(":memory:")
    fts5.execute("create virtual table p using fts5(title, abstract, authors, tokenize='porter')")
    for title, abstract in TEXTS:
        fts5.execute("insert into p values (?, ?, ?)", (title, abstract, '["A B"]'))
    for query in (["retrieval"], ["retrieval", "generation"], ["search", "speech", "sparse"]):
        expected = dict(
            fts5.execute(
                "select rowid, -bm25(p) from p where p match ?",
                (" OR ".join(f'"{w}"' for w in query),),
            ).fetchall()
        )
        rowids, scores = store.fulltext.scores(query)
        assert rowids.tolist() == sorted(expected)
        assert scores.tolist() == pytest.approx([expected[r] for r in rowids.tolist()])


def test_a_term_in_half_the_papers_weighs_almost_nothing(store):
    store.papers.upsert(
        [make_paper(f"2608.0000{i}", abstract="Common words only.") for i in range(1, 5)]
    )
    rowids, scores = store.fulltext.scores(["common"])
    assert rowids.tolist() == [1, 2, 3, 4]
    assert all(0 < s < (fulltext.K1 + 1) * fulltext.IDF_FLOOR * 1.0001 for s in scores)
    assert math.isclose(scores[0], scores[3])


def test_a_new_version_is_indexed_again(store):
    store.papers.upsert([make_paper(abstract="About pigeons.")])
    store.papers.upsert([make_paper(version=2, abstract="About parrots.")])
    assert store.fulltext.search(["pigeons"], 5) == []
    assert [pid for pid, _ in store.fulltext.search(["parrots"], 5)] == ["2608.00001"]
    assert store.fulltext.paper_count() == 1


@pytest.mark.parametrize(
    "text, defined",
    [
        (
            "We use retrieval-augmented generation (RAG).",
            [("RAG", "retrieval-augmented generation")],
        ),
        ("Mixture-of-Experts (MoE) layers", [("MoE", "Mixture-of-Experts")]),
        ("low-rank adaptation (LoRA)", [("LoRA", "low-rank adaptation")]),
        ("sparse autoencoders (SAEs) find", [("SAEs", "sparse autoencoders")]),
        ("with 3D Gaussian Splatting (3DGS)", [("3DGS", "3D Gaussian Splatting")]),
        ("Proximal Policy Optimization (PPO)", [("PPO", "Proximal Policy Optimization")]),
        ("learning from human feedback (RLHF)", []),
        ("one (AB) two (AB)", []),
        ("our method (Ours) beats (a) and (b) and (Fig. 2)", []),
    ],
)
def test_a_paper_defines_an_acronym_by_its_letters_before_the_parenthesis(text, defined):
    assert fulltext.definitions(text) == defined


def test_the_acronyms_papers_define_are_counted_by_long_form(store):
    store.papers.upsert(
        [
            make_paper("2608.00001", abstract="Vision-language models (VLMs) see."),
            make_paper("2608.00002", abstract="Vision language models (VLMs) read."),
            make_paper("2608.00003", title="A Vision Language Model (VLM)", abstract="It is."),
            make_paper("2608.00004", abstract="A visual layout model (VLM) for forms."),
        ]
    )
    vision, layout = ["vision", "language", "models"], ["visual", "layout", "model"]
    assert store.fulltext.acronym_forms(["vlms", "rag"]) == {"vlms": [(vision, 3), (layout, 1)]}
    # A new version that no longer defines it counts no more.
    store.papers.upsert([make_paper("2608.00004", version=2, abstract="Forms, read.")])
    assert store.fulltext.acronym_forms(["vlm"]) == {"vlm": [(vision, 3)]}


def test_the_acronyms_papers_give_a_long_form(store):
    store.papers.upsert(
        [
            make_paper("2608.00001", abstract="Vision-language models (VLMs) see."),
            make_paper("2608.00002", title="A Vision Language Model (VLM)", abstract="It is."),
            make_paper("2608.00003", abstract="A visual layout model (VLM) for forms."),
            make_paper("2608.00004", abstract="Vision language models, with no acronym."),
        ]
    )
    forms = ["vision language models", "visual layout model", "speech recognition"]
    assert store.fulltext.acronyms_of(forms) == [
        ("vlm", "vision language models"),
        ("vlm", "visual layout model"),
    ]


def test_the_texts_of_the_last_papers_holding_a_word(store):
    store.papers.upsert(
        [
            make_paper("2608.00001", title="Clip Art", abstract="Video clips, cut."),
            make_paper("2608.00002", title="CLIP", abstract="Image and text."),
            make_paper("2608.00003", title="Speech", abstract="No such word."),
            make_paper("2608.00004", title="Clipping", abstract="Gradients, clipped."),
        ]
    )
    assert store.fulltext.texts_with("clips", 2) == [
        "Clipping Gradients, clipped.",
        "CLIP Image and text.",
    ]
    assert store.fulltext.texts_with("speech", 5) == ["Speech No such word."]
    assert store.fulltext.texts_with("rag", 5) == []
