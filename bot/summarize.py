"""The short summary shown in an alert.

The default is extractive: one or two sentences of the abstract that state what the
paper contributes, chosen by cue phrases and by the words they share with the topic
the reader subscribed to. It is deterministic and needs no model. An LLM summarizer can
sit behind the same `Summarizer` interface.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import httpx

from bot.papers import Paper
from bot.settings import SummarySettings
from bot.storage import Store

log = logging.getLogger(__name__)

ELLIPSIS = "…"

# Tokens that end in a period without ending a sentence (compared lower-cased, without
# the final period). "etc." is left out: it ends sentences at least as often as not.
_ABBREVIATIONS = frozenset(
    {"e.g", "i.e", "al", "fig", "figs", "vs", "cf", "eq", "eqs", "sec", "tab", "approx", "resp"}
)

# A sentence ends at . ! or ? (maybe closed by a quote or bracket), then space, then
# something that can start a sentence. Decimals ("3.5") never have the space.
_BOUNDARY = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[$\\]?[A-Z0-9])")
_MATH = re.compile(r"\$[^$]*\$")

# Cue families and their weights; a sentence scores each family once.
_CUES = [
    (
        3.0,
        re.compile(
            r"\b(?:we (?:[\w-]+ ){0,7}?|(?:this|our) (?:paper|work|study) )"
            r"(?:propose|introduce|present|develop|design)",
            re.I,
        ),
    ),
    (
        1.5,
        re.compile(
            r"\b(?:this|our) (?:paper|work|study)\b|\bour (?:method|approach|contributions?)\b",
            re.I,
        ),
    ),
    (1.5, re.compile(r"\bwe (?:\w+ )?(?:show|demonstrate|find)\b", re.I)),
    (1.5, re.compile(r"\b(?:achiev|outperform|surpass)\w*|\bstate-of-the-art\b", re.I)),
]
# The families that say "here is what this paper does", as opposed to how well it works.
_CONTRIBUTION_CUES = [cue for _, cue in _CUES[:2]]
_BACKGROUND = re.compile(
    r"^(?:despite|however|existing|current|in recent years)\b|\brecent(?:ly)?\b"
    r"|\b(?:is|are|has been|have been) (?:an? )?(?:important|essential|crucial|critical|"
    r"fundamental|challenging|popular)\b"
    r"|\b(?:has|have)(?: been)? (?:emerged|attracted|become|shown|gained|developed|achieved)\b"
    r"|\bremains? (?:challenging|limited|difficult|unclear|an open)\b",
    re.I,
)
_BOILERPLATE = re.compile(
    r"https?://|\b(?:code|data|models?|weights)\b.{0,40}\b(?:available|released?)\b", re.I
)
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    "a an and are as at be by for from in into is it of on or our that the their this to "
    "we with via using based new paper papers work".split()
)


class Summarizer(Protocol):
    """Anything that turns a paper into the short text of an alert."""

    def summarize(self, title: str, abstract: str, topic: str | None = None) -> str: ...


@dataclass
class ExtractiveSummarizer:
    """The default summarizer: picks sentences from the abstract (see extractive_summary)."""

    max_chars: int = 300

    def summarize(self, title: str, abstract: str, topic: str | None = None) -> str:
        """Summarize the abstract; the title is not needed by the extractive method."""
        return extractive_summary(abstract, topic, self.max_chars)


class LLMSummarizer:
    """Summaries from an OpenAI-compatible chat-completions endpoint, off by default.

    Any error, refusal, timeout or empty answer falls back to `fallback` (the extractive
    summary), so an alert never waits long or goes out without a summary. The answer is
    cut to max_chars at a word.
    """

    def __init__(
        self,
        url: str,
        model: str,
        api_key: str,
        timeout: float,
        fallback: Summarizer,
        max_chars: int = 300,
        client: httpx.Client | None = None,
    ):
        self.endpoint = url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.fallback = fallback
        self.max_chars = max_chars
        self.client = client or httpx.Client(timeout=timeout)

    def summarize(self, title: str, abstract: str, topic: str | None = None) -> str:
        try:
            text = self._ask(title, abstract, topic)
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as error:
            log.warning("LLM summary failed, using the extractive one: %s", error)
            text = ""
        if not text:
            return self.fallback.summarize(title, abstract, topic)
        return text if len(text) <= self.max_chars else _truncate(text, self.max_chars)

    def _ask(self, title: str, abstract: str, topic: str | None) -> str:
        focus = f" Favour what matters to a reader interested in: {topic}." if topic else ""
        prompt = (
            f"Summarize this paper's contribution in one or two plain sentences, at most "
            f"{self.max_chars} characters.{focus}\n\nTitle: {title}\n\nAbstract: {abstract}"
        )
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        response = self.client.post(
            self.endpoint,
            headers=headers,
            json={
                "model": self.model,
                "messages": [{"role": "user", "content": prompt}],
                "temperature": 0,
            },
        )
        response.raise_for_status()
        content = response.json()["choices"][0]["message"]["content"]
        return " ".join(str(content).split())


def build_summarizer(summary: SummarySettings, env: Mapping[str, str]) -> Summarizer:
    """The extractive summarizer, behind an LLM one when [summary] llm_url is set."""
    extractive = ExtractiveSummarizer(summary.max_chars)
    if not summary.llm_url:
        return extractive
    return LLMSummarizer(
        url=summary.llm_url,
        model=summary.llm_model,
        api_key=env.get(summary.llm_api_key_env, ""),
        timeout=summary.llm_timeout,
        fallback=extractive,
        max_chars=summary.max_chars,
    )


def summary_for(store: Store, summarizer: Summarizer, paper: Paper, topic: str | None) -> str:
    """The paper's summary, made once (for the first topic it matched) and stored."""
    summary = store.papers.summary(paper.id)
    if summary is None:
        summary = summarizer.summarize(paper.title, paper.abstract, topic)
        store.papers.set_summary(paper.id, summary)
    return summary


def extractive_summary(abstract: str, topic: str | None = None, max_chars: int = 300) -> str:
    """One or two sentences of the abstract that carry its contribution, at most max_chars.

    Sentences keep their original order and text (LaTeX included); whitespace is
    collapsed. A lone sentence longer than max_chars is cut at a word and ends in "…".
    """
    sentences = split_sentences(abstract)
    if not sentences:
        return ""
    topic_words = content_words(topic or "")
    scores = _score_sentences(sentences, topic_words, max_chars)
    # Highest score first; the earlier sentence wins a tie, which keeps output stable.
    ranked = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
    best = ranked[0]
    if len(sentences[best]) > max_chars:
        return _truncate(sentences[best], max_chars)
    chosen = [best]
    for i in ranked[1:]:
        fits = len(sentences[best]) + 1 + len(sentences[i]) <= max_chars
        # A second sentence must carry a cue or share two words with the topic; filler
        # would only push the alert's other fields down.
        if fits and scores[i] >= 1.5:
            chosen.append(i)
            break
    return " ".join(sentences[i] for i in sorted(chosen))


def split_sentences(text: str) -> list[str]:
    """Split text into sentences without breaking on abbreviations, decimals or math."""
    text = " ".join(text.split())
    math_spans = [m.span() for m in _MATH.finditer(text)]
    sentences = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        if _inside(m.start(), math_spans) or _ends_with_abbreviation(text[start : m.start()]):
            continue
        sentences.append(text[start : m.end()].strip())
        start = m.end()
    if text[start:].strip():
        sentences.append(text[start:].strip())
    return sentences


def _ends_with_abbreviation(text: str) -> bool:
    """True when text's last token is an abbreviation or an initial ("J")."""
    words = text.split()
    if not words:
        return False
    token = words[-1].lstrip("([\"'").lower()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < pos < end for start, end in spans)


def _score_sentences(sentences: list[str], topic_words: set[str], max_chars: int) -> list[float]:
    """Score each sentence as a statement of the paper's contribution."""
    first_contribution = next(
        (i for i, s in enumerate(sentences) if any(cue.search(s) for cue in _CONTRIBUTION_CUES)),
        len(sentences),
    )
    scores = []
    for i, sentence in enumerate(sentences):
        score = sum(weight for weight, cue in _CUES if cue.search(sentence))
        # Abstracts open with motivation; only what comes before the contribution counts.
        if i < first_contribution and _BACKGROUND.search(sentence):
            score -= 2.0
        if _BOILERPLATE.search(sentence):
            score -= 3.0
        if len(sentence) > max_chars:
            score -= 1.0  # it would have to be cut
        score += min(len(topic_words & content_words(sentence)), 3)
        scores.append(score)
    return scores


def content_words(text: str) -> set[str]:
    """Lower-cased words without stopwords, with a plural "s" dropped."""
    words = set()
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return words


def _truncate(sentence: str, max_chars: int) -> str:
    """Cut sentence at a word boundary so that it plus "…" fits in max_chars.

    Only a first word longer than max_chars is cut inside; there is no better place.
    """
    limit = max_chars - len(ELLIPSIS)
    cut = sentence[: limit + 1].rsplit(" ", 1)[0] if " " in sentence[:limit] else sentence[:limit]
    cut = cut[:limit]
    # An unclosed $ would leave the rest of the alert rendered as math.
    if cut.count("$") % 2 and " " in cut[: cut.rfind("$")]:
        cut = cut[: cut.rfind("$")].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + ELLIPSIS
