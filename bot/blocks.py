"""Block Kit rendering of a paper alert, and the same alert as plain text for a terminal.

Everything that comes from outside (titles, abstracts, author names, topics)
is escaped before it goes into mrkdwn, so a paper titled `<!channel>` pings
nobody, and every text is cut to fit Slack's limits after escaping.
"""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
import urllib.parse
from dataclasses import dataclass

from bot.match import Match
from bot.papers import Paper

# Slack's documented limits (PITFALLS.md); messages over them are refused.
MAX_SECTION_TEXT = 3000
MAX_CONTEXT_TEXT = 3000
MAX_BUTTON_VALUE = 2000
MAX_BLOCK_ID = 255
# Longer URLs are left unlinked so the title section stays within its limit.
MAX_URL = 2000
# Only web addresses become links. Anything else in a feed's link (`!channel`, `@U123`,
# `#C123`, `javascript:`) would be a mention or a trap inside `<...|...>`.
LINK_SCHEMES = ("http", "https")
# What a URL keeps as it is; the rest (spaces, `<`, `>`, `|`, quotes, control characters)
# is percent-encoded, so nothing in it can end the link or start another.
URL_SAFE = "/:?#[]@!$&'()*+,;=%~"

# Our own limits, well inside Slack's, so an alert stays short and far from the
# undocumented msg_blocks_too_long refusal near 13,000 characters.
MAX_TITLE = 300
MAX_SUMMARY = 1500
MAX_TOPIC = 150
MAX_FALLBACK = 300
MAX_MATCH_LINES = 5
MAX_REASON = 200
MAX_EXPLANATION = 600

# A title's `|` would end a link's text in `<url|text>`; Slack decodes only &amp;
# &lt; &gt;, so `&#124;` would show literally. A lookalike reads the same.
PIPE_LOOKALIKE = "\u2223"

BUTTONS = (
    ("paper_relevant", "Relevant", "primary"),
    ("paper_not_relevant", "Not relevant", None),
    ("paper_save", "Save", None),
    ("paper_more_like", "More like this", None),
    ("paper_mute_topic", "Mute this topic", None),
)


def escape(text: str) -> str:
    """Escape mrkdwn control characters; `&` first so the others' entities survive."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Undo escape(); `&amp;` last so `&amp;lt;` becomes `&lt;` as sent."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters at a word boundary, ending with "…"."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "…"[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    # Only back up to a space if that keeps most of the text; one long word
    # (a URL, a formula) is cut hard instead.
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


def short_authors(authors: list[str], keep: int = 3) -> str:
    """Shorten to "A, B, C et al."; all names when dropping just one would save nothing."""
    if len(authors) <= keep + 1:
        return ", ".join(authors)
    return ", ".join(authors[:keep]) + " et al."


def bold(text: str) -> str:
    """`*text*` in mrkdwn. A `*` inside would end the bold early, so it becomes `∗` (U+2217)."""
    return "*" + text.replace("*", "\u2217") + "*"


def fit(text: str, limit: int) -> str:
    """Truncate then escape, so the escaped text is within `limit`.

    Truncating after escaping could cut an entity in half, so this finds the
    longest raw cut whose escaped form fits.
    """
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    best, low, high = "", 0, limit
    while low <= high:
        middle = (low + high) // 2
        candidate = escape(truncate(text, middle))
        if len(candidate) <= limit:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best


def link(url: str, label: str) -> str:
    """A mrkdwn link `<url|label>` that no character in the label or URL can break.

    A URL that is not an absolute http(s) address, or is too long, leaves the label as
    plain text.
    """
    safe_label = fit(" ".join(label.split()), MAX_TITLE).replace("|", PIPE_LOOKALIKE)
    url = _safe_url(url)
    return f"<{url}|{safe_label}>" if url else safe_label


def _safe_url(url: str | None) -> str | None:
    """`url` percent-encoded and escaped for mrkdwn, or None unless it is an absolute
    http(s) URL within MAX_URL."""
    url = (url or "").strip()
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in LINK_SCHEMES or not parts.hostname:
        return None
    quoted = escape(urllib.parse.quote(url, safe=URL_SAFE))
    return quoted if len(quoted) <= MAX_URL else None


def render_alert(paper: Paper, matches: list[Match], summary: str) -> dict:
    """The chat.postMessage arguments (text and blocks) for one paper alert."""
    blocks = [_title_block(paper)]
    byline = _byline(paper)
    if byline:
        blocks.append(_context(byline))
    if summary.strip():
        blocks.append(_section(fit(" ".join(summary.split()), MAX_SUMMARY)))
    blocks.extend(_match_blocks(matches))
    blocks.extend(_actions(paper, matches))
    # At most 10 blocks by construction (MAX_MATCH_LINES), far below Slack's 50.
    return {"text": _fallback_text(paper), "blocks": blocks}


def _title_block(paper: Paper) -> dict:
    return _section(f"*{link(paper.url, paper.title)}*")


def _byline(paper: Paper) -> str:
    """Authors · categories · date, escaped; a replacement's date says it is a revision
    ("v3, revised 2026-07-14"): arXiv announces new versions of papers years old too."""
    categories = paper.categories or ([paper.primary_category] if paper.primary_category else [])
    date = paper.published or paper.updated or ""
    # ISO dates show as the day; other formats (RSS dates) are kept as they are.
    if re.match(r"\d{4}-\d{2}-\d{2}", date):
        date = date[:10]
    if paper.is_update:
        revised = f"v{paper.version}, revised" if paper.version else "revised"
        date = f"{revised} {date}".strip()
    parts = [short_authors(paper.authors), ", ".join(categories), date]
    return fit(" · ".join(part for part in parts if part), MAX_CONTEXT_TEXT)


def explain(match: Match) -> str:
    """`Matched *topic* · strong · like: Title · keywords: a, b`, escaped, at most
    MAX_EXPLANATION characters.

    The band (strong / good / borderline) stands in for the number, which means little
    to a reader; the reasons say what in the paper met the subscription.
    """
    head = "Matched " + bold(fit(" ".join(match.topic.split()), MAX_TOPIC))
    rest = [match.band] if match.band else []
    rest += [truncate(" ".join(r.split()), MAX_REASON) for r in match.reasons if r != "topic"]
    if not rest:
        return head
    return f"{head} · {fit(' · '.join(rest), MAX_EXPLANATION - len(head) - 3)}"


def _match_blocks(matches: list[Match]) -> list[dict]:
    """One context line per match, in the caller's order, a few at most."""
    lines = [explain(m) for m in matches[:MAX_MATCH_LINES]]
    if len(matches) > MAX_MATCH_LINES:
        lines.append(f"and {len(matches) - MAX_MATCH_LINES} more of your topics")
    return [_context(line) for line in lines]


def _actions(paper: Paper, matches: list[Match]) -> list[dict]:
    """The feedback buttons; their value tells the handler which paper and subscription.

    No buttons for a paper whose id is too long for a button value (stored before ids were
    shortened, see papers.short_id): that alert goes out without buttons.
    """
    subscription = matches[0].subscription_id if matches else None
    value = json.dumps({"paper": paper.id, "sub": subscription})
    if len(value) > MAX_BUTTON_VALUE:
        return []
    elements = []
    for action_id, label, style in BUTTONS:
        button = {
            "type": "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": label},
            "value": value,
        }
        if style:
            button["style"] = style
        elements.append(button)
    return [{"type": "actions", "block_id": _paper_block_id(paper.id), "elements": elements}]


def _paper_block_id(paper_id: str) -> str:
    """`paper:<id>`; ids too long for a block_id (some URL ids) are hashed instead."""
    block_id = f"paper:{paper_id}"
    if len(block_id) <= MAX_BLOCK_ID:
        return block_id
    return "paper:sha1:" + hashlib.sha1(paper_id.encode()).hexdigest()


def _fallback_text(paper: Paper) -> str:
    """The notification and screen-reader text; also mrkdwn, so escaped."""
    kind = "New paper"
    if paper.is_update:
        kind = f"Revised paper (v{paper.version})" if paper.version else "Revised paper"
    return fit(f"{kind}: " + " ".join(paper.title.split()), MAX_FALLBACK)


def _section(text: str) -> dict:
    # Callers fit their parts; this only guards against a future part that does not.
    if len(text) > MAX_SECTION_TEXT:
        raise ValueError(f"section text over Slack's {MAX_SECTION_TEXT} characters")
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


# -- digests and "more matched today" ----------------------------------------

# A digest message stays well under Slack's 50 blocks and the ~13,000-character
# msg_blocks_too_long refusal; what does not fit goes on in the thread.
MAX_DIGEST_BLOCKS = 40
MAX_DIGEST_CHARS = 10_000
MAX_HEADER = 150
MAX_DIGEST_SUMMARY = 300
# Feed warnings shown at the top of a digest; more are summed up in one line.
MAX_DIGEST_WARNINGS = 5
MAX_WARNING = 500
SHOW_MORE_ACTION = "show_more_matches"


@dataclass
class DigestEntry:
    """One paper in a digest, with every match it had for the target."""

    paper: Paper
    matches: list[Match]
    summary: str


@dataclass
class DigestGroup:
    """The papers of one subscription, best first."""

    topic: str
    entries: list[DigestEntry]


def render_digest(
    title: str, groups: list[DigestGroup], warnings: list[str] | tuple[str, ...] = ()
) -> list[dict]:
    """A digest as messages: the first is posted, the rest go in its thread.

    Feed warnings come first, so a broken feed does not pass for a quiet day. Groups keep
    the caller's order (best subscription first); each paper is a section with its link,
    explanation and summary. A message is closed before it would pass MAX_DIGEST_BLOCKS
    blocks or MAX_DIGEST_CHARS characters of blocks.
    """
    count = sum(len(group.entries) for group in groups)
    header = {
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(" ".join(title.split()), MAX_HEADER)},
    }
    messages: list[list[dict]] = [[header, *_warning_blocks(warnings)]]
    if not groups:
        messages[0].append(_section("No new papers matched your subscriptions."))
    for group in groups:
        heading = _section(bold(fit(" ".join(group.topic.split()), MAX_TOPIC)))
        _append(messages, [{"type": "divider"}, heading])
        for entry in group.entries:
            _append(messages, [_digest_entry(entry)])
    fallback = fit(f"{title}: {count} paper{'s' if count != 1 else ''}", MAX_FALLBACK)
    return [
        {"text": fallback if i == 0 else fit(f"{title} (continued)", MAX_FALLBACK), "blocks": b}
        for i, b in enumerate(messages)
    ]


def _warning_blocks(warnings: list[str] | tuple[str, ...]) -> list[dict]:
    """One context line per failing or stale feed, a few at most."""
    lines = [f"⚠️ {fit(warning, MAX_WARNING)}" for warning in warnings[:MAX_DIGEST_WARNINGS]]
    if len(warnings) > MAX_DIGEST_WARNINGS:
        lines.append(f"⚠️ and {len(warnings) - MAX_DIGEST_WARNINGS} more feeds with problems")
    return [_context(line) for line in lines]


def _append(messages: list[list[dict]], blocks: list[dict]) -> None:
    """Add blocks to the last message, or start a new one when they would not fit."""
    current = messages[-1]
    too_many = len(current) + len(blocks) > MAX_DIGEST_BLOCKS
    too_long = len(json.dumps(current + blocks)) > MAX_DIGEST_CHARS
    if current and (too_many or too_long):
        messages.append([])
    messages[-1].extend(blocks)


def _digest_entry(entry: DigestEntry) -> dict:
    """The paper's link, explanations and summary in one section; the explanations that
    would take it past Slack's limit are counted instead of shown."""
    first = f"*{link(entry.paper.url, entry.paper.title)}*"
    summary = fit(" ".join(entry.summary.split()), MAX_DIGEST_SUMMARY)
    # Room for the title, the summary, the line breaks and an "and N more" line.
    room = MAX_SECTION_TEXT - len(first) - len(summary) - 50
    lines = []
    for match in entry.matches:
        line = explain(match)
        if len(lines) == MAX_MATCH_LINES or len(line) + 1 > room:
            break
        lines.append(line)
        room -= len(line) + 1
    if len(lines) < len(entry.matches):
        lines.append(f"and {len(entry.matches) - len(lines)} more of your topics")
    return _section("\n".join([first, *lines, *([summary] if summary else [])]))


def render_more_matches(count: int, per_press: int, day: str, when: str) -> dict:
    """ "N more matched `when`" ("today", or "on 2026-12-05") with a button that posts
    `per_press` of them at a time (action show_more_matches); with none left, that they are
    all on their way, and no button."""
    if not count:
        text = f"Every paper held back {when} is on its way."
        return {"text": text, "blocks": [_section(text)]}
    noun = "paper" if count == 1 else "papers"
    text = f"{count} more {noun} matched your subscriptions {when}, over your daily limit."
    offer = _section(text)
    offer["accessory"] = {
        "type": "button",
        "action_id": SHOW_MORE_ACTION,
        "text": {"type": "plain_text", "text": f"Show {min(count, per_press)} more"},
        "value": json.dumps({"day": day}),
    }
    return {"text": text, "blocks": [offer]}


# -- terminal rendering ------------------------------------------------------

# `<target|label>` or `<target>`: links and mentions in mrkdwn. Escaped text has no
# raw `<` or `>`, so anything between them is markup.
MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def render_for_terminal(message: dict, console_width: int = 100) -> str:
    """The message as a person reads it in Slack, as plain wrapped text."""
    blocks = message.get("blocks") or []
    if not blocks:
        return _wrap(_display(message.get("text", "")), console_width)
    lines = [_block_as_text(block, console_width) for block in blocks]
    return "\n".join(line for line in lines if line)


def _block_as_text(block: dict, width: int) -> str:
    kind = block.get("type")
    if kind == "section":
        texts = [block.get("text") or {}, *block.get("fields", [])]
        return "\n".join(_wrap(_text_of(t), width) for t in texts if t)
    if kind == "context":
        parts = [_text_of(e) or f"[{e.get('alt_text', 'image')}]" for e in block["elements"]]
        return _wrap("  ".join(parts), width)
    if kind == "header":
        title = _text_of(block.get("text") or {})
        return f"{title}\n{'=' * min(len(title), width)}"
    if kind == "divider":
        return "-" * width
    if kind == "actions":
        return _wrap(" ".join(_element_as_text(e) for e in block["elements"]), width)
    if kind == "image":
        return f"[image: {block.get('alt_text', '')}]"
    return ""


def _element_as_text(element: dict) -> str:
    """A button as `[ Label ]`; menus and other inputs by their placeholder."""
    text = element.get("text") or element.get("placeholder") or {}
    label = _text_of(text) or element.get("action_id", "")
    return f"[ {label} ]" if element.get("type") == "button" else f"[ {label} ▾ ]"


def _text_of(text_object: dict) -> str:
    """Display form of a text object: plain text as is, mrkdwn with links and escapes resolved."""
    text = text_object.get("text", "")
    return _display(text) if text_object.get("type") == "mrkdwn" else text


def _display(mrkdwn: str) -> str:
    """Links as "label (url)", mentions as @name, and entities decoded."""
    return unescape(MARKUP.sub(_markup_as_text, mrkdwn))


def _markup_as_text(match: re.Match) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("@"):
        return "@" + (label or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        # <!channel>, <!here>, <!subteam^ID|@team>, <!date^...|fallback>
        return label or "@" + target[1:].split("^")[0]
    return f"{label} ({target})" if label else target


def _wrap(text: str, width: int) -> str:
    """Wrap each line to the console width, keeping the line breaks Slack would show."""
    return "\n".join(
        textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False) or ""
        for line in text.splitlines()
    )
