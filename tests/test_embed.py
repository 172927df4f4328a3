import shutil

import numpy as np
import pytest

from bot.embed import BUNDLED_SHA256, Embedder, ModelError, bundled_model_dir, verify_bundled_model


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
