import shutil

import numpy as np
import pytest

from bot.embed import (
    BUNDLED_SHA256,
    Embedder,
    ModelError,
    bundled_model_dir,
    resolve_precision,
    verify_bundled_model,
)
from bot.settings import SettingsError, load_settings


def test_bundled_weights_match_the_pinned_hash():
    verify_bundled_model(bundled_model_dir())


def test_tampered_weights_are_refused_with_a_clear_message(tmp_path):
    weights = tmp_path / "model.safetensors"
    shutil.copy(bundled_model_dir() / "model.safetensors", weights)
    with open(weights, "r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01\x02")
    with pytest.raises(ModelError) as error:
        verify_bundled_model(tmp_path, BUNDLED_SHA256)
    assert "Refusing to run" in str(error.value) and BUNDLED_SHA256 in str(error.value)


def test_loading_the_bundled_model_refuses_tampered_weights(tmp_path, monkeypatch):
    """Not the checker alone: Embedder.load() runs it on the weights it is about to load."""
    bundled = bundled_model_dir()
    for item in bundled.iterdir():
        if item.name != "model.safetensors":
            (tmp_path / item.name).symlink_to(item)
    weights = tmp_path / "model.safetensors"
    shutil.copy(bundled / "model.safetensors", weights)
    with open(weights, "r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01\x02")
    monkeypatch.setattr("bot.embed.bundled_model_dir", lambda: tmp_path)

    with pytest.raises(ModelError, match="Refusing to run"):
        Embedder("bundled").load()


def test_a_model_path_that_is_not_a_folder_is_refused(tmp_path):
    with pytest.raises(ModelError, match="is not a folder"):
        Embedder(str(tmp_path / "missing")).load()


def test_encode_gives_unit_vectors_in_batches(embedder):
    vectors = embedder.encode(["sparse attention", "protein folding", "sparse attention"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], vectors[2], atol=1e-6)
    assert float(vectors[0] @ vectors[1]) < 0.5


def test_encode_one_agrees_with_batch_encoding_and_keeps_the_thread_count(embedder):
    import torch

    threads = torch.get_num_threads()
    batch = embedder.encode(["sparse attention for long context", "protein folding"])
    one = embedder.encode_one("sparse attention for long context")
    assert float(one @ batch[0]) > 0.9999
    assert torch.get_num_threads() == threads


TEXTS = [
    "sparse attention for long context language models",
    "protein structure prediction with diffusion models",
    "A study of reinforcement learning from human feedback. " * 40,
]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    """The bundled model as paperbot runs it, without the tests' memory of vectors
    (conftest.RememberingEmbedder): these tests are about how it computes them."""
    model = Embedder("bundled")
    model.load()
    return model


@pytest.fixture(scope="module")
def bf16_embedder() -> Embedder:
    """The bundled model computing in bfloat16, whatever this CPU supports."""
    model = Embedder("bundled", precision="bfloat16")
    model.load()
    return model


def test_precision_setting_defaults_to_auto_and_accepts_the_other_values(tmp_path):
    assert load_settings(env={}).model.precision == "auto"
    config = tmp_path / "mine.toml"
    config.write_text('[model]\nprecision = "bfloat16"\n')
    assert load_settings(config, env={}).model.precision == "bfloat16"


def test_an_unknown_precision_is_a_settings_error_naming_the_choices(tmp_path):
    config = tmp_path / "mine.toml"
    config.write_text('[model]\nprecision = "fp16"\n')
    with pytest.raises(SettingsError) as error:
        load_settings(config, env={})
    message = str(error.value)
    assert "'model.precision'" in message and str(config) in message and "'fp16'" in message
    assert "'auto', 'float32', 'bfloat16'" in message


@pytest.mark.parametrize(
    ("setting", "native", "expected"),
    [
        ("auto", True, "bfloat16"),
        ("auto", False, "float32"),
        ("float32", True, "float32"),
        ("bfloat16", False, "bfloat16"),
    ],
)
def test_precision_resolves_from_the_setting_and_the_cpu(setting, native, expected):
    precision = resolve_precision(setting, native_bf16=native)
    assert precision.name == expected
    assert precision.reason.startswith("auto" if setting == "auto" else "set by")


def test_auto_takes_the_injected_cpu_capability_without_loading_the_model():
    assert Embedder(precision="auto", native_bf16=True).precision.name == "bfloat16"
    without = Embedder(precision="auto", native_bf16=False)
    assert without.precision.name == "float32"
    assert "no native bfloat16" in without.precision.reason
    assert without._model is None


def test_an_unknown_precision_given_to_the_embedder_is_refused():
    with pytest.raises(ModelError, match="is not one of auto, float32, bfloat16"):
        Embedder(precision="int4").load()


def test_float32_gives_exactly_the_published_models_vectors(embedder):
    import torch
    from sentence_transformers import SentenceTransformer

    published = SentenceTransformer(str(bundled_model_dir()), device="cpu")
    expected = published.encode(TEXTS, batch_size=64, normalize_embeddings=True)
    assert embedder.precision.name == "float32"
    assert np.array_equal(embedder.encode(TEXTS), expected)
    # encode_one runs on one thread, which sums in another order than the batch above.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        expected_one = published.encode(TEXTS[:1], normalize_embeddings=True)[0]
    finally:
        torch.set_num_threads(threads)
    assert np.array_equal(embedder.encode_one(TEXTS[0]), expected_one)


def test_bfloat16_vectors_are_float32_unit_vectors_close_to_float32(embedder, bf16_embedder):
    reference = embedder.encode(TEXTS)
    for vectors in (bf16_embedder.encode(TEXTS), bf16_embedder.encode_one(TEXTS[0])[None, :]):
        assert vectors.dtype == np.float32
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        cosines = np.sum(vectors * reference[: len(vectors)], axis=1)
        assert cosines.min() > 0.999


def test_bfloat16_ranks_like_float32(embedder, bf16_embedder):
    """The nearest text to each query is the same at both precisions."""
    corpus = TEXTS + ["graph neural networks for molecules", "speech recognition in noise"]
    queries = [
        "long documents and attention",
        "molecule property prediction",
        "learning from human preferences with rewards",
    ]
    for model in (embedder, bf16_embedder):
        scores = model.encode(queries) @ model.encode(corpus).T
        assert list(scores.argmax(axis=1)) == [0, 3, 2]
