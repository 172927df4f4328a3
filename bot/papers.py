"""The Paper record and the identity of a paper across feeds."""

from __future__ import annotations

import hashlib
import html
import re
import urllib.parse
from dataclasses import dataclass, field

from pylatexenc.latex2text import LatexNodes2Text

# Where an abstract's sentences end: ".", "!" or "?" before white space.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
MIN_SENTENCE_CHARS = 20
# The start of an abstract that is split into sentences: arXiv's abstracts stop at 1,920
# characters, while a hostile feed's 17 MB one would otherwise be a million sentences to embed.
SENTENCE_SOURCE_CHARS = 4000
# A web address: "https://...", "www....", or a host name and a path ("github.com/lab/repo").
# A name is read from where a run of letters, digits and hyphens starts, and never given back:
# started at every word of a hostile "a-a-a-...", the search took 12 s for 40 KB.
WEB_ADDRESS = re.compile(r"://|\bwww\.|(?<![\w-])[\w-]++\.[A-Za-z]{2,}/")


@dataclass
class Paper:
    """One paper as a feed describes it, with its canonical id.

    `id` is the canonical id: the arXiv id without version for arXiv papers
    ("2608.19199", "hep-th/9901001"), "doi:<lower-cased DOI>" for papers with a DOI
    and no arXiv id, and "url:<normalised URL>" as the last resort.
    """

    id: str
    title: str
    abstract: str
    url: str
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    primary_category: str | None = None
    pdf_url: str | None = None
    doi: str | None = None
    version: int | None = None
    announce_type: str | None = None
    published: str | None = None
    updated: str | None = None
    source: str = ""
    upvotes: int | None = None

    @property
    def text_for_embedding(self) -> str:
        return f"{self.title}. {self.abstract}"

    @property
    def sentences(self) -> list[str]:
        """The sentences of the abstract's start, as embedded for relevance.py's
        closest-sentence cosine: fragments of 20 characters or fewer, and the sentences that
        say where the work is (without_links()), left out."""
        parts = unlinked_sentences(self.abstract[:SENTENCE_SOURCE_CHARS])
        return [part for part in parts if len(part) > MIN_SENTENCE_CHARS]

    @property
    def is_update(self) -> bool:
        """A replacement announces a new version of a paper arXiv already announced."""
        return self.announce_type in ("replace", "replace-cross")


def without_links(text: str) -> str:
    """`text` without its sentences that hold a web address. "Code is available at
    https://github.com/..." says where a paper's work is, not what it is about: read as
    words, it put "code" in a fifth of the papers of an arXiv day (17% to 21% on the three
    judged days, 6% to 8% without such sentences), so that a topic on code generation found
    its word generic and a paper's code link counted as evidence for it."""
    if not WEB_ADDRESS.search(text):
        return text
    return " ".join(unlinked_sentences(text))


def unlinked_sentences(text: str) -> list[str]:
    """The sentences of `text` but those that hold a web address (without_links())."""
    return [part for part in SENTENCE_END.split(text) if not WEB_ADDRESS.search(part)]


# arXiv's archives from the old (pre-April 2007) identifier scheme. Listing them, rather than
# accepting any "word/1234567", keeps a path such as "/papers/0601001" from passing as an id.
_OLD_ARCHIVES = (
    "acc-phys|adap-org|alg-geom|ao-sci|astro-ph|atom-ph|bayes-an|chao-dyn|chem-ph|cmp-lg|"
    "comp-gas|cond-mat|cs|dg-ga|funct-an|gr-qc|hep-ex|hep-lat|hep-ph|hep-th|math-ph|math|"
    "mtrl-th|nlin|nucl-ex|nucl-th|patt-sol|physics|plasm-ph|q-alg|q-bio|q-fin|quant-ph|"
    "solv-int|stat|supr-con"
)
_MONTH = r"(?:0[1-9]|1[0-2])"
# Not after a digit, nor after "digit.": a DOI such as 10.1145/3580305.3599256 has no id in it.
_NEW_ID = re.compile(rf"(?<!\d)(?<!\d\.)(\d{{2}}{_MONTH}\.\d{{4,5}})(?:v(\d+))?(?!\d)")
_OLD_ID = re.compile(
    rf"(?<![A-Za-z-])({_OLD_ARCHIVES})(?:\.[A-Za-z-]+)?/(\d{{2}}{_MONTH}\d{{3}})(?:v(\d+))?(?!\d)"
)
# arXiv registers a DataCite DOI for every paper: 10.48550/arXiv.<id>.
_ARXIV_DOI_PREFIX = "10.48550/arxiv."
_DOI_PREFIXES = (
    "doi:",
    "https://doi.org/",
    "http://doi.org/",
    "https://dx.doi.org/",
    "http://dx.doi.org/",
    "doi.org/",
    "dx.doi.org/",
)
# Ids go into Slack button values and block ids. A longer one (a URL of 2,000 characters,
# an odd DOI) is kept as a stable short key: its start, to read, and a hash of all of it.
MAX_ID = 200
_ANNOUNCE_PREFIX = re.compile(r"^\s*arXiv:\S+\s+Announce Type:\s*\S+\s*Abstract:\s*", re.I)
# Name parts that belong to the name before them: "Kukla, D." (bioRxiv) or "Smith, Jr.".
_INITIALS = re.compile(r"^(?:[A-Z]\.\s*-?\s*)+$")
_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}


def arxiv_id(text: str | None) -> tuple[str, int | None] | None:
    """Find an arXiv identifier in a URL, guid or free text.

    Returns (id without version, version or None), or None when there is no id. New-style
    ids are "YYMM.NNNN" / "YYMM.NNNNN"; old-style ids "archive/YYMMNNN" are returned without
    the optional subject class ("math.GT/0309136" -> "math/0309136"), because arXiv files the
    paper under the bare archive and the same paper must get one id whichever form a feed uses.
    """
    if not text:
        return None
    found = [m for m in (_NEW_ID.search(text), _OLD_ID.search(text)) if m]
    if not found:
        return None
    match = min(found, key=lambda m: m.start())
    if match.re is _NEW_ID:
        ident, version = match.group(1), match.group(2)
    else:
        ident, version = f"{match.group(1)}/{match.group(2)}", match.group(3)
    return ident, int(version) if version else None


def normalize_doi(doi: str | None) -> str | None:
    """The bare DOI ("10.1101/857789") from a DOI, a "doi:" form or a resolver URL.

    Case is kept (canonical_id lower-cases); trailing punctuation, which arXiv's metadata
    sometimes carries ("10.1038/s41746-023-00970-0."), and any second DOI are dropped.
    None when the text holds no DOI.
    """
    if not doi:
        return None
    text = urllib.parse.unquote(doi.strip())
    lowered = text.lower()
    for prefix in _DOI_PREFIXES:
        if lowered.startswith(prefix):
            text = text[len(prefix) :]
            break
    words = text.split()
    text = words[0].rstrip(".,;") if words else ""
    return text if re.fullmatch(r"10\.\d{4,9}/\S+", text) else None


def normalize_url(url: str) -> str:
    """https, lower-case host, no fragment, no utm_* parameters, no trailing slash."""
    url = url.strip()
    if "://" not in url:
        url = "https://" + url
    parts = urllib.parse.urlsplit(url)
    query = [
        (key, value)
        for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_")
    ]
    return urllib.parse.urlunsplit(
        ("https", parts.netloc.lower(), parts.path.rstrip("/"), urllib.parse.urlencode(query), "")
    )


def canonical_id(arxiv: str | None = None, doi: str | None = None, url: str | None = None) -> str:
    """The one id a paper is stored under, whichever feed it came from.

    The bare arXiv id when there is one; else "doi:" + the lower-cased DOI (an arXiv DataCite
    DOI counts as the arXiv id); else "url:" + the normalised URL. A DOI or URL id longer
    than MAX_ID is shortened to a stable key (see short_id).
    """
    found = arxiv_id(arxiv)
    if found:
        return found[0]
    clean_doi = (normalize_doi(doi) or "").lower()
    if clean_doi:
        if clean_doi.startswith(_ARXIV_DOI_PREFIX):
            found = arxiv_id(clean_doi[len(_ARXIV_DOI_PREFIX) :])
            if found:
                return found[0]
        return short_id("doi:" + clean_doi)
    if url and url.strip():
        return short_id("url:" + normalize_url(url))
    raise ValueError("canonical_id needs an arXiv id, a DOI or a URL")


def short_id(ident: str) -> str:
    """`ident` if it is at most MAX_ID characters, else its start, "~" and a hash of it all;
    the same id always gives the same key."""
    if len(ident) <= MAX_ID:
        return ident
    digest = hashlib.sha256(ident.encode()).hexdigest()[:40]
    return f"{ident[: MAX_ID - len(digest) - 1]}~{digest}"


def is_arxiv_id(ident: str) -> bool:
    """Whether a canonical id is an arXiv id (not a "doi:" or "url:" one)."""
    return not ident.startswith(("doi:", "url:"))


def _split_top_level(text: str, separator: str = ",") -> list[str]:
    """Split on `separator` where it is not inside (), [] or {} (affiliations, TeX groups)."""
    parts, current, depth = [], [], 0
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _drop_parenthesised(name: str) -> str:
    """Remove "(affiliation)" groups, nested ones too; a bracket without its pair stays.

    One pass, each ")" dropping what its "(" opened: removing the innermost groups again
    and again until none was left took 0.5 s for 8,000 nested pairs, and a hostile feed's
    author string can hold millions."""
    kept: list[str] = []
    opened: list[int] = []
    for char in name:
        if char == "(":
            opened.append(len(kept))
        elif char == ")" and opened:
            del kept[opened.pop() :]
            kept.append(" ")
            continue
        kept.append(char)
    return " ".join("".join(kept).split())


def tex_decoded(name: str) -> str:
    """An author name as arXiv writes it, with its TeX accents as the letters they make:
    "Al\\'an Aspuru-Guzik" is "Alán Aspuru-Guzik", so it reads right in an alert and a
    subscriber following "Alán Aspuru-Guzik" gets the paper. A name without a backslash is
    left alone: TeX would read its "&" or "%" as commands ("R&D Group")."""
    if "\\" not in name:
        return name
    return " ".join(LatexNodes2Text().latex_to_text(name).split())


def split_authors(creator: str | None) -> list[str]:
    """Split one author string, as arXiv's listing `dc:creator` gives it, into names.

    Commas inside parentheses (affiliations) do not split, and the parenthesised affiliations
    are dropped from the names. "A, B and C" and "A, B, and C" give three names. TeX accents
    stay as written (the arXiv sources decode them: tex_decoded); HTML entities are decoded
    once. "Kukla, D., Crampton, A." (surname, initials, as bioRxiv writes them) keeps each
    surname with its initials. A piece with no letter (":") is no name.
    """
    if not creator:
        return []
    names: list[str] = []
    for part in _split_top_level(html.unescape(creator)):
        # Affiliations go first: "(School of Information and Communication ...)" has an "and".
        for piece in re.split(r"(?:^|\s)and\s", _drop_parenthesised(part)):
            name = piece.strip()
            # A piece with no letter is punctuation: arXiv lists "Vilya Research,  :, Pascal
            # Sturmfels" for a team and its members.
            if not any(char.isalpha() for char in name):
                continue
            if names and (_INITIALS.match(name) or name.lower() in _SUFFIXES):
                names[-1] = f"{names[-1]}, {name}"
            else:
                names.append(name)
    return names


def clean_abstract(text: str | None, *, unescape: bool = True) -> str:
    """An abstract without arXiv's "arXiv:ID Announce Type: X Abstract:" prefix.

    HTML entities are decoded once (pass unescape=False for text an XML parser has already
    decoded, so "&amp;lt;" in the feed stays "&lt;"); LaTeX is kept as written; runs of
    whitespace, including the hard line wraps of older feeds, become one space.
    """
    if not text:
        return ""
    text = _ANNOUNCE_PREFIX.sub("", text)
    if unescape:
        text = html.unescape(text)
    return " ".join(text.split())
