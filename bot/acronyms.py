"""Acronyms in topics: "RAG" read as the papers spell it, "retrieval-augmented generation".

A topic's acronyms are its words typed with two capitals or more ("RAG", "MoE", "VLMs"; a
lower-case "maps" is a word). Papers define theirs in parentheses, and the full-text index
keeps each definition (bot/storage/fulltext.py); an acronym's long form is the one most
stored papers give it, when at least MIN_PAPERS do.

The long form serves twice: the topic is embedded spelled out, "retrieval augmented
generation (RAG) and agentic search", as the embedding model reads a spelled-out subject
far better than three letters; and a paper that spells it out holds the acronym, for the
word features of bot/relevance.py (Coverage). An acronym in more than GENERIC_SHARE of the
stored papers ("LLM", "AI") is left as typed: the model knows it well, and on the second
judged day spelling out "LLMs" made "multi-agent systems with LLMs" alert 11 more papers,
one fewer of them relevant.
"""

from __future__ import annotations

import re

from bot.relevance import GENERIC_SHARE
from bot.storage import Store
from bot.storage.fulltext import is_acronym

# A long form one paper gives may be its own coinage, or a misreading of its text.
MIN_PAPERS = 2
TYPED_WORD = re.compile(r"[A-Za-z0-9]+")


def typed_in(text: str) -> list[str]:
    """The acronyms a topic or query is typed with, as index words: "VLMs" is "vlms"."""
    return list(dict.fromkeys(w.lower() for w in TYPED_WORD.findall(text) if is_acronym(w)))


def long_forms(store: Store, text: str) -> dict[str, list[str]]:
    """The long form, as words, of each acronym typed in `text` (typed_in) that at least
    MIN_PAPERS stored papers define alike, and that is in at most GENERIC_SHARE of them."""
    acronyms = typed_in(text)
    if not acronyms:
        return {}
    generic = GENERIC_SHARE * store.fulltext.paper_count()
    found = {}
    for acronym, forms in store.fulltext.acronym_forms(acronyms).items():
        form, papers = forms[0]
        if papers >= MIN_PAPERS and store.fulltext.papers_with(acronym) <= generic:
            found[acronym] = form
    return found


def spelled_out(text: str, forms: dict[str, list[str]]) -> str:
    """`text` with each acronym of `forms` after its long form, as a paper defines it:
    "RAG and agentic search" is "retrieval augmented generation (RAG) and agentic search"."""

    def spell(match: re.Match) -> str:
        word = match.group(0)
        form = forms.get(word.lower()) if is_acronym(word) else None
        return f"{' '.join(form)} ({word})" if form else word

    return TYPED_WORD.sub(spell, text)
