"""`paperbot search` encodes its query with QueryEncoder (torch and tokenizers only); the
vector must be the one the service's Embedder computes, or search would rank differently."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.embed import Embedder, bundled_model_dir
from bot.query_encoder import QueryEncoder, for_settings

TEXTS = [
    "KV cache compression for long-context inference",
    "  federated learning with  noisy clients  ",
    "x",
    "",
    "Ünïcode façade — naïve Bayes, <b>tags</b> & symbols ∑",
    "attention " * 400,  # longer than the model's 256 tokens: cut the same way
]


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_query_vectors_are_the_embedders(precision, embedder):
    service = embedder if precision == "float32" else Embedder("bundled", precision=precision)
    query = QueryEncoder(bundled_model_dir(), precision)
    for text in TEXTS:
        expected = service.encode_one(text)
        got = query.encode_one(text)
        assert got.dtype == np.float32 and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, atol=1e-6, rtol=0)


def test_another_model_folder_goes_through_the_embedder(tmp_path):
    assert isinstance(for_settings(str(tmp_path), "float32"), Embedder)
    assert isinstance(for_settings("bundled", "auto"), QueryEncoder)


def test_cli_search_ranks_as_the_service_does(services, tmp_path, monkeypatch):
    for name in ("PAPERBOT_CONFIG", "PAPERBOT_DB"):
        monkeypatch.delenv(name, raising=False)
    from tests.conftest import FIXTURES

    feed = FIXTURES / "feeds" / "arxiv_rss2" / "arxiv_rss2_cs.CL_2026-08-21.xml"
    from bot.settings import FeedSettings

    services.pipeline.ingest_feed(FeedSettings(url=str(feed)))
    services.pipeline.embed_missing()
    query = "sparse attention for long documents"
    expected = [hit.paper.id for hit in services.search.search(query, limit=10)]
    config = tmp_path / "f32.toml"
    config.write_text('[model]\nprecision = "float32"\n')
    result = CliRunner().invoke(
        cli,
        ["--db", services.store.path, "--config", str(config), "search", query]
        + ["--limit", "10", "--json"],
    )
    assert result.exit_code == 0, result.output
    assert [hit["id"] for hit in json.loads(result.output)] == expected
