"""The `paperbot` command."""

from __future__ import annotations

import json
import logging
import re
import sys
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path

import click
from click.core import ParameterSource
from sqlalchemy.exc import OperationalError

from bot.embed import ModelError
from bot.progress import embedding_progress, spinner, terminal
from bot.settings import FeedSettings, Settings, SettingsError, load_settings
from bot.sources import KINDS
from bot.storage import StoreError
from bot.storage.database import driver_error


class PaperbotGroup(click.Group):
    """Shows the errors a user can fix (settings, database, model) as click's one-line
    "Error: ..." with exit code 1, never as a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.NoSuchOption as error:
            option = error.option_name
            if option in ("--db", "--config"):
                error.message = (
                    f"{option} goes before the command: paperbot {option} PATH "
                    f"{ctx.invoked_subcommand} ..."
                )
            raise
        except (SettingsError, StoreError, ModelError) as error:
            raise click.ClickException(str(error)) from None
        except OperationalError as error:
            # The database went away during the command: a PostgreSQL server stopped, say.
            # Each write is one transaction, so what was not written is simply not there.
            cause = " ".join(str(driver_error(error)).split())
            raise click.ClickException(
                f"The database stopped answering ({cause}): check that it runs, then run the "
                "command again."
            ) from None


def _settings(ctx: click.Context, existing: bool = False) -> Settings:
    """The settings; with `existing`, for a command that only reads or changes what is
    stored, refused when there is no database yet rather than an empty one made."""
    from bot.storage import require_existing

    try:
        settings = load_settings(ctx.obj["config"], ctx.obj["db"])
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    if existing:
        require_existing(settings.database.path)
    return settings


def _services(ctx: click.Context, slack=None, existing: bool = False):
    from bot.services import build_services

    return build_services(_settings(ctx, existing), slack=slack)


def _said_here(ctx: click.Context, *loggers: str) -> None:
    """Keep the log lines of `loggers` (those of errors too) off the terminal unless -v:
    the command says those problems in its own words."""
    if not ctx.obj["verbose"]:
        for name in loggers:
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _print_json(data) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _paper_json(paper) -> dict:
    return {
        "id": paper.id,
        "title": paper.title,
        "abstract": paper.abstract,
        "url": paper.url,
        "authors": paper.authors,
        "categories": paper.categories,
        "published": paper.published,
    }


FEED_KINDS = click.Choice(KINDS)


@click.group(cls=PaperbotGroup)
@click.option(
    "--db", envvar="PAPERBOT_DB", help="SQLite file or postgresql:// URL (default from settings)."
)
@click.option("--config", envvar="PAPERBOT_CONFIG", help="TOML file laid over the defaults.")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.pass_context
def cli(ctx: click.Context, db: str | None, config: str | None, verbose: bool) -> None:
    """paperbot: research-paper alerts for Slack."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = {"db": db, "config": config, "verbose": verbose}


@cli.command()
@click.option("--fresh", is_flag=True, help="Start over with an empty database.")
@click.pass_context
def demo(ctx: click.Context, fresh: bool) -> None:
    """Run one offline cycle on the bundled sample feeds and show the alerts."""
    from bot.demo import DEMO_DB, DemoError, claim_database, run_demo, start_over
    from bot.services import build_services

    # Its own database unless --db says otherwise: never the one configured for the service.
    given = ctx.parent.get_parameter_source("db") == ParameterSource.COMMANDLINE
    path = ctx.obj["db"] if given else DEMO_DB
    settings = load_settings(ctx.obj["config"], path)
    if fresh:
        try:
            start_over(path)
        except DemoError as error:
            raise click.ClickException(str(error)) from None
    services = build_services(settings)
    try:
        claim_database(services.store)
    except DemoError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"paperbot demo: database {path}; no Slack token needed.\n")
    report = run_demo(services, click.echo, terminal())
    if report.papers_new == 0 and report.sent == 0:
        click.echo("Nothing is new since the last run: no alert was posted twice.")
        click.echo("Run `paperbot demo --fresh` to start over.")
    click.echo(f'Search these papers: paperbot --db {path} search "KV cache compression"')
    summary = (
        f"Summary: {report.feeds_read} feeds read, {report.papers_new} papers new, "
        f"{len(report.alerts) + len(report.over_cap)} matches, {report.sent} alerts shown"
    )
    if report.over_cap:
        summary += (
            f", {len(report.over_cap)} held back by the daily cap (in Slack, offered as "
            '"N more matched today")'
        )
    click.echo(summary + ".")


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--kind", type=FEED_KINDS, help="Feed format, when detection is not wanted.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def ingest(ctx: click.Context, sources: tuple[str, ...], kind: str | None, as_json: bool) -> None:
    """Add papers from feed URLs or files."""
    from bot.feeds import READ_STATUSES

    if not all(source.strip() for source in sources):
        raise click.BadParameter("a source is empty: give a feed URL or file path.")

    # Each feed's problem is in its result line: the pipeline's warning would repeat it.
    _said_here(ctx, "bot.pipeline")
    services = _services(ctx)
    reports = [
        services.pipeline.ingest_feed(FeedSettings(url=source, kind=kind or ""))
        for source in sources
    ]
    with embedding_progress(terminal(as_json)) as on_progress:
        embedded = services.pipeline.embed_missing(on_progress)
    if as_json:
        _print_json({"feeds": [asdict(r) for r in reports], "embedded": embedded})
    else:
        for report in reports:
            detail = f": {report.error}" if report.error else ""
            click.echo(
                f"{report.url}: {report.status}, {report.items} items, "
                f"{report.new} new, {report.updated} updated{detail}",
                err=report.status not in READ_STATUSES,
            )
    if any(r.status not in READ_STATUSES for r in reports):
        sys.exit(1)


def _text(ctx: click.Context, param: click.Parameter, words: tuple[str, ...]) -> tuple[str, ...]:
    """The words of a topic or query, which may start with "-"; one that starts with "--"
    is an option mistyped ("--strictnes"), not a word."""
    for word in words:
        if word.startswith("--"):
            options = [name for param in ctx.command.params for name in param.opts]
            raise click.NoSuchOption(word.split("=")[0], possibilities=options, ctx=ctx)
    return words


# A topic or query may hold words that start with "-" ("code generation -benchmarks", "- X").
TEXT_ARGUMENT = {"ignore_unknown_options": True}


@cli.command(context_settings=TEXT_ARGUMENT)
@click.argument("query", nargs=-1, required=True, callback=_text)
@click.option(
    "--limit", default=5, show_default=True, type=click.IntRange(1, 100), help="How many papers."
)
@click.option(
    "--since",
    callback=lambda ctx, param, value: _iso_date(value),
    help="Only papers published on or after this date (YYYY-MM-DD).",
)
@click.option(
    "--category",
    "categories",
    multiple=True,
    callback=lambda ctx, param, values: _not_empty(values),
    help="Only this category (repeatable).",
)
@click.option(
    "--author",
    "authors",
    multiple=True,
    callback=lambda ctx, param, values: _not_empty(values),
    help="Only papers by this author (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def search(
    ctx: click.Context,
    query: tuple[str, ...],
    limit: int,
    since: str | None,
    categories: tuple[str, ...],
    authors: tuple[str, ...],
    as_json: bool,
) -> None:
    """Search the stored papers, as /papers search does."""
    from bot.commands import MAX_QUERY, shorten
    from bot.query_encoder import for_settings
    from bot.search import Search, names_a_subject, spelling_note
    from bot.storage import Store

    asked = " ".join(query)
    text = shorten(asked, MAX_QUERY)
    if text != asked:
        click.echo(f"The query was cut to its first {len(text)} characters.", err=True)
    if not names_a_subject(text):
        raise click.BadParameter(
            'give the words to search for, such as paperbot search "KV cache compression" '
            "(words like 'the' and 'of' alone find nothing).",
            param_hint="QUERY",
        )

    # Only what a search needs, and a query encoder that loads in a fraction of the time
    # the full model stack takes: the command answers in about 2 s instead of 5.
    settings = _settings(ctx, existing=True)
    store = Store(settings.database.path)
    encoder = for_settings(settings.model.path, settings.model.precision)
    with spinner(terminal(as_json), "Loading the embedding model…"):
        encoder.load()
    hits = Search(store, encoder).search(
        text,
        limit=limit,
        since=since,
        categories=list(categories) or None,
        authors=list(authors) or None,
    )
    if spelling := spelling_note(store, text):
        click.echo(spelling, err=True)
    empty = []
    if not hits:
        # Imported only then: bot.subscriptions takes most of a second to import.
        from bot.subscriptions import categories_not_stored

        empty = [
            f"No stored paper is in the category {category!r}."
            for category in categories_not_stored(store, list(categories))
        ]
    if as_json:
        # stdout holds the JSON alone.
        for line in empty:
            click.echo(line, err=True)
        _print_json(
            [
                {
                    **_paper_json(hit.paper),
                    "score": hit.score,
                    "bm25_rank": hit.bm25_rank,
                    "vector_rank": hit.vector_rank,
                }
                for hit in hits
            ]
        )
        return
    if not hits:
        click.echo("No stored paper matches that query.")
    for line in empty:
        click.echo(line)
    for rank, hit in enumerate(hits, start=1):
        # The 0-1 score of "How matching works" in the README, as alerts are scored.
        click.echo(f"{rank}. {hit.paper.title}\n   {hit.paper.url}  (score {hit.score:.2f})")


def _not_empty(values: tuple[str, ...]) -> tuple[str, ...]:
    if any(not value.strip() for value in values):
        raise click.BadParameter("it is empty: give a value, or leave the option out.")
    return values


def _iso_date(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date: write it as YYYY-MM-DD, like 2026-08-21."
        ) from None


SLACK_ID = re.compile(r"[A-Z][A-Z0-9]+")


def _slack_id(*prefixes: str):
    """A click callback accepting a Slack id that starts with one of `prefixes`."""

    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is None or (SLACK_ID.fullmatch(value) and value.startswith(prefixes)):
            return value
        if param.name == "channel":
            raise click.BadParameter(
                f"{value!r} is not a channel id: give the id, such as C0123456789, not the "
                "name. In Slack, open the channel's details: the id is at the bottom of About."
            )
        raise click.BadParameter(
            f"{value!r} is not a user id: give the id, such as U0123456789. In Slack, open "
            "the person's profile, click ⋮ and choose 'Copy member ID'."
        )

    return check


@cli.command(context_settings=TEXT_ARGUMENT)
@click.argument("topic", nargs=-1, required=True, callback=_text)
@click.option(
    "--user", required=True, callback=_slack_id("U", "W"), help="Slack user id of the owner (U...)."
)
@click.option(
    "--channel",
    callback=_slack_id("C", "G"),
    help="Deliver to this channel id (C...) instead of the owner's DM.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    help="Match score needed (0-1); overrides strictness.",
)
@click.option("--strictness", type=click.Choice(["strict", "normal", "broad"]), default="normal")
@click.option("--cadence", type=click.Choice(["instant", "daily", "weekly"]), default="instant")
@click.option("--like", "seed_papers", multiple=True, help="A stored paper id it is like.")
@click.option("--require", "required", multiple=True, help="A keyword every alert must have.")
@click.option("--exclude", "excluded", multiple=True, help="A keyword no alert may have.")
@click.option("--author", "authors", multiple=True, help="An author whose papers always alert.")
@click.option("--category", "categories", multiple=True, help="Alert only in this category.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def subscribe(
    ctx: click.Context,
    topic: tuple[str, ...],
    user: str,
    channel: str | None,
    threshold: float | None,
    strictness: str,
    cadence: str,
    seed_papers: tuple[str, ...],
    required: tuple[str, ...],
    excluded: tuple[str, ...],
    authors: tuple[str, ...],
    categories: tuple[str, ...],
    as_json: bool,
) -> None:
    """Subscribe a user's DM, or a channel, to a topic."""
    from bot.search import read_as_note
    from bot.subscriptions import (
        SubscriptionError,
        categories_not_stored,
        introduce,
        is_personal,
        matched_on,
        not_wanted_note,
        reach_note,
        same_topic_note,
        unknown_words_note,
    )
    from bot.subscriptions import subscribe as add

    services = _services(ctx)
    # The model loads when the topic is embedded, after every check: a refused topic is
    # refused at once.
    try:
        with spinner(terminal(as_json), "Loading the embedding model…"):
            sub = add(
                services.store,
                services.embedder,
                topic=" ".join(topic),
                owner=user,
                target=channel,
                threshold=threshold,
                strictness=strictness,
                cadence=cadence,
                seed_papers=list(seed_papers),
                required=list(required),
                excluded=list(excluded),
                authors=list(authors),
                categories=list(categories),
            )
    except SubscriptionError as error:
        raise click.ClickException(str(error)) from None
    new = introduce(services.matcher, sub, " ".join(topic))
    if new.respelled:
        click.echo(read_as_note(new.respelled), err=True)
    for category in categories_not_stored(services.store, sub.categories):
        click.echo(
            f"Note: no stored paper is in the category {category!r}, so it alerts only once "
            "one comes; arXiv's are written like cs.CL or q-bio.NC.",
            err=True,
        )
    if new.unknown_words:
        click.echo(unknown_words_note(new.unknown_words), err=True)
    read_as = matched_on(sub)
    left_out = not_wanted_note(sub.topic)
    resubscribe = f"`paperbot unsubscribe {sub.id}`, then subscribe again with --threshold {{}}"
    notes = [
        note
        for note in (
            read_as and f"Papers are matched on {read_as!r}.",
            left_out and f"{left_out} To hold them back, subscribe with --exclude WORD.",
            same_topic_note(new.same_topic, "`paperbot unsubscribe {}`".format),
            reach_note(new.reach, is_personal(sub), resubscribe.format),
        )
        if note
    ]
    if as_json:
        previews = [
            {**_paper_json(p.paper), "would_alert": p.would_alert, "score": round(p.score, 4)}
            for p in new.previews
        ]
        shown = {
            "previews": previews,
            "respelled": new.respelled,
            "would_alert_on": new.reach.alerts,
            "latest_day_papers": new.reach.papers,
            "notes": notes,
        }
        _print_json({**_subscription_json(sub, new.threshold, 0), **shown})
        return
    click.echo(f"Subscription {sub.id}: {sub.topic!r} to {sub.target}")
    for note in notes:
        click.echo(note)
    if new.previews:
        click.echo(
            "Are these relevant? They are stored papers near its threshold, each marked as one "
            "it would alert on or not: your answers set how picky it is "
            f"(`paperbot feedback {sub.id} PAPER_ID relevant|not-relevant`):"
        )
        for shown in new.previews:
            side = "would alert" if shown.would_alert else "would not  "
            click.echo(f"  {shown.paper.id}  {side}  {shown.paper.title}")


@cli.command()
@click.argument("subscription_id", type=int)
@click.argument("paper_id")
@click.argument("verdict", type=click.Choice(["relevant", "not-relevant"]))
@click.pass_context
def feedback(ctx: click.Context, subscription_id: int, paper_id: str, verdict: str) -> None:
    """Judge a paper for a subscription, as its Relevant / Not relevant buttons do.

    PAPER_ID is a stored paper's id, as search and the subscribe previews show it, or an
    arXiv id or URL ("arXiv:2608.19199v2", "https://arxiv.org/abs/2608.19199").
    """
    from bot.feedback import judge
    from bot.subscriptions import stored_paper

    services = _services(ctx, existing=True)
    sub = services.store.subscriptions.get(subscription_id)
    if sub is None:
        raise click.ClickException(
            f"There is no subscription {subscription_id}; `paperbot subscriptions` lists them."
        )
    paper = stored_paper(services.store, paper_id)
    if paper is None:
        raise click.ClickException(
            f"No stored paper has the id {paper_id!r}: give the id as search and the "
            "subscribe previews show it, or an arXiv id or URL."
        )
    paper_id = paper.id
    relevant = verdict == "relevant"
    earlier = services.store.subscriptions.feedback(subscription_id).get(paper_id)
    _, threshold = judge(services.matcher, sub.owner, sub, paper_id, relevant)
    changed = earlier is not None and (earlier > 0) != relevant
    replaced = f", in place of {'not relevant' if relevant else 'relevant'}" if changed else ""
    click.echo(
        f"Recorded {paper_id} as {verdict.replace('-', ' ')} for subscription {subscription_id}"
        f"{replaced}. {threshold}"
    )


def _subscription_json(sub, threshold: float, judgments: int) -> dict:
    """A subscription as JSON, with the threshold matching applies to it now and how many
    papers were judged for it."""
    data = asdict(sub)
    data.pop("embedding")
    # The learned profile is a vector: say whether there is one rather than print it.
    data["profile"] = data["profile"] is not None
    return {**data, "effective_threshold": threshold, "judgments": judgments}


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def subscriptions(ctx: click.Context, as_json: bool) -> None:
    """List every subscription, with the threshold its alerts must reach now (its
    strictness's, moved by judgments, or its own)."""
    from bot.subscriptions import conditions, threshold_of

    services = _services(ctx, existing=True)
    store = services.store
    subs = store.subscriptions.all()
    if as_json:
        _print_json(
            [
                _subscription_json(
                    s, threshold_of(services.matcher, s), len(store.subscriptions.feedback(s.id))
                )
                for s in subs
            ]
        )
        return
    if not subs:
        click.echo("No subscriptions yet: add one with `paperbot subscribe TOPIC --user U...`.")
    for sub in subs:
        state = f"paused: {sub.paused_reason}" if sub.paused else "active"
        threshold = f"threshold {threshold_of(services.matcher, sub):.2f}"
        also = "; ".join(conditions(sub))
        topic = f"{sub.topic} ({also})" if also else sub.topic
        click.echo(f"{sub.id}\t{sub.target}\t{sub.cadence}\t{state}\t{threshold}\t{topic}")


@cli.command()
@click.argument("subscription_id", type=int)
@click.pass_context
def unsubscribe(ctx: click.Context, subscription_id: int) -> None:
    """Remove a subscription, and its alerts not posted yet."""
    from bot.subscriptions import remove

    store = _services(ctx, existing=True).store
    subscription = store.subscriptions.get(subscription_id)
    if subscription is None:
        raise click.ClickException(f"There is no subscription {subscription_id}.")
    remove(store, subscription)
    click.echo(f"Removed subscription {subscription_id}.")


@cli.command()
@click.option("--dry-run", is_flag=True, help="Show the alerts instead of posting them.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def cycle(ctx: click.Context, dry_run: bool, as_json: bool) -> None:
    """Run one fetch-match-deliver cycle now."""
    from bot.deliver import make_slack_client
    from bot.feeds import active_feeds
    from bot.instance import take_over

    # An alert Slack did not take waits in the queue, which the summary and status tell of.
    _said_here(ctx, "slack_sdk")
    settings = _settings(ctx)
    slack = None
    if not dry_run:
        if not settings.slack.bot_token:
            raise click.ClickException(
                "cycle posts to Slack: export SLACK_BOT_TOKEN=xoxb-..., or add --dry-run."
            )
        slack = make_slack_client(settings.slack.bot_token, settings.slack.api_base_url)
    # A dry run matches the stored subscriptions: on a database not made yet, a mistyped --db,
    # it would make one and report that nothing matched.
    services = _services(ctx, slack=slack, existing=dry_run)
    feeds = active_feeds(settings, services.store)
    lock = None if dry_run else take_over(settings.database.path, services.pipeline.deliverer)
    started = datetime.now(UTC)
    with embedding_progress(terminal(as_json)) as on_progress:
        report = services.pipeline.run_cycle(feeds, dry_run=dry_run, on_progress=on_progress)
    if not dry_run:
        # Recorded like the service's cycles, so `paperbot status` tells of this one.
        from bot.scheduler import CycleLog

        delivered = services.pipeline.deliverer.last_report
        cycle_log = CycleLog(started, feeds, report, delivered, report.seconds)
        services.store.cycles.record(cycle_log.record())
    if lock is not None:
        lock.release()
    if as_json:
        _print_json(_cycle_json(services, report))
        return
    if dry_run:
        _show_alerts(services, report.alerts)
    click.echo(report.summary_line())
    if dry_run:
        click.echo(
            "Dry run: nothing was queued or posted, and the next cycle matches these papers "
            "again; `paperbot status` tells of the cycles that deliver."
        )
    elif waiting := services.store.alerts.counts().get("pending", 0):
        click.echo(
            f"{waiting} alert{'s wait' if waiting > 1 else ' waits'} to be posted: "
            "`paperbot status` says why and when each is tried next."
        )


def _cycle_json(services, report) -> dict:
    papers = services.store.papers.get_many([a.paper_id for a in report.alerts + report.over_cap])

    def alert_json(alert):
        return {
            "target": alert.target,
            "paper": _paper_json(papers[alert.paper_id]),
            "score": alert.score,
            "cadence": alert.cadence,
            "matches": [vars(m) for m in alert.matches],
        }

    return {
        "feeds": [asdict(f) for f in report.feeds],
        "papers_new": report.papers_new,
        "papers_updated": report.papers_updated,
        "alerts": [alert_json(a) for a in report.alerts],
        "over_cap": [alert_json(a) for a in report.over_cap],
        "queued": report.queued,
        "for_digest": report.for_digest,
        "sent": report.sent,
        "failed": report.failed,
        "retrying": report.retrying,
        "new_versions_told": report.new_versions_told,
    }


def _show_alerts(services, alerts) -> None:
    from bot.blocks import render_for_terminal
    from bot.deliver import compose_alert

    for alert in alerts:
        message = compose_alert(services.store, services.summarizer, alert.paper_id, alert.matches)
        click.echo(f"── to {alert.target} " + "─" * 40)
        click.echo(render_for_terminal(message) + "\n")


@cli.command()
@click.option(
    "--port", type=click.IntRange(1, 65535), help="HTTP mode port (default from settings)."
)
@click.pass_context
def run(ctx: click.Context, port: int | None) -> None:
    """Run the Slack app and the scheduler."""
    from bot.app import ServeError, serve

    settings = _settings(ctx)
    try:
        settings.slack.require_for_run()
        serve(settings, click.echo, port=port)
    except (SettingsError, ServeError) as error:
        raise click.ClickException(str(error)) from None


@cli.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check settings, database, model and Slack credentials, and say what to fix."""
    from bot.doctor import run_checks

    problems = 0
    for check in run_checks(ctx.obj["config"], ctx.obj["db"]):
        mark = "ok  " if check.ok else "FAIL"
        click.echo(f"[{mark}] {check.name}: {check.detail}")
        problems += not check.ok
    if problems:
        sys.exit(1)


# -- feeds (issue 3) ------------------------------------------------------------------


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def feeds(ctx: click.Context, as_json: bool) -> None:
    """List the polled feeds with their health; `feeds add URL`, `feeds remove URL`."""
    if ctx.invoked_subcommand is not None:
        return
    from bot.feeds import feed_health
    from bot.storage import Store

    settings = _settings(ctx, existing=True)
    report = feed_health(settings, Store(settings.database.path))
    if as_json:
        _print_json([asdict(feed) for feed in report])
        return
    if not report:
        click.echo("No feeds: declare [[feeds]] in your settings, or `paperbot feeds add URL`.")
    for feed in report:
        click.echo(f"{feed.name}  [{feed.kind or 'detect'}, {feed.origin}]\n  {feed.url}")
        click.echo(f"  health: {feed.detail}")
        click.echo(
            f"  last success: {feed.last_ok or 'never'}; last read: {feed.items or 0} items, "
            f"{feed.new or 0} new, {feed.updated or 0} updated"
        )


@feeds.command("add")
@click.argument("url")
@click.option("--name", default="", help="Shown in `paperbot feeds` (default: the feed's title).")
@click.option("--kind", type=FEED_KINDS, help="Feed format, when detection is not wanted.")
@click.option("--no-cross-lists", is_flag=True, help="arXiv: cross-listed papers are not new.")
@click.pass_context
def feeds_add(
    ctx: click.Context, url: str, name: str, kind: str | None, no_cross_lists: bool
) -> None:
    """Fetch URL once and poll it from the next cycle on, if it answers with a feed."""
    from bot.feeds import FeedError, add_feed
    from bot.fetch import Fetcher
    from bot.storage import Store

    settings = _settings(ctx)
    with Fetcher(
        user_agent=settings.fetch.user_agent,
        connect_timeout=settings.fetch.connect_timeout,
        read_timeout=settings.fetch.read_timeout,
        max_attempts=settings.fetch.max_attempts,
    ) as fetcher:
        try:
            added = add_feed(
                settings,
                Store(settings.database.path),
                fetcher,
                url,
                name=name,
                kind=kind or "",
                include_cross_lists=not no_cross_lists,
            )
        except FeedError as error:
            raise click.ClickException(str(error)) from None
    feed = added.feed
    click.echo(f"Added {feed.name} ({feed.kind}): {feed.url}")
    if added.damage:
        click.echo(
            f"Note: only part of it could be read just now ({added.damage}); its "
            f"{added.papers} readable papers come with the next cycle, and `paperbot feeds` "
            "shows its health after each poll."
        )
    elif added.papers == 0:
        click.echo(
            "Note: it has no papers just now (arXiv's listings are empty on the days it does "
            "not announce); check the address if it should have some."
        )


@feeds.command("remove")
@click.argument("url")
@click.pass_context
def feeds_remove(ctx: click.Context, url: str) -> None:
    """Stop polling URL; the papers it brought stay."""
    from bot.feeds import FeedError, remove_feed
    from bot.storage import Store

    settings = _settings(ctx, existing=True)
    try:
        feed = remove_feed(settings, Store(settings.database.path), url)
    except FeedError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Removed {feed.name or feed.url}: it is no longer polled.")


# -- status (issue 6) -------------------------------------------------------------------


@cli.command()
@click.option("--limit", default=20, show_default=True, help="Pending and failed rows shown.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def status(ctx: click.Context, limit: int, as_json: bool) -> None:
    """The last cycle, pending and failed alerts, and paused subscriptions with reasons."""
    from bot.status import status_report, status_text
    from bot.storage import Store

    report = status_report(Store(_settings(ctx, existing=True).database.path), limit=limit)
    if as_json:
        _print_json(report)
    else:
        click.echo(status_text(report))


# -- moving to PostgreSQL (issue 15) ----------------------------------------------------


@cli.command("copy-to")
@click.argument("postgresql_url")
@click.pass_context
def copy_to(ctx: click.Context, postgresql_url: str) -> None:
    """Copy the SQLite database (--db) into an empty PostgreSQL database at POSTGRESQL_URL."""
    from bot.instance import InstanceLock
    from bot.progress import copy_progress
    from bot.storage import shown
    from bot.storage.copy import copy_to_postgresql

    source = _settings(ctx).database.path
    # Held while copying, so no paperbot writes to the file meanwhile and loses what it wrote.
    lock = InstanceLock(f"{source}.lock")
    if Path(source).is_file() and not lock.acquire():
        raise click.ClickException(
            f"paperbot is running on {source} (it holds {source}.lock): stop it first, so "
            "that nothing it writes during the copy is lost."
        )
    try:
        with copy_progress(terminal()) as on_progress:
            copied = copy_to_postgresql(source, postgresql_url, on_progress)
    finally:
        lock.release()
    for table, rows in copied.rows.items():
        click.echo(f"{table:<16} {rows:>9,} row{'' if rows == 1 else 's'}")
    if copied.not_in_source:
        click.echo(f"Not in {source}, left as they were: {', '.join(copied.not_in_source)}")
    if copied.columns_left_out:
        click.echo(
            f"Not copied, PostgreSQL has no such column: {', '.join(copied.columns_left_out)}"
        )
    if copied.not_embedded:
        click.echo(
            f"{copied.not_embedded:,} of the papers had no embedding yet (an ingest may have "
            "been storing them): the next cycle on PostgreSQL embeds them, and "
            "`paperbot cycle --dry-run` does it now."
        )
    rows = copied.rows
    others = sum(rows.values()) - rows.get("papers", 0) - rows.get("subscriptions", 0)
    where = shown(postgresql_url)
    masked = " (with the password in place of ***)" if where != postgresql_url else ""
    papers, subscriptions = rows.get("papers", 0), rows.get("subscriptions", 0)
    click.echo(
        f"Copied {papers:,} paper{'' if papers == 1 else 's'}, {subscriptions:,} "
        f"subscription{'' if subscriptions == 1 else 's'} and {others:,} other "
        f"row{'' if others == 1 else 's'} into {where}. Set PAPERBOT_DB={where}{masked} to use it."
    )


def main() -> None:
    cli()
