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
from bot.storage.fulltext import is_acronym, words

# A long form one paper gives may be its own coinage, or a misreading of its text.
MIN_PAPERS = 2
TYPED_WORD = re.compile(r"[A-Za-z0-9]+")


def typed_in(text: str) -> list[str]:
    """The acronyms a topic or query is typed with, as index words: "VLMs" is "vlms"."""
    return list(dict.fromkeys(w.lower() for w in TYPED_WORD.findall(text) if is_acronym(w)))


def long_forms(store: Store, text: str) -> dict[str, list[str]]:
    """The long form, as words, of each acronym typed in `text` (typed_in) that at least
    MIN_PAPERS stored papers define alike, more than all its other long forms together, and
    that is in at most GENERIC_SHARE of the stored papers."""
    acronyms = typed_in(text)
    if not acronyms:
        return {}
    generic = GENERIC_SHARE * store.fulltext.paper_count()
    found = {}
    for acronym, forms in store.fulltext.acronym_forms(acronyms).items():
        form, papers = forms[0]
        others = sum(count for _, count in forms[1:])
        if papers >= MIN_PAPERS and papers > others:
            if store.fulltext.papers_with(acronym) <= generic:
                found[acronym] = form
    return found


def of_topic(forms: dict[str, list[str]], text: str) -> dict[str, list[str]]:
    """Those of `forms` (long_forms() of many topics) whose acronyms `text` is typed with."""
    return {acronym: forms[acronym] for acronym in typed_in(text) if acronym in forms}


def spelled_out(text: str, forms: dict[str, list[str]]) -> str:
    """`text` with each acronym of `forms` after its long form, as a paper defines it:
    "RAG and agentic search" is "retrieval augmented generation (RAG) and agentic search".
    An acronym is spelled out once, and not where `text` spells it out already."""
    written = words(text)
    done = {a for a, form in forms.items() if holds_phrase(written, form)}

    def spell(match: re.Match) -> str:
        word = match.group(0)
        acronym = word.lower()
        if not is_acronym(word) or acronym not in forms or acronym in done:
            return word
        done.add(acronym)
        return f"{' '.join(forms[acronym])} ({word})"

    return TYPED_WORD.sub(spell, text)


def holds_phrase(written: list[str], phrase: list[str]) -> bool:
    """Whether the words `written` hold the words `phrase` side by side."""
    size = len(phrase)
    return any(written[i : i + size] == phrase for i in range(len(written) - size + 1))
