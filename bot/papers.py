"""The Paper record and the identity of a paper across feeds."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    def is_update(self) -> bool:
        """A replacement announces a new version of a paper arXiv already announced."""
        return self.announce_type in ("replace", "replace-cross")
