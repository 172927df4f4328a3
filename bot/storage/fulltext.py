"""The papers' full-text index and its BM25, the same on SQLite and PostgreSQL.

A text is split into words (runs of letters and digits, case-folded, without diacritics),
and each word is read as one term, Porter-stemmed (PyStemmer), so that "models" and
"model" match alike; a word of the -ize family keeps what the suffix adds (IZE_FAMILY:
"tokenization" is not "token", migrations/*/0013). A hyphenated compound is read once more
closed up, so that a topic's "pretraining" finds a paper's "pre-training" (migrations/*/0007
indexed every paper again for it). The abstract is read without its sentences that hold a
web address ("Code is available at https://...", bot.papers.without_links; migrations/*/0010).
The paper_terms table (migrations/*/0003) holds, for each paper and term, how often it occurs
in the title, the abstract and the authors; papers.terms_length is the paper's length in
words. BM25 is computed here from those rows, with the constants and IDF of SQLite's FTS5,
which this index replaced: one implementation, so a search scores the same on both backends.

The index also keeps the acronyms each paper defines, as papers define them: "retrieval-
augmented generation (RAG)" (definitions; the acronyms table, migrations/*/0009), so that a
topic typed as "RAG" can be read as the papers spell it (bot/acronyms.py).

A paper is indexed in the transaction that stores or changes its text (index_new_text),
and a database made before this index is indexed once when the store opens (catch_up).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter

import numpy as np
import Stemmer
from sqlalchemy import Connection, TextClause, text

from bot.papers import without_links
from bot.storage.database import Database, sql_with_lists

# FTS5's BM25: k1, b, and the IDF given to a term found in half the papers or more.
K1 = 1.2
B = 0.75
IDF_FLOOR = 1e-6
# The fields of a paper the index counts terms in, in the order of their paper_terms columns.
FIELDS = ("title", "abstract", "authors")
# Words this short are kept whole: stemming "is" or "as" leaves a letter ("i", "a").
UNSTEMMED_LENGTH = 2
# The words the Porter stemmer cuts back to the word they are made from, "tokenizers" and
# "tokenization" to "token", "generalization" to "general", "localization" to "local": a
# topic on tokenizers then alerted on papers about tokens, and one on domain generalization on
# any paper "general". They keep the "iz". British spellings are left to the stemmer, which
# keeps theirs ("tokenisation" and "tokenised" are "tokenis"; "-ise" alone is no suffix in
# "precise"). Over the six judged days, normal-strictness alerts went from precision / recall
# 0.609 / 0.566 to 0.631 / 0.564 and search nDCG@5 from 0.790 to 0.796.
IZE_FAMILY = re.compile(r"(\w{4,}?)iz(?:e|es|ed|ing|er|ers|ation|ations)")
# Rows per statement when (re)indexing many papers.
PAPERS_PER_BATCH = 500
# Terms per statement when looking up the words of many topics: well under SQLite's 32,766
# bound parameters.
TERMS_PER_QUERY = 500

WORD = re.compile(r"[^\W_]+")
# A longer run of letters is no word anyone looks for (an inlined image, a hostile feed's filler),
# and PostgreSQL refused to index a term of 11 KB, failing the whole batch of papers stored.
MAX_WORD_CHARS = 64
# Read from the start of a word, its letters never given back: tried from every letter of a
# hostile abstract's one long word, indexing it took minutes.
COMPOUND = re.compile(r"(?<![^\W_])[^\W_]++(?:[-\u2010\u2011][^\W_]++)+")
# An acronym in parentheses, the way a paper defines one: two capitals or more, at most 10
# characters ("RAG", "MoE", "LoRA", "VLMs", "3DGS").
DEFINED = re.compile(r"\(\s*([A-Z0-9][A-Za-z0-9]{1,9})\s*\)")
CAPITAL = re.compile(r"[A-Z]")
# Schwartz and Hearst's bound on a long form: min(letters + 5, 2 x letters) words.
EXTRA_WORDS = 5
# Enough text before a parenthesis for that many words: reading all of it for every
# parenthesis took a minute for a hostile 400 KB abstract.
LONG_FORM_CHARS = 300
PARENTHESIS = re.compile(r"[()]")
# A paper's definitions are read in its title and the start of its abstract: arXiv's
# abstracts end by 1,920 characters, and a hostile feed's 17 MB one need not be read whole.
DEFINITION_SOURCE_CHARS = 5000
HYPHEN = re.compile(r"[-\u2010\u2011]")
# Words a long form may hold that give its acronym no letter ("from" in RLHF).
JOINING = frozenset("a an and by for from in of on the to with".split())

SELECT_UNINDEXED = text(
    "select rowid, title, abstract, authors from papers where terms_length is null "
    "order by rowid limit :limit"
)
DELETE_TERMS = sql_with_lists("delete from paper_terms where paper in :papers", "papers")
DELETE_ACRONYMS = sql_with_lists("delete from acronyms where paper in :papers", "papers")
ACRONYM_COLUMNS = ("acronym", "paper", "long_form")
TERM_COLUMNS = ("term", "paper", *FIELDS, "length")
SELECT_ACRONYM_FORMS = sql_with_lists(
    "select acronym, long_form, count(*) from acronyms where acronym in :terms "
    "group by acronym, long_form",
    "terms",
)
SELECT_ACRONYMS_OF_FORMS = sql_with_lists(
    "select distinct acronym, long_form from acronyms where long_form in :forms", "forms"
)
SELECT_TEXTS_WITH = text(
    "select coalesce(papers.title, '') || ' ' || coalesce(papers.abstract, '') from paper_terms "
    "join papers on papers.rowid = paper_terms.paper where paper_terms.term = :term "
    "and (paper_terms.title > 0 or paper_terms.abstract > 0) "
    "order by paper_terms.paper desc limit :limit"
)
SELECT_TEXTS_OF = sql_with_lists(
    "select rowid, coalesce(title, ''), coalesce(abstract, '') from papers "
    "where rowid in :papers order by rowid",
    "papers",
)
SELECT_HITS = sql_with_lists(
    "select term, paper, title from paper_terms where term in :terms "
    "and (title > 0 or abstract > 0) order by term, paper",
    "terms",
)
SELECT_DOCUMENT_FREQUENCIES = sql_with_lists(
    "select term, count(*) from paper_terms where term in :terms group by term", "terms"
)
SET_LENGTH = text("update papers set terms_length = :length where rowid = :paper")
SELECT_TEXT_FREQUENCIES = sql_with_lists(
    "select term, count(*) from paper_terms where term in :terms "
    "and (title > 0 or abstract > 0) group by term",
    "terms",
)


def words(text: str) -> list[str]:
    """The words of `text` as the index reads them: lower case, diacritics removed, none
    longer than MAX_WORD_CHARS."""
    folded = text.casefold()
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    return [word for word in WORD.findall(folded) if len(word) <= MAX_WORD_CHARS]


def stem(words: list[str], stemmer: Stemmer.Stemmer) -> list[str]:
    """Each word's term: a word of the -ize family (IZE_FAMILY) its stem and "iz", any other
    word as the stemmer gives it. A stemmer is not safe to share between threads: the
    caller's own."""
    # "iz" is looked for first: few words hold it, and the test costs far less than the regex
    # (the terms of 146,000 words took 58 ms so, 76 ms with the regex on every word, 41 ms
    # before the -ize family).
    ized = {w: found[1] + "iz" for w in words if "iz" in w and (found := IZE_FAMILY.fullmatch(w))}
    stems = iter(
        stemmer.stemWords([w for w in words if w not in ized and len(w) > UNSTEMMED_LENGTH])
    )
    return [
        ized[w] if w in ized else w if len(w) <= UNSTEMMED_LENGTH else next(stems) for w in words
    ]


def compounds(text: str) -> list[str]:
    """The hyphenated compounds of `text` closed up, as words() reads them: "Pre-training"
    is "pretraining"."""
    return [compound.replace("-", "") for compound in hyphenated(text)]


def hyphenated(text: str) -> list[str]:
    """The hyphenated compounds of `text`, each as its words() joined by "-": "In-Context"
    is "in-context". A word() never holds a hyphen, so these are told apart from words."""
    joined = ["-".join(words(compound)) for compound in COMPOUND.findall(text)]
    return [word for word in joined if len(word) - word.count("-") <= MAX_WORD_CHARS]


def only_in_compounds(text: str) -> set[str]:
    """The words() that `text` writes only inside its hyphenated() compounds, none of the
    same term on its own: "long" and "context" of "KV cache for long-context inference", but
    not "long" of "long videos and long-context models", nor "agent" of "multi-agent systems
    and agents"."""
    alone = set(terms_of(words(COMPOUND.sub(" ", text))))
    inside = list(
        dict.fromkeys(w for compound in hyphenated(text) for w in compound_words(compound))
    )
    return {word for word, term in zip(inside, terms_of(inside), strict=True) if term not in alone}


def whole_word(word: str) -> re.Pattern:
    """A pattern finding `word` as it is typed, in any case, as whole words: not "lang" in
    "language", nor "ECG" in "ECGs"."""
    return re.compile(rf"(?<![^\W_]){re.escape(word)}(?![^\W_])", re.IGNORECASE)


def compound_words(word: str) -> list[str]:
    """The words() of a hyphenated() compound, or [] for a word that is none: "in-context"
    is "in" and "context"."""
    return word.split("-") if "-" in word else []


def writes(pattern: re.Pattern, text: str) -> bool:
    """Whether `text`, case-folded, holds `pattern` as whole words. The pattern starts with
    letters, not a word boundary, so that the regex engine looks for them first: with "\\b"
    first, finding "in context" in 16,000 abstracts took 0.8 s instead of 0.08 s."""
    folded = text.casefold()
    found = pattern.search(folded)
    while found:
        start, end = found.span()
        if not (start and is_word_character(folded[start - 1])) and not (
            end < len(folded) and is_word_character(folded[end])
        ):
            return True
        # From the next letter, not from `end`: in "someone to one to one", the match inside
        # "someone" overlaps the one after it.
        found = pattern.search(folded, start + 1)
    return False


def is_word_character(character: str) -> bool:
    """What a regex's \\w matches."""
    return character.isalnum() or character == "_"


def term_counts(
    fields: list[str | None], stemmer: Stemmer.Stemmer
) -> tuple[dict[str, list[int]], int]:
    """Each term of a paper with its count in each of its fields (title, abstract, authors),
    and the paper's length in words. A compound counts as its words and once more closed up;
    the length leaves the closed-up word out, so BM25 scores the other words as it did."""
    counts: dict[str, list[int]] = {}
    length = 0
    for position, value in enumerate(fields):
        found = words(value or "")
        length += len(found)
        for word, count in Counter(found + compounds(value or "")).items():
            counts.setdefault(word, [0] * len(fields))[position] += count
    terms: dict[str, list[int]] = {}
    for word, term in zip(counts, stem(list(counts), stemmer), strict=True):
        if term in terms:
            terms[term] = [a + b for a, b in zip(terms[term], counts[word], strict=True)]
        else:
            terms[term] = counts[word]
    return terms, length


def is_acronym(word: str) -> bool:
    """Whether a word as written is an acronym: two capitals or more ("RAG", "MoE", "VLMs")."""
    return len(CAPITAL.findall(word)) >= 2


def definitions(text: str) -> list[tuple[str, str]]:
    """The acronyms `text` defines, as (acronym, long form) pairs as written: "retrieval-
    augmented generation (RAG)" gives ("RAG", "retrieval-augmented generation").

    The long form is found among the words before the parenthesis, back to the one before:
    first as the words whose initials are the acronym's letters ("proximal policy
    optimization (PPO)", "reinforcement learning from human feedback (RLHF)"), else as the
    shortest end of them that holds its letters in order, the first starting a word
    ("low-rank adaptation (LoRA)", "sparse autoencoders (SAEs)"; Schwartz and Hearst, "A
    simple algorithm for identifying abbreviation definitions in biomedical text", 2003).
    The `abbreviations` package (0.2.5), their algorithm alone, reads PPO as "Policy
    Optimization", finds no SAEs, and took 3.4 s for 48 KB of text where this takes 0.03 s.
    """
    found = []
    for match in DEFINED.finditer(text):
        acronym = match.group(1)
        if not is_acronym(acronym):
            continue
        letters = [c.lower() for c in acronym.removesuffix("s")]
        before = PARENTHESIS.split(text[max(0, match.start() - LONG_FORM_CHARS) : match.start()])
        window = before[-1].split()[-min(len(letters) + EXTRA_WORDS, 2 * len(letters)) :]
        long_form = _by_initials(letters, window) or _spelled_by(letters, " ".join(window))
        if long_form and len(words(long_form)) > 1:
            found.append((acronym, long_form))
    return found


def _by_initials(letters: list[str], window: list[str]) -> str | None:
    """The last words of `window` whose initials are `letters`, a hyphenated word read as
    its parts, with or without the small words between ("of", "from"); None when none are."""
    parts = [(i, part) for i, word in enumerate(window) for part in HYPHEN.split(word) if part]
    for count in range(len(letters), min(len(parts), len(letters) + EXTRA_WORDS) + 1):
        taken = parts[-count:]
        first = taken[0][0]
        if taken[0][1] != HYPHEN.split(window[first])[0]:
            continue  # it would start within a hyphenated word
        for kept in (taken, [(i, p) for i, p in taken if p.lower() not in JOINING]):
            if [p[0].lower() for _, p in kept] == letters:
                return " ".join(window[first:])
    return None


def _spelled_by(letters: list[str], candidate: str) -> str | None:
    """The shortest end of `candidate` whose characters hold `letters` in order, the first
    of them at the start of a word; None when there is none."""
    text = candidate.lower()
    position = len(text) - 1
    for index in range(len(letters) - 1, -1, -1):
        while position >= 0 and (
            text[position] != letters[index]
            or (index == 0 and position > 0 and text[position - 1].isalnum())
        ):
            position -= 1
        if position < 0:
            return None
        position -= 1
    return candidate[position + 1 :]


def acronym_rows(
    paper: int, title: str | None, abstract: str | None, stemmer: Stemmer.Stemmer
) -> set[tuple]:
    """The acronyms table's rows for a paper: each acronym it defines, as its term, with the
    long form's words, once per paper."""
    found = definitions(f"{title or ''}\n{abstract or ''}"[:DEFINITION_SOURCE_CHARS])
    terms = stem([acronym.lower() for acronym, _ in found], stemmer)
    forms = [" ".join(words(form)) for _, form in found]
    return {(term, paper, form) for term, form in zip(terms, forms, strict=True)}


def new_stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("porter")


def terms_of(words: list[str]) -> list[str]:
    """The term each word is indexed as (words from `words()`: one term each)."""
    return stem(words, new_stemmer())


def bm25_idf(papers_with_term: np.ndarray, papers: int) -> np.ndarray:
    """FTS5's IDF: log((N - n + 0.5) / (n + 0.5)), and IDF_FLOOR where that is not positive
    (a term in half the papers or more)."""
    counts = np.asarray(papers_with_term, dtype=np.float64)
    idf = np.log((papers - counts + 0.5) / (counts + 0.5))
    return np.where(idf > 0, idf, IDF_FLOOR)


def index_new_text(database: Database, conn: Connection) -> int:
    """Index every paper whose text is not indexed (new, or changed since), in the caller's
    transaction `conn`, so a paper and its terms are written together; how many."""
    stemmer = new_stemmer()
    indexed = 0
    while rows := conn.execute(SELECT_UNINDEXED, {"limit": PAPERS_PER_BATCH}).all():
        postings, lengths, acronyms = [], [], set()
        for paper, title, abstract, authors in rows:
            counts, length = term_counts([title, without_links(abstract or ""), authors], stemmer)
            lengths.append({"paper": paper, "length": length})
            postings.extend((term, paper, *c, length) for term, c in counts.items())
            acronyms |= acronym_rows(paper, title, abstract, stemmer)
        papers = {"papers": [row[0] for row in rows]}
        conn.execute(DELETE_TERMS, papers)
        conn.execute(DELETE_ACRONYMS, papers)
        postings.sort()
        database.dialect.insert_rows(conn, "paper_terms", TERM_COLUMNS, postings)
        database.dialect.insert_rows(conn, "acronyms", ACRONYM_COLUMNS, sorted(acronyms))
        conn.execute(SET_LENGTH, lengths)
        indexed += len(rows)
    return indexed


def written_most(forms: Counter) -> str:
    """The way most papers write a long form; of ties, the first in alphabetical order."""
    return min(forms, key=lambda form: (-forms[form], form))


class FullText:
    def __init__(self, database: Database):
        self._db = database

    def catch_up(self) -> int:
        """Index the papers stored without terms (a database from before this index); how
        many. Writes nothing when there are none."""
        if self._db.scalar("select count(*) from papers where terms_length is null") == 0:
            return 0
        with self._db.writing() as conn:
            return index_new_text(self._db, conn)

    def totals(self) -> tuple[int, float]:
        """How many papers are indexed (the N of BM25's IDF), and their mean length."""
        [(papers, length)] = self._db.tuples(
            "select count(terms_length), coalesce(avg(terms_length), 0) from papers"
        )
        return papers, float(length)

    def terms_of(self, words: list[str]) -> list[str]:
        """The term each word is indexed as: words with the same term match the same papers."""
        return terms_of(words)

    def paper_count(self) -> int:
        return self.totals()[0]

    def papers_with(self, word: str) -> int:
        """How many papers contain `word` anywhere: its document frequency."""
        return self.document_frequencies([word])[word]

    def document_frequencies(self, words: list[str]) -> dict[str, int]:
        """papers_with() of each of `words`, asked for TERMS_PER_QUERY terms at a time."""
        terms = dict(zip(words, terms_of(words), strict=True))
        distinct = list(dict.fromkeys(terms.values()))
        counts = dict(self._tuples_in_chunks(SELECT_DOCUMENT_FREQUENCIES, "terms", distinct))
        return {word: counts.get(term, 0) for word, term in terms.items()}

    def in_any_text(self, word: str) -> bool:
        """Whether any paper's title or abstract contains `word` (term_hits() would list
        them: tens of thousands of rows for a common word in a large store)."""
        [term] = terms_of([word])
        return bool(
            self._db.scalar(
                "select count(*) from (select 1 from paper_terms where term = :term "
                "and (title > 0 or abstract > 0) limit 1) as found",
                term=term,
            )
        )

    def text_frequencies(self, words: list[str]) -> dict[str, int]:
        """For each of `words` that some paper's title or abstract contains, how many
        papers' do."""
        terms = dict(zip(words, terms_of(words), strict=True))
        distinct = list(dict.fromkeys(terms.values()))
        counts = dict(self._tuples_in_chunks(SELECT_TEXT_FREQUENCIES, "terms", distinct))
        return {word: counts[term] for word, term in terms.items() if term in counts}

    def term_hits(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        """Rowids of the papers whose title or abstract contains `word`, and which of them
        have it in the title."""
        return self.hits_of([word])[word]

    def hits_of(self, words: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """term_hits() of each of `words`, asked for TERMS_PER_QUERY terms at a time."""
        terms = dict(zip(words, terms_of(words), strict=True))
        rows = self._tuples_in_chunks(SELECT_HITS, "terms", list(dict.fromkeys(terms.values())))
        papers = np.array([row[1] for row in rows], dtype=np.int64)
        in_title = np.array([row[2] > 0 for row in rows], dtype=bool)
        found = {}
        start = 0
        for term, run in itertools.groupby(row[0] for row in rows):
            end = start + sum(1 for _ in run)
            found[term] = papers[start:end], in_title[start:end]
            start = end
        nowhere = papers[:0], in_title[:0]
        return {word: found.get(term, nowhere) for word, term in terms.items()}

    def written_apart(self, words: list[str], rowids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Among the papers `rowids`, those whose title or abstract writes `words` in a row
        apart, by spaces or hyphens ("in context", "in-context"), as term_hits() gives them:
        the index holds no word positions, so their texts are read."""
        apart = re.compile(r"[\s\-]+".join(map(re.escape, words)))
        rows = self._tuples_in_chunks(SELECT_TEXTS_OF, "papers", [int(rowid) for rowid in rowids])
        found = [
            (rowid, in_title)
            for rowid, title, abstract in rows
            if (in_title := writes(apart, title)) or writes(apart, abstract)
        ]
        return (
            np.array([rowid for rowid, _ in found], dtype=np.int64),
            np.array([title for _, title in found], dtype=bool),
        )

    def texts_with(self, word: str, limit: int) -> list[str]:
        """The title and abstract, as one text, of each of the last `limit` papers stored
        whose title or abstract contains `word`."""
        [term] = terms_of([word])
        rows = self._db.tuples(SELECT_TEXTS_WITH, term=term, limit=limit)
        return [text for (text,) in rows]

    def acronym_forms(self, acronyms: list[str]) -> dict[str, list[tuple[list[str], int]]]:
        """For each of `acronyms` (words) that papers define, the long forms they give it,
        each as words with how many papers give it, most first. Forms with the same terms
        ("vision language model" and "vision language models") are one, written as most
        papers write it; acronyms with the same term ("VLM", "VLMs") are one too."""
        terms = dict(zip(acronyms, terms_of(acronyms), strict=True))
        distinct = list(dict.fromkeys(terms.values()))
        rows = self._tuples_in_chunks(SELECT_ACRONYM_FORMS, "terms", distinct)
        forms: dict[str, dict[tuple, Counter]] = {}
        for term, long_form, papers in rows:
            written = long_form.split()
            key = tuple(terms_of(written))
            forms.setdefault(term, {}).setdefault(key, Counter())[long_form] += papers
        found = {}
        for acronym, term in terms.items():
            if term in forms:
                # Ties go the same way on both backends, whatever their text ordering.
                ranked = sorted(forms[term].values(), key=lambda c: (-c.total(), min(c)))
                found[acronym] = [(written_most(c).split(), c.total()) for c in ranked]
        return found

    def acronyms_of(self, long_forms: list[str]) -> list[tuple[str, str]]:
        """The acronyms (as terms) that papers give any of `long_forms` (words, lower case,
        joined by spaces, as the acronyms table keeps them), each with its long form:
        ("llm", "large language models")."""
        return sorted(self._tuples_in_chunks(SELECT_ACRONYMS_OF_FORMS, "forms", long_forms))

    def _tuples_in_chunks(self, query: TextClause, name: str, values: list) -> list[tuple]:
        """The rows of `query` for all of `values`, its list parameter `name` given
        TERMS_PER_QUERY of them at a time."""
        rows = []
        for start in range(0, len(values), TERMS_PER_QUERY):
            rows += self._db.bulk_rows(query, **{name: values[start : start + TERMS_PER_QUERY]})
        return rows

    def scores(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Rowids (ascending) and BM25 scores of every paper containing any of `words`.

        Title, abstract and authors count alike, and a paper's length is its length in
        terms, as FTS5's bm25() had it; words with the same term count once.
        """
        postings = [self._postings(term) for term in dict.fromkeys(terms_of(words))]
        postings = [rows for rows in postings if rows]
        if not postings:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        papers, mean_length = self.totals()
        idf = bm25_idf([len(rows) for rows in postings], papers)
        paper, contribution = [], []
        for term_idf, rows in zip(idf, postings, strict=True):
            columns = np.array(rows, dtype=np.float64).T
            frequency, length = columns[1], columns[2]
            norm = K1 * (1 - B + B * length / max(mean_length, 1e-9))
            paper.append(columns[0].astype(np.int64))
            contribution.append(term_idf * frequency * (K1 + 1) / (frequency + norm))
        rowids, at = np.unique(np.concatenate(paper), return_inverse=True)
        return rowids, np.bincount(at, weights=np.concatenate(contribution))

    def _postings(self, term: str) -> list[tuple]:
        """(paper, occurrences, paper length) of every paper containing `term`."""
        return self._db.bulk_rows(
            "select paper, title + abstract + authors, length from paper_terms where term = :term",
            term=term,
        )

    def search(self, words: list[str], limit: int) -> list[tuple[str, float]]:
        """Paper ids and BM25 scores of the `limit` best papers for any of `words`."""
        rowids, scores = self.scores(words)
        best = np.lexsort((rowids, -scores))[:limit]
        if not len(best):
            return []
        ids = dict(
            self._db.tuples(
                sql_with_lists("select rowid, id from papers where rowid in :rowids", "rowids"),
                rowids=[int(r) for r in rowids[best]],
            )
        )
        return [(ids[int(rowids[i])], float(scores[i])) for i in best]
