"""Parsing `/papers` text into a Command, forgivingly: any case, extra spaces, quoted topics.

Pure functions only, so every odd thing a person can type is unit-tested without Slack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.search import names_a_subject

# A search query longer than this is cut (at a word): it must fit in a button value
# (2,000 characters) for "next 5", and no real query is longer.
MAX_QUERY = 500
MAX_TOPIC = 500

SUBCOMMANDS = (
    "search",
    "subscribe",
    "list",
    "unsubscribe",
    "pause",
    "resume",
    "threshold",
    "digest",
    "like",
    "saved",
    "status",
    "help",
)
# Words people type for the same thing.
ALIASES = {
    "find": "search",
    "sub": "subscribe",
    "follow": "subscribe",
    "ls": "list",
    "subscriptions": "list",
    "unsub": "unsubscribe",
    "remove": "unsubscribe",
    "rm": "unsubscribe",
    "delete": "unsubscribe",
    "unpause": "resume",
    "similar": "like",
    "save": "saved",
    "health": "status",
    "?": "help",
}
QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019", "\u00ab": "\u00bb"}
# `<#C123|name>` (Slack's escaped channel mention), `<#C123>`, or a bare `#name`.
CHANNEL_LINK = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|([^>]*))?>$")
CHANNEL_NAME = re.compile(r"^#([a-z0-9_\-.]{1,80})$", re.I)
SUBSCRIPTION_ID = re.compile(r"^#?(\d{1,12})$")
# A page number: digits int() reads ("²" is a digit to str.isdigit, not to int), and no
# more of them than any list has pages.
PAGE = re.compile(r"\d{1,6}")
FILTER = re.compile(
    r"(?<!\S)(since|cat|category|author):(\"[^\"]*\"|\u201c[^\u201d]*\u201d|\S+)", re.I
)
SINCE = re.compile(r"^(\d{1,4})\s*([dwmy])$", re.I)
SINCE_UNITS = {"d": 1, "w": 7, "m": 30, "y": 365}


@dataclass(frozen=True)
class SearchQuery:
    """What to search for, and the filters typed with it."""

    text: str
    since: str | None = None  # ISO date: papers published on or after it
    categories: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    shortened: bool = False

    @property
    def has_filters(self) -> bool:
        return bool(self.since or self.categories or self.authors)


@dataclass(frozen=True)
class Command:
    """One parsed `/papers` command. `error` says what was wrong with its arguments."""

    name: str
    text: str = ""
    channel: str | None = None  # subscribe: "here", a channel id, or "#name"
    subscription_id: int | None = None
    value: str = ""
    query: SearchQuery | None = None
    error: str | None = None
    unknown: str | None = None  # the word typed when it was no subcommand
    page: int = 1  # list, saved: which page of a long list


def parse(text: str | None, today: datetime | None = None) -> Command:
    """The Command that `/papers <text>` asks for, `text` as Slack sends it (as_typed);
    help for an empty or unknown word."""
    words = as_typed(text or "").split()
    if not words:
        return Command("help")
    word = words[0].lower().strip(":")
    name = ALIASES.get(word, word)
    rest = " ".join(words[1:])
    if name not in SUBCOMMANDS:
        return Command("help", unknown=words[0][:50])
    parser = _PARSERS.get(name)
    return parser(rest, today or datetime.now(UTC)) if parser else Command(name)


def as_typed(text: str) -> str:
    """A slash command's text as the person typed it. Slack sends the "&", "<" and ">" they
    typed as "&amp;", "&lt;" and "&gt;", to tell them from its own markup (`<#C123|name>`):
    "speech &amp; audio" would otherwise be subscribed to, and shown, with "&amp;" in it."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def unquote(text: str) -> str:
    """`"diffusion models"` -> `diffusion models`; single spaces; unmatched quotes kept."""
    text = " ".join(text.split())
    if len(text) >= 2 and QUOTES.get(text[0]) == text[-1]:
        text = " ".join(text[1:-1].split())
    return text


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary to at most `limit` characters (no ellipsis: it is a query)."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space > limit // 2 else cut


def parse_search(rest: str, today: datetime) -> Command:
    """`search <query> [since:7d] [cat:cs.CL] [author:name]`."""
    query, error = parse_query(rest, today)
    if error:
        return Command("search", error=error)
    if not names_a_subject(query.text):
        return Command(
            "search",
            query=query,
            error="Tell me what to search for, e.g. `/papers search sparse attention since:7d`.",
        )
    return Command("search", text=query.text, query=query)


def parse_query(rest: str, today: datetime) -> tuple[SearchQuery, str | None]:
    """The query text and its filters; an error message for a filter that makes no sense."""
    since, categories, authors = None, [], []
    for match in FILTER.finditer(rest):
        key, value = match.group(1).lower(), unquote(match.group(2))
        if not value:
            continue
        if key == "since":
            since = since_date(value, today)
            if since is None:
                return SearchQuery(""), (
                    f"I can't read `since:{value[:30]}`: write a number of days, weeks, "
                    "months or years like `since:7d`, `since:2w`, or a date like "
                    "`since:2026-01-31`."
                )
        elif key in ("cat", "category"):
            categories.append(value)
        else:
            authors.append(value)
    text = unquote(FILTER.sub(" ", rest))
    short = shorten(text, MAX_QUERY)
    query = SearchQuery(
        text=short,
        since=since,
        categories=tuple(categories),
        authors=tuple(authors),
        shortened=short != text,
    )
    return query, None


def since_date(value: str, today: datetime) -> str | None:
    """`7d`, `2w`, `3m`, `1y` or `2026-01-31` as an ISO date; None when unreadable."""
    relative = SINCE.match(value)
    if relative:
        days = int(relative.group(1)) * SINCE_UNITS[relative.group(2).lower()]
        try:
            return (today - timedelta(days=days)).date().isoformat()
        except OverflowError:  # before year 1
            return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date().isoformat()
    except ValueError:
        return None


def parse_subscribe(rest: str, today: datetime) -> Command:
    """`subscribe <topic>`, `subscribe here <topic>`, `subscribe #channel <topic>`."""
    words = rest.split()
    channel = None
    if words:
        first = words[0]
        link = CHANNEL_LINK.match(first)
        if first.lower() == "here":
            channel = "here"
        elif link:
            channel = link.group(1)
        elif CHANNEL_NAME.match(first):
            channel = first.lower()
        if channel:
            words = words[1:]
    topic = unquote(" ".join(words))
    if not topic:
        return Command(
            "subscribe",
            channel=channel,
            error="Tell me the topic, e.g. `/papers subscribe diffusion models for video`.",
        )
    if len(topic) > MAX_TOPIC:
        return Command(
            "subscribe",
            channel=channel,
            error=topic_too_long(topic),
        )
    return Command("subscribe", text=topic, channel=channel)


def topic_too_long(topic: str) -> str:
    """Why a topic over MAX_TOPIC characters is refused, in the slash command and the CLI."""
    return (
        f"That topic is {len(topic):,} characters; keep it to {MAX_TOPIC} or fewer: a phrase "
        "or a sentence works best."
    )


def parse_id(word: str) -> int | None:
    match = SUBSCRIPTION_ID.match(word.strip())
    return int(match.group(1)) if match else None


def parse_unsubscribe(rest: str, today: datetime) -> Command:
    """`unsubscribe <id>` or `unsubscribe <topic>`."""
    text = unquote(rest)
    if not text:
        return Command(
            "unsubscribe", error="Tell me which: `/papers unsubscribe 12` (ids are in `list`)."
        )
    subscription_id = parse_id(text)
    if subscription_id is not None:
        return Command("unsubscribe", subscription_id=subscription_id)
    return Command("unsubscribe", text=text[:MAX_TOPIC])


def _id_command(name: str, example: str, takes_value: bool = False):
    """A parser for `<name> <id> [value]` commands."""

    def parse_with_id(rest: str, today: datetime) -> Command:
        words = rest.split()
        usage = f"Use it like `/papers {example}` (ids are in `/papers list`)."
        subscription_id = parse_id(words[0]) if words else None
        if subscription_id is None:
            return Command(name, error=usage)
        if not takes_value:
            return Command(name, subscription_id=subscription_id)
        value = words[1].lower() if len(words) > 1 else ""
        if not value:
            return Command(name, subscription_id=subscription_id, error=usage)
        return Command(name, subscription_id=subscription_id, value=value)

    return parse_with_id


def parse_like(rest: str, today: datetime) -> Command:
    """`like <arXiv id or URL>`; Slack sends URLs as `<https://...>` or `<https://...|label>`."""
    text = rest.strip().strip("<>").split("|")[0].strip()
    if not text:
        return Command("like", error="Give me an arXiv id or link, e.g. `/papers like 2608.19199`.")
    return Command("like", text=text[:300])


def _page_command(name: str):
    """`list`, `list 2`: a list shown a page at a time."""

    def parse_page(rest: str, today: datetime) -> Command:
        if not rest:
            return Command(name)
        if PAGE.fullmatch(rest) and int(rest) >= 1:
            return Command(name, page=int(rest))
        return Command(name, error=f"Say `/papers {name}`, or `/papers {name} 2` for page 2.")

    return parse_page


_PARSERS = {
    "search": parse_search,
    "subscribe": parse_subscribe,
    "unsubscribe": parse_unsubscribe,
    "pause": _id_command("pause", "pause 12"),
    "resume": _id_command("resume", "resume 12"),
    "threshold": _id_command("threshold", "threshold 12 stricter", takes_value=True),
    "digest": _id_command("digest", "digest 12 daily", takes_value=True),
    "like": parse_like,
    "list": _page_command("list"),
    "saved": _page_command("saved"),
}
