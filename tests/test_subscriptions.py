"""Subscription management: ownership, changes, preview, and `like` through the arXiv API."""

import shutil

import pytest

from bot import subscriptions as subs
from bot.sources import parse_feed
from tests.conftest import FIXTURES

CS_CL = FIXTURES / "feeds" / "arxiv_rss2" / "arxiv_rss2_cs.CL_2026-08-21.xml"
API_ENTRY = (
    FIXTURES / "feeds" / "arxiv_api_atom" / "arxiv_api_2026_idlist_oldstyle_id_affiliations.xml"
)


def nobody_is_member(user, channel):
    return False


def members_of(channel_members):
    return lambda user, channel: user in channel_members.get(channel, [])


@pytest.fixture
def stored(services):
    services.store.papers.upsert(parse_feed(CS_CL.read_bytes(), str(CS_CL)).papers)
    services.pipeline.embed_missing()
    return services


def test_dm_subscriptions_are_their_owners_alone(services):
    theirs = subs.subscribe(services.store, services.embedder, topic="secret", owner="U2")
    for change in (subs.pause, subs.resume, subs.unsubscribe):
        with pytest.raises(subs.SubscriptionError, match=f"no subscription #{theirs.id}"):
            change(services.store, "U1", theirs.id, members_of({"U2": ["U1"]}))
    assert subs.visible_subscriptions(services.store, "U1", "U2", lambda u, c: True) == []
    assert services.store.subscriptions.get(theirs.id) is not None


def test_channel_subscriptions_belong_to_members(services):
    channel = subs.subscribe(
        services.store, services.embedder, topic="vision", owner="U2", target="C1"
    )
    with pytest.raises(subs.SubscriptionError):
        subs.pause(services.store, "U1", channel.id, nobody_is_member)
    paused = subs.pause(services.store, "U1", channel.id, members_of({"C1": ["U1"]}))
    assert paused.paused
    assert [
        s.id
        for s in subs.visible_subscriptions(services.store, "U1", "C1", members_of({"C1": ["U1"]}))
    ] == [channel.id]


def test_threshold_steps_and_cadence(services):
    mine = subs.subscribe(services.store, services.embedder, topic="speech", owner="U1")
    base = subs.threshold_of(services.matcher, mine)
    stricter = subs.set_threshold(
        services.store, "U1", mine.id, "stricter", nobody_is_member, services.matcher
    )
    assert stricter.threshold == pytest.approx(base + subs.THRESHOLD_STEP)
    with pytest.raises(subs.SubscriptionError):
        subs.set_threshold(
            services.store, "U1", mine.id, "NaN-ish", nobody_is_member, services.matcher
        )
    assert (
        subs.set_cadence(services.store, "U1", mine.id, "daily", nobody_is_member).cadence
        == "daily"
    )


def test_preview_shows_the_five_papers_scored_nearest_the_threshold(stored):
    from bot.match import evidence, logit

    mine = subs.subscribe(stored.store, stored.embedder, topic="large language models", owner="U1")
    previews = subs.preview(stored.store, mine, subs.stored_scores(stored.matcher, mine))
    corpus = stored.matcher.corpus()
    raw = evidence(stored.store, mine, corpus).raw
    line = logit(subs.threshold_of(stored.matcher, mine))
    distance = abs(raw - line)
    shown = [corpus.index[p.paper.id] for p in previews]
    others = [row for row in range(len(corpus.ids)) if row not in shown]
    assert len(previews) == 5
    assert max(distance[shown]) <= min(distance[others])
    assert [raw[row] for row in shown] == sorted((raw[row] for row in shown), reverse=True)
    assert [p.would_alert for p in previews] == [raw[row] >= line for row in shown]


def test_it_would_alert_on_the_stored_papers_at_or_above_its_threshold_its_filters_pass(
    stored,
):
    mine = subs.subscribe(stored.store, stored.embedder, topic="language models", owner="U1")
    scored = subs.stored_scores(stored.matcher, mine)
    above = [scored.ids[row] for row in range(len(scored.ids)) if scored.raw[row] >= scored.line]
    every = set(scored.ids)
    assert 0 < len(subs.alerting(stored.store, mine, scored, every)) == len(above) < len(every)

    speech = subs.subscribe(
        stored.store, stored.embedder, topic="language models", owner="U2", required=["speech"]
    )
    papers = stored.store.papers.get_many(above)
    spoken = [p for p in papers.values() if "speech" in f"{p.title} {p.abstract}".lower()]
    speech_scores = subs.stored_scores(stored.matcher, speech)
    spoken_to = subs.alerting(stored.store, speech, speech_scores, every)
    assert len(spoken_to) == len(spoken) < len(above)

    below = next(p for p in papers_below(stored, scored) if p.authors)
    followed = subs.subscribe(
        stored.store,
        stored.embedder,
        topic="language models",
        owner="U3",
        authors=[below.authors[0].upper()],
    )
    followed_scores = subs.stored_scores(stored.matcher, followed)
    by_author = subs.alerting(stored.store, followed, followed_scores, every)
    assert set(by_author) == {*above, *(p.id for p in papers_by(stored, below.authors[0]))}


def test_its_reach_counts_the_latest_day_s_papers_not_weeks_of_them(services, monkeypatch):
    import bot.storage.papers

    papers = parse_feed(CS_CL.read_bytes(), str(CS_CL)).papers
    earlier, latest = papers[: len(papers) // 2], papers[len(papers) // 2 :]
    monkeypatch.setattr(bot.storage.papers, "now_iso", lambda: "2026-08-13T08:00:00+00:00")
    services.store.papers.upsert(earlier)
    monkeypatch.setattr(bot.storage.papers, "now_iso", lambda: "2026-08-21T08:00:00+00:00")
    services.store.papers.upsert(latest)
    services.pipeline.embed_missing()
    mine = subs.subscribe(services.store, services.embedder, topic="language models", owner="U1")
    scored = subs.stored_scores(services.matcher, mine)

    reach = subs.reach(services.matcher, mine, scored)

    alerting = subs.alerting(services.store, mine, scored, set(scored.ids))
    on_the_latest_day = alerting.keys() & {p.id for p in latest}
    assert reach.papers == len(latest) < len(scored.ids)
    assert reach.alerts == len(on_the_latest_day) < len(alerting)


def test_a_subscription_over_its_cap_is_told_the_threshold_that_would_keep_within_it(stored):
    mine = subs.subscribe(stored.store, stored.embedder, topic="language models", owner="U1")
    scored = subs.stored_scores(stored.matcher, mine)
    reach = subs.reach(stored.matcher, mine, scored)
    assert reach.alerts > stored.matcher.config.daily_cap_dm
    threshold, alerts = reach.fewer
    kept = subs.subscribe(
        stored.store, stored.embedder, topic="language models", owner="U2", threshold=threshold
    )
    again = subs.reach(stored.matcher, kept, subs.stored_scores(stored.matcher, kept))
    assert again.alerts == alerts <= stored.matcher.config.daily_cap_dm and again.fewer is None
    looser = round(threshold - 0.01, 2)
    wider = subs.subscribe(
        stored.store, stored.embedder, topic="language models", owner="U3", threshold=looser
    )
    assert subs.reach(stored.matcher, wider, subs.stored_scores(stored.matcher, wider)).over_cap


def test_a_digest_subscription_is_not_told_of_the_cap_on_instant_alerts(stored):
    daily = subs.subscribe(
        stored.store, stored.embedder, topic="language models", owner="U1", cadence="daily"
    )
    reach = subs.reach(stored.matcher, daily, subs.stored_scores(stored.matcher, daily))
    assert reach.alerts > stored.matcher.config.daily_cap_dm

    note = subs.reach_note(reach, True, lambda value: f"`/papers threshold {value}`")

    assert note == (
        f"Of the {reach.papers:,} papers stored on the latest day, it would have alerted on "
        f"{reach.alerts:,}."
    )


def papers_below(stored, scored) -> list:
    ids = [scored.ids[row] for row in range(len(scored.ids)) if scored.raw[row] < scored.line]
    return list(stored.store.papers.get_many(ids).values())


def papers_by(stored, author: str) -> list:
    every = stored.store.papers.get_many(stored.matcher.corpus().ids).values()
    return [p for p in every if author in p.authors]


def test_a_judgment_answer_says_the_paper_moved_across_when_learning_moved_it(stored):
    from dataclasses import replace

    before = subs.subscribe(
        stored.store, stored.embedder, topic="speech recognition", owner="U1", strictness="strict"
    )
    scored = subs.stored_scores(stored.matcher, before)
    below = max(
        (row for row in range(len(scored.ids)) if scored.raw[row] < scored.line),
        key=lambda row: scored.raw[row],
    )
    paper_id = scored.ids[below]
    # What learning from a relevant judgment might do: a profile at the paper itself.
    learned = replace(before, profile=stored.matcher.corpus().matrix[below])
    was = scored.score_of(paper_id)
    said = subs.threshold_after_judgment(stored.matcher, before, learned, paper_id, True, was)
    assert said.startswith(
        f"Its threshold stays at 0.85: what it learned from your judgment moves this paper "
        f"from {was:.2f} to "
    )
    assert said.endswith(", so it would now alert on it.")


def test_a_judgment_answer_names_the_broad_level_only_at_it(stored):
    """A threshold that prints as the "broad" level's figure but is above it is not held there
    by the broad level."""
    from dataclasses import replace

    from bot.match import logit

    thresholds = stored.matcher.config.thresholds
    sub = subs.subscribe(stored.store, stored.embedder, topic="speech recognition", owner="U1")
    scored = subs.stored_scores(stored.matcher, sub)
    lowest = scored.ids[int(scored.raw.argmin())]
    was = scored.score_of(lowest)
    answers = []
    for threshold in (thresholds["broad"], thresholds["broad"] + 0.004):
        at = replace(sub, threshold_shift=logit(threshold) - logit(thresholds["normal"]))
        answers.append(subs.threshold_after_judgment(stored.matcher, at, at, lowest, True, was))
    shown = f"{thresholds['broad']:.2f}"
    assert answers == [
        f'Its threshold stays at {shown}: judgments never lower it below the "broad" level, '
        "though one set by hand can be lower.",
        f"Its threshold stays at {shown}.",
    ]


def test_a_judgment_answer_says_when_the_others_hold_the_threshold(stored):
    """A relevant judgment that leaves the threshold, and the paper below it, where they were,
    with other judgments stored, says that those hold it there."""
    sub = subs.subscribe(stored.store, stored.embedder, topic="speech recognition", owner="U1")
    scored = subs.stored_scores(stored.matcher, sub)
    below = [
        paper_id for paper_id in scored.ids if scored.raw[scored.index[paper_id]] < scored.line
    ]
    judged, other = below[:2]
    for paper_id in (judged, other):
        stored.store.subscriptions.set_feedback("U1", paper_id, sub.id, 1)
    was = scored.score_of(judged)
    said = subs.threshold_after_judgment(stored.matcher, sub, sub, judged, True, was)
    assert said == (
        "Its threshold stays at 0.41: the judgments before this one hold it there. It scores "
        f"this paper {was:.2f}, so it still would not alert on it."
    )


def test_a_score_on_the_other_side_of_the_threshold_never_prints_as_the_threshold():
    assert subs.apart(0.44, 0.4362) == ["0.440", "0.436"]
    assert subs.apart(0.44, 0.4362, 0.4449) == ["0.440", "0.436", "0.445"]
    assert subs.apart(0.44, 0.30) == ["0.44", "0.30"]


def test_previews_above_no_paper_s_score_are_marked_as_ones_it_would_not_alert_on(stored):
    mine = subs.subscribe(
        stored.store, stored.embedder, topic="large language models", owner="U1", threshold=0.999
    )
    previews = subs.preview(stored.store, mine, subs.stored_scores(stored.matcher, mine))
    assert len(previews) == 5
    assert not any(p.would_alert for p in previews)


def test_unsubscribing_drops_the_alerts_not_posted_yet(services):
    mine = subs.subscribe(services.store, services.embedder, topic="speech recognition", owner="U1")
    papers = parse_feed(CS_CL.read_bytes(), str(CS_CL)).papers
    services.store.papers.upsert(papers)
    services.pipeline.run_cycle([])
    queued = services.store.alerts.all("pending")
    assert queued

    subs.unsubscribe(services.store, "U1", mine.id, nobody_is_member)

    assert services.store.alerts.all("pending") == []
    dropped = services.store.alerts.all("dropped")
    assert {d.paper_id for d in dropped} == {d.paper_id for d in queued}
    assert {d.last_error for d in dropped} == {subs.REMOVED_REASON}


def test_a_cycle_summary_says_how_many_of_its_alerts_wait_for_digests(services):
    subs.subscribe(
        services.store, services.embedder, topic="speech recognition", owner="U1", cadence="daily"
    )
    subs.subscribe(services.store, services.embedder, topic="language models", owner="U2")
    services.store.papers.upsert(parse_feed(CS_CL.read_bytes(), str(CS_CL)).papers)

    report = services.pipeline.run_cycle([])

    held = len(services.store.alerts.all("digest"))
    assert 0 < held < report.queued == held + len(services.store.alerts.all("pending"))
    assert f"{report.queued} alerts queued, {held} of them for digests, " in report.summary_line()


def test_previews_are_papers_the_subscriptions_filters_let_through(stored):
    mine = subs.subscribe(
        stored.store, stored.embedder, topic="language models", owner="U1", required=["speech"]
    )
    previews = subs.preview(stored.store, mine, subs.stored_scores(stored.matcher, mine))
    assert len(previews) == 5
    assert all("speech" in f"{p.paper.title} {p.paper.abstract}".lower() for p in previews)


def test_the_paper_a_subscription_is_like_is_neither_previewed_nor_alerted(services):
    papers = parse_feed(CS_CL.read_bytes(), str(CS_CL)).papers[:3]
    services.store.papers.upsert(papers)
    services.pipeline.embed_missing()
    seed, *others = papers
    liked = subs.like(services.store, services.embedder, services.matcher, seed, owner="U1")

    previews = subs.preview(services.store, liked, subs.stored_scores(services.matcher, liked))
    alerts = services.matcher.score([seed.id])

    assert sorted(p.paper.id for p in previews) == sorted(p.id for p in others)
    assert alerts == []


def test_the_same_words_in_another_order_or_form_are_refused_as_a_duplicate(services):
    first = subs.subscribe(
        services.store, services.embedder, topic="protein structure prediction", owner="U1"
    )
    for typed in ("structure prediction of proteins", "prediction of protein structures"):
        with pytest.raises(subs.SubscriptionError, match=f"#{first.id} already delivers"):
            subs.subscribe(services.store, services.embedder, topic=typed, owner="U1")
    assert subs.subscribe(services.store, services.embedder, topic="protein design", owner="U1")


def test_a_subscription_to_papers_like_one_alerts_on_a_hundredth_of_the_stored_papers(stored):
    every = stored.matcher.corpus().ids
    liked = stored.store.papers.get(every[0])
    mine = subs.like(stored.store, stored.embedder, stored.matcher, liked, owner="U1")
    scored = subs.stored_scores(stored.matcher, mine)
    wanted = max(1, round(subs.LIKE_SHARE * len(every)))
    alerting = subs.alerting(stored.store, mine, scored, set(scored.ids))
    assert mine.threshold is not None and len(alerting) == wanted
    best = sorted(
        (row for row in range(len(every)) if every[row] != liked.id), key=lambda r: -scored.raw[r]
    )
    assert set(alerting) == {every[row] for row in best[:wanted]}


def test_other_subscriptions_of_the_same_topic_where_one_delivers_are_named(services):
    store, embedder = services.store, services.embedder
    first = subs.subscribe(store, embedder, topic="protein structure prediction", owner="U1")
    elsewhere = subs.subscribe(
        store, embedder, topic="protein structure prediction", owner="U1", target="C1"
    )
    daily = subs.subscribe(
        store, embedder, topic="prediction of protein structures", owner="U1", cadence="daily"
    )
    assert [s.id for s in subs.same_topic(store, daily)] == [first.id]
    assert subs.same_topic(store, elsewhere) == []
    assert (
        subs.same_topic(store, subs.subscribe(store, embedder, topic="protein design", owner="U1"))
        == []
    )


def test_liking_the_same_paper_twice_adds_one_subscription(services):
    paper = parse_feed(CS_CL.read_bytes(), str(CS_CL)).papers[0]
    services.store.papers.upsert([paper])
    first = subs.like(services.store, services.embedder, services.matcher, paper, owner="U1")
    with pytest.raises(subs.SubscriptionError, match=f"#{first.id} already delivers this topic"):
        subs.like(services.store, services.embedder, services.matcher, paper, owner="U1")
    assert [s.id for s in services.store.subscriptions.all()] == [first.id]
    # Someone else, or a channel, may like it too.
    assert subs.like(services.store, services.embedder, services.matcher, paper, owner="U2")
    assert subs.like(
        services.store, services.embedder, services.matcher, paper, owner="U1", target="C1"
    )


def test_like_fetches_an_unknown_paper_from_the_arxiv_api(services, feed_server):
    shutil.copy(API_ENTRY, feed_server.root / "query")
    paper = subs.find_arxiv_paper(
        services.store,
        services.fetcher,
        feed_server.url + "query",
        "https://arxiv.org/abs/astro-ph/0601001v1",
    )
    assert paper.id == "astro-ph/0601001"
    assert services.store.papers.get("astro-ph/0601001") is not None
    liked = subs.like(services.store, services.embedder, services.matcher, paper, owner="U1")
    assert liked.seed_papers == [paper.id] and liked.target == "U1"


def test_like_reports_a_paper_arxiv_does_not_have(services, feed_server):
    shutil.copy(API_ENTRY, feed_server.root / "query")
    with pytest.raises(subs.SubscriptionError, match="no paper 2608.99999"):
        subs.find_arxiv_paper(
            services.store, services.fetcher, feed_server.url + "query", "2608.99999"
        )


def test_a_paper_fetched_for_like_is_never_alerted_as_new(services, feed_server):
    shutil.copy(API_ENTRY, feed_server.root / "query")
    paper = subs.find_arxiv_paper(
        services.store, services.fetcher, feed_server.url + "query", "astro-ph/0601001"
    )
    subs.like(services.store, services.embedder, services.matcher, paper, owner="U1")
    # Someone else's subscription that the old paper matches as well as anything can.
    subs.subscribe(services.store, services.embedder, topic=paper.title, owner="U2")

    report = services.pipeline.run_cycle([])

    assert report.alerts == [] and report.over_cap == []
    assert services.store.alerts.all() == []


def test_membership_is_read_from_every_page_and_an_error_is_not_membership():
    from slack_sdk import WebClient

    from tests.fake_slack import FakeSlack

    with FakeSlack() as fake:
        fake.max_page_size = 2
        fake.members["C1"] = ["U1", "U2", "U3", "U4", "U5"]
        is_member = subs.slack_membership(WebClient(token="xoxb-test", base_url=fake.base_url))

        assert is_member("U5", "C1") and not is_member("U9", "C1")
        fake.fail_next("conversations.members", error="channel_not_found")
        assert not is_member("U1", "C1")


def test_a_topic_read_otherwise_now_is_embedded_again_from_its_subject(services):
    """A subscription typed "Show me diffusion models" before that was read as a request was
    embedded from the whole text; the next cycle embeds it from "diffusion models"."""
    store, embedder = services.store, services.embedder
    sub = subs.subscribe(store, embedder, topic="Show me diffusion models", owner="U1")
    typed = "Show me diffusion models"
    store.subscriptions.set_embedding(sub.id, embedder.encode_one(typed), typed)
    assert subs.respell_topics(store, embedder) == 1
    assert store.subscriptions.get(sub.id).embedded_as == "diffusion models"
    assert subs.respell_topics(store, embedder) == 0
