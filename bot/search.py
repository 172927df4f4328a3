"""Hybrid search: embedding cosine and full-text evidence; filters by date, category, author.

The default ranking ("hybrid") is bot/relevance.py's model with its SEARCH weights: the
whole text's cosine (raw and as a z-score against all stored papers) and the share of the
query's rare words each paper contains, in its text and in its title. A query whose words pick
out a few papers gives those papers a large lead, while a query whose words are
everywhere leaves the order to the embeddings. A search has no judgments to learn from,
so it takes its own best papers as if judged relevant (pseudo-relevance feedback): the
query's vector moves towards the mean of its first PSEUDO_RELEVANT papers, as a judged
subscription's profile does (bot/feedback.py), and the papers are scored again with the
moved vector. Last, the best of them that name the query's words side by side, as a phrase,
move up (phrase_evidence). Reciprocal rank fusion (RRF) of BM25 (bot/storage/fulltext.py)
and cosine, and each of the two alone, are kept for comparison (bench/eval_matching.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from string import ascii_lowercase

import numpy as np

from bot import acronyms, relevance
from bot.embed import Embedder
from bot.papers import Paper
from bot.storage import Store, fulltext

# Reciprocal rank fusion constant; 60 is the value from the original RRF paper and the one
# the shared evaluation used.
RRF_K = 60
CANDIDATES = 100
# A typical topic-to-paper cosine distribution of the bundled MiniLM model (measured on
# the shared evaluation corpus), worth PRIOR_WEIGHT papers when calibrating a score.
PRIOR_MEAN = 0.3
PRIOR_STD = 0.08
PRIOR_WEIGHT = 3
# Pseudo-relevance feedback: how many of the first ranking count as relevant, and the
# weight of their mean against the query's own vector. On dev_day's 30 topics (the hybrid
# row of bench/dev_day.py) it lifts nDCG@5 from 0.859 to 0.883, and on the narrow ones from
# 0.866 to 0.903, where BM25 alone has 0.890; 3 or 5 papers, or weight 0.5, did less well.
# In a small collection the first ten papers are much of it, not its best: at most one
# stored paper in a hundred counts (on the shared 54-paper set, feedback from ten papers
# took topic nDCG@5 from 0.811 to 0.788).
PSEUDO_RELEVANT = 10
PSEUDO_MAX_SHARE = 0.01
PSEUDO_WEIGHT = 1.0
# Phrase evidence, in search alone: of the first ranking's best PHRASE_CANDIDATES papers,
# each gains PHRASE_WEIGHT x (the share of the query's word pairs found side by side in its
# text, plus the share found in its title) in log-odds (phrase_evidence). On dev_day's 30
# topics it lifts nDCG@5 from 0.882 to 0.901 (0.896 and 0.897 at weights 0.7 and 0.3). As a
# further feature of the alert model it did not help (held out one topic at a time, precision /
# recall at the default threshold 0.66 / 0.64 without it, 0.65 / 0.61 with it): it orders the
# papers at the top, it does not tell relevant from not.
PHRASE_WEIGHT = 0.5
# Reading 30 papers' texts takes about 6 ms a search; with 20 to 100 of them, dev_day's
# nDCG@5 is the same.
PHRASE_CANDIDATES = 30
# "More like this" queries BM25 with the liked paper's title and the start of its abstract.
SIMILAR_QUERY_CHARS = 600
METHODS = ("hybrid", "rrf", "bm25", "cosine")
# With fewer papers stored, a word that none of them contains says nothing about its spelling.
WORD_CHECK_PAPERS = 200
# A misspelt word is read as the stored word one edit away (respellings()) when it is this
# long and at least this many papers hold that word: shorter words have many neighbours.
RESPELL_LENGTH = 5
RESPELL_PAPERS = 2
# A word typed with a capital, which may be a name, only as a word this share of them hold.
RESPELL_NAME_SHARE = 0.01
# How many of the papers with a word's stem are read to find the word itself written.
WRITTEN_TEXTS = 100
# Words that join a topic's words or introduce examples of them ("KV caches, especially their
# compression", "LLM reasoning (e.g. chain-of-thought)") but are no part of any subject.
STOPWORDS = frozenset(
    "a an and are as at be by for from in into is of on or the to with via using"
    " such including especially particularly etc e g i vs versus".split()
)
# The words people wrap a subject in when they ask for papers: "papers about X", "I am
# interested in X", "recent work on X", "show me X", "Topic: X", "X papers, please". They name
# no subject, yet "papers", "about" and "interested" are rare enough in abstracts to weigh as
# much as the subject's own words (on dev_day "about" is in 7% of the papers, "interested" in
# 2%): dev_day's topics typed as "I am interested in papers about X" alerted at recall 0.13
# instead of 0.65, as "Show me X" 0.24, "Topic: X" 0.24, "Latest X" 0.28 and "X (broadly)" 0.32.
ASKING = (
    "please pls plz i i'm im i'd we we're me am are would like want need can could you show"
    " send find give get tell notify alert"
    " keep posted updated informed looking for some any all the new recent latest good great"
    " interesting important notable cool arxiv mainly mostly primarily"
).split()
WHAT = (
    "papers? articles? preprints? publications? work research studies advances progress"
    " developments methods approaches techniques updates news stuff anything everything"
).split()
ON = r"about on in into for of regarding concerning related\s+to around".split()
# Words that lead a subject without being part of it: "Latest X", "Mainly X", "Broadly: X".
LEADS = (
    r"recent new newest latest any interesting all\s+things broadly mainly mostly primarily".split()
)
# Verbs that ask to be kept up to date: "Follow X", "Track X", "Subscribe to X".
FOLLOW = r"follow track watch monitor subscribe(?:\s+me)?\s+to find get fetch".split()
# A greeting before a request: "Hi! Please send me papers on X".
GREETING = r"(?:hi|hello|hey|dear\s+\w+)\b(?:\s+there)?[\s,!.]+"
# Who is asking and what they work on: "I'm working on X", "My group studies X", "My
# research is on X".
WHO = r"(?:i|we|i'm|we're|i\s+am|we\s+are|(?:my|our)(?:\s+\w+){1,2}?)"
WORKING = r"(?:work(?:s|ing)?|research(?:es|ing)?|stud(?:y|ies|ying)|focus(?:es|ing)?)"


def one_of(patterns: list[str]) -> str:
    return "(?:" + "|".join(patterns) + ")"


ASKING_WORDS = rf"(?:{one_of(ASKING)}\s+)"
# How a request for papers starts, each form then a space, a colon or a dash.
REQUEST_FORMS = [
    # "papers in the area of" (first, or "papers in" alone would do)
    rf"{ASKING_WORDS}*{one_of(WHAT)}\s+{one_of(ON)}\s+(?:the\s+)?(?:area|field|domain)\s+of",
    rf"{ASKING_WORDS}*{one_of(WHAT)}\s+{one_of(ON)}",  # "recent papers on", "work in"
    rf"{ASKING_WORDS}*(?:interested\s+in|about|regarding)",  # "I am interested in"
    rf"{ASKING_WORDS}+(?:on|for|me)",  # "keep me posted on", "looking for", "show me"
    rf"{ASKING_WORDS}*{one_of(LEADS)}",  # "latest", "broadly:"
    r"(?:the\s+)?(?:sota|state[\s-]+of[\s-]+the[\s-]+art)(?:\s+(?:in|on|for))?",  # "SOTA"
    rf"{WHO}\s+(?:(?:currently|mainly|mostly|also)\s+)?{WORKING}(?:\s+{WORKING})?"
    r"(?:\s+(?:on|in|into|with))?",  # "I'm working on", "my research focuses on"
    rf"{WHO}\s+(?:is|are)(?:\s+(?:on|in|about|into))?",  # "my research is on"
    rf"{ASKING_WORDS}*(?:to\s+)?{one_of(FOLLOW)}",  # "follow", "I want to track"
    r"what(?:'s|\u2019s|\s+is)\s+(?:new|happening|going\s+on)\s+(?:in|on|with)",  # "what's new in"
    rf"(?:topics?|interests?|{one_of(WHAT)})\s*:",  # "Topic:", "Papers:"
    rf"{ASKING_WORDS}*(?:hot\s+topics|trends|trending)\s+{one_of(ON)}",  # "hot topics in"
]
REQUEST_START = re.compile(
    rf"^(?:{GREETING})?(?:{one_of(REQUEST_FORMS)}(?:\s*[:\u2013\u2014-])?\s+)*", re.IGNORECASE
)
# One word of such a request ("related\s+to" never matches one word, hence "related").
REQUEST_WORD = re.compile(one_of([*ASKING, *WHAT, *ON, "related", "interested"]))
# "X papers", "X related papers", "X (broadly)", "X and related topics", "X and similar",
# "X and its applications", "X, please", "X?". Left in, "similar" or "applications" would be
# a part of the topic of its own, matched by any paper with the word: dev_day's topics typed
# as "X and its applications" alerted at precision 0.59 instead of 0.69.
REQUEST_END = re.compile(
    r"(?:\s+(?:related\s+)?(?:papers?|articles?|preprints?|publications?))?"
    r"(?:\s+(?:on|from|in)\s+arxiv)?"
    r"(?:[\s,]*\(?(?:broadly|generally|in\s+general|etc|and\s+(?:the\s+like|beyond|more)"
    r"|and\s+(?:related|similar)(?:\s+(?:topics|areas|fields|work|things))?"
    r"|and\s+(?:its|their)\s+(?:applications|uses))\)?)?"
    r"(?:[\s,]+(?:please|pls|plz))?(?:[\s,]+(?:thanks|thank\s+you|thx|cheers))?[\s.!?]*$",
    re.IGNORECASE,
)
# Quotes in a topic, and a list's bullet, a hashtag or an emoji around it ("- X", "#X",
# "“X” Y"): the embedding reads them as part of the text, and search gives quotes no
# meaning. dev_day's topics typed in quotes alerted at precision 0.673 instead of 0.688, after
# "#" at recall 0.664 instead of 0.687, after an emoji at 0.682.
QUOTES = re.compile('["\u201c\u201d]')
# Single quotes in pairs around words ("'world models' and 'robot learning'"); an apostrophe
# ("Bayes' rule", "Alzheimer's") is no quote.
SINGLE_QUOTED = re.compile(r"(?<!\w)['\u2018](\w.*?)['\u2019](?!\w)")
MARKS = r"[\s\-*\u2022#>'`\u2018\u2019\u2190-\u2bff\U0001f000-\U0001faff\ufe0f\u200d]"
MARKS_AROUND = re.compile(rf"^{MARKS}+|{MARKS}+$")
# "X, not Y", "X but not Y", "X except Y", "X excluding Y", "X (not Y)", "X -Y": what follows
# names what the subscriber does not want, so it is no part of the subject. Matched on as
# topic words, such words drew the papers they name: dev_day's topics typed as "X (not
# surveys)" alerted at recall 0.31, as "X -surveys" at 0.33.
NOT_WANTED = re.compile(
    r"(?:\s*,\s*(?:but\s+)?not|\s+but\s+not|\s*,?\s+(?:except(?:\s+for)?|excluding))\s+.*$"
    r"|\s*\(\s*(?:but\s+)?not\s[^)]*\)\s*$|(?:\s+-[^\W\d_][\w-]*)+\s*$",
    re.IGNORECASE,
)
# "X research", "X work": a request when X has two words or more, not "operations research".
WORK_END = re.compile(r"\s+(?:research|work|studies|stuff)$", re.IGNORECASE)
# Where a topic's parts meet (query_facets): "and", "or", a comma or a semicolon, and "&",
# "/" or "+" written for them ("speech / audio", "vision&language", but not "Q&A", "w/o" or
# "C++"), but not one inside brackets, that is, followed by a closing bracket before any
# opening one. dev_day's topics typed with "&", "/" or "+" for "and" alerted at recall 0.47
# instead of 0.69 when those were read as part of one phrase. An "and" inside a compound
# joins nothing: "vision-and-language navigation" was read as "vision" or "language navigation".
PART_SEPARATOR = re.compile(
    r"(?:[,;]|(?<![-\u2010\u2011])\b(?:and|or)\b(?![-\u2010\u2011])|\s[&/+]\s"
    r"|(?<=\w\w)[&/](?=\w\w))(?![^(\[{]*[)\]}])"
)


@dataclass
class SearchHit:
    paper: Paper
    score: float
    bm25_rank: int | None
    vector_rank: int | None


@dataclass
class Corpus:
    """Every stored paper's embedding: what queries and subscriptions are calibrated against.

    `rowids` are the papers' SQLite rowids in ascending order (the order of `ids`), so BM25
    results, which come back by rowid, map onto corpus rows without a join.
    """

    ids: list[str]
    matrix: np.ndarray
    rowids: np.ndarray
    # The embedding model's name, under which the papers' sentence embeddings are stored.
    model: str

    @cached_property
    def index(self) -> dict[str, int]:
        return {paper_id: i for i, paper_id in enumerate(self.ids)}

    @cached_property
    def centre(self) -> np.ndarray:
        """The mean of the papers' embeddings (zeros for no papers), in float64: matching
        centres their covariance with it (match.DenseScorer)."""
        return self.matrix.sum(axis=0, dtype=np.float64) / max(len(self.matrix), 1)

    def rows_of(self, rowids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Corpus rows of these rowids, and a mask of the rowids that are in the corpus."""
        rows = np.searchsorted(self.rowids, rowids)
        rows = np.minimum(rows, max(len(self.rowids) - 1, 0))
        found = self.rowids[rows] == rowids if len(self.rowids) else np.zeros(len(rowids), bool)
        return rows, found


def load_corpus(store: Store, model: str) -> Corpus:
    """Every paper embedded by `model`, read from the store."""
    rowids, ids, matrix = store.papers.embedding_rows(model)
    return Corpus(ids=ids, matrix=matrix, rowids=rowids, model=model)


def subject(text: str) -> str:
    """What a topic or query is about, without the request around it: "papers about
    diffusion models", "I am interested in diffusion models" and "diffusion models, not for
    images" are "diffusion models", and so is "diffusion models research", while "operations
    research" is a subject of its own."""
    wanted = NOT_WANTED.sub("", asked_for(text))
    stripped = REQUEST_END.sub("", wanted).strip()
    shorter = WORK_END.sub("", stripped)
    if len(fulltext.words(shorter)) >= 2:
        stripped = shorter
    return stripped or text


def asked_for(text: str) -> str:
    """`text` without the quotes, marks and request words before its subject."""
    unquoted = QUOTES.sub("", SINGLE_QUOTED.sub(r"\1", text))
    return REQUEST_START.sub("", MARKS_AROUND.sub("", unquoted))


def not_wanted(text: str) -> str:
    """What a topic says it does not want ("not surveys" in "X, not surveys", "-benchmarks"
    in "X -benchmarks"), which subject() leaves out; "" if nothing."""
    found = NOT_WANTED.search(asked_for(text))
    return found.group().strip(" ,()") if found else ""


def names_a_subject(text: str) -> bool:
    """Whether `text` has a word beyond stopwords, single letters and the words of a request
    for papers: "the and of", "papers about" and "I'm interested in" name nothing to find."""
    return any(
        len(w) > 1 and w not in STOPWORDS and not REQUEST_WORD.fullmatch(w)
        for w in fulltext.words(text)
    )


def words_not_stored(store: Store, text: str) -> list[str]:
    """The words of a topic or query, as matching and search read them, that no stored paper
    contains, once WORD_CHECK_PAPERS papers are stored: a misspelt word ("feedbak") counts
    for nothing, and a topic of such words alerts on nothing, without a word said."""
    if store.fulltext.paper_count() < WORD_CHECK_PAPERS:
        return []
    words = [w for w in query_terms(subject(text)) if not REQUEST_WORD.fullmatch(w)]
    return [w for w in words if not store.fulltext.in_any_text(w)]


def respellings(store: Store, text: str) -> dict[str, str]:
    """For each word of `text` that no stored paper contains (words_not_stored), the word
    one edit away (a letter dropped, added or changed, or two letters swapped) that the most
    stored papers contain, if RESPELL_PAPERS do: "agetns" is "agents". Words shorter than
    RESPELL_LENGTH or with digits have too many neighbours, or none, to guess from. One typed
    with a capital may be a name too new for the papers ("Gemma" is not "gamma", in 0.35% of
    dev_day's papers): it is read as a word in RESPELL_NAME_SHARE of the papers or more only
    ("Difusion", 6%)."""
    named = {w.lower() for w in fulltext.WORD.findall(text) if not w.islower()}
    name_papers = max(RESPELL_PAPERS, RESPELL_NAME_SHARE * store.fulltext.paper_count())
    corrections = {}
    for word in words_not_stored(store, text):
        if len(word) < RESPELL_LENGTH or not word.isalpha():
            continue
        found = store.fulltext.text_frequencies(sorted(one_edit_away(word)))
        least = name_papers if word in named else RESPELL_PAPERS
        written = {c: written_form(store, c) for c in found if found[c] >= least}
        # Candidates of one stem are found in as many papers ("retrieval", "retrieve" and
        # "retriev" for "retrievl"): the one the papers write most often as it is wins.
        likely = sorted(
            (c for c, form in written.items() if form), key=lambda c: (-found[c], -written[c][1], c)
        )
        if likely:
            corrections[word] = written[likely[0]][0]
    return corrections


def written_form(store: Store, word: str) -> tuple[str, int] | None:
    """`word` as stored papers write it: itself, or else a word one edit away in the papers
    with its stem ("jailbreak" for "jailbreaks"); None when they write neither: "automous"
    is no word, though its stem "autom" is that of "automated". With it, how many of the
    last WRITTEN_TEXTS papers with its stem write `word` itself."""
    texts = [set(fulltext.words(text)) for text in store.fulltext.texts_with(word, WRITTEN_TEXTS)]
    seen = set().union(*texts)
    if word in seen:
        return word, sum(word in words for words in texts)
    form = min(seen & one_edit_away(word), default=None)
    return (form, 0) if form else None


def one_edit_away(word: str) -> set[str]:
    """The strings one letter dropped, added or changed, or two neighbours swapped, away
    from `word` (lower case)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return {
        *(a + b[1:] for a, b in splits if b),
        *(a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1),
        *(a + c + b[1:] for a, b in splits if b for c in ascii_lowercase),
        *(a + c + b for a, b in splits for c in ascii_lowercase),
    } - {word}


def respelled(text: str, corrections: dict[str, str]) -> str:
    """`text` with each misspelt word (respellings()) replaced by its correction, in the
    case it was typed in ("Difusion" is "Diffusion")."""
    for typed, meant in corrections.items():
        text = fulltext.whole_word(typed).sub(
            lambda m, meant=meant: in_case_of(m.group(), meant), text
        )
    return text


def in_case_of(typed: str, word: str) -> str:
    """`word` (lower case) in the case `typed` is in: lower, capitalised or all capitals."""
    if typed.isupper():
        return word.upper()
    return word.capitalize() if typed[0].isupper() else word


def no_paper_contains(words: list[str]) -> str:
    """The start of a sentence about words_not_stored(): "No stored paper contains the
    words 'a' and 'b'"."""
    return f"No stored paper contains the {'word' if len(words) == 1 else 'words'} {listed(words)}"


def read_as_note(corrections: dict[str, str]) -> str:
    """The sentence that says what misspelt words were read as (respellings())."""
    return f"{no_paper_contains(list(corrections))}: read as {listed(list(corrections.values()))}."


def spelling_note(store: Store, text: str) -> str:
    """What to tell someone who searched for `text` about its words that no stored paper
    contains: what they were read as, or to check their spelling ("" if none)."""
    corrected = respellings(store, text)
    unread = [word for word in words_not_stored(store, text) if word not in corrected]
    notes = [read_as_note(corrected)] if corrected else []
    if unread:
        notes.append(f"{no_paper_contains(unread)}: check the spelling.")
    return " ".join(notes)


def listed(words: list[str]) -> str:
    """The words quoted and joined as a sentence lists them: 'a', 'b' and 'c'."""
    quoted = [f"'{word}'" for word in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def query_terms(text: str) -> list[str]:
    """The distinct words of `text` that a query searches for: stopwords only if all are."""
    words = fulltext.words(text)
    return list(dict.fromkeys([w for w in words if w not in STOPWORDS] or words))


def query_facets(text: str, *, compounds: bool = False) -> list[list[str]]:
    """The parts of a topic that "and", "or", commas and semicolons join (PART_SEPARATOR),
    each as its query terms: "retrieval-augmented generation and agentic search" is about
    either part.

    What brackets hold belongs to the part before them: "medical image segmentation (CT,
    MRI)" is one part, not a second one about any MRI paper. The parts' words together are
    the topic's query terms; a topic of one part is one facet, and so is one whose parts
    would leave some of its terms out (or that has none).

    With `compounds`, as matching reads a topic, a part's hyphenated compounds
    (fulltext.hyphenated: "in-context") are words of it too, besides their own words.
    """

    def words_of(part: str) -> list[str]:
        return fulltext.words(part) + (fulltext.hyphenated(part) if compounds else [])

    terms = query_terms(text)
    if compounds:
        terms = list(dict.fromkeys(terms + fulltext.hyphenated(text)))
    parts = PART_SEPARATOR.split(text.lower())
    facets = [[w for w in dict.fromkeys(words_of(part)) if w in terms] for part in parts]
    facets = [facet for facet in facets if facet]
    if not facets or {w for facet in facets for w in facet} != set(terms):
        return [terms]
    return facets


def index_terms(words: Iterable[str]) -> dict[str, str]:
    """The index term of each of `words` but the stopwords, each distinct word stemmed once."""
    vocabulary = list(dict.fromkeys(w for w in words if w not in STOPWORDS))
    return dict(zip(vocabulary, fulltext.terms_of(vocabulary), strict=True))


def word_pairs(words: list[str], terms: dict[str, str]) -> set[tuple[str, str]]:
    """The pairs of neighbouring words as index terms (`terms`, index_terms()), stopwords
    skipped: "text-to-SQL" and "text to SQL" both give ("text", "sql")."""
    return set(pairwise(terms[w] for w in words if w in terms))


def query_phrases(text: str) -> set[tuple[str, str]]:
    """The word pairs (word_pairs) of each part of a topic (query_facets): "speculative
    decoding" is one phrase, "text-to-SQL and code agents" two, none across the "and"."""
    facets = query_facets(text)
    terms = index_terms(w for facet in facets for w in facet)
    return {pair for facet in facets for pair in word_pairs(facet, terms)}


def phrase_evidence(
    store: Store,
    phrases: set[tuple[str, str]],
    corpus: Corpus,
    log_odds: np.ndarray,
    keep: np.ndarray,
) -> np.ndarray:
    """`log_odds` with the best PHRASE_CANDIDATES rows of `keep` raised by PHRASE_WEIGHT x
    (the share of `phrases` found in the paper's text plus the share found in its title).

    Only papers already near the top can gain, by at most 2 x PHRASE_WEIGHT: the bonus
    reorders them, so their texts are the only ones read.
    """
    if not phrases:
        return log_odds
    rows = top_rows(log_odds, keep, PHRASE_CANDIDATES)
    papers = store.papers.get_many([corpus.ids[i] for i in rows])
    texts = {
        row: (fulltext.words(paper.title), fulltext.words(paper.abstract))
        for row in rows
        if (paper := papers.get(corpus.ids[row])) is not None
    }
    terms = index_terms(w for title, abstract in texts.values() for w in title + abstract)
    raised = log_odds.copy()
    for row, (title, abstract) in texts.items():
        in_title = phrases & word_pairs(title, terms)
        anywhere = in_title | (phrases & word_pairs(abstract, terms))
        raised[row] += PHRASE_WEIGHT * (len(anywhere) + len(in_title)) / len(phrases)
    return raised


def zscore(values: np.ndarray) -> np.ndarray:
    """Values as standard deviations above their mean, calibrated against the corpus
    (moments())."""
    mean, spread = moments(values)
    return (values - mean) / spread


def moments(values: np.ndarray) -> tuple[float, float]:
    """The mean and standard deviation of `values` (cosines over the corpus), shrunk
    towards a typical cosine distribution (PRIOR_MEAN, PRIOR_STD) as if PRIOR_WEIGHT more
    papers had it, so that a database of a handful of papers still gives sensible scores.
    """
    n = len(values)
    mean = (values.sum() + PRIOR_WEIGHT * PRIOR_MEAN) / (n + PRIOR_WEIGHT)
    variance = (((values - mean) ** 2).sum() + PRIOR_WEIGHT * PRIOR_STD**2) / (n + PRIOR_WEIGHT)
    return mean, np.sqrt(variance)


def check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown search method {method!r}; use one of {METHODS}")


def carries_weight(papers_with_word: int, papers: int) -> bool:
    """Whether BM25 weighs a word found in this many of `papers` (see weighted_terms)."""
    return 2 * papers_with_word < papers


def weighted_terms(store: Store, terms: list[str]) -> list[str]:
    """The words of a query that BM25 gives weight to: those in fewer than half the papers.

    BM25 (FTS5's, kept by bot/storage/fulltext.py) clamps the IDF of a word found in half
    the papers or more to 1e-6, so such a word adds at most (k1 + 1) * 1e-6 = 2.2e-6 to any
    paper's score. Yet BM25 scores every paper that contains it: "model" alone made it
    score 85,000 of 100,000 papers.
    Leaving such words out changes scores by no more than that, and only papers that
    contain nothing but them stop counting as BM25 matches. A query made only of such
    words keeps them all, so it still finds papers.
    """
    if len(terms) < 2:
        return terms
    papers = store.fulltext.paper_count()
    kept = [t for t in terms if carries_weight(store.fulltext.papers_with(t), papers)]
    return kept or terms


def bm25_scores(store: Store, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Rowids and BM25 scores of the stored papers matching the weighted words of `text`."""
    terms = weighted_terms(store, query_terms(text))
    if not terms:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return store.fulltext.scores(terms)


def lexical_scores(store: Store, text: str, corpus: Corpus, bm25=None) -> np.ndarray:
    """BM25 of `text` for each corpus paper, as a share of the best one (0 to 1).

    `bm25` is the result of `bm25_scores(store, text)` when the caller already has it.
    """
    scores = np.zeros(len(corpus.ids))
    if not corpus.ids:
        return scores
    rowids, values = bm25 if bm25 is not None else bm25_scores(store, text)
    rows, found = corpus.rows_of(rowids)
    scores[rows[found]] = values[found]
    best = scores.max()
    return scores / best if best > 0 else scores


def contenders(values: np.ndarray, mask: np.ndarray, limit: int) -> np.ndarray:
    """The rows in `mask` that can be among the `limit` best `values`, ties included."""
    rows = np.flatnonzero(mask)
    if limit <= 0:
        return rows[:0]
    if len(rows) > limit:
        candidates = values[rows]
        kth = np.partition(candidates, len(rows) - limit)[len(rows) - limit]
        rows = rows[candidates >= kth]
    return rows


def top_rows(values: np.ndarray, mask: np.ndarray, limit: int) -> np.ndarray:
    """The rows in `mask`, best `values` first and ties by row, at most `limit` of them.

    The order is that of a stable sort on -values; only the rows that can be among the
    first `limit` are sorted, so a query on a large corpus sorts a handful of rows.
    """
    rows = contenders(values, mask, limit)
    return rows[np.lexsort((rows, -values[rows]))][:limit]


def ranks_among(values: np.ndarray, mask: np.ndarray, rows: list[int]) -> list[int]:
    """The 1-based places of `rows` among the rows in `mask`, best `values` first, ties by row.

    The rows in `mask` and their values are picked out once, so ranking five hits in a
    corpus of 100,000 papers makes two passes over the matching rows per hit, not six over
    the whole corpus.
    """
    members = np.flatnonzero(mask)
    member_values = values[members]
    places = []
    for row in rows:
        value = values[row]
        # Members before `row` come first in ascending row order: ties among them rank ahead.
        earlier = member_values[: np.searchsorted(members, row)]
        ahead = np.count_nonzero(member_values > value) + np.count_nonzero(earlier == value)
        places.append(int(ahead) + 1)
    return places


class Search:
    """Ranks stored papers for a query the way `/papers search` and the CLI do.

    The embedding matrix of every stored paper is read once and kept; before each query
    a cheap count tells whether papers were embedded since, and only then is it re-read.
    A query's BM25 lookup runs on a worker thread while the query is being embedded: both
    release the GIL, so on two cores a search takes about the longer of the two, not the sum.
    """

    def __init__(self, store: Store, embedder: Embedder):
        self.store = store
        self.embedder = embedder
        # (change marker, embedding state, Corpus); replaced whole, so threads sharing it
        # see either one.
        self._cached: tuple[tuple, tuple[int, int], Corpus] | None = None
        # Two workers, so that two users searching at once do not queue behind each other.
        self._bm25_workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="search-bm25")

    def corpus(self) -> Corpus:
        """Every stored paper's embedding, re-read only when the stored ones changed.

        An unchanged database needs no count at all; after any write the count of embedded
        papers decides whether the matrix is re-read.
        """
        marker = self.store.papers.change_marker()
        cached = self._cached
        if cached is not None and cached[0] == marker:
            return cached[2]
        state = self.store.papers.embedding_state(self.embedder.name)
        if cached is None or cached[1] != state:
            cached = (marker, state, load_corpus(self.store, self.embedder.name))
        else:
            cached = (marker, *cached[1:])
        self._cached = cached
        return cached[2]

    def search(
        self,
        query: str,
        limit: int = 5,
        *,
        since: str | None = None,
        categories: list[str] | None = None,
        authors: list[str] | None = None,
        method: str = "hybrid",
    ) -> list[SearchHit]:
        """The best stored papers for `query`, best first.

        `since` (an ISO date) keeps papers published on or after it, `categories` those in
        any of them, `authors` those with an author whose name contains one of them.
        `method` is "hybrid" (the relevance model), "rrf", "bm25" or "cosine".
        """
        query = respelled(subject(query), respellings(self.store, query))
        if not query.strip():
            return []
        check_method(method)
        bm25: Future = self._bm25_workers.submit(bm25_scores, self.store, query)
        defined = acronyms.defined(self.store, query)
        vector = self.embedder.encode_one(acronyms.spelled_out(query, defined))
        corpus = self.corpus()
        if not corpus.ids:
            return []
        # The filters are worked out while the BM25 lookup may still run.
        allowed = self._allowed(since, categories, authors)
        word_forms = acronyms.forms_in(defined, acronyms.shortened(self.store, query), query)
        query_parts = (query_facets(query), query_phrases(query), word_forms)
        return self._rank(
            query, query_parts, vector, limit, allowed, method, None, corpus, bm25.result()
        )

    def similar(self, paper_id: str, limit: int = 5, method: str = "hybrid") -> list[SearchHit]:
        """Stored papers most like the stored paper `paper_id` ("more like this")."""
        check_method(method)
        paper = self.store.papers.get(paper_id)
        corpus = self.corpus()
        if paper is None or paper_id not in corpus.index:
            return []
        text = f"{paper.title}. {paper.abstract}"[:SIMILAR_QUERY_CHARS]
        vector = corpus.matrix[corpus.index[paper_id]]
        # A paragraph is one facet: splitting it at every "and" finds no parts of a topic;
        # and every paper shares some of its many word pairs, so none are phrases to find.
        query_parts = ([query_terms(text)], set(), {})
        return self._rank(text, query_parts, vector, limit, None, method, paper_id, corpus)

    def _allowed(self, since, categories, authors) -> set[str] | None:
        if not (since or categories or authors):
            return None
        return self.store.papers.filtered_ids(since=since, categories=categories, authors=authors)

    def _rank(
        self,
        text: str,
        query_parts: tuple[list[list[str]], set[tuple[str, str]], dict[str, list[str]]],
        vector: np.ndarray,
        limit: int,
        allowed: set[str] | None,
        method: str,
        exclude: str | None,
        corpus: Corpus,
        bm25: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> list[SearchHit]:
        """The best `limit` corpus papers for `text`, whose embedding is `vector` and whose
        facets, phrases and other forms of words are `query_parts` (query_facets,
        query_phrases, acronyms.word_forms)."""
        cosine = corpus.matrix @ vector
        lexical = lexical_scores(self.store, text, corpus, bm25)
        keep = self._keep_mask(corpus, allowed, exclude)
        vector_mask, bm25_mask = keep, keep & (lexical > 0)
        scores, scored = self._scores(
            method, query_parts, corpus, vector, cosine, lexical, vector_mask, bm25_mask
        )
        # Best first, ties broken by paper id.
        ranked = sorted(
            (int(i) for i in contenders(scores, scored, limit)),
            key=lambda i: (-scores[i], corpus.ids[i]),
        )[:limit]
        papers = self.store.papers.get_many([corpus.ids[i] for i in ranked])
        bm25_ranks = ranks_among(lexical, bm25_mask, ranked)
        vector_ranks = ranks_among(cosine, vector_mask, ranked)
        return [
            SearchHit(
                paper=papers[corpus.ids[i]],
                score=round(float(scores[i]), 6),
                bm25_rank=bm25_rank if bm25_mask[i] else None,
                vector_rank=vector_rank,
            )
            for i, bm25_rank, vector_rank in zip(ranked, bm25_ranks, vector_ranks, strict=True)
        ]

    @staticmethod
    def _keep_mask(corpus: Corpus, allowed: set[str] | None, exclude: str | None) -> np.ndarray:
        """Corpus rows the filters let through, less the excluded paper."""
        if allowed is None:
            keep = np.ones(len(corpus.ids), dtype=bool)
        else:
            keep = np.zeros(len(corpus.ids), dtype=bool)
            index = corpus.index
            keep[[index[p] for p in allowed if p in index]] = True
        if exclude in corpus.index:
            keep[corpus.index[exclude]] = False
        return keep

    def _scores(self, method, query_parts, corpus, vector, cosine, lexical, vector_mask, bm25_mask):
        """Score of every corpus row under `method`, and the mask of rows that match at all."""
        if method == "cosine":
            return cosine, vector_mask
        if method == "bm25":
            return lexical, bm25_mask
        if method == "rrf":
            rankings = [
                top_rows(lexical, bm25_mask, CANDIDATES),
                top_rows(cosine, vector_mask, CANDIDATES),
            ]
            fused = np.zeros(len(cosine))
            for ranking in rankings:
                fused[ranking] += 1.0 / (RRF_K + np.arange(1, len(ranking) + 1))
            return fused, fused > 0
        scores = relevance_scores(self.store, *query_parts, corpus, vector, vector_mask)
        return scores, vector_mask


def relevance_features(
    store: Store,
    facets: list[list[str]],
    corpus: Corpus,
    cosine: np.ndarray,
    word_forms: dict[str, list[str]],
    topic: np.ndarray,
    judged: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    discount_companions: bool = False,
) -> tuple[np.ndarray, ...]:
    """bot/relevance.py's features after the cosine (z, coverage, title, facet, breadth,
    rarity) of every corpus paper for a query of these `facets` (query_facets), whose words
    papers may write as `word_forms` gives (acronyms.word_forms) and whose embedding is
    `topic`, given each paper's cosine to it (or to what feedback made of it); for a
    subscription, `judged` holds the rowids of the papers judged relevant and not relevant
    for it, and its words are weighed with `discount_companions` (relevance.Coverage)."""
    rows = np.arange(len(corpus.ids))
    words = relevance.Coverage(
        store,
        [facets],
        corpus,
        rows,
        [word_forms],
        topics=topic[None],
        judged={0: judged} if judged else None,
        discount_companions=discount_companions,
    )
    return zscore(cosine), *(feature[0] for feature in words.features())


def relevance_scores(
    store: Store,
    facets: list[list[str]],
    phrases: set[tuple[str, str]],
    word_forms: dict[str, list[str]],
    corpus: Corpus,
    vector: np.ndarray,
    keep: np.ndarray,
) -> np.ndarray:
    """bot/relevance.py's probability that each corpus paper is one the query is after,
    after one round of pseudo-relevance feedback from the best papers in `keep` (none when
    `keep` holds fewer than 100), with the best raised by their `phrases` (phrase_evidence).

    The word features do not depend on the vector, so only the cosine and its z-score are
    worked out again for the moved vector.
    """
    cosine = corpus.matrix @ vector
    z, *words = relevance_features(store, facets, corpus, cosine, word_forms, vector)
    log_odds = relevance.log_odds(cosine, z, *words, nearby=0.0, weights=relevance.SEARCH)
    count = min(PSEUDO_RELEVANT, int(PSEUDO_MAX_SHARE * np.count_nonzero(keep)))
    best = top_rows(log_odds, keep, count)
    if len(best):
        moved = vector + PSEUDO_WEIGHT * corpus.matrix[best].mean(axis=0)
        cosine = corpus.matrix @ (moved / np.linalg.norm(moved))
        log_odds = relevance.log_odds(
            cosine, zscore(cosine), *words, nearby=0.0, weights=relevance.SEARCH
        )
    return relevance.logistic(phrase_evidence(store, phrases, corpus, log_odds, keep))
