"""QueryEncoder: one short text (a search query) into the vector Embedder.encode_one gives,
for the `paperbot search` command, which must answer in well under 3 seconds.

Importing sentence-transformers takes about 3.7 s on an idle 2-core machine and
transformers' BertModel most of that again; torch alone takes about 1.6 s. So this module
runs the bundled model's own computation with torch and the tokenizers library only: the
BERT encoder (embeddings, 6 self-attention layers), mean pooling over the tokens and
normalisation, in the order and number format sentence-transformers uses, so the vectors
are the same (tests/test_query_encoder.py compares them, in float32 and bfloat16).

Only a plain BERT model with mean pooling is run this way; `for_settings` returns the
Embedder itself for any other model folder.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from bot.embed import BUNDLED_NAME, Embedder, bundled_model_dir, verify_bundled_model

# sentence-transformers' module list for a mean-pooled, normalised transformer model.
PLAIN_MODULES = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]


def for_settings(model_path: str, precision: str):
    """A QueryEncoder for the bundled model, else an Embedder (which loads the slow way)."""
    if model_path == "bundled":
        return QueryEncoder(bundled_model_dir(), precision)
    return Embedder(model_path, precision=precision)


class QueryEncoder:
    """Encodes one text at a time, as Embedder.encode_one does, with torch and tokenizers."""

    def __init__(self, model_dir: Path, precision: str = "float32"):
        self.model_dir = Path(model_dir)
        self.name = BUNDLED_NAME
        # The precision the Embedder would choose, and why (it decides "auto" the same way).
        self.precision_setting = precision
        self._model = None

    def load(self) -> None:
        if self._model is None:
            verify_bundled_model(self.model_dir)
            self._model = _Bert(self.model_dir, self.precision_setting)

    def encode_one(self, text: str) -> np.ndarray:
        self.load()
        return self._model.encode(text)


class _Bert:
    """The bundled model's forward pass, read from its folder (config.json, tokenizer.json,
    model.safetensors, sentence_bert_config.json, modules.json)."""

    def __init__(self, model_dir: Path, precision_setting: str):
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        from bot.embed import cpu_has_native_bf16, resolve_precision

        modules = json.loads((model_dir / "modules.json").read_text())
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
        self.config = json.loads((model_dir / "config.json").read_text())
        if [m["type"] for m in modules] != PLAIN_MODULES or not pooling.get(
            "pooling_mode_mean_tokens"
        ):
            raise ValueError(f"{model_dir} is not a plain mean-pooled model")
        max_length = json.loads((model_dir / "sentence_bert_config.json").read_text())[
            "max_seq_length"
        ]
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # tokenizer.json carries its own padding and length; sentence-transformers uses
        # no padding for one text and max_seq_length.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length)
        self.precision = resolve_precision(precision_setting, cpu_has_native_bf16())
        self.dtype = torch.bfloat16 if self.precision.name == "bfloat16" else torch.float32
        self.weights = {
            k: v.to(self.dtype) for k, v in load_file(model_dir / "model.safetensors").items()
        }

    def encode(self, text: str) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        ids = torch.tensor([self.tokenizer.encode(text.strip()).ids])
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # as Embedder.encode_one: one short text, one thread
        try:
            with torch.inference_mode():
                tokens = self._forward(ids)
                # Mean pooling (summed in float32), then sentence-transformers' Normalize, both
                # in the model's number format, then normalised again in float32 as Embedder does.
                mean = tokens.sum(dim=1, dtype=torch.float32) / tokens.shape[1]
                vector = F.normalize(mean.to(self.dtype), p=2, dim=1).float().numpy()[0]
        finally:
            torch.set_num_threads(threads)
        return vector / np.linalg.norm(vector)

    def _forward(self, ids):
        import torch
        import torch.nn.functional as F

        w, c = self.weights, self.config
        eps = c["layer_norm_eps"]
        size = c["hidden_size"]
        heads = c["num_attention_heads"]

        def norm(x, name):
            return F.layer_norm(x, (size,), w[name + ".weight"], w[name + ".bias"], eps)

        def dense(x, name):
            return F.linear(x, w[name + ".weight"], w[name + ".bias"])

        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        x = w["embeddings.word_embeddings.weight"][ids]
        x = x + w["embeddings.token_type_embeddings.weight"][torch.zeros_like(ids)]
        x = x + w["embeddings.position_embeddings.weight"][positions]
        x = norm(x, "embeddings.LayerNorm")
        for i in range(c["num_hidden_layers"]):
            layer = f"encoder.layer.{i}."

            def split(t):
                return t.view(1, -1, heads, size // heads).transpose(1, 2)

            q = split(dense(x, layer + "attention.self.query"))
            k = split(dense(x, layer + "attention.self.key"))
            v = split(dense(x, layer + "attention.self.value"))
            attended = F.scaled_dot_product_attention(q, k, v, scale=1 / math.sqrt(size // heads))
            attended = attended.transpose(1, 2).reshape(1, -1, size)
            x = norm(
                dense(attended, layer + "attention.output.dense") + x,
                layer + "attention.output.LayerNorm",
            )
            hidden = F.gelu(dense(x, layer + "intermediate.dense"))
            x = norm(dense(hidden, layer + "output.dense") + x, layer + "output.LayerNorm")
        return x
