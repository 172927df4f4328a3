"""Paper identity helpers: arXiv ids, canonical ids, author strings, abstracts.

The author strings below are copied from the real feeds in tests/fixtures/feeds/ (the file
is named beside each one).
"""

from __future__ import annotations

import pytest

from bot.papers import (
    MAX_ID,
    Paper,
    arxiv_id,
    canonical_id,
    clean_abstract,
    normalize_doi,
    normalize_url,
    split_authors,
    without_links,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2608.19199", ("2608.19199", None)),
        ("oai:arXiv.org:2608.19199v1", ("2608.19199", 1)),
        ("oai:arXiv.org:2502.15411v5", ("2502.15411", 5)),
        ("https://arxiv.org/abs/2608.19199", ("2608.19199", None)),
        ("http://arxiv.org/abs/1201.4869v1", ("1201.4869", 1)),  # four digits, before 1501
        ("https://arxiv.org/pdf/2202.12139v1", ("2202.12139", 1)),
        ("arXiv:2608.19199v1 Announce Type: new", ("2608.19199", 1)),
        ("oai:arXiv.org:nlin/0408039v2", ("nlin/0408039", 2)),
        ("https://arxiv.org/abs/nlin/0408039", ("nlin/0408039", None)),
        ("http://arxiv.org/abs/astro-ph/0601001v1", ("astro-ph/0601001", 1)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("http://arxiv.org/abs/cond-mat/0412498v1", ("cond-mat/0412498", 1)),
        # The subject class is not part of the paper's identity: arXiv files it under math/.
        ("arXiv:math.GT/0309136", ("math/0309136", None)),
        ("math.GT/0309136v3", ("math/0309136", 3)),
        ("https://doi.org/10.48550/arXiv.2301.00001", ("2301.00001", None)),
    ],
)
def test_arxiv_id_finds_new_and_old_style_ids(text, expected):
    assert arxiv_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "https://arxiv.org/abs/notanid",
        "https://example.com/papers/0601001",  # not an arXiv archive
        "10.1145/3580305.3599256",  # digits of a DOI are no arXiv id
        "10.1101/857789",
        "2613.00001",  # month 13
        "http://biorxiv.org/cgi/content/short/857789v1?rss=1",
    ],
)
def test_arxiv_id_is_none_without_an_id(text):
    assert arxiv_id(text) is None


def test_arxiv_id_never_takes_the_last_url_segment():
    # The last segment here is "0408039"; the id is the archive plus number.
    assert arxiv_id("https://arxiv.org/abs/nlin/0408039v2")[0] == "nlin/0408039"
    assert arxiv_id("https://arxiv.org/abs/2608.19199v1?context=cs")[0] == "2608.19199"


def test_canonical_id_prefers_arxiv_then_doi_then_url():
    assert canonical_id(arxiv="oai:arXiv.org:2608.19199v1", doi="10.1/x") == "2608.19199"
    assert canonical_id(arxiv="nlin/0408039v2") == "nlin/0408039"
    assert canonical_id(doi="doi:10.1101/857789") == "doi:10.1101/857789"
    assert canonical_id(doi="https://doi.org/10.1142/S021797921244002X") == (
        "doi:10.1142/s021797921244002x"
    )
    assert canonical_id(doi="http://dx.doi.org/10.1103/PhysRevB.71.184511") == (
        "doi:10.1103/physrevb.71.184511"
    )
    # arXiv's own DataCite DOI is the arXiv paper.
    assert canonical_id(doi="10.48550/arXiv.2608.19199") == "2608.19199"
    assert canonical_id(arxiv="not an id", doi="10.1101/857789") == "doi:10.1101/857789"
    assert canonical_id(url="http://Example.COM/Paper/?utm_source=rss&id=7#abstract") == (
        "url:https://example.com/Paper?id=7"
    )
    with pytest.raises(ValueError):
        canonical_id()


def test_long_ids_are_shortened_to_a_stable_key():
    long_url = "https://journal.example/article?" + "x" * 2100
    ident = canonical_id(url=long_url)

    assert len(ident) <= MAX_ID and ident.startswith("url:https://journal.example/article?x")
    assert canonical_id(url=long_url) == ident
    assert canonical_id(url=long_url + "y") != ident
    assert len(canonical_id(doi="10.1000/" + "z" * 500)) <= MAX_ID


def test_normalize_doi_and_url():
    assert normalize_doi("10.1038/s41746-023-00970-0.") == "10.1038/s41746-023-00970-0"
    assert normalize_doi("DOI:10.1101/857789") == "10.1101/857789"
    assert normalize_doi("https://doi.org/10.1000/a%2Fb") == "10.1000/a/b"
    assert normalize_doi("not a doi") is None
    assert normalize_url("https://x.org/") == "https://x.org"
    assert normalize_url("x.org/a/?utm_medium=email&utm_campaign=c") == "https://x.org/a"


def test_split_authors_plain_list():
    # arxiv_rss2/arxiv_rss2_cs.CL_2026-08-21.xml, 2608.19200
    assert split_authors("Ernest Beta, Odysseas S. Chlapanis, Dimitrios Galanis") == [
        "Ernest Beta",
        "Odysseas S. Chlapanis",
        "Dimitrios Galanis",
    ]


def test_split_authors_drops_a_piece_with_no_letter():
    # As arXiv listed 2607.09998: a team, a colon, its members.
    creator = "Vilya Research,  :, Pascal Sturmfels, Milad Salem"
    assert split_authors(creator) == ["Vilya Research", "Pascal Sturmfels", "Milad Salem"]


def test_split_authors_drops_affiliations_with_commas_and_ands_inside():
    # arxiv_rss2/arxiv_rss2_cs.LG_2024-05-15_oldstyle_id_crosslist.xml, 2405.08034
    creator = (
        "Yao Sun (School of Aeronautical Engineering, Air Force Engineering University, "
        "Xi'an, China), Tengyu Jing (School of Information and Communication Engineering, "
        "Xidian University, Xi'an, China), Jiapeng Wang (School of Information and "
        "Communication Engineering, Xidian University, Xi'an, China), Wei Wang (School of "
        "Information and Communication Engineering, Xidian University, Xi'an, China)"
    )
    assert split_authors(creator) == ["Yao Sun", "Tengyu Jing", "Jiapeng Wang", "Wei Wang"]


def test_split_authors_decodes_entities_once_and_keeps_tex():
    # arxiv_rss2/arxiv_rss2_cs.LG_2024-05-15_oldstyle_id_crosslist.xml, 2303.12797, as the
    # XML parser hands it over ("R\&D" inside the affiliations).
    creator = (
        "Julie Keisler (EDF R\\&D OSIRIS, EDF R\\&D, CRIStAL, CRIStAL), El-Ghazali Talbi "
        "(CRIStAL, CRIStAL), Sandra Claudel (EDF R\\&D OSIRIS, EDF R\\&D)"
    )
    assert split_authors(creator) == ["Julie Keisler", "El-Ghazali Talbi", "Sandra Claudel"]
    # arxiv_rss2/arxiv_rss2_cs.CL_2024-03-06_early2024_no_item_pubDate.xml, 2403.02366
    assert split_authors("S\\'eamus Lankford, Haithem Afli, Andy Way") == [
        "S\\'eamus Lankford",
        "Haithem Afli",
        "Andy Way",
    ]
    assert split_authors("Jos&eacute; Garc&amp;iacute;a, Ann Lee") == [
        "José Garc&iacute;a",
        "Ann Lee",
    ]


def test_split_authors_handles_and_before_the_last_author():
    assert split_authors("A. Smith and B. Jones") == ["A. Smith", "B. Jones"]
    assert split_authors("A. Smith, B. Jones and C. Brown") == ["A. Smith", "B. Jones", "C. Brown"]
    assert split_authors("A. Smith, B. Jones, and C. Brown") == [
        "A. Smith",
        "B. Jones",
        "C. Brown",
    ]
    assert split_authors("Alexander Anderson, Sandra Andrews") == [
        "Alexander Anderson",
        "Sandra Andrews",
    ]


def test_split_authors_keeps_surname_with_initials():
    # other/biorxiv_rss1_rdf_subject_collection_single_item.xml
    assert split_authors(" Kukla, D., Crampton, A., Wood, D., Khetani, S. ") == [
        "Kukla, D.",
        "Crampton, A.",
        "Wood, D.",
        "Khetani, S.",
    ]
    assert split_authors("John Smith, Jr., Ann Lee") == ["John Smith, Jr.", "Ann Lee"]
    assert split_authors("") == []
    assert split_authors(None) == []


def test_clean_abstract_strips_the_announce_prefix_and_keeps_latex():
    # arxiv_rss2/arxiv_rss2_cs.LG_2024-05-15_oldstyle_id_crosslist.xml, nlin/0408039
    text = (
        "arXiv:nlin/0408039v2 Announce Type: cross \nAbstract:   We derive a class of\n  equations"
    )
    assert clean_abstract(text) == "We derive a class of equations"
    latex = "arXiv:2608.19199v1 Announce Type: new \nAbstract: rank-$32$ LoRA, $\\sim0.01$%"
    assert clean_abstract(latex) == "rank-$32$ LoRA, $\\sim0.01$%"


def test_clean_abstract_decodes_entities_once():
    assert clean_abstract("a &lt; b &amp;amp; c") == "a < b &amp; c"
    # Text an XML parser already decoded is not decoded again.
    assert clean_abstract("a &lt; b, <user>", unescape=False) == "a &lt; b, <user>"
    assert clean_abstract("<item path, feature path, value>") == "<item path, feature path, value>"
    assert clean_abstract(None) == ""


def test_paper_is_update_for_replacements():
    paper = Paper(id="2608.19199", title="t", abstract="a", url="u", announce_type="replace")
    assert paper.is_update
    paper.announce_type = "cross"
    assert not paper.is_update


def test_sentences_of_an_abstract_leave_out_fragments():
    abstract = (
        "We study long-context retrieval. Does it scale?  It does, to 1M tokens! "
        "Code: github.com/x. Results hold for 3.5 of 4 models."
    )
    paper = Paper(id="2608.19199", title="t", abstract=abstract, url="u")
    assert paper.sentences == [
        "We study long-context retrieval.",
        "It does, to 1M tokens!",
        "Results hold for 3.5 of 4 models.",
    ]


def test_sentences_that_say_where_the_work_is_are_left_out():
    abstract = (
        "We generate code with retrieval. Code is available at https://github.com/lab/repo. "
        "Our project page is at lab.github.io/page. Demos: www.example.org. "
        "Accuracy rises from 0.9838/2.4885 to 0.99."
    )
    paper = Paper(id="2608.19199", title="t", abstract=abstract, url="u")
    assert paper.sentences == [
        "We generate code with retrieval.",
        "Accuracy rises from 0.9838/2.4885 to 0.99.",
    ]
    assert without_links(abstract) == " ".join(paper.sentences)
    assert without_links("No address here. None.") == "No address here. None."


def test_a_hostile_run_of_hyphenated_words_is_read_once():
    # Searched from every word of the run, this took minutes.
    text = "a-" * 1_000_000
    assert without_links(text) == text


def test_a_huge_abstract_gives_the_sentences_of_its_start_only():
    abstract = "This sentence is long enough to count. " * 500_000
    sentences = Paper(id="2608.19199", title="t", abstract=abstract, url="u").sentences
    assert 0 < len(sentences) <= 4000 // 20
