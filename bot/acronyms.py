"""Acronyms in topics: "RAG" read as the papers spell it, "retrieval-augmented generation".

Papers define their acronyms in parentheses, and the full-text index keeps each definition
(bot/storage/fulltext.py). A topic's acronyms are its words typed with two capitals or more
("RAG", "MoE", "VLMs"), and its words typed in lower case that the papers holding them write
in capitals ("rag for code"; "video clips" stays words): people type in lower case, and the
embedding model is uncased. An acronym reads as the long form most stored papers give it.

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
from typing import NamedTuple

from bot.relevance import GENERIC_SHARE
from bot.storage import Store
from bot.storage.fulltext import is_acronym, terms_of, words

# A long form one paper gives may be its own coinage, or a misreading of its text.
MIN_PAPERS = 2
# A word typed in lower case is an acronym where the stored papers that hold it write it as
# one, in capitals: in lower case ("video clips", "ad hoc") in at most this share of them.
# Over the last PAPERS_READ papers of each judged day, the acronyms the papers define came to
# 0.11 at most ("OOD", "SFT"; "NLP" 0.15 and "KD" 0.20 on 13 and 5 papers), and the words to
# 0.33 at least ("ad", "clip" 0.38, "map" 0.85, "all" 0.99).
WRITTEN_AS_WORD_SHARE = 0.2
PAPERS_READ = 200
TYPED_WORD = re.compile(r"[A-Za-z0-9]+")


class LongForm(NamedTuple):
    """The long form stored papers give an acronym, as words."""

    words: list[str]
    # Whether it reads as the acronym typed in lower case too (written_as_acronym).
    in_lower_case: bool


def typed_in(text: str) -> dict[str, bool]:
    """The words of a topic or query as index words, each with whether it is typed as an
    acronym, in two capitals or more: "VLMs" is "vlms", True."""
    typed: dict[str, bool] = {}
    for word in TYPED_WORD.findall(text):
        typed[word.lower()] = typed.get(word.lower(), False) or is_acronym(word)
    return typed


def defined(store: Store, text: str) -> dict[str, LongForm]:
    """The long form of each word of `text` (typed_in) that at least MIN_PAPERS stored
    papers define alike as an acronym, more than all its other long forms together, and
    that is in at most GENERIC_SHARE of the stored papers."""
    generic = GENERIC_SHARE * store.fulltext.paper_count()
    found = {}
    for acronym, forms in store.fulltext.acronym_forms(list(typed_in(text))).items():
        form, papers = forms[0]
        others = sum(count for _, count in forms[1:])
        if papers >= MIN_PAPERS and papers > others:
            if store.fulltext.papers_with(acronym) <= generic:
                found[acronym] = LongForm(form, written_as_acronym(store, acronym))
    return found


def written_as_acronym(store: Store, word: str) -> bool:
    """Whether the stored papers holding `word` (the last PAPERS_READ) write it as an
    acronym, in capitals: in lower case or with one capital in at most
    WRITTEN_AS_WORD_SHARE of them. "rag" is "RAG"; "clips" also "video clips"."""
    [term] = terms_of([word])
    written = re.compile(rf"\b{re.escape(term)}s?\b", re.IGNORECASE)
    uses = [written.findall(text) for text in store.fulltext.texts_with(word, PAPERS_READ)]
    uses = [found for found in uses if found]
    as_word = sum(1 for found in uses if not all(map(is_acronym, found)))
    return bool(uses) and as_word <= WRITTEN_AS_WORD_SHARE * len(uses)


def of_topic(forms: dict[str, LongForm], text: str) -> dict[str, list[str]]:
    """The long forms, among `forms` (defined() of one topic or many), of the acronyms
    `text` is typed with: those typed in capitals, and in lower case those that read so."""
    return {
        acronym: forms[acronym].words
        for acronym, in_capitals in typed_in(text).items()
        if acronym in forms and (in_capitals or forms[acronym].in_lower_case)
    }


def long_forms(store: Store, text: str) -> dict[str, list[str]]:
    """The long forms of the acronyms `text` is typed with (of_topic)."""
    return of_topic(defined(store, text), text)


def spelled_out(text: str, forms: dict[str, list[str]]) -> str:
    """`text` with each acronym of `forms` (of_topic() of `text`) after its long form, as a
    paper defines it: "RAG and agentic search" is "retrieval augmented generation (RAG) and
    agentic search". An acronym is spelled out once, and not where `text` spells it out
    already."""
    written = words(text)
    done = {a for a, form in forms.items() if holds_phrase(written, form)}

    def spell(match: re.Match) -> str:
        word = match.group(0)
        acronym = word.lower()
        if acronym not in forms or acronym in done:
            return word
        done.add(acronym)
        return f"{' '.join(forms[acronym])} ({word})"

    return TYPED_WORD.sub(spell, text)


def holds_phrase(written: list[str], phrase: list[str]) -> bool:
    """Whether the words `written` hold the words `phrase` side by side."""
    size = len(phrase)
    return any(written[i : i + size] == phrase for i in range(len(written) - size + 1))
