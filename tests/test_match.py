"""Matching on real parts: the bundled model, a real SQLite file, the shared eval papers."""

import dataclasses
import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from bot.digest import build_digest, held_over_cap, more_matches_message, show_more
from bot.feedback import record_feedback
from bot.match import (
    BY_MEANING,
    BY_MEANING_COMMON_WORDS,
    OVER_CAP_REASON,
    cited_once,
    followed_author,
    logit,
)
from bot.papers import Paper
from bot.storage import Store
from bot.subscriptions import subscribe

# The same behaviour on both database systems (tests/conftest.py).
pytestmark = pytest.mark.both_backends

SEED = Path(__file__).parent / "fixtures" / "eval_papers.json"
# The store stamps rows with the real clock, so the day the daily cap counts is today.
NOW = datetime.now(UTC)


@pytest.fixture
def corpus(services):
    """The 54 eval papers, stored and embedded; title -> id."""
    papers = json.loads(SEED.read_text())
    services.store.papers.upsert(
        [
            Paper(
                id=f"eval.{i:03d}",
                title=p["title"],
                abstract=p["abstract"],
                url=f"https://example.org/{i}",
                authors=[f"Author {i}", "Shared Person"] if i % 2 else [f"Author {i}"],
                categories=["cs.CV"] if i % 3 else ["cs.CL"],
            )
            for i, p in enumerate(papers)
        ]
    )
    services.pipeline.embed_missing()
    return {p["title"]: f"eval.{i:03d}" for i, p in enumerate(papers)}


def by_title(corpus, prefix):
    return next(paper_id for title, paper_id in corpus.items() if title.startswith(prefix))


def alerted(services, corpus, subscription):
    alerts = services.matcher.score(list(corpus.values()))
    return {
        a.paper_id: m for a in alerts for m in a.matches if m.subscription_id == subscription.id
    }


def test_topic_alerts_the_on_topic_paper_and_explains_it(services, corpus):
    sub = subscribe(
        services.store, services.embedder, topic="3D point cloud understanding", owner="U1"
    )
    found = alerted(services, corpus, sub)
    ulip = by_title(corpus, "ULIP-2")
    assert ulip in found
    assert len(found) <= 5, "a narrow topic must not alert on the whole corpus"
    match = found[ulip]
    assert match.band in ("strong", "good", "borderline")
    assert any(r.startswith("keywords:") and "3d" in r.lower() for r in match.reasons)
    assert 0 < match.score <= 1


def test_a_topic_typed_as_a_request_for_papers_alerts_as_the_topic_does(services, corpus):
    """ "Papers about X" is a subscription to X: the words around it weigh nothing."""
    plain = subscribe(services.store, services.embedder, topic="image captioning", owner="U1")
    asked = subscribe(
        services.store,
        services.embedder,
        topic="I'm interested in new papers about image captioning",
        owner="U2",
    )
    found = {sub.id: alerted(services, corpus, sub) for sub in (plain, asked)}
    assert found[plain.id], "the plain topic should alert for this test to mean anything"
    assert found[asked.id].keys() == found[plain.id].keys()
    assert [m.reasons for m in found[asked.id].values()] == [
        m.reasons for m in found[plain.id].values()
    ]


def test_strict_alerts_a_subset_of_broad(services, corpus):
    strict = subscribe(
        services.store,
        services.embedder,
        topic="video understanding",
        owner="U1",
        strictness="strict",
    )
    broad = subscribe(
        services.store,
        services.embedder,
        topic="video understanding",
        owner="U2",
        strictness="broad",
    )
    assert set(alerted(services, corpus, strict)) < set(alerted(services, corpus, broad))


def test_required_excluded_and_category_filters(services, corpus):
    store = services.store
    base = dict(owner="U1", embedding=services.embedder.encode_one("video understanding"))
    plain = store.subscriptions.add(target="U1", topic="video understanding", **base)
    required = store.subscriptions.add(
        target="U2", topic="video understanding", required=["benchmark"], **base
    )
    excluded = store.subscriptions.add(
        target="U3", topic="video understanding", excluded=["benchmark"], **base
    )
    in_cl = store.subscriptions.add(
        target="U4", topic="video understanding", categories=["cs.CL"], **base
    )
    # As typed in capitals: categories are matched in any case.
    in_cv_typed = store.subscriptions.add(
        target="U5", topic="video understanding", categories=["CS.cv"], **base
    )
    papers = store.papers.get_many(list(corpus.values()))
    everything = alerted(services, corpus, plain)
    with_word = {
        p
        for p in everything
        if re.search(r"\bbenchmark\b", (papers[p].title + " " + papers[p].abstract).lower())
    }
    assert with_word and with_word != set(everything)
    assert set(alerted(services, corpus, required)) == with_word
    assert set(alerted(services, corpus, excluded)) == set(everything) - with_word
    assert set(alerted(services, corpus, in_cl)) == {
        p for p in everything if "cs.CL" in papers[p].categories
    }
    in_cv = {p for p in everything if "cs.CV" in papers[p].categories}
    assert in_cv and set(alerted(services, corpus, in_cv_typed)) == in_cv


def test_followed_author_always_alerts(services, corpus):
    sub = services.store.subscriptions.add(
        owner="U1",
        target="U1",
        topic="protein folding in yeast",
        embedding=services.embedder.encode_one("protein folding in yeast"),
        authors=["author 7"],
    )
    found = alerted(services, corpus, sub)
    assert set(found) == {"eval.007"}
    assert found["eval.007"].band == "strong"
    assert found["eval.007"].reasons[0] == "author: Author 7"


def test_a_followed_author_alerts_in_any_case_with_or_without_accents(services, corpus):
    paper = Paper(
        id="2403.02366",
        title="Human Evaluation of English-Irish Transformer-Based NMT",
        abstract="Human evaluation of machine translation between English and Irish.",
        url="https://arxiv.org/abs/2403.02366",
        authors=["Séamus Lankford", "Andy Way"],
    )
    services.store.papers.upsert([paper])
    services.pipeline.embed_missing()
    for n, typed in enumerate(("Séamus Lankford", "seamus  lankford", "SEAMUS LANKFORD")):
        sub = services.store.subscriptions.add(
            owner=f"U{n}",
            target=f"U{n}",
            topic="protein folding in yeast",
            embedding=services.embedder.encode_one("protein folding in yeast"),
            authors=[typed],
        )
        found = alerted(services, {**corpus, paper.title: paper.id}, sub)
        assert set(found) == {paper.id}
        assert found[paper.id].reasons[0] == "author: Séamus Lankford"
    assert followed_author(paper, ["Seamus Lank"]) is None


def test_a_paper_judged_for_one_topic_never_alerts_the_same_person_for_another(services, corpus):
    store, embedder = services.store, services.embedder
    point_clouds = subscribe(store, embedder, topic="3D point cloud understanding", owner="U1")
    ulip = by_title(corpus, "ULIP-2")
    assert ulip in alerted(services, corpus, point_clouds)
    pretraining = subscribe(store, embedder, topic="3D multimodal pre-training", owner="U1")
    record_feedback(store, "U1", ulip, pretraining.id, 1, matcher=services.matcher)
    alerts = services.matcher.score(list(corpus.values()))
    assert ulip not in {a.paper_id for a in alerts if a.target == "U1"}
    elsewhere = subscribe(store, embedder, topic="3D point cloud understanding", owner="U2")
    assert ulip in alerted(services, corpus, elsewhere)


def test_one_alert_per_paper_per_target_lists_every_subscription(services, corpus):
    for topic in ("3D point cloud understanding", "3D multimodal pre-training"):
        subscribe(services.store, services.embedder, topic=topic, owner="U1", target="C1")
    alerts = services.matcher.score(list(corpus.values()))
    ulip = [a for a in alerts if a.paper_id == by_title(corpus, "ULIP-2")]
    assert len(ulip) == 1
    assert {m.topic for m in ulip[0].matches} == {
        "3D point cloud understanding",
        "3D multimodal pre-training",
    }


def test_daily_cap_holds_back_the_rest_and_offers_them(services, corpus):
    services.matcher.config = dataclasses.replace(services.matcher.config, daily_cap_dm=2)
    subscribe(
        services.store,
        services.embedder,
        topic="multimodal large language models",
        owner="U1",
        strictness="broad",
    )
    report = services.pipeline.run_cycle([], now=NOW)
    assert len(report.alerts) == 2 and len(report.over_cap) > 0
    assert [a.margin for a in report.alerts] >= sorted(a.margin for a in report.over_cap)[-1:] * 2
    dropped = services.store.alerts.all("dropped")
    assert {d.last_error for d in dropped} == {OVER_CAP_REASON}
    offer = more_matches_message(len(held_over_cap(services.store, "U1", NOW)), NOW, NOW)
    assert f"{len(report.over_cap)} more papers matched" in offer["text"]
    assert offer["blocks"][0]["accessory"]["action_id"] == "show_more_matches"
    queued = min(3, len(report.over_cap))
    assert show_more(services.store, "U1", NOW, limit=3) == (queued, len(report.over_cap) - queued)
    assert len(services.store.alerts.all("pending")) == 2 + min(3, len(report.over_cap))


def test_daily_cap_counts_what_was_sent_earlier_that_day(services, corpus):
    services.matcher.config = dataclasses.replace(services.matcher.config, daily_cap_dm=2)
    subscribe(services.store, services.embedder, topic="video understanding", owner="U1")
    services.store.alerts.enqueue(
        target="U1", paper_id="eval.000", subscription_id=1, score=0.9, matches=[]
    )
    result = services.matcher.match(list(corpus.values()), now=datetime.now(UTC))
    assert len(result.alerts) == 1


def test_daily_subscription_is_held_for_one_grouped_digest(services, corpus):
    for topic in ("3D point cloud understanding", "video understanding"):
        subscribe(services.store, services.embedder, topic=topic, owner="U1", cadence="daily")
    report = services.pipeline.run_cycle([], now=NOW)
    assert report.alerts and services.store.alerts.all("pending") == []
    held = services.store.alerts.all("digest")
    assert len(held) == len(report.alerts)
    digest = build_digest(services.store, services.summarizer, "U1", NOW)
    assert digest.delivery_ids == [d.id for d in held]
    text = json.dumps([m["blocks"] for m in digest.messages])
    assert "3D point cloud understanding" in text and "video understanding" in text
    assert text.count("*<https://example.org/") == len(held)


def test_existing_database_gains_the_new_columns(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "create table subscriptions (id integer primary key, team text, owner text not null, "
        "target text not null, topic text not null, embedding blob, threshold float, "
        "cadence text default 'instant', timezone text, paused integer default 0, "
        "paused_reason text, created text)"
    )
    conn.execute("insert into subscriptions (owner, target, topic) values ('U1', 'U1', 'x')")
    conn.commit()
    conn.close()
    store = Store(path)
    sub = store.subscriptions.get(1)
    assert sub.required == [] and sub.strictness == "normal" and sub.profile is None


def test_scoring_all_subscriptions_at_once_agrees_with_one_at_a_time(services, corpus):
    """The vectorised Matcher.score gives the alerts and scores of the per-subscription path."""
    from bot.match import evidence, followed_author, passes_filters, threshold_for

    store, embedder = services.store, services.embedder
    topics = [
        "3D point cloud understanding",
        "video understanding",
        "large language model reasoning",
        "protein folding in yeast",
    ]
    for i, topic in enumerate(topics):
        subscribe(store, embedder, topic=topic, owner=f"U{i}", strictness="broad")
    # Only stopwords, as a subscription made before subscribe refused them: BM25 still
    # searches for them.
    store.subscriptions.add(
        owner="U5",
        target="U5",
        topic="the of and",
        embedding=embedder.encode_one("the of and"),
        strictness="broad",
    )
    subscribe(
        store,
        embedder,
        topic="video understanding",
        owner="U9",
        target="C1",
        seed_papers=[by_title(corpus, "ULIP-2")],
        required=["video"],
        authors=["Shared Person"],
    )
    subscribe(store, embedder, topic="benchmark", owner="U8", target="C1", categories=["cs.CL"])
    learner = subscribe(store, embedder, topic="video captioning", owner="U7", strictness="broad")
    for title, verdict in (("LongCaptioning", 1), ("SparrowVQE", -1)):
        record_feedback(
            store, "U7", by_title(corpus, title), learner.id, verdict, matcher=services.matcher
        )

    alerts = services.matcher.score(list(corpus.values()))
    got = {(m.subscription_id, a.paper_id): m.score for a in alerts for m in a.matches}

    matcher_corpus = services.matcher.corpus()
    papers = store.papers.get_many(list(corpus.values()))
    expected = {}
    for sub in store.subscriptions.all(active_only=True):
        scores = evidence(store, sub, matcher_corpus).score
        judged = store.subscriptions.feedback(sub.id)
        threshold = threshold_for(sub, services.matcher.config)
        for paper_id, paper in papers.items():
            # Known to it already (a seed paper, or judged): never alerted.
            if paper_id in sub.seed_papers or paper_id in judged:
                continue
            score = float(scores[matcher_corpus.index[paper_id]])
            followed = followed_author(paper, sub.authors) is not None
            if followed or (score >= threshold and passes_filters(paper, sub)):
                expected[(sub.id, paper_id)] = score
    assert len(expected) > 20
    assert set(got) == set(expected)
    for pair, score in expected.items():
        assert got[pair] == pytest.approx(score, abs=1e-4)


def test_scoring_in_small_blocks_decides_what_one_block_decides(services, corpus):
    """Subscriptions are scored a block at a time; where the blocks split changes no decision
    (the same alerts, bands and reasons), for filters, followed authors and a profile
    learned from feedback in a later block alike."""
    from bot.feedback import record_feedback
    from bot.match import Matcher

    store, embedder = services.store, services.embedder
    for i, topic in enumerate(
        ["video understanding", "protein folding and speech", "reasoning"] * 3
    ):
        subscribe(store, embedder, topic=topic, owner=f"U{i}", strictness="broad")
    subscribe(store, embedder, topic="benchmark", owner="U8", target="C1", required=["model"])
    subscribe(store, embedder, topic="speech", owner="U9", authors=["Shared Person"])
    learner = subscribe(store, embedder, topic="multimodal reasoning", owner="U7")
    ranked = sorted(corpus.values())
    for paper_id, value in zip(ranked[:8], [1, 1, 1, 1, 1, -1, -1, -1], strict=True):
        record_feedback(store, "U7", paper_id, learner.id, value, matcher=services.matcher)
    assert store.subscriptions.get(learner.id).profile is not None

    def decided(matrix_cells):
        matcher = Matcher(store, embedder.name, services.matcher.config, matrix_cells)
        return {
            (m.subscription_id, a.target, a.paper_id): (m.score, m.band, m.reasons)
            for a in matcher.score(list(corpus.values()))
            for m in a.matches
        }

    whole = decided(10**9)
    assert any(key[0] == learner.id for key in whole)
    blocks = decided(len(corpus) * 2)
    assert {k: v[1:] for k, v in blocks.items()} == {k: v[1:] for k, v in whole.items()}
    # Scores are rounded to 4 places, and BLAS may sum a product of a block and of the
    # whole matrix in a different order: a score on a rounding boundary can differ by 1e-4.
    for key, (score, *_) in whole.items():
        assert blocks[key][0] == pytest.approx(score, abs=1.5e-4)


def in_turns(alerts):
    """Instant alerts in the order the cap takes them: each subscription's best, then each
    one's second best, and so on; an alert counts for the subscription it matched best."""
    instant = [a for a in alerts if a.cadence == "instant"]
    best = {a.paper_id: max(a.matches, key=lambda m: m.margin).subscription_id for a in instant}
    turn = {}
    for subscription_id in set(best.values()):
        theirs = [a for a in instant if best[a.paper_id] == subscription_id]
        for k, a in enumerate(sorted(theirs, key=lambda a: (-a.margin, a.paper_id))):
            turn[a.paper_id] = k
    return sorted(instant, key=lambda a: (turn[a.paper_id], -a.margin, a.paper_id))


def test_a_narrow_topic_is_not_crowded_out_by_a_broad_one_of_the_same_person(services, corpus):
    services.matcher.config = dataclasses.replace(services.matcher.config, daily_cap_dm=3)
    store, embedder = services.store, services.embedder
    # At the broad level CLIPTrans is as far above the broad topic's threshold as above the
    # narrow one's (2.45 and 2.41 in log-odds), and so counts for the broad topic.
    subscribe(store, embedder, topic="multimodal large language models", owner="U1")
    subscribe(store, embedder, topic="multimodal machine translation", owner="U1")
    result = services.matcher.match(list(corpus.values()), now=NOW)
    assert len(result.alerts) == 3 and len(result.over_cap) > 3
    cliptrans = by_title(corpus, "CLIPTrans")
    assert cliptrans in {a.paper_id for a in result.alerts}
    assert all(cliptrans != a.paper_id for a in result.over_cap)


def test_capping_on_scores_keeps_each_targets_best_instant_alerts(services, corpus):
    """match() caps on the score arrays; it must keep what capping the full alerts keeps."""
    services.matcher.config = dataclasses.replace(
        services.matcher.config, daily_cap_dm=3, daily_cap_channel=4
    )
    store, embedder = services.store, services.embedder
    for i, topic in enumerate(["multimodal large language models", "video understanding"]):
        subscribe(store, embedder, topic=topic, owner="U1", strictness="broad")
        subscribe(store, embedder, topic=topic, owner=f"U{i + 2}", target="C1", strictness="broad")
    subscribe(store, embedder, topic="3D point cloud", owner="U1", cadence="daily")
    paper_ids = list(corpus.values())

    result = services.matcher.match(paper_ids, now=NOW)

    every = services.matcher.score(paper_ids)
    expected_kept = set()
    for target, cap in (("U1", 3), ("C1", 4)):
        mine = [a for a in every if a.target == target]
        expected_kept |= {(target, a.paper_id) for a in mine if a.cadence != "instant"}
        expected_kept |= {(target, a.paper_id) for a in in_turns(mine)[:cap]}
    kept = {(a.target, a.paper_id) for a in result.alerts}
    held = {(a.target, a.paper_id) for a in result.over_cap}
    assert len(held) > 5
    assert kept == expected_kept
    assert kept | held == {(a.target, a.paper_id) for a in every}
    assert all(a.matches and a.matches[0].reasons for a in result.alerts + result.over_cap)


def test_explanations_cite_the_distinctive_words_never_generic_ones(services, corpus):
    from bot.relevance import GENERIC_SHARE

    store = services.store
    papers = store.fulltext.paper_count()
    generic = [
        w for w in ("language", "models") if store.fulltext.papers_with(w) > GENERIC_SHARE * papers
    ]
    assert generic, "the eval corpus should have generic words for this test"
    sub = subscribe(
        services.store,
        services.embedder,
        topic="language models for 3D point cloud understanding",
        owner="U1",
        strictness="broad",
    )
    found = alerted(services, corpus, sub)
    cited = {paper_id: cited_keywords(m) for paper_id, m in found.items()}
    assert "3D point cloud" in cited[by_title(corpus, "ULIP-2")]
    assert not any(set(words) & set(generic) for words in cited.values())


@pytest.mark.parametrize(
    "topic, once",
    [
        ("3D point cloud understanding and point clouds", "3D point cloud"),
        ("cloud or clouds", "cloud"),
    ],
)
def test_an_explanation_cites_a_word_once_however_the_topic_inflects_it(
    services, corpus, topic, once
):
    sub = subscribe(services.store, services.embedder, topic=topic, owner="U1", strictness="broad")
    cited = cited_keywords(alerted(services, corpus, sub)[by_title(corpus, "ULIP-2")])
    assert cited == [once]


@pytest.mark.parametrize("topic", ["mixture-of-experts", "Mixture-of-Experts"])
def test_an_explanation_cites_a_compound_once_not_again_as_its_phrase(services, corpus, topic):
    sub = subscribe(services.store, services.embedder, topic=topic, owner="U1", strictness="broad")
    moe = by_title(corpus, "Alternating Gradient Descent and Mixture-of-Experts")
    assert [k.lower() for k in cited_keywords(alerted(services, corpus, sub)[moe])] == [
        "mixture-of-experts"
    ]


def test_an_explanation_never_cites_a_word_of_a_compound_alone(services, corpus):
    """VALLR, on lip reading, writes "speech" but not "text-to-speech": "speech" alone does
    not say why it matched, and the alert says what it has and lacks instead."""
    sub = subscribe(
        services.store, services.embedder, topic="Text-to-Speech", owner="U1", strictness="broad"
    )
    found = alerted(services, corpus, sub)
    vallr = found[by_title(corpus, "VALLR")]
    assert cited_keywords(vallr) == []
    assert 'similar in meaning (it has "speech", not "Text-to-Speech")' in vallr.reasons
    assert cited_keywords(found[by_title(corpus, "TeleAntiFraud-28k")]) == ["Text-to-Speech"]


def test_a_word_of_a_compound_is_not_cited_alone_even_beside_a_generic_word(services, corpus):
    """ "based" is in more than a tenth of these papers, as "context" is on the demo's day, yet
    "long" alone says nothing of "long-context", so neither is "diffusion" cited for
    "diffusion-based" in a paper that does not write it."""
    topic = "diffusion-based image generation"
    sub = subscribe(services.store, services.embedder, topic=topic, owner="U1", strictness="broad")
    blip3 = alerted(services, corpus, sub)[by_title(corpus, "BLIP3-o")]
    assert "diffusion" not in cited_keywords(blip3)
    assert 'similar in meaning (it has "diffusion", not "diffusion-based")' in blip3.reasons


def test_a_phrase_that_starts_inside_a_compound_is_cited_with_all_of_it(services, corpus):
    topic = "In-Context learning"
    sub = subscribe(services.store, services.embedder, topic=topic, owner="U1", strictness="broad")
    vl_gpt = alerted(services, corpus, sub)[by_title(corpus, "VL-GPT")]
    assert cited_keywords(vl_gpt) == ["In-Context learning"]


def test_an_explanation_cites_the_words_of_a_topic_a_paper_writes_together(services, corpus):
    """VALLR writes "speech recognition", not "deep learning for speech recognition": the
    words it writes together are cited together."""
    topic = "deep learning for speech recognition"
    sub = subscribe(services.store, services.embedder, topic=topic, owner="U1", strictness="broad")
    vallr = alerted(services, corpus, sub)[by_title(corpus, "VALLR")]
    assert cited_keywords(vallr) == ["speech recognition"]


def test_a_phrase_is_cited_as_the_topic_writes_it_with_the_fewest_words_between():
    from bot.match import as_written

    assert as_written("Text-to-Speech and speech recognition", ["speech", "recognition"]) == (
        "speech recognition"
    )
    assert as_written("hallucination in Vision-Language models", ["hallucination", "vision"]) == (
        "hallucination in Vision-Language"
    )
    assert as_written("Mixture of Experts (MoE)", ["mixture", "experts", "moe"]) == (
        "Mixture of Experts (MoE)"
    )
    topic = "Speech recognition (ASR) for low-resource languages"
    assert as_written(topic, ["asr", "low", "resource", "languages"]) == (
        "ASR for low-resource languages"
    )
    assert as_written("Mixture of Experts [MoE] layers", ["experts", "moe"]) == "Experts [MoE]"


def test_a_word_is_cited_as_the_topic_types_it_on_its_own():
    from bot.match import as_typed

    assert as_typed("LoRA fine-tuning", "lora") == "LoRA"
    assert as_typed("Multi-agent systems and Agents", "agents") == "Agents"
    assert as_typed("multi-Agent systems", "agent") == "agent"


def test_an_alert_cites_an_acronym_in_the_topics_capitals(services, corpus):
    sub = subscribe(
        services.store, services.embedder, topic="LoRA fine-tuning", owner="U1", strictness="broad"
    )
    cited = [cited_keywords(match) for match in alerted(services, corpus, sub).values()]
    assert any("LoRA" in keywords for keywords in cited)
    assert not any("lora" in keywords for keywords in cited)


def word_features(services, topics: list[str]):
    """relevance.Coverage of `topics` over every stored paper, and the corpus it reads."""
    from bot.relevance import Coverage
    from bot.search import load_corpus, query_facets

    matrix = load_corpus(services.store, services.embedder.name)
    vectors = np.vstack([services.embedder.encode_one(topic) for topic in topics])
    rows = np.arange(len(matrix.ids))
    facets = [query_facets(topic) for topic in topics]
    return Coverage(services.store, facets, matrix, rows, topics=vectors), matrix


def test_a_paper_on_one_part_of_a_topic_covers_that_part(services, corpus):
    """Facet coverage: "point cloud understanding and speech recognition" is about either,
    so a point cloud paper covers all of its part while missing half the topic's words."""
    words, matrix = word_features(services, ["point cloud understanding and speech recognition"])
    row = matrix.index[by_title(corpus, "ULIP-2")]
    assert words.facet()[0, row] == pytest.approx(1.0)
    assert words.coverage()[0, row] < 0.8


def test_a_part_in_a_tenth_of_the_papers_takes_the_words_it_shares(services, corpus):
    """ "image understanding and generation": "generation" is in half of these papers, so
    the part is image generation, and a paper on video generation no longer covers it."""
    words, matrix = word_features(
        services, ["unified models for image understanding and generation"]
    )
    video = matrix.index[by_title(corpus, "Training-free Guidance in Text-to-Video Generation")]
    assert words.facet()[0, video] < 0.5


def test_a_part_of_one_word_takes_the_words_before_it(services, corpus):
    """ "video captioning and translation" is about video translation: a paper on
    translating image captions covers that part less than the whole of it, as it does when
    the topic names translation first. Breadth reads the parts as typed, whichever comes
    first."""
    words, matrix = word_features(
        services, ["video captioning and translation", "translation or video captioning"]
    )
    captions = matrix.index[by_title(corpus, "CLIPTrans")]
    assert words.facet()[1, captions] == pytest.approx(1.0)
    assert words.facet()[0, captions] < 0.8
    assert words.breadth()[0, 0] == pytest.approx(words.breadth()[1, 0])


def test_a_topic_word_closed_up_covers_the_papers_that_hyphenate_it(services, corpus):
    """ "crossmodal" is what five of these papers write as "cross-modal", and none closed up."""
    texts = {
        p["title"]: (p["title"] + " " + p["abstract"]).lower() for p in json.loads(SEED.read_text())
    }
    hyphenated = {corpus[title] for title, text in texts.items() if "cross-modal" in text}
    assert len(hyphenated) == 5
    words, matrix = word_features(services, ["crossmodal"])
    covered = {matrix.ids[row] for row in np.flatnonzero(words.coverage()[0] == 1.0)}
    assert covered == hyphenated


def test_a_topic_is_as_broad_as_the_share_of_papers_that_name_one_of_its_parts(services, corpus):
    """Breadth: the log of the share of stored papers holding every word of one part of the
    topic, as if half a paper more did. Five of the 54 papers write "cross-modal"; a part
    no paper names adds none, and "data", in more than half of them, weighs nothing
    in coverage and is not asked for."""
    topics = ["crossmodal", "crossmodal or zyxwv", "crossmodal data", "zyxwv"]
    words, matrix = word_features(services, topics)
    assert words.breadth().shape == (len(topics), len(matrix.ids))
    five_of_54, none_of_54 = np.log(5.5 / 55), np.log(0.5 / 55)
    assert words.breadth()[:, 0].tolist() == pytest.approx([five_of_54] * 3 + [none_of_54])


def test_a_paper_is_scored_by_its_closest_sentence(services, corpus):
    """InfiMM-WebMath-40B's abstract is mostly about mathematical reasoning and its
    results; one of its nine sentences introduces it as a dataset of interleaved image-text
    documents, and carries it over the threshold of "interleaved image-text data". Scored by
    its whole text, as a paper stored without sentence embeddings is, it stays under."""
    topic = "interleaved image-text data"
    sub = subscribe(services.store, services.embedder, topic=topic, owner="U1")
    infimm = by_title(corpus, "InfiMM-WebMath-40B")
    assert infimm in alerted(services, corpus, sub)
    whole = services.matcher.corpus().matrix[services.matcher.corpus().index[infimm]]
    services.store.papers.set_embeddings(services.embedder.name, {infimm: whole})
    assert infimm not in alerted(services, corpus, sub)


def test_closest_sentence():
    from bot.relevance import closest_sentence

    sentences = {7: np.array([[1.0, 0.0], [0.6, 0.8]], np.float32)}
    topics = np.array([[0.0, 1.0], [1.0, 0.0]], np.float32)
    papers, topic_rows = np.array([7, 3, 7, 7]), np.array([0, 0, 1, 0])
    found = closest_sentence(sentences, papers, topics, topic_rows, np.array([0.1, 0.2, 0.3, 0.4]))
    assert found.tolist() == pytest.approx([0.8, 0.2, 1.0, 0.8])
    none = np.array([], dtype=np.intp)
    assert len(closest_sentence(sentences, none, topics, none, np.array([]))) == 0


def test_specific_parts():
    from bot.relevance import specific_parts

    def common(part):
        return part in (["generation"], ["large", "language", "models"])

    understanding = ["unified", "models", "image", "understanding"]
    assert specific_parts([understanding, ["generation"]], common) == [
        understanding,
        ["unified", "models", "image", "generation"],
    ]
    assert specific_parts([["reasoning"], ["large", "language", "models"]], common) == [
        ["reasoning", "large", "language", "models"]
    ]
    assert specific_parts([["generation"], ["speech", "recognition"]], common) == [
        ["generation", "speech", "recognition"]
    ]
    parts = [["speech", "recognition"], ["speculative", "decoding"]]
    assert specific_parts(parts, common) == parts
    assert specific_parts([["generation"]], common) == [["generation"]]


def test_with_shared_words():
    from bot.relevance import with_shared_words
    from bot.search import query_facets

    assert with_shared_words([["sign", "language", "recognition"], ["translation"]]) == [
        ["sign", "language", "recognition"],
        ["sign", "language", "translation"],
    ]
    assert with_shared_words([["object", "detection"], ["segmentation"], ["tracking"]]) == [
        ["object", "detection"],
        ["object", "segmentation"],
        ["object", "tracking"],
    ]
    first = [["lora"], ["parameter", "efficient", "tuning"]]
    assert with_shared_words(first) == first
    assert with_shared_words([["segmentation"], ["detection"]]) == [["segmentation"], ["detection"]]
    # A compound is no head: "in-context learning and reasoning" is about in-context reasoning.
    in_context = query_facets("in-context learning and reasoning", compounds=True)
    assert with_shared_words(in_context)[1] == ["context", "in-context", "reasoning"]


def cited_keywords(match) -> list[str]:
    for reason in match.reasons:
        if reason.startswith("keywords: "):
            return reason.removeprefix("keywords: ").split(", ")
    return []


def test_a_keyword_is_cited_once_and_not_beside_one_holding_it_as_whole_words():
    cited = ["Vision", "vision-language models", "vision", "language", "lang", "models"]
    assert cited_once(cited) == ["vision-language models", "lang"]
    assert cited_once(["KV cache", "kv", "cache", "caches"]) == ["KV cache", "caches"]


def test_a_match_on_generic_words_alone_says_it_is_by_meaning(services, corpus):
    sub = subscribe(
        services.store,
        services.embedder,
        topic="large language models",
        owner="U1",
        strictness="broad",
    )
    found = alerted(services, corpus, sub)
    assert found
    papers = services.store.papers.get_many(list(found))
    for paper_id, match in found.items():
        text = f"{papers[paper_id].title} {papers[paper_id].abstract}".lower()
        has_words = any(w in text for w in ("large", "language", "model"))
        assert (BY_MEANING_COMMON_WORDS if has_words else BY_MEANING) in match.reasons
    assert not any(r.startswith("keywords:") for m in found.values() for r in m.reasons)


def test_a_phrase_of_common_words_is_cited_where_a_paper_holds_it_side_by_side(services, corpus):
    # "report" and "generation" are each in more than a tenth of the papers, so neither is a
    # distinctive word; together, side by side, they say what the paper is about.
    sub = subscribe(
        services.store, services.embedder, topic="Report Generation", owner="U1", strictness="broad"
    )
    found = alerted(services, corpus, sub)
    papers = services.store.papers.get_many(list(found))
    side_by_side = {
        paper_id
        for paper_id, paper in papers.items()
        if re.search(r"\breports?\W+generat", f"{paper.title} {paper.abstract}", re.IGNORECASE)
    }
    assert side_by_side and set(found) - side_by_side
    for paper_id, match in found.items():
        cited = cited_keywords(match)
        assert ("Report Generation" in cited) == (paper_id in side_by_side)
        assert "report" not in cited and "generation" not in cited
        if paper_id not in side_by_side:
            assert BY_MEANING_COMMON_WORDS in match.reasons


def test_a_subscriptions_own_threshold_decides(services, corpus):
    store, embedder = services.store, services.embedder
    everything = subscribe(store, embedder, topic="video understanding", owner="U1", threshold=0.0)
    nothing = subscribe(store, embedder, topic="video understanding", owner="U2", threshold=1.0)

    assert set(alerted(services, corpus, everything)) == set(corpus.values())
    assert alerted(services, corpus, nothing) == {}


def test_a_paper_scoring_exactly_the_threshold_alerts(services, corpus):
    """A score equal to the threshold alerts (>=), one a hair below it does not."""
    store = services.store
    sub = subscribe(store, services.embedder, topic="3D point cloud", owner="U1", threshold=0.0)
    ulip = by_title(corpus, "ULIP-2")
    decisions = services.matcher.decide(list(corpus.values()))
    j = decisions.columns.index(ulip)
    pair = int(np.flatnonzero(decisions.cols == j)[0])
    raw = decisions.pair_margins[pair] + float(np.float32(logit(0.0)))
    exact = float(1 / (1 + np.exp(-raw)))

    store.subscriptions.update(sub.id, threshold=exact)
    assert ulip in alerted(services, corpus, sub)
    store.subscriptions.update(sub.id, threshold=float(np.nextafter(np.float32(exact), 1)))
    assert ulip not in alerted(services, corpus, sub)
