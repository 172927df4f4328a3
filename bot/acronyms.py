"""Acronyms in topics: "RAG" read as the papers spell it, "retrieval-augmented generation".

Papers define their acronyms in parentheses, and the full-text index keeps each definition
(bot/storage/fulltext.py). A topic's acronyms are its words typed with two capitals or more
("RAG", "MoE", "VLMs"), and its words typed in lower case that the papers holding them write
in capitals ("rag for code"; the "clips" of "video clips" stays a word): people type in lower
case, and the embedding model is uncased. An acronym reads as the long form most stored papers
give it.

The long form serves twice: the topic is embedded spelled out, "retrieval augmented
generation (RAG) and agentic search", as the embedding model reads a spelled-out subject
far better than three letters; and a paper that spells it out holds the acronym, for the
word features of bot/relevance.py (Coverage). An acronym in more than GENERIC_SHARE of the
stored papers ("LLM", "AI") is embedded as typed: the model knows it well, and on the second
judged day spelling out "LLMs" made "multi-agent systems with LLMs" alert 11 more papers,
one fewer of them relevant. Its long form still counts for the word features: on the three
judged days, 94 of the 262, 69 of the 172 and 103 of the 253 papers that write "LLM" or
"LLMs" never write all of "large", "language" and "models", and 87 of 255, 71 of 174 and 85
of 235 papers the other way round. Counting them, alerts went from precision / recall 0.688 /
0.679 to 0.691 / 0.688 on dev_day, 0.749 / 0.614 to 0.755 / 0.614 on the second judged day and
0.626 / 0.554 to 0.626 / 0.564 on the third (bench/fit_relevance.py).

A long form a topic spells out reads the other way (shortened, short_forms): a paper that
writes the acronym holds the long form's words, so "code generation with large language
models" covers a paper on code generation with "LLMs". The topic is embedded as typed. With
it and the model's weights fitted again, alerts went on to 0.694 / 0.677 on dev_day, 0.755 /
0.614 and 0.647 / 0.567 (bot/relevance.py says more), and search's nDCG@5 from 0.913 to
0.909, 0.879 to 0.882 and 0.771 to 0.786.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from bot.relevance import GENERIC_SHARE
from bot.storage import Store
from bot.storage.fulltext import JOINING, hyphenated, is_acronym, terms_of, words

# A long form one paper gives may be its own coinage, or a misreading of its text.
MIN_PAPERS = 2
# A word typed in lower case is an acronym where it is spelled as the papers write the acronym
# ("vlms" for "VLMs", not "clipping" for "CLIP") and they write it in capitals: at least
# MIN_USES of the last PAPERS_READ papers holding it, and at most this share of them a word of
# its term otherwise ("video clips", "gradient clipping"), web addresses aside. Of the
# acronyms the papers of the two judged days define, written by MIN_USES papers or more, all
# but six were never written otherwise: "CNN", "LoRA" ("Lora") and "SFT" in 6% to 11% of
# them, three written by 3 or 4 papers in one; the words "clip", "ad" ("adding"), "map"
# and "all" in 44% and more. A word misread as an acronym changes what a topic means; one
# left as typed is matched as before.
WRITTEN_AS_WORD_SHARE = 0.1
MIN_USES = 3
PAPERS_READ = 200
TYPED_WORD = re.compile(r"[A-Za-z0-9]+")
# The most words a long form spans: "reinforcement learning from human feedback" spans five.
LONGEST_FORM = 8
# A web address is no prose: "github.com/lab/rag-eval" says nothing of how "rag" is written.
# Each is read from where its run of characters starts, and a name's parts never given back:
# tried from every word of a hostile "a-a-a-..." in a stored abstract, it took 9 s for 20 KB.
WEB_ADDRESS = re.compile(r"(?<!\S)\S+://\S+|\bwww\.\S+|(?<![\w.-])[\w-]++(?:\.[\w-]++)+/\S*")


class LongForm(NamedTuple):
    """The long form stored papers give an acronym, as words."""

    words: list[str]
    # Whether it reads as the acronym typed in lower case too (written_as_acronym).
    in_lower_case: bool
    # Whether the acronym is in more than GENERIC_SHARE of the stored papers: the topic is
    # embedded with it as typed (spelled_out).
    common: bool = False


def typed_in(text: str) -> dict[str, bool]:
    """The words of a topic or query as index words, each with whether it is typed as an
    acronym, in two capitals or more: "VLMs" is "vlms", True."""
    typed: dict[str, bool] = {}
    for word in TYPED_WORD.findall(text):
        typed[word.lower()] = typed.get(word.lower(), False) or is_acronym(word)
    return typed


def defined(store: Store, text: str) -> dict[str, LongForm]:
    """The long form of each word of `text` (typed_in) that at least MIN_PAPERS stored
    papers define alike as an acronym, more than all its other long forms together;
    whether it reads so in lower case is looked up for the words `text` types so, and
    whether it is common counted."""
    generic = GENERIC_SHARE * store.fulltext.paper_count()
    in_lower_case = {w.lower() for w in TYPED_WORD.findall(text) if not is_acronym(w)}
    found = {}
    for acronym, forms in store.fulltext.acronym_forms(list(typed_in(text))).items():
        if (form := dominant_form(forms)) is not None:
            lower = acronym in in_lower_case and written_as_acronym(store, acronym)
            common = store.fulltext.papers_with(acronym) > generic
            found[acronym] = LongForm(form, lower, common)
    return found


def dominant_form(forms: list[tuple[list[str], int]]) -> list[str] | None:
    """The long form an acronym reads as, of those the papers give it (acronym_forms(), most
    given first): the first, where at least MIN_PAPERS papers give it, more than all the
    others together; None where none does."""
    [(form, papers), *others] = forms
    if papers >= MIN_PAPERS and papers > sum(count for _, count in others):
        return form
    return None


def written_as_acronym(store: Store, word: str) -> bool:
    """Whether `word`, typed in lower case, is an acronym as the stored papers write it
    (see WRITTEN_AS_WORD_SHARE): "rag" is "RAG"; "clips" is also "video clips"."""
    [term] = terms_of([word])
    if word not in (term, term + "s"):
        return False
    # The words of a term start as it does but for its last letter ("happy", "happi").
    starting = re.compile(rf"\b{re.escape(term[:-1])}[a-z0-9]*", re.IGNORECASE)
    texts = [WEB_ADDRESS.sub(" ", text) for text in store.fulltext.texts_with(word, PAPERS_READ)]
    found = [starting.findall(text) for text in texts]
    lowered = list({w.lower() for written in found for w in written})
    of_term = {w for w, t in zip(lowered, terms_of(lowered), strict=True) if t == term}
    uses = [[w for w in written if w.lower() in of_term] for written in found]
    uses = [written for written in uses if written]
    as_word = sum(1 for written in uses if not all(map(is_acronym, written)))
    return len(uses) >= MIN_USES and as_word <= WRITTEN_AS_WORD_SHARE * len(uses)


def of_topic(forms: dict[str, LongForm], text: str) -> dict[str, list[str]]:
    """The long forms, among `forms` (defined() of one topic or many), of the acronyms
    `text` is typed with: those typed in capitals, and in lower case those that read so."""
    return {
        acronym: forms[acronym].words
        for acronym, in_capitals in typed_in(text).items()
        if acronym in forms and (in_capitals or forms[acronym].in_lower_case)
    }


def word_forms(store: Store, text: str) -> dict[str, list[str]]:
    """How stored papers may write words of `text` otherwise, for the word features of
    bot/relevance.py (forms_in)."""
    return forms_in(defined(store, text), shortened(store, text), text)


def forms_in(
    defined_forms: dict[str, LongForm], shortened_forms: dict[str, str], text: str
) -> dict[str, list[str]]:
    """How stored papers may write words of `text` otherwise, given defined() and
    shortened() of it or of many topics: an acronym it is typed with as its long form
    (of_topic), a word of a long form it spells out as that form's acronym (short_forms), and
    a hyphenated compound within such a form as its acronym too (compound_forms; only
    matching reads a topic's compounds as words, search.query_facets)."""
    return {
        **short_forms(shortened_forms, text),
        **compound_forms(shortened_forms, text),
        **of_topic(defined_forms, text),
    }


def shortened(store: Store, text: str) -> dict[str, str]:
    """The acronym of each long form that a line of `text` spells out, by long form (its
    words joined by spaces): "large language models" is "llm". A long form counts where it
    is the one its acronym reads as (dominant_form), however common the acronym, and the
    papers write the acronym in capitals (written_as_acronym): the papers writing "map" are
    not all on "maximum a posteriori"."""
    found = store.fulltext.acronyms_of(sorted(set().union(*map(spans, text.splitlines()))))
    # The terms of the long form each acronym reads as.
    read_as = {}
    for acronym, forms in store.fulltext.acronym_forms(sorted({a for a, _ in found})).items():
        form = dominant_form(forms)
        if form is not None and written_as_acronym(store, acronym):
            read_as[acronym] = terms_of(form)
    return {
        form: acronym
        for acronym, form in found
        if acronym in read_as and terms_of(form.split()) == read_as[acronym]
    }


def short_forms(shortened_forms: dict[str, str], text: str) -> dict[str, list[str]]:
    """Each word of the long forms among `shortened_forms` (shortened() of it or of many
    topics) that `text` spells out, with the acronym the papers write for it: in "code
    generation with large language models", "large", "language" and "models" are each
    found in the papers that write "LLMs" too. A word takes the acronym of the longest
    form holding it; the small words a form may hold ("of", "from") are no topic words."""
    found: dict[str, list[str]] = {}
    for form in sorted(spans(text) & shortened_forms.keys(), key=lambda f: -len(f.split())):
        for word in form.split():
            if word not in JOINING:
                found.setdefault(word, [shortened_forms[form]])
    return found


def compound_forms(shortened_forms: dict[str, str], text: str) -> dict[str, list[str]]:
    """Each hyphenated compound of `text` (fulltext.hyphenated) within a long form among
    `shortened_forms` that `text` spells out, with that form's acronym (the longest form's):
    the papers writing "VLMs" write "vision-language" too, for "vision-language models"."""
    forms = sorted(spans(text) & shortened_forms.keys(), key=lambda f: -len(f.split()))
    found: dict[str, list[str]] = {}
    for compound in hyphenated(text):
        within = f" {compound.replace('-', ' ')} "
        for form in forms:
            if within in f" {form} ":
                found.setdefault(compound, [shortened_forms[form]])
    return found


def spans(text: str) -> set[str]:
    """The runs of two to LONGEST_FORM words of `text`, each as its words joined by spaces:
    what may be a long form."""
    written = words(text)
    return {
        " ".join(written[start:stop])
        for start in range(len(written))
        for stop in range(start + 2, min(len(written), start + LONGEST_FORM) + 1)
    }


def spelled_out(text: str, forms: dict[str, LongForm]) -> str:
    """`text` with each of its acronyms (of `forms`, defined() of it or of many topics)
    after its long form, as a paper defines it: "RAG and agentic search" is "retrieval
    augmented generation (RAG) and agentic search". An acronym is spelled out once, where it
    is typed as one ("MAP" in "map building and MAP inference"), and not where `text`
    spells it out already, nor where it is common ("LLMs")."""
    forms = {acronym: form for acronym, form in forms.items() if not form.common}
    written = words(text)
    typed = [acronym for acronym in typed_in(text) if acronym in forms]
    done = {acronym for acronym in typed if holds_phrase(written, forms[acronym].words)}

    def spell(match: re.Match) -> str:
        word = match.group(0)
        acronym = word.lower()
        form = forms.get(acronym)
        if form is None or acronym in done or not (is_acronym(word) or form.in_lower_case):
            return word
        done.add(acronym)
        return f"{' '.join(form.words)} ({word})"

    return TYPED_WORD.sub(spell, text)


def holds_phrase(written: list[str], phrase: list[str]) -> bool:
    """Whether the words `written` hold the words `phrase` side by side."""
    size = len(phrase)
    return any(written[i : i + size] == phrase for i in range(len(written) - size + 1))
