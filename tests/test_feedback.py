"""Learning from relevant / not relevant, on the real model and a real database."""

from dataclasses import replace

import pytest

from bot.feedback import JUDGED_REASON, calibration_margin, record_feedback, threshold_shift
from bot.feedback import judge as judge_and_answer
from bot.match import Match, base_profile, evidence, logit, threshold_for, topic_features
from bot.subscriptions import PREVIEW_SIZE, preview, stored_scores, subscribe


@pytest.fixture
def corpus(eval_corpus):
    return list(eval_corpus)


def scores(services, subscription_id):
    subscription = services.store.subscriptions.get(subscription_id)
    corpus = services.matcher.corpus()
    found = evidence(services.store, subscription, corpus)
    return {paper_id: float(found.score[i]) for i, paper_id in enumerate(corpus.ids)}


def judge(services, sub, paper_id, value, user="U1"):
    return record_feedback(services.store, user, paper_id, sub.id, value, matcher=services.matcher)


def stays(services, subscription, because):
    """The answer to a judgment that left the subscription's threshold where it was."""
    threshold = threshold_for(subscription, services.matcher.config)
    return f"Its threshold stays at {threshold:.2f}: {because}"


def test_not_relevant_lowers_the_paper_and_relevant_raises_it(services, corpus):
    sub = subscribe(services.store, services.embedder, topic="multimodal reasoning", owner="U1")
    before = scores(services, sub.id)
    ranked = sorted(before, key=lambda p: -before[p])
    disliked, liked = ranked[0], ranked[10]
    judge(services, sub, disliked, -1)
    updated = judge(services, sub, liked, 1)
    after = scores(services, sub.id)
    assert updated.profile is not None
    assert after[disliked] < before[disliked]
    assert after[liked] > before[liked]


def test_judgments_teach_which_of_a_topics_words_matter(services, corpus):
    """A paper saying "video" but not "captioning", judged not relevant for "video
    captioning": "video" alone now covers less of the topic in the other such papers."""
    store, papers = services.store, services.matcher.corpus()
    sub = subscribe(store, services.embedder, topic="video captioning", owner="U1")

    def holding(word):
        return set(store.fulltext.term_hits(word)[0].tolist())

    video_only = [
        paper_id
        for paper_id, rowid in zip(papers.ids, papers.rowids.tolist(), strict=True)
        if rowid in holding("video") - holding("captioning")
    ]

    def coverage_of(paper_id):
        learned = store.subscriptions.get(sub.id)
        topic = base_profile(learned, papers)
        _, coverage, *_ = topic_features(store, learned, papers, papers.matrix @ topic, topic)
        return coverage[papers.index[paper_id]]

    judged, other = video_only[:2]
    before = coverage_of(other)
    judge(services, sub, judged, -1)
    assert 0 < coverage_of(other) < before


def test_changing_a_vote_relearns_from_scratch(services, corpus):
    sub = subscribe(services.store, services.embedder, topic="multimodal reasoning", owner="U1")
    judge(services, sub, corpus[0], 1)
    updated = judge(services, sub, corpus[0], -1)
    assert services.store.subscriptions.feedback(sub.id) == {corpus[0]: -1}
    assert updated.profile is not None


def test_a_paper_judged_before_its_alert_was_posted_is_not_posted(services, corpus):
    store = services.store
    reasoning = subscribe(store, services.embedder, topic="multimodal reasoning", owner="U1")
    video = subscribe(store, services.embedder, topic="video understanding", owner="U1")

    def queue(paper_id, *subs, status="pending"):
        matches = [vars(Match(sub.id, sub.topic, 0.9)) for sub in subs]
        store.alerts.enqueue(
            target="U1",
            paper_id=paper_id,
            subscription_id=subs[0].id,
            score=0.9,
            matches=matches,
            status=status,
        )

    queue(corpus[0], reasoning)
    queue(corpus[1], reasoning, video)
    queue(corpus[2], reasoning, status="digest")
    queue(corpus[3], reasoning, status="sent")
    for paper_id in corpus[:4]:
        judge(services, reasoning, paper_id, -1)

    rows = {d.paper_id: d for d in store.alerts.all()}
    assert (rows[corpus[0]].status, rows[corpus[0]].last_error) == ("dropped", JUDGED_REASON)
    assert rows[corpus[1]].status == "pending"
    assert [m["subscription_id"] for m in rows[corpus[1]].matches] == [video.id]
    assert (rows[corpus[2]].status, rows[corpus[2]].last_error) == ("dropped", JUDGED_REASON)
    assert rows[corpus[3]].status == "sent"


def test_feedback_value_must_be_plus_or_minus_one(services, corpus):
    sub = subscribe(services.store, services.embedder, topic="video", owner="U1")
    with pytest.raises(ValueError):
        judge(services, sub, corpus[0], 2)


def alerted(services, sub_id, corpus):
    """The papers matching alerts for this subscription now, as a user would get them."""
    alerts = services.matcher.score(corpus)
    return {a.paper_id for a in alerts for m in a.matches if m.subscription_id == sub_id}


def over_threshold(services, subscription):
    """The papers scored at or above the subscription's threshold: those it would alert if
    nobody had judged them (a judged paper never alerts again)."""
    threshold = threshold_for(subscription, services.matcher.config)
    return {p for p, score in scores(services, subscription.id).items() if score >= threshold}


def test_not_relevant_votes_raise_the_threshold_and_cut_such_alerts(services, corpus):
    sub = subscribe(services.store, services.embedder, topic="multimodal reasoning", owner="U1")
    before = scores(services, sub.id)
    sent = sorted(alerted(services, sub.id, corpus), key=lambda p: -before[p])
    assert len(sent) >= 6
    liked, disliked = sent[:2], sent[-4:]
    for paper_id in liked:
        judge(services, sub, paper_id, 1)
    for paper_id in disliked:
        updated = judge(services, sub, paper_id, -1)

    assert updated.threshold is None and updated.threshold_shift > 0
    normal = services.matcher.config.thresholds["normal"]
    assert threshold_for(updated, services.matcher.config) > normal
    now = over_threshold(services, updated)
    assert set(liked) <= now
    # The threshold moves only part way with six judgments, so the best scored of the four
    # may still get through.
    assert len(set(disliked) & now) <= 2
    assert len(now) < len(sent)
    assert not alerted(services, sub.id, corpus) & set(liked + disliked)


def test_relevant_votes_below_the_threshold_lower_it_but_never_below_broad(services, corpus):
    config = services.matcher.config
    sub = subscribe(services.store, services.embedder, topic="video understanding", owner="U1")
    before = scores(services, sub.id)
    sent = alerted(services, sub.id, corpus)
    missed = sorted((p for p in before if p not in sent), key=lambda p: -before[p])
    for paper_id in missed[:3]:
        updated = judge(services, sub, paper_id, 1)
    assert updated.threshold_shift < 0
    assert threshold_for(updated, config) < config.thresholds["normal"]
    assert over_threshold(services, updated) & set(missed[:3])
    # Past the first five judgments relevant votes no longer lower it, so the floor is the fit's.
    many = replace(
        updated,
        threshold_shift=threshold_shift(
            services.matcher, updated, {paper_id: 1 for paper_id in missed[:30]}
        ),
    )
    assert threshold_for(many, config) >= config.thresholds["broad"] - 1e-6


def test_one_not_relevant_vote_moves_the_threshold_only_part_way(services, corpus):
    sub = subscribe(services.store, services.embedder, topic="multimodal reasoning", owner="U1")
    before = scores(services, sub.id)
    sent = sorted(alerted(services, sub.id, corpus), key=lambda p: -before[p])
    updated = judge(services, sub, sent[0], -1)
    assert updated.threshold_shift > 0
    assert sent[0] not in alerted(services, sub.id, corpus) or updated.threshold_shift < 1
    assert alerted(services, sub.id, corpus), "one vote must not silence a subscription"


def test_a_relevant_vote_never_raises_the_threshold_nor_a_not_relevant_one_lowers_it(
    services, corpus
):
    for n, topic in enumerate(("multimodal reasoning", "video generation")):
        sub = subscribe(services.store, services.embedder, topic=topic, owner=f"U{n}")
        shift = 0.0
        previews = preview(services.store, sub, stored_scores(services.matcher, sub))
        for k, shown in enumerate(previews):
            vote = 1 if k % 2 else -1
            updated = judge(services, sub, shown.paper.id, vote, user=f"U{n}")
            moved = updated.threshold_shift - shift
            assert moved <= 0 if vote > 0 else moved >= 0, (topic, k)
            shift = updated.threshold_shift


def test_rejecting_every_preview_puts_the_threshold_above_all_of_them(services, corpus):
    """A subscriber who judges all five previews not relevant is telling us the threshold is
    too low: it moves above the best scored of them, not part of the way."""
    for n, topic in enumerate(("multimodal reasoning", "image segmentation")):
        sub = subscribe(services.store, services.embedder, topic=topic, owner=f"U{n}")
        before = scores(services, sub.id)
        shown = preview(services.store, sub, stored_scores(services.matcher, sub))
        for paper in shown:
            updated = judge(services, sub, paper.paper.id, -1, user=f"U{n}")
        best_rejected = max(before[paper.paper.id] for paper in shown)
        assert threshold_for(updated, services.matcher.config) > best_rejected, topic


def test_relevant_votes_on_alerts_leave_the_threshold_where_it_was(services, corpus):
    sub = subscribe(services.store, services.embedder, topic="multimodal reasoning", owner="U1")
    before = scores(services, sub.id)
    sent = sorted(alerted(services, sub.id, corpus), key=lambda p: -before[p])
    for paper_id in sent[:4]:
        updated = judge(services, sub, paper_id, 1)
    assert updated.threshold_shift == 0
    assert set(sent[:4]) <= over_threshold(services, updated)


def test_a_relevant_vote_just_above_the_threshold_lowers_it_among_the_first_votes(services, corpus):
    """A new subscription's previews are chosen around its threshold: a relevant one just
    above it says the threshold may be too high. One far above says nothing."""
    sub = subscribe(services.store, services.embedder, topic="video generation", owner="U1")
    normal = logit(services.matcher.config.thresholds["normal"])
    above = {p: logit(score) - normal for p, score in scores(services, sub.id).items()}
    just_above = [p for p, m in above.items() if 0 <= m < calibration_margin(1)]
    far_above = [p for p, m in above.items() if m >= calibration_margin(1)]
    assert just_above and far_above
    assert threshold_shift(services.matcher, sub, {just_above[0]: 1}) < 0
    assert threshold_shift(services.matcher, sub, {far_above[-1]: 1}) == 0


def test_the_band_where_relevant_votes_count_narrows_after_the_previews():
    first = calibration_margin(PREVIEW_SIZE)
    assert calibration_margin(1) == first
    assert first > calibration_margin(PREVIEW_SIZE + 1) > calibration_margin(4 * PREVIEW_SIZE) > 0


def test_a_judgment_answer_gives_the_papers_score_from_before_the_judgment(services, corpus):
    """What a verdict teaches about the topic's words moves the paper's own score: the
    answer's "it scores this paper" is the score it had when the user judged it."""
    sub = subscribe(services.store, services.embedder, topic="video captioning", owner="U1")
    before = scores(services, sub.id)
    far_above = max(before, key=before.get)

    learned, said = judge_and_answer(services.matcher, "U1", sub, far_above, relevant=True)

    assert learned.threshold_shift == 0
    assert said == (
        f"Its threshold stays at 0.41: it scores this paper {before[far_above]:.2f}, "
        "so it would alert on it already."
    )
    assert f"{scores(services, sub.id)[far_above]:.2f}" != f"{before[far_above]:.2f}"


def test_after_the_previews_votes_only_make_a_subscription_stricter(services, corpus):
    """Past the five judged previews, a relevant vote on an alert leaves the threshold and the
    profile where they were (it was right to be sent), and a not relevant one may raise the
    threshold but leaves the profile too."""
    sub = subscribe(services.store, services.embedder, topic="video generation", owner="U1")
    for k, shown in enumerate(preview(services.store, sub, stored_scores(services.matcher, sub))):
        calibrated = judge(services, sub, shown.paper.id, 1 if k % 2 else -1)
    before = scores(services, sub.id)
    sent = sorted(
        over_threshold(services, calibrated) - set(services.store.subscriptions.feedback(sub.id)),
        key=lambda p: -before[p],
    )
    assert len(sent) >= 3
    config = services.matcher.config
    liked = judge(services, sub, sent[-1], 1)
    assert threshold_for(liked, config) == threshold_for(calibrated, config)
    assert (liked.profile == calibrated.profile).all()
    disliked = judge(services, sub, sent[-2], -1)
    assert threshold_for(disliked, config) > threshold_for(calibrated, config)
    assert (disliked.profile == calibrated.profile).all()
    far_below = min(before, key=before.get)
    _, said = judge_and_answer(services.matcher, "U1", disliked, far_below, relevant=True)
    assert said == stays(
        services, disliked, "after its first 5 judgments, a relevant one does not lower it."
    )


def test_votes_that_cancel_out_still_count_among_the_first_five(services, corpus):
    """Two members of a channel who judge a preview both ways leave it with no verdict, but it
    was still one of the first five judgments: the sixth paper judged does not teach the
    profile, and a relevant vote on it does not lower the threshold."""
    sub = subscribe(services.store, services.embedder, topic="video generation", owner="U1")
    shown = [p.paper.id for p in preview(services.store, sub, stored_scores(services.matcher, sub))]
    for paper_id in shown:
        calibrated = judge(services, sub, paper_id, -1)
    calibrated = judge(services, sub, shown[0], 1, user="U2")
    assert shown[0] not in services.store.subscriptions.feedback(sub.id)
    before = scores(services, sub.id)
    below = max(
        (p for p in before if p not in shown),
        key=lambda p: (before[p] < threshold_for(calibrated, services.matcher.config), before[p]),
    )
    later = judge(services, sub, below, 1)
    assert later.threshold_shift == calibrated.threshold_shift
    assert (later.profile == calibrated.profile).all()


def test_a_vote_that_cancels_another_members_says_it_counts_neither_way(services, corpus):
    """Votes on a paper are added up: a relevant vote against a not relevant one, or the other
    way round on a paper the subscription alerts on, leaves it with no verdict, and the answer
    says so."""
    sub = subscribe(services.store, services.embedder, topic="video generation", owner="C1")
    before = scores(services, sub.id)
    ranked = sorted(before, key=before.get)
    neither_way = "this paper now has as many relevant votes as not relevant ones, so the paper "
    for paper_id, first, answer in ((ranked[0], -1, True), (ranked[-1], 1, False)):
        judged = judge(services, sub, paper_id, first, user="U1")
        after, said = judge_and_answer(services.matcher, "U2", judged, paper_id, relevant=answer)
        assert paper_id not in services.store.subscriptions.feedback(sub.id)
        assert said == stays(services, after, neither_way + "counts neither way.")


def test_a_vote_outnumbered_by_other_members_says_how_the_paper_still_counts(services, corpus):
    """Two members' votes against one: the paper counts as the two said, and the answer to the
    third says so."""
    sub = subscribe(services.store, services.embedder, topic="video generation", owner="C1")
    before = scores(services, sub.id)
    ranked = sorted(before, key=before.get)
    for paper_id, first, answer, counts in (
        (
            ranked[0],
            -1,
            True,
            "not relevant votes than relevant ones, so it counts as not relevant.",
        ),
        (ranked[-1], 1, False, "relevant votes than not relevant ones, so it counts as relevant."),
    ):
        judge(services, sub, paper_id, first, user="U1")
        judged = judge(services, sub, paper_id, first, user="U2")
        after, said = judge_and_answer(services.matcher, "U3", judged, paper_id, relevant=answer)
        assert services.store.subscriptions.feedback(sub.id)[paper_id] == first
        assert said == stays(services, after, "this paper still has more " + counts)


def test_a_relevant_vote_at_the_broad_level_says_it_cannot_go_lower(services, corpus):
    """A relevant vote on a paper that stays below a "broad" subscription's threshold, even
    after what the vote taught, says why the threshold does not come down to it."""
    broad = services.matcher.config.thresholds["broad"]
    topic = "video generation"
    first = subscribe(services.store, services.embedder, topic=topic, owner="U0")
    before = scores(services, first.id)
    still_below = 0
    for k, paper_id in enumerate(sorted(before, key=before.get)[:5], start=1):
        sub = subscribe(
            services.store, services.embedder, topic=topic, owner=f"U{k}", strictness="broad"
        )
        _, said = judge_and_answer(services.matcher, f"U{k}", sub, paper_id, relevant=True)
        if scores(services, sub.id)[paper_id] < broad:
            still_below += 1
            assert said == stays(
                services,
                sub,
                'judgments never lower it below the "broad" level, though one set by hand can '
                "be lower.",
            )
    assert still_below, "every paper tried rose above the broad threshold after its vote"
